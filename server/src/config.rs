//! Command line and environment configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "portico",
    version,
    about = "Portico: a self-hosted service hub, dev portal and API gateway in one program.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `serve`, the default command.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the control plane: UI, REST API and Dev Portal (the default).
    Serve(ServeArgs),
    /// Bring the database schema up to date and exit.
    Migrate(DbArgs),
    /// Fill the catalog with generated packages and versions (for benchmarks and demos).
    Seed(SeedArgs),
    /// Manage accounts from the server's console.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Run a standalone data plane node: proxy the traffic of one runtime group with
    /// the configuration it syncs from the control plane (and caches locally).
    Gateway(GatewayArgs),
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a user. The password is read from the terminal (twice, not shown) or,
    /// when stdin is not a terminal, from its first line; never from a flag.
    CreateUser {
        #[arg(long)]
        email: String,
        /// viewer, publisher, maintainer or admin.
        #[arg(long, default_value = "viewer")]
        role: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Create a personal API token for a user and print it (it is shown only once).
    CreateToken {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// At most the user's role; the user's role when absent.
        #[arg(long)]
        role: Option<String>,
        /// Days until the token expires; never when absent.
        #[arg(long)]
        expires_in_days: Option<u32>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    /// Database URL: sqlite://FILE?mode=rwc or postgres://USER:PASS@HOST/DB.
    /// Default: a SQLite file `portico.db` in the data directory.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where Portico keeps its files.
    #[arg(long, env = "PORTICO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

impl DbArgs {
    /// The database URL to use; creates the data directory for the default SQLite file.
    pub fn url(&self) -> anyhow::Result<String> {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => Ok(url.clone()),
            _ => {
                std::fs::create_dir_all(&self.data_dir).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot create data directory {}: {e}",
                        self.data_dir.display()
                    )
                })?;
                Ok(crate::db::default_sqlite_url(&self.data_dir))
            }
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address of the UI and API.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Folder with the built site (wasm, JS, CSS, static files).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
    /// Behind a reverse proxy: take the client address from X-Forwarded-For (the
    /// right-most entry that is not a trusted proxy), the host from X-Forwarded-Host
    /// and the scheme from X-Forwarded-Proto (for the audit log, throttling, CSRF
    /// checks, `__Host-`/Secure cookies and HSTS).
    #[arg(long, env = "PORTICO_TRUST_FORWARDED", default_value_t = false)]
    pub trust_forwarded: bool,
    /// With --trust-forwarded: the reverse proxies (CIDR blocks or addresses,
    /// comma-separated) skipped from the right of X-Forwarded-For to find the client;
    /// the direct peer must be one of them for any forwarded header to count. Empty
    /// (the default): only the direct peer is trusted, and the right-most entry is the
    /// client.
    #[arg(
        long,
        env = "PORTICO_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "CIDR",
        value_parser = crate::auth::forwarded::parse_trusted_proxy
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Serve `GET /metrics` (the embedded data planes' Prometheus metrics) to anyone;
    /// without it a signed-in user or an API token is needed, as for `/status`.
    #[arg(long, env = "PORTICO_METRICS_PUBLIC", default_value_t = false)]
    pub metrics_public: bool,
    /// A session unused for this many minutes ends.
    #[arg(long, env = "PORTICO_SESSION_IDLE_MINUTES", default_value_t = 720)]
    pub session_idle_minutes: u32,
    /// A session ends this many hours after sign-in, used or not.
    #[arg(long, env = "PORTICO_SESSION_MAX_HOURS", default_value_t = 168)]
    pub session_max_hours: u32,
    /// Where a runtime group's embedded data plane listens: GROUP=IP:PORT, repeatable
    /// (or comma-separated in the variable). Stored on the group at start-up, as if set
    /// in the UI; `GROUP=` turns that group's embedded data plane off.
    #[arg(
        long = "proxy-listen",
        env = "PORTICO_PROXY_LISTEN",
        value_delimiter = ','
    )]
    pub proxy_listen: Vec<String>,
    /// How often the embedded data planes seal their analytics into a batch, in
    /// milliseconds.
    #[arg(
        long,
        env = "PORTICO_ANALYTICS_FLUSH_MS",
        value_name = "MS",
        default_value_t = 5000,
        value_parser = clap::value_parser!(u64).range(50..=3_600_000)
    )]
    pub analytics_flush_ms: u64,
    #[command(flatten)]
    pub limits: ProxyLimitArgs,
    /// Days per-minute analytics are kept (at least 1).
    #[arg(
        long,
        env = "PORTICO_RETENTION_MINUTES_DAYS",
        value_name = "DAYS",
        default_value_t = 7,
        value_parser = clap::value_parser!(u32).range(1..=36_500)
    )]
    pub retention_minutes_days: u32,
    /// Days per-hour analytics are kept (at least 1).
    #[arg(
        long,
        env = "PORTICO_RETENTION_HOURS_DAYS",
        value_name = "DAYS",
        default_value_t = 90,
        value_parser = clap::value_parser!(u32).range(1..=36_500)
    )]
    pub retention_hours_days: u32,
    /// Days per-day analytics are kept (at least 1).
    #[arg(
        long,
        env = "PORTICO_RETENTION_DAYS_DAYS",
        value_name = "DAYS",
        default_value_t = 730,
        value_parser = clap::value_parser!(u32).range(1..=36_500)
    )]
    pub retention_days_days: u32,
    #[command(flatten)]
    pub db: DbArgs,
}

impl ServeArgs {
    /// The analytics retention of `--retention-*-days`.
    pub fn retention(&self) -> Retention {
        Retention {
            minutes_days: self.retention_minutes_days,
            hours_days: self.retention_hours_days,
            days_days: self.retention_days_days,
        }
    }
}

/// How long analytics are kept, per resolution, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub minutes_days: u32,
    pub hours_days: u32,
    pub days_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            minutes_days: 7,
            hours_days: 90,
            days_days: 730,
        }
    }
}

/// On or off.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    On,
    Off,
}

#[derive(Args, Debug, Clone)]
pub struct SeedArgs {
    /// How many service packages to create.
    #[arg(long, default_value_t = 1000)]
    pub packages: usize,
    /// How many versions per package.
    #[arg(long, default_value_t = 3)]
    pub versions: usize,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Args, Debug, Clone)]
pub struct GatewayArgs {
    /// Base URL of the control plane (the Portico server), e.g. https://portico.example.com.
    #[arg(long, env = "PORTICO_CONTROL_PLANE")]
    pub control_plane: String,
    /// The runtime group whose configuration this node serves.
    #[arg(long, env = "PORTICO_RUNTIME_GROUP", default_value = "default")]
    pub runtime_group: String,
    /// The runtime group's data plane token.
    #[arg(long, env = "PORTICO_DP_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Address of the proxy.
    #[arg(long, env = "PORTICO_GATEWAY_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// Address of the status endpoint (GET /status).
    #[arg(
        long,
        env = "PORTICO_GATEWAY_STATUS_LISTEN",
        default_value = "127.0.0.1:8100"
    )]
    pub status_listen: SocketAddr,
    /// Where the node keeps its id and the last applied configuration, to serve at
    /// once after a restart even when the control plane is unreachable.
    #[arg(
        long,
        env = "PORTICO_GATEWAY_CACHE_DIR",
        default_value = "./gateway-cache"
    )]
    pub cache_dir: PathBuf,
    /// Record analytics and ship them to the control plane (`off`: for load tests
    /// comparing the cost of recording).
    #[arg(long, env = "PORTICO_ANALYTICS", value_enum, default_value = "on")]
    pub analytics: Switch,
    /// How often the node seals its analytics into a batch, in milliseconds.
    #[arg(
        long,
        env = "PORTICO_ANALYTICS_FLUSH_MS",
        value_name = "MS",
        default_value_t = 5000,
        value_parser = clap::value_parser!(u64).range(50..=3_600_000)
    )]
    pub analytics_flush_ms: u64,
    #[command(flatten)]
    pub limits: ProxyLimitArgs,
}

/// The proxy listeners' limits against slow and greedy clients (`portico serve`'s
/// embedded data planes and `portico gateway`); see `gateway::ProxyLimits`.
#[derive(Args, Debug, Clone)]
pub struct ProxyLimitArgs {
    /// Seconds a client has to send a request head (also how long an idle HTTP/1
    /// keep-alive connection waits for its next request).
    #[arg(long, env = "PORTICO_PROXY_HEADER_TIMEOUT", value_name = "SECS", default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub proxy_header_timeout: u64,
    /// Seconds a client may send nothing of a request body before the request fails
    /// with 408.
    #[arg(long, env = "PORTICO_PROXY_BODY_TIMEOUT", value_name = "SECS", default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub proxy_body_timeout: u64,
    /// Seconds a client connection may stay open with no request in flight.
    #[arg(long, env = "PORTICO_PROXY_IDLE_TIMEOUT", value_name = "SECS", default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub proxy_idle_timeout: u64,
    /// Client connections open at once per proxy listener (more wait to be accepted).
    #[arg(long, env = "PORTICO_PROXY_MAX_CONNECTIONS", value_name = "N", default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub proxy_max_connections: u64,
    /// Largest request head in bytes (request line and headers).
    #[arg(long, env = "PORTICO_PROXY_MAX_HEAD_BYTES", value_name = "BYTES", default_value_t = 32 * 1024,
        value_parser = clap::value_parser!(u64).range(1024..=1024 * 1024))]
    pub proxy_max_head_bytes: u64,
    /// Seconds between HTTP/2 keep-alive PINGs on a quiet connection (0: none).
    #[arg(long, env = "PORTICO_PROXY_H2_KEEPALIVE_INTERVAL", value_name = "SECS", default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub proxy_h2_keepalive_interval: u64,
    /// Seconds a keep-alive PING may go unanswered before the connection is closed.
    #[arg(long, env = "PORTICO_PROXY_H2_KEEPALIVE_TIMEOUT", value_name = "SECS", default_value_t = 20,
        value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub proxy_h2_keepalive_timeout: u64,
}

impl ProxyLimitArgs {
    pub fn limits(&self) -> crate::gateway::ProxyLimits {
        use std::time::Duration;
        crate::gateway::ProxyLimits {
            header_timeout: Duration::from_secs(self.proxy_header_timeout),
            body_timeout: Duration::from_secs(self.proxy_body_timeout),
            idle_timeout: Duration::from_secs(self.proxy_idle_timeout),
            max_connections: usize::try_from(self.proxy_max_connections).unwrap_or(usize::MAX),
            max_head_bytes: usize::try_from(self.proxy_max_head_bytes).unwrap_or(usize::MAX),
            h2_keepalive_interval: (self.proxy_h2_keepalive_interval > 0)
                .then(|| Duration::from_secs(self.proxy_h2_keepalive_interval)),
            h2_keepalive_timeout: Duration::from_secs(self.proxy_h2_keepalive_timeout),
        }
    }
}
