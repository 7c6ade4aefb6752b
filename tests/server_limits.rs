//! The limits on the whole app through `Server::app()`: 429 per caller
//! with Retry-After, 413 for a body too large, 503 when the registry is
//! full, all in the spec's error shape. (408 is a unit test of
//! `server::limits`: no route here is slow.)

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use hotline_router::dispatch::Dispatcher;
use hotline_router::server::{Live, Server, ServerConfig};
use hotline_router::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;

#[path = "support/open311.rs"]
mod open311;
use open311::{call, form, get};

fn server(config: ServerConfig) -> axum::Router {
    let live = Live::new();
    let d = Dispatcher::builder(Router::beijing())
        .observe(live.observer())
        .build();
    Server::new(d, live, config).app()
}

#[tokio::test]
async fn rate_limit_answers_429_per_caller() {
    let mut config = ServerConfig::new().api_key("key-a").api_key("key-b");
    config.rate_per_second = 1;
    config.rate_burst = 2;
    let app = server(config);
    let uri = |k: &str| format!("/open311/v2/services/heating.json?api_key={k}");
    assert_eq!(get(&app, &uri("key-a")).await.status, StatusCode::OK);
    assert_eq!(get(&app, &uri("key-a")).await.status, StatusCode::OK);
    let r = get(&app, &uri("key-a")).await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1);
    // Another admitted key has its own budget.
    assert_eq!(get(&app, &uri("key-b")).await.status, StatusCode::OK);
    // A key posted in the form counts as that key.
    let r = call(
        &app,
        "POST",
        "/open311/v2/requests.xml",
        Some("api_key=key-a&description=x&address_string=y"),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("<code>429</code>"), "{}", r.body);
}

#[tokio::test]
async fn body_limit_answers_413() {
    let mut config = ServerConfig::new();
    config.body_limit = 1024;
    let app = server(config);
    let big = form(&[
        ("description", &"x".repeat(2000)),
        ("address_string", "朝阳区"),
    ]);
    let r = call(&app, "POST", "/open311/v2/requests.json", Some(&big)).await;
    r.assert_error(StatusCode::PAYLOAD_TOO_LARGE);
    // Refused on its Content-Length alone, before the body is read.
    let req = Request::builder()
        .method("POST")
        .uri("/open311/v2/requests.xml")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big.clone()))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(body.contains("<code>413</code>"), "{body}");
    let small = form(&[("description", "路灯不亮"), ("address_string", "朝阳区")]);
    let r = call(&app, "POST", "/open311/v2/requests.json", Some(&small)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn a_full_registry_answers_503() {
    let capacity = hotline_router::dispatch::DispatchConfig::default().capacity_total(1);
    let live = Live::new();
    let d = Dispatcher::builder(Router::beijing())
        .config(capacity)
        .observe(live.observer())
        .build();
    let app = Server::new(d, live, ServerConfig::new()).app();
    let report = form(&[
        ("description", "路灯不亮"),
        ("address_string", "朝阳区呼家楼街道"),
    ]);
    let first = call(&app, "POST", "/open311/v2/requests.json", Some(&report)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    call(&app, "POST", "/open311/v2/requests.json", Some(&report))
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE);
}
