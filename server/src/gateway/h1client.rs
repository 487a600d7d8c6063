//! A lean HTTP/1.1 client for upstream connections: the request head is written as
//! one buffer (prepared by the proxy), the request body is streamed behind it
//! (`Content-Length` or chunked), the response head is parsed with `httparse` straight
//! from the connection's read buffer, and the response body is read from the socket
//! by whoever polls it (the client connection's task): no channel, no task of its
//! own, no copy of the body.
//!
//! Response body framing follows RFC 9112 section 6.3: no body for `HEAD` and for
//! 1xx/204/304 answers, chunked when `Transfer-Encoding` ends with `chunked` (trailers
//! included), else `Content-Length`, else until the upstream closes. Interim 1xx
//! answers (`100 Continue`, `103 Early Hints`) are skipped. A connection is reusable
//! when both messages were complete and neither side asked to close.
//!
//! Timeouts are nginx's: a read fails after waiting the read timeout since the last
//! read or write, a write after waiting the write timeout. One timer per connection,
//! re-armed lazily (reading the clock when a wait begins, resetting the timer only
//! when it fires early), so that a request costs no timer-wheel update.

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http_body::{Body, Frame};
use hyper::header::{
    HeaderMap, HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, PROXY_AUTHENTICATE,
    PROXY_AUTHORIZATION, TE, TRAILER, TRANSFER_ENCODING, UPGRADE,
};
use hyper::{StatusCode, Version};
use tokio::io::{AsyncReadExt, AsyncWrite};
use tokio::time::{Instant, Sleep};

use super::body::ReqBody;
use super::upstream::Stream;

/// Headers of a response head parsed without allocating (more: a second, larger try).
const HEADERS_INLINE: usize = 64;
const HEADERS_MAX: usize = 512;
/// Largest response head (status line and headers), and largest chunk-size line or
/// trailer section.
const MAX_HEAD: usize = 64 * 1024;
/// Read buffer: first size, and the largest a read grows to while a body streams.
const READ_MIN: usize = 8 * 1024;
const READ_MAX: usize = 256 * 1024;

static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// Hop-by-hop headers (RFC 9110 section 7.6.1, and the usual non-standard ones):
/// never forwarded.
pub(crate) fn is_hop_by_hop(n: &HeaderName) -> bool {
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
pub(crate) fn connection_named<'a>(
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

fn timed_out(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("upstream {what} timed out"),
    )
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// One upstream connection: the transport, its read buffer and its timers.
pub(crate) struct Conn {
    io: Stream,
    rbuf: BytesMut,
    /// The next read's size (grows while a large body streams).
    read_size: usize,
    read_timeout: Duration,
    write_timeout: Duration,
    /// Wakes a waiting read or write at its deadline; may be set earlier than the
    /// deadlines (it is reset only when it fires before them).
    timer: Pin<Box<Sleep>>,
    timer_set: bool,
    read_deadline: Option<Instant>,
    write_deadline: Option<Instant>,
    /// When it was opened or last taken for a request.
    pub since: Instant,
}

impl Conn {
    pub(crate) fn new(io: Stream, read_timeout: Duration, write_timeout: Duration) -> Self {
        let now = Instant::now();
        Conn {
            io,
            rbuf: BytesMut::new(),
            read_size: READ_MIN,
            read_timeout,
            write_timeout,
            timer: Box::pin(tokio::time::sleep_until(now + read_timeout)),
            timer_set: false,
            read_deadline: None,
            write_deadline: None,
            since: now,
        }
    }

    /// Whether an idle connection can take a request: the upstream has not closed it
    /// and sent nothing unasked. Costs no system call while the socket is not readable.
    pub(crate) fn idle_usable(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.rbuf.is_empty() {
            return false;
        }
        match &mut self.io {
            Stream::Plain(tcp) => {
                let mut probe = [0u8; 1];
                match tcp.try_read(&mut probe) {
                    Err(e) => e.kind() == io::ErrorKind::WouldBlock,
                    // closed (0) or unexpected data
                    Ok(_) => false,
                }
            }
            Stream::Tls(_) => {
                // TLS may have records of its own to read (session tickets): read what
                // is there; application data or the end make it unusable
                self.rbuf.reserve(READ_MIN);
                let r = {
                    let fut = self.io.read_buf(&mut self.rbuf);
                    std::pin::pin!(fut).poll(cx)
                };
                r.is_pending()
            }
        }
    }

    /// The earliest deadline passed: which one.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Option<&'static str> {
        let deadline = match (self.read_deadline, self.write_deadline) {
            (Some(r), Some(w)) => r.min(w),
            (Some(r), None) => r,
            (None, Some(w)) => w,
            (None, None) => return None,
        };
        if !self.timer_set || self.timer.deadline() > deadline {
            self.timer.as_mut().reset(deadline);
            self.timer_set = true;
        }
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return None;
            }
            let now = Instant::now();
            if self.read_deadline.is_some_and(|d| d <= now) {
                return Some("read");
            }
            if self.write_deadline.is_some_and(|d| d <= now) {
                return Some("write");
            }
            // fired early (set for an earlier wait): wait for the real deadline
            self.timer.as_mut().reset(deadline);
        }
    }

    /// Read more into the read buffer: `Ok(0)` at the end of the stream.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.rbuf.capacity() - self.rbuf.len() < READ_MIN / 4 {
            self.rbuf.reserve(self.read_size);
        }
        let spare = self.rbuf.capacity() - self.rbuf.len();
        let r = {
            let fut = self.io.read_buf(&mut self.rbuf);
            std::pin::pin!(fut).poll(cx)
        };
        match r {
            Poll::Ready(r) => {
                self.read_deadline = None;
                if let Ok(n) = &r {
                    if *n == spare && self.read_size < READ_MAX {
                        self.read_size *= 2;
                    }
                }
                Poll::Ready(r)
            }
            Poll::Pending => {
                if self.read_deadline.is_none() {
                    self.read_deadline = Some(Instant::now() + self.read_timeout);
                }
                match self.poll_timer(cx) {
                    Some(what) => Poll::Ready(Err(timed_out(what))),
                    None => Poll::Pending,
                }
            }
        }
    }

    /// Write some of `bufs` (non-empty): the bytes written.
    fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = if bufs.len() == 1 {
            Pin::new(&mut self.io).poll_write(cx, &bufs[0])
        } else {
            Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
        };
        match r {
            Poll::Ready(Ok(0)) => Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Poll::Ready(r) => {
                self.write_deadline = None;
                // nginx counts the read timeout from the last write
                self.read_deadline = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                if self.write_deadline.is_none() {
                    self.write_deadline = Some(Instant::now() + self.write_timeout);
                }
                match self.poll_timer(cx) {
                    Some(what) => Poll::Ready(Err(timed_out(what))),
                    None => Poll::Pending,
                }
            }
        }
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.io {
            Stream::Plain(_) => Poll::Ready(Ok(())),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    /// Back to idle: no deadlines.
    pub(crate) fn idle(&mut self) {
        self.read_deadline = None;
        self.write_deadline = None;
    }

    /// Nothing left over from the last exchange.
    pub(crate) fn is_clean(&self) -> bool {
        self.rbuf.is_empty()
    }
}

/// How the request body is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReqFraming {
    /// No body.
    Empty,
    /// `Content-Length` (in the head): exactly that many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked` (in the head).
    Chunked,
}

/// Writes one request: its head, then its body as the client sends it.
pub(crate) struct ReqWriter {
    head: Vec<u8>,
    /// Head bytes written.
    head_pos: usize,
    /// Body bytes to write (framing included).
    out: VecDeque<Bytes>,
    body: Option<ReqBody>,
    framing: ReqFraming,
    /// Length framing: body bytes still to come.
    remaining: u64,
    /// Bytes handed to the connection.
    pub written: u64,
    /// Frames taken from the client's body.
    pub consumed: bool,
    /// The request was written completely.
    pub done: bool,
    /// Writing failed (the upstream went away or stopped reading); nothing more is
    /// written.
    pub failed: bool,
}

/// What stopped a request from being written.
pub(crate) enum WriteError {
    /// The client's body failed or did not match its `Content-Length`.
    Client(io::Error),
    /// The upstream side.
    Io(io::Error),
}

impl ReqWriter {
    pub(crate) fn new(head: Vec<u8>, body: Option<ReqBody>, framing: ReqFraming) -> Self {
        let body = match framing {
            ReqFraming::Empty => None,
            _ => body,
        };
        let remaining = match framing {
            ReqFraming::Length(n) => n,
            _ => 0,
        };
        ReqWriter {
            head,
            head_pos: 0,
            out: VecDeque::new(),
            body,
            framing,
            remaining,
            written: 0,
            consumed: false,
            done: false,
            failed: false,
        }
    }

    /// From the start again, for a retry on another connection (only when nothing
    /// of the client's body was taken).
    pub(crate) fn restart(&mut self) {
        self.head_pos = 0;
        self.out.clear();
        if self.framing == ReqFraming::Chunked && self.body.is_none() {
            self.out.push_back(Bytes::from_static(b"0\r\n\r\n"));
        }
        self.written = 0;
        self.done = false;
        self.failed = false;
    }

    /// Queue a body frame.
    fn push_frame(&mut self, frame: Frame<Bytes>) -> Result<(), WriteError> {
        let frame = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                // trailers: forwarded in chunked messages, else dropped
                if let (ReqFraming::Chunked, Ok(trailers)) = (self.framing, frame.into_trailers()) {
                    let mut t = Vec::with_capacity(64);
                    t.extend_from_slice(b"0\r\n");
                    for (n, v) in trailers.iter() {
                        if is_hop_by_hop(n) || n == CONTENT_LENGTH {
                            continue;
                        }
                        t.extend_from_slice(n.as_str().as_bytes());
                        t.extend_from_slice(b": ");
                        t.extend_from_slice(v.as_bytes());
                        t.extend_from_slice(b"\r\n");
                    }
                    t.extend_from_slice(b"\r\n");
                    self.out.push_back(Bytes::from(t));
                    self.body = None;
                }
                return Ok(());
            }
        };
        if frame.is_empty() {
            return Ok(());
        }
        match self.framing {
            ReqFraming::Empty => {}
            ReqFraming::Length(_) => {
                let n = frame.len() as u64;
                if n > self.remaining {
                    return Err(WriteError::Client(invalid(
                        "request body longer than its content-length",
                    )));
                }
                self.remaining -= n;
                self.out.push_back(frame);
            }
            ReqFraming::Chunked => {
                self.out
                    .push_back(Bytes::from(format!("{:x}\r\n", frame.len()).into_bytes()));
                self.out.push_back(frame);
                self.out.push_back(Bytes::from_static(b"\r\n"));
            }
        }
        Ok(())
    }

    /// The client's body ended.
    fn end_body(&mut self) -> Result<(), WriteError> {
        self.body = None;
        match self.framing {
            ReqFraming::Length(_) if self.remaining > 0 => Err(WriteError::Client(invalid(
                "request body shorter than its content-length",
            ))),
            ReqFraming::Chunked => {
                self.out.push_back(Bytes::from_static(b"0\r\n\r\n"));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Write what can be written now (taking more from the client's body as it is
    /// written). `Ready(Ok)`: all written; `Pending`: waiting for the upstream or the
    /// client.
    pub(crate) fn poll_write(
        &mut self,
        conn: &mut Conn,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), WriteError>> {
        if self.done {
            return Poll::Ready(Ok(()));
        }
        loop {
            let head_left = self.head.len() - self.head_pos;
            if head_left > 0 || !self.out.is_empty() {
                let mut slices = [IoSlice::new(&[]); 8];
                let mut n = 0;
                if let Some(rest) = self.head.get(self.head_pos..).filter(|r| !r.is_empty()) {
                    slices[0] = IoSlice::new(rest);
                    n = 1;
                }
                for (s, b) in slices[n..].iter_mut().zip(self.out.iter()) {
                    *s = IoSlice::new(b);
                    n += 1;
                }
                let wrote = match conn.poll_write(cx, &slices[..n]) {
                    Poll::Ready(Ok(w)) => w,
                    Poll::Ready(Err(e)) => {
                        self.failed = true;
                        return Poll::Ready(Err(WriteError::Io(e)));
                    }
                    Poll::Pending => return Poll::Pending,
                };
                self.written += wrote as u64;
                let from_head = wrote.min(head_left);
                self.head_pos += from_head;
                let mut left = wrote - from_head;
                while left > 0 {
                    let Some(front) = self.out.front_mut() else {
                        break;
                    };
                    if front.len() <= left {
                        left -= front.len();
                        self.out.pop_front();
                    } else {
                        front.advance(left);
                        left = 0;
                    }
                }
                continue;
            }
            let Some(body) = self.body.as_mut() else {
                return match conn.poll_flush(cx) {
                    Poll::Ready(Ok(())) => {
                        self.done = true;
                        Poll::Ready(Ok(()))
                    }
                    Poll::Ready(Err(e)) => {
                        self.failed = true;
                        Poll::Ready(Err(WriteError::Io(e)))
                    }
                    Poll::Pending => Poll::Pending,
                };
            };
            if body.is_end_stream() {
                self.end_body()?;
                continue;
            }
            match Pin::new(body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    self.consumed = true;
                    self.push_frame(frame)?;
                }
                Poll::Ready(Some(Err(e))) => {
                    self.consumed = true;
                    self.body = None;
                    return Poll::Ready(Err(WriteError::Client(io::Error::other(e))));
                }
                Poll::Ready(None) => self.end_body()?,
                Poll::Pending => {
                    // send what we have before waiting for the client (TLS buffers)
                    return match conn.poll_flush(cx) {
                        Poll::Ready(Err(e)) => {
                            self.failed = true;
                            Poll::Ready(Err(WriteError::Io(e)))
                        }
                        _ => Poll::Pending,
                    };
                }
            }
        }
    }
}

/// A response head, hop-by-hop headers removed.
pub(crate) struct RespHead {
    pub status: StatusCode,
    pub headers: HeaderMap,
}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// This many bytes left (0: done).
    Length(u64),
    Chunked(Chunk),
    /// Until the upstream closes.
    Close,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data: bytes left.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: the trailer section.
    Trailers,
}

/// What reading the response head gave.
pub(crate) enum HeadError {
    /// The connection ended (or was reset) before any byte of a response: the
    /// upstream may have closed an idle connection just as it was reused.
    Closed(io::Error),
    Io(io::Error),
    /// Not a valid HTTP/1.x response.
    Invalid(String),
}

/// A parsed response head, before the body.
pub(crate) struct Parsed {
    head: RespHead,
    framing: Framing,
    keep_alive: bool,
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::NotConnected
    )
}

/// Parse a complete head at the start of `rbuf`, if there is one.
fn parse_head(rbuf: &mut BytesMut, head_request: bool) -> Result<Option<(Parsed, u16)>, HeadError> {
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
                return Err(HeadError::Invalid("response head too large".into()));
            }
            return Ok(None);
        }
        Err(e) => return Err(HeadError::Invalid(format!("invalid response head: {e}"))),
    };
    let code = resp.code.unwrap_or(0);
    let status = StatusCode::from_u16(code)
        .map_err(|_| HeadError::Invalid(format!("invalid status {code}")))?;
    let version = if resp.version == Some(0) {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    if (100..200).contains(&code) {
        rbuf.advance(len);
        return Ok(Some((
            Parsed {
                head: RespHead {
                    status,
                    headers: HeaderMap::new(),
                },
                framing: Framing::Done,
                keep_alive: true,
            },
            code,
        )));
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
        // positions within a head of at most MAX_HEAD-ish bytes
        *span = (
            n as u32,
            (n + h.name.len()) as u32,
            v as u32,
            (v + h.value.len()) as u32,
        );
    }
    let head_bytes = rbuf.split_to(len).freeze();
    let mut headers = HeaderMap::with_capacity(count + 6);
    let mut content_length: Option<u64> = None;
    let mut bad_length = false;
    let mut chunked = false;
    let mut has_te = false;
    let mut close = version == Version::HTTP_10;
    let mut named: Vec<HeaderName> = Vec::new();
    for &(ns, ne, vs, ve) in spans.iter() {
        let raw_name = head_bytes.get(ns as usize..ne as usize).unwrap_or_default();
        let raw_value = head_bytes.get(vs as usize..ve as usize).unwrap_or_default();
        let name = HeaderName::from_bytes(raw_name).map_err(|_| {
            HeadError::Invalid(format!(
                "invalid header name {:?}",
                String::from_utf8_lossy(raw_name)
            ))
        })?;
        if name == CONTENT_LENGTH {
            let v = std::str::from_utf8(raw_value)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok());
            match (v, content_length) {
                (Some(v), None) => content_length = Some(v),
                (Some(v), Some(old)) if v == old => continue,
                _ => bad_length = true,
            }
        } else if is_hop_by_hop(&name) {
            if name == TRANSFER_ENCODING {
                has_te = true;
                // the last coding decides (a later header may add codings)
                let last = raw_value.rsplit(|b| *b == b',').next().unwrap_or(&[]);
                chunked = last.trim_ascii().eq_ignore_ascii_case(b"chunked");
            } else if name == CONNECTION {
                for t in raw_value.split(|b| *b == b',') {
                    let t = t.trim_ascii();
                    if t.eq_ignore_ascii_case(b"close") {
                        close = true;
                    } else if t.eq_ignore_ascii_case(b"keep-alive") {
                        if version == Version::HTTP_10 {
                            close = false;
                        }
                    } else if let Ok(n) = HeaderName::from_bytes(t) {
                        named.push(n);
                    }
                }
            }
            continue;
        }
        let value = HeaderValue::from_maybe_shared(head_bytes.slice(vs as usize..ve as usize))
            .map_err(|_| HeadError::Invalid(format!("invalid value of header {name}")))?;
        headers.append(name, value);
    }
    for n in &named {
        headers.remove(n);
    }
    let no_body = head_request || code == 204 || code == 304;
    let framing = if no_body {
        Framing::Done
    } else if has_te {
        // a length next to a transfer coding is ignored (and must not be forwarded)
        headers.remove(CONTENT_LENGTH);
        if chunked {
            Framing::Chunked(Chunk::Size)
        } else {
            close = true;
            Framing::Close
        }
    } else if bad_length {
        return Err(HeadError::Invalid("invalid content-length".into()));
    } else {
        match content_length {
            Some(0) => Framing::Done,
            Some(n) => Framing::Length(n),
            None => {
                close = true;
                Framing::Close
            }
        }
    };
    Ok(Some((
        Parsed {
            head: RespHead { status, headers },
            framing,
            keep_alive: !close,
        },
        code,
    )))
}

/// Send the request and read the response head (skipping interim 1xx answers); the
/// request body keeps streaming while the head is awaited (an upstream may answer
/// early, or stream its answer while it reads).
pub(crate) fn poll_exchange(
    conn: &mut Conn,
    w: &mut ReqWriter,
    head_request: bool,
    cx: &mut Context<'_>,
) -> Poll<Result<Parsed, ExchangeError>> {
    loop {
        if !w.done && !w.failed {
            match w.poll_write(conn, cx) {
                Poll::Ready(Ok(())) | Poll::Pending => {}
                Poll::Ready(Err(WriteError::Client(e))) => {
                    return Poll::Ready(Err(ExchangeError::Client(e)))
                }
                Poll::Ready(Err(WriteError::Io(e))) => {
                    if e.kind() == io::ErrorKind::TimedOut {
                        return Poll::Ready(Err(ExchangeError::Head(HeadError::Io(e))));
                    }
                    // the upstream may still have answered (e.g. 413 and close):
                    // read on
                    tracing::debug!("writing the upstream request failed: {e}");
                }
            }
        }
        if !conn.rbuf.is_empty() {
            match parse_head(&mut conn.rbuf, head_request) {
                Ok(Some((_, code))) if (100..200).contains(&code) => {
                    if code == 101 {
                        return Poll::Ready(Err(ExchangeError::Head(HeadError::Invalid(
                            "unexpected 101 Switching Protocols".into(),
                        ))));
                    }
                    continue;
                }
                Ok(Some((parsed, _))) => return Poll::Ready(Ok(parsed)),
                Ok(None) => {}
                Err(e) => return Poll::Ready(Err(ExchangeError::Head(e))),
            }
        }
        let had = conn.rbuf.len();
        match conn.poll_fill(cx) {
            Poll::Ready(Ok(0)) => {
                let e = io::Error::from(io::ErrorKind::UnexpectedEof);
                return Poll::Ready(Err(ExchangeError::Head(if had == 0 {
                    HeadError::Closed(e)
                } else {
                    HeadError::Invalid("the upstream closed the connection mid-head".into())
                })));
            }
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(e)) => {
                return Poll::Ready(Err(ExchangeError::Head(if had == 0 && is_reset(&e) {
                    HeadError::Closed(e)
                } else {
                    HeadError::Io(e)
                })));
            }
            // (after a failed write the read side reports the end, or times out)
            Poll::Pending => return Poll::Pending,
        }
    }
}

pub(crate) enum ExchangeError {
    Client(io::Error),
    Head(HeadError),
}

/// The response body, read from the connection as it is polled; also finishes
/// writing the request body when the upstream answered before it was complete.
pub(crate) struct RespBody {
    framing: Framing,
    keep_alive: bool,
    /// The rest of the request body, when the upstream answered before it was sent.
    writer: Option<Box<ReqWriter>>,
}

/// What reading the body gave.
pub(crate) enum BodyEvent {
    Data(Bytes),
    Trailers(HeaderMap),
    End,
}

impl RespBody {
    pub(crate) fn new(parsed: Parsed, writer: ReqWriter) -> (RespHead, Self) {
        // a request body that could not be written completely ends the connection
        // (what is left is written while the response body streams)
        let body = RespBody {
            framing: parsed.framing,
            keep_alive: parsed.keep_alive && !writer.failed,
            writer: (!writer.done && !writer.failed).then(|| Box::new(writer)),
        };
        (parsed.head, body)
    }

    pub(crate) fn is_end(&self) -> bool {
        self.framing == Framing::Done
    }

    /// Bytes left when the length is known.
    pub(crate) fn exact_len(&self) -> Option<u64> {
        match self.framing {
            Framing::Length(n) => Some(n),
            Framing::Done => Some(0),
            _ => None,
        }
    }

    /// The connection can take another request (the body ended, the request was
    /// written completely, nobody asked to close).
    pub(crate) fn reusable(&self) -> bool {
        self.keep_alive && self.framing == Framing::Done && self.writer.is_none()
    }

    /// Next piece of the body. Errors end the exchange (the connection is not
    /// reused).
    pub(crate) fn poll_next(
        &mut self,
        conn: &mut Conn,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<BodyEvent>> {
        if let Some(w) = self.writer.as_mut() {
            match w.poll_write(conn, cx) {
                Poll::Ready(Ok(())) => self.writer = None,
                Poll::Pending => {}
                Poll::Ready(Err(WriteError::Client(e))) => {
                    self.keep_alive = false;
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(Err(WriteError::Io(_))) => {
                    // the upstream stopped taking the request body: read on, but
                    // the connection is done for
                    self.keep_alive = false;
                }
            }
        }
        loop {
            match self.framing {
                Framing::Done => return Poll::Ready(Ok(BodyEvent::End)),
                Framing::Length(left) => {
                    if !conn.rbuf.is_empty() {
                        let n = (conn.rbuf.len() as u64).min(left) as usize;
                        let data = conn.rbuf.split_to(n).freeze();
                        let left = left - n as u64;
                        self.framing = if left == 0 {
                            Framing::Done
                        } else {
                            Framing::Length(left)
                        };
                        return Poll::Ready(Ok(BodyEvent::Data(data)));
                    }
                    match ready_fill(conn, cx)? {
                        Some(()) => {}
                        None => return Poll::Pending,
                    }
                }
                Framing::Close => {
                    if !conn.rbuf.is_empty() {
                        let data = conn.rbuf.split().freeze();
                        return Poll::Ready(Ok(BodyEvent::Data(data)));
                    }
                    match conn.poll_fill(cx) {
                        Poll::Ready(Ok(0)) => {
                            self.framing = Framing::Done;
                            self.keep_alive = false;
                            return Poll::Ready(Ok(BodyEvent::End));
                        }
                        Poll::Ready(Ok(_)) => {}
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Framing::Chunked(state) => match self.step_chunked(conn, state)? {
                    Step::Event(ev) => return Poll::Ready(Ok(ev)),
                    Step::Again => {}
                    Step::NeedMore => match ready_fill(conn, cx)? {
                        Some(()) => {}
                        None => return Poll::Pending,
                    },
                },
            }
        }
    }

    fn step_chunked(&mut self, conn: &mut Conn, state: Chunk) -> io::Result<Step> {
        let buf = &mut conn.rbuf;
        match state {
            Chunk::Size => {
                let Some(nl) = buf.iter().position(|b| *b == b'\n') else {
                    if buf.len() > MAX_HEAD {
                        return Err(invalid("chunk size line too long"));
                    }
                    return Ok(Step::NeedMore);
                };
                let line = &buf[..nl];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                // chunk extensions are ignored
                let size = line
                    .split(|b| *b == b';')
                    .next()
                    .unwrap_or(&[])
                    .trim_ascii();
                if size.is_empty() || size.len() > 16 {
                    return Err(invalid("invalid chunk size"));
                }
                let mut n: u64 = 0;
                for b in size {
                    let d = (*b as char)
                        .to_digit(16)
                        .ok_or_else(|| invalid("invalid chunk size"))?;
                    n = n
                        .checked_mul(16)
                        .and_then(|n| n.checked_add(u64::from(d)))
                        .ok_or_else(|| invalid("chunk size overflows"))?;
                }
                buf.advance(nl + 1);
                self.framing = Framing::Chunked(if n == 0 {
                    Chunk::Trailers
                } else {
                    Chunk::Data(n)
                });
                Ok(Step::Again)
            }
            Chunk::Data(left) => {
                if buf.is_empty() {
                    return Ok(Step::NeedMore);
                }
                let n = (buf.len() as u64).min(left) as usize;
                let data = buf.split_to(n).freeze();
                let left = left - n as u64;
                self.framing = Framing::Chunked(if left == 0 {
                    Chunk::DataEnd
                } else {
                    Chunk::Data(left)
                });
                Ok(Step::Event(BodyEvent::Data(data)))
            }
            Chunk::DataEnd => {
                if buf.starts_with(b"\r\n") {
                    buf.advance(2);
                } else if buf.starts_with(b"\n") {
                    buf.advance(1);
                } else if buf.is_empty() || buf[..] == b"\r"[..] {
                    return Ok(Step::NeedMore);
                } else {
                    return Err(invalid("missing CRLF after chunk data"));
                }
                self.framing = Framing::Chunked(Chunk::Size);
                Ok(Step::Again)
            }
            Chunk::Trailers => {
                // no trailers: an empty line
                if buf.starts_with(b"\r\n") || buf.starts_with(b"\n") {
                    buf.advance(if buf[0] == b'\r' { 2 } else { 1 });
                    self.framing = Framing::Done;
                    return Ok(Step::Event(BodyEvent::End));
                }
                let mut hs = [httparse::EMPTY_HEADER; HEADERS_INLINE];
                match httparse::parse_headers(buf, &mut hs) {
                    Ok(httparse::Status::Complete((len, fields))) => {
                        let mut trailers = HeaderMap::with_capacity(fields.len());
                        for h in fields {
                            let (Ok(n), Ok(v)) = (
                                HeaderName::from_bytes(h.name.as_bytes()),
                                HeaderValue::from_bytes(h.value),
                            ) else {
                                return Err(invalid("invalid trailer field"));
                            };
                            if is_hop_by_hop(&n) || n == CONTENT_LENGTH {
                                continue;
                            }
                            trailers.append(n, v);
                        }
                        buf.advance(len);
                        self.framing = Framing::Done;
                        Ok(Step::Event(if trailers.is_empty() {
                            BodyEvent::End
                        } else {
                            BodyEvent::Trailers(trailers)
                        }))
                    }
                    Ok(httparse::Status::Partial) => {
                        if buf.len() > MAX_HEAD {
                            return Err(invalid("trailer section too large"));
                        }
                        Ok(Step::NeedMore)
                    }
                    Err(e) => Err(invalid(format!("invalid trailers: {e}"))),
                }
            }
        }
    }
}

enum Step {
    Event(BodyEvent),
    Again,
    NeedMore,
}

/// Read more for a body that is not complete: the end of the stream is an error.
/// `None`: pending.
fn ready_fill(conn: &mut Conn, cx: &mut Context<'_>) -> io::Result<Option<()>> {
    match conn.poll_fill(cx) {
        Poll::Ready(Ok(0)) => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the upstream closed the connection before the end of the body",
        )),
        Poll::Ready(Ok(_)) => Ok(Some(())),
        Poll::Ready(Err(e)) => Err(e),
        Poll::Pending => Ok(None),
    }
}

/// Whether a request may be sent again after its connection failed: nothing of the
/// client's body was taken, and the method is idempotent or nothing was written.
pub(crate) fn replayable(method: &hyper::Method, w: &ReqWriter) -> bool {
    !w.consumed && (method.is_idempotent() || w.written == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8], head_request: bool) -> Result<Option<(Parsed, u16)>, HeadError> {
        let mut buf = BytesMut::from(raw);
        parse_head(&mut buf, head_request)
    }

    fn parsed(raw: &[u8]) -> Parsed {
        match parse(raw, false) {
            Ok(Some((p, _))) => p,
            _ => panic!("no head in {:?}", String::from_utf8_lossy(raw)),
        }
    }

    #[test]
    fn framing_of_response_heads() {
        let p = parsed(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nServer: up\r\n\r\n");
        assert_eq!(p.framing, Framing::Length(13));
        assert!(p.keep_alive);
        assert_eq!(p.head.headers["content-length"], "13");
        assert_eq!(p.head.headers["server"], "up");

        // chunked wins over a length, which is not forwarded
        let p = parsed(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        );
        assert_eq!(p.framing, Framing::Chunked(Chunk::Size));
        assert!(p.head.headers.get("content-length").is_none());
        assert!(p.head.headers.get("transfer-encoding").is_none());

        // a coding that is not chunked last, or no length at all: until the close
        let p = parsed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
        assert_eq!(p.framing, Framing::Close);
        assert!(!p.keep_alive);
        let p = parsed(b"HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(p.framing, Framing::Close);
        assert!(!p.keep_alive);

        // no body: HEAD, 204, 304, length 0
        let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"[..]);
        let Ok(Some((p, _))) = parse_head(&mut buf, true) else {
            panic!("HEAD answer")
        };
        assert_eq!(p.framing, Framing::Done);
        assert_eq!(p.head.headers["content-length"], "99");
        for raw in [
            &b"HTTP/1.1 204 No Content\r\n\r\n"[..],
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        ] {
            let p = parsed(raw);
            assert_eq!(p.framing, Framing::Done);
            assert!(p.keep_alive);
        }

        // the body after the head stays in the buffer
        let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"[..]);
        assert!(matches!(parse_head(&mut buf, false), Ok(Some(_))));
        assert_eq!(&buf[..], b"ok");
    }

    #[test]
    fn connection_header_of_responses() {
        let p = parsed(
            b"HTTP/1.1 200 OK\r\nConnection: close, X-Private\r\nX-Private: 1\r\nX-Public: 2\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n",
        );
        assert!(!p.keep_alive);
        assert!(p.head.headers.get("x-private").is_none());
        assert!(p.head.headers.get("keep-alive").is_none());
        assert!(p.head.headers.get("connection").is_none());
        assert_eq!(p.head.headers["x-public"], "2");
        // HTTP/1.0: kept alive only when asked
        let p = parsed(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert!(!p.keep_alive);
        let p = parsed(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
        assert!(p.keep_alive);
    }

    #[test]
    fn partial_interim_and_invalid_heads() {
        assert!(matches!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Le", false),
            Ok(None)
        ));
        let mut buf = BytesMut::from(&b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"[..]);
        let Ok(Some((_, code))) = parse_head(&mut buf, false) else {
            panic!("interim answer")
        };
        assert_eq!(code, 100);
        assert_eq!(&buf[..], b"HTTP/1.1 200 OK\r\n");
        for raw in [
            &b"SSH-2.0-OpenSSH_9.6\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 20 OK\r\n\r\n",
        ] {
            assert!(
                matches!(parse(raw, false), Err(HeadError::Invalid(_))),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
        // the same length twice is fine (and sent once)
        let p = parsed(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n");
        assert_eq!(p.framing, Framing::Length(3));
        assert_eq!(p.head.headers.get_all("content-length").iter().count(), 1);
        // many headers
        let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..100 {
            raw.extend_from_slice(format!("x-h{i}: {i}\r\n").as_bytes());
        }
        raw.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        let p = parsed(&raw);
        assert_eq!(p.head.headers.len(), 101);
        assert_eq!(p.head.headers["x-h99"], "99");
    }
}
