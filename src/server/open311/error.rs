//! The spec's error body: `[{"code":400,"description":"…"}]` in JSON,
//! `<errors><error><code>400</code><description>…</description></error></errors>`
//! in XML, with the code as the HTTP status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::wire::{self, Format, Record, Value};

/// A refused Open311 call, answered in the format the client asked for.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) description: String,
    pub(crate) format: Format,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, format: Format, description: impl Into<String>) -> Self {
        ApiError {
            status,
            description: description.into(),
            format,
        }
    }

    pub(crate) fn bad_request(format: Format, description: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, format, description)
    }

    pub(crate) fn not_found(format: Format, description: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, format, description)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        response(self.status, self.format, &self.description)
    }
}

/// The error body for `status`, for callers outside a handler (limits).
pub(crate) fn response(status: StatusCode, format: Format, description: &str) -> Response {
    let error = Record::new()
        .field("code", Value::Integer(i64::from(status.as_u16())))
        .field("description", description);
    wire::list(format, status, "errors", "error", &[error])
}
