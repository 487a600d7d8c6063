//! Database connection and migrations.
//!
//! On SQLite every pooled connection is opened with the same pragmas (WAL,
//! `synchronous=NORMAL`, `foreign_keys=ON`, a 5 s `busy_timeout`), through the connect
//! options: a pragma run once on the pool would reach one connection only.

use std::path::Path;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

/// How long a SQLite connection waits for another's lock before it fails.
pub const SQLITE_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The default database: a SQLite file in the data directory.
pub fn default_sqlite_url(data_dir: &Path) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("portico.db").display()
    )
}

/// Connects to `url` (SQLite or PostgreSQL) and brings the schema up to date.
pub async fn connect_and_migrate(url: &str) -> anyhow::Result<DatabaseConnection> {
    let sqlite = url.starts_with("sqlite:");
    let mut opt = ConnectOptions::new(url.to_string());
    opt.sqlx_logging(false)
        .max_connections(if url.contains(":memory:") {
            1
        } else if sqlite {
            8
        } else {
            16
        })
        // Applied to each connection the pool opens (SQLite URLs only).
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
        });
    let db = Database::connect(opt)
        .await
        .with_context(|| format!("connecting to the database at {}", redact(url)))?;
    Migrator::up(&db, None)
        .await
        .context("running migrations")?;
    Ok(db)
}

/// The URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sqlx::{self, Row};

    /// Each connection of the pool, not only the first, runs with the pragmas.
    #[tokio::test]
    async fn every_pooled_sqlite_connection_has_the_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let db = super::connect_and_migrate(&super::default_sqlite_url(dir.path()))
            .await
            .unwrap();
        let pool = db.get_sqlite_connection_pool();
        // Held at once, so they are four different connections.
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(pool.acquire().await.unwrap());
        }
        for (i, conn) in held.iter_mut().enumerate() {
            for (pragma, want) in [
                ("foreign_keys", "1"),
                ("synchronous", "1"),
                ("busy_timeout", "5000"),
                ("journal_mode", "wal"),
            ] {
                let q = format!("PRAGMA {pragma}");
                let row = sqlx::query(&q).fetch_one(&mut **conn).await.unwrap();
                let got: String = row
                    .try_get::<i64, _>(0)
                    .map(|v| v.to_string())
                    .or_else(|_| row.try_get::<String, _>(0))
                    .unwrap();
                assert_eq!(got, want, "PRAGMA {pragma} on connection {i}");
            }
        }
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
