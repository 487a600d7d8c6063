//! `response-transformer` (priority 800), as Kong 3.x's
//! `kong/plugins/response-transformer/header_transformer.lua`: the response headers
//! edited in Kong's order (remove, rename, replace, add, append; `append` always adds
//! a value), on the upstream's responses and the plugins' own answers.
//!
//! Not supported (refused when configured): JSON body edits (`*.json`), which would
//! need the whole response body in memory.

use hyper::header::HeaderMap;
use portico_plugins::config;

use super::transform::{HeaderOps, Lists};

pub(crate) struct ResponseTransformer {
    headers: HeaderOps,
}

impl ResponseTransformer {
    pub(crate) fn compile(c: config::ResponseTransformer) -> Result<ResponseTransformer, String> {
        let json = [
            ("remove", &c.remove.json),
            ("rename", &c.rename.json),
            ("replace", &c.replace.json),
            ("add", &c.add.json),
            ("append", &c.append.json),
        ];
        if let Some((op, _)) = json.iter().find(|(_, j)| !j.is_empty()) {
            return Err(format!(
                "config.{op}.json: JSON body edits are not supported by Portico yet"
            ));
        }
        Ok(ResponseTransformer {
            headers: HeaderOps::compile(
                Lists {
                    remove: &c.remove.headers,
                    rename: &c.rename.headers,
                    replace: &c.replace.headers,
                    add: &c.add.headers,
                    append: &c.append.headers,
                },
                false,
            )?,
        })
    }

    pub(crate) fn response(&self, h: &mut HeaderMap) {
        self.headers.apply(h);
    }
}
