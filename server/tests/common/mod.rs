//! Test support: real databases (a SQLite file; PostgreSQL when
//! PORTICO_TEST_POSTGRES_URL is set) and a real server on an ephemeral port.
#![allow(dead_code)]

pub mod gateway;
pub mod portal;

use std::net::SocketAddr;

use sea_orm::{ConnectionTrait, Database};
use server::hub::Hub;

/// How long a test request may take before it fails (debug builds answer in well
/// under a second).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

pub struct Backend {
    pub name: &'static str,
    pub hub: Hub,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    /// The directory of a SQLite backend's database file (`None` for PostgreSQL).
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self._dir.as_ref().map(|d| d.path())
    }
}

/// A hub over a fresh SQLite file.
pub async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = server::db::default_sqlite_url(dir.path());
    let db = server::db::connect_and_migrate(&url).await.expect("sqlite");
    Backend {
        name: "sqlite",
        hub: Hub::new(db).await.expect("hub"),
        _dir: Some(dir),
    }
}

/// A hub over a fresh PostgreSQL database of its own, when the server is configured.
pub async fn postgres() -> Option<Backend> {
    let Ok(base) = std::env::var("PORTICO_TEST_POSTGRES_URL") else {
        eprintln!("PORTICO_TEST_POSTGRES_URL is not set: skipping the PostgreSQL run of this test");
        return None;
    };
    let name = format!("portico_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(base.as_str())
        .await
        .expect("postgres admin connection");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let mut url = url::Url::parse(&base).expect("PORTICO_TEST_POSTGRES_URL is a URL");
    url.set_path(&format!("/{name}"));
    let db = server::db::connect_and_migrate(url.as_str())
        .await
        .expect("postgres");
    Some(Backend {
        name: "postgres",
        hub: Hub::new(db).await.expect("hub"),
        _dir: None,
    })
}

/// Every configured backend: SQLite always, PostgreSQL when configured.
pub async fn backends() -> Vec<Backend> {
    let mut v = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        v.push(pg);
    }
    v
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    /// Signed in as an Admin (session cookie, same-origin header).
    pub client: reqwest::Client,
    /// No credentials at all.
    pub anon: reqwest::Client,
    pub hub: Hub,
    _backend: Backend,
}

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const PASSWORD: &str = "correct horse battery staple";

/// Starts the whole application on 127.0.0.1 with an ephemeral port, with an admin
/// account whose session the default client carries.
pub async fn start(backend: Backend) -> TestServer {
    let mut s = start_empty(backend).await;
    s.client = s.client_as(ADMIN_EMAIL, app::model::Role::Admin).await;
    s
}

/// Starts the application with no user at all (the first-run state).
pub async fn start_empty(backend: Backend) -> TestServer {
    start_with_site(backend, "target/site").await
}

/// Starts the application with no user, serving the site (wasm, JS, CSS) from `root`.
pub async fn start_with_site(backend: Backend, root: &str) -> TestServer {
    start_with_settings(backend, root, server::auth::AuthSettings::default()).await
}

/// Starts the application with no user and these authentication settings (e.g.
/// behind a trusted proxy).
pub async fn start_with_settings(
    backend: Backend,
    root: &str,
    settings: server::auth::AuthSettings,
) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let options = server::leptos_options(addr, root);
    let app = server::web::app_with(
        backend.hub.clone(),
        options,
        settings,
        server::web::StatusSources::default(),
    );
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    // A page that never finishes (a render waiting forever) fails its test with the
    // request that hung, instead of stalling the whole run.
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("client");
    TestServer {
        addr,
        base: format!("http://{addr}"),
        client: anon.clone(),
        anon,
        hub: backend.hub.clone(),
        _backend: backend,
    }
}

impl TestServer {
    /// The directory of the SQLite database file (`None` on PostgreSQL).
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self._backend.data_dir()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs in over HTTP; returns the session cookie's secret.
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.anon
            .post(self.url("/rpc/auth/login"))
            .header("origin", &self.base)
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .expect("login request")
    }

    /// A client signed in as a new user with `role` (created on the console).
    pub async fn client_as(&self, email: &str, role: app::model::Role) -> reqwest::Client {
        self.hub
            .console_create_user(email, role, PASSWORD)
            .await
            .expect("create user");
        let r = self.login(email, PASSWORD).await;
        let secret =
            session_of(&r).unwrap_or_else(|| panic!("login of {email} failed: {}", r.status()));
        self.client_with_session(&secret)
    }

    /// A client that sends this session cookie and our own Origin.
    pub fn client_with_session(&self, secret: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "cookie",
            format!("portico_session={secret}").parse().expect("cookie"),
        );
        headers.insert("origin", self.base.parse().expect("origin"));
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .default_headers(headers)
            .build()
            .expect("client")
    }

    /// A client that sends this API token.
    pub fn client_with_token(&self, token: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "authorization",
            format!("Bearer {token}").parse().expect("token"),
        );
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .default_headers(headers)
            .build()
            .expect("client")
    }
}

/// The session secret a response sets, if any.
pub fn session_of(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("portico_session="))
        .map(|c| c.split(';').next().unwrap_or("").to_string())
        .filter(|c| !c.is_empty())
}
