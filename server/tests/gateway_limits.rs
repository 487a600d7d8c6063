//! Slow and greedy clients: a data plane's limits (`ProxyLimits`) hold against clients
//! that trickle a head or a body, open too many connections, keep them idle, or send
//! huge heads; HTTP/2 requests whose `:authority` and `Host` disagree are refused.

mod gateway_support;

use std::time::Duration;

use gateway_support::*;
use server::gateway::ProxyLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn limits() -> ProxyLimits {
    ProxyLimits {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        max_connections: 2,
        ..ProxyLimits::default()
    }
}

async fn gateway_with(limits: ProxyLimits) -> (Gateway, std::net::SocketAddr, RecordedLog) {
    let (addr, seen) = recording_upstream().await;
    let gw = Gateway::start_with_limits(limits).await;
    gw.dp
        .apply(snapshot(
            1,
            vec![service("svc", up(addr), vec![route("r", &["/"])])],
        ))
        .unwrap();
    let a = gw.addr;
    (gw, a, seen)
}

type RecordedLog = std::sync::Arc<std::sync::Mutex<Vec<Recorded>>>;

/// Whether the peer closes `s` within `within` (reading and dropping what comes).
async fn closes_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn a_client_that_trickles_its_head_is_cut_off() {
    let (_gw, addr, _) = gateway_with(limits()).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if s.write_all(b"a").await.is_err() {
            break;
        }
    }
    assert!(closes_within(&mut s, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn a_trickled_body_fails_with_408_and_never_reaches_the_upstream_whole() {
    let (gw, addr, seen) = gateway_with(limits()).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        .await
        .unwrap();
    let (answers, closed) = {
        // the answer comes once the body timeout passed
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut closed = false;
        while let Ok(r) = tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            match r {
                Ok(0) | Err(_) => {
                    closed = true;
                    break;
                }
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        (String::from_utf8_lossy(&buf).into_owned(), closed)
    };
    assert!(answers.starts_with("HTTP/1.1 408"), "{answers}");
    assert!(answers.contains("Request timeout"), "{answers}");
    assert!(closed);
    assert!(seen.lock().unwrap().is_empty());
    // the data plane goes on serving
    let r = client().get(gw.url("/after")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "target=/after");
}

#[tokio::test]
async fn connections_beyond_the_maximum_wait_for_a_free_one() {
    let (_gw, addr, _) = gateway_with(ProxyLimits {
        idle_timeout: Duration::from_secs(30),
        header_timeout: Duration::from_secs(30),
        ..limits()
    })
    .await;
    let first = TcpStream::connect(addr).await.unwrap();
    let _second = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // a third connection is not served while two are open ...
    let mut third = TcpStream::connect(addr).await.unwrap();
    third
        .write_all(b"GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    assert!(
        tokio::time::timeout(Duration::from_millis(700), third.read(&mut buf))
            .await
            .is_err(),
        "the third connection was served"
    );
    // ... and is, once one of them closed
    drop(first);
    let n = tokio::time::timeout(Duration::from_secs(3), third.read(&mut buf))
        .await
        .expect("served after a connection closed")
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let (_gw, addr, _) = gateway_with(ProxyLimits {
        header_timeout: Duration::from_secs(30),
        ..limits()
    })
    .await;
    // HTTP/1.1
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    assert!(closes_within(&mut s, Duration::from_secs(4)).await);

    // HTTP/2 with prior knowledge: the connection ends (GOAWAY) once idle
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .unwrap();
    let conn = tokio::spawn(conn);
    let req = hyper::Request::get(format!("http://{addr}/h2"))
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let r = send.send_request(req).await.unwrap();
    assert_eq!(r.status(), 200);
    drop(r);
    let ended = tokio::time::timeout(Duration::from_secs(4), conn).await;
    assert!(ended.is_ok(), "the idle HTTP/2 connection stays open");
}

#[tokio::test]
async fn a_head_over_the_limit_is_refused() {
    let (_gw, addr, seen) = gateway_with(ProxyLimits {
        max_head_bytes: 16 * 1024,
        ..ProxyLimits::default()
    })
    .await;
    let big = "a".repeat(20 * 1024);
    let (answers, closed) = raw_exchange(
        addr,
        format!("GET /big HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes(),
        1,
        false,
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(answers.first().map(|a| a.status), Some(400));
    assert!(closed);
    assert!(seen.lock().unwrap().is_empty());
    // below the limit: fine
    let small = "a".repeat(12 * 1024);
    let (answers, _) = raw_exchange(
        addr,
        format!("GET /small HTTP/1.1\r\nHost: x\r\nX-Big: {small}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
        1,
        false,
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(answers.first().map(|a| a.status), Some(200));
}

#[tokio::test]
async fn an_http2_request_whose_authority_and_host_disagree_is_refused() {
    let (_gw, addr, seen) = gateway_with(ProxyLimits::default()).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::get("http://a.example/x")
        .header("host", "b.example")
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let r = send.send_request(req).await.unwrap();
    assert_eq!(r.status(), 400);
    let req = hyper::Request::get("http://a.example/y")
        .header("host", "A.example")
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let r = send.send_request(req).await.unwrap();
    assert_eq!(r.status(), 200);
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].target, "/y");
}
