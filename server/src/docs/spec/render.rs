//! [`render_reference`]: the page skeleton (header, servers, authentication, tag filter,
//! tag sections, schemas). Operations are in `ops.rs`, schemas in `schema.rs`.

use std::collections::HashSet;

use serde_json::Value;

use super::components::Components;
use super::html::{desc_of, esc, external_docs, link, query_value, safe_url, slug};
use super::refs::deref;
use super::{Dialect, ParsedSpec, Reference};

/// HTTP methods of a path item, in the order they are shown.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The tag of operations that have none.
const DEFAULT_TAG: &str = "default";

/// One operation (or webhook) of the spec.
pub(super) struct Op<'a> {
    pub method: &'static str,
    /// The path, or the webhook's name.
    pub path: &'a str,
    /// The path item (already dereferenced).
    pub item: &'a Value,
    pub op: &'a Value,
    pub tags: Vec<&'a str>,
    pub id: String,
    pub webhook: bool,
}

/// The renderer's state: one output string, written in order.
pub(super) struct Renderer<'a> {
    pub doc: &'a Value,
    pub dialect: Dialect,
    pub out: String,
    pub comps: Components<'a>,
    /// Named schemas used by the rendered operations (for the filtered Schemas section).
    pub used: Vec<bool>,
    /// Bytes that `$ref`s to parts of the document (expanded in place) may still add:
    /// a guard against specs built to blow up the output.
    pub pointer_budget: usize,
    /// Article ids given out.
    pub ids: HashSet<String>,
}

impl<'a> Renderer<'a> {
    pub fn swagger(&self) -> bool {
        self.dialect == Dialect::Swagger2
    }

    /// `base`, or `base-2`, `base-3`… whichever is not taken yet.
    pub fn unique_id(&mut self, base: String) -> String {
        if self.ids.insert(base.clone()) {
            return base;
        }
        let mut n = 2;
        loop {
            let candidate = format!("{base}-{n}");
            if self.ids.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }
}

/// Renders the reference of `spec` as an HTML fragment; with `tag`, only the operations
/// of that tag (an empty tag means all). See the module docs for the layout choices.
pub fn render_reference(spec: &ParsedSpec, tag: Option<&str>) -> Reference {
    let doc = &spec.doc;
    let tag = tag.filter(|t| !t.is_empty());
    let comps = Components::new(doc, spec.dialect);
    let mut r = Renderer {
        doc,
        dialect: spec.dialect,
        out: String::with_capacity(64 * 1024),
        used: vec![false; comps.list.len()],
        comps,
        pointer_budget: 16 * 1024 * 1024,
        ids: HashSet::new(),
    };
    let ops = r.collect_ops();
    let tags = tag_order(doc, &ops);

    r.out.push_str("<div class=\"spec-reference\">");
    r.header(spec);
    r.servers();
    r.security_schemes();
    r.tag_nav(&tags, tag);

    let mut shown = vec![false; ops.len()];
    let mut first_seen = vec![true; ops.len()];
    let selected: Vec<&str> = match tag {
        Some(t) => vec![t],
        None => tags.iter().map(String::as_str).collect(),
    };
    for name in selected {
        let members: Vec<usize> = (0..ops.len())
            .filter(|&i| ops[i].tags.contains(&name))
            .collect();
        if members.is_empty() && tag.is_none() {
            continue;
        }
        r.tag_section_start(name);
        if members.is_empty() {
            r.out
                .push_str("<p class=\"spec-empty\">No operations have the tag “");
            esc(&mut r.out, name);
            r.out.push_str("”.</p>");
        }
        for i in members {
            let id = if first_seen[i] {
                first_seen[i] = false;
                ops[i].id.clone()
            } else {
                r.unique_id(format!("{}--{}", ops[i].id, slug(name)))
            };
            r.operation(&ops[i], &id);
            shown[i] = true;
        }
        r.out.push_str("</section>");
    }
    r.schemas_section(tag.is_some());
    r.out.push_str("</div>");
    Reference {
        html: r.out,
        tags,
        operation_count: shown.iter().filter(|s| **s).count(),
    }
}

impl<'a> Renderer<'a> {
    /// All operations and webhooks, in order, with unique ids.
    fn collect_ops(&mut self) -> Vec<Op<'a>> {
        let mut ops = Vec::new();
        for (key, webhook) in [("paths", false), ("webhooks", true)] {
            let Some(items) = self.doc.get(key).and_then(Value::as_object) else {
                continue;
            };
            for (path, item) in items {
                let Some(item) = deref(self.doc, item).filter(|i| i.is_object()) else {
                    continue;
                };
                for method in METHODS {
                    let Some(op) = item.get(method).filter(|o| o.is_object()) else {
                        continue;
                    };
                    let mut tags: Vec<&str> = Vec::new();
                    for t in op
                        .get("tags")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(t) = t.as_str() {
                            if !tags.contains(&t) {
                                tags.push(t);
                            }
                        }
                    }
                    if tags.is_empty() {
                        tags.push(DEFAULT_TAG);
                    }
                    let base = match op.get("operationId").and_then(Value::as_str) {
                        Some(id) if !id.trim().is_empty() => format!("op-{}", slug(id)),
                        _ if webhook => format!("webhook-{}", slug(&format!("{method}-{path}"))),
                        _ => format!("op-{}", slug(&format!("{method}-{path}"))),
                    };
                    let id = self.unique_id(base);
                    ops.push(Op {
                        method,
                        path,
                        item,
                        op,
                        tags,
                        id,
                        webhook,
                    });
                }
            }
        }
        ops
    }

    fn header(&mut self, spec: &ParsedSpec) {
        let info = self.doc.get("info").unwrap_or(&Value::Null);
        let out = &mut self.out;
        out.push_str("<header class=\"spec-header\"><h2 class=\"spec-title\">");
        esc(out, &spec.title);
        out.push_str("</h2><p class=\"spec-meta\"><span class=\"spec-api-version\">Version ");
        esc(out, &spec.api_version);
        out.push_str("</span> <span class=\"spec-badge\">");
        out.push_str(spec.dialect.name());
        out.push(' ');
        esc(out, &spec.spec_version);
        out.push_str("</span></p>");
        desc_of(out, info);
        let mut links: Vec<String> = Vec::new();
        if let Some(url) = info.get("termsOfService").and_then(Value::as_str) {
            if safe_url(url).is_some() {
                let mut s = String::new();
                link(&mut s, url, "Terms of service");
                links.push(s);
            }
        }
        if let Some(contact) = info.get("contact").and_then(Value::as_object) {
            let name = contact.get("name").and_then(Value::as_str);
            let url = contact.get("url").and_then(Value::as_str);
            let email = contact.get("email").and_then(Value::as_str);
            let mut s = String::from("Contact: ");
            let before = s.len();
            match (name, url) {
                (Some(n), Some(u)) => link(&mut s, u, n),
                (None, Some(u)) => link(&mut s, u, u),
                (Some(n), None) => esc(&mut s, n),
                (None, None) => {}
            }
            if let Some(e) = email.filter(|e| e.contains('@')) {
                if s.len() > before {
                    s.push(' ');
                }
                link(&mut s, &format!("mailto:{e}"), e);
            }
            if s.len() > before {
                links.push(s);
            }
        }
        if let Some(license) = info.get("license").and_then(Value::as_object) {
            if let Some(name) = license.get("name").and_then(Value::as_str) {
                let mut s = String::from("License: ");
                match license.get("url").and_then(Value::as_str) {
                    Some(u) => link(&mut s, u, name),
                    None => esc(&mut s, name),
                }
                links.push(s);
            }
        }
        if !links.is_empty() {
            out.push_str("<ul class=\"spec-info-links\">");
            for l in links {
                out.push_str("<li>");
                out.push_str(&l);
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        }
        external_docs(out, self.doc);
        out.push_str("</header>");
    }

    fn servers(&mut self) {
        let doc = self.doc;
        let out = &mut self.out;
        if self.dialect == Dialect::Swagger2 {
            let host = doc.get("host").and_then(Value::as_str);
            let base = doc.get("basePath").and_then(Value::as_str).unwrap_or("");
            if host.is_none() && base.is_empty() {
                return;
            }
            let schemes: Vec<&str> = doc
                .get("schemes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            out.push_str("<section class=\"spec-servers\"><h3>Servers</h3><ul>");
            let urls: Vec<String> = match (host, schemes.is_empty()) {
                (Some(h), false) => schemes.iter().map(|s| format!("{s}://{h}{base}")).collect(),
                (Some(h), true) => vec![format!("{h}{base}")],
                (None, _) => vec![base.to_string()],
            };
            for url in urls {
                out.push_str("<li><code class=\"spec-server-url\">");
                esc(out, &url);
                out.push_str("</code></li>");
            }
            out.push_str("</ul></section>");
            return;
        }
        let Some(servers) = doc.get("servers").and_then(Value::as_array) else {
            return;
        };
        if servers.is_empty() {
            return;
        }
        out.push_str("<section class=\"spec-servers\"><h3>Servers</h3><ul>");
        for server in servers {
            let Some(url) = server.get("url").and_then(Value::as_str) else {
                continue;
            };
            out.push_str("<li><code class=\"spec-server-url\">");
            esc(out, url);
            out.push_str("</code>");
            desc_of(out, server);
            if let Some(vars) = server.get("variables").and_then(Value::as_object) {
                out.push_str("<ul class=\"spec-server-vars\">");
                for (name, var) in vars {
                    out.push_str("<li><code>");
                    esc(out, name);
                    out.push_str("</code>");
                    if let Some(d) = var.get("default") {
                        out.push_str(" default <code>");
                        esc(out, &super::html::value_text(d));
                        out.push_str("</code>");
                    }
                    if let Some(values) = var.get("enum").and_then(Value::as_array) {
                        out.push_str(" (one of:");
                        for (i, v) in values.iter().enumerate() {
                            out.push_str(if i == 0 { " <code>" } else { ", <code>" });
                            esc(out, &super::html::value_text(v));
                            out.push_str("</code>");
                        }
                        out.push(')');
                    }
                    desc_of(out, var);
                    out.push_str("</li>");
                }
                out.push_str("</ul>");
            }
            out.push_str("</li>");
        }
        out.push_str("</ul></section>");
    }

    fn security_schemes(&mut self) {
        let schemes = match self.dialect {
            Dialect::Swagger2 => self.doc.get("securityDefinitions"),
            _ => self
                .doc
                .get("components")
                .and_then(|c| c.get("securitySchemes")),
        };
        let Some(schemes) = schemes.and_then(Value::as_object) else {
            return;
        };
        if schemes.is_empty() {
            return;
        }
        self.out
            .push_str("<section class=\"spec-security-schemes\"><h3>Authentication</h3><dl>");
        for (name, scheme) in schemes {
            let scheme = deref(self.doc, scheme).unwrap_or(&Value::Null);
            let out = &mut self.out;
            out.push_str("<dt><code>");
            esc(out, name);
            out.push_str("</code></dt><dd>");
            let get = |k: &str| scheme.get(k).and_then(Value::as_str).unwrap_or("");
            match get("type") {
                "apiKey" => {
                    out.push_str("API key in ");
                    esc(out, get("in"));
                    out.push_str(" <code>");
                    esc(out, get("name"));
                    out.push_str("</code>");
                }
                "http" => {
                    out.push_str("HTTP ");
                    esc(out, get("scheme"));
                    if !get("bearerFormat").is_empty() {
                        out.push_str(" (");
                        esc(out, get("bearerFormat"));
                        out.push(')');
                    }
                }
                "basic" => out.push_str("HTTP basic"),
                "openIdConnect" => {
                    out.push_str("OpenID Connect: ");
                    let url = get("openIdConnectUrl");
                    link(out, url, url);
                }
                other => esc(out, other),
            }
            desc_of(out, scheme);
            oauth_flows(out, scheme);
            out.push_str("</dd>");
        }
        self.out.push_str("</dl></section>");
    }

    fn tag_nav(&mut self, tags: &[String], current: Option<&str>) {
        let out = &mut self.out;
        out.push_str("<nav class=\"spec-tags\" aria-label=\"Tags\"><ul><li><a href=\"?\"");
        if current.is_none() {
            out.push_str(" aria-current=\"page\"");
        }
        out.push_str(">All</a></li>");
        for t in tags {
            out.push_str("<li><a href=\"?tag=");
            esc(out, &query_value(t));
            out.push('"');
            if current == Some(t.as_str()) {
                out.push_str(" aria-current=\"page\"");
            }
            out.push('>');
            esc(out, t);
            out.push_str("</a></li>");
        }
        out.push_str("</ul></nav>");
    }

    fn tag_section_start(&mut self, name: &str) {
        let tag_obj = self
            .doc
            .get("tags")
            .and_then(Value::as_array)
            .and_then(|tags| {
                tags.iter()
                    .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
            });
        let id = self.unique_id(format!("tag-{}", slug(name)));
        let out = &mut self.out;
        out.push_str("<section class=\"spec-tag\" id=\"");
        esc(out, &id);
        out.push_str("\"><h3 class=\"spec-tag-name\">");
        esc(out, name);
        out.push_str("</h3>");
        if let Some(t) = tag_obj {
            desc_of(out, t);
            external_docs(out, t);
        }
    }
}

/// OAuth 2 flows (OpenAPI `flows`, or Swagger 2.0's `flow` with its URLs) and scopes.
fn oauth_flows(out: &mut String, scheme: &Value) {
    let mut flows: Vec<(&str, &Value)> = Vec::new();
    if let Some(f) = scheme.get("flows").and_then(Value::as_object) {
        flows.extend(f.iter().map(|(k, v)| (k.as_str(), v)));
    } else if let Some(f) = scheme.get("flow").and_then(Value::as_str) {
        flows.push((f, scheme));
    }
    if flows.is_empty() {
        return;
    }
    out.push_str("<ul class=\"spec-oauth-flows\">");
    for (name, flow) in flows {
        out.push_str("<li>OAuth 2 ");
        esc(out, name);
        for key in ["authorizationUrl", "tokenUrl", "refreshUrl"] {
            if let Some(u) = flow.get(key).and_then(Value::as_str) {
                out.push_str(", ");
                esc(out, key);
                out.push_str(": ");
                link(out, u, u);
            }
        }
        if let Some(scopes) = flow.get("scopes").and_then(Value::as_object) {
            if !scopes.is_empty() {
                out.push_str("; scopes:");
                for (i, (s, d)) in scopes.iter().enumerate() {
                    out.push_str(if i == 0 { " <code>" } else { ", <code>" });
                    esc(out, s);
                    out.push_str("</code>");
                    if let Some(d) = d.as_str().filter(|d| !d.is_empty()) {
                        out.push_str(" (");
                        esc(out, d);
                        out.push(')');
                    }
                }
            }
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
}

/// The spec's `tags` order first, then the order of first use.
fn tag_order(doc: &Value, ops: &[Op<'_>]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let declared = doc.get("tags").and_then(Value::as_array);
    for t in declared.into_iter().flatten() {
        if let Some(name) = t.get("name").and_then(Value::as_str) {
            if seen.insert(name) {
                tags.push(name.to_string());
            }
        }
    }
    for op in ops {
        for &t in &op.tags {
            if seen.insert(t) {
                tags.push(t.to_string());
            }
        }
    }
    tags
}
