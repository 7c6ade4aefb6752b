//! The worker API over HTTP: tokens and what they admit, the lifecycle,
//! errors, the work list, 三率 and rankings, and the event stream. In
//! process through `Server::app()` (tickets submitted to the dispatcher
//! directly: intake is Open311's), and the stream over a real listener.
//!
//! One test binary, a file per concern: `tickets` (tokens, operations,
//! errors, work lists), `rates` (三率 and rankings), `events` (the stream).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use hotline_router::dispatch::{Clock, Dispatcher, ManualClock};
use hotline_router::server::{Live, Server, ServerConfig};
use hotline_router::{Router, Ticket};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

#[path = "../common/mod.rs"]
mod common;
mod events;
mod rates;
mod tickets;

pub(crate) const START: &str = "2024-11-20T08:00:00+08:00";
pub(crate) const HUJIALOU: &str = "street:110105003";
pub(crate) const XUEYUAN: &str = "street:110108010";
pub(crate) const MARKET: &str = "district:110105:market";

pub(crate) fn config() -> ServerConfig {
    ServerConfig::new()
        .agency_token(HUJIALOU, "hu-token")
        .agency_token(XUEYUAN, "xue-token")
        .agency_token(MARKET, "market-token")
        .agency_token("center:triage", "center-token")
}

pub(crate) struct Fixture {
    pub(crate) d: Dispatcher,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) app: axum::Router,
}

pub(crate) fn fixture() -> Fixture {
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let live = Live::new();
    let d = Dispatcher::builder(Router::beijing())
        .clock(clock.clone())
        .observe(live.observer())
        .build();
    let app = Server::new(d.clone(), live, config()).app();
    Fixture { d, clock, app }
}

/// Noise at 呼家楼: the street office's.
pub(crate) fn noise(id: &str, clock: &ManualClock) -> Ticket {
    Ticket::new(id, "楼上装修噪音太大")
        .with_address("朝阳区呼家楼街道")
        .with_received_at(clock.now())
}

/// Parking at 学院路: another street office's.
pub(crate) fn parking(id: &str, clock: &ManualClock) -> Ticket {
    Ticket::new(id, "挪车")
        .with_address("海淀区学院路街道")
        .with_received_at(clock.now())
}

pub(crate) fn request(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Request<Body> {
    let mut r = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        r = r.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    match body {
        Some(body) => r
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => r.body(Body::empty()).unwrap(),
    }
}

pub(crate) async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
    };
    (status, value)
}

pub(crate) async fn post(
    app: &axum::Router,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    send(app, request("POST", path, Some(token), Some(body))).await
}

pub(crate) async fn get(app: &axum::Router, path: &str, token: &str) -> (StatusCode, Value) {
    send(app, request("GET", path, Some(token), None)).await
}

pub(crate) fn kind(body: &Value) -> &str {
    body["error"]["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("no error kind in {body}"))
}
