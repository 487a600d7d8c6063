//! Domain tests of the catalog on real databases: SQLite, and PostgreSQL when
//! PORTICO_TEST_POSTGRES_URL is set.

mod common;

use app::error::AppError;
use app::model::*;
use app::ports::{Packages, RuntimeGroups, Versions};

/// The domain tests act as the console (an Admin); roles are tested in `auth.rs`.
static CONSOLE: std::sync::LazyLock<Actor> = std::sync::LazyLock::new(Actor::console);

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn new_pkg(name: &str) -> NewServicePackage {
    NewServicePackage {
        display_name: name.into(),
        description: String::new(),
        labels: Labels::new(),
    }
}

#[tokio::test]
async fn default_group_exists_and_cannot_be_deleted_or_renamed() {
    for b in common::backends().await {
        let hub = &b.hub;
        let groups = hub.list_runtime_groups(&CONSOLE).await.unwrap();
        assert_eq!(groups.len(), 1, "{}", b.name);
        assert_eq!(groups[0].name, "default");
        let id = groups[0].id;
        assert!(matches!(
            hub.delete_runtime_group(&CONSOLE, id).await,
            Err(AppError::Conflict { .. })
        ));
        let err = hub
            .update_runtime_group(
                &CONSOLE,
                id,
                RuntimeGroupPatch {
                    name: Some("prod".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("name"), "{}", b.name);
        // Its description and labels can change.
        let g = hub
            .update_runtime_group(
                &CONSOLE,
                id,
                RuntimeGroupPatch {
                    description: Some("main".into()),
                    labels: Some(labels(&[("env", "dev")])),
                    name: None,
                    proxy_listen: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(g.description, "main");
        assert_eq!(g.labels["env"], "dev");
    }
}

#[tokio::test]
async fn package_keys_collide_across_case_and_space_dash() {
    for b in common::backends().await {
        let hub = &b.hub;
        let p = hub
            .create_package(&CONSOLE, new_pkg("Example Service"))
            .await
            .unwrap();
        assert_eq!(p.key, "example-service");
        for clash in ["Example-Service", "example service", "EXAMPLE-service"] {
            match hub.create_package(&CONSOLE, new_pkg(clash)).await {
                Err(AppError::Conflict { message, field }) => {
                    assert!(message.contains("example-service"), "{message}");
                    assert!(message.contains("Example Service"), "{message}");
                    assert_eq!(field.as_deref(), Some("display_name"));
                }
                other => panic!("{}: {clash} gave {other:?}", b.name),
            }
        }
        assert_eq!(
            hub.list_packages(&CONSOLE, PackageQuery::default())
                .await
                .unwrap()
                .total,
            1
        );
        // Found by id and by key, in any case.
        assert_eq!(
            hub.get_package(&CONSOLE, &p.id.to_string())
                .await
                .unwrap()
                .id,
            p.id
        );
        assert_eq!(
            hub.get_package(&CONSOLE, "Example-Service")
                .await
                .unwrap()
                .id,
            p.id
        );
        assert!(matches!(
            hub.get_package(&CONSOLE, "nope").await,
            Err(AppError::NotFound { .. })
        ));
    }
}

#[tokio::test]
async fn bad_input_is_rejected_and_nothing_is_stored() {
    for b in common::backends().await {
        let hub = &b.hub;
        let six: Labels = (0..6).map(|i| (format!("k{i}"), "v".into())).collect();
        let cases = [
            (
                NewServicePackage {
                    labels: six,
                    ..new_pkg("A")
                },
                "labels",
            ),
            (
                NewServicePackage {
                    labels: labels(&[("kong-x", "y")]),
                    ..new_pkg("B")
                },
                "labels",
            ),
            (
                NewServicePackage {
                    description: "x".repeat(10_001),
                    ..new_pkg("C")
                },
                "description",
            ),
            (new_pkg("bad/name"), "display_name"),
            (new_pkg(""), "display_name"),
            (new_pkg("New"), "display_name"),
        ];
        for (input, field) in cases {
            let err = hub.create_package(&CONSOLE, input).await.unwrap_err();
            assert!(matches!(err, AppError::Validation { .. }), "{err:?}");
            assert_eq!(err.field(), Some(field), "{}: {err:?}", b.name);
        }
        assert_eq!(
            hub.list_packages(&CONSOLE, PackageQuery::default())
                .await
                .unwrap()
                .total,
            0
        );
    }
}

#[tokio::test]
async fn label_filters_sorting_and_pages() {
    for b in common::backends().await {
        let hub = &b.hub;
        for (i, team) in ["payments", "identity", "Payments", "search"]
            .iter()
            .enumerate()
        {
            hub.create_package(
                &CONSOLE,
                NewServicePackage {
                    display_name: format!("Svc {i}"),
                    description: String::new(),
                    labels: labels(&[
                        ("team", team),
                        ("tier", if i % 2 == 0 { "gold" } else { "silver" }),
                    ]),
                },
            )
            .await
            .unwrap();
        }
        let q = |labels: Vec<(&str, &str)>| PackageQuery {
            labels: labels
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..PackageQuery::default()
        };
        // Values compare ignoring case; keys are case-sensitive.
        let r = hub
            .list_packages(&CONSOLE, q(vec![("team", "PAYMENTS")]))
            .await
            .unwrap();
        assert_eq!(r.total, 2, "{}", b.name);
        let r = hub
            .list_packages(&CONSOLE, q(vec![("Team", "payments")]))
            .await
            .unwrap();
        assert_eq!(r.total, 0);
        let r = hub
            .list_packages(&CONSOLE, q(vec![("team", "payments"), ("tier", "gold")]))
            .await
            .unwrap();
        assert_eq!(
            r.data.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
            ["svc-0", "svc-2"]
        );
        // Name filter, sort and pagination.
        let r = hub
            .list_packages(
                &CONSOLE,
                PackageQuery {
                    name: Some("SVC 1".into()),
                    ..PackageQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(r.total, 1);
        let r = hub
            .list_packages(
                &CONSOLE,
                PackageQuery {
                    descending: true,
                    page: 2,
                    page_size: 3,
                    ..PackageQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(r.total, 4);
        assert_eq!(r.page_count(), 2);
        assert_eq!(r.data.len(), 1);
        assert_eq!(r.data[0].key, "svc-0");
        // A `%` in the filter is literal.
        let r = hub
            .list_packages(
                &CONSOLE,
                PackageQuery {
                    name: Some("%".into()),
                    ..PackageQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(r.total, 0);
    }
}

#[tokio::test]
async fn versions_are_unique_per_group_and_groups_in_use_cannot_go() {
    for b in common::backends().await {
        let hub = &b.hub;
        let pkg = hub
            .create_package(&CONSOLE, new_pkg("Orders"))
            .await
            .unwrap();
        let default = hub.get_runtime_group(&CONSOLE, "default").await.unwrap();
        let prod = hub
            .create_runtime_group(
                &CONSOLE,
                NewRuntimeGroup {
                    name: "Production".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(matches!(
            hub.create_runtime_group(
                &CONSOLE,
                NewRuntimeGroup {
                    name: "production".into(),
                    ..Default::default()
                }
            )
            .await,
            Err(AppError::Conflict { .. })
        ));
        let pid = pkg.id.to_string();
        let v1 = hub
            .create_version(
                &CONSOLE,
                &pid,
                NewServiceVersion {
                    name: "v1".into(),
                    runtime_group_id: default.id,
                    status: VersionStatus::Published,
                },
            )
            .await
            .unwrap();
        // Same name in another group is fine; in the same group it is not.
        hub.create_version(
            &CONSOLE,
            &pid,
            NewServiceVersion {
                name: "v1".into(),
                runtime_group_id: prod.id,
                status: VersionStatus::Unpublished,
            },
        )
        .await
        .unwrap();
        let err = hub
            .create_version(
                &CONSOLE,
                &pid,
                NewServiceVersion {
                    name: "v1".into(),
                    runtime_group_id: default.id,
                    status: VersionStatus::Unpublished,
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, AppError::Conflict { .. }),
            "{}: {err:?}",
            b.name
        );
        let err = hub
            .create_version(
                &CONSOLE,
                &pid,
                NewServiceVersion {
                    name: "v2".into(),
                    runtime_group_id: uuid::Uuid::new_v4(),
                    status: VersionStatus::Unpublished,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("runtime_group_id"));

        // Status changes; the package reports its counts.
        let v = hub
            .update_version(
                &CONSOLE,
                &pid,
                v1.id,
                ServiceVersionPatch {
                    status: Some(VersionStatus::Deprecated),
                    name: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(v.status, VersionStatus::Deprecated);
        let p = hub.get_package(&CONSOLE, "orders").await.unwrap();
        assert_eq!(p.versions_count, 2);
        assert_eq!(p.status_counts.deprecated, 1);
        assert_eq!(p.status_counts.unpublished, 1);

        // Filters on the version list.
        let only_prod = hub
            .list_versions(
                &CONSOLE,
                &pid,
                VersionQuery {
                    runtime_group_id: Some(prod.id),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(only_prod.total, 1);
        assert_eq!(only_prod.data[0].runtime_group_name, "Production");

        // A group in use cannot be deleted; the message lists the versions.
        match hub.delete_runtime_group(&CONSOLE, prod.id).await {
            Err(AppError::Conflict { message, .. }) => {
                assert!(message.contains("orders/v1"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        // Deleting the package removes its versions in the same transaction.
        hub.delete_package(&CONSOLE, &pid).await.unwrap();
        assert!(matches!(
            hub.get_version(&CONSOLE, &pid, v1.id).await,
            Err(AppError::NotFound { .. })
        ));
        hub.delete_runtime_group(&CONSOLE, prod.id).await.unwrap();
        assert_eq!(hub.list_runtime_groups(&CONSOLE).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn renaming_a_package_moves_its_key_and_labels_stay_filterable() {
    for b in common::backends().await {
        let hub = &b.hub;
        hub.create_package(&CONSOLE, new_pkg("Taken"))
            .await
            .unwrap();
        let p = hub
            .create_package(
                &CONSOLE,
                NewServicePackage {
                    labels: labels(&[("team", "a")]),
                    ..new_pkg("Old Name")
                },
            )
            .await
            .unwrap();
        let err = hub
            .update_package(
                &CONSOLE,
                &p.key,
                ServicePackagePatch {
                    display_name: Some("taken".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Conflict { .. }), "{}", b.name);
        let p2 = hub
            .update_package(
                &CONSOLE,
                &p.key,
                ServicePackagePatch {
                    display_name: Some("New Name".into()),
                    labels: Some(labels(&[("team", "b")])),
                    description: None,
                    published: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(p2.key, "new-name");
        assert_eq!(p2.id, p.id);
        let by_label = |v: &str| PackageQuery {
            labels: vec![("team".into(), v.into())],
            ..PackageQuery::default()
        };
        assert_eq!(
            hub.list_packages(&CONSOLE, by_label("a"))
                .await
                .unwrap()
                .total,
            0
        );
        assert_eq!(
            hub.list_packages(&CONSOLE, by_label("b"))
                .await
                .unwrap()
                .total,
            1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_all_succeed() {
    for b in common::backends().await {
        let mut tasks = Vec::new();
        for i in 0..120 {
            let hub = b.hub.clone();
            tasks.push(tokio::spawn(async move {
                let p = hub
                    .create_package(&CONSOLE, new_pkg(&format!("Busy {i}")))
                    .await?;
                hub.update_package(
                    &CONSOLE,
                    &p.key,
                    ServicePackagePatch {
                        description: Some("changed".into()),
                        ..Default::default()
                    },
                )
                .await
            }));
        }
        for t in tasks {
            let r = t.await.unwrap();
            assert!(r.is_ok(), "{}: {r:?}", b.name);
        }
        assert_eq!(
            b.hub
                .list_packages(&CONSOLE, PackageQuery::default())
                .await
                .unwrap()
                .total,
            120,
            "{}",
            b.name
        );
    }
}
