//! Portico's database schema, as sea-orm-migration migrations. Run at start-up and by
//! `portico migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_catalog;
mod m20261128_000002_accounts;
mod m20261128_000003_documents;
mod m20261128_000004_publishing;
mod m20261130_000005_gateway;
mod m20261130_000006_analytics;
mod m20261207_000007_data_plane_trust;
mod m20261208_000008_plugins;

pub use m20261130_000006_analytics::AGGREGATE_TABLES;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_catalog::Migration),
            Box::new(m20261128_000002_accounts::Migration),
            Box::new(m20261128_000003_documents::Migration),
            Box::new(m20261128_000004_publishing::Migration),
            Box::new(m20261130_000005_gateway::Migration),
            Box::new(m20261130_000006_analytics::Migration),
            Box::new(m20261207_000007_data_plane_trust::Migration),
            Box::new(m20261208_000008_plugins::Migration),
        ]
    }
}
