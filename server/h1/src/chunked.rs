//! The chunked transfer coding (RFC 9112 section 7.1), decoded in place: chunk data is
//! split off the read buffer (no copy), the framing bytes are read one at a time by a
//! state machine that needs no line to be buffered whole.
//!
//! The rules are hyper 1.x's (`proto/h1/decode.rs`), state for state:
//! - a chunk size is hex digits (no sign, no leading blank, no `0x`), any number of
//!   them as long as the value fits in a `u64`; blanks (space, tab) may follow it, but
//!   no digit after a blank (`1 0` is refused);
//! - every line ends in CRLF: a bare LF after a size, an extension, chunk data or the
//!   last chunk is refused, and so is a CR not followed by LF;
//! - extensions (after `;`) are skipped, at most 16 KiB of them in the whole body
//!   (counted from the byte after each `;` to the CR);
//! - the trailer section is at most 16 KiB (from its first byte to its final LF) and
//!   100 fields, parsed with `httparse` once complete.
//!
//! One rule is stricter than hyper: a bare LF inside the trailer section (or right
//! after the last chunk) is refused; hyper hands the section to `httparse`, which
//! takes a bare LF as a line end.

use std::io;

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};

/// Extension bytes allowed in one body (hyper's `CHUNKED_EXTENSIONS_LIMIT`).
pub const EXTENSIONS_LIMIT: u64 = 16 * 1024;
/// Bytes allowed in the trailer section (hyper's `TRAILER_LIMIT`).
pub const TRAILER_LIMIT: usize = 16 * 1024;
/// Fields allowed in the trailer section (hyper's `DEFAULT_MAX_HEADERS`).
pub const TRAILER_FIELDS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The first digit of a chunk size.
    Start,
    /// More digits, or what ends the size.
    Size,
    /// Blanks after the size.
    SizeLws,
    /// Inside the extensions: until the CR.
    Extension,
    /// The LF of a chunk-size line.
    SizeLf,
    /// Chunk data: `size` bytes left.
    Body,
    /// The CRLF after chunk data.
    BodyCr,
    BodyLf,
    /// After the last chunk (or a trailer line): CR (the end) or a trailer field.
    EndCr,
    EndLf,
    /// Inside a trailer line.
    Trailer,
    TrailerLf,
    End,
}

/// What one decoding step gave.
#[derive(Debug)]
pub enum Step {
    /// Chunk data (never empty).
    Data(Bytes),
    /// The body ended; its trailer fields, if any.
    End(Option<HeaderMap>),
    /// The buffer holds no more of the body: read more.
    NeedMore,
}

/// The decoder of one chunked body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkedDecoder {
    state: State,
    /// The size being read, then the chunk data bytes left.
    size: u64,
    /// Extension bytes seen in this body.
    extensions: u64,
    /// Bytes of the trailer section seen so far; they stay at the start of the
    /// buffer until the section is complete.
    trailer_len: usize,
    /// Trailer lines seen so far.
    trailer_lines: usize,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

fn bad(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn hex(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some(u64::from(b - b'0')),
        b'a'..=b'f' => Some(u64::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u64::from(b - b'A' + 10)),
        _ => None,
    }
}

impl ChunkedDecoder {
    pub fn new() -> Self {
        ChunkedDecoder {
            state: State::Start,
            size: 0,
            extensions: 0,
            trailer_len: 0,
            trailer_lines: 0,
        }
    }

    /// The whole body was read.
    pub fn is_end(&self) -> bool {
        self.state == State::End
    }

    fn add_digit(&mut self, b: u8) -> io::Result<bool> {
        let Some(d) = hex(b) else {
            return Ok(false);
        };
        self.size = self
            .size
            .checked_mul(16)
            .and_then(|n| n.checked_add(d))
            .ok_or_else(|| bad("invalid chunk size: overflow"))?;
        Ok(true)
    }

    fn push_trailer(&mut self) -> io::Result<()> {
        self.trailer_len += 1;
        if self.trailer_len >= TRAILER_LIMIT {
            return Err(bad("chunk trailers bytes over limit"));
        }
        Ok(())
    }

    /// Decode from the start of `buf`: framing bytes are consumed, chunk data is split
    /// off (at most what `buf` holds), the trailer section is left in place until it
    /// is complete. After `End`, the bytes that follow the body stay in `buf`.
    pub fn decode(&mut self, buf: &mut BytesMut) -> io::Result<Step> {
        loop {
            match self.state {
                State::End => return Ok(Step::End(None)),
                State::Body => {
                    if buf.is_empty() {
                        return Ok(Step::NeedMore);
                    }
                    let n = (buf.len() as u64).min(self.size) as usize;
                    let data = buf.split_to(n).freeze();
                    self.size -= n as u64;
                    if self.size == 0 {
                        self.state = State::BodyCr;
                    }
                    return Ok(Step::Data(data));
                }
                _ => {}
            }
            // framing bytes: `consumed` of them are dropped from the buffer; the
            // trailer section (when there is one) starts there and is
            // `self.trailer_len` long (`i == consumed + trailer_len` then)
            let mut consumed = 0;
            let mut i = self.trailer_len;
            // (an error is final: nothing needs to be consumed first)
            while let Some(&b) = buf.get(i) {
                i += 1;
                let in_trailers = self.trailer_len > 0;
                self.state = match self.state {
                    State::Start => {
                        if !self.add_digit(b)? {
                            return Err(bad("invalid chunk size line: missing size digit"));
                        }
                        State::Size
                    }
                    State::Size => {
                        if self.add_digit(b)? {
                            State::Size
                        } else {
                            match b {
                                b'\t' | b' ' => State::SizeLws,
                                b';' => State::Extension,
                                b'\r' => State::SizeLf,
                                _ => return Err(bad("invalid chunk size line: invalid size")),
                            }
                        }
                    }
                    State::SizeLws => match b {
                        b'\t' | b' ' => State::SizeLws,
                        b';' => State::Extension,
                        b'\r' => State::SizeLf,
                        _ => return Err(bad("invalid chunk size linear white space")),
                    },
                    State::Extension => match b {
                        b'\r' => State::SizeLf,
                        b'\n' => return Err(bad("invalid chunk extension contains newline")),
                        _ => {
                            self.extensions += 1;
                            if self.extensions >= EXTENSIONS_LIMIT {
                                return Err(bad("chunk extensions over limit"));
                            }
                            State::Extension
                        }
                    },
                    State::SizeLf => match b {
                        b'\n' if self.size == 0 => State::EndCr,
                        b'\n' => State::Body,
                        _ => return Err(bad("invalid chunk size LF")),
                    },
                    State::BodyCr => match b {
                        b'\r' => State::BodyLf,
                        _ => return Err(bad("invalid chunk body CR")),
                    },
                    State::BodyLf => match b {
                        b'\n' => State::Start,
                        _ => return Err(bad("invalid chunk body LF")),
                    },
                    State::EndCr => match b {
                        b'\r' => {
                            if in_trailers {
                                self.push_trailer()?;
                            }
                            State::EndLf
                        }
                        b'\n' => return Err(bad("bare LF in the chunked trailer section")),
                        _ => {
                            if !in_trailers {
                                // the section starts here
                                consumed = i - 1;
                            }
                            self.push_trailer()?;
                            State::Trailer
                        }
                    },
                    State::Trailer => {
                        self.push_trailer()?;
                        match b {
                            b'\r' => State::TrailerLf,
                            b'\n' => return Err(bad("bare LF in the chunked trailer section")),
                            _ => State::Trailer,
                        }
                    }
                    State::TrailerLf => match b {
                        b'\n' => {
                            if self.trailer_lines >= TRAILER_FIELDS {
                                return Err(bad("chunk trailers count overflow"));
                            }
                            self.trailer_lines += 1;
                            self.push_trailer()?;
                            State::EndCr
                        }
                        _ => return Err(bad("invalid trailer end LF")),
                    },
                    State::EndLf => match b {
                        b'\n' => {
                            if in_trailers {
                                self.push_trailer()?;
                            }
                            State::End
                        }
                        _ => return Err(bad("invalid chunk end LF")),
                    },
                    // (left at the top of the outer loop)
                    State::Body | State::End => break,
                };
                if self.trailer_len == 0 {
                    consumed = i;
                }
                if matches!(self.state, State::Body | State::End) {
                    break;
                }
            }
            buf.advance(consumed);
            match self.state {
                State::Body => continue,
                State::End => {
                    if self.trailer_len == 0 {
                        return Ok(Step::End(None));
                    }
                    let trailers = parse_trailers(&buf[..self.trailer_len], self.trailer_lines)?;
                    buf.advance(self.trailer_len);
                    return Ok(Step::End(Some(trailers)));
                }
                _ => return Ok(Step::NeedMore),
            }
        }
    }
}

/// The fields of a complete trailer section (`lines` lines, each ending in CRLF, then
/// CRLF).
fn parse_trailers(section: &[u8], lines: usize) -> io::Result<HeaderMap> {
    let mut fields = [httparse::EMPTY_HEADER; TRAILER_FIELDS];
    match httparse::parse_headers(section, &mut fields[..lines]) {
        Ok(httparse::Status::Complete((_, fields))) => {
            let mut trailers = HeaderMap::with_capacity(fields.len());
            for f in fields.iter() {
                let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(f.name.as_bytes()),
                    HeaderValue::from_bytes(f.value),
                ) else {
                    return Err(bad("invalid trailer field"));
                };
                trailers.append(n, v);
            }
            Ok(trailers)
        }
        Ok(httparse::Status::Partial) => Err(bad("invalid trailers: partial")),
        Err(e) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("invalid trailers: {e}"),
        )),
    }
}
