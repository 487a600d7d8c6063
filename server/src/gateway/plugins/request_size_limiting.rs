//! `request-size-limiting` (priority 951), as Kong 3.x's
//! `kong/plugins/request-size-limiting/handler.lua`:
//!
//! - a `Content-Length` over `allowed_payload_size` (in `size_unit`; a megabyte is
//!   2^20 bytes): 413 `{"message":"Request size limit exceeded"}` (417 when the client
//!   sent `Expect: 100-continue`), before anything goes upstream;
//! - no `Content-Length` and `require_content_length`, and not chunked: 411
//!   `{"message":"A valid Content-Length header is required"}`;
//! - a body without `Content-Length` (chunked, HTTP/2) is counted as it streams: once
//!   it goes over, it is cut off and the client gets 413 (when the upstream has not
//!   answered yet). Kong reads the whole body first; Portico never buffers it.

use hyper::header::{CONTENT_LENGTH, EXPECT, TRANSFER_ENCODING};
use hyper::{StatusCode, Version};
use portico_plugins::config;

use super::{Access, Answer};
use crate::gateway::log::ErrorKind;

pub(crate) const TOO_LARGE: &str = "Request size limit exceeded";

pub(crate) struct RequestSizeLimiting {
    limit: u64,
    require_content_length: bool,
}

impl RequestSizeLimiting {
    pub(crate) fn compile(cfg: config::RequestSizeLimiting) -> RequestSizeLimiting {
        RequestSizeLimiting {
            limit: cfg.limit_bytes(),
            require_content_length: cfg.require_content_length,
        }
    }

    /// The limit in bytes.
    #[cfg(test)]
    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    pub(crate) fn access(&self, cx: &mut Access<'_>) -> Result<(), Answer> {
        let h = &cx.parts.headers;
        let content_length = h
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(n) = content_length {
            if n > self.limit {
                let expect = h.get(EXPECT).is_some_and(|v| {
                    v.as_bytes()
                        .trim_ascii()
                        .eq_ignore_ascii_case(b"100-continue")
                });
                let status = if expect {
                    StatusCode::EXPECTATION_FAILED
                } else {
                    StatusCode::PAYLOAD_TOO_LARGE
                };
                return Err(Answer::error(status, ErrorKind::PayloadTooLarge, TOO_LARGE));
            }
            return Ok(());
        }
        let chunked = cx.parts.version != Version::HTTP_2
            && h.get_all(TRANSFER_ENCODING)
                .iter()
                .any(|v| v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"chunked"));
        if self.require_content_length && !chunked {
            return Err(Answer::error(
                StatusCode::LENGTH_REQUIRED,
                ErrorKind::LengthRequired,
                "A valid Content-Length header is required",
            ));
        }
        if let Some(n) = cx.body_len {
            if n > self.limit {
                return Err(Answer::error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorKind::PayloadTooLarge,
                    TOO_LARGE,
                ));
            }
        }
        if cx.has_body {
            cx.state.body_limit = Some(
                cx.state
                    .body_limit
                    .map_or(self.limit, |l| l.min(self.limit)),
            );
        }
        Ok(())
    }
}
