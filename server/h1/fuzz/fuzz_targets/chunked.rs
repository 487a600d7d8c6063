#![no_main]
//! The chunked decoder never panics, and its answer (the body bytes, the trailers,
//! the bytes after the body, or a refusal) does not depend on how the bytes arrive:
//! whole, or in pieces of the sizes the input's first bytes give.
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use portico_h1::{is_hop_by_hop, BodyDecoder, Decoded};

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Body(Vec<u8>, String, Vec<u8>),
    Refused,
    Cut,
}

fn run(input: &[u8], sizes: &[u8]) -> Outcome {
    let mut d = BodyDecoder::chunked();
    let mut buf = BytesMut::new();
    let mut pos = 0;
    let mut sizes = sizes.iter().cycle();
    let mut body = Vec::new();
    loop {
        match d.decode(&mut buf) {
            Ok(Decoded::Data(b)) => {
                assert!(!b.is_empty());
                body.extend_from_slice(&b);
                assert!(body.len() <= input.len());
            }
            Ok(Decoded::Trailers(t)) => {
                assert!(!t.is_empty());
                assert!(t.keys().all(|n| !is_hop_by_hop(n) && n != "content-length"));
                let mut rest = buf.to_vec();
                rest.extend_from_slice(&input[pos..]);
                return Outcome::Body(body, format!("{t:?}"), rest);
            }
            Ok(Decoded::End) => {
                assert!(d.is_end());
                let mut rest = buf.to_vec();
                rest.extend_from_slice(&input[pos..]);
                return Outcome::Body(body, String::new(), rest);
            }
            Ok(Decoded::NeedMore) => {
                if pos == input.len() {
                    return Outcome::Cut;
                }
                let n = sizes.next().map_or(input.len(), |&s| usize::from(s).max(1));
                let end = (pos + n).min(input.len());
                buf.extend_from_slice(&input[pos..end]);
                pos = end;
            }
            Err(_) => return Outcome::Refused,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (sizes, input) = rest.split_at(usize::from(n % 8).min(rest.len()));
    let whole = run(input, &[]);
    assert_eq!(run(input, sizes), whole);
    assert_eq!(run(input, &[1]), whole);
});
