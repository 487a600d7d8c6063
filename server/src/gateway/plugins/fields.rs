//! Request bodies plugins read: JSON objects and URL-encoded forms of at most
//! [`MAX_BODY`] bytes with a known length (`Content-Length`); other bodies stream
//! upstream untouched and are not looked into (Kong reads any body whole).

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::StatusCode;

use super::{Access, Answer};
use crate::gateway::log::ErrorKind;

/// The largest body a plugin reads (1 MiB).
pub(crate) const MAX_BODY: u64 = 1 << 20;

/// A body's fields.
pub(crate) enum Fields {
    Json(serde_json::Map<String, serde_json::Value>),
    Form(Vec<(String, String)>),
}

/// The kinds of bodies plugins edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyType {
    Json,
    Form,
    Other,
    /// No `Content-Type`.
    None,
}

impl Access<'_> {
    /// The request's body type, by its `Content-Type`.
    pub(crate) fn body_type(&self) -> BodyType {
        let Some(ct) = self
            .parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        else {
            return BodyType::None;
        };
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mime == "application/json" || mime.ends_with("+json") {
            BodyType::Json
        } else if mime == "application/x-www-form-urlencoded" {
            BodyType::Form
        } else {
            BodyType::Other
        }
    }

    /// The whole body, read once (`None`: too large, of unknown length, or none).
    pub(crate) async fn read_body(&mut self) -> Result<Option<Bytes>, Answer> {
        if let Some(b) = &self.body.full {
            return Ok(Some(b.clone()));
        }
        match self.body_len {
            Some(n) if n > 0 && n <= MAX_BODY => {}
            _ => return Ok(None),
        }
        let mut out = Vec::with_capacity(self.body_len.unwrap_or(0) as usize);
        let read = async {
            while let Some(f) = self.body.inner.frame().await {
                let f = f.map_err(|_| ())?;
                if let Some(d) = f.data_ref() {
                    out.extend_from_slice(d);
                }
            }
            Ok::<_, ()>(())
        };
        match tokio::time::timeout(self.body.timeout, read).await {
            Ok(Ok(())) => {}
            _ => {
                return Err(Answer::error(
                    StatusCode::BAD_REQUEST,
                    ErrorKind::ClientAbort,
                    "Bad request",
                )
                .with_header(hyper::header::CONNECTION, HeaderValue::from_static("close")))
            }
        }
        let b = Bytes::from(out);
        self.body.full = Some(b.clone());
        Ok(Some(b))
    }

    /// The body's fields (JSON object or form), when it has them.
    pub(crate) async fn fields(&mut self) -> Result<Option<Fields>, Answer> {
        let t = self.body_type();
        if !matches!(t, BodyType::Json | BodyType::Form) {
            return Ok(None);
        }
        let Some(b) = self.read_body().await? else {
            return Ok(None);
        };
        Ok(match t {
            BodyType::Json => match serde_json::from_slice::<serde_json::Value>(&b) {
                Ok(serde_json::Value::Object(m)) => Some(Fields::Json(m)),
                _ => None,
            },
            _ => Some(Fields::Form(
                url::form_urlencoded::parse(&b)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
            )),
        })
    }

    /// Send `fields` upstream as the body.
    pub(crate) fn set_fields(&mut self, fields: &Fields) {
        let bytes = match fields {
            Fields::Json(m) => serde_json::to_vec(m).unwrap_or_default(),
            Fields::Form(pairs) => url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
                .into_bytes(),
        };
        self.body.full = Some(Bytes::from(bytes));
    }
}

/// The client's body as the access phase holds it.
pub(crate) struct ClientBody<'a> {
    pub inner: &'a mut hyper::body::Incoming,
    /// Read whole by a plugin (maybe rewritten): sent instead.
    pub full: Option<Bytes>,
    /// The body timeout.
    pub timeout: std::time::Duration,
}
