use bytes::BytesMut;

use crate::chunked::{ChunkedDecoder, Step, EXTENSIONS_LIMIT, TRAILER_FIELDS, TRAILER_LIMIT};
use crate::{BodyDecoder, Decoded};

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// The body, its trailer fields, the bytes after it.
    Body(Vec<u8>, Vec<(String, String)>, Vec<u8>),
    Refused(String),
    /// The input ended inside the body.
    Cut,
}

/// Decode `input` arriving in pieces of the given sizes (the last one takes the rest).
fn run(input: &[u8], sizes: &[usize]) -> Outcome {
    let mut d = ChunkedDecoder::new();
    let mut buf = BytesMut::new();
    let mut pos = 0;
    let mut sizes = sizes.iter();
    let mut body = Vec::new();
    loop {
        match d.decode(&mut buf) {
            Ok(Step::Data(b)) => {
                assert!(!b.is_empty());
                body.extend_from_slice(&b);
            }
            Ok(Step::End(t)) => {
                assert!(d.is_end());
                let trailers = t
                    .iter()
                    .flatten()
                    .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("?").to_string()))
                    .collect();
                let mut rest = buf.to_vec();
                rest.extend_from_slice(&input[pos..]);
                return Outcome::Body(body, trailers, rest);
            }
            Ok(Step::NeedMore) => {
                if pos == input.len() {
                    return Outcome::Cut;
                }
                let n = sizes.next().copied().unwrap_or(input.len()).max(1);
                let end = (pos + n).min(input.len());
                buf.extend_from_slice(&input[pos..end]);
                pos = end;
            }
            Err(e) => return Outcome::Refused(e.to_string()),
        }
    }
}

/// The outcome of `input`, checked to be the same whole, byte by byte and (for short
/// inputs) cut in two anywhere.
fn decode(input: &[u8]) -> Outcome {
    let whole = run(input, &[]);
    assert_eq!(run(input, &[1; 1 << 16][..input.len().min(1 << 16)]), whole);
    if input.len() < 200 {
        for cut in 1..input.len() {
            assert_eq!(run(input, &[cut]), whole, "cut at {cut}");
        }
    }
    whole
}

/// The start of `input`, for messages.
fn show(input: &[u8]) -> String {
    String::from_utf8_lossy(&input[..input.len().min(80)]).into_owned()
}

fn body(input: &[u8]) -> (Vec<u8>, Vec<(String, String)>, Vec<u8>) {
    match decode(input) {
        Outcome::Body(b, t, r) => (b, t, r),
        other => panic!("{:?}: {other:?}", show(input)),
    }
}

fn refused(input: &[u8]) -> String {
    match decode(input) {
        Outcome::Refused(e) => e,
        other => panic!("{:?}: {other:?}", show(input)),
    }
}

#[test]
fn chunks_extensions_and_trailers() {
    let (b, t, rest) = body(
        b"5\r\nhello\r\n7;ext=1\r\n, world\r\nA; a=\"x;y\" ;b\r\n0123456789\r\n0\r\nx-checksum: abc\r\nX-Two: 2\r\n\r\nHTTP/1.1",
    );
    assert_eq!(b, b"hello, world0123456789");
    assert_eq!(
        t,
        [
            ("x-checksum".to_string(), "abc".to_string()),
            ("x-two".to_string(), "2".to_string())
        ]
    );
    assert_eq!(rest, b"HTTP/1.1");
    // no trailers; upper- and lower-case hex; leading zeros, any number of them
    let (b, t, rest) =
        body(b"0000000000000000000000001\r\na\r\nF\r\n0123456789abcde\r\n00\r\n\r\n");
    assert_eq!(b, b"a0123456789abcde");
    assert!(t.is_empty());
    assert!(rest.is_empty());
    // a size followed by blanks, before the CR or the extensions
    assert_eq!(body(b"1 \t \r\na\r\n0 ;x\r\n\r\n").0, b"a");
    // an extension can hold anything but CR and LF
    assert_eq!(body(b"1;\x00\x7f\xff\"=;;\r\na\r\n0\r\n\r\n").0, b"a");
}

#[test]
fn a_chunk_size_is_hex_digits_without_sign_or_blanks_inside() {
    for input in [
        &b"+5\r\nhello\r\n0\r\n\r\n"[..],
        b"-5\r\nhello\r\n0\r\n\r\n",
        b" 5\r\nhello\r\n0\r\n\r\n",
        b"\t5\r\nhello\r\n0\r\n\r\n",
        b"\r\n5\r\nhello\r\n0\r\n\r\n",
        b";5\r\nhello\r\n0\r\n\r\n",
        b"g\r\n",
    ] {
        assert_eq!(
            refused(input),
            "invalid chunk size line: missing size digit",
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    for input in [
        &b"5_\r\nhello\r\n0\r\n\r\n"[..],
        b"0x5\r\nhello\r\n0\r\n\r\n",
        b"5\x0b\r\nhello\r\n",
    ] {
        assert_eq!(refused(input), "invalid chunk size line: invalid size");
    }
    for input in [
        &b"1 0\r\n0123456789abcdef\r\n0\r\n\r\n"[..],
        b"1\t0\r\n",
        b"1 x\r\n",
    ] {
        assert_eq!(refused(input), "invalid chunk size linear white space");
    }
    // 2^64
    assert_eq!(
        refused(b"10000000000000000\r\n"),
        "invalid chunk size: overflow"
    );
    // the largest fits (and then the input is cut short)
    assert_eq!(decode(b"ffffffffffffffff\r\nabc"), Outcome::Cut);
}

#[test]
fn every_line_ends_in_crlf() {
    for (input, why) in [
        // the size line
        (
            &b"5\nhello\r\n0\r\n\r\n"[..],
            "invalid chunk size line: invalid size",
        ),
        (
            b"5 \nhello\r\n0\r\n\r\n",
            "invalid chunk size linear white space",
        ),
        (
            b"5;a\nhello\r\n0\r\n\r\n",
            "invalid chunk extension contains newline",
        ),
        (b"5\rhello\r\n0\r\n\r\n", "invalid chunk size LF"),
        (b"5\r\rhello\r\n0\r\n\r\n", "invalid chunk size LF"),
        // after the data
        (b"5\r\nhello\n0\r\n\r\n", "invalid chunk body CR"),
        (b"5\r\nhello\r0\r\n\r\n", "invalid chunk body LF"),
        (b"5\r\nhelloX\r\n0\r\n\r\n", "invalid chunk body CR"),
        // the last chunk
        (b"0\n\r\n", "invalid chunk size line: invalid size"),
        (b"0\r\n\n", "bare LF in the chunked trailer section"),
        (b"0\r\n\r\r\n", "invalid chunk end LF"),
        (b"0\r\n\rx", "invalid chunk end LF"),
        // the trailer section
        (b"0\r\nx: a\n\r\n", "bare LF in the chunked trailer section"),
        (
            b"0\r\nx: a\nY: b\r\n\r\n",
            "bare LF in the chunked trailer section",
        ),
        (b"0\r\nx: a\r\n\n", "bare LF in the chunked trailer section"),
        (b"0\r\nx: a\r\r\n\r\n", "invalid trailer end LF"),
        (b"0\r\nx: a\r\n\r\r", "invalid chunk end LF"),
    ] {
        assert_eq!(refused(input), why, "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn extensions_are_limited_to_16_kib_per_body() {
    let ext = |n: usize| "e".repeat(n);
    // counted from the byte after the `;` to the CR
    let max = EXTENSIONS_LIMIT as usize - 1;
    let ok = format!("1;{}\r\na\r\n0\r\n\r\n", ext(max));
    assert_eq!(body(ok.as_bytes()).0, b"a");
    let over = format!("1;{}\r\na\r\n0\r\n\r\n", ext(max + 1));
    assert_eq!(refused(over.as_bytes()), "chunk extensions over limit");
    // the whole body's, not each chunk's
    let split = format!(
        "1;{}\r\na\r\n0;{}\r\n\r\n",
        ext(max / 2),
        ext(max - max / 2 + 1)
    );
    assert_eq!(refused(split.as_bytes()), "chunk extensions over limit");
    // blanks before the `;` do not count
    let blanks = format!("1{};{}\r\na\r\n0\r\n\r\n", " ".repeat(100), ext(max));
    assert_eq!(body(blanks.as_bytes()).0, b"a");
}

#[test]
fn trailers_are_limited_to_16_kib_and_100_fields() {
    // the section from its first byte to its final LF, less than TRAILER_LIMIT
    let section = |value_len: usize| {
        let mut s = format!("x: {}\r\n\r\n", "v".repeat(value_len));
        s.insert_str(0, "0\r\n");
        s
    };
    let fits = TRAILER_LIMIT - 1 - "x: \r\n\r\n".len();
    assert_eq!(body(section(fits).as_bytes()).1.len(), 1);
    assert_eq!(
        refused(section(fits + 1).as_bytes()),
        "chunk trailers bytes over limit"
    );
    let fields = |n: usize| {
        let mut s = "0\r\n".to_string();
        for i in 0..n {
            s.push_str(&format!("x-{i}: {i}\r\n"));
        }
        s.push_str("\r\n");
        s
    };
    assert_eq!(
        body(fields(TRAILER_FIELDS).as_bytes()).1.len(),
        TRAILER_FIELDS
    );
    assert_eq!(
        refused(fields(TRAILER_FIELDS + 1).as_bytes()),
        "chunk trailers count overflow"
    );
    // each field as httparse reads a header
    for input in [
        &b"0\r\nbad name: 1\r\n\r\n"[..],
        b"0\r\nx: a\x01\r\n\r\n",
        b"0\r\n: a\r\n\r\n",
        b"0\r\nx: a\r\n folded\r\n\r\n",
    ] {
        assert!(
            refused(input).starts_with("invalid trailers"),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn a_body_cut_short_asks_for_more() {
    for input in [
        &b""[..],
        b"5",
        b"5\r",
        b"5\r\nhel",
        b"5\r\nhello",
        b"5\r\nhello\r",
        b"5\r\nhello\r\n0\r\n",
        b"5\r\nhello\r\n0\r\nx: 1\r\n",
        b"5\r\nhello\r\n0\r\nx: 1\r\n\r",
        b"5;ext",
    ] {
        assert_eq!(
            decode(input),
            Outcome::Cut,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn body_decoder_drops_hop_by_hop_trailers() {
    let mut d = BodyDecoder::chunked();
    let mut buf = BytesMut::from(
        &b"1\r\na\r\n0\r\nconnection: close\r\ncontent-length: 1\r\nx-sum: 1\r\n\r\n"[..],
    );
    assert!(matches!(d.decode(&mut buf), Ok(Decoded::Data(b)) if b == "a"));
    let Ok(Decoded::Trailers(t)) = d.decode(&mut buf) else {
        panic!("trailers")
    };
    assert_eq!(t.len(), 1);
    assert_eq!(t["x-sum"], "1");
    assert!(d.is_end());
    // nothing left once they are dropped: the plain end
    let mut d = BodyDecoder::chunked();
    let mut buf = BytesMut::from(&b"0\r\ntrailer: x\r\n\r\n"[..]);
    assert!(matches!(d.decode(&mut buf), Ok(Decoded::End)));
}

#[test]
fn length_and_close_delimited_bodies() {
    let mut d = BodyDecoder::length(5);
    let mut buf = BytesMut::from(&b"hel"[..]);
    assert!(matches!(d.decode(&mut buf), Ok(Decoded::Data(b)) if b == "hel"));
    assert!(matches!(d.decode(&mut buf), Ok(Decoded::NeedMore)));
    assert_eq!(d.exact_len(), Some(2));
    buf.extend_from_slice(b"loHTTP");
    assert!(matches!(d.decode(&mut buf), Ok(Decoded::Data(b)) if b == "lo"));
    assert!(d.is_end());
    assert!(matches!(d.decode(&mut buf), Ok(Decoded::End)));
    assert_eq!(&buf[..], b"HTTP");
    // cut short
    let mut d = BodyDecoder::length(5);
    assert!(d.eof().is_err());
    // until the close
    let mut d = BodyDecoder::until_close();
    let mut buf = BytesMut::from(&b"abc"[..]);
    assert!(matches!(d.decode(&mut buf), Ok(Decoded::Data(b)) if b == "abc"));
    assert!(matches!(d.decode(&mut buf), Ok(Decoded::NeedMore)));
    assert!(d.eof().is_ok());
    assert!(d.is_end());
}

/// A small PRNG (splitmix64), so that the random cases are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random bodies, valid and mangled, decode the same in random pieces.
#[test]
fn the_answer_does_not_depend_on_how_the_bytes_arrive() {
    let mut rng = Rng(7);
    let atoms: [&[u8]; 12] = [
        b"\r\n", b"\n", b"\r", b" ", b";e=1", b"0", b"5", b"a", b"hello", b"x: 1", b"\t", b"F",
    ];
    for _ in 0..3000 {
        let mut input = Vec::new();
        for _ in 0..rng.below(24) {
            input.extend_from_slice(atoms[rng.below(atoms.len())]);
        }
        if rng.below(2) == 0 {
            input.splice(0..0, b"3\r\nabc\r\n".iter().copied());
            input.extend_from_slice(b"0\r\n\r\n");
        }
        let whole = run(&input, &[]);
        let sizes: Vec<usize> = (0..input.len()).map(|_| 1 + rng.below(4)).collect();
        assert_eq!(
            run(&input, &sizes),
            whole,
            "{:?}",
            String::from_utf8_lossy(&input)
        );
    }
}
