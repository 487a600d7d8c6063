//! `portico seed`: generated packages and versions for benchmarks and demos.

use app::model::Actor;
use app::model::*;
use app::ports::{Packages, RuntimeGroups, Versions};

use crate::hub::Hub;

const TEAMS: [&str; 6] = [
    "payments", "identity", "search", "growth", "platform", "data",
];
const WORDS: [&str; 10] = [
    "Orders",
    "Billing",
    "Accounts",
    "Catalog",
    "Checkout",
    "Inventory",
    "Shipping",
    "Reviews",
    "Pricing",
    "Profiles",
];

/// Creates `packages` packages with `versions` versions each (spread over the
/// runtime groups, which are created when missing), published to the Dev Portal.
/// Returns how many packages exist.
pub async fn seed(hub: &Hub, packages: usize, versions: usize) -> anyhow::Result<u64> {
    let console = Actor::console();
    let actor = &console;
    let mut groups = Vec::new();
    for name in ["default", "development", "staging", "production"] {
        let g = match hub.get_runtime_group(actor, name).await {
            Ok(g) => g,
            Err(_) => hub
                .create_runtime_group(
                    actor,
                    NewRuntimeGroup {
                        name: name.into(),
                        description: format!("The {name} environment."),
                        labels: Labels::new(),
                        proxy_listen: None,
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        };
        groups.push(g);
    }
    for i in 0..packages {
        let name = format!("{} Service {i:05}", WORDS[i % WORDS.len()]);
        let mut labels = Labels::new();
        labels.insert("team".into(), TEAMS[i % TEAMS.len()].into());
        labels.insert(
            "tier".into(),
            if i % 3 == 0 { "gold" } else { "silver" }.into(),
        );
        let pkg = match hub
            .create_package(
                actor,
                NewServicePackage {
                    display_name: name.clone(),
                    description: format!(
                        "Generated service number {i}: the {} API.",
                        WORDS[i % WORDS.len()]
                    ),
                    labels,
                },
            )
            .await
        {
            Ok(p) => p,
            Err(app::error::AppError::Conflict { .. }) => continue,
            Err(e) => anyhow::bail!("{e}"),
        };
        hub.update_package(
            actor,
            &pkg.id.to_string(),
            ServicePackagePatch {
                published: Some(true),
                ..ServicePackagePatch::default()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        for v in 0..versions {
            let status = VersionStatus::ALL[(i + v) % 3];
            hub.create_version(
                actor,
                &pkg.id.to_string(),
                NewServiceVersion {
                    name: format!("v{}", v + 1),
                    runtime_group_id: groups[(v + 1) % groups.len()].id,
                    status,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    let total = hub
        .list_packages(
            actor,
            PackageQuery {
                page_size: 1,
                ..PackageQuery::default()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .total;
    Ok(total)
}
