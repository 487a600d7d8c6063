//! The header and query string edits of `request-transformer` and
//! `response-transformer`, in Kong's order: remove, rename, replace, add, append.
//! Entries are `name` (remove) or `name:value` (split at the first `:`), compiled once.

use hyper::header::{HeaderMap, HeaderName, HeaderValue, HOST};

/// One list's entries, split.
pub(crate) fn pairs(field: &str, list: &[String]) -> Result<Vec<(String, String)>, String> {
    list.iter()
        .map(|e| {
            e.split_once(':')
                .map(|(n, v)| (n.trim().to_string(), v.to_string()))
                .filter(|(n, _)| !n.is_empty())
                .ok_or_else(|| format!("config.{field}: {e:?} is not name:value"))
        })
        .collect()
}

fn name(field: &str, n: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(n.trim().to_ascii_lowercase().as_bytes())
        .map_err(|_| format!("config.{field}: {n:?} is not a header name"))
}

fn header_pairs(field: &str, list: &[String]) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
    pairs(field, list)?
        .into_iter()
        .map(|(n, v)| {
            let v = HeaderValue::from_str(&v)
                .map_err(|_| format!("config.{field}: the value of {n:?} is not a header value"))?;
            Ok((name(field, &n)?, v))
        })
        .collect()
}

/// Header edits.
#[derive(Default)]
pub(crate) struct HeaderOps {
    remove: Vec<HeaderName>,
    rename: Vec<(HeaderName, HeaderName)>,
    replace: Vec<(HeaderName, HeaderValue)>,
    add: Vec<(HeaderName, HeaderValue)>,
    append: Vec<(HeaderName, HeaderValue)>,
    /// The request side leaves `Host` alone (Kong's request-transformer does too,
    /// except for `replace`, which Portico does not support for `Host`).
    request: bool,
}

/// The five lists of one part (headers or query string), as configured.
pub(crate) struct Lists<'a> {
    pub remove: &'a [String],
    pub rename: &'a [String],
    pub replace: &'a [String],
    pub add: &'a [String],
    pub append: &'a [String],
}

impl HeaderOps {
    pub(crate) fn compile(l: Lists<'_>, request: bool) -> Result<HeaderOps, String> {
        let ops = HeaderOps {
            remove: l
                .remove
                .iter()
                .map(|n| name("remove.headers", n))
                .collect::<Result<_, _>>()?,
            rename: pairs("rename.headers", l.rename)?
                .into_iter()
                .map(|(a, b)| Ok((name("rename.headers", &a)?, name("rename.headers", &b)?)))
                .collect::<Result<_, String>>()?,
            replace: header_pairs("replace.headers", l.replace)?,
            add: header_pairs("add.headers", l.add)?,
            append: header_pairs("append.headers", l.append)?,
            request,
        };
        Ok(ops)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remove.is_empty()
            && self.rename.is_empty()
            && self.replace.is_empty()
            && self.add.is_empty()
            && self.append.is_empty()
    }

    pub(crate) fn apply(&self, h: &mut HeaderMap) {
        let host = |n: &HeaderName| self.request && n == HOST;
        for n in &self.remove {
            if !host(n) {
                h.remove(n);
            }
        }
        for (old, new) in &self.rename {
            if old == new || host(old) || host(new) {
                continue;
            }
            let values: Vec<HeaderValue> = h.get_all(old).iter().cloned().collect();
            if values.is_empty() {
                continue;
            }
            h.remove(old);
            h.remove(new);
            for v in values {
                h.append(new.clone(), v);
            }
        }
        for (n, v) in &self.replace {
            if !host(n) && h.contains_key(n) {
                h.insert(n.clone(), v.clone());
            }
        }
        for (n, v) in &self.add {
            if !host(n) && !h.contains_key(n) {
                h.insert(n.clone(), v.clone());
            }
        }
        for (n, v) in &self.append {
            if !host(n) {
                h.append(n.clone(), v.clone());
            }
        }
    }
}

/// Query string edits.
#[derive(Default)]
pub(crate) struct QueryOps {
    remove: Vec<String>,
    rename: Vec<(String, String)>,
    replace: Vec<(String, String)>,
    add: Vec<(String, String)>,
    append: Vec<(String, String)>,
}

impl QueryOps {
    pub(crate) fn compile(l: Lists<'_>) -> Result<QueryOps, String> {
        Ok(QueryOps {
            remove: l.remove.to_vec(),
            rename: pairs("rename.querystring", l.rename)?,
            replace: pairs("replace.querystring", l.replace)?,
            add: pairs("add.querystring", l.add)?,
            append: pairs("append.querystring", l.append)?,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remove.is_empty()
            && self.rename.is_empty()
            && self.replace.is_empty()
            && self.add.is_empty()
            && self.append.is_empty()
    }

    /// The edited query string.
    pub(crate) fn apply(&self, query: Option<&str>) -> String {
        let mut args: Vec<(String, String)> = query
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let has = |args: &Vec<(String, String)>, n: &str| args.iter().any(|(k, _)| k == n);
        for n in &self.remove {
            args.retain(|(k, _)| k != n);
        }
        for (old, new) in &self.rename {
            if old != new && has(&args, old) {
                args.retain(|(k, _)| k != new);
                for (k, _) in args.iter_mut().filter(|(k, _)| k == old) {
                    k.clone_from(new);
                }
            }
        }
        for (n, v) in &self.replace {
            if has(&args, n) {
                args.retain(|(k, _)| k != n);
                args.push((n.clone(), v.clone()));
            }
        }
        for (n, v) in &self.add {
            if !has(&args, n) {
                args.push((n.clone(), v.clone()));
            }
        }
        for (n, v) in &self.append {
            args.push((n.clone(), v.clone()));
        }
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(args)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn header_ops_in_kongs_order() {
        let (remove, rename, replace, add, append) = (
            l(&["x-drop"]),
            l(&["x-old:x-new"]),
            l(&["x-rep:replaced", "x-absent:never"]),
            l(&["x-add:added", "x-kept:not-this"]),
            l(&["x-app:two"]),
        );
        let ops = HeaderOps::compile(
            Lists {
                remove: &remove,
                rename: &rename,
                replace: &replace,
                add: &add,
                append: &append,
            },
            true,
        )
        .unwrap();
        let mut h = HeaderMap::new();
        for (n, v) in [
            ("x-drop", "1"),
            ("x-old", "o"),
            ("x-rep", "r"),
            ("x-kept", "k"),
            ("x-app", "one"),
        ] {
            h.insert(HeaderName::from_static(n), HeaderValue::from_static(v));
        }
        ops.apply(&mut h);
        let get = |n: &str| {
            h.get_all(n)
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert!(get("x-drop").is_empty());
        assert!(get("x-old").is_empty());
        assert_eq!(get("x-new"), ["o"]);
        assert_eq!(get("x-rep"), ["replaced"]);
        assert!(get("x-absent").is_empty(), "replace only replaces");
        assert_eq!(get("x-add"), ["added"]);
        assert_eq!(get("x-kept"), ["k"], "add does not overwrite");
        assert_eq!(get("x-app"), ["one", "two"]);
    }

    #[test]
    fn query_ops_in_kongs_order() {
        let (remove, rename, replace, add, append) = (
            l(&["drop"]),
            l(&["old:new"]),
            l(&["rep:R"]),
            l(&["add:A", "keep:no"]),
            l(&["app:2"]),
        );
        let ops = QueryOps::compile(Lists {
            remove: &remove,
            rename: &rename,
            replace: &replace,
            add: &add,
            append: &append,
        })
        .unwrap();
        let q = ops.apply(Some("drop=1&old=o&rep=r&keep=k&app=1"));
        assert_eq!(q, "new=o&keep=k&app=1&rep=R&add=A&app=2");
        assert!(pairs("add.querystring", &l(&["novalue"])).is_err());
    }
}
