//! The pure parsing half of Portico's upstream HTTP/1.1 client (`server/src/gateway/
//! h1client.rs` does the I/O): the response head parser ([`parse_head`]) and the
//! response body decoder ([`BodyDecoder`]: `Content-Length`, chunked, until close).
//! Both work in place on the connection's read buffer: header values and body data
//! are slices of it (`Bytes`), never copies.
//!
//! Strictness is hyper 1.x's (`proto/h1/role.rs`, `proto/h1/decode.rs`), byte for
//! byte where it matters for framing, and nginx's (Kong's reference) where hyper is
//! laxer about ambiguous framing: see [`parse_head`] and [`chunked`]. The server's
//! differential test (`gateway/upstream/h1client/diff.rs`) feeds generated responses to both
//! clients and lists every place where they differ on purpose.
//!
//! Kept in its own crate so that the fuzz targets in `fuzz/` build in seconds.

mod body;
pub mod chunked;
mod head;

pub use body::{BodyDecoder, Decoded};
pub use head::{connection_named, is_hop_by_hop, parse_head, InvalidHead, Parsed, RespHead};
pub use head::{HEADERS_MAX, MAX_HEAD};

#[cfg(test)]
mod tests;
