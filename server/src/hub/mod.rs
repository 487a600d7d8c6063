//! The domain services: `Hub` implements the ports of `app::ports` over SeaORM. Both
//! the server functions (through the Leptos context) and the REST API call them.
//!
//! Authorization has one home: each `impl Port for Hub` sits in its feature file, and
//! the first line of every method that takes an `Actor` is `actor.require(..)?`. The
//! inner functions it calls take the proof that check returns (`&Authorized`), which
//! nothing else can make, so a port method without its check does not compile; the
//! audit log's actor is the checked one. The few reads shared with the public Dev
//! Portal (`documents`, `render_spec`, `spec_with_text`) take no proof: the portal
//! filters what they return to what is published.

mod accounts;
/// The read side of analytics (queries, tiles, saved reports): `impl Analytics for Hub`.
mod analytics;
/// The write side of analytics: counting a data plane's batch once, retention.
mod analytics_ingest;
pub(crate) mod audit;
/// Consumers and their key-auth credentials and ACL groups: `impl Consumers for Hub`.
mod consumers;
pub(crate) mod dataplanes;
mod documents;
mod gateway;
mod packages;
/// The rules of plugin entities: checks, PATCH merge, precedence.
mod plugin_rules;
mod plugins;
mod portal;
mod runtime_groups;
mod sessions;
/// The ids a data plane may name in analytics: those of its group's snapshots.
mod snapshot_ids;
mod specs;
mod tokens;
mod versions;

use app::error::AppError;
use app::ports::Result;
use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqlErr,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};
use uuid::Uuid;

pub use dataplanes::{NodeHello, CONNECTED_SECS, DP_TOKEN_PREFIX};
pub use runtime_groups::{DEFAULT_GROUP, DEFAULT_PROXY_LISTEN};
pub use sessions::SessionPolicy;

use crate::auth::setup_code::SetupCode;
use crate::auth::throttle::Throttle;

#[derive(Clone)]
pub struct Hub {
    db: DatabaseConnection,
    /// SQLite allows one writer: two deferred transactions that read and then write
    /// fail with "database is locked" instead of waiting. Writes through this hub take
    /// this lock first (SQLite only; PostgreSQL handles concurrent writers itself).
    sqlite_writer: Option<Arc<Mutex<()>>>,
    sessions: SessionPolicy,
    throttle: Arc<Throttle>,
    /// The code the first-run screen asks for while no user exists.
    setup_code: Arc<SetupCode>,
    spec_cache: Arc<specs::SpecCache>,
    /// The Dev Portal's rendered pages.
    doc_cache: Arc<portal::DocCache>,
    /// Bumped after every committed gateway change (see `gateway_changed`).
    gateway_tx: Arc<tokio::sync::watch::Sender<u64>>,
    /// The last snapshot of each runtime group.
    snapshots: Arc<
        std::sync::Mutex<std::collections::HashMap<Uuid, Arc<crate::gateway::snapshot::Snapshot>>>,
    >,
}

impl Hub {
    /// A hub over a migrated database; makes sure the `default` runtime group exists.
    pub async fn new(db: DatabaseConnection) -> Result<Self> {
        let sqlite_writer =
            (db.get_database_backend() == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        let hub = Self {
            db,
            sqlite_writer,
            sessions: SessionPolicy::default(),
            throttle: Arc::default(),
            setup_code: Arc::default(),
            spec_cache: Arc::default(),
            doc_cache: Arc::default(),
            gateway_tx: Arc::new(tokio::sync::watch::channel(0).0),
            snapshots: Arc::default(),
        };
        hub.ensure_default_group().await?;
        Ok(hub)
    }

    /// A transaction for a change, with the writer lock on SQLite. Keep the guard
    /// until the transaction is committed or dropped.
    pub(crate) async fn write_txn(
        &self,
    ) -> Result<(Option<OwnedMutexGuard<()>>, DatabaseTransaction)> {
        let guard = self.write_lock().await;
        let txn = self.db.begin().await.map_err(db_err)?;
        Ok((guard, txn))
    }

    /// The SQLite writer lock alone, for a single statement that writes outside a
    /// transaction: a write that slips in between another transaction's read and write
    /// makes that transaction fail with SQLITE_BUSY_SNAPSHOT.
    pub(crate) async fn write_lock(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.sqlite_writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        }
    }

    /// The same hub with other session lifetimes.
    pub fn with_session_policy(mut self, policy: SessionPolicy) -> Self {
        self.sessions = policy;
        self
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The one-time code the first-run screen asks for (made anew by every hub).
    pub fn setup_code(&self) -> &SetupCode {
        &self.setup_code
    }
}

/// Logs a database error and turns it into the generic internal error (or a conflict
/// when a unique constraint fired in a race the pre-checks could not see).
pub(crate) fn db_err(e: DbErr) -> AppError {
    if let Some(SqlErr::UniqueConstraintViolation(_)) = e.sql_err() {
        return AppError::conflict(None, "This change clashes with an existing record.");
    }
    tracing::error!(error = %e, "database error");
    AppError::internal()
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `\` as the escape character.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
