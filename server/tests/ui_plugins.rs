//! The Plugins cards and the Consumers pages without JavaScript: plain form posts to
//! the server functions, redirects, and the pages they lead to (a refused config
//! comes back with what was typed and Kong's message on its field; a generated key is
//! shown once, never in a URL).

mod common;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::Value;

use common::*;

struct Ui {
    s: TestServer,
    session: String,
    group_id: String,
}

async fn ui() -> Ui {
    let s = start_empty(sqlite().await).await;
    s.hub
        .console_create_user(ADMIN_EMAIL, app::model::Role::Admin, PASSWORD)
        .await
        .unwrap();
    let session = session_of(&s.login(ADMIN_EMAIL, PASSWORD).await).expect("signed in");
    let client = s.client_with_session(&session);
    let groups: Value = client
        .get(s.url("/api/v1/runtime-groups?name=default"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let group_id = groups["data"][0]["id"].as_str().unwrap().to_string();
    Ui {
        s,
        session,
        group_id,
    }
}

impl Ui {
    /// Posts a form as a browser without JavaScript does, from page `referer`.
    async fn post(&self, path: &str, referer: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.s
            .client_with_session(&self.session)
            .post(self.s.url(path))
            .header("accept", "text/html")
            .header("referer", self.s.url(referer))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// A page's HTML, sending `extra` cookies besides the session.
    async fn page(&self, path: &str, extra: &str) -> (reqwest::header::HeaderMap, String) {
        let mut cookie = format!("portico_session={}", self.session);
        if !extra.is_empty() {
            cookie.push_str("; ");
            cookie.push_str(extra);
        }
        let r = self
            .s
            .anon
            .get(self.s.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        let headers = r.headers().clone();
        let status = r.status();
        let html = r.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
        (headers, html)
    }
}

fn location(r: &reqwest::Response) -> String {
    assert_eq!(r.status(), StatusCode::FOUND);
    r.headers()["location"].to_str().unwrap().to_string()
}

/// The form fields a refused post sent back in its redirect (`__form`).
fn echoed_form(location: &str) -> String {
    let q = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    let encoded = url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "__form")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    String::from_utf8(
        base64::engine::general_purpose::URL_SAFE
            .decode(encoded)
            .unwrap_or_default(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_plugin_is_added_from_its_form_and_a_refused_one_keeps_what_was_typed() {
    let u = ui().await;
    let g = u.group_id.clone();
    let page = format!("/runtime-groups/{g}");
    // The chooser opens the plugin's form with its fields, defaults and hints.
    let (_, html) = u
        .page(
            &format!("{page}?plugins_at=plugins&add_plugin=rate-limiting"),
            "",
        )
        .await;
    assert!(html.contains("Add rate-limiting"), "{html}");
    assert!(html.contains(r#"name="config.minute""#), "{html}");
    assert!(
        html.contains("<legend>Redis</legend>"),
        "records as fieldsets"
    );
    assert!(html.contains("API rate limit exceeded"), "defaults shown");

    // Minute 0 is refused with Kong's message on the field; the page shows it with the
    // typed values.
    let referer = format!("{page}?plugins_at=plugins&add_plugin=rate-limiting");
    let form = [
        ("group", g.as_str()),
        ("plugins_at", "plugins"),
        ("name", "rate-limiting"),
        ("plugin_id", ""),
        ("enabled", "on"),
        ("config.minute", "0"),
        ("config.hour", "abc"),
        ("config.policy", "local"),
    ];
    let back = location(&u.post("/rpc/plugins/save", &referer, &form).await);
    assert!(back.contains("__err="), "{back}");
    let (_, html) = u.page(&back, "").await;
    assert!(html.contains("must be greater than 0"), "{html}");
    assert!(
        html.contains("expected a number"),
        "every broken rule: {html}"
    );
    assert!(
        html.contains(r#"value="abc""#),
        "what was typed is kept: {html}"
    );

    // Minute 3 is saved: the card lists it with its setting.
    let mut form = form;
    form[5] = ("config.minute", "3");
    form[6] = ("config.hour", "");
    let to = location(&u.post("/rpc/plugins/save", &referer, &form).await);
    assert_eq!(to, format!("{page}#plugins"));
    let (_, html) = u.page(&page, "").await;
    assert!(html.contains(r#"data-plugin="rate-limiting""#), "{html}");
    assert!(html.contains("minute: 3"), "{html}");
    assert!(html.contains("Delete rate-limiting"), "{html}");

    // A consumer's own plugin is on its page, not in the group's list.
    let consumers = format!("{page}/consumers");
    let consumer_page = location(
        &u.post(
            "/rpc/consumers/create",
            &consumers,
            &[("group", &g), ("username", "partner"), ("tags", "")],
        )
        .await,
    );
    let cid = consumer_page.rsplit('/').next().unwrap().to_string();
    let to = location(
        &u.post(
            "/rpc/plugins/save",
            &consumer_page,
            &[
                ("group", g.as_str()),
                ("consumer", cid.as_str()),
                ("plugins_at", "plugins"),
                ("name", "rate-limiting"),
                ("enabled", "on"),
                ("config.hour", "1000"),
            ],
        )
        .await,
    );
    assert_eq!(to, format!("{consumer_page}#plugins"));
    let (_, html) = u.page(&consumer_page, "").await;
    assert!(html.contains("hour: 1000"), "{html}");
    let (_, html) = u.page(&page, "").await;
    assert!(!html.contains("hour: 1000"), "{html}");
    assert!(html.contains("minute: 3"), "{html}");
}

#[tokio::test]
async fn a_generated_key_is_shown_once_and_never_in_a_url() {
    let u = ui().await;
    let g = u.group_id.clone();
    let list = format!("/runtime-groups/{g}/consumers");
    let to = location(
        &u.post(
            "/rpc/consumers/create",
            &list,
            &[("group", &g), ("username", "mobile-app"), ("tags", "")],
        )
        .await,
    );
    assert!(to.starts_with(&format!("{list}/")), "{to}");
    let consumer_page = to.clone();
    let cid = to.rsplit('/').next().unwrap().to_string();

    let r = u
        .post(
            "/rpc/consumers/keys/create",
            &consumer_page,
            &[
                ("group", &g),
                ("consumer", &cid),
                ("secret_key", ""),
                ("ttl", ""),
            ],
        )
        .await;
    let to = location(&r);
    assert_eq!(to, format!("{consumer_page}#keys"));
    let flash = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("portico_new_key="))
        .map(|c| c.split(';').next().unwrap().to_string())
        .expect("the key travels in a cookie");
    let body = r.text().await.unwrap();

    // The next page shows it, once, and clears the cookie.
    let (headers, html) = u
        .page(&consumer_page, &format!("portico_new_key={flash}"))
        .await;
    let at = html.find(r#"id="new-api-key""#).expect("shown");
    let start = at + html[at..].find('>').unwrap() + 1;
    let key: String = html[start..].chars().take_while(|c| *c != '<').collect();
    assert_eq!(key.len(), 32, "{key}");
    assert!(
        !to.contains(&key) && !body.contains(&key),
        "not in the answer to the post"
    );
    assert!(
        headers
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("portico_new_key=;")),
        "the cookie is cleared"
    );
    assert!(
        key_prefix_len(&html, &key) >= 4,
        "the keys table lists its prefix"
    );
    let (_, again) = u.page(&consumer_page, "").await;
    assert!(!again.contains(&key), "shown once");
    // Another consumer's page does not take it.
    let other = location(
        &u.post(
            "/rpc/consumers/create",
            &list,
            &[("group", &g), ("username", "other"), ("tags", "")],
        )
        .await,
    );
    let (_, html) = u.page(&other, &format!("portico_new_key={flash}")).await;
    assert!(!html.contains(&key));

    // An own key in a refused post is not echoed in the URL.
    let back = location(
        &u.post(
            "/rpc/consumers/keys/create",
            &consumer_page,
            &[
                ("group", &g),
                ("consumer", &cid),
                ("secret_key", "my-own-secret-key-123456"),
                ("ttl", "soon"),
            ],
        )
        .await,
    );
    assert!(!back.contains("my-own-secret"), "{back}");
    let echoed = echoed_form(&back);
    assert!(echoed.contains("ttl=soon"), "{echoed}");
    assert!(!echoed.contains("my-own-secret"), "{echoed}");
    let (_, html) = u.page(&back, "").await;
    assert!(html.contains("whole number of seconds"), "{html}");
}

/// How many characters of `key` the keys table shows (its prefix, followed by `…`).
fn key_prefix_len(html: &str, key: &str) -> usize {
    (1..key.len())
        .rev()
        .find(|n| html.contains(&format!("{}…", &key[..*n])))
        .unwrap_or(0)
}

#[tokio::test]
async fn a_route_plugin_is_on_the_route_edit_page_and_the_version_lists_the_group_ones() {
    let u = ui().await;
    let client = u.s.client_with_session(&u.session);
    let post = |path: String, body: Value| {
        let c = client.clone();
        let url = u.s.url(&path);
        async move {
            let r = c.post(url).json(&body).send().await.unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
            r.json::<Value>().await.unwrap()
        }
    };
    let pkg = post(
        "/api/v1/service-packages".into(),
        serde_json::json!({"display_name": "Orders"}),
    )
    .await;
    let key = pkg["key"].as_str().unwrap().to_string();
    let version = post(
        format!("/api/v1/service-packages/{key}/versions"),
        serde_json::json!({"name": "v1", "runtime_group_id": u.group_id}),
    )
    .await;
    let vid = version["id"].as_str().unwrap().to_string();
    let route = post(
        format!("/api/v1/service-packages/{key}/versions/{vid}/routes"),
        serde_json::json!({"name": "list", "paths": ["/orders"]}),
    )
    .await;
    let rid = route["id"].as_str().unwrap().to_string();
    let version_page = format!("/service-hub/{key}/versions/{vid}");
    let edit_page = format!("{version_page}?edit={rid}");

    // A group plugin, and one on the route (from the route's edit page).
    let g = u.group_id.clone();
    let to = location(
        &u.post(
            "/rpc/plugins/save",
            &format!("/runtime-groups/{g}"),
            &[
                ("group", g.as_str()),
                ("plugins_at", "plugins"),
                ("name", "cors"),
                ("enabled", "on"),
            ],
        )
        .await,
    );
    assert_eq!(to, format!("/runtime-groups/{g}#plugins"));
    let to = location(
        &u.post(
            "/rpc/plugins/save",
            &edit_page,
            &[
                ("package", key.as_str()),
                ("version_id", vid.as_str()),
                ("route_id", rid.as_str()),
                ("plugins_at", "route-plugins"),
                ("name", "ip-restriction"),
                ("enabled", "on"),
                ("config.allow", "10.0.0.0/8\n192.168.0.0/16"),
            ],
        )
        .await,
    );
    assert_eq!(to, format!("{edit_page}#route-plugins"));

    let (_, html) = u.page(&edit_page, "").await;
    let route_card = &html[html
        .find(r#"id="route-plugins""#)
        .expect("the route's card")..];
    assert!(
        route_card.contains(r#"data-plugin="ip-restriction""#),
        "{route_card}"
    );
    assert!(
        route_card.contains("allow: 10.0.0.0/8, 192.168.0.0/16"),
        "{route_card}"
    );
    assert!(route_card.contains("from runtime group"), "{route_card}");
    // The version's own card: the group's cors applies, the route's plugin does not.
    let (_, html) = u.page(&version_page, "").await;
    let card = &html[html.find(r#"id="plugins""#).expect("the version's card")..];
    assert!(card.contains("from runtime group"), "{card}");
    assert!(!card.contains(r#"data-plugin="ip-restriction""#), "{card}");
    assert!(!html.contains(r#"id="route-plugins""#));
}
