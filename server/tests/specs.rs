//! API specs over REST and through the dashboard's upload forms (no JavaScript): bad
//! input refused with the stored spec unchanged, the original text served back. Real
//! HTTP, a real SQLite file (and PostgreSQL when configured).

mod common;

use app::model::Role;
use common::portal::{package_with_v1, page, send, PETSTORE};
use reqwest::{Method as M, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn specs_over_rest_validate_keep_the_original_and_never_half_write() {
    for backend in common::backends().await {
        let s = common::start(backend).await;
        let c = &s.client;
        let vid = package_with_v1(&s, "Spec API", "spec-api").await;
        let url = s.url(&format!(
            "/api/v1/service-packages/spec-api/versions/{vid}/spec"
        ));

        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = c.put(&url).body(PETSTORE).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let info: Value = r.json().await.unwrap();
        assert_eq!(info["spec_version"], "3.0.3");
        assert_eq!(info["title"], "Petstore");
        assert_eq!(info["format"], "yaml");
        assert_eq!(info["warnings"], json!([]));

        // Bad input: a clear 422 naming the spec; the stored one stays.
        let bad: [(&str, &str); 5] = [
            ("openapi: 3.0.0\ninfo: [unclosed\n", "line"),
            ("{\"openapi\": \"3.0.0\",", "line"),
            ("just: a mapping\n", "neither"),
            ("swagger: '1.2'\ninfo: {title: x, version: '1'}\npaths: {}\n", "1.2"),
            ("openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Missing'}\n", "Missing"),
        ];
        for (text, says) in bad {
            let r = c.put(&url).body(text).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{text}");
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["error"]["field"], "spec");
            assert!(
                e["error"]["message"].as_str().unwrap().contains(says),
                "{text}: {e}"
            );
        }
        let big = format!(
            "openapi: 3.0.0\ninfo: {{title: x, version: '1'}}\npaths: {{}}\n#{}\n",
            "x".repeat(10 * 1024 * 1024)
        );
        let r = c.put(&url).body(big).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e: Value = r.json().await.unwrap();
        assert!(
            e["error"]["message"].as_str().unwrap().contains("10 MB"),
            "{e}"
        );
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(
            r.text().await.unwrap(),
            PETSTORE,
            "the stored spec is unchanged"
        );

        // External references are accepted with a warning naming them.
        let external = "{\"swagger\": \"2.0\", \"info\": {\"title\": \"Ext\", \"version\": \"2\"}, \"paths\": {\"/a\": {\"get\": {\"responses\": {\"200\": {\"description\": \"ok\", \"schema\": {\"$ref\": \"common.json#/definitions/Thing\"}}}}}}}";
        let r = c.put(&url).body(external).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let info: Value = r.json().await.unwrap();
        assert_eq!(info["format"], "json");
        assert!(
            info["warnings"][0]
                .as_str()
                .unwrap()
                .contains("common.json#/definitions/Thing"),
            "{info}"
        );
        let r = c.get(&url).send().await.unwrap();
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        assert_eq!(r.text().await.unwrap(), external);

        let r = c.delete(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}

/// Multipart uploads from the dashboard's forms, as a browser without JavaScript sends them.
#[tokio::test]
async fn uploads_work_without_javascript() {
    let s = common::start(common::sqlite().await).await;
    let c = &s.client;
    let vid = package_with_v1(&s, "Upload API", "upload-api").await;
    let vid = vid.as_str();
    let upload = s.url(&format!(
        "/upload/service-hub/upload-api/versions/{vid}/spec"
    ));
    let page_path = format!("/service-hub/upload-api/versions/{vid}");

    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(PETSTORE.as_bytes().to_vec())
                .file_name("petstore.yaml"),
        )
        .text("text", "");
    let r = c.post(&upload).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], format!("{page_path}#spec"));
    let (st, html) = page(c, s.url(&page_path)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("listPets") && html.contains("Download spec"),
        "the reference is on the version page"
    );

    // A bad paste: back to the form with the message, shown once.
    let form = reqwest::multipart::Form::new().text("text", "openapi: [");
    let r = c.post(&upload).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| {
            let v = v.to_str().ok()?;
            v.starts_with("portico_flash_error=")
                .then(|| v.split(';').next().unwrap().to_string())
        })
        .expect("flash cookie");
    let session =
        common::session_of(&s.login(common::ADMIN_EMAIL, common::PASSWORD).await).unwrap();
    let r = s
        .anon
        .get(s.url(&page_path))
        .header("cookie", format!("portico_session={session}; {cookie}"))
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Invalid YAML"),
        "the error is shown on the page"
    );
    let r = c
        .get(s.url(&format!(
            "/api/v1/service-packages/upload-api/versions/{vid}/spec"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.text().await.unwrap(),
        PETSTORE,
        "the stored spec is unchanged"
    );

    // Markdown files: each a page, or none when one is refused.
    let docs = s.url("/upload/service-hub/upload-api/docs");
    let form = reqwest::multipart::Form::new()
        .part(
            "files",
            reqwest::multipart::Part::bytes(b"# Quick start\n\nHello.".to_vec())
                .file_name("quick-start.md"),
        )
        .part(
            "files",
            reqwest::multipart::Part::bytes(b"No heading here.".to_vec()).file_name("faq_page.md"),
        )
        .text("parent_id", "")
        .text("published", "on");
    let r = c.post(&docs).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, list) = send(
        c,
        M::GET,
        s.url("/api/v1/service-packages/upload-api/documents"),
        None,
    )
    .await;
    let got: Vec<(String, String, bool)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["title"].as_str().unwrap().into(),
                d["slug"].as_str().unwrap().into(),
                d["published"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("Quick start".into(), "quick-start".into(), true),
            ("faq page".into(), "faq-page".into(), true)
        ]
    );
    let form = reqwest::multipart::Form::new()
        .part(
            "files",
            reqwest::multipart::Part::bytes(b"# Fine".to_vec()).file_name("fine.md"),
        )
        .part(
            "files",
            reqwest::multipart::Part::bytes(b"MZ".to_vec()).file_name("tool.exe"),
        );
    let r = c.post(&docs).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/service-hub/upload-api/docs/new");
    let (_, list) = send(
        c,
        M::GET,
        s.url("/api/v1/service-packages/upload-api/documents"),
        None,
    )
    .await;
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "nothing of a refused upload is stored"
    );

    // A Viewer cannot upload: refused outright (the success answer is a 303), and the
    // stored spec is not the one the viewer sent.
    let viewer = s.client_as("viewer@example.com", Role::Viewer).await;
    let changed = PETSTORE.replace("title: Petstore", "title: Viewer's Petstore");
    assert_ne!(changed, PETSTORE);
    let form = reqwest::multipart::Form::new().text("text", changed);
    let r = viewer.post(&upload).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("Viewer"));
    let r = c
        .get(s.url(&format!(
            "/api/v1/service-packages/upload-api/versions/{vid}/spec"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), PETSTORE);
}
