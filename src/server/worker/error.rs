//! The worker API's errors and its request extractors: every refusal is
//! `{"error": {"kind": "...", "message": "..."}}` with a status saying who
//! must act (the client: 4xx; the server's storage: 503).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::dispatch::OpError;

/// A refused request: its status, a stable `kind` for programs and a
/// message for people.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(kind: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, kind, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub(crate) fn unknown_ticket(id: &str) -> Self {
        ApiError::from(OpError::UnknownTicket(id.to_string()))
    }
}

impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        // Matched exhaustively (same crate): a new kind must choose its status.
        let (status, kind) = match &e {
            OpError::UnknownTicket(_) => (StatusCode::NOT_FOUND, "unknown_ticket"),
            OpError::UnknownAgency(_) => (StatusCode::BAD_REQUEST, "unknown_agency"),
            OpError::Transition(_) => (StatusCode::CONFLICT, "wrong_state"),
            OpError::NotHolder { .. } => (StatusCode::CONFLICT, "not_holder"),
            OpError::NoAgencyLeft(_) => (StatusCode::CONFLICT, "no_agency_left"),
            OpError::TooManyMoves { .. } => (StatusCode::CONFLICT, "too_many_moves"),
            OpError::Linked { .. } => (StatusCode::CONFLICT, "linked"),
            OpError::NotLinked(_) => (StatusCode::CONFLICT, "not_linked"),
            OpError::Sink(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        };
        ApiError::new(status, kind, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"kind": self.kind, "message": self.message}});
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"hotline\""),
            );
        }
        response
    }
}

/// A JSON body whose rejections (bad syntax, a missing field, no JSON
/// content type, too large) answer in the API's error shape.
pub(crate) struct Body<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            rejection.body_text(),
        );
    }
    // Syntax, shape and content type alike: the client must fix its body.
    ApiError::bad_request("bad_json", rejection.body_text())
}

/// Query parameters whose rejections answer in the API's error shape.
pub(crate) struct Params<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Params(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    ApiError::bad_request("bad_query", rejection.body_text())
}
