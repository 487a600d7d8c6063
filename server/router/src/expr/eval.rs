//! Evaluator, with Kong's `atc-router` semantics:
//!
//! * a predicate on a missing field is false;
//! * a multi-valued field (headers, query args) matches only if *every*
//!   value matches (and there is at least one), unless wrapped in `any()`,
//!   which needs one matching value;
//! * `~` is an unanchored regex search; `lower()` lower-cases (Unicode) first;
//! * `&&` / `||` short-circuit left to right.

use super::ast::{Expr, Field, Op, Predicate, Value};
use crate::captures::Captures;
use crate::context::RequestContext;
use crate::lazy_regex::LazyRegex;
use crate::normalize::decode_query_component;
use std::borrow::Cow;
use std::net::IpAddr;

/// What a successful evaluation matched (for the winning route only).
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    /// Captures of every regex predicate that matched (later ones overwrite).
    pub captures: Captures,
    /// End offset of the `http.path` match (`==` / `^=` value length, or the
    /// end of the `~` match), used for `strip_path`.
    pub path_match_end: Option<usize>,
}

trait Sink {
    const ACTIVE: bool;
    fn regex(&mut self, re: &LazyRegex, hay: &str, is_path: bool) -> bool;
    fn path_len(&mut self, len: usize);
}

struct NoSink;

impl Sink for NoSink {
    const ACTIVE: bool = false;
    #[inline]
    fn regex(&mut self, re: &LazyRegex, hay: &str, _: bool) -> bool {
        re.is_match(hay)
    }
    #[inline]
    fn path_len(&mut self, _: usize) {}
}

impl Sink for Recorder {
    const ACTIVE: bool = true;
    fn regex(&mut self, re: &LazyRegex, hay: &str, is_path: bool) -> bool {
        match re.captures_into(hay, &mut self.captures) {
            Some((_, end)) => {
                if is_path {
                    self.path_match_end = Some(end);
                }
                true
            }
            None => false,
        }
    }
    fn path_len(&mut self, len: usize) {
        self.path_match_end = Some(len);
    }
}

/// Compile the expression's regexes now instead of on first use.
pub fn precompile(e: &Expr<Predicate>) {
    match e {
        Expr::And(v) | Expr::Or(v) => v.iter().for_each(precompile),
        Expr::Not(e) => precompile(e),
        Expr::Pred(p) => {
            if let Value::Regex(re) = &p.rhs {
                let _ = re.get();
            }
        }
    }
}

/// Evaluate an expression against a request.
pub fn eval(e: &Expr<Predicate>, ctx: &RequestContext<'_>) -> bool {
    eval_in(e, ctx, &mut NoSink)
}

/// Evaluate and record captures / the matched path (same result as [`eval`]).
pub fn eval_recording(e: &Expr<Predicate>, ctx: &RequestContext<'_>, rec: &mut Recorder) -> bool {
    eval_in(e, ctx, rec)
}

fn eval_in<S: Sink>(e: &Expr<Predicate>, ctx: &RequestContext<'_>, s: &mut S) -> bool {
    match e {
        Expr::And(v) => v.iter().all(|e| eval_in(e, ctx, s)),
        Expr::Or(v) => v.iter().any(|e| eval_in(e, ctx, s)),
        Expr::Not(e) => !eval_in(e, ctx, s),
        Expr::Pred(p) => eval_pred(p, ctx, s),
    }
}

enum Single<'c> {
    S(&'c str),
    I(i64),
    Ip(IpAddr),
}

/// Path segments per Kong: leading `/` and one trailing `/` removed, then
/// split on `/` ("/" has zero segments).
fn segments_str(path: &str) -> &str {
    let p = path.strip_prefix('/').unwrap_or(path);
    p.strip_suffix('/').unwrap_or(p)
}

fn segment_range(path: &str, from: usize, to: usize) -> Option<&str> {
    let s = segments_str(path);
    if s.is_empty() {
        return None;
    }
    let mut start = None;
    let mut seg_start = 0;
    for (idx, seg) in s.split('/').enumerate() {
        if idx == from {
            start = Some(seg_start);
        }
        if idx == to {
            let st = start?;
            return s.get(st..seg_start + seg.len());
        }
        seg_start += seg.len() + 1;
    }
    None
}

fn segments_len(path: &str) -> i64 {
    let s = segments_str(path);
    if s.is_empty() {
        0
    } else {
        // bounded by the path length, so the cast cannot truncate in practice
        i64::try_from(s.split('/').count()).unwrap_or(i64::MAX)
    }
}

fn single<'c>(f: &Field, ctx: &'c RequestContext<'_>) -> Option<Single<'c>> {
    Some(match f {
        Field::Method => Single::S(ctx.method),
        Field::Host => Single::S(&ctx.host),
        Field::Path => Single::S(&ctx.path),
        Field::Segment(n) => Single::S(segment_range(&ctx.path, *n, *n)?),
        Field::SegmentRange(a, b) => Single::S(segment_range(&ctx.path, *a, *b)?),
        Field::SegmentsLen => Single::I(segments_len(&ctx.path)),
        Field::Protocol => Single::S(ctx.protocol.as_str()),
        Field::SrcIp => Single::Ip(ctx.src_ip?),
        Field::DstIp => Single::Ip(ctx.dst_ip?),
        Field::SrcPort => Single::I(i64::from(ctx.src_port?)),
        Field::DstPort => Single::I(i64::from(ctx.dst_port?)),
        Field::Sni => Single::S(ctx.sni?),
        Field::Header(_) | Field::Query(_) => return None,
    })
}

fn eval_pred<S: Sink>(p: &Predicate, ctx: &RequestContext<'_>, s: &mut S) -> bool {
    match &p.field {
        Field::Header(name) => multi(p, ctx.header_values(name).map(Cow::Borrowed), s),
        Field::Query(name) => {
            let q = ctx.query.unwrap_or("");
            let it = q.split('&').filter(|kv| !kv.is_empty()).filter_map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (decode_query_component(k) == name.as_str()).then(|| decode_query_component(v))
            });
            multi(p, it, s)
        }
        f => match single(f, ctx) {
            None => false,
            Some(Single::S(v)) => test_str(p, v, matches!(f, Field::Path), s),
            Some(Single::I(v)) => test_int(p, v),
            Some(Single::Ip(v)) => test_ip(p, &v),
        },
    }
}

fn multi<'v, S: Sink>(
    p: &Predicate,
    values: impl Iterator<Item = Cow<'v, str>>,
    s: &mut S,
) -> bool {
    let mut seen = false;
    for v in values {
        seen = true;
        let ok = test_str(p, &v, false, s);
        if p.any {
            if ok {
                return true;
            }
        } else if !ok {
            return false;
        }
    }
    !p.any && seen
}

fn test_str<S: Sink>(p: &Predicate, v: &str, is_path: bool, s: &mut S) -> bool {
    let lowered;
    let v = if p.lower && !v.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        lowered = v.to_lowercase();
        lowered.as_str()
    } else {
        v
    };
    match (p.op, &p.rhs) {
        (Op::Equals, Value::Str(r)) => {
            let ok = v == r;
            if ok && is_path && S::ACTIVE {
                s.path_len(r.len());
            }
            ok
        }
        (Op::NotEquals, Value::Str(r)) => v != r,
        (Op::Regex, Value::Regex(re)) => s.regex(re, v, is_path),
        (Op::Prefix, Value::Str(r)) => {
            let ok = v.starts_with(r.as_str());
            if ok && is_path && S::ACTIVE {
                s.path_len(r.len());
            }
            ok
        }
        (Op::Postfix, Value::Str(r)) => v.ends_with(r.as_str()),
        (Op::Contains, Value::Str(r)) => v.contains(r.as_str()),
        _ => false,
    }
}

fn test_int(p: &Predicate, v: i64) -> bool {
    let Value::Int(r) = p.rhs else { return false };
    match p.op {
        Op::Equals => v == r,
        Op::NotEquals => v != r,
        Op::Greater => v > r,
        Op::GreaterOrEqual => v >= r,
        Op::Less => v < r,
        Op::LessOrEqual => v <= r,
        _ => false,
    }
}

fn test_ip(p: &Predicate, v: &IpAddr) -> bool {
    match (p.op, &p.rhs) {
        (Op::Equals, Value::Ip(r)) => v == r,
        (Op::NotEquals, Value::Ip(r)) => v != r,
        (Op::In, Value::Cidr(c)) => c.contains(v),
        (Op::NotIn, Value::Cidr(c)) => !c.contains(v),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        assert_eq!(segment_range("/a/b/c/", 0, 0), Some("a"));
        assert_eq!(segment_range("/a/b/c/", 1, 2), Some("b/c"));
        assert_eq!(segment_range("/a/b/c/", 2, 3), None);
        assert_eq!(segment_range("/", 0, 0), None);
        assert_eq!(segments_len("/"), 0);
        assert_eq!(segments_len("/a/b/"), 2);
        assert_eq!(segments_len("/a//"), 2);
    }
}
