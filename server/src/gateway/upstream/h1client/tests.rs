//! The client over in-memory pipes (`tokio::io::duplex`): whole exchanges, answers
//! arriving in small pieces, reuse, timeouts. The parsing rules themselves are tested
//! in `portico-h1`; the integration tests (`tests/gateway_upstream.rs`) use sockets.

use std::future::poll_fn;
use std::time::Duration;

use hyper::header::HeaderMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;

use super::*;

/// An upstream on the other end of a pipe: for each answer, reads a request head and
/// writes the answer in pieces of `piece` bytes (letting the reader run between
/// them); then closes its side for writing and reads until the client goes away.
pub(super) fn upstream(
    mut io: DuplexStream,
    answers: Vec<Vec<u8>>,
    piece: usize,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = Vec::new();
        for answer in answers {
            loop {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    buf.drain(..i + 4);
                    break;
                }
                let mut chunk = [0u8; 1024];
                match io.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            for p in answer.chunks(piece.max(1)) {
                if io.write_all(p).await.is_err() {
                    return;
                }
                tokio::task::yield_now().await;
            }
        }
        let _ = io.shutdown().await;
        let mut sink = Vec::new();
        let _ = io.read_to_end(&mut sink).await;
    })
}

pub(super) fn pipe_conn(read_timeout: Duration) -> (Conn<DuplexStream>, DuplexStream) {
    let (client, server) = tokio::io::duplex(1 << 20);
    (Conn::new(client, read_timeout, read_timeout), server)
}

/// Send a `GET /` (or `HEAD /`) without a body; the answer's head and body.
pub(super) async fn send(
    conn: &mut Conn<DuplexStream>,
    head_request: bool,
) -> Result<(RespHead, RespBody), String> {
    let method = if head_request { "HEAD" } else { "GET" };
    let head = format!("{method} / HTTP/1.1\r\nhost: up\r\n\r\n").into_bytes();
    let mut w = ReqWriter::new(head, None, ReqFraming::Empty);
    match poll_fn(|cx| poll_exchange(conn, &mut w, head_request, cx)).await {
        Ok(parsed) => Ok(RespBody::new(parsed, w)),
        Err(ExchangeError::Head(HeadError::Invalid(m))) => Err(m),
        Err(ExchangeError::Head(HeadError::Io(e) | HeadError::Closed(e)))
        | Err(ExchangeError::Client(e)) => Err(e.to_string()),
    }
}

/// Read a body to its end: its bytes and trailers.
pub(super) async fn read_body(
    conn: &mut Conn<DuplexStream>,
    body: &mut RespBody,
) -> io::Result<(Vec<u8>, HeaderMap)> {
    let mut data = Vec::new();
    loop {
        match poll_fn(|cx| body.poll_next(conn, cx)).await? {
            BodyEvent::Data(d) => {
                assert!(!d.is_empty());
                data.extend_from_slice(&d);
            }
            BodyEvent::Trailers(t) => return Ok((data, t)),
            BodyEvent::End => return Ok((data, HeaderMap::new())),
        }
    }
}

const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Up: 1\r\n\r\n\
    5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nx-checksum: abc\r\nconnection: x\r\n\r\n";

#[tokio::test]
async fn a_chunked_answer_in_small_pieces_and_the_connection_is_reused() {
    for piece in [1, 3, 1000] {
        let (mut conn, server) = pipe_conn(Duration::from_secs(10));
        let up = upstream(
            server,
            vec![
                CHUNKED.to_vec(),
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
            ],
            piece,
        );
        let (head, mut body) = send(&mut conn, false).await.unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.headers["x-up"], "1");
        assert!(head.headers.get("transfer-encoding").is_none());
        let (data, trailers) = read_body(&mut conn, &mut body).await.unwrap();
        assert_eq!(data, b"hello, world");
        // hop-by-hop trailers are dropped
        assert_eq!(trailers.len(), 1, "{trailers:?}");
        assert_eq!(trailers["x-checksum"], "abc");
        assert!(body.reusable() && conn.is_clean());

        // the same connection takes the next request
        let (head, mut body) = send(&mut conn, false).await.unwrap();
        assert_eq!(head.headers["content-length"], "2");
        assert_eq!(body.exact_len(), Some(2));
        let (data, _) = read_body(&mut conn, &mut body).await.unwrap();
        assert_eq!(data, b"ok");
        assert!(body.reusable() && conn.is_clean());
        drop(conn);
        up.await.unwrap();
    }
}

#[tokio::test]
async fn a_close_delimited_answer_ends_with_the_stream() {
    let (mut conn, server) = pipe_conn(Duration::from_secs(10));
    let _up = upstream(
        server,
        vec![b"HTTP/1.1 200 OK\r\n\r\nuntil the end".to_vec()],
        4,
    );
    let (_, mut body) = send(&mut conn, false).await.unwrap();
    assert_eq!(body.exact_len(), None);
    let (data, _) = read_body(&mut conn, &mut body).await.unwrap();
    assert_eq!(data, b"until the end");
    assert!(body.is_end());
    assert!(!body.reusable());
}

#[tokio::test]
async fn a_bare_lf_in_a_chunked_answer_ends_the_exchange() {
    for answer in [
        &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\n\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\n",
    ] {
        let (mut conn, server) = pipe_conn(Duration::from_secs(10));
        let _up = upstream(server, vec![answer.to_vec()], 2);
        let (head, mut body) = send(&mut conn, false).await.unwrap();
        assert_eq!(head.status, 200);
        let e = read_body(&mut conn, &mut body).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
        assert!(!body.reusable());
    }
}

#[tokio::test]
async fn interim_answers_are_skipped_and_a_101_is_refused() {
    let (mut conn, server) = pipe_conn(Duration::from_secs(10));
    let _up = upstream(
        server,
        vec![b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n".to_vec()],
        5,
    );
    let (head, body) = send(&mut conn, false).await.unwrap();
    assert_eq!(head.status, 204);
    assert!(body.is_end() && body.reusable());

    let (mut conn, server) = pipe_conn(Duration::from_secs(10));
    let _up = upstream(
        server,
        vec![b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n".to_vec()],
        100,
    );
    let e = send(&mut conn, false).await.err();
    assert_eq!(e.as_deref(), Some("unexpected 101 Switching Protocols"));
}

#[tokio::test]
async fn a_silent_upstream_times_out_after_the_read_timeout() {
    let timeout = Duration::from_millis(300);
    let (mut conn, mut server) = pipe_conn(timeout);
    let _silent = tokio::spawn(async move {
        // reads the request, never answers
        let mut buf = [0u8; 100];
        let _ = server.read(&mut buf).await;
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    let started = std::time::Instant::now();
    let r = send(&mut conn, false).await;
    assert_eq!(r.err().as_deref(), Some("upstream read timed out"));
    let waited = started.elapsed();
    assert!(waited >= timeout && waited < timeout * 5, "{waited:?}");

    // and in the body, counted from the last read
    let (mut conn, server) = pipe_conn(timeout);
    let _server = server;
    conn.rbuf
        .extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf");
    let (_, mut body) = send(&mut conn, false).await.unwrap();
    let started = std::time::Instant::now();
    let e = read_body(&mut conn, &mut body).await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    let waited = started.elapsed();
    assert!(waited >= timeout && waited < timeout * 5, "{waited:?}");
}
