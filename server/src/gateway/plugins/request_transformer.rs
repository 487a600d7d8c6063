//! `request-transformer` (priority 801), as Kong 3.x's
//! `kong/plugins/request-transformer/access.lua`: `http_method`, then the headers
//! and the query string edited in Kong's order (remove, rename, replace, add, append;
//! `Host` is left alone), and `replace.uri` as the upstream path (the query kept).
//!
//! Not supported (refused when configured, so nothing is silently ignored): body
//! edits (`*.body`) and templates (`$(…)` values).

use hyper::Method;
use portico_plugins::config;

use hyper::header::{HeaderValue, CONTENT_TYPE};

use super::fields::{BodyType, Fields};
use super::transform::{pairs, HeaderOps, Lists, QueryOps};
use super::{Access, Answer};

/// Body edits.
#[derive(Default)]
struct BodyOps {
    remove: Vec<String>,
    rename: Vec<(String, String)>,
    replace: Vec<(String, String)>,
    add: Vec<(String, String)>,
    append: Vec<(String, String)>,
}

impl BodyOps {
    fn is_empty(&self) -> bool {
        self.remove.is_empty()
            && self.rename.is_empty()
            && self.replace.is_empty()
            && self.add.is_empty()
            && self.append.is_empty()
    }

    /// Kong's `transform_json_body` / `transform_url_encoded_body`; whether anything
    /// changed.
    fn apply(&self, f: &mut Fields, had_body: bool) -> bool {
        use serde_json::Value;
        let mut changed = false;
        match f {
            Fields::Json(m) => {
                if had_body {
                    for n in &self.remove {
                        changed |= m.remove(n).is_some();
                    }
                    for (old, new) in &self.rename {
                        if old != new {
                            if let Some(v) = m.remove(old) {
                                m.insert(new.clone(), v);
                                changed = true;
                            }
                        }
                    }
                    for (n, v) in &self.replace {
                        if let Some(slot) = m.get_mut(n) {
                            *slot = Value::String(v.clone());
                            changed = true;
                        }
                    }
                }
                for (n, v) in &self.add {
                    if !m.contains_key(n) {
                        m.insert(n.clone(), Value::String(v.clone()));
                        changed = true;
                    }
                }
                for (n, v) in &self.append {
                    let new = Value::String(v.clone());
                    match m.get_mut(n) {
                        None => {
                            m.insert(n.clone(), new);
                        }
                        Some(Value::Array(a)) => a.push(new),
                        Some(old) => *old = Value::Array(vec![old.take(), new]),
                    }
                    changed = true;
                }
            }
            Fields::Form(p) => {
                let has = |p: &Vec<(String, String)>, n: &str| p.iter().any(|(k, _)| k == n);
                if had_body {
                    for n in &self.remove {
                        let before = p.len();
                        p.retain(|(k, _)| k != n);
                        changed |= p.len() != before;
                    }
                    for (old, new) in &self.rename {
                        if old != new && has(p, old) {
                            p.retain(|(k, _)| k != new);
                            for (k, _) in p.iter_mut().filter(|(k, _)| k == old) {
                                k.clone_from(new);
                            }
                            changed = true;
                        }
                    }
                    for (n, v) in &self.replace {
                        if has(p, n) {
                            p.retain(|(k, _)| k != n);
                            p.push((n.clone(), v.clone()));
                            changed = true;
                        }
                    }
                }
                for (n, v) in &self.add {
                    if !has(p, n) {
                        p.push((n.clone(), v.clone()));
                        changed = true;
                    }
                }
                for (n, v) in &self.append {
                    p.push((n.clone(), v.clone()));
                    changed = true;
                }
            }
        }
        changed
    }
}

pub(crate) struct RequestTransformer {
    method: Option<Method>,
    headers: HeaderOps,
    query: QueryOps,
    uri: Option<String>,
    body: BodyOps,
}

impl RequestTransformer {
    pub(crate) fn compile(c: config::RequestTransformer) -> Result<RequestTransformer, String> {
        let all = [
            &c.remove.headers,
            &c.rename.headers,
            &c.replace.headers,
            &c.add.headers,
            &c.append.headers,
            &c.remove.querystring,
            &c.rename.querystring,
            &c.replace.querystring,
            &c.add.querystring,
            &c.append.querystring,
            &c.remove.body,
            &c.rename.body,
            &c.replace.body,
            &c.add.body,
            &c.append.body,
        ];
        if all.iter().any(|l| l.iter().any(|e| e.contains("$("))) {
            return Err("config: templates ($(…)) are not supported by Portico yet".into());
        }
        let method = match &c.http_method {
            Some(m) => Some(
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .map_err(|_| format!("config.http_method: {m:?} is not a method"))?,
            ),
            None => None,
        };
        let uri = match &c.replace.uri {
            Some(u) if !u.starts_with('/') || u.contains(['?', '#', ' ']) => {
                return Err(format!(
                    "config.replace.uri: {u:?} must be a path starting with /"
                ))
            }
            u => u.clone(),
        };
        Ok(RequestTransformer {
            method,
            headers: HeaderOps::compile(
                Lists {
                    remove: &c.remove.headers,
                    rename: &c.rename.headers,
                    replace: &c.replace.headers,
                    add: &c.add.headers,
                    append: &c.append.headers,
                },
                true,
            )?,
            query: QueryOps::compile(Lists {
                remove: &c.remove.querystring,
                rename: &c.rename.querystring,
                replace: &c.replace.querystring,
                add: &c.add.querystring,
                append: &c.append.querystring,
            })?,
            uri,
            body: BodyOps {
                remove: c.remove.body.clone(),
                rename: pairs("rename.body", &c.rename.body)?,
                replace: pairs("replace.body", &c.replace.body)?,
                add: pairs("add.body", &c.add.body)?,
                append: pairs("append.body", &c.append.body)?,
            },
        })
    }

    pub(crate) async fn access(&self, cx: &mut Access<'_>) -> Result<(), Answer> {
        if let Some(m) = &self.method {
            cx.parts.method = m.clone();
        }
        if !self.headers.is_empty() {
            self.headers.apply(&mut cx.parts.headers);
        }
        if !self.query.is_empty() {
            let q = self.query.apply(cx.query());
            cx.set_query(Some(&q));
        }
        if let Some(u) = &self.uri {
            let query = cx.query().map(str::to_string);
            cx.path_and_query.clear();
            cx.path_and_query.push_str(u);
            cx.set_query(query.as_deref());
        }
        if !self.body.is_empty() {
            self.body(cx).await?;
        }
        Ok(())
    }

    async fn body(&self, cx: &mut Access<'_>) -> Result<(), Answer> {
        let had_body = cx.body_len != Some(0);
        let mut fields = match cx.body_type() {
            BodyType::None if !had_body && !self.body.add.is_empty() => {
                cx.parts.headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
                Fields::Form(Vec::new())
            }
            BodyType::Json if !had_body => Fields::Json(Default::default()),
            BodyType::Form if !had_body => Fields::Form(Vec::new()),
            BodyType::Json | BodyType::Form => match cx.fields().await? {
                Some(f) => f,
                None => return Ok(()),
            },
            _ => return Ok(()),
        };
        if self.body.apply(&mut fields, had_body) {
            cx.set_fields(&fields);
        }
        Ok(())
    }
}
