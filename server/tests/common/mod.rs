//! Test support: real databases (a SQLite file; PostgreSQL when
//! PORTICO_TEST_POSTGRES_URL is set) and a real server on an ephemeral port.
#![allow(dead_code)]

use std::net::SocketAddr;

use sea_orm::{ConnectionTrait, Database};
use server::hub::Hub;

pub struct Backend {
    pub name: &'static str,
    pub hub: Hub,
    _dir: Option<tempfile::TempDir>,
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
    pub client: reqwest::Client,
    _backend: Backend,
}

/// Starts the whole application on 127.0.0.1 with an ephemeral port.
pub async fn start(backend: Backend) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let options = server::leptos_options(addr, "target/site");
    let app = server::web::app(backend.hub.clone(), options);
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    TestServer {
        addr,
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        _backend: backend,
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}
