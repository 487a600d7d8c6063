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
    #[command(flatten)]
    pub db: DbArgs,
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
