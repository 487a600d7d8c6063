//! Scanner for the expressions language.
//!
//! The language's tokens are context dependent (`in` is an operator after a
//! field but an identifier elsewhere, `ab::1` is an IPv6 literal on the
//! right-hand side), so the scanner offers one method per token class and the
//! parser asks for the class it expects, mirroring Kong's PEG grammar
//! (`atc_grammar.pest`). No method panics on any input.

use super::ast::{Cidr, Literal, Op};
use super::ExprError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Cursor over the source text (byte positions).
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn count_while(b: &[u8], max: usize, f: impl Fn(u8) -> bool) -> usize {
    b.iter().take(max).take_while(|&&c| f(c)).count()
}

/// `ASCII_DIGIT{1,3} ~ ("." ~ ASCII_DIGIT{1,3}){3}` → length
fn match_ipv4(b: &[u8]) -> Option<usize> {
    let mut i = count_while(b, 3, |c| c.is_ascii_digit());
    if i == 0 {
        return None;
    }
    for _ in 0..3 {
        if b.get(i) != Some(&b'.') {
            return None;
        }
        i += 1;
        let n = count_while(&b[i..], 3, |c| c.is_ascii_digit());
        if n == 0 {
            return None;
        }
        i += n;
    }
    Some(i)
}

/// `(":" | HEX{1,4}) ~ ":" ~ (HEX{1,4} | ":")*` → length
fn match_ipv6(b: &[u8]) -> Option<usize> {
    let mut i = if b.first() == Some(&b':') {
        1
    } else {
        let n = count_while(b, 4, |c| c.is_ascii_hexdigit());
        if n == 0 {
            return None;
        }
        n
    };
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    loop {
        let n = count_while(&b[i..], 4, |c| c.is_ascii_hexdigit());
        if n > 0 {
            i += n;
        } else if b.get(i) == Some(&b':') {
            i += 1;
        } else {
            break;
        }
    }
    Some(i)
}

/// `"/" ~ ASCII_DIGIT{1,max}` → length
fn match_prefix_len(b: &[u8], max: usize) -> Option<usize> {
    if b.first() != Some(&b'/') {
        return None;
    }
    let n = count_while(&b[1..], max, |c| c.is_ascii_digit());
    if n == 0 {
        None
    } else {
        Some(1 + n)
    }
}

fn cidr_from(addr: IpAddr, prefix_text: &str, pos: usize) -> Result<Cidr, ExprError> {
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix: u8 = prefix_text
        .parse()
        .ok()
        .filter(|p| *p <= max)
        .ok_or_else(|| {
            ExprError::new(pos, format!("invalid CIDR prefix length `{prefix_text}`"))
        })?;
    let cidr = Cidr { addr, prefix };
    // The network address must have no host bits set (as Kong's `cidr` crate).
    let host_bits_zero = match addr {
        IpAddr::V4(a) => {
            let host_mask = u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
            u32::from(a) & host_mask == 0
        }
        IpAddr::V6(a) => {
            let host_mask = u128::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
            u128::from(a) & host_mask == 0
        }
    };
    if !host_bits_zero {
        return Err(ExprError::new(pos, "CIDR has host bits set".to_string()));
    }
    Ok(cidr)
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    fn rest(&self) -> &'a [u8] {
        self.src.as_bytes().get(self.pos..).unwrap_or(&[])
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.rest().first().copied()
    }

    /// Skip `" " | "\t" | "\r" | "\n"`.
    pub(crate) fn skip_ws(&mut self) {
        let n = self
            .rest()
            .iter()
            .take_while(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        self.pos += n;
    }

    /// Consume `s` if the input continues with it.
    pub(crate) fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s.as_bytes()) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// `ASCII_ALPHA ~ (ASCII_ALPHANUMERIC | "_" | ".")*`
    pub(crate) fn ident(&mut self) -> Option<&'a str> {
        let b = self.rest();
        if !b.first().is_some_and(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        let n = 1 + b[1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'.')
            .count();
        let start = self.pos;
        self.pos += n;
        self.src.get(start..start + n)
    }

    /// A binary operator (after optional whitespace).
    pub(crate) fn binary_op(&mut self) -> Option<Op> {
        self.skip_ws();
        const OPS: [(&str, Op); 10] = [
            ("==", Op::Equals),
            ("!=", Op::NotEquals),
            ("~", Op::Regex),
            ("^=", Op::Prefix),
            ("=^", Op::Postfix),
            (">=", Op::GreaterOrEqual),
            (">", Op::Greater),
            ("<=", Op::LessOrEqual),
            ("<", Op::Less),
            ("in", Op::In),
        ];
        for (s, op) in OPS {
            if self.eat(s) {
                return Some(op);
            }
        }
        let save = self.pos;
        if self.eat("not") {
            self.skip_ws();
            if self.eat("in") {
                return Some(Op::NotIn);
            }
            self.pos = save;
        }
        if self.eat("contains") {
            return Some(Op::Contains);
        }
        None
    }

    /// A right-hand side literal (after optional whitespace).
    pub(crate) fn literal(&mut self) -> Result<Literal, ExprError> {
        self.skip_ws();
        let start = self.pos;
        let b = self.rest();
        if b.first() == Some(&b'"') {
            return self.string_lit().map(Literal::Str);
        }
        if b.starts_with(b"r#\"") {
            return self.raw_string_lit().map(Literal::Str);
        }
        // ip_literal = ipv4_cidr | ipv6_cidr | ipv4 | ipv6
        if let Some(n) = match_ipv4(b) {
            if let Some(m) = match_prefix_len(&b[n..], 2) {
                let addr = self.parse_v4(start, n)?;
                let pfx = self.slice(start + n + 1, start + n + m);
                let c = cidr_from(IpAddr::V4(addr), pfx, start)?;
                self.pos = start + n + m;
                return Ok(Literal::Cidr(c));
            }
        }
        if let Some(n) = match_ipv6(b) {
            if let Some(m) = match_prefix_len(&b[n..], 3) {
                let addr = self.parse_v6(start, n)?;
                let pfx = self.slice(start + n + 1, start + n + m);
                let c = cidr_from(IpAddr::V6(addr), pfx, start)?;
                self.pos = start + n + m;
                return Ok(Literal::Cidr(c));
            }
        }
        if let Some(n) = match_ipv4(b) {
            let addr = self.parse_v4(start, n)?;
            self.pos = start + n;
            return Ok(Literal::Ip(IpAddr::V4(addr)));
        }
        if let Some(n) = match_ipv6(b) {
            let addr = self.parse_v6(start, n)?;
            self.pos = start + n;
            return Ok(Literal::Ip(IpAddr::V6(addr)));
        }
        self.int_lit()
    }

    fn slice(&self, a: usize, b: usize) -> &'a str {
        self.src.get(a..b).unwrap_or("")
    }

    fn parse_v4(&self, start: usize, n: usize) -> Result<Ipv4Addr, ExprError> {
        let t = self.slice(start, start + n);
        t.parse()
            .map_err(|_| ExprError::new(start, format!("invalid IPv4 address `{t}`")))
    }

    fn parse_v6(&self, start: usize, n: usize) -> Result<Ipv6Addr, ExprError> {
        let t = self.slice(start, start + n);
        t.parse()
            .map_err(|_| ExprError::new(start, format!("invalid IPv6 address `{t}`")))
    }

    /// `"-"? ~ ("0" OCT+ | "0x" HEX+ | DEC+)`
    fn int_lit(&mut self) -> Result<Literal, ExprError> {
        let start = self.pos;
        let b = self.rest();
        let neg = b.first() == Some(&b'-');
        let d = if neg { &b[1..] } else { b };
        let digits_start = start + usize::from(neg);
        let oct = if d.first() == Some(&b'0') {
            count_while(&d[1..], usize::MAX, |c| (b'0'..=b'7').contains(&c))
        } else {
            0
        };
        let (radix, skip, n) = if oct > 0 {
            (8, 1, oct)
        } else if d.starts_with(b"0x") {
            let h = count_while(&d[2..], usize::MAX, |c| c.is_ascii_hexdigit());
            if h > 0 {
                (16, 2, h)
            } else {
                (10, 0, count_while(d, usize::MAX, |c| c.is_ascii_digit()))
            }
        } else {
            (10, 0, count_while(d, usize::MAX, |c| c.is_ascii_digit()))
        };
        if n == 0 {
            return Err(ExprError::new(
                start,
                "expected a literal (string, raw string, integer, IP address or CIDR)".to_string(),
            ));
        }
        let text = self.slice(digits_start + skip, digits_start + skip + n);
        let v = i64::from_str_radix(text, radix)
            .map_err(|e| ExprError::new(start, format!("invalid integer literal: {e}")))?;
        self.pos = digits_start + skip + n;
        Ok(Literal::Int(if neg { -v } else { v }))
    }

    /// `"\"" ~ (("\\" ~ ("\"" | "\\" | "n" | "r" | "t")) | !("\"" | "\\") ~ ANY)* ~ "\""`
    fn string_lit(&mut self) -> Result<String, ExprError> {
        let start = self.pos;
        let mut out = String::new();
        let mut chars = self.src.get(start + 1..).unwrap_or("").char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos = start + 1 + i + 1;
                    return Ok(out);
                }
                '\\' => {
                    match chars.next() {
                        Some((_, '"')) => out.push('"'),
                        Some((_, '\\')) => out.push('\\'),
                        Some((_, 'n')) => out.push('\n'),
                        Some((_, 'r')) => out.push('\r'),
                        Some((_, 't')) => out.push('\t'),
                        _ => return Err(ExprError::new(
                            start + 1 + i,
                            "invalid escape sequence in string (allowed: \\\" \\\\ \\n \\r \\t)"
                                .to_string(),
                        )),
                    }
                }
                c => out.push(c),
            }
        }
        Err(ExprError::new(
            start,
            "unterminated string literal".to_string(),
        ))
    }

    /// `r#"…"#`
    fn raw_string_lit(&mut self) -> Result<String, ExprError> {
        let start = self.pos;
        let body = self.src.get(start + 3..).unwrap_or("");
        match body.find("\"#") {
            Some(end) => {
                self.pos = start + 3 + end + 2;
                Ok(body.get(..end).unwrap_or("").to_string())
            }
            None => Err(ExprError::new(
                start,
                "unterminated raw string literal (expected `\"#`)".to_string(),
            )),
        }
    }
}
