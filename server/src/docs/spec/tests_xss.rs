//! The spec is untrusted: nothing in it may come out as live markup.

use serde_json::json;

use super::*;

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "<img src=x onerror=alert(1)>";
const QUOTE: &str = "\"><svg onload=alert(1)>";
const JS: &str = "javascript:alert(1)";

fn hostile_spec() -> serde_json::Value {
    let schema = json!({
        "type": "object",
        "description": format!("{IMG} [x]({JS}) {SCRIPT}"),
        "required": [QUOTE],
        "properties": {
            QUOTE: {"type": "string", "enum": [SCRIPT, QUOTE], "default": IMG, "pattern": QUOTE,
                    "format": SCRIPT, "example": {"<b>": "</pre><script>alert(1)</script>"}},
            "link": {"$ref": format!("#/components/schemas/{}", "%3Cscript%3E")},
            "ext": {"type": "string", "externalDocs": {"url": JS, "description": SCRIPT}}
        }
    });
    json!({
        "openapi": "3.0.0",
        "info": {
            "title": SCRIPT,
            "version": QUOTE,
            "description": format!("# Hi\n\n{SCRIPT}\n\n{IMG}\n\n[click]({JS})\n\n<a href=\"{JS}\">a</a>"),
            "termsOfService": JS,
            "contact": {"name": SCRIPT, "url": "JaVaScRiPt:alert(1)", "email": format!("a@b.c{QUOTE}")},
            "license": {"name": IMG, "url": " javascript:alert(1)"}
        },
        "externalDocs": {"url": JS, "description": IMG},
        "servers": [
            {"url": JS, "description": SCRIPT,
             "variables": {QUOTE: {"default": SCRIPT, "enum": [IMG], "description": IMG}}},
            {"url": QUOTE}
        ],
        "tags": [{"name": QUOTE, "description": IMG, "externalDocs": {"url": JS}}],
        "security": [{QUOTE: [SCRIPT]}],
        "paths": {
            format!("/x/{IMG}"): {
                "parameters": [{"name": QUOTE, "in": SCRIPT, "description": IMG,
                                "schema": {"type": SCRIPT}, "example": SCRIPT}],
                "get": {
                    "tags": [QUOTE, SCRIPT],
                    "operationId": QUOTE,
                    "summary": SCRIPT,
                    "description": IMG,
                    "externalDocs": {"url": JS},
                    "requestBody": {"content": {SCRIPT: {
                        "schema": {"$ref": "#/components/schemas/%3Cscript%3E"},
                        "examples": {QUOTE: {"summary": SCRIPT, "description": IMG, "value": SCRIPT}},
                        "example": {"</code>": QUOTE}
                    }}},
                    "responses": {
                        QUOTE: {"description": IMG,
                                "headers": {SCRIPT: {"description": IMG, "schema": {"type": QUOTE}}},
                                "content": {QUOTE: {"schema": schema.clone()}}},
                        "200": {"description": "ok", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/%3Cscript%3E"},
                            "examples": {"ext": {"externalValue": JS}}}}}
                    },
                    "callbacks": {SCRIPT: {}}
                }
            }
        },
        "webhooks": {SCRIPT: {"post": {"summary": IMG, "responses": {}}}},
        "components": {
            "schemas": {"<script>": schema},
            "securitySchemes": {
                QUOTE: {"type": "oauth2", "description": IMG, "flows": {"implicit": {
                    "authorizationUrl": JS, "scopes": {SCRIPT: IMG}}}},
                SCRIPT: {"type": "apiKey", "in": IMG, "name": QUOTE},
                "oidc": {"type": "openIdConnect", "openIdConnectUrl": JS}
            }
        }
    })
}

#[test]
fn nothing_from_the_spec_runs() {
    let text = serde_json::to_string(&hostile_spec()).unwrap();
    let spec = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    for tag in [None, Some(QUOTE), Some(SCRIPT)] {
        let r = render_reference(&spec, tag);
        assert_markup_is_safe(&r.html);
        assert!(r.operation_count >= 1);
    }
    let html = render_reference(&spec, None).html;
    // Shown, as text.
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&quot;&gt;&lt;svg onload=alert(1)&gt;"));
    // A `javascript:` URL is never a link (it may be shown as text).
    assert!(
        !html.to_ascii_lowercase().contains("href=\"javascript"),
        "{html}"
    );
    assert!(
        !html.to_ascii_lowercase().contains("href=\" javascript"),
        "{html}"
    );
}

/// Every `<` in the output is markup (text `<` is escaped): each tag must be one of
/// ours or the Markdown renderer's, with known attributes only, no event handler or
/// style, and links that are relative, fragments, queries, http(s) or mailto.
fn assert_markup_is_safe(html: &str) {
    const TAGS: &[&str] = &[
        "a",
        "article",
        "blockquote",
        "br",
        "code",
        "dd",
        "del",
        "div",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "img",
        "input",
        "li",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "span",
        "strong",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    ];
    const ATTRS: &[&str] = &[
        "class",
        "id",
        "href",
        "rel",
        "aria-current",
        "aria-label",
        "colspan",
        "src",
        "alt",
        "title",
        "type",
        "checked",
        "disabled",
        "data-footnote-ref",
        "data-footnotes",
        "data-footnote-backref",
        "data-heading-content",
    ];
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let end = rest[i..]
            .find('>')
            .map(|j| i + j)
            .unwrap_or_else(|| panic!("unclosed tag at {}", &rest[i..]));
        let inner = &rest[i + 1..end];
        rest = &rest[end + 1..];
        let inner = inner.strip_prefix('/').unwrap_or(inner);
        let name_len = inner
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(inner.len());
        let name = &inner[..name_len];
        assert!(TAGS.contains(&name), "tag <{inner}>");
        let mut attrs = inner[name_len..].trim_end_matches('/').trim_start();
        while !attrs.is_empty() {
            let n = attrs
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(attrs.len());
            let attr = &attrs[..n];
            assert!(ATTRS.contains(&attr), "attribute {attr:?} in <{inner}>");
            attrs = &attrs[n..];
            if let Some(v) = attrs.strip_prefix("=\"") {
                let close = v
                    .find('"')
                    .unwrap_or_else(|| panic!("unquoted in <{inner}>"));
                let value = &v[..close];
                // (The Markdown renderer leaves `href=""` where it dropped a URL.)
                if (attr == "href" || attr == "src") && !value.is_empty() {
                    let lower = value.to_ascii_lowercase();
                    assert!(
                        ["#", "?", "http://", "https://", "mailto:", "data:image/png"]
                            .iter()
                            .any(|p| lower.starts_with(p)),
                        "{attr}={value:?}"
                    );
                }
                assert!(!value.contains(['<', '>', '"']), "{value:?}");
                attrs = v[close + 1..].trim_start();
            } else {
                attrs = attrs.trim_start();
                assert!(n > 0 || attrs.is_empty(), "junk in <{inner}>");
                if n == 0 {
                    break;
                }
            }
        }
    }
}
