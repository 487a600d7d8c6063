//! Request smuggling, from raw bytes: whatever framing a client writes, nothing it sends
//! as a body reaches the upstream as a request, and the next client on the same pooled
//! upstream connection gets its own answer. Ambiguous framing is refused with 400 and
//! the connection closed, as nginx does.
//!
//! The upstream is a real keep-alive HTTP/1.1 server (hyper) that records every request
//! it parses; the data plane pools one connection to it, so a request smuggled into that
//! connection would be seen there, and a poisoned connection would answer the next
//! client with the smuggled request's answer.

mod gateway_support;

use std::time::Duration;

use gateway_support::*;

/// The request a body must never turn into.
const SMUGGLED: &str = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

/// What a case expects.
enum Want {
    /// 400, the connection closed, and nothing of it at the upstream.
    Refused,
    /// These answers (statuses), and exactly these requests at the upstream
    /// (method, target, body).
    Relayed(&'static [u16], Vec<(&'static str, &'static str, Vec<u8>)>),
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    want: Want,
    /// Shut down the client's writing side after the bytes.
    half_close: bool,
}

fn chunked(body: &str) -> String {
    format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len())
}

fn case(name: &'static str, bytes: String, want: Want) -> Case {
    Case {
        name,
        bytes: bytes.into_bytes(),
        want,
        half_close: false,
    }
}

fn cases() -> Vec<Case> {
    let s = SMUGGLED;
    let n = s.len();
    let body = || s.as_bytes().to_vec();
    let refused = |name, bytes: String| case(name, bytes, Want::Refused);
    vec![
        // `Connection` naming the framing: the body is still framed by Portico
        case(
            "Connection names Content-Length",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nConnection: content-length\r\nContent-Length: {n}\r\n\r\n{s}"),
            Want::Relayed(&[200], vec![("POST", "/a", body())]),
        ),
        case(
            "Connection names Transfer-Encoding",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nConnection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n{}", chunked(s)),
            Want::Relayed(&[200], vec![("POST", "/a", body())]),
        ),
        case(
            "Connection names close, Content-Length and Host",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, content-length, host\r\nContent-Length: {n}\r\n\r\n{s}"),
            Want::Relayed(&[200], vec![("POST", "/a", body())]),
        ),
        // CL.TE and TE.CL
        refused(
            "CL.TE",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{s}", 5 + n),
        ),
        refused(
            "TE.CL",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n{:x}\r\n{s}\r\n0\r\n\r\n", n),
        ),
        // TE.TE: obfuscated codings
        refused(
            "TE twice (chunked, identity)",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n{}", chunked(s)),
        ),
        refused(
            "TE twice (chunked, cow)",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-encoding: cow\r\n\r\n{}", chunked(s)),
        ),
        refused(
            "TE xchunked",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: {n}\r\n\r\n{s}"),
        ),
        refused(
            "TE gzip, chunked",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n{}", chunked(s)),
        ),
        refused(
            "TE chunked, identity",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n{}", chunked(s)),
        ),
        refused(
            "TE with a space before the colon",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: {n}\r\n\r\n{s}"),
        ),
        refused(
            "TE folded onto the next line",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: {n}\r\n\r\n{s}"),
        ),
        refused(
            "TE in HTTP/1.0",
            format!("POST /a HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{}", chunked(s)),
        ),
        refused(
            "Transfer_Encoding with an underscore",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nTransfer_Encoding: chunked\r\nContent-Length: {}\r\n\r\n{}", chunked(s).len(), chunked(s)),
        ),
        refused(
            "Content_Length with an underscore",
            format!("GET /a HTTP/1.1\r\nHost: x\r\nContent_Length: {n}\r\n\r\n{s}"),
        ),
        // lengths
        refused(
            "two different Content-Length",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: {n}\r\n\r\n{s}"),
        ),
        refused(
            "two equal Content-Length",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\nContent-Length: {n}\r\n\r\n{s}"),
        ),
        refused(
            "Content-Length +N",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: +{n}\r\n\r\n{s}"),
        ),
        refused(
            "Content-Length as a list",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: {n}, {n}\r\n\r\n{s}"),
        ),
        refused(
            "Content-Length in hex",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0x{n:x}\r\n\r\n{s}"),
        ),
        refused(
            "a CR inside a header value",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nX-A: 1\rTransfer-Encoding: chunked\r\nContent-Length: {n}\r\n\r\n{s}"),
        ),
        refused(
            "two Host headers",
            format!("GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n{s}"),
        ),
        refused(
            "a chunk size that overflows",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000{n:x}\r\n{s}\r\n0\r\n\r\n"),
        ),
        refused(
            "a bare LF after a chunk size",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{n:x}\n{s}\r\n0\r\n\r\n"),
        ),
        // legitimate framing that carries a request-looking body
        case(
            "chunked body, then a pipelined request",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{}GET /b HTTP/1.1\r\nHost: x\r\n\r\n", chunked(s)),
            Want::Relayed(&[200, 200], vec![("POST", "/a", body()), ("GET", "/b", vec![])]),
        ),
        case(
            "chunked with extensions and trailers",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n{n:x};name=value\r\n{s}\r\n0\r\nX-Trailer: 1\r\n\r\n"),
            Want::Relayed(&[200], vec![("POST", "/a", body())]),
        ),
        case(
            "a length with a body, then a pipelined request",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n{s}GET /b HTTP/1.1\r\nHost: x\r\n\r\n"),
            Want::Relayed(&[200, 200], vec![("POST", "/a", body()), ("GET", "/b", vec![])]),
        ),
        case(
            "GET with a body",
            format!("GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n{s}"),
            Want::Relayed(&[200], vec![("GET", "/a", body())]),
        ),
        case(
            "Expect: 100-continue",
            format!("PUT /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {n}\r\n\r\n{s}"),
            Want::Relayed(&[200], vec![("PUT", "/a", body())]),
        ),
        case(
            "bare LF line endings in the head",
            format!("POST /a HTTP/1.1\nHost: x\nContent-Length: {n}\n\n{s}"),
            Want::Relayed(&[200], vec![("POST", "/a", body())]),
        ),
        case(
            "a space before the length's digits",
            format!("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length:   {n}\r\n\r\n{s}"),
            Want::Relayed(&[200], vec![("POST", "/a", body())]),
        ),
        case(
            "absolute form",
            format!("POST http://other.example/a HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n{s}"),
            Want::Relayed(&[200], vec![("POST", "/a", body())]),
        ),
        Case {
            name: "a body shorter than its length, then the end",
            bytes: format!("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{s}", n + 10)
                .into_bytes(),
            // the client is gone: no answer, and no request at the upstream
            want: Want::Relayed(&[], vec![]),
            half_close: true,
        },
    ]
}

#[tokio::test]
async fn nothing_a_client_sends_as_a_body_reaches_the_upstream_as_a_request() {
    let (addr, seen) = recording_upstream().await;
    let gw = Gateway::start().await;
    let mut up_cfg = up(addr);
    up_cfg.read_timeout_ms = 2_000;
    gw.dp
        .apply(snapshot(
            1,
            vec![service("svc", up_cfg, vec![route("r", &["/"])])],
        ))
        .unwrap();
    let all = cases();
    assert!(all.len() >= 20);
    for (i, c) in all.into_iter().enumerate() {
        let want = match &c.want {
            Want::Refused => 1,
            Want::Relayed(statuses, _) => statuses.len(),
        };
        let (answers, closed) = raw_exchange(
            gw.addr,
            &c.bytes,
            want,
            c.half_close,
            Duration::from_secs(3),
        )
        .await;
        // give the upstream a moment to parse whatever it was sent
        tokio::time::sleep(Duration::from_millis(100)).await;
        let got: Vec<Recorded> = std::mem::take(&mut *seen.lock().unwrap());
        assert!(
            got.iter().all(|r| r.target != "/smuggled"),
            "{}: a request was smuggled: {got:?}",
            c.name
        );
        match c.want {
            Want::Refused => {
                let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
                assert_eq!(statuses, [400], "{}", c.name);
                assert!(closed, "{}: the connection stays open", c.name);
                assert!(got.is_empty(), "{}: reached the upstream: {got:?}", c.name);
            }
            Want::Relayed(statuses, requests) => {
                let got_statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
                assert_eq!(got_statuses, statuses, "{}", c.name);
                let got: Vec<(String, String, Vec<u8>)> = got
                    .into_iter()
                    .map(|r| (r.method, r.target, r.body))
                    .collect();
                let want: Vec<(String, String, Vec<u8>)> = requests
                    .into_iter()
                    .map(|(m, t, b)| (m.to_string(), t.to_string(), b))
                    .collect();
                assert_eq!(got, want, "{}", c.name);
            }
        }
        // the next client, on the pooled upstream connection, gets its own answer
        let next = format!("/next-{i}");
        let (answers, _) = raw_exchange(
            gw.addr,
            format!("GET {next} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
            1,
            false,
            Duration::from_secs(3),
        )
        .await;
        assert_eq!(
            answers.len(),
            1,
            "{}: no answer for the next client",
            c.name
        );
        assert_eq!(
            String::from_utf8_lossy(&answers[0].body),
            format!("target={next}"),
            "{}: the next client got another answer",
            c.name
        );
        let got: Vec<Recorded> = std::mem::take(&mut *seen.lock().unwrap());
        let targets: Vec<&str> = got.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(targets, [next.as_str()], "{}", c.name);
    }
}

#[tokio::test]
async fn an_absolute_form_target_is_routed_and_forwarded_by_its_authority() {
    let (addr, seen) = recording_upstream().await;
    let gw = Gateway::start().await;
    let mut r = route("r", &["/"]);
    r.hosts = vec!["api.example".into()];
    r.preserve_host = true;
    gw.dp
        .apply(snapshot(1, vec![service("svc", up(addr), vec![r])]))
        .unwrap();
    // the Host header names another host: the target's authority wins (RFC 9112 3.2.2)
    let (answers, _) = raw_exchange(
        gw.addr,
        b"GET http://api.example/a HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n",
        1,
        false,
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(answers[0].status, 200);
    let got = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].host, "api.example");
    assert_eq!(got[0].target, "/a");
}

#[tokio::test]
async fn portico_cookies_never_reach_the_upstream() {
    let upstream = upstream("u").await;
    let gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(
            1,
            vec![service("svc", up(upstream.addr), vec![route("r", &["/"])])],
        ))
        .unwrap();
    let (answers, _) = raw_exchange(
        gw.addr,
        b"GET /a HTTP/1.1\r\nHost: x\r\nCookie: portico_session=secret; app=1\r\nCookie: __Host-portico_session=s2;portico_new_token=t; other=2\r\nCookie: portico_flash_error=e\r\nConnection: close\r\n\r\n",
        1,
        false,
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(answers[0].status, 200);
    let v: serde_json::Value = serde_json::from_slice(&answers[0].body).unwrap();
    let cookies = echoed(&v, "cookie");
    assert_eq!(cookies, ["app=1", "other=2"]);
}
