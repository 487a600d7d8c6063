//! Roles in the domain, API token scope and revocation, and the audit log.

mod common;

use app::model::*;
use app::ports::{Accounts, Catalog};
use chrono::{Duration, Utc};
use common::ADMIN_EMAIL;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn server() -> common::TestServer {
    common::start(common::sqlite().await).await
}

#[tokio::test]
async fn roles_are_enforced_by_the_domain() {
    for b in common::backends().await {
        let hub = &b.hub;
        let console = Actor::console();
        let group = hub.list_runtime_groups(&console).await.unwrap()[0].clone();
        let pkg = hub
            .create_package(
                &console,
                NewServicePackage {
                    display_name: "Matrix".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let key = pkg.id.to_string();
        let version = hub
            .create_version(
                &console,
                &key,
                NewServiceVersion {
                    name: "v1".into(),
                    runtime_group_id: group.id,
                    status: VersionStatus::Unpublished,
                },
            )
            .await
            .unwrap();
        for role in Role::ALL {
            let actor = Actor {
                role,
                email: format!("{}@example.com", role.as_str()),
                ..Actor::console()
            };
            let denied = |r: Result<(), app::error::AppError>, what: &str, allowed: bool| match (
                &r, allowed,
            ) {
                (Ok(()), true) => {}
                (Err(e), false) => assert_eq!(e.status(), 403, "{role:?} {what}: {e}"),
                _ => panic!("{role:?} {what}: {r:?} (allowed: {allowed})"),
            };
            let read = hub.get_package(&actor, &key).await.map(|_| ());
            denied(read, "read", true);
            let status = hub
                .update_version(
                    &actor,
                    &key,
                    version.id,
                    ServiceVersionPatch {
                        status: Some(VersionStatus::Published),
                        name: None,
                    },
                )
                .await
                .map(|_| ());
            denied(status, "set status", role >= Role::Publisher);
            let rename = hub
                .update_version(
                    &actor,
                    &key,
                    version.id,
                    ServiceVersionPatch {
                        name: Some(format!("v1-{}", role.as_str())),
                        status: None,
                    },
                )
                .await
                .map(|_| ());
            denied(rename, "rename", role >= Role::Maintainer);
            let create = hub
                .create_package(
                    &actor,
                    NewServicePackage {
                        display_name: format!("By {}", role.as_str()),
                        ..Default::default()
                    },
                )
                .await
                .map(|_| ());
            denied(create, "create package", role >= Role::Maintainer);
            let group = hub
                .create_runtime_group(
                    &actor,
                    NewRuntimeGroup {
                        name: format!("g-{}", role.as_str()),
                        ..Default::default()
                    },
                )
                .await
                .map(|_| ());
            denied(group, "create group", role >= Role::Maintainer);
            let users = hub.list_users(&actor).await.map(|_| ());
            denied(users, "list users", role == Role::Admin);
            let audit = hub
                .audit_events(&actor, AuditQuery::default())
                .await
                .map(|_| ());
            denied(audit, "read audit", role == Role::Admin);
        }
        // Refused changes changed nothing.
        let all = hub
            .list_packages(&console, PackageQuery::default())
            .await
            .unwrap();
        let names: Vec<&str> = all.data.iter().map(|p| p.display_name.as_str()).collect();
        assert_eq!(names, ["By admin", "By maintainer", "Matrix"], "{}", b.name);
        let v = hub.get_version(&console, &key, version.id).await.unwrap();
        assert_eq!(v.name, "v1-admin", "{}", b.name);
    }
}

#[tokio::test]
async fn tokens_are_scoped_shown_once_and_revocable() {
    let s = server().await;
    // Too high a role is refused, naming the field.
    let publisher = s.client_as("pub@example.com", Role::Publisher).await;
    let r = publisher
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": "x", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "role");

    // An admin's viewer-scoped token reads but cannot change anything.
    let created: Value = s
        .client
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": "read only", "role": "viewer", "expires_in_days": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("pt_"));
    let viewer = s.client_with_token(&secret);
    let r = viewer
        .get(s.url("/api/v1/service-packages"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = viewer
        .post(s.url("/api/v1/service-packages"))
        .json(&json!({"display_name": "Nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Viewer"));

    // Listed without the secret; stored hashed.
    let list: Value = s
        .client
        .get(s.url("/api/v1/tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = list.to_string();
    assert!(text.contains("read only") && !text.contains(&secret));
    let stored: Vec<server::store::api_token::Model> = {
        use sea_orm::EntityTrait;
        server::store::api_token::Entity::find()
            .all(s.hub.db())
            .await
            .unwrap()
    };
    assert!(stored
        .iter()
        .all(|t| t.secret_hash != secret && t.secret_hash.len() == 64));

    // Expired after its day.
    let later = Utc::now() + Duration::days(1) + Duration::minutes(1);
    assert!(s
        .hub
        .authenticate_token(&secret, "t", later)
        .await
        .unwrap()
        .is_none());

    // Revoked: 401 at once.
    let id = created["token"]["id"].as_str().unwrap();
    let r = s
        .client
        .delete(s.url(&format!("/api/v1/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = viewer
        .get(s.url("/api/v1/service-packages"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The console bootstraps a token for automation.
    let made = s
        .hub
        .console_create_token(
            ADMIN_EMAIL,
            NewApiToken {
                name: "bootstrap".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let r = s
        .client_with_token(&made.secret)
        .post(s.url("/api/v1/service-packages"))
        .json(&json!({"display_name": "By Token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "token calls need no Origin"
    );
}

#[tokio::test]
async fn audit_rows_are_written_with_their_change_and_rolled_back_with_it() {
    for b in common::backends().await {
        let hub = &b.hub;
        let admin = Actor {
            email: "auditor@example.com".into(),
            source: "192.0.2.7".into(),
            ..Actor::console()
        };
        let p = hub
            .create_package(
                &admin,
                NewServicePackage {
                    display_name: "Ledger".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        hub.update_package(
            &admin,
            "ledger",
            ServicePackagePatch {
                description: Some("Books".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        // A refused change writes nothing.
        let viewer = Actor {
            role: Role::Viewer,
            ..admin.clone()
        };
        assert!(hub.delete_package(&viewer, "ledger").await.is_err());
        assert!(hub
            .create_package(
                &admin,
                NewServicePackage {
                    display_name: "LEDGER".into(),
                    ..Default::default()
                }
            )
            .await
            .is_err());
        let events = hub
            .audit_events(&admin, AuditQuery::default())
            .await
            .unwrap();
        let actions: Vec<&str> = events.data.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["service_package.update", "service_package.create"],
            "{}",
            b.name
        );
        let update = &events.data[0];
        assert_eq!(update.actor_email, "auditor@example.com");
        assert_eq!(update.source, "192.0.2.7");
        assert_eq!(update.target_id, p.id.to_string());
        let summary: Value = serde_json::from_str(&update.summary).unwrap();
        assert_eq!(summary["before"]["description"], "");
        assert_eq!(summary["after"]["description"], "Books");
        // Filters.
        let q = |action: &str| AuditQuery {
            action: Some(action.into()),
            ..Default::default()
        };
        assert_eq!(
            hub.audit_events(&admin, q("service_package."))
                .await
                .unwrap()
                .total,
            2
        );
        assert_eq!(hub.audit_events(&admin, q("user.")).await.unwrap().total, 0);

        // When the audit row cannot be written, the change is not made either.
        use sea_orm::ConnectionTrait;
        hub.db()
            .execute_unprepared("DROP TABLE audit_events")
            .await
            .unwrap();
        let r = hub
            .create_package(
                &admin,
                NewServicePackage {
                    display_name: "Unrecorded".into(),
                    ..Default::default()
                },
            )
            .await;
        assert!(r.is_err(), "{}", b.name);
        assert!(
            hub.get_package(&admin, "unrecorded").await.is_err(),
            "{}: rolled back",
            b.name
        );
    }
}

#[tokio::test]
async fn audit_log_over_rest_with_filters() {
    let s = server().await;
    let r = s
        .client
        .post(s.url("/api/v1/service-packages"))
        .json(&json!({"display_name": "Audited"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let page: Value = s
        .client
        .get(s.url("/api/v1/audit-events?action=service_package.create"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["data"][0]["actor_email"], ADMIN_EMAIL);
    assert_eq!(page["data"][0]["source"], "127.0.0.1");
    let r = s
        .client
        .get(s.url("/api/v1/audit-events?from=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "from");
    // REST reads `from` as the audit page does (it took RFC 3339 only, the page a date
    // or a datetime-local value too).
    for from in [
        "2000-01-01",
        "2000-01-01T00:00",
        "2000-01-01 00:00:00",
        "2000-01-01T00:00:00Z",
    ] {
        let r = s
            .client
            .get(s.url(&format!("/api/v1/audit-events?from={from}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{from}");
        assert!(
            r.json::<Value>().await.unwrap()["total"].as_u64() >= Some(1),
            "{from}"
        );
    }
    let html = s
        .client
        .get(s.url("/settings/audit?user=admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("service_package.create") && html.contains("Audited"),
        "{html}"
    );
}
