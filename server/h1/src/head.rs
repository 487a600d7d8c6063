//! Response heads: the status line and headers parsed with `httparse` straight from
//! the read buffer (no allocation up to 64 headers; values are slices of the head),
//! hop-by-hop headers removed, and the body's framing decided (RFC 9112 section 6.3).
//!
//! Framing is hyper's where hyper is strict, nginx's (so Kong's) where hyper is lax:
//! - `Content-Length` is plain ASCII digits (no sign, no space inside), at most
//!   `u64::MAX - 2`; a comma list or repeated field of one same value is that value;
//!   anything else is refused (hyper).
//! - `Transfer-Encoding` in an HTTP/1.0 answer is refused (hyper); so is one next to a
//!   `Content-Length`, one that is not exactly `chunked`, or more than one such field
//!   (nginx: hyper lets chunked win, and reads an unknown coding until the close,
//!   which would hand the client coded bytes without their coding).
//! - `HEAD` answers, 1xx, 204 and 304 have no body whatever their framing headers say.

use std::mem::MaybeUninit;

use bytes::{Buf, BytesMut};
use http::header::{
    CONNECTION, CONTENT_LENGTH, PROXY_AUTHENTICATE, PROXY_AUTHORIZATION, TE, TRAILER,
    TRANSFER_ENCODING, UPGRADE,
};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::body::BodyDecoder;

/// Headers of a response head parsed without allocating (more: a second, larger try).
const HEADERS_INLINE: usize = 64;
/// Most headers in a response head.
pub const HEADERS_MAX: usize = 512;
/// Largest response head (status line and headers).
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest body length (hyper's: two values above are its own markers).
const MAX_LENGTH: u64 = u64::MAX - 2;

static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// Hop-by-hop headers (RFC 9110 section 7.6.1, and the usual non-standard ones):
/// never forwarded.
pub fn is_hop_by_hop(n: &HeaderName) -> bool {
    n == CONNECTION
        || n == TRANSFER_ENCODING
        || n == TE
        || n == TRAILER
        || n == UPGRADE
        || n == PROXY_AUTHENTICATE
        || n == PROXY_AUTHORIZATION
        || n == KEEP_ALIVE
        || n == PROXY_CONNECTION
}

/// The tokens of `Connection` values that name other headers (not `close` or
/// `keep-alive`).
pub fn connection_named<'a>(
    values: impl Iterator<Item = &'a HeaderValue> + 'a,
) -> impl Iterator<Item = HeaderName> + 'a {
    values
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| {
            !t.is_empty()
                && !t.eq_ignore_ascii_case("keep-alive")
                && !t.eq_ignore_ascii_case("close")
        })
        .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
}

/// A response head, hop-by-hop headers removed.
#[derive(Debug)]
pub struct RespHead {
    pub status: StatusCode,
    pub headers: HeaderMap,
}

/// A parsed response head, before the body.
#[derive(Debug)]
pub struct Parsed {
    /// An interim (1xx) head has no headers (they are not kept), but for a 101.
    pub head: RespHead,
    pub body: BodyDecoder,
    /// Neither side asked to close (HTTP/1.0: the upstream asked to keep alive) and
    /// the body's end can be told without the close.
    pub keep_alive: bool,
}

/// Not a valid HTTP/1.x response head: why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidHead(pub String);

impl std::fmt::Display for InvalidHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidHead {}

fn invalid(msg: impl Into<String>) -> InvalidHead {
    InvalidHead(msg.into())
}

/// A body length: ASCII digits only (`str::parse` would take `+5`).
fn digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// A `Content-Length` value as hyper reads it: visible ASCII, a comma list of one
/// same length (`5, 5`), each element trimmed of blanks.
fn parse_length(v: &[u8]) -> Option<(u64, bool)> {
    if let Some(n) = digits(v) {
        return Some((n, true));
    }
    if !v.iter().all(|&b| b == b'\t' || (0x20..0x7f).contains(&b)) {
        return None;
    }
    let mut n = None;
    for part in v.split(|b| *b == b',') {
        let d = digits(part.trim_ascii())?;
        match n {
            None => n = Some(d),
            Some(o) if o == d => {}
            Some(_) => return None,
        }
    }
    n.map(|n| (n, false))
}

/// Parse a complete head at the start of `rbuf`, if there is one (`Ok(None)`: not
/// yet). The head's bytes are taken from the buffer; what follows stays.
/// `head_request`: the request was `HEAD` (the answer has no body).
pub fn parse_head(rbuf: &mut BytesMut, head_request: bool) -> Result<Option<Parsed>, InvalidHead> {
    let config = httparse::ParserConfig::default();
    let mut inline = [MaybeUninit::<httparse::Header<'_>>::uninit(); HEADERS_INLINE];
    let mut resp = httparse::Response::new(&mut []);
    let mut r = config.parse_response_with_uninit_headers(&mut resp, rbuf, &mut inline);
    let mut large;
    if matches!(r, Err(httparse::Error::TooManyHeaders)) {
        large = vec![MaybeUninit::<httparse::Header<'_>>::uninit(); HEADERS_MAX];
        resp = httparse::Response::new(&mut []);
        r = config.parse_response_with_uninit_headers(&mut resp, rbuf, &mut large);
    }
    let len = match r {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            if rbuf.len() > MAX_HEAD {
                return Err(invalid("response head too large"));
            }
            return Ok(None);
        }
        Err(e) => return Err(invalid(format!("invalid response head: {e}"))),
    };
    if len > MAX_HEAD {
        return Err(invalid("response head too large"));
    }
    let code = resp.code.unwrap_or(0);
    let status =
        StatusCode::from_u16(code).map_err(|_| invalid(format!("invalid status {code}")))?;
    let http10 = resp.version == Some(0);
    // interim answers are skipped; a 101 (the upstream switched protocols) keeps its
    // headers: what follows is the new protocol's, and the connection is no longer
    // HTTP
    let switching = status == StatusCode::SWITCHING_PROTOCOLS;
    if status.is_informational() && !switching {
        rbuf.advance(len);
        return Ok(Some(Parsed {
            head: RespHead {
                status,
                headers: HeaderMap::new(),
            },
            body: BodyDecoder::done(),
            keep_alive: true,
        }));
    }
    // header positions in the buffer (no allocation up to HEADERS_INLINE): the
    // values become slices of the frozen head
    let base = rbuf.as_ptr() as usize;
    let count = resp.headers.len();
    let mut inline_spans = [(0u32, 0u32, 0u32, 0u32); HEADERS_INLINE];
    let mut heap_spans = Vec::new();
    let spans: &mut [(u32, u32, u32, u32)] = if count <= HEADERS_INLINE {
        &mut inline_spans[..count]
    } else {
        heap_spans.resize(count, (0, 0, 0, 0));
        &mut heap_spans
    };
    for (span, h) in spans.iter_mut().zip(resp.headers.iter()) {
        let n = h.name.as_ptr() as usize - base;
        let v = h.value.as_ptr() as usize - base;
        // positions within a head of at most MAX_HEAD bytes
        *span = (
            n as u32,
            (n + h.name.len()) as u32,
            v as u32,
            (v + h.value.len()) as u32,
        );
    }
    let head_bytes = rbuf.split_to(len).freeze();
    let mut headers = HeaderMap::with_capacity(count + 6);
    // the first Content-Length value, whether it is plain digits, and the length
    let mut first_length: Option<(HeaderValue, bool)> = None;
    let mut length: Option<u64> = None;
    let mut bad_length = false;
    let mut has_length = false;
    let mut te_lines = 0u32;
    let mut chunked = false;
    let mut saw_close = false;
    let mut saw_keep_alive = false;
    let mut named: Vec<HeaderName> = Vec::new();
    for &(ns, ne, vs, ve) in spans.iter() {
        let raw_name = head_bytes.get(ns as usize..ne as usize).unwrap_or_default();
        let raw_value = head_bytes.get(vs as usize..ve as usize).unwrap_or_default();
        let name = HeaderName::from_bytes(raw_name).map_err(|_| {
            invalid(format!(
                "invalid header name {:?}",
                String::from_utf8_lossy(raw_name)
            ))
        })?;
        if name == CONTENT_LENGTH {
            has_length = true;
            match (parse_length(raw_value), length) {
                (Some((v, plain)), None) => {
                    length = Some(v);
                    let value =
                        HeaderValue::from_maybe_shared(head_bytes.slice(vs as usize..ve as usize))
                            .map_err(|_| invalid("invalid value of header content-length"))?;
                    first_length = Some((value, plain));
                }
                (Some((v, _)), Some(old)) if v == old => {}
                _ => bad_length = true,
            }
            continue;
        }
        if is_hop_by_hop(&name) {
            if name == TRANSFER_ENCODING {
                te_lines += 1;
                chunked = raw_value.trim_ascii().eq_ignore_ascii_case(b"chunked");
            } else if name == CONNECTION {
                for t in raw_value.split(|b| *b == b',') {
                    let t = t.trim_ascii();
                    if t.eq_ignore_ascii_case(b"close") {
                        saw_close = true;
                    } else if t.eq_ignore_ascii_case(b"keep-alive") {
                        saw_keep_alive = true;
                    } else if let Ok(n) = HeaderName::from_bytes(t) {
                        named.push(n);
                    }
                }
            }
            continue;
        }
        let value = HeaderValue::from_maybe_shared(head_bytes.slice(vs as usize..ve as usize))
            .map_err(|_| invalid(format!("invalid value of header {name}")))?;
        headers.append(name, value);
    }
    for n in &named {
        headers.remove(n);
    }
    let mut close = saw_close || (http10 && !saw_keep_alive);
    let no_body = head_request || code == 204 || code == 304 || switching;
    if switching {
        close = true;
    }
    let body = if no_body {
        BodyDecoder::done()
    } else if te_lines > 0 {
        if http10 {
            return Err(invalid("transfer-encoding in an HTTP/1.0 response"));
        }
        if has_length {
            return Err(invalid("both content-length and transfer-encoding"));
        }
        if te_lines > 1 || !chunked {
            return Err(invalid("transfer-encoding other than chunked"));
        }
        BodyDecoder::chunked()
    } else if bad_length {
        return Err(invalid("invalid content-length"));
    } else {
        match length {
            Some(n) if n > MAX_LENGTH => return Err(invalid("content-length too large")),
            Some(n) => BodyDecoder::length(n),
            None => {
                close = true;
                BodyDecoder::until_close()
            }
        }
    };
    // the length is forwarded once, as plain digits (a body-less answer's invalid
    // length is not forwarded)
    if let (Some((value, plain)), false) = (first_length, bad_length) {
        let value = match (plain, length) {
            (true, _) | (false, None) => value,
            (false, Some(n)) => HeaderValue::from(n),
        };
        headers.append(CONTENT_LENGTH, value);
    }
    Ok(Some(Parsed {
        head: RespHead { status, headers },
        body,
        keep_alive: !close,
    }))
}
