//! Type checker: resolves field names against Kong's schema and enforces the
//! operator typing rules (the same rules, in the same order, as Kong's
//! `atc-router` `semantics.rs`).
//!
//! | field | type |
//! |---|---|
//! | `http.method`, `http.host`, `http.path`, `http.path.segments.N`, `http.path.segments.N_M`, `http.headers.*`, `http.queries.*`, `net.protocol`, `tls.sni` | String |
//! | `http.path.segments.len`, `net.src.port`, `net.dst.port` | Int |
//! | `net.src.ip`, `net.dst.ip` | IpAddr |
//!
//! Rules: left and right types must be equal (except `~`, `in`, `not in`);
//! `lower()` only on String fields; `~` only on String fields with a valid
//! regex; `^=`, `=^`, `contains` take strings; `>`, `>=`, `<`, `<=` take
//! integers; `in` / `not in` take an IpAddr field and a CIDR literal.

use super::ast::{Expr, Field, Literal, Op, Predicate, RawPredicate, Transform, Type, Value};
use super::ExprError;

/// Resolve a field name (`None` if unknown).
pub fn resolve_field(name: &str) -> Result<Field, String> {
    let f = match name {
        "http.method" => Field::Method,
        "http.host" => Field::Host,
        "http.path" => Field::Path,
        "http.path.segments.len" => Field::SegmentsLen,
        "net.protocol" => Field::Protocol,
        "net.src.ip" => Field::SrcIp,
        "net.src.port" => Field::SrcPort,
        "net.dst.ip" => Field::DstIp,
        "net.dst.port" => Field::DstPort,
        "tls.sni" => Field::Sni,
        _ => {
            if let Some(rest) = name.strip_prefix("http.headers.") {
                if !rest.contains('.') {
                    return Ok(Field::Header(rest.to_string()));
                }
            } else if let Some(rest) = name.strip_prefix("http.queries.") {
                if !rest.contains('.') {
                    return Ok(Field::Query(rest.to_string()));
                }
            } else if let Some(rest) = name.strip_prefix("http.path.segments.") {
                return segment_field(rest).ok_or_else(|| {
                    format!(
                        "invalid path segment field `{name}` (expected http.path.segments.N, http.path.segments.N_M with N <= M, or http.path.segments.len)"
                    )
                });
            }
            return Err(format!("unknown field `{name}`"));
        }
    };
    Ok(f)
}

fn segment_field(rest: &str) -> Option<Field> {
    let num = |s: &str| -> Option<usize> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    match rest.split_once('_') {
        None => num(rest).map(Field::Segment),
        Some((a, b)) => {
            let (a, b) = (num(a)?, num(b)?);
            (a <= b).then_some(Field::SegmentRange(a, b))
        }
    }
}

/// Type check a parsed expression.
pub fn check(raw: Expr<RawPredicate>) -> Result<Expr<Predicate>, ExprError> {
    Ok(match raw {
        Expr::And(v) => Expr::And(v.into_iter().map(check).collect::<Result<_, _>>()?),
        Expr::Or(v) => Expr::Or(v.into_iter().map(check).collect::<Result<_, _>>()?),
        Expr::Not(e) => Expr::Not(Box::new(check(*e)?)),
        Expr::Pred(p) => Expr::Pred(Box::new(check_predicate(*p)?)),
    })
}

fn check_predicate(p: RawPredicate) -> Result<Predicate, ExprError> {
    let at = p.position;
    let err = |m: String| ExprError::new(at, m);
    // Regex operands are checked (compiled) first, as Kong does at parse time.
    if p.op == Op::Regex && !matches!(p.rhs, Literal::Str(_)) {
        return Err(ExprError::new(
            p.rhs_position,
            "regex operator `~` can only be used with String operands".to_string(),
        ));
    }
    let field = resolve_field(&p.field).map_err(err)?;
    let lhs_ty = field.ty();
    let rhs_ty = p.rhs.ty();
    if !matches!(p.op, Op::Regex | Op::In | Op::NotIn) && lhs_ty != rhs_ty {
        return Err(err(format!(
            "type mismatch: field `{}` is {lhs_ty} but the value is {rhs_ty}",
            p.field
        )));
    }
    let lower = p.transforms.contains(&Transform::Lower);
    let any = p.transforms.contains(&Transform::Any);
    if lower && lhs_ty != Type::String {
        return Err(err(format!(
            "lower() is only supported on String fields, `{}` is {lhs_ty}",
            p.field
        )));
    }
    let rhs = match (p.op, p.rhs) {
        (Op::Equals | Op::NotEquals, lit) => literal_value(lit),
        (Op::Regex, Literal::Str(s)) => {
            if lhs_ty != Type::String {
                return Err(err(format!(
                    "regex operator `~` only supports String fields, `{}` is {lhs_ty}",
                    p.field
                )));
            }
            let re = crate::lazy_regex::LazyRegex::new(&s, false).map_err(|e| {
                let e = e.split_whitespace().collect::<Vec<_>>().join(" ");
                ExprError::new(p.rhs_position, format!("invalid regex: {e}"))
            })?;
            Value::Regex(re)
        }
        (Op::Prefix | Op::Postfix | Op::Contains, Literal::Str(s)) => Value::Str(s),
        (Op::Greater | Op::GreaterOrEqual | Op::Less | Op::LessOrEqual, Literal::Int(i)) => {
            Value::Int(i)
        }
        (Op::In | Op::NotIn, Literal::Cidr(c)) if lhs_ty == Type::IpAddr => Value::Cidr(c),
        (op, _) => {
            let need = match op {
                Op::Prefix | Op::Postfix | Op::Contains => "String operands",
                Op::Greater | Op::GreaterOrEqual | Op::Less | Op::LessOrEqual => "integer operands",
                _ => "an IpAddr field and a CIDR value",
            };
            return Err(err(format!("operator `{op}` only supports {need}")));
        }
    };
    Ok(Predicate {
        field,
        lower,
        any,
        op: p.op,
        rhs,
    })
}

fn literal_value(l: Literal) -> Value {
    match l {
        Literal::Str(s) => Value::Str(s),
        Literal::Int(i) => Value::Int(i),
        Literal::Ip(a) => Value::Ip(a),
        Literal::Cidr(c) => Value::Cidr(c),
    }
}
