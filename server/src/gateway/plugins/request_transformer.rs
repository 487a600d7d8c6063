//! `request-transformer` (priority 801), as Kong 3.x's
//! `kong/plugins/request-transformer/access.lua`: `http_method`, then the headers
//! and the query string edited in Kong's order (remove, rename, replace, add, append;
//! `Host` is left alone), and `replace.uri` as the upstream path (the query kept).
//!
//! Not supported (refused when configured, so nothing is silently ignored): body
//! edits (`*.body`) and templates (`$(…)` values).

use hyper::Method;
use portico_plugins::config;

use super::transform::{HeaderOps, Lists, QueryOps};
use super::{Access, Answer};

pub(crate) struct RequestTransformer {
    method: Option<Method>,
    headers: HeaderOps,
    query: QueryOps,
    uri: Option<String>,
}

impl RequestTransformer {
    pub(crate) fn compile(c: config::RequestTransformer) -> Result<RequestTransformer, String> {
        let bodies = [
            ("remove", &c.remove.body),
            ("rename", &c.rename.body),
            ("replace", &c.replace.body),
            ("add", &c.add.body),
            ("append", &c.append.body),
        ];
        if let Some((op, _)) = bodies.iter().find(|(_, b)| !b.is_empty()) {
            return Err(format!(
                "config.{op}.body: body edits are not supported by Portico yet"
            ));
        }
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
        })
    }

    pub(crate) fn access(&self, cx: &mut Access<'_>) -> Result<(), Answer> {
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
        Ok(())
    }
}
