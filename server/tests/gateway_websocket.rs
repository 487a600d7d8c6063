//! WebSocket through the data plane: the handshake reaches the upstream as an upgrade,
//! its 101 reaches the client, then bytes flow both ways until either side closes; the
//! handshake is logged once, with status 101. Kong's `ws` routes take only handshakes.

mod gateway_support;

use std::net::SocketAddr;
use std::time::Duration;

use gateway_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A WebSocket upstream: answers a handshake with 101, then echoes every byte back
/// upper-cased (so the test sees the bytes went through it). Also says what head it got.
async fn ws_upstream() -> (SocketAddr, tokio::sync::mpsc::Receiver<String>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if s.read(&mut b).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(b[0]);
                }
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let _ = tx.send(head.clone()).await;
                if !head.contains("upgrade: websocket") {
                    let _ = s
                        .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    return;
                }
                // the 101 and the first server message in one write
                let _ = s
                    .write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nhello from upstream|")
                    .await;
                let mut buf = [0u8; 1024];
                loop {
                    let n = match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let up = buf[..n].to_ascii_uppercase();
                    if s.write_all(&up).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, rx)
}

const HANDSHAKE: &str = "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Read until `needle` has been seen (at most 5 s); everything read.
async fn read_until(s: &mut TcpStream, needle: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !got.windows(needle.len()).any(|w| w == needle) {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    got
}

#[tokio::test]
async fn a_websocket_is_proxied_both_ways_and_logged_once_with_101() {
    let (up_addr, mut heads) = ws_upstream().await;
    let gw = Gateway::start().await;
    let mut ws = route("ws", &["/chat"]);
    ws.protocols = vec!["ws".into()];
    gw.dp
        .apply(snapshot(1, vec![service("svc", up(up_addr), vec![ws])]))
        .unwrap();
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(HANDSHAKE.as_bytes()).await.unwrap();
    let got = read_until(&mut s, b"hello from upstream|").await;
    let text = String::from_utf8_lossy(&got).to_string();
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    let lower = text.to_ascii_lowercase();
    assert!(lower.contains("upgrade: websocket"), "{text}");
    assert!(lower.contains("connection: upgrade"), "{text}");
    assert!(lower.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="));
    // the upstream was asked to upgrade, with the client's key
    let head = heads.recv().await.unwrap();
    assert!(head.contains("connection: keep-alive, upgrade"), "{head}");
    assert!(
        head.contains("sec-websocket-key: dghlihnhbxbszsbub25jzq=="),
        "{head}"
    );
    // bytes both ways, twice
    s.write_all(b"ping one").await.unwrap();
    assert!(read_until(&mut s, b"PING ONE").await.ends_with(b"PING ONE"));
    s.write_all(b"ping two").await.unwrap();
    assert!(read_until(&mut s, b"PING TWO").await.ends_with(b"PING TWO"));
    drop(s);
    let entries = gw.sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let entries_after = gw.sink.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries_after.len(), 1, "logged more than once");
    assert_eq!(entries[0].status, 101);
    assert!(entries[0].error.is_none());
}

#[tokio::test]
async fn a_ws_route_takes_only_handshakes_and_an_http_route_takes_them_too() {
    let (up_addr, _heads) = ws_upstream().await;
    let gw = Gateway::start().await;
    let mut ws = route("ws", &["/chat"]);
    ws.protocols = vec!["ws".into()];
    let plain = route("plain", &["/both"]);
    gw.dp
        .apply(snapshot(
            1,
            vec![service("svc", up(up_addr), vec![ws, plain])],
        ))
        .unwrap();
    // a plain request to the ws route: no route
    let r = client().get(gw.url("/chat")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    // a handshake on an http route is proxied as a WebSocket
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(HANDSHAKE.replace("/chat", "/both").as_bytes())
        .await
        .unwrap();
    let got = read_until(&mut s, b"hello from upstream|").await;
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 101"));
    s.write_all(b"abc").await.unwrap();
    assert!(read_until(&mut s, b"ABC").await.ends_with(b"ABC"));
}

#[tokio::test]
async fn an_upgrade_that_is_not_taken_closes_the_connection() {
    // an upstream that does not speak WebSocket answers the handshake with 200: the
    // client gets that answer and the connection ends (its next bytes may be frames)
    let upstream = upstream("u").await;
    let gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(
            1,
            vec![service("svc", up(upstream.addr), vec![route("r", &["/"])])],
        ))
        .unwrap();
    let mut bytes = HANDSHAKE.as_bytes().to_vec();
    bytes.extend_from_slice(b"\x81\x05hello");
    let (answers, closed) = raw_exchange(gw.addr, &bytes, 1, false, Duration::from_secs(3)).await;
    assert_eq!(answers.first().map(|a| a.status), Some(200));
    assert!(closed);
}
