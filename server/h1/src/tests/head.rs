use bytes::BytesMut;

use crate::{parse_head, BodyDecoder, Parsed, MAX_HEAD};

fn parse(raw: &[u8], head_request: bool) -> Result<Option<Parsed>, String> {
    let mut buf = BytesMut::from(raw);
    parse_head(&mut buf, head_request).map_err(|e| e.0)
}

fn parsed(raw: &[u8]) -> Parsed {
    match parse(raw, false) {
        Ok(Some(p)) => p,
        other => panic!(
            "no head in {:?}: {:?}",
            String::from_utf8_lossy(raw),
            other.err()
        ),
    }
}

fn refused(raw: &[u8]) -> String {
    match parse(raw, false) {
        Err(e) => e,
        Ok(_) => panic!("accepted {:?}", String::from_utf8_lossy(raw)),
    }
}

#[test]
fn framing_of_response_heads() {
    let p = parsed(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nServer: up\r\n\r\n");
    assert_eq!(p.body, BodyDecoder::length(13));
    assert!(p.keep_alive);
    assert_eq!(p.head.headers["content-length"], "13");
    assert_eq!(p.head.headers["server"], "up");

    let p = parsed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n");
    assert_eq!(p.body, BodyDecoder::chunked());
    assert!(p.keep_alive);
    assert!(p.head.headers.get("transfer-encoding").is_none());

    // no length at all: until the close
    let p = parsed(b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(p.body, BodyDecoder::until_close());
    assert!(!p.keep_alive);

    // no body: HEAD, 204, 304, length 0
    let Ok(Some(p)) = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", true) else {
        panic!("HEAD answer")
    };
    assert_eq!(p.body, BodyDecoder::done());
    assert_eq!(p.head.headers["content-length"], "99");
    for raw in [
        &b"HTTP/1.1 204 No Content\r\n\r\n"[..],
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        // framing headers of a body-less answer decide nothing
        b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\n",
    ] {
        let p = parsed(raw);
        assert_eq!(p.body, BodyDecoder::done());
        assert!(p.keep_alive);
    }

    // the body after the head stays in the buffer
    let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"[..]);
    assert!(matches!(parse_head(&mut buf, false), Ok(Some(_))));
    assert_eq!(&buf[..], b"ok");
}

#[test]
fn a_length_is_plain_digits() {
    for v in [
        "+5",
        "-1",
        "5 5",
        "0x5",
        "5_0",
        "5.0",
        "",
        "5,",
        ",5",
        "5, 6",
        "18446744073709551616",
    ] {
        let raw = format!("HTTP/1.1 200 OK\r\nContent-Length: {v}\r\n\r\nhello");
        assert_eq!(refused(raw.as_bytes()), "invalid content-length", "{v:?}");
    }
    // hyper's largest is u64::MAX - 2
    assert_eq!(
        refused(b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551614\r\n\r\n"),
        "content-length too large"
    );
    // non-ASCII bytes
    refused(b"HTTP/1.1 200 OK\r\nContent-Length: 5\xc2\xa0\r\n\r\n");
    // differing repeats
    refused(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
    refused(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: +1\r\n\r\n");

    // one same length, repeated or listed, is that length (sent once, as digits)
    for raw in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3,3\r\nContent-Length: 03\r\n\r\n",
    ] {
        let p = parsed(raw);
        assert_eq!(p.body, BodyDecoder::length(3));
        let sent: Vec<_> = p.head.headers.get_all("content-length").iter().collect();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].to_str().unwrap().parse::<u64>().unwrap(), 3);
    }
    let p = parsed(b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551613\r\n\r\n");
    assert_eq!(p.body, BodyDecoder::length(u64::MAX - 2));

    // a body-less answer's invalid length is not forwarded, and refuses nothing
    let p = parse(b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", true)
        .unwrap()
        .unwrap();
    assert!(p.head.headers.get("content-length").is_none());
}

#[test]
fn ambiguous_transfer_encodings_are_refused() {
    for (raw, why) in [
        // chunked must be the only coding (hyper: chunked wins, and reads the gzip
        // coding's bytes as the body)
        (
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"[..],
            "transfer-encoding other than chunked",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
            "transfer-encoding other than chunked",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "transfer-encoding other than chunked",
        ),
        // hyper: read until the close
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            "transfer-encoding other than chunked",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            "transfer-encoding other than chunked",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n",
            "transfer-encoding other than chunked",
        ),
        // hyper: chunked wins (nginx refuses: either reading may be the upstream's)
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "both content-length and transfer-encoding",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: +5\r\n\r\n",
            "both content-length and transfer-encoding",
        ),
        // HTTP/1.0 has no transfer codings (hyper refuses too)
        (
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            "transfer-encoding in an HTTP/1.0 response",
        ),
    ] {
        assert_eq!(refused(raw), why, "{:?}", String::from_utf8_lossy(raw));
    }
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
    // ... and a close anywhere wins over a keep-alive after it
    let p =
        parsed(b"HTTP/1.0 200 OK\r\nConnection: close, keep-alive\r\nContent-Length: 0\r\n\r\n");
    assert!(!p.keep_alive);
    let p = parsed(
        b"HTTP/1.0 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(!p.keep_alive);
}

#[test]
fn partial_interim_and_invalid_heads() {
    assert!(matches!(
        parse(b"HTTP/1.1 200 OK\r\nContent-Le", false),
        Ok(None)
    ));
    let mut buf = BytesMut::from(&b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"[..]);
    let Ok(Some(p)) = parse_head(&mut buf, false) else {
        panic!("interim answer")
    };
    assert_eq!(p.head.status, 100);
    assert_eq!(&buf[..], b"HTTP/1.1 200 OK\r\n");
    for raw in [
        &b"SSH-2.0-OpenSSH_9.6\r\n\r\n"[..],
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n",
        // obsolete line folding
        b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
    ] {
        refused(raw);
    }
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

#[test]
fn a_head_is_at_most_64_kib_however_it_arrives() {
    let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
    while raw.len() <= MAX_HEAD {
        raw.extend_from_slice(format!("x-pad: {}\r\n", "a".repeat(1000)).as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    // complete in one read, or in pieces
    assert_eq!(refused(&raw), "response head too large");
    assert_eq!(
        parse(&raw[..MAX_HEAD + 1], false).err().as_deref(),
        Some("response head too large")
    );
}

#[test]
fn every_split_of_a_head_gives_the_same_answer() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello";
    for cut in 0..raw.len() {
        let mut buf = BytesMut::from(&raw[..cut]);
        let first = parse_head(&mut buf, false);
        if cut < raw.len() - 5 {
            assert!(matches!(first, Ok(None)), "cut at {cut}");
        }
        buf.extend_from_slice(&raw[cut..]);
        let p = match first {
            Ok(Some(p)) => p,
            _ => parse_head(&mut buf, false).unwrap().unwrap(),
        };
        assert_eq!(p.body, BodyDecoder::length(5));
        assert_eq!(&buf[..], b"hello");
    }
}
