//! Limits on every request: body size (413), time (408) and rate per
//! caller (429), answered with the Open311 error body (JSON, or XML for a
//! path ending in `.xml`).
//!
//! **Who is a caller**, for the rate limit: the Open311 `api_key` (query
//! string or form body) when the server has keys and admits it; else a
//! worker's `Authorization: Bearer` token the server knows; else the
//! client's IP address. Only admitted keys and known tokens count as
//! callers of their own, so that a client cannot dodge its limit by
//! inventing keys, nor spend another's by sending a wrong one. Callers
//! not seen for a while are forgotten.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use super::open311::{error_response, Format};
use super::ServerConfig;

/// Checks between two sweeps of callers no longer limited.
const SWEEP_EVERY: u64 = 4096;

/// `routes` with the limits of `config`.
pub(crate) fn apply(routes: axum::Router, config: &ServerConfig) -> axum::Router {
    let mut app = routes;
    if let Some(rate) = NonZeroU32::new(config.rate_per_second) {
        let burst = NonZeroU32::new(config.rate_burst).unwrap_or(rate);
        let limiter = Arc::new(Limiter {
            limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            checks: AtomicU64::new(0),
            config: config.clone(),
        });
        app = app.layer(middleware::from_fn_with_state(limiter, rate_limit));
    }
    // Outermost last: the body limit wraps the body the rate limit may
    // read; the timeout covers both; errors are shaped on the way out.
    app.layer(RequestBodyLimitLayer::new(config.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.timeout,
        ))
        .layer(middleware::from_fn(spec_shaped))
}

struct Limiter {
    limiter: DefaultKeyedRateLimiter<String>,
    checks: AtomicU64,
    config: ServerConfig,
}

async fn rate_limit(State(l): State<Arc<Limiter>>, req: Request, next: Next) -> Response {
    let format = Format::of_path(req.uri().path());
    let (key, req) = match caller(&l.config, req).await {
        Ok(found) => found,
        Err(status) => return error_response(status, format, "the request body is too large"),
    };
    if l.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
        l.limiter.retain_recent();
    }
    match l.limiter.check_key(&key) {
        Ok(()) => next.run(req).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Whole seconds, rounded up: a client waiting that long is admitted.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut resp = error_response(
                StatusCode::TOO_MANY_REQUESTS,
                format,
                &format!("rate limit exceeded: retry in {} s", secs.max(1)),
            );
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
            resp
        }
    }
}

/// The caller's key (see the module docs) and the request, its body
/// buffered back in when it was read for the form's `api_key`.
async fn caller(config: &ServerConfig, req: Request) -> Result<(String, Request), StatusCode> {
    let keyed = !config.api_keys.is_empty();
    let admitted = |k: &str| keyed && !k.is_empty() && config.admits_key(k);
    if let Some(k) = req.uri().query().and_then(|q| form_value(q, "api_key")) {
        if admitted(&k) {
            return Ok((format!("key:{k}"), req));
        }
    }
    let mut req = req;
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if keyed && is_form {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE)?;
        let key = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|b| form_value(b, "api_key"));
        req = Request::from_parts(parts, Body::from(bytes));
        if let Some(k) = key.filter(|k| admitted(k)) {
            return Ok((format!("key:{k}"), req));
        }
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| config.agency_of(t).is_some())
        .map(|t| format!("token:{t}"));
    if let Some(key) = bearer {
        return Ok((key, req));
    }
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string());
    Ok((format!("ip:{ip}"), req))
}

/// The first value of `key` in an `application/x-www-form-urlencoded`
/// string, decoded.
fn form_value(form: &str, key: &str) -> Option<String> {
    form_urlencoded::parse(form.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Gives the bare 408 and 413 of the layers the spec's error body, and
/// the router's bare 404 and 405 under `/open311/`.
async fn spec_shaped(req: Request, next: Next) -> Response {
    let format = Format::of_path(req.uri().path());
    let open311 = req.uri().path().starts_with("/open311/");
    let resp = next.run(req).await;
    let status = resp.status();
    let bare = !resp.headers().contains_key(header::CONTENT_TYPE)
        || resp
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    match status {
        StatusCode::REQUEST_TIMEOUT if bare => {
            error_response(status, format, "the request took too long")
        }
        StatusCode::PAYLOAD_TOO_LARGE if bare => {
            error_response(status, format, "the request body is too large")
        }
        StatusCode::NOT_FOUND if bare && open311 => {
            error_response(status, format, "no such Open311 resource")
        }
        StatusCode::METHOD_NOT_ALLOWED if bare && open311 => {
            let mut shaped = error_response(status, format, "method not allowed here");
            if let Some(allow) = resp.headers().get(header::ALLOW) {
                shaped.headers_mut().insert(header::ALLOW, allow.clone());
            }
            shaped
        }
        _ => resp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_request_that_never_ends_is_answered_408_in_the_spec_shape() {
        let mut config = ServerConfig::new();
        config.timeout = std::time::Duration::from_millis(20);
        let never = axum::Router::new().route(
            "/open311/v2/slow.xml",
            get(std::future::pending::<&'static str>),
        );
        let app = apply(never, &config);
        let req = Request::builder()
            .uri("/open311/v2/slow.xml")
            .body(Body::empty())
            .unwrap();
        let resp = app.oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::REQUEST_TIMEOUT);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("<code>408</code>"), "{body}");
    }

    #[test]
    fn form_values_are_decoded() {
        let form = "description=a+b&api_key=k%2B1%3D&x";
        assert_eq!(form_value(form, "api_key").as_deref(), Some("k+1="));
        assert_eq!(form_value(form, "description").as_deref(), Some("a b"));
        assert_eq!(form_value(form, "x").as_deref(), Some(""));
        assert_eq!(form_value(form, "nope"), None);
        // A truncated escape is kept as it is, not a panic.
        assert_eq!(form_value("api_key=%4", "api_key").as_deref(), Some("%4"));
        assert_eq!(form_value("api_key=%zz", "api_key").as_deref(), Some("%zz"));
    }
}
