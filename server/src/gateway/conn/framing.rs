//! The client side of a proxy connection, checked before hyper parses it: every
//! HTTP/1.x request head is held back until it is complete, read with `httparse` (the
//! parser hyper uses), and refused when its framing is ambiguous, the way nginx refuses
//! it:
//!
//! - both `Content-Length` and `Transfer-Encoding`;
//! - more than one `Content-Length`, or one that is not plain digits (`+5`, `5, 5`);
//! - a `Transfer-Encoding` other than exactly `chunked`, or more than one;
//! - `Transfer-Encoding` in HTTP/1.0;
//! - a header name that only differs from `Content-Length`, `Transfer-Encoding` or
//!   `Host` by `_` for `-` (some upstreams fold `_` into `-`);
//! - more than one `Host`;
//! - a head larger than the limit.
//!
//! hyper alone would take such a request (it picks chunked over a length and drops the
//! length), so whatever it and the upstream make of it, they could disagree on where the
//! body ends. A refused head is replaced by bytes hyper cannot parse, so hyper answers
//! 400 and closes the connection; nothing of it reaches the proxy.
//!
//! To find the next head on a keep-alive connection the guard follows each body as
//! hyper will (a length, or chunked: sizes, extensions, trailers). It stops looking
//! (passes bytes through untouched) after an HTTP/2 preface and after a request that
//! asks to upgrade or `CONNECT`s, whose bytes are no longer HTTP/1 messages (the proxy
//! closes such a connection when it does not upgrade it).
//!
//! Cost: one more `httparse` pass over each head (it is small and in cache), a copy of
//! the head and of chunked framing lines; a body with a length is read straight into
//! hyper's buffer.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Headers a request head may have (as hyper's default).
const MAX_HEADERS: usize = 100;
/// What replaces a refused head: hyper fails to parse it and answers 400.
const REFUSAL: &[u8] = b"\0 / HTTP/1.1\r\n\r\n";
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// A chunk-size line (size, extensions) longer than this is refused (hyper allows 16 KiB of extensions per body).
const MAX_CHUNK_LINE: usize = 16 * 1024;

/// Where the guard is in the client's byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a request head (held back until complete).
    Head,
    /// Inside a body with a length: bytes left.
    Length { left: u64, then_raw: bool },
    /// Inside a chunked body.
    Chunked { chunk: Chunk, then_raw: bool },
    /// Not HTTP/1 framing any more (HTTP/2, an upgraded connection): pass through.
    Raw,
    /// A head was refused: nothing more is read.
    Refused,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// At or in a chunk-size line (size, optional extensions): its bytes so far.
    Size { seen: usize },
    /// Chunk data: bytes left.
    Data(u64),
    /// The CRLF after chunk data (`cr`: the CR was seen).
    DataEnd { cr: bool },
    /// The trailer section: bytes of the current line so far, whether the last was
    /// CR, bytes of the section so far.
    Trailers { line: usize, cr: bool, total: usize },
}

/// Why a head was refused (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Ambiguous(&'static str),
    TooLarge,
}

/// The client's stream, with request framing checked (see the module doc).
/// Bytes asked of the client per read.
const READ_SIZE: usize = 8 * 1024;

pub(crate) struct FramingGuard<S> {
    io: S,
    state: State,
    /// Bytes read from the client and not yet handed to hyper.
    buf: BytesMut,
    /// How many of `buf`'s first bytes are checked and may be handed to hyper.
    ready: usize,
    max_head: usize,
    refused: Option<Refusal>,
}

impl<S> FramingGuard<S> {
    pub(crate) fn new(io: S, max_head: usize) -> Self {
        FramingGuard {
            io,
            state: State::Head,
            buf: BytesMut::new(),
            ready: 0,
            max_head,
            refused: None,
        }
    }

    /// Why the connection's last head was refused, if it was.
    #[cfg(test)]
    fn refusal(&self) -> Option<Refusal> {
        self.refused
    }

    /// Move through what is buffered: mark bytes as ready, or refuse. `true` when
    /// more bytes from the client are needed to go on.
    fn advance(&mut self) -> bool {
        loop {
            let pending = &self.buf[self.ready..];
            if pending.is_empty() {
                return true;
            }
            match self.state {
                State::Raw => {
                    self.ready = self.buf.len();
                    return false;
                }
                State::Refused => return false,
                State::Length { left, then_raw } => {
                    let n = (pending.len() as u64).min(left);
                    self.ready += n as usize;
                    let left = left - n;
                    self.state = match (left, then_raw) {
                        (0, true) => State::Raw,
                        (0, false) => State::Head,
                        (left, _) => State::Length { left, then_raw },
                    };
                }
                State::Chunked { chunk, then_raw } => {
                    let (used, next) = match step_chunked(chunk, pending) {
                        Ok(r) => r,
                        Err(()) => {
                            // hyper refuses the same body and ends the connection:
                            // stop following it
                            self.ready = self.buf.len();
                            self.state = State::Raw;
                            return false;
                        }
                    };
                    self.ready += used;
                    self.state = match next {
                        Some(chunk) => State::Chunked { chunk, then_raw },
                        None if then_raw => State::Raw,
                        None => State::Head,
                    };
                    if next.is_some() && (used == 0 || self.ready == self.buf.len()) {
                        return true;
                    }
                }
                State::Head => match check_head(pending, self.max_head) {
                    HeadCheck::Partial => return true,
                    HeadCheck::H2 => self.state = State::Raw,
                    HeadCheck::Unparsable => {
                        // hyper refuses it as well (same parser): hand it over
                        self.ready = self.buf.len();
                        self.state = State::Refused;
                        return false;
                    }
                    HeadCheck::TooLarge => {
                        self.refuse(Refusal::TooLarge);
                        return false;
                    }
                    HeadCheck::Refused(why) => {
                        self.refuse(Refusal::Ambiguous(why));
                        return false;
                    }
                    HeadCheck::Ok {
                        len,
                        body,
                        then_raw,
                    } => {
                        self.ready += len;
                        self.state = match body {
                            Body::None if then_raw => State::Raw,
                            Body::None => State::Head,
                            Body::Length(left) => State::Length { left, then_raw },
                            Body::Chunked => State::Chunked {
                                chunk: Chunk::Size { seen: 0 },
                                then_raw,
                            },
                        };
                    }
                },
            }
        }
    }

    /// Replace the pending head (and everything after it) by bytes hyper refuses.
    fn refuse(&mut self, why: Refusal) {
        tracing::debug!("request head refused: {why:?}");
        self.buf.truncate(self.ready);
        self.buf.extend_from_slice(REFUSAL);
        self.ready = self.buf.len();
        self.state = State::Refused;
        self.refused = Some(why);
    }
}

/// How a request's body is framed.
enum Body {
    None,
    Length(u64),
    Chunked,
}

enum HeadCheck {
    Partial,
    H2,
    Unparsable,
    TooLarge,
    Refused(&'static str),
    Ok {
        len: usize,
        body: Body,
        then_raw: bool,
    },
}

/// Is `name` `target` (lower-case, with `-`) written with `_` for some `-`?
fn underscored(name: &[u8], target: &[u8]) -> bool {
    name.len() == target.len()
        && name.contains(&b'_')
        && name
            .iter()
            .zip(target)
            .all(|(a, b)| a.to_ascii_lowercase() == *b || (*a == b'_' && *b == b'-'))
}

fn check_head(pending: &[u8], max_head: usize) -> HeadCheck {
    if pending.len() < H2_PREFACE.len() && H2_PREFACE.starts_with(pending) {
        return HeadCheck::Partial;
    }
    if pending.starts_with(H2_PREFACE) {
        return HeadCheck::H2;
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(pending) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            return if pending.len() > max_head {
                HeadCheck::TooLarge
            } else {
                HeadCheck::Partial
            };
        }
        Err(httparse::Error::TooManyHeaders) => return HeadCheck::TooLarge,
        Err(_) => return HeadCheck::Unparsable,
    };
    if len > max_head {
        return HeadCheck::TooLarge;
    }
    let http10 = req.version == Some(0);
    let mut length: Option<u64> = None;
    let mut lengths = 0;
    let mut codings = 0;
    let mut chunked = false;
    let mut hosts = 0;
    let mut upgrade = false;
    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            lengths += 1;
            if h.value.is_empty() || h.value.len() > 19 || !h.value.iter().all(u8::is_ascii_digit) {
                return HeadCheck::Refused("invalid Content-Length");
            }
            length = std::str::from_utf8(h.value)
                .ok()
                .and_then(|s| s.parse().ok());
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            codings += 1;
            chunked = h.value.trim_ascii().eq_ignore_ascii_case(b"chunked");
            if !chunked {
                return HeadCheck::Refused("Transfer-Encoding other than chunked");
            }
        } else if name.eq_ignore_ascii_case(b"host") {
            hosts += 1;
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            upgrade = true;
        } else if underscored(name, b"content-length")
            || underscored(name, b"transfer-encoding")
            || underscored(name, b"host")
        {
            return HeadCheck::Refused("a framing header name with '_'");
        }
    }
    if lengths > 1 {
        return HeadCheck::Refused("more than one Content-Length");
    }
    if codings > 1 {
        return HeadCheck::Refused("more than one Transfer-Encoding");
    }
    if codings > 0 && lengths > 0 {
        return HeadCheck::Refused("both Content-Length and Transfer-Encoding");
    }
    if codings > 0 && http10 {
        return HeadCheck::Refused("Transfer-Encoding in HTTP/1.0");
    }
    if hosts > 1 {
        return HeadCheck::Refused("more than one Host");
    }
    let body = if chunked {
        Body::Chunked
    } else {
        match length {
            Some(0) | None if lengths == 0 => Body::None,
            Some(0) => Body::None,
            Some(n) => Body::Length(n),
            None => return HeadCheck::Refused("invalid Content-Length"),
        }
    };
    let then_raw = (upgrade && !http10) || req.method == Some("CONNECT");
    HeadCheck::Ok {
        len,
        body,
        then_raw,
    }
}

/// Follow a chunked body over `bytes`: how many bytes belong to it, and the state
/// after them (`None`: the body ended). `Err`: not a chunked body hyper would take.
fn step_chunked(mut chunk: Chunk, bytes: &[u8]) -> Result<(usize, Option<Chunk>), ()> {
    let mut i = 0;
    while i < bytes.len() {
        match chunk {
            Chunk::Size { .. } => {
                // the whole line is needed (hyper checks its syntax; we need its end
                // and size): a partial one stays unread until the rest comes
                let Some(nl) = bytes[i..].iter().position(|b| *b == b'\n') else {
                    let seen = bytes.len() - i;
                    if seen > MAX_CHUNK_LINE {
                        return Err(());
                    }
                    return Ok((i, Some(Chunk::Size { seen })));
                };
                let size = size_of_line(&bytes[i..i + nl])?;
                i += nl + 1;
                chunk = if size == 0 {
                    Chunk::Trailers {
                        line: 0,
                        cr: false,
                        total: 0,
                    }
                } else {
                    Chunk::Data(size)
                };
            }
            Chunk::Data(left) => {
                let n = ((bytes.len() - i) as u64).min(left);
                i += n as usize;
                chunk = if left == n {
                    Chunk::DataEnd { cr: false }
                } else {
                    Chunk::Data(left - n)
                };
            }
            Chunk::DataEnd { cr } => {
                match (cr, bytes[i]) {
                    (false, b'\r') => chunk = Chunk::DataEnd { cr: true },
                    (true, b'\n') => chunk = Chunk::Size { seen: 0 },
                    _ => return Err(()),
                }
                i += 1;
            }
            Chunk::Trailers { line, cr, total } => {
                let b = bytes[i];
                i += 1;
                let total = total + 1;
                if total > MAX_CHUNK_LINE * 4 {
                    return Err(());
                }
                chunk = match b {
                    // hyper wants CRLF: a bare LF ends nothing
                    b'\n' if !cr => return Err(()),
                    // an empty line: the end of the body
                    b'\n' if line == 1 => return Ok((i, None)),
                    b'\n' => Chunk::Trailers {
                        line: 0,
                        cr: false,
                        total,
                    },
                    _ => Chunk::Trailers {
                        line: line + 1,
                        cr: b == b'\r',
                        total,
                    },
                };
            }
        }
    }
    Ok((i, Some(chunk)))
}

/// The size of a chunk-size line (without its LF): hex digits, optional blanks and
/// extensions, then CR.
fn size_of_line(line: &[u8]) -> Result<u64, ()> {
    let line = line.strip_suffix(b"\r").ok_or(())?;
    let zeros = line.iter().take_while(|b| **b == b'0').count();
    let line = if zeros == line.len() || !line[zeros].is_ascii_hexdigit() {
        &line[zeros.saturating_sub(1)..]
    } else {
        &line[zeros..]
    };
    let digits = line
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(line.len());
    if digits == 0 || digits > 16 {
        return Err(());
    }
    let rest = &line[digits..];
    let rest = rest.trim_ascii_start();
    if !rest.is_empty() && rest[0] != b';' {
        return Err(());
    }
    let hex = std::str::from_utf8(&line[..digits]).map_err(|_| ())?;
    u64::from_str_radix(hex, 16).map_err(|_| ())
}

impl<S: AsyncRead + Unpin> AsyncRead for FramingGuard<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.ready > 0 {
                let n = this.ready.min(out.remaining());
                out.put_slice(&this.buf[..n]);
                this.buf.advance(n);
                this.ready -= n;
                return Poll::Ready(Ok(()));
            }
            match this.state {
                State::Refused => return Poll::Ready(Ok(())),
                // nothing held back: straight into hyper's buffer
                State::Raw if this.buf.is_empty() => {
                    return Pin::new(&mut this.io).poll_read(cx, out)
                }
                State::Length { left, then_raw } if this.buf.is_empty() => {
                    let limit = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(out.remaining());
                    let mut sub = out.take(limit);
                    match Pin::new(&mut this.io).poll_read(cx, &mut sub) {
                        Poll::Ready(Ok(())) => {
                            let n = sub.filled().len();
                            // SAFETY: `sub` was filled with `n` initialized bytes
                            // of `out`'s unfilled part.
                            unsafe { out.assume_init(n) };
                            out.advance(n);
                            let left = left - n as u64;
                            this.state = match (left, then_raw) {
                                (0, true) => State::Raw,
                                (0, false) => State::Head,
                                (left, _) => State::Length { left, then_raw },
                            };
                            return Poll::Ready(Ok(()));
                        }
                        other => return other,
                    }
                }
                _ => {}
            }
            if !this.advance() || this.ready > 0 {
                continue;
            }
            // more from the client
            // read into spare capacity: zero-filling 8 KiB per read cost about half of
            // a proxied request's instructions (`make bench-plugins`)
            let start = this.buf.len();
            this.buf.reserve(READ_SIZE);
            let mut rb = ReadBuf::uninit(&mut this.buf.spare_capacity_mut()[..READ_SIZE]);
            let r = Pin::new(&mut this.io).poll_read(cx, &mut rb);
            let n = rb.filled().len();
            // SAFETY: `poll_read` initialized the first `n` bytes of the spare capacity
            // (`ReadBuf::filled`), right after the buffer's `start` bytes.
            unsafe { this.buf.set_len(start + n) };
            match r {
                Poll::Ready(Ok(())) if n == 0 => {
                    // the end: hand over what is held back (hyper sees a partial
                    // message and the end)
                    this.ready = this.buf.len();
                    if this.ready == 0 {
                        return Poll::Ready(Ok(()));
                    }
                    this.state = State::Refused;
                }
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FramingGuard<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// What hyper would be handed for `input`, read in pieces of `step` bytes.
    async fn through(input: &[u8], step: usize) -> (Vec<u8>, Option<Refusal>) {
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let data = input.to_vec();
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for piece in data.chunks(step.max(1)) {
                client.write_all(piece).await.unwrap();
                tokio::task::yield_now().await;
            }
            client.shutdown().await.unwrap();
            client
        });
        let mut g = FramingGuard::new(server, 64 * 1024);
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = g.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        drop(writer.await.unwrap());
        (out, g.refusal())
    }

    #[tokio::test]
    async fn good_messages_pass_unchanged_in_any_pieces() {
        let input: &[u8] = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
GET /b HTTP/1.1\r\nHost: x\r\n\r\n\
POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n\
GET /d HTTP/1.1\r\nHost: x\r\n\r\n";
        for step in [1, 2, 3, 7, 64, 4096] {
            let (out, refused) = through(input, step).await;
            assert_eq!(refused, None, "step {step}");
            assert_eq!(out, input, "step {step}");
        }
    }

    #[tokio::test]
    async fn ambiguous_heads_are_replaced() {
        for (head, why) in [
            (
                &b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
                "both",
            ),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", "sign"),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n", "list"),
            (
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                "twice",
            ),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "te"),
            (
                b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                "te twice",
            ),
            (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "1.0"),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent_Length: 5\r\n\r\n", "underscore"),
            (b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "hosts"),
        ] {
            let mut input = b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
            input.extend_from_slice(head);
            input.extend_from_slice(b"hello");
            let (out, refused) = through(&input, 4096).await;
            assert!(matches!(refused, Some(Refusal::Ambiguous(_))), "{why}");
            let mut want = b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
            want.extend_from_slice(REFUSAL);
            assert_eq!(out, want, "{why}");
        }
    }

    #[tokio::test]
    async fn a_large_head_is_refused() {
        let mut input = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
        input.extend(std::iter::repeat_n(b'a', 70 * 1024));
        input.extend_from_slice(b"\r\n\r\n");
        let (out, refused) = through(&input, 8192).await;
        assert_eq!(refused, Some(Refusal::TooLarge));
        assert_eq!(out, REFUSAL);
    }

    #[tokio::test]
    async fn h2_and_upgrades_pass_through() {
        let mut input = H2_PREFACE.to_vec();
        input.extend_from_slice(b"\0\0\0\x04\0\0\0\0\0POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
        for step in [1, 5, 4096] {
            let (out, refused) = through(&input, step).await;
            assert_eq!(refused, None);
            assert_eq!(out, input);
        }
        let input: &[u8] = b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello\0\0POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        let (out, refused) = through(input, 3).await;
        assert_eq!(refused, None);
        assert_eq!(out, input);
    }

    #[test]
    fn chunk_lines() {
        assert_eq!(size_of_line(b"5\r"), Ok(5));
        assert_eq!(size_of_line(b"fF; a=b\r"), Ok(255));
        assert_eq!(size_of_line(b"5 \t;x\r"), Ok(5));
        assert_eq!(size_of_line(b"5"), Err(()));
        assert_eq!(size_of_line(b" 5\r"), Err(()));
        assert_eq!(size_of_line(b"5 5\r"), Err(()));
        assert_eq!(size_of_line(b"\r"), Err(()));
        assert_eq!(size_of_line(b"11111111111111111\r"), Err(()));
    }
}
