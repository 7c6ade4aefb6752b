//! HTTP helpers for the Open311 tests: one request through `Server::app()`
//! in process (tower's `oneshot`), its answer, and form bodies.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// An answer: status, headers and body text.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Asserts the spec's error body, its code the status.
    pub fn assert_error(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{}", self.body);
        let v = self.json();
        let errors = v.as_array().expect("an array of errors");
        assert_eq!(errors.len(), 1, "{v}");
        assert_eq!(errors[0]["code"], status.as_u16(), "{v}");
        assert!(!errors[0]["description"].as_str().unwrap().is_empty());
    }
}

/// One request through the app; `form` is sent form-encoded.
pub async fn call(app: &axum::Router, method: &str, uri: &str, form: Option<&str>) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if form.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let req = req
        .body(Body::from(form.unwrap_or("").to_string()))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// A GET through the app.
pub async fn get(app: &axum::Router, uri: &str) -> Reply {
    call(app, "GET", uri, None).await
}

/// Form-encodes pairs (UTF-8, percent-escaped).
pub fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}
