//! The whole application over real HTTP on an ephemeral port: server-rendered pages,
//! the REST API and its error bodies, the OpenAPI document, forms without JavaScript.

mod common;

use reqwest::StatusCode;
use serde_json::{json, Value};

async fn server() -> common::TestServer {
    common::start(common::sqlite().await).await
}

async fn post(s: &common::TestServer, path: &str, body: Value) -> (StatusCode, Value) {
    let r = s.client.post(s.url(path)).json(&body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn rest_crud_of_packages_and_versions() {
    let s = server().await;
    let (st, pkg) = post(&s, "/api/v1/service-packages", json!({
        "display_name": "Payments API", "description": "Takes money", "labels": {"team": "payments"}
    }))
    .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(pkg["key"], "payments-api");
    let id = pkg["id"].as_str().unwrap().to_string();

    // Get by id and by key.
    for p in [&id, "payments-api"] {
        let r = s
            .client
            .get(s.url(&format!("/api/v1/service-packages/{p}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["id"], id.as_str());
    }

    // List with a label filter.
    let list: Value = s
        .client
        .get(s.url("/api/v1/service-packages?label=team:Payments"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    let list: Value = s
        .client
        .get(s.url("/api/v1/service-packages?label=team:other"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);

    // Update.
    let r = s
        .client
        .patch(s.url(&format!("/api/v1/service-packages/{id}")))
        .json(&json!({"description": "Moves money"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["description"],
        "Moves money"
    );

    // Versions.
    let groups: Value = s
        .client
        .get(s.url("/api/v1/runtime-groups"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rg = groups["data"][0]["id"].as_str().unwrap().to_string();
    let (st, v) = post(
        &s,
        &format!("/api/v1/service-packages/{id}/versions"),
        json!({"name": "v1", "runtime_group_id": rg}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(v["status"], "unpublished");
    let vid = v["id"].as_str().unwrap().to_string();
    let (st, body) = post(
        &s,
        &format!("/api/v1/service-packages/{id}/versions"),
        json!({"name": "v1", "runtime_group_id": rg}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "conflict");
    let r = s
        .client
        .patch(s.url(&format!(
            "/api/v1/service-packages/payments-api/versions/{vid}"
        )))
        .json(&json!({"status": "published"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "published");

    // A group in use cannot be deleted: 409 listing the versions.
    let (_, prod) = post(&s, "/api/v1/runtime-groups", json!({"name": "production"})).await;
    let prod_id = prod["id"].as_str().unwrap();
    post(
        &s,
        &format!("/api/v1/service-packages/{id}/versions"),
        json!({"name": "v2", "runtime_group_id": prod_id}),
    )
    .await;
    let r = s
        .client
        .delete(s.url(&format!("/api/v1/runtime-groups/{prod_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("payments-api/v2"),
        "{body}"
    );

    // Delete the version, then the package (cascade), then the group.
    let r = s
        .client
        .delete(s.url(&format!("/api/v1/service-packages/{id}/versions/{vid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = s
        .client
        .delete(s.url(&format!("/api/v1/service-packages/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = s
        .client
        .get(s.url(&format!("/api/v1/service-packages/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = s
        .client
        .delete(s.url(&format!("/api/v1/runtime-groups/{prod_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn rest_errors_are_uniform_and_precise() {
    let s = server().await;
    post(
        &s,
        "/api/v1/service-packages",
        json!({"display_name": "Example Service"}),
    )
    .await;

    // Duplicate key, in another spelling.
    let (st, body) = post(
        &s,
        "/api/v1/service-packages",
        json!({"display_name": "example-service"}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "conflict");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("example-service"));

    // Bad label and a sixth label: 422 naming the label and the rule.
    let (st, body) = post(
        &s,
        "/api/v1/service-packages",
        json!({"display_name": "X", "labels": {"kong-team": "a"}}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "labels");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("kong-team"));
    let six: serde_json::Map<String, Value> =
        (0..6).map(|i| (format!("k{i}"), json!("v"))).collect();
    let (st, body) = post(
        &s,
        "/api/v1/service-packages",
        json!({"display_name": "X", "labels": six}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("At most 5"));

    // Description too long.
    let (st, body) = post(
        &s,
        "/api/v1/service-packages",
        json!({"display_name": "X", "description": "d".repeat(10_001)}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "description");

    // Malformed JSON: 400. Wrong shape: 422 naming the field.
    let r = s
        .client
        .post(s.url("/api/v1/service-packages"))
        .header("content-type", "application/json")
        .body("{\"display_name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r.json().await.unwrap()), "bad_request");
    let (st, body) = post(
        &s,
        "/api/v1/service-packages",
        json!({"description": "no name"}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "display_name");

    // Unknown things: JSON 404.
    for path in [
        "/api/v1/service-packages/nope",
        "/api/v1/service-packages/example-service/versions/00000000-0000-0000-0000-000000000000",
        "/api/v1/service-packages/example-service/versions/not-a-uuid",
        "/api/v1/runtime-groups/nope",
        "/api/v1/nothing-here",
    ] {
        let r = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(&r.json().await.unwrap()), "not_found", "{path}");
    }

    // Bad list parameters.
    let r = s
        .client
        .get(s.url("/api/v1/service-packages?label=nocolon"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .client
        .get(s.url("/api/v1/service-packages?page_size=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Nothing half-written: still exactly one package.
    let list: Value = s
        .client
        .get(s.url("/api/v1/service-packages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn openapi_document_describes_the_api() {
    let s = server().await;
    let doc: Value = s
        .client
        .get(s.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/runtime-groups",
        "/api/v1/runtime-groups/{id}",
        "/api/v1/service-packages",
        "/api/v1/service-packages/{id}",
        "/api/v1/service-packages/{id}/versions",
        "/api/v1/service-packages/{id}/versions/{version_id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["paths"]["/api/v1/service-packages"]["post"].is_object());
    assert!(doc["components"]["schemas"]["ServicePackage"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn pages_are_rendered_on_the_server_with_their_data() {
    let s = server().await;
    let (_, pkg) = post(&s, "/api/v1/service-packages", json!({
        "display_name": "Inventory Service", "description": "Counts boxes", "labels": {"team": "warehouse"}
    }))
    .await;
    let groups: Value = s
        .client
        .get(s.url("/api/v1/runtime-groups"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rg = groups["data"][0]["id"].as_str().unwrap().to_string();
    let (_, v) = post(
        &s,
        "/api/v1/service-packages/inventory-service/versions",
        json!({"name": "v7", "runtime_group_id": rg, "status": "deprecated"}),
    )
    .await;

    let page = |path: String| {
        let c = s.client.clone();
        let url = s.url(&path);
        async move {
            let r = c.get(url).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let r = s.client.get(s.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/service-hub");

    let (st, html) = page("/service-hub".into()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("Inventory Service") && html.contains("warehouse"),
        "{html}"
    );
    assert!(html.contains("1 version"));

    let (_, html) = page("/service-hub?label=team:other".into()).await;
    assert!(!html.contains("Inventory Service"));
    assert!(html.contains("No service packages match"));

    let (_, html) = page("/service-hub?view=list".into()).await;
    assert!(html.contains("<table"));

    let (st, html) = page("/service-hub/inventory-service".into()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Counts boxes") && html.contains("v7") && html.contains("Deprecated"));

    // The browser's zone cookie is read like the session cookie: from any `Cookie`
    // header, `%2f` as `%2F` (the dashboard had its own reader that did neither).
    let secret =
        common::session_of(&s.login(common::ADMIN_EMAIL, common::PASSWORD).await).expect("session");
    for cookies in [
        vec![
            format!("portico_session={secret}"),
            "portico_tz=America%2fNew_York".to_string(),
        ],
        vec![format!(
            "portico_session={secret}; portico_tz=America%2fNew_York"
        )],
    ] {
        let mut headers = reqwest::header::HeaderMap::new();
        for c in &cookies {
            headers.append("cookie", c.parse().unwrap());
        }
        let html = s
            .anon
            .get(s.url("/service-hub/inventory-service?tz=local"))
            .headers(headers)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Times in America/New_York."),
            "{cookies:?}: {}",
            html.split("zone-note")
                .nth(1)
                .unwrap_or(&html[..html.len().min(300)])
        );
    }

    let (st, html) = page(format!(
        "/service-hub/inventory-service/versions/{}",
        v["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("v7") && html.contains("default"));

    let (st, html) = page("/runtime-groups".into()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("default"));
    let (st, html) = page(format!("/runtime-groups/{rg}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("inventory-service"));

    // Unknown package, version and path: 404 pages.
    let _ = pkg;
    for path in [
        "/service-hub/no-such-thing".to_string(),
        "/service-hub/inventory-service/versions/00000000-0000-0000-0000-000000000000".to_string(),
        "/no/such/page".to_string(),
    ] {
        let (st, html) = page(path.clone()).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("Not found"), "{path}");
    }
}

#[tokio::test]
async fn forms_work_without_javascript_and_show_their_errors() {
    let s = server().await;
    let form = |path: &'static str, referer: String, fields: Vec<(&'static str, String)>| {
        let c = s.client.clone();
        let url = s.url(path);
        async move {
            c.post(url)
                .header("accept", "text/html")
                .header("referer", referer)
                .form(&fields)
                .send()
                .await
                .unwrap()
        }
    };
    let r = form(
        "/rpc/packages/create",
        s.url("/service-hub/new"),
        vec![
            ("display_name", "Form Made".into()),
            ("description", "".into()),
            ("labels", "team:forms".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], "/service-hub/form-made");

    // A duplicate: back to the form, with the error in the URL, and the page shows it.
    let r = form(
        "/rpc/packages/create",
        s.url("/service-hub/new"),
        vec![("display_name", "form made".into()), ("labels", "".into())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("/service-hub/new?__path="),
        "{location}"
    );
    let html = s
        .client
        .get(s.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("already taken"), "{html}");

    // A bad label is named.
    let r = form(
        "/rpc/packages/create",
        s.url("/service-hub/new"),
        vec![
            ("display_name", "Other".into()),
            ("labels", "mesh:x".into()),
        ],
    )
    .await;
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let html = s
        .client
        .get(s.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("mesh:x"), "{html}");
    // What was typed comes back in the fields.
    assert!(html.contains(r#"value="Other""#), "{html}");
    assert!(
        html.contains(">mesh:x</textarea>") || html.contains(r#"value="mesh:x""#),
        "{html}"
    );
}

/// The wasm and scripts keep their names across releases: browsers must revalidate them
/// (a stale wasm would not match the page's islands), and get a 304 when unchanged.
#[tokio::test]
async fn site_assets_are_revalidated_on_every_use() {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("pkg")).unwrap();
    std::fs::write(
        site.path().join("pkg/portico.js"),
        "export function hydrate() {}",
    )
    .unwrap();
    let root = site.path().to_str().unwrap().to_string();
    let s = common::start_with_site(common::sqlite().await, &root).await;

    let r = s.anon.get(s.url("/pkg/portico.js")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-cache");
    let modified = r.headers()["last-modified"].clone();
    assert_eq!(r.text().await.unwrap(), "export function hydrate() {}");

    let again = s
        .anon
        .get(s.url("/pkg/portico.js"))
        .header("if-modified-since", modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["cache-control"], "no-cache");

    // Pages themselves are not cached as assets.
    let page = s.anon.get(s.url("/login")).send().await.unwrap();
    assert_ne!(
        page.headers().get("cache-control").map(|v| v.as_bytes()),
        Some(&b"no-cache"[..])
    );
}
