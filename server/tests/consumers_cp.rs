//! Consumers, key-auth credentials and ACL groups on the control plane over real
//! HTTP, on SQLite and PostgreSQL: Kong's status codes (201, 204, 404, 409 naming the
//! field, 422), uniqueness per runtime group, roles, audit rows, config bumps, and the
//! snapshot: consumers with key hashes and ACL groups, expired keys left out, and no
//! key anywhere in it, in the database file or in the audit log.

mod common;

use app::model::*;
use common::portal::send;
use reqwest::{Method as M, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

const CONSUMERS: &str = "/api/v1/runtime-groups/default/consumers";

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn group(s: &common::TestServer) -> (Uuid, u64) {
    let (_, g) = send(
        &s.client,
        M::GET,
        s.url("/api/v1/runtime-groups/default"),
        None,
    )
    .await;
    (
        Uuid::parse_str(g["id"].as_str().unwrap()).unwrap(),
        g["config_version"].as_u64().unwrap(),
    )
}

/// Every byte of the SQLite files (the database, its WAL).
fn database_bytes(s: &common::TestServer) -> Option<Vec<u8>> {
    let dir = s.data_dir()?;
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            out.extend(std::fs::read(p).unwrap());
        }
    }
    Some(out)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn consumers_over_rest() {
    for b in common::backends().await {
        let name = b.name;
        let s = common::start(b).await;
        let c = &s.client;

        let (_, before) = group(&s).await;
        let (st, a) = send(
            c,
            M::POST,
            s.url(CONSUMERS),
            Some(json!({"username": "alice", "custom_id": "c-1", "tags": ["gold"]})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{name}: {a}");
        assert_eq!(a["username"], "alice");
        assert_eq!(a["custom_id"], "c-1");
        assert_eq!(a["tags"], json!(["gold"]));
        assert!(
            group(&s).await.1 > before,
            "{name}: a consumer bumps the config"
        );
        let id = a["id"].as_str().unwrap().to_string();

        // Unique per group (409 naming the field); at least one of the two (422).
        for (body, status, field) in [
            (
                json!({"username": "alice"}),
                StatusCode::CONFLICT,
                "username",
            ),
            (
                json!({"custom_id": "c-1"}),
                StatusCode::CONFLICT,
                "custom_id",
            ),
            (json!({}), StatusCode::UNPROCESSABLE_ENTITY, "username"),
            (
                json!({"username": ""}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "username",
            ),
            (
                json!({"custom_id": "a\u{7}"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "custom_id",
            ),
        ] {
            let (st, e) = send(c, M::POST, s.url(CONSUMERS), Some(body.clone())).await;
            assert_eq!(st, status, "{name}: {body} → {e}");
            assert_eq!(e["error"]["field"], field, "{name}: {body} → {e}");
        }
        // Another group may have its own alice.
        let (st, _) = send(
            c,
            M::POST,
            s.url("/api/v1/runtime-groups"),
            Some(json!({"name": "staging"})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED);
        let (st, e) = send(
            c,
            M::POST,
            s.url("/api/v1/runtime-groups/staging/consumers"),
            Some(json!({"username": "alice", "custom_id": "c-1"})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{name}: {e}");
        let (_, l) = send(c, M::GET, s.url(CONSUMERS), None).await;
        assert_eq!(l["data"].as_array().unwrap().len(), 1, "{name}: {l}");

        // By username or id; PATCH changes what it names; PUT replaces.
        let by_name = s.url(&format!("{CONSUMERS}/alice"));
        let (st, got) = send(c, M::GET, by_name.clone(), None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(got, a);
        let (st, got) = send(c, M::GET, s.url(&format!("{CONSUMERS}/{id}")), None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(got["id"], a["id"]);
        let (st, p) = send(
            c,
            M::PATCH,
            by_name.clone(),
            Some(json!({"custom_id": null})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{name}: {p}");
        assert!(p["custom_id"].is_null());
        assert_eq!(p["username"], "alice");
        assert_eq!(p["tags"], json!(["gold"]));
        let (st, e) = send(
            c,
            M::PATCH,
            by_name.clone(),
            Some(json!({"username": null})),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {e}");
        let (st, p) = send(
            c,
            M::PUT,
            by_name.clone(),
            Some(json!({"username": "alice2"})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{name}: {p}");
        assert_eq!(p["tags"], json!([]));
        let (st, _) = send(c, M::GET, by_name.clone(), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = send(c, M::DELETE, s.url(&format!("{CONSUMERS}/alice2")), None).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = send(c, M::DELETE, s.url(&format!("{CONSUMERS}/alice2")), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        let (st, audit) = send(
            c,
            M::GET,
            s.url("/api/v1/audit-events?action=consumer."),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let actions: Vec<&str> = audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            vec![
                "consumer.delete",
                "consumer.update",
                "consumer.update",
                "consumer.create",
                "consumer.create"
            ],
            "{name}"
        );
    }
}

#[tokio::test]
async fn keys_and_acls_with_the_snapshot() {
    for b in common::backends().await {
        let name = b.name;
        let s = common::start(b).await;
        let c = &s.client;
        for u in ["alice", "bob"] {
            let (st, _) = send(c, M::POST, s.url(CONSUMERS), Some(json!({"username": u}))).await;
            assert_eq!(st, StatusCode::CREATED);
        }
        let keys = s.url(&format!("{CONSUMERS}/alice/key-auth"));

        // A generated key: 32 letters and digits, shown once.
        let (_, before) = group(&s).await;
        let (st, k1) = send(c, M::POST, keys.clone(), Some(json!({}))).await;
        assert_eq!(st, StatusCode::CREATED, "{name}: {k1}");
        let generated = k1["key"].as_str().unwrap().to_string();
        assert_eq!(generated.len(), 32);
        assert!(generated.chars().all(|ch| ch.is_ascii_alphanumeric()));
        assert_eq!(k1["key_prefix"], &generated[..6]);
        assert!(k1["ttl"].is_null() && k1["expires_at"].is_null());
        assert!(group(&s).await.1 > before, "{name}: a key bumps the config");
        // A chosen key, with a ttl.
        let chosen = "my-chosen-key-0123456789";
        let (st, k2) = send(
            c,
            M::POST,
            keys.clone(),
            Some(json!({"key": chosen, "ttl": 3600, "tags": ["ci"]})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{name}: {k2}");
        assert_eq!(k2["key"], chosen);
        assert_eq!(k2["ttl"], 3600);
        assert!(k2["expires_at"].is_string());

        // Listed without the keys.
        let (st, l) = send(c, M::GET, keys.clone(), None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(l["data"].as_array().unwrap().len(), 2);
        let text = l.to_string();
        assert!(
            !text.contains(&generated) && !text.contains(chosen),
            "{name}: {text}"
        );

        // A key is unique in the group (also across consumers); Kong's ttl bound;
        // an empty key.
        for (url, body, status, field) in [
            (
                keys.clone(),
                json!({"key": chosen}),
                StatusCode::CONFLICT,
                "key",
            ),
            (
                s.url(&format!("{CONSUMERS}/bob/key-auth")),
                json!({"key": generated}),
                StatusCode::CONFLICT,
                "key",
            ),
            (
                keys.clone(),
                json!({"key": ""}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "key",
            ),
            (
                keys.clone(),
                json!({"key": " padded"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "key",
            ),
            (
                keys.clone(),
                json!({"ttl": 100_000_001u64}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "ttl",
            ),
        ] {
            let (st, e) = send(c, M::POST, url, Some(body.clone())).await;
            assert_eq!(st, status, "{name}: {body} → {e}");
            assert_eq!(e["error"]["field"], field, "{name}: {body} → {e}");
        }
        let (st, _) = send(
            c,
            M::POST,
            s.url(&format!("{CONSUMERS}/carol/key-auth")),
            Some(json!({})),
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // ACL groups.
        let acls = s.url(&format!("{CONSUMERS}/alice/acls"));
        let (st, g1) = send(c, M::POST, acls.clone(), Some(json!({"group": "admins"}))).await;
        assert_eq!(st, StatusCode::CREATED, "{name}: {g1}");
        assert_eq!(g1["group"], "admins");
        let (st, _) = send(c, M::POST, acls.clone(), Some(json!({"group": "ops"}))).await;
        assert_eq!(st, StatusCode::CREATED);
        let (st, e) = send(c, M::POST, acls.clone(), Some(json!({"group": "admins"}))).await;
        assert_eq!(st, StatusCode::CONFLICT, "{name}: {e}");
        assert_eq!(e["error"]["field"], "group");
        let (st, e) = send(c, M::POST, acls.clone(), Some(json!({"group": ""}))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {e}");
        let (st, _) = send(
            c,
            M::POST,
            s.url(&format!("{CONSUMERS}/bob/acls")),
            Some(json!({"group": "admins"})),
        )
        .await;
        assert_eq!(
            st,
            StatusCode::CREATED,
            "{name}: another consumer may join it"
        );
        let (_, l) = send(c, M::GET, acls.clone(), None).await;
        let groups: Vec<&str> = l["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["group"].as_str().unwrap())
            .collect();
        assert_eq!(groups, vec!["admins", "ops"]);

        // The snapshot: hashes and groups, never a key.
        let (group_id, _) = group(&s).await;
        let snap = s.hub.snapshot(group_id).await.unwrap();
        let alice = snap
            .consumers
            .iter()
            .find(|c| c.username.as_deref() == Some("alice"))
            .expect("alice is in the snapshot");
        let hashes: Vec<&str> = alice.keys.iter().map(|k| k.key_sha256.as_str()).collect();
        assert_eq!(
            hashes,
            vec![sha256_hex(&generated), sha256_hex(chosen)],
            "{name}"
        );
        assert_eq!(alice.keys[0].id, k1["id"].as_str().unwrap());
        let expires = alice.keys[1].expires_at.expect("the ttl key expires");
        let in_an_hour = chrono::Utc::now().timestamp() + 3600;
        assert!(
            (in_an_hour - 5..=in_an_hour).contains(&expires),
            "{expires}"
        );
        assert_eq!(alice.acl_groups, vec!["admins", "ops"]);
        let json = serde_json::to_string(&*snap).unwrap();
        assert!(
            !json.contains(&generated) && !json.contains(chosen),
            "{name}: {json}"
        );
        if let Some(bytes) = database_bytes(&s) {
            assert!(
                !contains(&bytes, &generated),
                "the database file holds the key"
            );
            assert!(!contains(&bytes, chosen), "the database file holds the key");
            assert!(contains(&bytes, &sha256_hex(chosen)), "the hash is stored");
        }
        let (_, audit) = send(
            c,
            M::GET,
            s.url("/api/v1/audit-events?action=key_auth."),
            None,
        )
        .await;
        assert_eq!(audit["total"], 2, "{name}: {audit}");
        assert!(!audit.to_string().contains(&generated), "{name}");

        // Revoking: the key leaves the next snapshot; the ACL group too.
        let (st, _) = send(
            c,
            M::DELETE,
            s.url(&format!(
                "{CONSUMERS}/alice/key-auth/{}",
                k1["id"].as_str().unwrap()
            )),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = send(
            c,
            M::DELETE,
            s.url(&format!(
                "{CONSUMERS}/bob/key-auth/{}",
                k2["id"].as_str().unwrap()
            )),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{name}: another consumer's key");
        let (st, _) = send(
            c,
            M::DELETE,
            s.url(&format!(
                "{CONSUMERS}/alice/acls/{}",
                g1["id"].as_str().unwrap()
            )),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let snap = s.hub.snapshot(group_id).await.unwrap();
        let alice = snap
            .consumers
            .iter()
            .find(|c| c.username.as_deref() == Some("alice"))
            .unwrap();
        assert_eq!(alice.keys.len(), 1, "{name}");
        assert_eq!(alice.acl_groups, vec!["ops"]);
    }
}

/// A key whose ttl has run out is not sent to the data planes any more.
#[tokio::test]
async fn an_expired_key_leaves_the_snapshot() {
    let s = common::start(common::sqlite().await).await;
    let c = &s.client;
    let (st, _) = send(
        c,
        M::POST,
        s.url(CONSUMERS),
        Some(json!({"username": "alice"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let keys = s.url(&format!("{CONSUMERS}/alice/key-auth"));
    let (st, short) = send(c, M::POST, keys.clone(), Some(json!({"ttl": 1}))).await;
    assert_eq!(st, StatusCode::CREATED, "{short}");
    let (st, _) = send(c, M::POST, keys.clone(), Some(json!({"ttl": 0}))).await;
    assert_eq!(st, StatusCode::CREATED, "ttl 0: no expiry");
    let (group_id, _) = group(&s).await;
    let count = |snap: &server::gateway::snapshot::Snapshot| snap.consumers[0].keys.len();
    assert_eq!(count(&s.hub.snapshot(group_id).await.unwrap()), 2);
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    // The next snapshot (any change makes one) leaves it out.
    let (st, _) = send(
        c,
        M::POST,
        s.url(&format!("{CONSUMERS}/alice/acls")),
        Some(json!({"group": "g"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let snap = s.hub.snapshot(group_id).await.unwrap();
    assert_eq!(count(&snap), 1, "{:?}", snap.consumers);
    assert!(snap.consumers[0].keys[0].expires_at.is_none());
    // Still listed (with its expiry) until it is deleted.
    let (_, l) = send(c, M::GET, keys, None).await;
    assert_eq!(l["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn viewers_read_consumers_and_maintainers_change_them() {
    let s = common::start(common::sqlite().await).await;
    let (st, a) = send(
        &s.client,
        M::POST,
        s.url(CONSUMERS),
        Some(json!({"username": "alice"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, k) = send(
        &s.client,
        M::POST,
        s.url(&format!("{CONSUMERS}/alice/key-auth")),
        Some(json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let viewer = s.client_as("viewer@example.com", Role::Viewer).await;
    let maintainer = s
        .client_as("maintainer@example.com", Role::Maintainer)
        .await;
    for path in [
        CONSUMERS.to_string(),
        format!("{CONSUMERS}/alice"),
        format!("{CONSUMERS}/alice/key-auth"),
        format!("{CONSUMERS}/alice/acls"),
    ] {
        let (st, _) = send(&viewer, M::GET, s.url(&path), None).await;
        assert_eq!(st, StatusCode::OK, "viewer GET {path}");
    }
    for (m, path, body) in [
        (
            M::POST,
            CONSUMERS.to_string(),
            Some(json!({"username": "v"})),
        ),
        (
            M::PUT,
            format!("{CONSUMERS}/alice"),
            Some(json!({"username": "v"})),
        ),
        (
            M::PATCH,
            format!("{CONSUMERS}/alice"),
            Some(json!({"custom_id": "v"})),
        ),
        (
            M::POST,
            format!("{CONSUMERS}/alice/key-auth"),
            Some(json!({})),
        ),
        (
            M::DELETE,
            format!("{CONSUMERS}/alice/key-auth/{}", k["id"].as_str().unwrap()),
            None,
        ),
        (
            M::POST,
            format!("{CONSUMERS}/alice/acls"),
            Some(json!({"group": "x"})),
        ),
        (M::DELETE, format!("{CONSUMERS}/alice"), None),
    ] {
        let (st, _) = send(&viewer, m.clone(), s.url(&path), body.clone()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "viewer {m} {path}");
    }
    let (st, _) = send(
        &maintainer,
        M::POST,
        s.url(&format!("{CONSUMERS}/alice/acls")),
        Some(json!({"group": "x"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = send(
        &maintainer,
        M::DELETE,
        s.url(&format!("{CONSUMERS}/{}", a["id"].as_str().unwrap())),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
}
