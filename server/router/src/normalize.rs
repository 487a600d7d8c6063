//! Request path normalization (Kong's `normalize(uri, true)`):
//!
//! 1. the query string (from the first `?`) is removed;
//! 2. percent-encodings of unreserved characters (`A-Z a-z 0-9 - . _ ~`) are
//!    decoded, all other percent-encodings get upper-case hex digits
//!    (malformed `%` sequences are left untouched);
//! 3. repeated slashes are merged;
//! 4. dot segments (`.` and `..`) are removed (RFC 3986, 5.2.4).

use std::borrow::Cow;

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Strip the query string: everything from the first `?`.
pub fn strip_query(path: &str) -> &str {
    match memchr::memchr(b'?', path.as_bytes()) {
        Some(i) => &path[..i],
        None => path,
    }
}

fn needs_work(p: &[u8]) -> bool {
    // '%' anywhere, "//" anywhere, or a '.' directly after a '/'.
    if memchr::memchr(b'%', p).is_some() {
        return true;
    }
    let mut prev = 0u8;
    for &b in p {
        if prev == b'/' && (b == b'/' || b == b'.') {
            return true;
        }
        prev = b;
    }
    false
}

/// When `bytes[i..]` starts with a valid `%XX`, writes its normalized form to `buf`
/// (an unreserved character decoded, any other escape upper-cased) and returns true.
fn push_escape(bytes: &[u8], i: usize, buf: &mut Vec<u8>) -> bool {
    let (Some(&hi), Some(&lo)) = (bytes.get(i + 1), bytes.get(i + 2)) else {
        return false;
    };
    let (Some(h), Some(l)) = (hex_val(hi), hex_val(lo)) else {
        return false;
    };
    let v = h * 16 + l;
    if is_unreserved(v) {
        buf.push(v);
    } else {
        buf.extend_from_slice(&[b'%', hi.to_ascii_uppercase(), lo.to_ascii_uppercase()]);
    }
    true
}

/// Normalize a request path (see the module docs). Borrows when nothing changes.
pub fn normalize_path(path: &str) -> Cow<'_, str> {
    let path = strip_query(path);
    let bytes = path.as_bytes();
    if !needs_work(bytes) {
        return Cow::Borrowed(path);
    }
    // 1. percent-encoding normalization
    let mut buf: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' && push_escape(bytes, i, &mut buf) {
            i += 3;
            continue;
        }
        // 2. merge slashes while copying
        if b == b'/' && buf.last() == Some(&b'/') {
            i += 1;
            continue;
        }
        buf.push(b);
        i += 1;
    }
    // 3. dot segments
    let out = if buf.first() == Some(&b'/') {
        remove_dot_segments(&buf)
    } else {
        buf
    };
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        // Only ASCII bytes were inserted, so this cannot happen for valid
        // input; fall back to a lossy conversion rather than panicking.
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// `path` starts with `/` and contains no repeated slashes.
fn remove_dot_segments(path: &[u8]) -> Vec<u8> {
    let segs: Vec<&[u8]> = path[1..].split(|&b| b == b'/').collect();
    let n = segs.len();
    let mut out: Vec<&[u8]> = Vec::with_capacity(n);
    for (i, s) in segs.iter().enumerate() {
        let last = i + 1 == n;
        match *s {
            b"." => {
                if last {
                    out.push(b"");
                }
            }
            b".." => {
                out.pop();
                if last {
                    out.push(b"");
                }
            }
            _ => out.push(s),
        }
    }
    let mut res = Vec::with_capacity(path.len());
    for s in out {
        res.push(b'/');
        res.extend_from_slice(s);
    }
    if res.is_empty() {
        res.push(b'/');
    }
    res
}

/// Normalize the percent-encodings of a configured prefix path the same way
/// as request paths (no dot-segment or slash processing).
pub fn normalize_config_prefix(path: &str) -> Cow<'_, str> {
    if memchr::memchr(b'%', path.as_bytes()).is_none() {
        return Cow::Borrowed(path);
    }
    let bytes = path.as_bytes();
    let mut buf = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && push_escape(bytes, i, &mut buf) {
            i += 3;
            continue;
        }
        buf.push(bytes[i]);
        i += 1;
    }
    match String::from_utf8(buf) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// Percent-decode a query component (`+` is a space); lossy on invalid UTF-8.
pub(crate) fn decode_query_component(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    if !b.iter().any(|&c| c == b'%' || c == b'+') {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < b.len() => match (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases = [
            ("/", "/"),
            ("/foo", "/foo"),
            ("/foo?x=1", "/foo"),
            ("//foo///bar", "/foo/bar"),
            ("/a/./b", "/a/b"),
            ("/a/b/..", "/a/"),
            ("/a/b/../c", "/a/c"),
            ("/..", "/"),
            ("/../../a", "/a"),
            ("/a/.", "/a/"),
            ("/%7efoo", "/~foo"),
            ("/%41%2f", "/A%2F"),
            ("/%2e%2E/x", "/x"),
            ("/a%zz", "/a%zz"),
            ("/a%", "/a%"),
            ("/a%4", "/a%4"),
            ("/a/.hidden", "/a/.hidden"),
            ("/a/..b", "/a/..b"),
        ];
        for (inp, want) in cases {
            assert_eq!(normalize_path(inp), want, "input {inp}");
        }
    }

    #[test]
    fn borrows_when_clean() {
        assert!(matches!(normalize_path("/a/b.c"), Cow::Borrowed(_)));
    }

    #[test]
    fn query_decode() {
        assert_eq!(decode_query_component("a+b%20c%zz"), "a b c%zz");
    }
}
