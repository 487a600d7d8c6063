//! Publishing and the Dev Portal: what anonymous visitors see for every combination of
//! package flag, version status and page flag, and who may publish. Real HTTP, a real
//! SQLite file (and PostgreSQL when configured).

mod common;

use app::model::Role;
use app::ports::Portal;
use common::portal::{page, send, PETSTORE};
use reqwest::{Method as M, StatusCode};
use serde_json::{json, Value};

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
        // Tag filter without JavaScript; a tag the spec does not have filters nothing.
        let (_, html) = page(a, s.url("/portal/services/shown-api?tag=pets")).await;
        assert!(html.contains("List all pets"));
        let (_, html) = page(a, s.url("/portal/services/shown-api?tag=nothing")).await;
        assert!(html.contains("List all pets"));

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

/// The portal is public: a visitor's `?tag=` cannot make the server render (only the
/// spec's own tags filter, anything else is the whole reference), and a page's HTML is
/// rendered once per change of the page.
#[tokio::test]
async fn unknown_tags_render_nothing_and_pages_render_once_per_change() {
    let s = common::start(common::sqlite().await).await;
    package(&s, "Cached API", "cached-api").await;
    let (st, _) = send(
        &s.client,
        M::PATCH,
        s.url("/api/v1/service-packages/cached-api"),
        Some(json!({"published": true})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);

    let whole = s
        .hub
        .portal_package("cached-api", None, None)
        .await
        .unwrap();
    let whole_spec = whole.spec.clone().expect("a reference");
    assert!(whole_spec.tags.contains(&"pets".to_string()));
    for tag in ["nothing", "Pets", "pets2", &"x".repeat(10_000)] {
        let v = s
            .hub
            .portal_package("cached-api", None, Some(tag.to_string()))
            .await
            .unwrap();
        assert_eq!(
            v,
            whole,
            "an unknown tag ({}) is the untagged view",
            tag.len()
        );
    }
    let pets = s
        .hub
        .portal_package("cached-api", None, Some(" pets ".into()))
        .await
        .unwrap()
        .spec
        .unwrap();
    assert_eq!(pets.tag.as_deref(), Some("pets"));
    let (st, html) = page(&s.anon, s.url("/portal/services/cached-api?tag=nothing")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("List all pets"), "the whole reference");

    // The page's HTML comes from the cache while the page is unchanged: a change made
    // behind the hub's back (same update time) is not seen...
    let first = s.hub.portal_document("cached-api", "guide").await.unwrap();
    assert!(first.html.contains("Read me."), "{}", first.html);
    let again = s.hub.portal_document("cached-api", "guide").await.unwrap();
    assert_eq!(again.html, first.html);
    {
        use sea_orm::ConnectionTrait;
        s.hub
            .db()
            .execute_unprepared(
                "UPDATE documents SET content = '# Guide\n\nSwapped.' WHERE slug = 'guide'",
            )
            .await
            .unwrap();
    }
    let cached = s.hub.portal_document("cached-api", "guide").await.unwrap();
    assert_eq!(cached.html, first.html, "served from the cache");
    assert!(cached.page.content.contains("Swapped."));
    // ...and an edit through the API renders it again.
    let (st, _) = send(
        &s.client,
        M::PATCH,
        s.url("/api/v1/service-packages/cached-api/documents/guide"),
        Some(json!({"content": "# Guide\n\nEdited."})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let edited = s.hub.portal_document("cached-api", "guide").await.unwrap();
    assert!(
        edited.html.contains("Edited.") && !edited.html.contains("Read me."),
        "{}",
        edited.html
    );
    let (_, html) = page(&s.anon, s.url("/portal/services/cached-api/docs/guide")).await;
    assert!(html.contains("Edited."));
}
