//! Abstract syntax tree of Kong's expressions language.

use std::fmt;
use std::net::IpAddr;

/// A boolean expression over predicates of type `P`.
///
/// `&&` and `||` chains are stored n-ary (they are associative and evaluated
/// left to right with short-circuit), which keeps trees shallow.
#[derive(Debug, Clone)]
pub enum Expr<P> {
    /// All operands must be true.
    And(Vec<Expr<P>>),
    /// At least one operand must be true.
    Or(Vec<Expr<P>>),
    /// `!( … )`
    Not(Box<Expr<P>>),
    /// A single predicate `lhs op rhs`.
    Pred(Box<P>),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `==`
    Equals,
    /// `!=`
    NotEquals,
    /// `~` (unanchored regex match)
    Regex,
    /// `^=` (starts with)
    Prefix,
    /// `=^` (ends with)
    Postfix,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `in` (IP in CIDR)
    In,
    /// `not in` (IP not in CIDR)
    NotIn,
    /// `contains` (substring)
    Contains,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Op::Equals => "==",
            Op::NotEquals => "!=",
            Op::Regex => "~",
            Op::Prefix => "^=",
            Op::Postfix => "=^",
            Op::Greater => ">",
            Op::GreaterOrEqual => ">=",
            Op::Less => "<",
            Op::LessOrEqual => "<=",
            Op::In => "in",
            Op::NotIn => "not in",
            Op::Contains => "contains",
        };
        f.write_str(s)
    }
}

/// Transformation functions applied to the left-hand side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transform {
    /// `lower(x)`: lower-case a string field.
    Lower,
    /// `any(x)`: a multi-valued field matches if any value matches.
    Any,
}

/// An IPv4 or IPv6 network (address with zero host bits + prefix length).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    /// Network address.
    pub addr: IpAddr,
    /// Prefix length in bits.
    pub prefix: u8,
}

impl Cidr {
    /// Whether `ip` lies within this network (never across address families).
    pub fn contains(&self, ip: &IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(self.prefix.min(32)))
                };
                (u32::from(n) & mask) == (u32::from(*a) & mask)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(self.prefix.min(128)))
                };
                (u128::from(n) & mask) == (u128::from(*a) & mask)
            }
            _ => false,
        }
    }
}

/// A literal as written on the right-hand side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// `"…"` or `r#"…"#`
    Str(String),
    /// decimal, `0x` hex or `0` octal, optionally negative
    Int(i64),
    /// IPv4 / IPv6 address
    Ip(IpAddr),
    /// IPv4 / IPv6 CIDR
    Cidr(Cidr),
}

/// A predicate as parsed, before type checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPredicate {
    /// Field name as written (`http.path`).
    pub field: String,
    /// Transformations, innermost first.
    pub transforms: Vec<Transform>,
    /// Operator.
    pub op: Op,
    /// Right-hand side literal.
    pub rhs: Literal,
    /// Byte offset of the predicate in the source.
    pub position: usize,
    /// Byte offset of the right-hand side in the source.
    pub rhs_position: usize,
}

/// Value types of fields and literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    /// string
    String,
    /// 64-bit signed integer
    Int,
    /// IP address
    IpAddr,
    /// IP network
    IpCidr,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::String => "String",
            Type::Int => "Int",
            Type::IpAddr => "IpAddr",
            Type::IpCidr => "IpCidr",
        })
    }
}

impl Literal {
    /// The literal's type.
    pub fn ty(&self) -> Type {
        match self {
            Literal::Str(_) => Type::String,
            Literal::Int(_) => Type::Int,
            Literal::Ip(_) => Type::IpAddr,
            Literal::Cidr(_) => Type::IpCidr,
        }
    }
}

/// A resolved field of the request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// `http.method`
    Method,
    /// `http.host` (lower-case, without port)
    Host,
    /// `http.path` (normalized, no query)
    Path,
    /// `http.path.segments.N`
    Segment(usize),
    /// `http.path.segments.N_M` (segments N..=M joined by `/`)
    SegmentRange(usize, usize),
    /// `http.path.segments.len`
    SegmentsLen,
    /// `http.headers.NAME` (NAME lower-case with `-` written `_`)
    Header(String),
    /// `http.queries.NAME`
    Query(String),
    /// `net.protocol`
    Protocol,
    /// `net.src.ip`
    SrcIp,
    /// `net.src.port`
    SrcPort,
    /// `net.dst.ip`
    DstIp,
    /// `net.dst.port`
    DstPort,
    /// `tls.sni`
    Sni,
}

impl Field {
    /// The field's value type.
    pub fn ty(&self) -> Type {
        match self {
            Field::SegmentsLen | Field::SrcPort | Field::DstPort => Type::Int,
            Field::SrcIp | Field::DstIp => Type::IpAddr,
            _ => Type::String,
        }
    }
}

/// A checked right-hand side value.
#[derive(Debug, Clone)]
pub enum Value {
    /// string
    Str(String),
    /// regex (for `~`), compiled on first use
    Regex(crate::lazy_regex::LazyRegex),
    /// integer
    Int(i64),
    /// IP address
    Ip(IpAddr),
    /// CIDR
    Cidr(Cidr),
}

/// A type-checked predicate ready for evaluation.
#[derive(Debug, Clone)]
pub struct Predicate {
    /// Field.
    pub field: Field,
    /// `lower()` applied.
    pub lower: bool,
    /// `any()` applied.
    pub any: bool,
    /// Operator.
    pub op: Op,
    /// Right-hand side.
    pub rhs: Value,
}
