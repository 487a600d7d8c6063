//! The one wire error type that server functions and the REST API return.
//!
//! Internal details are logged on the server and never sent: `Internal` carries a
//! generic message only.

use serde::{Deserialize, Serialize};

/// One broken rule: the field (a dotted path, `config.minute`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    /// The thing asked for does not exist (HTTP 404).
    #[error("{message}")]
    NotFound { message: String },
    /// A field broke a rule (HTTP 422). `fields`: every broken rule, when the check
    /// reports them all at once (the first is `field` and `message`).
    #[error("{field}: {message}")]
    Validation {
        field: String,
        message: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        fields: Vec<FieldProblem>,
    },
    /// The change clashes with what is stored (HTTP 409).
    #[error("{message}")]
    Conflict {
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
    },
    /// The request itself is malformed (HTTP 400).
    #[error("{message}")]
    BadRequest { message: String },
    /// No valid session or token (HTTP 401).
    #[error("{message}")]
    Unauthorized { message: String },
    /// Signed in, but the role does not allow this (HTTP 403); also a cross-origin
    /// request refused.
    #[error("{message}")]
    Forbidden { message: String },
    /// Too many attempts; try again after `retry_after` seconds (HTTP 429).
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// Something failed on the server (HTTP 500); details are in the server log.
    #[error("{message}")]
    Internal { message: String },
}

impl AppError {
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound {
            message: message.into(),
        }
    }
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }
    /// Several broken rules at once: the first names the error, all are listed in
    /// `fields`. `None` when there is none.
    pub fn validation_all(problems: Vec<FieldProblem>) -> Option<Self> {
        let first = problems.first()?.clone();
        Some(Self::Validation {
            field: first.field,
            message: first.message,
            fields: problems,
        })
    }
    pub fn conflict(field: Option<&str>, message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            field: field.map(str::to_string),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
        }
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized {
            message: message.into(),
        }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden {
            message: message.into(),
        }
    }
    pub fn internal() -> Self {
        Self::Internal {
            message: "internal error; see the server log".into(),
        }
    }

    /// The machine-readable code used in REST error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::Validation { .. } => "validation",
            Self::Conflict { .. } => "conflict",
            Self::BadRequest { .. } => "bad_request",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Internal { .. } => "internal",
        }
    }

    /// The HTTP status this error maps to.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound { .. } => 404,
            Self::Validation { .. } => 422,
            Self::Conflict { .. } => 409,
            Self::BadRequest { .. } => 400,
            Self::Unauthorized { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::TooManyRequests { .. } => 429,
            Self::Internal { .. } => 500,
        }
    }

    /// The human message, without the field prefix.
    pub fn message(&self) -> &str {
        match self {
            Self::NotFound { message }
            | Self::Validation { message, .. }
            | Self::Conflict { message, .. }
            | Self::BadRequest { message }
            | Self::Unauthorized { message }
            | Self::Forbidden { message }
            | Self::TooManyRequests { message, .. }
            | Self::Internal { message } => message,
        }
    }

    /// Seconds to wait before trying again (429 only).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// Every broken rule of a validation error that reported them all (else empty).
    pub fn field_problems(&self) -> &[FieldProblem] {
        match self {
            Self::Validation { fields, .. } => fields,
            _ => &[],
        }
    }

    /// The field the error is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Validation { field, .. } => Some(field),
            Self::Conflict { field, .. } => field.as_deref(),
            _ => None,
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(m) | E::MissingArg(m) | E::Deserialization(m) => Self::bad_request(m),
            E::Request(m) | E::Response(m) => Self::Internal {
                message: format!("could not reach the server: {m}"),
            },
            other => Self::Internal {
                message: other.to_string(),
            },
        }
    }
}
