//! Documentation pages: the REST API for docs as code, the tree rules, rendering, and
//! what bad input gets. Real HTTP, a real SQLite file (and PostgreSQL when configured).

mod common;

use app::model::*;
use app::ports::{Documents, Packages};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn send(
    c: &reqwest::Client,
    m: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = c.request(m, url);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn docs_as_code_over_rest() {
    let s = common::start(common::sqlite().await).await;
    use reqwest::Method as M;
    let c = &s.client;
    let (st, _) = send(
        c,
        M::POST,
        s.url("/api/v1/service-packages"),
        Some(json!({"display_name": "Docs Pkg"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let base = s.url("/api/v1/service-packages/docs-pkg/documents");

    let (st, guide) = send(c, M::POST, base.clone(), Some(json!({
        "title": "Getting Started", "content": "# Hello\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))",
        "published": true
    }))).await;
    assert_eq!(st, StatusCode::CREATED, "{guide}");
    assert_eq!(guide["slug"], "getting-started");
    assert_eq!(guide["parent_id"], Value::Null);
    let guide_id = guide["id"].as_str().unwrap().to_string();

    let (st, child) = send(
        c,
        M::POST,
        base.clone(),
        Some(json!({
            "title": "Auth", "slug": "auth", "parent_id": guide_id, "content": "Use a token."
        })),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{child}");
    let (_, faq) = send(
        c,
        M::POST,
        base.clone(),
        Some(json!({"title": "FAQ", "position": -1})),
    )
    .await;

    // Tree order: FAQ (position -1), Getting Started, then its child Auth.
    let (_, list) = send(c, M::GET, base.clone(), None).await;
    let slugs: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["faq", "getting-started", "auth"]);
    assert_eq!(list[1]["content"], "", "lists leave the content out");

    // One page, by slug, with safe HTML.
    let (st, one) = send(c, M::GET, format!("{base}/getting-started"), None).await;
    assert_eq!(st, StatusCode::OK);
    let html = one["html"].as_str().unwrap();
    assert!(
        html.contains("<h1 id=\"hello\">") && html.contains("&lt;script&gt;"),
        "{html}"
    );
    assert!(
        !html.contains("<script") && !html.contains("javascript:"),
        "{html}"
    );
    assert_eq!(one["title"], "Getting Started");

    // Bad input: each named, nothing stored.
    let cases = [
        (
            json!({"title": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "title",
        ),
        (
            json!({"title": "X", "slug": "Not A Slug"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "slug",
        ),
        (
            json!({"title": "Again", "slug": "auth"}),
            StatusCode::CONFLICT,
            "slug",
        ),
        (
            json!({"title": "X", "parent_id": uuid::Uuid::new_v4()}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "parent_id",
        ),
        (
            json!({"title": "X", "position": 5_000_000}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "position",
        ),
        (
            json!({"title": 5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "title",
        ),
    ];
    for (body, status, field) in cases {
        let (st, e) = send(c, M::POST, base.clone(), Some(body.clone())).await;
        assert_eq!(st, status, "{body}: {e}");
        assert_eq!(e["error"]["field"], field, "{body}: {e}");
    }
    let big = "x".repeat(1024 * 1024 + 1);
    let (st, e) = send(
        c,
        M::POST,
        base.clone(),
        Some(json!({"title": "Big", "content": big})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "content");
    let (_, list) = send(c, M::GET, base.clone(), None).await;
    assert_eq!(list.as_array().unwrap().len(), 3, "nothing stored");

    // A page cannot move under its own sub-page; moving to the top level takes null.
    let (st, e) = send(
        c,
        M::PATCH,
        format!("{base}/{guide_id}"),
        Some(json!({"parent_id": child["id"]})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "parent_id");
    // A page with sub-pages is not deleted.
    let (st, e) = send(c, M::DELETE, format!("{base}/getting-started"), None).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(e["error"]["message"].as_str().unwrap().contains("Auth"));
    let (st, moved) = send(
        c,
        M::PATCH,
        format!("{base}/auth"),
        Some(json!({"parent_id": null, "content": "Changed."})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{moved}");
    assert_eq!(moved["parent_id"], Value::Null);
    assert_eq!(moved["content"], "Changed.");
    let (st, _) = send(c, M::DELETE, format!("{base}/getting-started"), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = send(c, M::GET, format!("{base}/getting-started"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // A viewer reads but does not write.
    let viewer = s.client_as("reader@example.com", Role::Viewer).await;
    let (st, _) = send(&viewer, M::GET, format!("{base}/auth"), None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = send(&viewer, M::POST, base.clone(), Some(json!({"title": "No"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Every change is in the audit log.
    let (_, audit) = send(
        c,
        M::GET,
        s.url("/api/v1/audit-events?action=document."),
        None,
    )
    .await;
    assert_eq!(audit["total"], 5, "{audit}"); // 3 created, 1 changed, 1 deleted
    let _ = faq;
}

#[tokio::test]
async fn deleting_a_package_deletes_its_pages() {
    for b in common::backends().await {
        let hub = &b.hub;
        let a = Actor::console();
        hub.create_package(
            &a,
            NewServicePackage {
                display_name: "Gone".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        hub.create_document(
            &a,
            "gone",
            NewDocument {
                title: "Intro".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        hub.delete_package(&a, "gone").await.unwrap();
        hub.create_package(
            &a,
            NewServicePackage {
                display_name: "Gone".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(
            hub.list_documents(&a, "gone").await.unwrap().is_empty(),
            "{}",
            b.name
        );
    }
}

/// A 1 MB Markdown page posted as a form (3 MB once URL-encoded) fits the server
/// functions' 4 MB body limit; a larger body of any type is refused with 413.
#[tokio::test]
async fn a_large_page_fits_the_form_limit() {
    let s = common::start(common::sqlite().await).await;
    let c = &s.client;
    let (st, pkg) = send(
        c,
        reqwest::Method::POST,
        s.url("/api/v1/service-packages"),
        Some(json!({"display_name": "Big Docs"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let pkg_id = pkg["id"].as_str().unwrap().to_string();
    // Each of these characters is three bytes URL-encoded (%26, %3D).
    let content = "&=".repeat(500_000);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("package_id", &pkg_id)
        .append_pair("title", "Big page")
        .append_pair("content", &content)
        .finish();
    assert!(body.len() > 3_000_000, "{}", body.len());
    let r = c
        .post(s.url("/rpc/docs/create"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let doc = s
        .hub
        .get_document(&Actor::console(), "big-docs", "big-page")
        .await
        .unwrap();
    assert_eq!(doc.content.len(), 1_000_000);

    for content_type in ["application/x-www-form-urlencoded", "application/json"] {
        let r = c
            .post(s.url("/rpc/docs/create"))
            .header("content-type", content_type)
            .body(vec![b'a'; 5 * 1024 * 1024])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "{content_type}");
    }
}
