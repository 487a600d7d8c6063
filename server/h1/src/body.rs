//! A response body's framing: how many bytes, chunked, or until the upstream closes;
//! decoded from the read buffer by whoever reads the connection.

use std::io;

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_LENGTH;
use http::HeaderMap;

use crate::chunked::{ChunkedDecoder, Step};
use crate::head::is_hop_by_hop;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// This many bytes left (more than 0).
    Length(u64),
    Chunked(ChunkedDecoder),
    /// Until the upstream closes.
    Close,
    Done,
}

/// What decoding gave.
#[derive(Debug)]
pub enum Decoded {
    /// Body bytes (never empty).
    Data(Bytes),
    /// The body ended with these trailer fields (hop-by-hop ones and
    /// `Content-Length` removed; never empty).
    Trailers(HeaderMap),
    /// The body ended.
    End,
    /// Read more (the buffer holds no more of the body).
    NeedMore,
}

/// The decoder of one response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyDecoder {
    kind: Kind,
}

impl BodyDecoder {
    /// Exactly `n` bytes.
    pub fn length(n: u64) -> Self {
        if n == 0 {
            Self::done()
        } else {
            BodyDecoder {
                kind: Kind::Length(n),
            }
        }
    }

    pub fn chunked() -> Self {
        BodyDecoder {
            kind: Kind::Chunked(ChunkedDecoder::new()),
        }
    }

    /// Until the end of the stream.
    pub fn until_close() -> Self {
        BodyDecoder { kind: Kind::Close }
    }

    /// No body (or no more of it).
    pub fn done() -> Self {
        BodyDecoder { kind: Kind::Done }
    }

    /// The whole body was read.
    pub fn is_end(&self) -> bool {
        self.kind == Kind::Done
    }

    /// Bytes left, when that is known.
    pub fn exact_len(&self) -> Option<u64> {
        match self.kind {
            Kind::Length(n) => Some(n),
            Kind::Done => Some(0),
            _ => None,
        }
    }

    /// The body ends with the stream.
    pub fn is_close_delimited(&self) -> bool {
        self.kind == Kind::Close
    }

    /// Decode from the start of `buf` (see [`Decoded`]). After the end, the bytes
    /// that follow the body stay in `buf`. An error is final.
    pub fn decode(&mut self, buf: &mut BytesMut) -> io::Result<Decoded> {
        match &mut self.kind {
            Kind::Done => Ok(Decoded::End),
            _ if buf.is_empty() => Ok(Decoded::NeedMore),
            Kind::Length(left) => {
                let n = (buf.len() as u64).min(*left) as usize;
                let data = buf.split_to(n).freeze();
                *left -= n as u64;
                if *left == 0 {
                    self.kind = Kind::Done;
                }
                Ok(Decoded::Data(data))
            }
            Kind::Close => Ok(Decoded::Data(buf.split().freeze())),
            Kind::Chunked(c) => match c.decode(buf)? {
                Step::Data(d) => Ok(Decoded::Data(d)),
                Step::NeedMore => Ok(Decoded::NeedMore),
                Step::End(trailers) => {
                    self.kind = Kind::Done;
                    let Some(mut t) = trailers else {
                        return Ok(Decoded::End);
                    };
                    let drop: Vec<_> = t
                        .keys()
                        .filter(|n| is_hop_by_hop(n) || *n == CONTENT_LENGTH)
                        .cloned()
                        .collect();
                    for n in &drop {
                        t.remove(n);
                    }
                    Ok(if t.is_empty() {
                        Decoded::End
                    } else {
                        Decoded::Trailers(t)
                    })
                }
            },
        }
    }

    /// The stream ended (after `decode` asked for more): the end of a body read until
    /// the close, else an error (the body was cut short).
    pub fn eof(&mut self) -> io::Result<()> {
        match self.kind {
            Kind::Close | Kind::Done => {
                self.kind = Kind::Done;
                Ok(())
            }
            _ => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the upstream closed the connection before the end of the body",
            )),
        }
    }
}
