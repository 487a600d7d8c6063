//! Publishing and the Dev Portal: what anonymous visitors see for every combination of
//! package flag, version status and page flag; API specs over REST and through the
//! dashboard's upload forms (no JavaScript). Real HTTP, a real SQLite file (and
//! PostgreSQL when configured).

mod common;

use app::model::Role;
use reqwest::{Method as M, StatusCode};
use serde_json::{json, Value};

const PETSTORE: &str = "openapi: 3.0.3
info:
  title: Petstore
  version: 1.0.0
paths:
  /pets:
    get:
      operationId: listPets
      summary: List all pets
      tags: [pets]
      responses:
        '200':
          description: A list of pets
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: '#/components/schemas/Pet'
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer, format: int64}
        name: {type: string}
";

async fn send(c: &reqwest::Client, m: M, url: String, body: Option<Value>) -> (StatusCode, Value) {
    let mut r = c.request(m, url);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

/// A package with one version `v1` in the default group; returns the version's id.
async fn package_with_v1(s: &common::TestServer, name: &str, key: &str) -> String {
    let c = &s.client;
    let (st, _) = send(
        c,
        M::POST,
        s.url("/api/v1/service-packages"),
        Some(json!({"display_name": name})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, rg) = send(c, M::GET, s.url("/api/v1/runtime-groups/default"), None).await;
    let (st, v) = send(
        c,
        M::POST,
        s.url(&format!("/api/v1/service-packages/{key}/versions")),
        Some(json!({"name": "v1", "runtime_group_id": rg["id"]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap_or_default().to_string()
}

async fn page(c: &reqwest::Client, url: String) -> (StatusCode, String) {
    let r = c.get(url).send().await.unwrap();
    let st = r.status();
    (st, r.text().await.unwrap())
}

/// Creates a package with a version per status (each with the petstore spec) and
/// pages: `guide` (published), `draft` (not), `under-draft` (published, under `draft`).
async fn package(s: &common::TestServer, name: &str, key: &str) -> Value {
    let c = &s.client;
    let (st, p) = send(
        c,
        M::POST,
        s.url("/api/v1/service-packages"),
        Some(json!({"display_name": name, "description": format!("{name} does things.")})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    let (_, rg) = send(c, M::GET, s.url("/api/v1/runtime-groups/default"), None).await;
    for status in ["published", "deprecated", "unpublished"] {
        let (st, v) = send(
            c,
            M::POST,
            s.url(&format!("/api/v1/service-packages/{key}/versions")),
            Some(json!({"name": format!("v-{status}"), "runtime_group_id": rg["id"], "status": status})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let r = c
            .put(s.url(&format!(
                "/api/v1/service-packages/{key}/versions/{}/spec",
                v["id"].as_str().unwrap()
            )))
            .header("content-type", "application/yaml")
            .body(PETSTORE.replace("Petstore", &format!("Petstore {status}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let docs = s.url(&format!("/api/v1/service-packages/{key}/documents"));
    let (_, _) = send(
        c,
        M::POST,
        docs.clone(),
        Some(json!({"title": "Guide", "published": true, "content": "# Guide\n\nRead me."})),
    )
    .await;
    let (_, draft) = send(
        c,
        M::POST,
        docs.clone(),
        Some(json!({"title": "Draft", "published": false, "content": "secret plans"})),
    )
    .await;
    let (st, _) = send(c, M::POST, docs, Some(json!({"title": "Under draft", "parent_id": draft["id"], "published": true, "content": "hidden too"}))).await;
    assert_eq!(st, StatusCode::CREATED);
    p
}

#[tokio::test]
async fn portal_shows_published_packages_listed_versions_and_published_pages_only() {
    for backend in common::backends().await {
        let s = common::start(backend).await;
        package(&s, "Shown API", "shown-api").await;
        package(&s, "Hidden API", "hidden-api").await;
        let (st, p) = send(
            &s.client,
            M::PATCH,
            s.url("/api/v1/service-packages/shown-api"),
            Some(json!({"published": true})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{p}");
        assert_eq!(p["published"], true);
        let a = &s.anon;

        // The catalog lists the published package only.
        let (st, html) = page(a, s.url("/portal")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            html.contains("Shown API") && !html.contains("Hidden API"),
            "{html}"
        );
        assert!(
            html.contains(&format!(
                "<link href=\"{}/portal\" rel=\"canonical\">",
                s.base
            )),
            "canonical link"
        );
        assert!(html.contains("<meta name=\"description\" content=\"Browse the published APIs"));
        let (_, html) = page(a, s.url("/portal?q=nothing-like-this")).await;
        assert!(!html.contains("Shown API</a>"));
        let (_, html) = page(a, s.url("/portal?q=does%20things&view=table")).await;
        assert!(html.contains("Shown API</a>") && html.contains("<table"));

        // Anything unpublished answers exactly as what does not exist.
        let (st_missing, missing) = page(a, s.url("/portal/services/no-such-api")).await;
        assert_eq!(st_missing, StatusCode::NOT_FOUND);
        let message = "There is no page at this address.";
        assert!(missing.contains(message));
        let hidden = [
            "/portal/services/hidden-api",
            "/portal/services/hidden-api/versions/v-published",
            "/portal/services/hidden-api/docs/guide",
            "/portal/services/shown-api/versions/v-unpublished",
            "/portal/services/shown-api/versions/no-such-version",
            "/portal/services/shown-api/docs/draft",
            "/portal/services/shown-api/docs/under-draft",
            "/portal/services/shown-api/docs/no-such-page",
            "/portal/services/shown-api/no/such/route",
        ];
        for path in hidden {
            let (st, html) = page(a, s.url(path)).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
            assert!(
                html.contains(message) && html.contains("Back to the Dev Portal"),
                "{path}"
            );
            assert!(
                !html.contains("Petstore") && !html.contains("secret plans"),
                "{path} leaks"
            );
        }
        for path in [
            "/portal/services/hidden-api/versions/v-published/spec",
            "/portal/services/shown-api/versions/v-unpublished/spec",
        ] {
            let r = a.get(s.url(path)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        }

        // The package page: the newest Published version by default, with its reference;
        // Deprecated listed with a banner; the docs tree has the published pages only.
        let (st, html) = page(a, s.url("/portal/services/shown-api")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            html.contains("Petstore published") && html.contains("listPets"),
            "{html}"
        );
        assert!(html.contains("v-deprecated") && !html.contains("v-unpublished"));
        assert!(html.contains("/portal/services/shown-api/docs/guide"));
        assert!(!html.contains("/docs/draft") && !html.contains("under-draft"));
        assert!(!html.contains("is deprecated"));
        let (st, html) = page(a, s.url("/portal/services/shown-api/versions/v-deprecated")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("Petstore deprecated") && html.contains("is deprecated"));
        assert!(
            html.contains("/portal/services/shown-api/versions/v-deprecated\""),
            "canonical"
        );
        let (st, html) = page(a, s.url("/portal/services/shown-api/docs/guide")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("Read me."));
        // Tag filter without JavaScript.
        let (_, html) = page(a, s.url("/portal/services/shown-api?tag=nothing")).await;
        assert!(!html.contains("List all pets"));

        // The original spec, as uploaded, with its content type.
        let r = a
            .get(s.url("/portal/services/shown-api/versions/v-published/spec"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/yaml"));
        assert_eq!(
            r.text().await.unwrap(),
            PETSTORE.replace("Petstore", "Petstore published")
        );

        // A version status change and unpublishing show at once.
        let (_, versions) = send(
            &s.client,
            M::GET,
            s.url("/api/v1/service-packages/shown-api/versions"),
            None,
        )
        .await;
        let published = versions["data"]
            .as_array()
            .or(versions.as_array())
            .unwrap()
            .iter()
            .find(|v| v["name"] == "v-published")
            .unwrap()
            .clone();
        let (st, _) = send(
            &s.client,
            M::PATCH,
            s.url(&format!(
                "/api/v1/service-packages/shown-api/versions/{}",
                published["id"].as_str().unwrap()
            )),
            Some(json!({"status": "unpublished"})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let (_, html) = page(a, s.url("/portal/services/shown-api")).await;
        assert!(
            html.contains("Petstore deprecated"),
            "falls back to the deprecated version"
        );
        let (st, _) = send(
            &s.client,
            M::PATCH,
            s.url("/api/v1/service-packages/shown-api"),
            Some(json!({"published": false})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let (st, html) = page(a, s.url("/portal/services/shown-api")).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert!(html.contains(message));
        let (_, html) = page(a, s.url("/portal")).await;
        assert!(!html.contains("Shown API"));
    }
}

#[tokio::test]
async fn publishing_needs_the_publisher_role_and_is_audited() {
    let s = common::start(common::sqlite().await).await;
    send(
        &s.client,
        M::POST,
        s.url("/api/v1/service-packages"),
        Some(json!({"display_name": "Roles API"})),
    )
    .await;
    let viewer = s.client_as("viewer@example.com", Role::Viewer).await;
    let publisher = s.client_as("publisher@example.com", Role::Publisher).await;
    let url = s.url("/api/v1/service-packages/roles-api");
    let (st, _) = send(
        &viewer,
        M::PATCH,
        url.clone(),
        Some(json!({"published": true})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = send(
        &publisher,
        M::PATCH,
        url.clone(),
        Some(json!({"published": true, "description": "x"})),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "a Publisher publishes, but does not edit"
    );
    let (st, p) = send(
        &publisher,
        M::PATCH,
        url.clone(),
        Some(json!({"published": true})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["published"], true);
    // The dashboard's button (a server function, as a form post without JavaScript).
    let r = publisher
        .post(s.url("/rpc/packages/publish"))
        .form(&[("id", p["id"].as_str().unwrap()), ("published", "false")])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    let (_, p) = send(&s.client, M::GET, url.clone(), None).await;
    assert_eq!(p["published"], false);
    let (_, events) = send(
        &s.client,
        M::GET,
        s.url("/api/v1/audit-events?action=service_package."),
        None,
    )
    .await;
    let actions: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"service_package.publish")
            && actions.contains(&"service_package.unpublish"),
        "{actions:?}"
    );
}

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

    // A Viewer cannot upload.
    let viewer = s.client_as("viewer@example.com", Role::Viewer).await;
    let form = reqwest::multipart::Form::new().text("text", PETSTORE);
    let r = viewer.post(&upload).multipart(form).send().await.unwrap();
    assert!(r.status() == StatusCode::FORBIDDEN || r.status() == StatusCode::SEE_OTHER);
    let r = c
        .get(s.url(&format!(
            "/api/v1/service-packages/upload-api/versions/{vid}/spec"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), PETSTORE);
}
