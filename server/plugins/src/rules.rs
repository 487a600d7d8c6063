//! The value rules of [`Rule`], each with Kong's error message
//! (`kong/db/schema/init.lua`, `kong/db/schema/typedefs.lua`, the plugins' custom
//! validators). `None`: the value passes.

use std::net::IpAddr;

use crate::schema::Rule;

/// A number against one rule.
pub fn check_number(rule: &Rule, n: f64) -> Option<String> {
    match *rule {
        Rule::Gt(min) if n <= min => Some(format!("value must be greater than {}", lua(min))),
        Rule::Positive if n <= 0.0 => Some("must be greater than 0".into()),
        Rule::Between(a, b) if n < a as f64 || n > b as f64 => {
            Some(format!("value should be between {a} and {b}"))
        }
        _ => None,
    }
}

/// A number as Lua's `tostring` prints it (`0`, `0.5`).
fn lua(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A string (or an element of a string array) against one rule.
pub fn check_string(rule: &Rule, s: &str) -> Option<String> {
    match *rule {
        Rule::OneOf(options) if !options.contains(&s) => {
            Some(format!("expected one of: {}", options.join(", ")))
        }
        Rule::AsteriskOrRegex if s != "*" && !is_regex(s) => {
            Some(format!("'{s}' is not a valid regex"))
        }
        Rule::IpOrCidr if !is_ip_or_cidr(s) => Some(format!("invalid ip or cidr range: '{s}'")),
        Rule::HeaderName if !is_header_name(s) => Some(format!(
            "bad header name '{s}', allowed characters are A-Z, a-z, 0-9, '_', and '-'"
        )),
        Rule::ColonPair if !is_colon_pair(s) => Some(format!("invalid value: {s}")),
        Rule::HasValue => has_value(s),
        Rule::HeaderPairName => header_pair(s, false),
        Rule::HeaderPairBoth => header_pair(s, true),
        Rule::UpperCase if s.is_empty() || !s.bytes().all(|b| b.is_ascii_uppercase()) => {
            Some(format!("invalid value: {s}"))
        }
        Rule::Path => path(s),
        Rule::Host => host(s, false),
        Rule::Sni => host(s, true),
        _ => None,
    }
}

/// Kong's `validate_header_name`: `^[a-zA-Z0-9-_]+$`.
pub fn is_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `^[^:]+:.*$`.
fn is_colon_pair(s: &str) -> bool {
    !s.starts_with(':') && s.contains(':')
}

/// Lua's `entry:match("^([^:]+):*(.-)$")`: the name before the first `:` (none when
/// the entry starts with `:` or is empty), and the rest after all the colons.
fn split_pair(s: &str) -> Option<(&str, &str)> {
    if s.is_empty() || s.starts_with(':') {
        return None;
    }
    match s.find(':') {
        Some(i) => Some((&s[..i], s[i..].trim_start_matches(':'))),
        None => Some((s, "")),
    }
}

/// request-transformer's `check_for_value`.
fn has_value(s: &str) -> Option<String> {
    let (name, value) = split_pair(s).unwrap_or(("", ""));
    if value.is_empty() {
        return Some(format!("key '{name}' has no value"));
    }
    template_error(value).map(|e| format!("value '{value}' is not in supported format, error:{e}"))
}

/// The transformers' `validate_headers`.
fn header_pair(s: &str, both: bool) -> Option<String> {
    let Some((name, value)) = split_pair(s) else {
        return Some("'nil' is not a valid header".into());
    };
    if !is_header_name(name) {
        return Some(format!("'{name}' is not a valid header"));
    }
    if both && !is_header_name(value) {
        return Some(format!("'{value}' is not a valid header"));
    }
    None
}

/// A light stand-in for compiling a Penlight template: each `$(` closed, and no two
/// names side by side inside (`$(uri_captures user2)` is not a Lua expression).
fn template_error(value: &str) -> Option<String> {
    let mut rest = value;
    while let Some(start) = rest.find("$(") {
        let after = &rest[start + 2..];
        let mut depth = 1usize;
        let mut end = None;
        for (i, c) in after.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            return Some("unclosed '$('".into());
        };
        let expr = &after[..end];
        // Two names side by side (`uri_captures user2`) are not a Lua expression.
        let name_like = |w: &str, first: bool| {
            let c = if first {
                w.chars().last()
            } else {
                w.chars().next()
            };
            c.is_some_and(|c| c.is_alphanumeric() || c == '_') && !matches!(w, "and" | "or" | "not")
        };
        let words: Vec<&str> = expr.split_whitespace().collect();
        if words
            .windows(2)
            .any(|p| name_like(p[0], true) && name_like(p[1], false))
        {
            return Some(format!("'{}' is not a Lua expression", expr.trim()));
        }
        if expr.trim().is_empty() {
            return Some("empty '$()'".into());
        }
        rest = &after[end + 1..];
    }
    None
}

/// Kong's `is_valid_ip_or_cidr`: an IPv4 or IPv6 address, with an optional prefix
/// length of at most 32 or 128.
pub fn is_ip_or_cidr(s: &str) -> bool {
    let (ip, prefix) = match s.split_once('/') {
        Some((ip, p)) => (ip, Some(p)),
        None => (s, None),
    };
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return false;
    };
    let Some(prefix) = prefix else {
        return true;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_digit())
        && prefix.parse::<u16>().is_ok_and(|p| p <= max)
}

/// `typedefs.path`.
fn path(s: &str) -> Option<String> {
    if !s.starts_with('/') {
        return Some("should start with: /".into());
    }
    if s.contains("//") {
        return Some("must not have empty segments".into());
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || ".-_~/%:@!$&'()*+,;=".contains(c);
    if !s.chars().all(ok) {
        return Some(format!(
            "invalid path: '{s}' (characters outside of the reserved list of RFC 3986 found)"
        ));
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let good =
                b.len() > i + 2 && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit();
            if !good {
                let bad: String = s[i..].chars().take(3).collect();
                return Some(format!("invalid url-encoded value: '{bad}'"));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    None
}

/// `typedefs.host` (`sni`: also not an IP).
fn host(s: &str, sni: bool) -> Option<String> {
    let bare = s.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() {
        return sni.then(|| "must not be an IP".into());
    }
    // `[v6]:port` or `name:port`.
    let (name, port) = match s.rsplit_once(':') {
        Some((n, p)) if !n.contains(':') || n.ends_with(']') => (n, Some(p)),
        _ => (s, None),
    };
    if let Some(port) = port {
        let n = name.trim_start_matches('[').trim_end_matches(']');
        let is_port = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
        let valid_host = n.parse::<IpAddr>().is_ok() || is_hostname(n);
        if is_port && valid_host {
            if sni && n.parse::<IpAddr>().is_ok() {
                return Some("must not be an IP".into());
            }
            return Some("must not have a port".into());
        }
        return Some(format!("invalid value: {s}"));
    }
    if !is_hostname(name) {
        return Some(format!("invalid value: {s}"));
    }
    None
}

/// Labels of letters, digits, `-` and `_` separated by dots (a trailing dot allowed).
fn is_hostname(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Whether `s` compiles as a regex: a light syntax check (brackets, groups and
/// quantifiers, as PCRE), and with the `regex` feature also `regex-syntax`'s parser
/// (the syntax of the `regex` crate the data plane matches origins with).
pub fn is_regex(s: &str) -> bool {
    light_regex_ok(s) && full_regex_ok(s)
}

#[cfg(feature = "regex")]
fn full_regex_ok(s: &str) -> bool {
    regex_syntax::Parser::new().parse(s).is_ok()
}

#[cfg(not(feature = "regex"))]
fn full_regex_ok(_: &str) -> bool {
    true
}

fn light_regex_ok(s: &str) -> bool {
    #[derive(PartialEq, Clone, Copy)]
    enum Prev {
        Nothing,
        Atom,
        Quant,
        Modifier,
    }
    let chars: Vec<char> = s.chars().collect();
    let mut prev = Prev::Nothing;
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                if i + 1 >= chars.len() {
                    return false;
                }
                i += 1;
                prev = Prev::Atom;
            }
            '[' => {
                let mut j = i + 1;
                if chars.get(j) == Some(&'^') {
                    j += 1;
                }
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                loop {
                    match chars.get(j) {
                        None => return false,
                        Some('\\') => j += 2,
                        Some(']') => break,
                        Some(_) => j += 1,
                    }
                }
                i = j;
                prev = Prev::Atom;
            }
            '(' => {
                depth += 1;
                if chars.get(i + 1) == Some(&'?') {
                    i += 1;
                }
                prev = Prev::Nothing;
            }
            ')' => {
                if depth == 0 {
                    return false;
                }
                depth -= 1;
                prev = Prev::Atom;
            }
            '|' => prev = Prev::Nothing,
            '*' | '+' | '?' => {
                prev = match (prev, c) {
                    (Prev::Atom, _) => Prev::Quant,
                    (Prev::Quant, '?' | '+') => Prev::Modifier,
                    _ => return false,
                };
            }
            '{' => {
                let rest: String = chars[i + 1..].iter().collect();
                let quant = rest.find('}').filter(|&end| {
                    let body = &rest[..end];
                    let (a, b) = body.split_once(',').unwrap_or((body, ""));
                    !a.is_empty()
                        && a.bytes().all(|b| b.is_ascii_digit())
                        && b.bytes().all(|b| b.is_ascii_digit())
                });
                match quant {
                    Some(end) => {
                        if prev != Prev::Atom {
                            return false;
                        }
                        i += rest[..end].chars().count() + 1;
                        prev = Prev::Quant;
                    }
                    None => prev = Prev::Atom,
                }
            }
            _ => prev = Prev::Atom,
        }
        i += 1;
    }
    depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_or_cidr() {
        for ok in [
            "10.0.0.1",
            "10.0.0.0/8",
            "0.0.0.0/0",
            "::1",
            "2001:db8::/32",
            "::/128",
        ] {
            assert!(is_ip_or_cidr(ok), "{ok}");
        }
        for bad in [
            "10.0.0",
            "10.0.0.1/",
            "10.0.0.1/+8",
            "10.0.0.1/33",
            "::1/129",
            "host",
            "1.2.3.4/8/8",
        ] {
            assert!(!is_ip_or_cidr(bad), "{bad}");
        }
    }

    #[test]
    fn hosts_and_snis() {
        assert_eq!(host("redis.local", false), None);
        assert_eq!(host("10.0.0.1", false), None);
        assert_eq!(host("::1", false), None);
        assert_eq!(
            host("redis:6379", false).as_deref(),
            Some("must not have a port")
        );
        assert_eq!(
            host("[::1]:6379", false).as_deref(),
            Some("must not have a port")
        );
        assert_eq!(
            host("bad host", false).as_deref(),
            Some("invalid value: bad host")
        );
        assert_eq!(host("10.0.0.1", true).as_deref(), Some("must not be an IP"));
        assert_eq!(host("example.com", true), None);
    }

    #[test]
    fn regexes() {
        for ok in [
            r".*\.example(?:-foo)?\.com",
            "^https://[a-z]+\\.example\\.com$",
            "a{2,3}",
            "[]a]",
            "a*?",
            "(a|b)+",
        ] {
            assert!(is_regex(ok), "{ok}");
        }
        for bad in [
            "invalid_**regex",
            "(a",
            "a)",
            "[a",
            "*a",
            "a{2}{3}*",
            "\\",
            "(|*)",
        ] {
            assert!(!is_regex(bad), "{bad}");
        }
    }

    /// A PCRE literal brace, without the `regex` feature (the `regex` crate refuses it).
    #[cfg(not(feature = "regex"))]
    #[test]
    fn pcre_literal_brace() {
        assert!(is_regex("a{x}"));
    }

    /// With the `regex` feature, what the `regex` crate cannot compile is refused too
    /// (a lookahead compiles in PCRE, not in the data plane's matcher).
    #[cfg(feature = "regex")]
    #[test]
    fn regexes_the_data_plane_cannot_run() {
        assert!(!is_regex("a(?=b)"));
        assert!(!is_regex("\\p{Nonsense}"));
    }

    #[test]
    fn templates() {
        assert_eq!(has_value("a:$(headers.x)"), None);
        assert_eq!(has_value("a:$(uri_captures['user'])"), None);
        assert_eq!(has_value("a:b:c"), None);
        assert_eq!(has_value("a").as_deref(), Some("key 'a' has no value"));
        assert!(has_value("a:$(headers.x").is_some());
        assert!(has_value("a:$(uri_captures user2)").is_some());
    }
}
