//! Open311 GeoReport v2 through `Server::app()`, in process: services,
//! posting, reading, every spec error, both encodings, and the limits.

use std::sync::Arc;

use axum::http::{header, StatusCode};
use hotline_router::dispatch::{Dispatcher, ManualClock};
use hotline_router::server::{Live, Server, ServerConfig};
use hotline_router::{Router, Ticket};
use jiff::{SignedDuration, Timestamp};
use quick_xml::events::Event;
use serde_json::Value;

#[path = "support/open311.rs"]
mod open311;
use open311::{call, form, get};

fn server(config: ServerConfig) -> (Dispatcher, axum::Router) {
    let live = Live::new();
    let d = Dispatcher::builder(Router::beijing())
        .observe(live.observer())
        .build();
    let app = Server::new(d.clone(), live, config).app();
    (d, app)
}

/// Posts and returns the new request's id.
async fn post_ok(app: &axum::Router, pairs: &[(&str, &str)]) -> String {
    let r = call(app, "POST", "/open311/v2/requests.json", Some(&form(pairs))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    let id = v[0]["service_request_id"].as_str().unwrap().to_string();
    assert!(!v[0]["service_notice"].as_str().unwrap().is_empty(), "{v}");
    assert!(v[0]["account_id"].is_null(), "{v}");
    id
}

async fn request(app: &axum::Router, id: &str) -> Value {
    let r = get(app, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v.as_array().unwrap().len(), 1);
    v[0].clone()
}

/// Reads a whole XML document: names of the elements, in order; panics
/// on anything not well-formed.
fn xml_elements(xml: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut names = Vec::new();
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                names.push(e.name().as_ref().to_string());
            }
            Ok(Event::Empty(e)) => names.push(e.name().as_ref().to_string()),
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "not well-formed at {}: {e}\n{xml}",
                reader.buffer_position()
            ),
        }
    }
    assert_eq!(depth, 0, "unclosed elements");
    names
}

fn count(names: &[String], name: &str) -> usize {
    names.iter().filter(|n| *n == name).count()
}

#[tokio::test]
async fn services_list_every_category_in_json_and_xml() {
    let (_, app) = server(ServerConfig::new());
    let router = Router::beijing();
    let r = get(&app, "/open311/v2/services.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let list = r.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), router.categories().len());
    for ((_, c), s) in router.categories().zip(list) {
        assert_eq!(s["service_code"], c.code());
        assert_eq!(s["service_name"], c.name());
        assert_eq!(s["group"], c.domain().name());
        assert_eq!(s["metadata"], false);
        assert_eq!(s["type"], "realtime");
    }
    let heating = list
        .iter()
        .find(|s| s["service_code"] == "heating")
        .unwrap();
    assert!(
        heating["keywords"].as_str().unwrap().contains("暖气"),
        "{heating}"
    );

    let x = get(&app, "/open311/v2/services.xml").await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/xml"));
    assert!(x
        .body
        .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
    let names = xml_elements(&x.body);
    assert_eq!(names[0], "services");
    assert_eq!(count(&names, "service"), router.categories().len());
    assert_eq!(count(&names, "keywords"), router.categories().len());
}

#[tokio::test]
async fn a_service_definition_or_404() {
    let (_, app) = server(ServerConfig::new());
    let r = get(&app, "/open311/v2/services/housing.repair.json").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.json(),
        serde_json::json!({"service_code": "housing.repair", "attributes": []})
    );
    let x = get(&app, "/open311/v2/services/heating.xml").await;
    assert_eq!(
        xml_elements(&x.body),
        ["service_definition", "service_code", "attributes"]
    );
    get(&app, "/open311/v2/services/no.such.json")
        .await
        .assert_error(StatusCode::NOT_FOUND);
    let x = get(&app, "/open311/v2/services/no.such.xml").await;
    assert_eq!(x.status, StatusCode::NOT_FOUND);
    assert_eq!(
        xml_elements(&x.body),
        ["errors", "error", "code", "description"]
    );
    assert!(x.body.contains("<code>404</code>"), "{}", x.body);
}

#[tokio::test]
async fn posted_with_coordinates_reads_back_in_wgs84() {
    let (_, app) = server(ServerConfig::new());
    let (lat, lon) = ("39.9230", "116.4510");
    let id = post_ok(
        &app,
        &[
            ("description", "楼道灯坏了一个星期了"),
            ("lat", lat),
            ("long", lon),
        ],
    )
    .await;
    let v = request(&app, &id).await;
    assert_eq!(v["service_request_id"], id.as_str());
    assert_eq!(v["status"], "open");
    assert_eq!(v["description"], "楼道灯坏了一个星期了");
    assert!((v["lat"].as_f64().unwrap() - 39.9230).abs() < 1e-9, "{v}");
    assert!((v["long"].as_f64().unwrap() - 116.4510).abs() < 1e-9, "{v}");
    // The same ticket routed by the library directly names the same agency.
    let router = Router::beijing();
    let expected = router
        .route(&Ticket::new("x", "楼道灯坏了一个星期了").with_coordinates(
            116.4510,
            39.9230,
            hotline_router::Crs::Wgs84,
        ))
        .unwrap();
    let agency = expected.agency_code();
    let name = router.rules().agency(expected.agency()).name();
    assert_eq!(v["agency_responsible"], format!("{name} ({agency})"));
    assert_eq!(v["service_code"], expected.category().code());
    for field in [
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
    ] {
        let t = v[field].as_str().unwrap();
        assert!(t.ends_with("+08:00"), "{field} {t}");
        t.parse::<Timestamp>().unwrap();
    }
    assert!(v["expected_datetime"].as_str() > v["requested_datetime"].as_str());
}

#[tokio::test]
async fn posted_with_an_address_is_classified_or_takes_the_chosen_service() {
    let (_, app) = server(ServerConfig::new());
    let words = "家里暖气片一直不热";
    let place = "朝阳区呼家楼街道";
    let router = Router::beijing();
    let classified = router
        .route(&Ticket::new("x", words).with_address(place))
        .unwrap();

    let id = post_ok(&app, &[("description", words), ("address_string", place)]).await;
    let v = request(&app, &id).await;
    assert_eq!(v["service_code"], classified.category().code());
    assert_eq!(v["service_code"], "heating");
    assert_eq!(v["address"], place);
    assert!(v["lat"].is_null() && v["long"].is_null(), "{v}");

    // The caller's service_code is honoured over the words.
    let id = post_ok(
        &app,
        &[
            ("description", words),
            ("address_string", place),
            ("service_code", "utilities.power"),
        ],
    )
    .await;
    let v = request(&app, &id).await;
    assert_eq!(v["service_code"], "utilities.power");
    assert_eq!(
        v["service_name"],
        router
            .category(router.category_id("utilities.power").unwrap())
            .name()
    );

    // A service and a place without words is a report too.
    let id = post_ok(
        &app,
        &[("service_code", "heating"), ("address_string", place)],
    )
    .await;
    assert_eq!(request(&app, &id).await["service_code"], "heating");
}

#[tokio::test]
async fn every_spec_error() {
    let config = ServerConfig::new().api_key("good-key");
    let (_, app) = server(config);
    let post = |pairs: Vec<(&'static str, String)>| {
        let app = app.clone();
        async move {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            call(
                &app,
                "POST",
                "/open311/v2/requests.json",
                Some(&form(&pairs)),
            )
            .await
        }
    };
    let key = || ("api_key", "good-key".to_string());
    let s = |v: &str| v.to_string();

    post(vec![key(), ("email", s("a@b.c"))])
        .await
        .assert_error(StatusCode::BAD_REQUEST);
    for (lat, lon) in [
        ("91", "116.4"),
        ("39.9", "181"),
        ("abc", "116.4"),
        ("NaN", "116.4"),
        ("inf", "116.4"),
    ] {
        post(vec![
            key(),
            ("description", s("路灯不亮")),
            ("lat", s(lat)),
            ("long", s(lon)),
        ])
        .await
        .assert_error(StatusCode::BAD_REQUEST);
    }
    post(vec![
        key(),
        ("description", s("路灯不亮")),
        ("lat", s("39.9")),
    ])
    .await
    .assert_error(StatusCode::BAD_REQUEST);
    let long = "路".repeat(4001);
    let r = post(vec![
        key(),
        ("description", long),
        ("address_string", s("朝阳区")),
    ])
    .await;
    r.assert_error(StatusCode::BAD_REQUEST);
    assert!(r.body.contains("4000"), "{}", r.body);
    post(vec![("description", s("路灯不亮"))])
        .await
        .assert_error(StatusCode::FORBIDDEN);
    post(vec![
        ("api_key", s("bad-key")),
        ("description", s("路灯不亮")),
    ])
    .await
    .assert_error(StatusCode::FORBIDDEN);
    post(vec![
        key(),
        ("description", s("路灯不亮")),
        ("service_code", s("no.such")),
    ])
    .await
    .assert_error(StatusCode::NOT_FOUND);
    get(&app, "/open311/v2/requests/20000101-000001.json")
        .await
        .assert_error(StatusCode::NOT_FOUND);
    get(&app, "/open311/v2/services.yaml")
        .await
        .assert_error(StatusCode::NOT_FOUND);
    get(&app, "/open311/v2/widgets.json")
        .await
        .assert_error(StatusCode::NOT_FOUND);
    get(&app, "/open311/v2/services/a/b.json")
        .await
        .assert_error(StatusCode::NOT_FOUND);
    call(&app, "DELETE", "/open311/v2/requests.json", None)
        .await
        .assert_error(StatusCode::METHOD_NOT_ALLOWED);

    // With the right key, the same request is taken.
    let ok = post(vec![
        key(),
        ("description", s("路灯不亮")),
        ("address_string", s("朝阳区呼家楼街道")),
    ])
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    // XML errors are the spec's XML.
    let x = call(
        &app,
        "POST",
        "/open311/v2/requests.xml",
        Some("api_key=good-key"),
    )
    .await;
    assert_eq!(x.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        xml_elements(&x.body),
        ["errors", "error", "code", "description"]
    );
    assert!(x.body.contains("<code>400</code>"), "{}", x.body);
}

#[tokio::test]
async fn get_requests_filters_by_ids_window_status_and_code() {
    let clock = Arc::new(ManualClock::new(
        "2026-06-01T10:00:00+08:00".parse().unwrap(),
    ));
    let live = Live::new();
    let d = Dispatcher::builder(Router::beijing())
        .clock(clock.clone())
        .observe(live.observer())
        .build();
    let app = Server::new(d.clone(), live, ServerConfig::new()).app();
    let day = SignedDuration::from_hours(24);

    let a = post_ok(
        &app,
        &[
            ("description", "暖气片不热"),
            ("address_string", "朝阳区呼家楼街道"),
        ],
    )
    .await;
    clock.advance(day);
    let b = post_ok(
        &app,
        &[
            ("description", "家里停电了"),
            ("address_string", "海淀区中关村街道"),
        ],
    )
    .await;
    let b_agency = d.record(&b).unwrap().agency().to_string();
    let claim = loop {
        let c = d.claim(&b_agency, "w1").unwrap().expect("b is on its list");
        if c.id == b {
            break c;
        }
    };
    d.respond(&claim.id, "w1").unwrap();
    clock.advance(SignedDuration::from_hours(3));
    d.resolve(&claim.id, "w1", "已恢复供电").unwrap();
    clock.advance(day * 100);
    let c = post_ok(
        &app,
        &[
            ("description", "暖气片不热"),
            ("address_string", "朝阳区呼家楼街道"),
        ],
    )
    .await;

    let ids = |uri: String| {
        let app = app.clone();
        async move {
            let r = get(&app, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
            r.json()
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["service_request_id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let base = "/open311/v2/requests.json";
    // The default window is the last 90 days.
    assert_eq!(ids(base.to_string()).await, [c.as_str()]);
    let window = "start_date=2026-06-01T00:00:00%2B08:00&end_date=2026-06-03T00:00:00Z";
    assert_eq!(
        ids(format!("{base}?{window}")).await,
        [b.as_str(), a.as_str()]
    );
    assert_eq!(
        ids(format!("{base}?{window}&status=closed")).await,
        [b.as_str()]
    );
    assert_eq!(
        ids(format!("{base}?{window}&status=open")).await,
        [a.as_str()]
    );
    assert_eq!(
        ids(format!("{base}?{window}&status=open,closed")).await,
        [b.as_str(), a.as_str()]
    );
    assert_eq!(
        ids(format!("{base}?{window}&service_code=heating")).await,
        [a.as_str()]
    );
    assert_eq!(
        ids(format!(
            "{base}?{window}&service_code=heating,utilities.power"
        ))
        .await,
        [b.as_str(), a.as_str()]
    );
    // A bare date is its day in the router's time zone.
    assert_eq!(
        ids(format!("{base}?start_date=2026-06-02&end_date=2026-06-03")).await,
        [b.as_str()]
    );
    // Ids override every other filter, unknown ones are left out.
    assert_eq!(
        ids(format!(
            "{base}?service_request_id={a},nope,{c}&status=closed"
        ))
        .await,
        [a.as_str(), c.as_str()]
    );

    let closed = request(&app, &b).await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["status_notes"], "已恢复供电");
    assert!(closed["updated_datetime"].as_str() > closed["requested_datetime"].as_str());

    for bad in [
        "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
        "start_date=yesterday",
        "end_date=2026-06-01T10:00:00",
        "status=pending",
    ] {
        get(&app, &format!("{base}?{bad}"))
            .await
            .assert_error(StatusCode::BAD_REQUEST);
    }

    let x = get(&app, &format!("/open311/v2/requests.xml?{window}")).await;
    assert_eq!(x.status, StatusCode::OK);
    let names = xml_elements(&x.body);
    assert_eq!(names[0], "service_requests");
    assert_eq!(count(&names, "request"), 2);
    assert_eq!(count(&names, "agency_responsible"), 2);
    let x = get(&app, &format!("/open311/v2/requests/{b}.xml")).await;
    assert!(x.body.contains("<status>closed</status>"), "{}", x.body);
    assert_eq!(count(&xml_elements(&x.body), "request"), 1);
}

#[tokio::test]
async fn at_most_1000_requests_newest_first() {
    let clock = Arc::new(ManualClock::new(
        "2026-06-01T10:00:00+08:00".parse().unwrap(),
    ));
    let live = Live::new();
    let d = Dispatcher::builder(Router::beijing())
        .clock(clock.clone())
        .observe(live.observer())
        .build();
    for i in 0..1005 {
        d.submit(Ticket::new(format!("T{i}"), "路灯不亮").with_address("朝阳区呼家楼街道"))
            .unwrap();
        clock.advance(SignedDuration::from_secs(1));
    }
    // The index is filled from the records at start.
    let app = Server::new(d.clone(), live, ServerConfig::new()).app();
    let r = get(&app, "/open311/v2/requests.json").await;
    let list = r.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1000);
    assert_eq!(list[0]["service_request_id"], "T1004");
    assert_eq!(list[999]["service_request_id"], "T5");
    let times: Vec<&str> = list
        .iter()
        .map(|v| v["requested_datetime"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]));
}

#[tokio::test]
async fn request_ids_continue_after_a_restart() {
    let clock = Arc::new(ManualClock::new(
        "2026-06-01T10:00:00+08:00".parse().unwrap(),
    ));
    let d = Dispatcher::builder(Router::beijing())
        .clock(clock.clone())
        .build();
    let app = Server::new(d.clone(), Live::new(), ServerConfig::new()).app();
    let first = post_ok(
        &app,
        &[("description", "路灯不亮"), ("address_string", "朝阳区")],
    )
    .await;
    assert_eq!(first, "20260601-000001");
    // A new server over the same records (what a restart replays).
    let app = Server::new(d.clone(), Live::new(), ServerConfig::new()).app();
    let second = post_ok(
        &app,
        &[("description", "路灯不亮"), ("address_string", "朝阳区")],
    )
    .await;
    assert_eq!(second, "20260601-000002");
}
