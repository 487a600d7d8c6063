//! A lean HTTP/1.1 client for upstream connections: the request head is written as
//! one buffer (prepared by the proxy), the request body is streamed behind it
//! (`Content-Length` or chunked), the response head is parsed with `httparse` straight
//! from the connection's read buffer, and the response body is read from the socket
//! by whoever polls it (the client connection's task): no channel, no task of its
//! own, no copy of the body.
//!
//! The parsing itself (the response head, the body's framing, the chunked coding) is
//! the `portico-h1` crate (`server/h1`), pure functions on the read buffer with their
//! own fuzz targets; this module does the I/O around them. Response body framing
//! follows RFC 9112 section 6.3 as hyper reads it, refusing what nginx refuses (see
//! that crate's docs): no body for `HEAD` and for 1xx/204/304 answers, chunked when
//! `Transfer-Encoding` is exactly `chunked` (trailers included), else
//! `Content-Length`, else until the upstream closes. Interim 1xx answers
//! (`100 Continue`, `103 Early Hints`) are skipped. A connection is reusable when both
//! messages were complete and neither side asked to close.
//!
//! [`Conn`] is generic over its transport (`AsyncRead + AsyncWrite`): the pool uses
//! TCP or TLS streams (`upstream::Stream`, which also answers the idle probe), the
//! tests in-memory pipes. The differential test (`h1client/diff.rs`) checks that it
//! reads generated answers as `hyper::client::conn::http1` does.
//!
//! Timeouts are nginx's: a read fails after waiting the read timeout since the last
//! read or write, a write after waiting the write timeout. One timer per connection,
//! re-armed lazily (reading the clock when a wait begins, resetting the timer only
//! when it fires early), so that a request costs no timer-wheel update.

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http_body::{Body, Frame};
use hyper::header::{HeaderMap, CONTENT_LENGTH};
pub(crate) use portico_h1::{connection_named, is_hop_by_hop, Parsed, RespHead};
use portico_h1::{parse_head, BodyDecoder, Decoded};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::time::{Instant, Sleep};

use crate::gateway::body::ReqBody;

#[cfg(test)]
mod diff;
#[cfg(test)]
mod tests;

/// Read buffer: first size, and the largest a read grows to while a body streams.
const READ_MIN: usize = 8 * 1024;
const READ_MAX: usize = 256 * 1024;

fn timed_out(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("upstream {what} timed out"),
    )
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// A transport whose idle connections can be checked without waiting.
pub(crate) trait IdleProbe {
    /// Whether an idle connection can take a request: the peer has not closed it and
    /// sent nothing unasked. Bytes it reads (if any) go to `rbuf`.
    fn idle_usable(&mut self, rbuf: &mut BytesMut, cx: &mut Context<'_>) -> bool;
}

/// The idle probe of a transport that may have bytes of its own to read (TLS session
/// tickets): read what is there; data or the end make it unusable.
pub(crate) fn idle_by_reading<S: AsyncRead + Unpin>(
    io: &mut S,
    rbuf: &mut BytesMut,
    cx: &mut Context<'_>,
) -> bool {
    rbuf.reserve(READ_MIN);
    let fut = io.read_buf(rbuf);
    std::pin::pin!(fut).poll(cx).is_pending()
}

/// One upstream connection: the transport, its read buffer and its timers.
pub(crate) struct Conn<S> {
    io: S,
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

impl<S> Conn<S> {
    /// The transport and what was read past the last head: for a connection that
    /// switched protocols (101).
    pub(crate) fn into_parts(self) -> (S, BytesMut) {
        (self.io, self.rbuf)
    }
}

impl<S: IdleProbe> Conn<S> {
    /// Whether an idle connection can take a request: the upstream has not closed it
    /// and sent nothing unasked. Costs no system call while a TCP socket is not
    /// readable.
    pub(crate) fn idle_usable(&mut self, cx: &mut Context<'_>) -> bool {
        self.rbuf.is_empty() && self.io.idle_usable(&mut self.rbuf, cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub(crate) fn new(io: S, read_timeout: Duration, write_timeout: Duration) -> Self {
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

    /// (A no-op on TCP: tokio's `TcpStream` buffers nothing.)
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
}

impl<S> Conn<S> {
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
    /// The request asks to upgrade (WebSocket): a 101 answer is taken, not refused.
    pub upgrade: bool,
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
            upgrade: false,
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
    pub(crate) fn poll_write<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        conn: &mut Conn<S>,
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

/// What reading the response head gave.
pub(crate) enum HeadError {
    /// The connection ended (or was reset) before any byte of a response: the
    /// upstream may have closed an idle connection just as it was reused.
    Closed(io::Error),
    Io(io::Error),
    /// Not a valid HTTP/1.x response.
    Invalid(String),
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

/// Send the request and read the response head (skipping interim 1xx answers); the
/// request body keeps streaming while the head is awaited (an upstream may answer
/// early, or stream its answer while it reads).
pub(crate) fn poll_exchange<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
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
                Ok(Some(p)) if p.head.status.is_informational() => {
                    if p.head.status == hyper::StatusCode::SWITCHING_PROTOCOLS {
                        if w.upgrade {
                            return Poll::Ready(Ok(p));
                        }
                        return Poll::Ready(Err(ExchangeError::Head(HeadError::Invalid(
                            "unexpected 101 Switching Protocols".into(),
                        ))));
                    }
                    continue;
                }
                Ok(Some(parsed)) => return Poll::Ready(Ok(parsed)),
                Ok(None) => {}
                Err(e) => return Poll::Ready(Err(ExchangeError::Head(HeadError::Invalid(e.0)))),
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
    decoder: BodyDecoder,
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
            decoder: parsed.body,
            keep_alive: parsed.keep_alive && !writer.failed,
            writer: (!writer.done && !writer.failed).then(|| Box::new(writer)),
        };
        (parsed.head, body)
    }

    pub(crate) fn is_end(&self) -> bool {
        self.decoder.is_end()
    }

    /// Bytes left when the length is known.
    pub(crate) fn exact_len(&self) -> Option<u64> {
        self.decoder.exact_len()
    }

    /// The connection can take another request (the body ended, the request was
    /// written completely, nobody asked to close).
    pub(crate) fn reusable(&self) -> bool {
        self.keep_alive && self.decoder.is_end() && self.writer.is_none()
    }

    /// Next piece of the body. Errors end the exchange (the connection is not
    /// reused).
    pub(crate) fn poll_next<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        conn: &mut Conn<S>,
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
            match self.decoder.decode(&mut conn.rbuf) {
                Ok(Decoded::Data(d)) => return Poll::Ready(Ok(BodyEvent::Data(d))),
                Ok(Decoded::Trailers(t)) => return Poll::Ready(Ok(BodyEvent::Trailers(t))),
                Ok(Decoded::End) => return Poll::Ready(Ok(BodyEvent::End)),
                Ok(Decoded::NeedMore) => {}
                Err(e) => {
                    self.keep_alive = false;
                    return Poll::Ready(Err(e));
                }
            }
            match conn.poll_fill(cx) {
                Poll::Ready(Ok(0)) => {
                    // the end of a body read until the close, else cut short
                    self.keep_alive = false;
                    self.decoder.eof()?;
                    return Poll::Ready(Ok(BodyEvent::End));
                }
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Whether a request may be sent again after its connection failed: nothing of the
/// client's body was taken, and the method is idempotent or nothing was written.
pub(crate) fn replayable(method: &hyper::Method, w: &ReqWriter) -> bool {
    !w.consumed && (method.is_idempotent() || w.written == 0)
}
