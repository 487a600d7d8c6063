//! The upstream side of the data plane (its own HTTP/1.1 client) against scripted
//! upstreams: raw TCP servers on ephemeral ports that answer byte for byte, to check
//! the response framings (chunked with trailers, close-delimited, no body for HEAD,
//! 204 and 304), interim answers, connection reuse, retries after an upstream closed a
//! pooled connection, and invalid answers.

mod gateway_support;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gateway_support::*;
use http_body_util::{BodyExt, Empty};
use server::gateway::ErrorKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A scripted upstream: `f(n, reader)` serves its `n`-th connection (from 0).
async fn scripted<F, Fut>(f: F) -> (SocketAddr, Arc<AtomicUsize>)
where
    F: Fn(usize, Reader) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(f(n, Reader::new(s)));
        }
    });
    (addr, count)
}

/// Reads HTTP/1.1 requests off a connection.
struct Reader {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Reader {
    fn new(s: TcpStream) -> Self {
        Reader { s, buf: Vec::new() }
    }

    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match self.s.read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// The next request head (lower-cased), `None` when the connection ended.
    async fn head(&mut self) -> Option<String> {
        loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head: Vec<u8> = self.buf.drain(..i + 4).collect();
                return Some(String::from_utf8_lossy(&head).to_ascii_lowercase());
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    async fn line(&mut self) -> String {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).collect();
                return String::from_utf8_lossy(&line[..i]).to_string();
            }
            assert!(self.fill().await, "connection ended in a line");
        }
    }

    async fn exact(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill().await, "connection ended in a body");
        }
        self.buf.drain(..n).collect()
    }

    /// The body of a request with head `head` (content-length or chunked).
    async fn body(&mut self, head: &str) -> Vec<u8> {
        if let Some(n) = header(head, "content-length") {
            return self.exact(n.parse().unwrap()).await;
        }
        if header(head, "transfer-encoding").as_deref() == Some("chunked") {
            let mut body = Vec::new();
            loop {
                let size = usize::from_str_radix(self.line().await.trim(), 16).unwrap();
                if size == 0 {
                    // trailers up to the empty line
                    while !self.line().await.is_empty() {}
                    return body;
                }
                body.extend(self.exact(size).await);
                assert_eq!(self.exact(2).await, b"\r\n");
            }
        }
        Vec::new()
    }

    async fn send(&mut self, bytes: &[u8]) {
        let _ = self.s.write_all(bytes).await;
    }
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        (n.trim() == name).then(|| v.trim().to_string())
    })
}

fn request_line(head: &str) -> &str {
    head.lines().next().unwrap_or("")
}

/// A gateway with one route `/` (path kept) to `addr`, retries 0.
async fn gateway_to(addr: SocketAddr) -> Gateway {
    let gw = Gateway::start().await;
    let mut r = route("r", &["/"]);
    r.strip_path = false;
    gw.dp
        .apply(snapshot(1, vec![service("s", up(addr), vec![r])]))
        .unwrap();
    gw
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_response_with_trailers_and_reuse() {
    let (addr, conns) = scripted(|_, mut r| async move {
        while let Some(head) = r.head().await {
            r.body(&head).await;
            r.send(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-up: 1\r\n\r\n\
                  5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nx-checksum: abc\r\n\r\n",
            )
            .await;
        }
    })
    .await;
    let gw = gateway_to(addr).await;

    let c = client();
    for _ in 0..3 {
        let r = c.get(gw.url("/chunked")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-up"], "1");
        assert_eq!(r.text().await.unwrap(), "hello, world");
    }
    // a client that accepts trailers: the body is the same (the trailer section was
    // read to its end; `Trailer` is hop-by-hop, so hyper sends no undeclared trailers)
    let mut send = raw::<Empty<Bytes>>(gw.addr).await;
    let req = hyper::Request::get("/chunked")
        .header("host", "gw.test")
        .header("te", "trailers")
        .body(Empty::new())
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("transfer-encoding").is_some());
    let collected = resp.into_body().collect().await.unwrap();
    assert_eq!(collected.to_bytes(), "hello, world");
    // one upstream connection served all of them
    assert_eq!(conns.load(Ordering::SeqCst), 1);
    let entries = gw.sink.wait_for(4).await;
    assert!(entries
        .iter()
        .all(|e| e.error.is_none() && e.response_bytes == 12));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_delimited_response() {
    let (addr, conns) = scripted(|n, mut r| async move {
        if let Some(head) = r.head().await {
            r.body(&head).await;
            let body = format!("until the end, connection {n}");
            r.send(format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n{body}").as_bytes())
                .await;
            // the end of the stream ends the body
        }
    })
    .await;
    let gw = gateway_to(addr).await;
    let c = client();
    for n in 0..2 {
        let r = c.get(gw.url("/close")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.text().await.unwrap(),
            format!("until the end, connection {n}")
        );
    }
    // not reused: a connection each
    assert_eq!(conns.load(Ordering::SeqCst), 2);
    let entries = gw.sink.wait_for(2).await;
    assert!(entries.iter().all(|e| e.error.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_body_for_head_204_and_304() {
    let (addr, conns) = scripted(|_, mut r| async move {
        while let Some(head) = r.head().await {
            r.body(&head).await;
            let line = request_line(&head).to_string();
            if line.starts_with("head ") {
                // a HEAD answer announces the length of the GET answer, without it
                r.send(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\nx-kind: head\r\n\r\n")
                    .await;
            } else if line.contains("/204") {
                r.send(b"HTTP/1.1 204 No Content\r\nx-kind: 204\r\n\r\n")
                    .await;
            } else if line.contains("/304") {
                r.send(b"HTTP/1.1 304 Not Modified\r\netag: \"v1\"\r\ncontent-length: 50\r\n\r\n")
                    .await;
            } else {
                r.send(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await;
            }
        }
    })
    .await;
    let gw = gateway_to(addr).await;
    let c = client();
    let r = c.head(gw.url("/thing")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], "1000");
    assert_eq!(r.headers()["x-kind"], "head");
    assert!(r.bytes().await.unwrap().is_empty());
    let r = c.get(gw.url("/204")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["x-kind"], "204");
    assert!(r.bytes().await.unwrap().is_empty());
    let r = c.get(gw.url("/304")).send().await.unwrap();
    assert_eq!(r.status(), 304);
    assert_eq!(r.headers()["etag"], "\"v1\"");
    assert!(r.bytes().await.unwrap().is_empty());
    // the connection is still in step
    let r = c.get(gw.url("/after")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
    assert_eq!(conns.load(Ordering::SeqCst), 1);
    let entries = gw.sink.wait_for(4).await;
    assert!(entries.iter().all(|e| e.error.is_none()), "{entries:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interim_answers_are_skipped() {
    let (addr, conns) = scripted(|_, mut r| async move {
        while let Some(head) = r.head().await {
            // the gateway does not forward the client's Expect
            assert!(header(&head, "expect").is_none(), "{head}");
            r.send(b"HTTP/1.1 100 Continue\r\n\r\n").await;
            let body = r.body(&head).await;
            let mut answer =
                b"HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n".to_vec();
            answer.extend_from_slice(
                format!(
                    "HTTP/1.1 201 Created\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            answer.extend_from_slice(&body);
            r.send(&answer).await;
        }
    })
    .await;
    let gw = gateway_to(addr).await;
    let c = client();
    for _ in 0..2 {
        let r = c
            .post(gw.url("/upload"))
            .header("expect", "100-continue")
            .body("the payload")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        assert!(r.headers().get("link").is_none());
        assert_eq!(r.text().await.unwrap(), "the payload");
    }
    assert_eq!(conns.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_request_body_is_streamed_upstream() {
    let (addr, _) = scripted(|_, mut r| async move {
        while let Some(head) = r.head().await {
            let te = header(&head, "transfer-encoding").unwrap_or_default();
            let body = r.body(&head).await;
            let answer = format!("{te} {}", body.len());
            r.send(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{answer}",
                    answer.len()
                )
                .as_bytes(),
            )
            .await;
        }
    })
    .await;
    let gw = gateway_to(addr).await;
    // a body of unknown length: three frames
    let body = Frames(vec![
        Bytes::from(vec![b'a'; 1000]),
        Bytes::from(vec![b'b'; 70_000]),
        Bytes::from_static(b"c"),
    ]);
    let mut send = raw(gw.addr).await;
    let req = hyper::Request::post("/stream")
        .header("host", "gw.test")
        .body(body)
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(text, "chunked 71001");
    // and a body with a length keeps it
    let r = client()
        .put(gw.url("/sized"))
        .body(vec![7u8; 5000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), " 5000");
}

/// A body of ready frames, length unknown (chunked on the wire).
struct Frames(Vec<Bytes>);

impl hyper::body::Body for Frames {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        let next = (!self.0.is_empty()).then(|| self.0.remove(0));
        std::task::Poll::Ready(next.map(|b| Ok(hyper::body::Frame::data(b))))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_connection_closed_by_the_upstream() {
    // connection 0 answers once, then reads the next request and closes without an
    // answer (the race of an upstream closing an idle connection just as it is
    // reused); later connections answer everything
    let script = |n: usize, mut r: Reader| async move {
        while let Some(head) = r.head().await {
            let body = r.body(&head).await;
            if n == 0 && request_line(&head).contains("/second") {
                return;
            }
            let answer = format!("{} on {n}, {} bytes", request_line(&head), body.len());
            r.send(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{answer}",
                    answer.len()
                )
                .as_bytes(),
            )
            .await;
        }
    };

    // GET: safe to send again, on a new connection
    let (addr, conns) = scripted(script).await;
    let gw = gateway_to(addr).await;
    let c = client();
    let r = c.get(gw.url("/first")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "get /first http/1.1 on 0, 0 bytes");
    let r = c.get(gw.url("/second")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.text().await.unwrap(),
        "get /second http/1.1 on 1, 0 bytes"
    );
    assert_eq!(conns.load(Ordering::SeqCst), 2);

    // POST with a body: the body was sent and is gone, so no second try: 502
    let (addr, conns) = scripted(script).await;
    let gw = gateway_to(addr).await;
    let r = c.get(gw.url("/first")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap();
    let r = c
        .post(gw.url("/second"))
        .body("not twice")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(conns.load(Ordering::SeqCst), 1);
    let entries = gw.sink.wait_for(2).await;
    assert_eq!(entries[1].error, Some(ErrorKind::UpstreamUnavailable));

    // an upstream that closed an idle connection cleanly before the next request:
    // noticed when the connection is taken, even for a POST
    let (addr, conns) = scripted(|n, mut r| async move {
        if let Some(head) = r.head().await {
            r.body(&head).await;
            let answer = format!("on {n}");
            r.send(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{answer}",
                    answer.len()
                )
                .as_bytes(),
            )
            .await;
        }
        // and close (keep-alive was announced)
    })
    .await;
    let gw = gateway_to(addr).await;
    let r = c.get(gw.url("/a")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "on 0");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = c.post(gw.url("/b")).body("once").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "on 1");
    assert_eq!(conns.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_answers_are_502() {
    let (addr, _) = scripted(|_, mut r| async move {
        if let Some(head) = r.head().await {
            let line = request_line(&head).to_string();
            if line.contains("/garbage") {
                r.send(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
            } else if line.contains("/bad-length") {
                r.send(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!")
                    .await;
            } else if line.contains("/half-head") {
                r.send(b"HTTP/1.1 200 OK\r\ncontent-le").await;
            } else if line.contains("/nothing") {
                // closes at once
            } else if line.contains("/short-body") {
                r.send(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this")
                    .await;
            } else if line.contains("/bad-chunk") {
                r.send(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n")
                    .await;
            }
        }
    })
    .await;
    let gw = gateway_to(addr).await;
    let c = client();
    for path in ["/garbage", "/bad-length", "/half-head", "/nothing"] {
        let r = c.get(gw.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 502, "{path}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            v["message"],
            "An invalid response was received from the upstream server"
        );
    }
    let entries = gw.sink.wait_for(4).await;
    assert!(entries
        .iter()
        .all(|e| e.status == 502 && e.error == Some(ErrorKind::UpstreamUnavailable)));
    // cut short after the head: the client sees the response fail (as soon as the
    // head, or in the body)
    for path in ["/short-body", "/bad-chunk"] {
        match c.get(gw.url(path)).send().await {
            Ok(r) => {
                assert_eq!(r.status(), 200, "{path}");
                assert!(r.bytes().await.is_err(), "{path}");
            }
            Err(e) => assert!(!e.is_timeout(), "{path}: {e}"),
        }
    }
    let entries = gw.sink.wait_for(6).await;
    assert_eq!(entries[4].error, Some(ErrorKind::UpstreamAbort));
    assert_eq!(entries[5].error, Some(ErrorKind::UpstreamAbort));
}

/// Framing an upstream's answer could be read two ways by (hyper is the reference,
/// nginx where hyper is laxer): the head is refused with 502, or the body stops
/// (the client sees its response fail) instead of being read the lax way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_upstream_framing_is_refused() {
    const HEADS: [(&str, &[u8]); 5] = [
        ("/plus-length", b"HTTP/1.1 200 OK\r\ncontent-length: +5\r\n\r\nhello"),
        (
            "/te-and-length",
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ),
        ("/te-gzip", b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nhello"),
        (
            "/te-twice",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ),
        (
            "/te-http10",
            b"HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ),
    ];
    const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    let long_ext = format!("5;{}\r\nhello\r\n0\r\n\r\n", "e".repeat(20_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("/lf-size", b"5\nhello\r\n0\r\n\r\n".to_vec()),
        ("/lf-data", b"5\r\nhello\n0\r\n\r\n".to_vec()),
        ("/lf-last", b"5\r\nhello\r\n0\n\n".to_vec()),
        ("/lf-end", b"5\r\nhello\r\n0\r\n\n".to_vec()),
        ("/space-size", b" 5\r\nhello\r\n0\r\n\r\n".to_vec()),
        ("/sign-size", b"+5\r\nhello\r\n0\r\n\r\n".to_vec()),
        ("/long-ext", long_ext.into_bytes()),
    ];
    let answers: Arc<Vec<(String, Vec<u8>)>> = Arc::new(
        HEADS
            .iter()
            .map(|(p, a)| (p.to_string(), a.to_vec()))
            .chain(
                bodies
                    .iter()
                    .map(|(p, b)| (p.to_string(), [CHUNKED, b].concat())),
            )
            .collect(),
    );
    let script = answers.clone();
    let (addr, _) = scripted(move |_, mut r| {
        let answers = script.clone();
        async move {
            if let Some(head) = r.head().await {
                let line = request_line(&head).to_string();
                if let Some((_, a)) = answers
                    .iter()
                    .find(|(p, _)| line.contains(&format!(" {p} ")))
                {
                    r.send(a).await;
                }
            }
        }
    })
    .await;
    let gw = gateway_to(addr).await;
    let c = client();
    for (path, _) in HEADS {
        let r = c.get(gw.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 502, "{path}");
    }
    let entries = gw.sink.wait_for(HEADS.len()).await;
    assert!(entries
        .iter()
        .all(|e| e.status == 502 && e.error == Some(ErrorKind::UpstreamUnavailable)));
    for (path, _) in &bodies {
        match c.get(gw.url(path)).send().await {
            Ok(r) => {
                assert_eq!(r.status(), 200, "{path}");
                assert!(r.bytes().await.is_err(), "{path}: the body was taken");
            }
            Err(e) => assert!(!e.is_timeout(), "{path}: {e}"),
        }
    }
    let entries = gw.sink.wait_for(HEADS.len() + bodies.len()).await;
    assert!(entries[HEADS.len()..]
        .iter()
        .all(|e| e.error == Some(ErrorKind::UpstreamAbort)));
}
