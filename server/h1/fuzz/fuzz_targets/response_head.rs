#![no_main]
//! The response head parser never panics, and its answer does not depend on how the
//! bytes arrive: parsed whole, or from a prefix first and then again with the rest.
//! What it accepts is consistent: no hop-by-hop header is forwarded, and a length
//! framing forwards that length.
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use portico_h1::{is_hop_by_hop, parse_head, Parsed};

/// The parts of an answer that must not depend on the arrival.
fn key(p: &Parsed) -> String {
    format!(
        "{} {:?} {:?} {}",
        p.head.status, p.head.headers, p.body, p.keep_alive
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, raw)) = data.split_first() else {
        return;
    };
    let head_request = flags & 1 == 1;
    let cut = (usize::from(flags >> 1) * raw.len() / 127).min(raw.len());

    let mut whole = BytesMut::from(raw);
    let once = parse_head(&mut whole, head_request);

    let mut buf = BytesMut::from(&raw[..cut]);
    let twice = match parse_head(&mut buf, head_request) {
        Ok(None) => {
            buf.extend_from_slice(&raw[cut..]);
            parse_head(&mut buf, head_request)
        }
        other => {
            buf.extend_from_slice(&raw[cut..]);
            other
        }
    };
    match (&once, &twice) {
        (Ok(Some(a)), Ok(Some(b))) => {
            assert_eq!(key(a), key(b));
            assert_eq!(whole, buf, "the bytes after the head");
            for (n, _) in a.head.headers.iter() {
                assert!(!is_hop_by_hop(n), "{n} forwarded");
            }
            if let Some(n) = a.body.exact_len().filter(|n| *n > 0) {
                let sent = a.head.headers.get_all("content-length");
                assert_eq!(sent.iter().count(), 1);
                let v = sent.iter().next().and_then(|v| v.to_str().ok());
                assert_eq!(v.and_then(|v| v.parse::<u64>().ok()), Some(n));
            }
        }
        (Ok(None), Ok(None)) | (Err(_), Err(_)) => {}
        _ => panic!("whole: {once:?}, in two: {twice:?}"),
    }
});
