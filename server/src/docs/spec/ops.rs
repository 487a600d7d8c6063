//! One operation: title, parameters, request body, responses, security.

use serde_json::Value;

use super::html::{desc_of, esc, example_block, external_docs, link};
use super::refs::{deref, ref_of};
use super::render::{Op, Renderer};

fn is_true(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool) == Some(true)
}

fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

impl<'a> Renderer<'a> {
    pub(super) fn operation(&mut self, op: &Op<'a>, id: &str) {
        let o = op.op;
        let deprecated = is_true(o, "deprecated");
        let out = &mut self.out;
        out.push_str("<article class=\"spec-op");
        if deprecated {
            out.push_str(" spec-deprecated");
        }
        if op.webhook {
            out.push_str(" spec-webhook");
        }
        out.push_str("\" id=\"");
        esc(out, id);
        out.push_str("\"><h4 class=\"spec-op-title\"><span class=\"spec-method spec-method-");
        out.push_str(op.method);
        out.push_str("\">");
        out.push_str(&op.method.to_ascii_uppercase());
        out.push_str("</span> <code class=\"spec-path\">");
        esc(out, op.path);
        out.push_str("</code>");
        if op.webhook {
            out.push_str(" <span class=\"spec-webhook-label\">Webhook</span>");
        }
        if deprecated {
            out.push_str(" <span class=\"spec-deprecated-label\">Deprecated</span>");
        }
        out.push_str("</h4>");
        let summary = str_of(o, "summary").or_else(|| str_of(op.item, "summary"));
        if let Some(s) = summary.filter(|s| !s.trim().is_empty()) {
            out.push_str("<p class=\"spec-summary\">");
            esc(out, s);
            out.push_str("</p>");
        }
        if o.get("description").is_some() {
            desc_of(out, o);
        } else {
            desc_of(out, op.item);
        }
        if let Some(op_id) = str_of(o, "operationId") {
            out.push_str("<p class=\"spec-op-id\">Operation ID: <code>");
            esc(out, op_id);
            out.push_str("</code></p>");
        }
        external_docs(out, o);
        self.security(o);

        let params = self.merged_params(op);
        let body_param = params
            .iter()
            .copied()
            .find(|p| str_of(p, "in") == Some("body"));
        let (form, other): (Vec<&Value>, Vec<&Value>) = params
            .iter()
            .copied()
            .filter(|p| str_of(p, "in") != Some("body"))
            .partition(|p| str_of(p, "in") == Some("formData"));
        if !other.is_empty() {
            self.param_table("Parameters", "spec-params", &other, true);
        }
        if !form.is_empty() {
            self.param_table("Form fields", "spec-form", &form, false);
            self.media_types(o, "consumes", "application/x-www-form-urlencoded");
            self.out.push_str("</section>");
        }
        self.request_body(o, body_param);
        self.responses(o);
        if let Some(cb) = o.get("callbacks").and_then(Value::as_object) {
            if !cb.is_empty() {
                self.out.push_str("<p class=\"spec-callbacks\">Callbacks:");
                for (i, name) in cb.keys().enumerate() {
                    self.out
                        .push_str(if i == 0 { " <code>" } else { ", <code>" });
                    esc(&mut self.out, name);
                    self.out.push_str("</code>");
                }
                self.out.push_str("</p>");
            }
        }
        self.out.push_str("</article>");
    }

    /// Security requirements: the operation's, else the document's.
    fn security(&mut self, o: &Value) {
        let sec = o.get("security").or_else(|| self.doc.get("security"));
        let Some(reqs) = sec.and_then(Value::as_array) else {
            return;
        };
        let out = &mut self.out;
        out.push_str(
            "<p class=\"spec-security\"><span class=\"spec-security-label\">Security:</span> ",
        );
        if reqs.is_empty() {
            out.push_str("none");
        }
        for (i, req) in reqs.iter().enumerate() {
            if i > 0 {
                out.push_str(" or ");
            }
            let Some(req) = req.as_object() else { continue };
            if req.is_empty() {
                out.push_str("none (optional)");
            }
            for (j, (name, scopes)) in req.iter().enumerate() {
                if j > 0 {
                    out.push_str(" and ");
                }
                out.push_str("<code>");
                esc(out, name);
                out.push_str("</code>");
                let scopes: Vec<&str> = scopes
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if !scopes.is_empty() {
                    out.push_str(" (");
                    esc(out, &scopes.join(", "));
                    out.push(')');
                }
            }
        }
        out.push_str("</p>");
    }

    /// Path-level parameters, overridden (by name and location) by the operation's.
    fn merged_params(&self, op: &Op<'a>) -> Vec<&'a Value> {
        let mut list: Vec<&'a Value> = Vec::new();
        let key = |p: &Value| {
            (
                str_of(p, "name").map(str::to_string),
                str_of(p, "in").map(str::to_string),
            )
        };
        for (level, source) in [(0, op.item), (1, op.op)] {
            let Some(params) = source.get("parameters").and_then(Value::as_array) else {
                continue;
            };
            for raw in params {
                let p = deref(self.doc, raw).unwrap_or(raw);
                let k = key(p);
                let existing = (level == 1 && k.0.is_some())
                    .then(|| list.iter().position(|q| key(q) == k))
                    .flatten();
                match existing {
                    Some(i) => list[i] = p,
                    None => list.push(p),
                }
            }
        }
        list
    }

    /// A table of parameters; for "spec-form" the section is left open (the caller adds
    /// the media types and closes it).
    fn param_table(&mut self, title: &str, class: &str, params: &[&'a Value], with_in: bool) {
        let out = &mut self.out;
        out.push_str("<section class=\"");
        out.push_str(class);
        out.push_str("\"><h5>");
        out.push_str(title);
        out.push_str("</h5><table class=\"spec-table\"><thead><tr><th>Name</th>");
        if with_in {
            out.push_str("<th>In</th>");
        }
        out.push_str("<th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>");
        for p in params {
            self.param_row(p, with_in);
        }
        self.out.push_str("</tbody></table>");
        if class != "spec-form" {
            self.out.push_str("</section>");
        }
    }

    fn param_row(&mut self, p: &'a Value, with_in: bool) {
        if let Some(r) = ref_of(p) {
            // Still a reference: external (warned about at parse time) or circular.
            self.out
                .push_str("<tr><td colspan=\"5\">Parameter from <code>");
            esc(&mut self.out, r);
            self.out.push_str("</code> (not resolved)</td></tr>");
            return;
        }
        let deprecated = is_true(p, "deprecated");
        let out = &mut self.out;
        out.push_str(if deprecated {
            "<tr class=\"spec-deprecated\">"
        } else {
            "<tr>"
        });
        out.push_str("<td><code class=\"spec-param-name\">");
        esc(out, str_of(p, "name").unwrap_or(""));
        out.push_str("</code>");
        if deprecated {
            out.push_str(" <span class=\"spec-deprecated-label\">Deprecated</span>");
        }
        out.push_str("</td>");
        if with_in {
            out.push_str("<td>");
            esc(out, str_of(p, "in").unwrap_or(""));
            out.push_str("</td>");
        }
        out.push_str("<td><span class=\"spec-type\">");
        // OpenAPI 3: `schema` or `content`; Swagger 2.0: the parameter is schema-like.
        let content = p
            .get("content")
            .and_then(Value::as_object)
            .and_then(|c| c.iter().next());
        let schema: &'a Value = match (p.get("schema"), content) {
            (Some(s), _) => s,
            (None, Some((_, media))) => media.get("schema").unwrap_or(&Value::Null),
            (None, None) if self.swagger() => p,
            (None, None) => &Value::Null,
        };
        self.summary(schema, None, 0);
        if let (None, Some((media_type, _))) = (p.get("schema"), content) {
            self.out.push_str(" (");
            esc(&mut self.out, media_type);
            self.out.push(')');
        }
        self.out.push_str("</span></td><td>");
        let required = is_true(p, "required") || str_of(p, "in") == Some("path");
        self.out.push_str(if required {
            "<span class=\"spec-required\">required</span>"
        } else {
            "optional"
        });
        self.out.push_str("</td><td>");
        desc_of(&mut self.out, p);
        if !schema.is_null() {
            self.details(schema);
        }
        self.examples_of(p);
        if !std::ptr::eq(schema, p) && !schema.is_null() {
            self.children(schema, super::schema::St::op());
        }
        self.out.push_str("</td></tr>");
    }

    /// `<p class="spec-media-types">` from the operation's `key` (`consumes`/`produces`),
    /// else the document's, else `default`.
    fn media_types(&mut self, o: &Value, key: &str, default: &str) {
        let list: Vec<&str> = o
            .get(key)
            .or_else(|| self.doc.get(key))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let list = if list.is_empty() { vec![default] } else { list };
        self.media_type_list(&list);
    }

    fn media_type_list(&mut self, list: &[&str]) {
        let out = &mut self.out;
        out.push_str("<p class=\"spec-media-types\">");
        for (i, t) in list.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str("<code>");
            esc(out, t);
            out.push_str("</code>");
        }
        out.push_str("</p>");
    }

    fn request_body(&mut self, o: &'a Value, body_param: Option<&'a Value>) {
        let (body, swagger) = match (o.get("requestBody"), body_param) {
            (Some(rb), _) => (rb, false),
            (None, Some(p)) => (p, true),
            (None, None) => return,
        };
        let Some(body) = deref(self.doc, body) else {
            self.out
                .push_str("<section class=\"spec-request\"><h5>Request body</h5><p>From <code>");
            esc(&mut self.out, ref_of(body).unwrap_or(""));
            self.out.push_str("</code> (not resolved)</p></section>");
            return;
        };
        self.out
            .push_str("<section class=\"spec-request\"><h5>Request body");
        if is_true(body, "required") {
            self.out
                .push_str(" <span class=\"spec-required\">required</span>");
        }
        self.out.push_str("</h5>");
        desc_of(&mut self.out, body);
        if swagger {
            self.media_types(o, "consumes", "application/json");
            if let Some(schema) = body.get("schema") {
                self.schema_root(schema);
            }
        } else if let Some(content) = body.get("content") {
            self.content(content);
        }
        self.out.push_str("</section>");
    }

    /// An OpenAPI `content` map; media types whose schema is the same `$ref` (and nothing
    /// else) are shown together.
    fn content(&mut self, content: &'a Value) {
        let Some(map) = content.as_object() else {
            return;
        };
        let entries: Vec<(&'a str, &'a Value)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
        fn simple_ref(m: &Value) -> Option<&str> {
            let obj = m.as_object()?;
            (obj.len() == 1)
                .then(|| obj.get("schema").and_then(ref_of))
                .flatten()
        }
        let mut done = vec![false; entries.len()];
        for i in 0..entries.len() {
            if done[i] {
                continue;
            }
            let mut types = vec![entries[i].0];
            if let Some(r) = simple_ref(entries[i].1) {
                for j in i + 1..entries.len() {
                    if !done[j] && simple_ref(entries[j].1) == Some(r) {
                        done[j] = true;
                        types.push(entries[j].0);
                    }
                }
            }
            let media = entries[i].1;
            self.out.push_str("<div class=\"spec-media\">");
            self.media_type_list(&types);
            if let Some(schema) = media.get("schema") {
                self.schema_root(schema);
            }
            self.examples_of(media);
            self.out.push_str("</div>");
        }
    }

    /// `example` and `examples` (a map of Example objects) of a media type or parameter.
    fn examples_of(&mut self, v: &'a Value) {
        if let Some(ex) = v.get("example") {
            self.out
                .push_str("<p class=\"spec-example-label\">Example</p>");
            example_block(&mut self.out, ex);
        }
        let Some(examples) = v.get("examples").and_then(Value::as_object) else {
            return;
        };
        for (name, ex) in examples {
            let out = &mut self.out;
            out.push_str(
                "<div class=\"spec-example-item\"><p class=\"spec-example-label\">Example <strong>",
            );
            esc(out, name);
            out.push_str("</strong>");
            let Some(ex) = deref(self.doc, ex) else {
                out.push_str(": <code>");
                esc(out, ref_of(ex).unwrap_or(""));
                out.push_str("</code> (not resolved)</p></div>");
                continue;
            };
            if let Some(s) = str_of(ex, "summary") {
                out.push_str(": ");
                esc(out, s);
            }
            out.push_str("</p>");
            desc_of(out, ex);
            if let Some(value) = ex.get("value") {
                example_block(out, value);
            } else if let Some(url) = str_of(ex, "externalValue") {
                out.push_str("<p>");
                link(out, url, url);
                out.push_str("</p>");
            }
            out.push_str("</div>");
        }
    }

    fn responses(&mut self, o: &'a Value) {
        let Some(responses) = o.get("responses").and_then(Value::as_object) else {
            return;
        };
        if responses.is_empty() {
            return;
        }
        self.out.push_str(
            "<section class=\"spec-responses\"><h5>Responses</h5><ul class=\"spec-response-list\">",
        );
        for (code, resp) in responses {
            if code.starts_with("x-") {
                continue;
            }
            let class = match code.as_bytes().first() {
                Some(d @ b'1'..=b'5') => format!("spec-status-{}xx", *d as char),
                _ if code == "default" => "spec-status-default".to_string(),
                _ => "spec-status-other".to_string(),
            };
            let out = &mut self.out;
            out.push_str("<li class=\"spec-response ");
            out.push_str(&class);
            out.push_str("\"><p class=\"spec-status\">");
            esc(out, code);
            out.push_str("</p>");
            let Some(resp) = deref(self.doc, resp) else {
                out.push_str("<p>From <code>");
                esc(out, ref_of(resp).unwrap_or(""));
                out.push_str("</code> (not resolved)</p></li>");
                continue;
            };
            desc_of(out, resp);
            self.headers(resp);
            if self.swagger() {
                if let Some(schema) = resp.get("schema") {
                    self.media_types(o, "produces", "application/json");
                    self.schema_root(schema);
                }
                if let Some(examples) = resp.get("examples").and_then(Value::as_object) {
                    for (media_type, ex) in examples {
                        self.out
                            .push_str("<p class=\"spec-example-label\">Example <code>");
                        esc(&mut self.out, media_type);
                        self.out.push_str("</code></p>");
                        example_block(&mut self.out, ex);
                    }
                }
            } else if let Some(content) = resp.get("content") {
                self.content(content);
            }
            self.out.push_str("</li>");
        }
        self.out.push_str("</ul></section>");
    }

    fn headers(&mut self, resp: &'a Value) {
        let Some(headers) = resp.get("headers").and_then(Value::as_object) else {
            return;
        };
        if headers.is_empty() {
            return;
        }
        self.out.push_str("<table class=\"spec-table spec-headers\"><thead><tr><th>Header</th><th>Type</th><th>Description</th></tr></thead><tbody>");
        for (name, h) in headers {
            let h = deref(self.doc, h).unwrap_or(h);
            self.out.push_str("<tr><td><code>");
            esc(&mut self.out, name);
            self.out
                .push_str("</code></td><td><span class=\"spec-type\">");
            let schema = if self.swagger() {
                h
            } else {
                h.get("schema").unwrap_or(&Value::Null)
            };
            self.summary(schema, None, 0);
            self.out.push_str("</span></td><td>");
            desc_of(&mut self.out, h);
            if !schema.is_null() {
                self.details(schema);
            }
            self.out.push_str("</td></tr>");
        }
        self.out.push_str("</tbody></table>");
    }
}
