//! Roles in the domain, API token scope and revocation, and the audit log.

mod common;

use app::model::*;
use app::ports::{
    AuditLog, DataPlanes, Documents, GatewayConfig, Packages, RuntimeGroups, Specs, Tokens, Users,
    Versions,
};
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

/// Every port method that changes something (or reads what only an Admin may) checks
/// the role in the domain itself, behind the HTTP layer's own refusal of Viewers: a
/// Viewer is refused all of them, a Publisher all but publishing, and nothing changes.
#[tokio::test]
async fn every_write_of_every_port_is_refused_in_the_domain_and_changes_nothing() {
    let b = common::sqlite().await;
    let hub = &b.hub;
    let console = Actor::console();
    let c = common::gateway::orders(hub, "127.0.0.1:9".parse().unwrap()).await;
    let spare = hub
        .create_runtime_group(
            &console,
            NewRuntimeGroup {
                name: "spare".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    hub.put_spec(&console, &c.key, c.version, common::portal::PETSTORE.into())
        .await
        .unwrap();
    let doc = hub
        .create_document(
            &console,
            &c.key,
            NewDocument {
                title: "Guide".into(),
                content: "Read me.".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let dp = hub
        .create_data_plane_token(&console, "default", NewDataPlaneToken { name: "dp".into() })
        .await
        .unwrap();
    let user = hub
        .create_user(
            &console,
            NewUser {
                email: "someone@example.com".into(),
                role: Role::Maintainer,
                password: "twelve characters".into(),
            },
        )
        .await
        .unwrap();
    let audit_before = hub
        .audit_events(&console, AuditQuery::default())
        .await
        .unwrap()
        .total;

    for role in [Role::Viewer, Role::Publisher] {
        let a = &Actor {
            role,
            email: format!("{}@example.com", role.as_str()),
            ..Actor::console()
        };
        let key = c.key.as_str();
        let route = RouteInput {
            paths: vec!["/other".into()],
            ..Default::default()
        };
        let calls: Vec<(&str, bool, Result<(), app::error::AppError>)> = vec![
            (
                "create_runtime_group",
                false,
                hub.create_runtime_group(
                    a,
                    NewRuntimeGroup {
                        name: "new".into(),
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
            ),
            (
                "update_runtime_group",
                false,
                hub.update_runtime_group(
                    a,
                    spare.id,
                    RuntimeGroupPatch {
                        description: Some("changed".into()),
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
            ),
            (
                "delete_runtime_group",
                false,
                hub.delete_runtime_group(a, spare.id).await,
            ),
            (
                "create_package",
                false,
                hub.create_package(
                    a,
                    NewServicePackage {
                        display_name: "New".into(),
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
            ),
            (
                "update_package (edit)",
                false,
                hub.update_package(
                    a,
                    key,
                    ServicePackagePatch {
                        description: Some("changed".into()),
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
            ),
            (
                "update_package (publish)",
                true,
                hub.update_package(
                    a,
                    key,
                    ServicePackagePatch {
                        published: Some(true),
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
            ),
            ("delete_package", false, hub.delete_package(a, key).await),
            (
                "create_version",
                false,
                hub.create_version(
                    a,
                    key,
                    NewServiceVersion {
                        name: "v2".into(),
                        runtime_group_id: c.group,
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
            ),
            (
                "update_version (rename)",
                false,
                hub.update_version(
                    a,
                    key,
                    c.version,
                    ServiceVersionPatch {
                        name: Some("renamed".into()),
                        status: None,
                    },
                )
                .await
                .map(drop),
            ),
            (
                "update_version (status)",
                true,
                hub.update_version(
                    a,
                    key,
                    c.version,
                    ServiceVersionPatch {
                        name: None,
                        status: Some(VersionStatus::Deprecated),
                    },
                )
                .await
                .map(drop),
            ),
            (
                "delete_version",
                false,
                hub.delete_version(a, key, c.version).await,
            ),
            (
                "create_document",
                false,
                hub.create_document(
                    a,
                    key,
                    NewDocument {
                        title: "New".into(),
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
            ),
            (
                "create_documents",
                false,
                hub.create_documents(
                    a,
                    key,
                    vec![NewDocument {
                        title: "Uploaded".into(),
                        ..Default::default()
                    }],
                )
                .await
                .map(drop),
            ),
            (
                "update_document",
                false,
                hub.update_document(
                    a,
                    key,
                    &doc.slug,
                    DocumentPatch {
                        content: Some("changed".into()),
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
            ),
            (
                "delete_document",
                false,
                hub.delete_document(a, key, &doc.slug).await,
            ),
            (
                "put_spec",
                false,
                hub.put_spec(
                    a,
                    key,
                    c.version,
                    common::portal::PETSTORE.replace("Petstore", "Changed"),
                )
                .await
                .map(drop),
            ),
            (
                "delete_spec",
                false,
                hub.delete_spec(a, key, c.version).await,
            ),
            (
                "put_implementation",
                false,
                hub.put_implementation(
                    a,
                    key,
                    c.version,
                    ImplementationInput {
                        url: Some("http://127.0.0.1:10".into()),
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
            ),
            (
                "delete_implementation",
                false,
                hub.delete_implementation(a, key, c.version).await,
            ),
            (
                "create_route",
                false,
                hub.create_route(a, key, c.version, route.clone())
                    .await
                    .map(drop),
            ),
            (
                "update_route",
                false,
                hub.update_route(a, key, c.version, c.route, route.clone())
                    .await
                    .map(drop),
            ),
            (
                "delete_route",
                false,
                hub.delete_route(a, key, c.version, c.route).await,
            ),
            (
                "create_data_plane_token",
                false,
                hub.create_data_plane_token(a, "default", NewDataPlaneToken { name: "x".into() })
                    .await
                    .map(drop),
            ),
            (
                "revoke_data_plane_token",
                false,
                hub.revoke_data_plane_token(a, "default", dp.token.id).await,
            ),
            (
                "create_user",
                false,
                hub.create_user(
                    a,
                    NewUser {
                        email: "new@example.com".into(),
                        role: Role::Admin,
                        password: "twelve characters".into(),
                    },
                )
                .await
                .map(drop),
            ),
            (
                "update_user",
                false,
                hub.update_user(
                    a,
                    user.id,
                    UserPatch {
                        role: Some(Role::Admin),
                        disabled: None,
                    },
                )
                .await
                .map(drop),
            ),
            ("delete_user", false, hub.delete_user(a, user.id).await),
            ("list_users", false, hub.list_users(a).await.map(drop)),
            (
                "list_tokens (all)",
                false,
                hub.list_tokens(a, true).await.map(drop),
            ),
            (
                "audit_events",
                false,
                hub.audit_events(a, AuditQuery::default()).await.map(drop),
            ),
        ];
        assert_eq!(calls.len(), 30);
        for (what, publishes, r) in calls {
            if publishes && role == Role::Publisher {
                assert!(r.is_ok(), "{role:?} {what}: {r:?}");
            } else {
                let e = r.expect_err(&format!("{role:?} {what} must be refused"));
                assert_eq!(e.status(), 403, "{role:?} {what}: {e}");
            }
        }
    }

    // Nothing but the Publisher's two publishing changes happened.
    let audit = hub
        .audit_events(&console, AuditQuery::default())
        .await
        .unwrap();
    let actions: Vec<&str> = audit.data[..(audit.total - audit_before) as usize]
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        actions,
        ["service_version.update", "service_package.publish"],
        "{actions:?}"
    );
    assert_eq!(hub.list_runtime_groups(&console).await.unwrap().len(), 2);
    let pkg = hub.get_package(&console, &c.key).await.unwrap();
    assert_eq!(pkg.description, "");
    let v = hub.get_version(&console, &c.key, c.version).await.unwrap();
    assert_eq!(v.name, "v1");
    let docs = hub.list_documents(&console, &c.key).await.unwrap();
    assert_eq!(docs.len(), 1);
    let (info, _) = hub.spec_text(&console, &c.key, c.version).await.unwrap();
    assert_eq!(info.title, "Petstore");
    assert!(hub
        .get_implementation(&console, &c.key, c.version)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        hub.list_routes(&console, &c.key, c.version)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        hub.group_gateway(&console, "default")
            .await
            .unwrap()
            .tokens
            .len(),
        1
    );
    assert_eq!(hub.list_users(&console).await.unwrap().len(), 1);
}

/// Over HTTP: the authentication layer refuses a Viewer every write, uploads included
/// (403, before the form is read); a Publisher passes the layer, and the upload forms'
/// ports refuse it (back to the form with the 403 shown there), storing nothing.
#[tokio::test]
async fn viewers_are_refused_every_write_and_publishers_every_upload() {
    let s = server().await;
    let vid = common::portal::package_with_v1(&s, "Guarded", "guarded").await;
    let uploads = [
        format!("/upload/service-hub/guarded/versions/{vid}/spec"),
        "/upload/service-hub/guarded/docs".to_string(),
    ];
    let viewer = s.client_as("viewer@example.com", Role::Viewer).await;
    let mut refused = 0;
    for (method, template) in server::rest::operations() {
        if method == "GET" || server::auth::is_self_service(&template) {
            continue;
        }
        let path = template
            .replace("{id}", "guarded")
            .replace("{version_id}", &vid)
            .replace("{document_id}", "nothing")
            .replace("{route_id}", &uuid::Uuid::new_v4().to_string())
            .replace("{token_id}", &uuid::Uuid::new_v4().to_string())
            .replace("{group}", "default");
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = viewer
            .request(m, s.url(&path))
            .header("origin", &s.base)
            .json(&json!({"display_name": "x", "name": "x", "title": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "viewer {method} {path}");
        refused += 1;
    }
    assert!(refused > 15, "walked {refused} REST writes");
    let spec_form =
        || reqwest::multipart::Form::new().text("text", common::portal::PETSTORE.to_string());
    let docs_form = || {
        reqwest::multipart::Form::new().part(
            "files",
            reqwest::multipart::Part::bytes(b"# Sneaky\n".to_vec()).file_name("sneaky.md"),
        )
    };
    for (path, form) in [(&uploads[0], spec_form()), (&uploads[1], docs_form())] {
        let r = viewer
            .post(s.url(path))
            .header("origin", &s.base)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "viewer POST {path}");
    }

    let publisher = s.client_as("publisher@example.com", Role::Publisher).await;
    for (path, form, back) in [
        (
            &uploads[0],
            spec_form(),
            format!("/service-hub/guarded/versions/{vid}"),
        ),
        (
            &uploads[1],
            docs_form(),
            "/service-hub/guarded/docs/new".to_string(),
        ),
    ] {
        let r = publisher
            .post(s.url(path))
            .header("origin", &s.base)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "publisher POST {path}");
        assert_eq!(r.headers()["location"], back.as_str(), "back to the form");
        let flash = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .find_map(|v| {
                let v = v.to_str().ok()?;
                v.strip_prefix("portico_flash_error=")
                    .map(|v| v.split(';').next().unwrap_or_default().to_string())
            })
            .expect("the error goes back to the form");
        let error: app::error::AppError = {
            use base64::Engine;
            let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(flash)
                .unwrap();
            serde_json::from_slice(&json).unwrap()
        };
        assert_eq!(error.status(), 403, "{error}");
        assert!(error.message().contains("Publisher"), "{error}");
    }
    let r = s
        .client
        .get(s.url(&format!(
            "/api/v1/service-packages/guarded/versions/{vid}/spec"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "no spec was stored");
    let docs: Value = s
        .client
        .get(s.url("/api/v1/service-packages/guarded/documents"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(docs, json!([]), "no page was stored");
}
