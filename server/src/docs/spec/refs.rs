//! `$ref`s: JSON-pointer fragments (`#/a/b~1c`, percent-encoded or not), their
//! resolution within the document, and a walk over every `$ref` of a (sub)document.

use std::borrow::Cow;
use std::fmt::Write as _;

use app::model::urlencoded::percent_decode;
use serde_json::Value;

/// How deep the walk goes (the parsers stop at 128 levels already).
const MAX_WALK_DEPTH: usize = 256;

/// How many `$ref` hops are followed from one reference to its final target.
pub(super) const MAX_REF_HOPS: usize = 32;

/// The tokens of a fragment pointer (`#/a/b` -> ["a", "b"]; `#` -> []), or `None` when
/// `r` is not an internal JSON-pointer reference (external, or a `#name` anchor).
pub(super) fn pointer_tokens(r: &str) -> Option<Vec<Cow<'_, str>>> {
    let fragment = r.strip_prefix('#')?;
    if fragment.is_empty() {
        return Some(Vec::new());
    }
    let fragment = percent_decode(fragment);
    if !fragment.starts_with('/') {
        return None;
    }
    let tokens = match fragment {
        Cow::Borrowed(f) => f[1..].split('/').map(unescape_token).collect(),
        Cow::Owned(f) => f[1..]
            .split('/')
            .map(|t| Cow::Owned(unescape_token(t).into_owned()))
            .collect(),
    };
    Some(tokens)
}

/// `~1` -> `/`, `~0` -> `~` (in that order, as RFC 6901 says).
fn unescape_token(t: &str) -> Cow<'_, str> {
    if t.contains('~') {
        Cow::Owned(t.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(t)
    }
}

/// Escapes a token for a JSON pointer (`/` -> `~1`, `~` -> `~0`).
pub(super) fn push_token(out: &mut String, token: &str) {
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// The value at `tokens` under `root`.
pub(super) fn lookup<'a, S: AsRef<str>>(root: &'a Value, tokens: &[S]) -> Option<&'a Value> {
    let mut v = root;
    for t in tokens {
        let t = t.as_ref();
        v = match v {
            Value::Object(m) => m.get(t)?,
            Value::Array(a) => {
                if t.is_empty() || (t.len() > 1 && t.starts_with('0')) {
                    return None;
                }
                a.get(t.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(v)
}

/// The value an internal reference points at (one hop), if any.
pub(super) fn resolve<'a>(root: &'a Value, r: &str) -> Option<&'a Value> {
    lookup(root, &pointer_tokens(r)?)
}

/// The `$ref` string of `v`, when it is a reference object.
pub(super) fn ref_of(v: &Value) -> Option<&str> {
    v.as_object()?.get("$ref")?.as_str()
}

/// Follows `$ref`s from `v` to a value that is not a reference (at most
/// [`MAX_REF_HOPS`] hops). `None` when a reference is external, broken or circular.
pub(super) fn deref<'a>(root: &'a Value, mut v: &'a Value) -> Option<&'a Value> {
    for _ in 0..MAX_REF_HOPS {
        match ref_of(v) {
            Some(r) => v = resolve(root, r)?,
            None => return Some(v),
        }
    }
    None
}

/// A step on the way to a value, for pointers in messages.
#[derive(Clone, Copy)]
pub(super) enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// `#/a/b~1c` for the steps `path`.
pub(super) fn pointer_string(path: &[Seg<'_>]) -> String {
    let mut out = String::from("#");
    for s in path {
        match s {
            Seg::Key(k) => push_token(&mut out, k),
            Seg::Index(i) => {
                let _ = write!(out, "/{i}");
            }
        }
    }
    out
}

/// What the keys of an object are, for the walk.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// An ordinary object: `$ref` is a reference, and literal values (examples,
    /// defaults, enums, extensions) are skipped.
    Normal,
    /// A map from names to things (properties, paths, components, media types...):
    /// every key is a name, even `$ref` or `example`.
    Names,
}

/// Keys whose object value maps names to things.
fn is_name_map(key: &str, swagger: bool) -> bool {
    matches!(
        key,
        "properties"
            | "patternProperties"
            | "definitions"
            | "$defs"
            | "dependentSchemas"
            | "schemas"
            | "responses"
            | "parameters"
            | "headers"
            | "securitySchemes"
            | "securityDefinitions"
            | "links"
            | "callbacks"
            | "pathItems"
            | "requestBodies"
            | "content"
            | "paths"
            | "webhooks"
            | "encoding"
            | "variables"
    ) || (key == "examples" && !swagger)
}

/// Keys whose value is literal data, not spec structure.
fn is_literal(key: &str, value: &Value, swagger: bool) -> bool {
    matches!(key, "example" | "default" | "enum" | "const" | "value")
        || key.starts_with("x-")
        || (key == "examples" && (swagger || value.is_array()))
}

/// Calls `f(reference, path_of_the_object_holding_it)` for every `$ref` under `v`
/// (whose own path is `path`), in document order; also `anchor(name)` for every
/// `$anchor`. `v` is taken as an ordinary object (not a name map).
pub(super) fn walk_refs<'a>(
    v: &'a Value,
    swagger: bool,
    path: &mut Vec<Seg<'a>>,
    f: &mut dyn FnMut(&'a str, &[Seg<'a>]),
    anchor: &mut dyn FnMut(&'a str),
) {
    walk(v, Ctx::Normal, swagger, path, f, anchor);
}

fn walk<'a>(
    v: &'a Value,
    ctx: Ctx,
    swagger: bool,
    path: &mut Vec<Seg<'a>>,
    f: &mut dyn FnMut(&'a str, &[Seg<'a>]),
    anchor: &mut dyn FnMut(&'a str),
) {
    if path.len() > MAX_WALK_DEPTH {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let child_ctx = match ctx {
                    Ctx::Names => Ctx::Normal,
                    Ctx::Normal => {
                        if k == "$ref" {
                            if let Value::String(r) = child {
                                f(r, path);
                            }
                            continue;
                        }
                        if k == "$anchor" {
                            if let Value::String(a) = child {
                                anchor(a);
                            }
                            continue;
                        }
                        if is_literal(k, child, swagger) {
                            continue;
                        }
                        if child.is_object() && is_name_map(k, swagger) {
                            Ctx::Names
                        } else {
                            Ctx::Normal
                        }
                    }
                };
                if child.is_object() || child.is_array() {
                    path.push(Seg::Key(k));
                    walk(child, child_ctx, swagger, path, f, anchor);
                    path.pop();
                }
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                if child.is_object() || child.is_array() {
                    path.push(Seg::Index(i));
                    walk(child, Ctx::Normal, swagger, path, f, anchor);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_decode_escapes_and_percent_encoding() {
        let doc = json!({"paths": {"/pets": {"get": 1}}, "a~b": {"c d": [10, 20]}});
        assert_eq!(resolve(&doc, "#/paths/~1pets/get"), Some(&json!(1)));
        assert_eq!(resolve(&doc, "#/a~0b/c%20d/1"), Some(&json!(20)));
        assert_eq!(resolve(&doc, "#/a~0b/c%20d/01"), None);
        assert_eq!(resolve(&doc, "#/nothing"), None);
        assert_eq!(resolve(&doc, "#"), Some(&doc));
        assert_eq!(resolve(&doc, "#anchor"), None);
        assert_eq!(resolve(&doc, "other.yaml#/a"), None);
        assert_eq!(resolve(&doc, "#/a~0b/c%2"), None);
        // Lower-case escapes, as in the form fields: one decoder for both.
        let doc = json!({"café": {"a b": 1}});
        assert_eq!(resolve(&doc, "#/caf%c3%a9/a%20b"), Some(&json!(1)));
    }

    #[test]
    fn walk_skips_literals_and_reads_names() {
        let doc = json!({
            "properties": {"$ref": {"$ref": "#/one"}, "example": {"$ref": "#/two"}},
            "example": {"$ref": "#/not-a-ref"},
            "x-thing": {"$ref": "#/not-a-ref-either"},
            "items": [{"$ref": "#/three"}]
        });
        let mut found = Vec::new();
        walk_refs(
            &doc,
            false,
            &mut Vec::new(),
            &mut |r, p| found.push(format!("{r} {}", pointer_string(p))),
            &mut |_| {},
        );
        assert_eq!(
            found,
            [
                "#/three #/items/0",
                "#/one #/properties/$ref",
                "#/two #/properties/example"
            ]
        );
    }
}
