//! The worker API over HTTP: tokens and what they admit, the lifecycle,
//! errors, the work list, 三率 and rankings, and the event stream. In
//! process through `Server::app()` (tickets submitted to the dispatcher
//! directly: intake is Open311's), and the stream over a real listener.

use std::io::{BufRead, BufReader};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use hotline_router::dispatch::{Clock, Dispatcher, Evaluation, ManualClock, State};
use hotline_router::evaluate::GroupBy;
use hotline_router::journal::JournalOptions;
use hotline_router::server::{Live, Server, ServerConfig};
use hotline_router::{Router, Ticket};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use tower::ServiceExt;

mod common;

const START: &str = "2024-11-20T08:00:00+08:00";
const HUJIALOU: &str = "street:110105003";
const XUEYUAN: &str = "street:110108010";
const MARKET: &str = "district:110105:market";

fn config() -> ServerConfig {
    ServerConfig::new()
        .agency_token(HUJIALOU, "hu-token")
        .agency_token(XUEYUAN, "xue-token")
        .agency_token(MARKET, "market-token")
        .agency_token("center:triage", "center-token")
}

struct Fixture {
    d: Dispatcher,
    clock: Arc<ManualClock>,
    app: axum::Router,
}

fn fixture() -> Fixture {
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
fn noise(id: &str, clock: &ManualClock) -> Ticket {
    Ticket::new(id, "楼上装修噪音太大")
        .with_address("朝阳区呼家楼街道")
        .with_received_at(clock.now())
}

/// Parking at 学院路: another street office's.
fn parking(id: &str, clock: &ManualClock) -> Ticket {
    Ticket::new(id, "挪车")
        .with_address("海淀区学院路街道")
        .with_received_at(clock.now())
}

fn request(method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Request<Body> {
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

async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
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

async fn post(app: &axum::Router, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    send(app, request("POST", path, Some(token), Some(body))).await
}

async fn get(app: &axum::Router, path: &str, token: &str) -> (StatusCode, Value) {
    send(app, request("GET", path, Some(token), None)).await
}

fn kind(body: &Value) -> &str {
    body["error"]["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("no error kind in {body}"))
}

#[tokio::test]
async fn lifecycle_claim_respond_resolve_evaluate_agrees_with_the_dispatcher() {
    let f = fixture();
    f.d.submit(noise("T1", &f.clock)).unwrap();

    let (status, claim) = post(&f.app, "/api/claim", "hu-token", json!({"worker": "wang"})).await;
    assert_eq!(status, StatusCode::OK, "{claim}");
    assert_eq!(claim["id"], "T1");
    assert_eq!(claim["agency"], HUJIALOU);
    assert_eq!(claim["callers"], 1);
    assert_eq!(claim["ticket"]["text"], "楼上装修噪音太大");
    let record = f.d.record("T1").unwrap();
    assert_eq!(record.worker(), Some("wang"));
    assert_eq!(claim["deadline"], json!(record.deadline()));
    assert_eq!(claim["lease_until"], json!(record.lease_until().unwrap()));

    // The list is empty now: 204, no body.
    let (status, body) = post(&f.app, "/api/claim", "hu-token", json!({"worker": "li"})).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));

    let (status, t) = post(
        &f.app,
        "/api/tickets/T1/respond",
        "hu-token",
        json!({"worker": "wang"}),
    )
    .await;
    assert_eq!(
        (status, t["state"].as_str()),
        (StatusCode::OK, Some("responded"))
    );
    assert_eq!(f.d.record("T1").unwrap().state(), State::Responded);

    let (status, t) = post(
        &f.app,
        "/api/tickets/T1/resolve",
        "hu-token",
        json!({"worker": "wang", "outcome": "talked to the neighbour"}),
    )
    .await;
    assert_eq!(
        (status, t["state"].as_str()),
        (StatusCode::OK, Some("resolved"))
    );

    let answers = json!({"responded": true, "resolved": true, "satisfied": false});
    let (status, t) = post(&f.app, "/api/tickets/T1/evaluate", "center-token", answers).await;
    assert_eq!(
        (status, t["state"].as_str()),
        (StatusCode::OK, Some("evaluated")),
        "{t}"
    );

    let record = f.d.record("T1").unwrap();
    assert_eq!(record.state(), State::Evaluated);
    assert_eq!(
        record.evaluation(),
        Some(Evaluation {
            responded: true,
            resolved: true,
            satisfied: false
        })
    );
    let (status, view) = get(&f.app, "/api/tickets/T1", "hu-token").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = record.history().iter().map(|(_, k)| k.name()).collect();
    assert_eq!(names, expected);
    assert_eq!(
        names,
        [
            "received",
            "dispatched",
            "claimed",
            "responded",
            "resolved",
            "evaluated"
        ]
    );
    assert_eq!(
        view["history"][4]["event"]["resolved"]["outcome"],
        "talked to the neighbour"
    );
    assert_eq!(view["state"], "evaluated");
    assert_eq!(view["agency"], HUJIALOU);
    assert_eq!(view["deadline"], json!(record.deadline()));
    assert_eq!(view["incident"]["callers"], 1);
    assert_eq!(view["evaluation"]["satisfied"], false);
}

#[tokio::test]
async fn no_token_or_an_unknown_one_is_401() {
    let f = fixture();
    f.d.submit(noise("T1", &f.clock)).unwrap();
    for (path, method) in [
        ("/api/claim", "POST"),
        ("/api/tickets/T1", "GET"),
        ("/api/rates", "GET"),
        ("/api/events", "GET"),
    ] {
        let body = (method == "POST").then(|| json!({"worker": "w"}));
        let response = f
            .app
            .clone()
            .oneshot(request(method, path, None, body.clone()))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
        let (status, err) = send(&f.app, request(method, path, Some("guessed"), body)).await;
        assert_eq!(
            (status, kind(&err)),
            (StatusCode::UNAUTHORIZED, "unauthorized"),
            "{path}"
        );
    }
    let basic = Request::builder()
        .uri("/api/worklist")
        .header(header::AUTHORIZATION, "Basic aHUtdG9rZW4=")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&f.app, basic).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        f.d.record("T1").unwrap().state(),
        State::Dispatched,
        "nothing claimed"
    );
}

#[tokio::test]
async fn another_agencys_ticket_and_list_are_403_the_centers_are_not() {
    let f = fixture();
    f.d.submit(noise("T1", &f.clock)).unwrap();
    f.d.submit(parking("P1", &f.clock)).unwrap();

    let claim_other = json!({"worker": "zhao", "agency": HUJIALOU});
    let (status, err) = post(&f.app, "/api/claim", "xue-token", claim_other).await;
    assert_eq!((status, kind(&err)), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, _) = get(
        &f.app,
        &format!("/api/worklist?agency={HUJIALOU}"),
        "xue-token",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get(
        &f.app,
        &format!("/api/overdue?agency={HUJIALOU}"),
        "xue-token",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get(&f.app, "/api/tickets/T1", "xue-token").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let reassign = json!({"worker": "zhao", "agency": XUEYUAN, "reason": "mine now"});
    let (status, _) = post(&f.app, "/api/tickets/T1/reassign", "xue-token", reassign).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Claimed by 呼家楼's wang; 学院路's "wang" is not admitted to it.
    f.d.claim(HUJIALOU, "wang").unwrap().unwrap();
    let (status, _) = post(
        &f.app,
        "/api/tickets/T1/respond",
        "xue-token",
        json!({"worker": "wang"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        f.d.record("T1").unwrap().state(),
        State::Claimed,
        "unchanged"
    );

    // The call-back and splits are the center's.
    let answers = json!({"responded": true, "resolved": true, "satisfied": true});
    let (status, err) = post(&f.app, "/api/tickets/T1/evaluate", "hu-token", answers).await;
    assert_eq!((status, kind(&err)), (StatusCode::FORBIDDEN, "forbidden"));
    let split = json!({"worker": "wang", "reason": "x"});
    assert_eq!(
        post(&f.app, "/api/tickets/T1/split", "hu-token", split)
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // The center reads and lists every agency's, and claims from any list.
    assert_eq!(
        get(&f.app, "/api/tickets/T1", "center-token").await.0,
        StatusCode::OK
    );
    let (status, list) = get(
        &f.app,
        &format!("/api/worklist?agency={XUEYUAN}"),
        "center-token",
    )
    .await;
    assert_eq!((status, list["open"].as_u64()), (StatusCode::OK, Some(1)));
    let (status, claim) = post(
        &f.app,
        "/api/claim",
        "center-token",
        json!({"worker": "lead", "agency": XUEYUAN}),
    )
    .await;
    assert_eq!((status, claim["id"].as_str()), (StatusCode::OK, Some("P1")));
    // And moves any ticket.
    let reassign = json!({"worker": "lead", "agency": XUEYUAN, "reason": "wrong street"});
    let (status, t) = post(&f.app, "/api/tickets/T1/reassign", "center-token", reassign).await;
    assert_eq!(
        (status, t["agency"].as_str()),
        (StatusCode::OK, Some(XUEYUAN))
    );
    assert_eq!(f.d.record("T1").unwrap().agency(), XUEYUAN);
}

#[tokio::test]
async fn refusals_map_to_statuses_and_change_nothing() {
    let f = fixture();
    f.d.submit(noise("T1", &f.clock)).unwrap();
    let resolve = |worker: &str| json!({"worker": worker, "outcome": "done"});

    // Not claimed yet: the state does not allow it.
    let (status, err) = post(
        &f.app,
        "/api/tickets/T1/resolve",
        "hu-token",
        resolve("wang"),
    )
    .await;
    assert_eq!((status, kind(&err)), (StatusCode::CONFLICT, "wrong_state"));

    post(&f.app, "/api/claim", "hu-token", json!({"worker": "wang"})).await;
    let (status, err) = post(&f.app, "/api/tickets/T1/resolve", "hu-token", resolve("li")).await;
    assert_eq!(
        (status, kind(&err)),
        (StatusCode::CONFLICT, "not_holder"),
        "{err}"
    );
    assert!(err["error"]["message"].as_str().unwrap().contains("wang"));
    assert_eq!(f.d.record("T1").unwrap().state(), State::Claimed);

    let (status, err) = post(
        &f.app,
        "/api/tickets/NOPE/resolve",
        "hu-token",
        resolve("wang"),
    )
    .await;
    assert_eq!(
        (status, kind(&err)),
        (StatusCode::NOT_FOUND, "unknown_ticket")
    );
    assert_eq!(
        get(&f.app, "/api/tickets/NOPE", "center-token").await.0,
        StatusCode::NOT_FOUND
    );

    let reassign = json!({"worker": "lead", "agency": "street:nowhere", "reason": "?"});
    let (status, err) = post(&f.app, "/api/tickets/T1/reassign", "center-token", reassign).await;
    assert_eq!(
        (status, kind(&err)),
        (StatusCode::BAD_REQUEST, "unknown_agency")
    );

    // Bodies that are not what the route takes.
    let bad = Request::builder()
        .method("POST")
        .uri("/api/tickets/T1/resolve")
        .header(header::AUTHORIZATION, "Bearer hu-token")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"worker\": "))
        .unwrap();
    let (status, err) = send(&f.app, bad).await;
    assert_eq!((status, kind(&err)), (StatusCode::BAD_REQUEST, "bad_json"));
    let (status, err) = post(
        &f.app,
        "/api/tickets/T1/resolve",
        "hu-token",
        json!({"worker": "wang"}),
    )
    .await;
    assert_eq!(
        (status, kind(&err)),
        (StatusCode::BAD_REQUEST, "bad_json"),
        "no outcome"
    );
    let (status, err) = post(&f.app, "/api/tickets/T1/resolve", "hu-token", resolve(" ")).await;
    assert_eq!((status, kind(&err)), (StatusCode::BAD_REQUEST, "bad_field"));
    let (status, err) = post(
        &f.app,
        "/api/tickets/T1/resolve",
        "hu-token",
        resolve(&"w".repeat(129)),
    )
    .await;
    assert_eq!((status, kind(&err)), (StatusCode::BAD_REQUEST, "bad_field"));
    let (status, err) = get(&f.app, "/api/worklist?limit=many", "hu-token").await;
    assert_eq!((status, kind(&err)), (StatusCode::BAD_REQUEST, "bad_query"));

    assert_eq!(
        f.d.record("T1").unwrap().state(),
        State::Claimed,
        "nothing changed"
    );
    assert_eq!(f.d.record("T1").unwrap().history().len(), 3);
}

#[tokio::test]
async fn return_moves_the_ticket_to_the_next_agency_and_its_work_list() {
    let f = fixture();
    // Elevators: the street office's, co-handled by the district market regulator.
    let elevator = Ticket::new("E1", "电梯坏了一个星期没人修")
        .with_address("朝阳区呼家楼街道")
        .with_received_at(f.clock.now());
    f.d.submit(elevator).unwrap();
    post(&f.app, "/api/claim", "hu-token", json!({"worker": "wang"})).await;
    let ret = json!({"worker": "wang", "reason": "elevators are the market regulator's"});
    let (status, t) = post(&f.app, "/api/tickets/E1/return", "hu-token", ret).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(
        (t["agency"].as_str(), t["state"].as_str()),
        (Some(MARKET), Some("dispatched"))
    );
    let record = f.d.record("E1").unwrap();
    assert_eq!(
        (record.agency(), record.returned_from()),
        (MARKET, &[HUJIALOU.to_string()][..])
    );

    // Off 呼家楼's list, on the regulator's; 呼家楼 still reads what it held
    // but can no longer act on it.
    let (_, list) = get(&f.app, "/api/worklist", "hu-token").await;
    assert_eq!(
        (
            list["open"].as_u64(),
            list["tickets"].as_array().unwrap().len()
        ),
        (Some(0), 0)
    );
    assert_eq!(f.d.open_at(HUJIALOU), 0);
    let (_, list) = get(&f.app, "/api/worklist", "market-token").await;
    assert_eq!(list["agency"], MARKET);
    assert_eq!(list["tickets"][0]["id"], "E1");
    assert_eq!(list["open"].as_u64(), Some(f.d.open_at(MARKET) as u64));
    assert_eq!(
        get(&f.app, "/api/tickets/E1", "hu-token").await.0,
        StatusCode::OK
    );
    let (status, _) = post(
        &f.app,
        "/api/tickets/E1/reassign",
        "hu-token",
        json!({"worker": "wang", "agency": HUJIALOU, "reason": "back"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, claim) = post(&f.app, "/api/claim", "market-token", json!({"worker": "m"})).await;
    assert_eq!((status, claim["id"].as_str()), (StatusCode::OK, Some("E1")));
}

#[tokio::test]
async fn work_list_urgent_first_then_oldest_with_ages_and_overdue() {
    let f = fixture();
    f.d.submit(noise("N1", &f.clock)).unwrap();
    f.clock.advance(SignedDuration::from_mins(10));
    f.d.submit(noise("N2", &f.clock)).unwrap();
    f.clock.advance(SignedDuration::from_mins(5));
    let gas = Ticket::new("G1", "楼道里燃气泄漏")
        .with_address("朝阳区呼家楼街道")
        .with_received_at(f.clock.now());
    let urgent = f.d.submit(gas).unwrap();
    f.clock.advance(SignedDuration::from_mins(1));
    let mut noisy = 0;
    for id in ["N1", "N2"] {
        noisy += usize::from(f.d.record(id).unwrap().agency() == HUJIALOU);
    }
    assert_eq!(noisy, 2);

    let (status, list) = get(
        &f.app,
        &format!("/api/worklist?agency={}", urgent.agency),
        "center-token",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["tickets"][0]["priority"], "urgent");

    let (_, list) = get(&f.app, "/api/worklist", "hu-token").await;
    let ids: Vec<&str> = list["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = if urgent.agency == HUJIALOU {
        vec!["G1", "N1", "N2"]
    } else {
        vec!["N1", "N2"]
    };
    assert_eq!(ids, expected);
    let n1 = list["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "N1")
        .unwrap();
    assert_eq!(n1["age_seconds"], 16 * 60);
    assert_eq!(n1["state"], "dispatched");
    assert_eq!(list["open"].as_u64(), Some(f.d.open_at(HUJIALOU) as u64));
    let (_, list) = get(&f.app, "/api/worklist?limit=1", "hu-token").await;
    assert_eq!(list["tickets"].as_array().unwrap().len(), 1);
    assert_eq!(list["open"].as_u64(), Some(f.d.open_at(HUJIALOU) as u64));

    // Past every deadline: overdue, the token's own only.
    f.d.submit(parking("P1", &f.clock)).unwrap();
    f.clock.advance(SignedDuration::from_hours(24 * 30));
    let (status, overdue) = get(&f.app, "/api/overdue", "hu-token").await;
    assert_eq!(status, StatusCode::OK);
    let agencies: Vec<&str> = overdue["overdue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["agency"].as_str().unwrap())
        .collect();
    assert!(
        agencies.len() >= 2 && agencies.iter().all(|a| *a == HUJIALOU),
        "{overdue}"
    );
    let (_, all) = get(&f.app, "/api/overdue", "center-token").await;
    let all = all["overdue"].as_array().unwrap();
    assert_eq!(all.len(), 4, "every open ticket is past its deadline");
    assert!(all
        .iter()
        .all(|o| o["overdue_seconds"].as_i64().unwrap() > 0));
}

#[tokio::test]
async fn rates_and_rankings_agree_with_the_dispatcher() {
    let f = fixture();
    let answers = [
        (true, true, true),
        (true, false, false),
        (false, false, false),
    ];
    for (i, (responded, resolved, satisfied)) in answers.into_iter().enumerate() {
        for (id, ticket) in [
            (format!("T{i}"), noise(&format!("T{i}"), &f.clock)),
            (format!("P{i}"), parking(&format!("P{i}"), &f.clock)),
        ] {
            let receipt = f.d.submit(ticket).unwrap();
            f.d.claim(&receipt.agency, "w").unwrap().unwrap();
            f.d.resolve(&id, "w", "done").unwrap();
            // 学院路's callers are all satisfied; 呼家楼's as above.
            let satisfied = satisfied || id.starts_with('P');
            f.d.evaluate(
                &id,
                Evaluation {
                    responded,
                    resolved,
                    satisfied,
                },
            )
            .unwrap();
        }
        f.clock.advance(SignedDuration::from_hours(1));
    }
    f.d.submit(noise("OPEN", &f.clock)).unwrap();

    for group in [
        ("agency", GroupBy::Agency),
        ("district", GroupBy::District),
        ("street", GroupBy::Street),
    ] {
        let (status, body) = get(
            &f.app,
            &format!("/api/rates?group={}", group.0),
            "xue-token",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["group"], group.0);
        let expected = f.d.rates(group.1, Timestamp::MIN, Timestamp::MAX);
        let rows = body["rates"].as_array().unwrap();
        assert_eq!(rows.len(), expected.len());
        for (row, want) in rows.iter().zip(&expected) {
            assert_eq!(row["key"], want.key);
            for (name, value) in [
                ("received", want.received),
                ("closed", want.closed),
                ("on_time", want.on_time),
                ("evaluated", want.evaluated),
                ("responded", want.responded),
                ("resolved", want.resolved),
                ("satisfied", want.satisfied),
                ("escalated", want.escalated),
            ] {
                assert_eq!(row[name].as_u64(), Some(value), "{} {name}", want.key);
            }
            assert_eq!(row["response_rate"].as_f64(), want.response_rate());
            assert_eq!(row["satisfaction_rate"].as_f64(), want.satisfaction_rate());
            assert_eq!(row["score"].as_f64(), want.score());
        }
    }
    let (_, body) = get(&f.app, "/api/rates?group=agency", "hu-token").await;
    let hu = body["rates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == HUJIALOU)
        .unwrap()
        .clone();
    assert_eq!(
        (
            hu["received"].as_u64(),
            hu["evaluated"].as_u64(),
            hu["satisfied"].as_u64()
        ),
        (Some(4), Some(3), Some(1))
    );
    assert_eq!(hu["resolution_rate"].as_f64(), Some(1.0 / 3.0));
    assert_eq!(hu["response_rate"].as_f64(), Some(2.0 / 3.0));

    // A window: the first two hours (a date or a time bounds it).
    let (_, body) = get(
        &f.app,
        "/api/rates?from=2024-11-20&to=2024-11-20T09:30:00%2B08:00",
        "hu-token",
    )
    .await;
    let from: Timestamp = "2024-11-20T00:00:00+08:00".parse().unwrap();
    let to: Timestamp = "2024-11-20T09:30:00+08:00".parse().unwrap();
    let expected = f.d.rates(GroupBy::Agency, from, to);
    let received: Vec<u64> = body["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["received"].as_u64().unwrap())
        .collect();
    assert_eq!(
        received,
        expected.iter().map(|r| r.received).collect::<Vec<_>>()
    );
    assert_eq!(received, [2, 2]);

    let (status, body) = get(
        &f.app,
        "/api/rankings?month=2024-11&min_evaluated=1&bottom=1",
        "market-token",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let want = f.d.monthly_ranking(2024, 11, 1, 1).unwrap();
    let keys = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        keys(&body["ranked"]),
        want.ranked
            .iter()
            .map(|r| r.key.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(keys(&body["ranked"]), [XUEYUAN, HUJIALOU]);
    assert_eq!(body["bottom"], json!(want.bottom));
    assert_eq!(body["bottom"], json!([HUJIALOU]));
    assert_eq!(body["month"], "2024-11");
    // The default minimum (5 evaluations) ranks nobody here.
    let (_, body) = get(
        &f.app,
        "/api/rankings?month=2024-11&group=district",
        "market-token",
    )
    .await;
    assert_eq!(
        (
            body["ranked"].as_array().unwrap().len(),
            body["unranked"].as_array().unwrap().len()
        ),
        (0, 2)
    );
    // The current month by default: November of the clock.
    let (_, body) = get(&f.app, "/api/rankings", "market-token").await;
    assert_eq!(body["month"], "2024-11");

    for bad in [
        "/api/rates?group=city",
        "/api/rates?from=yesterday",
        "/api/rankings?month=2024-13",
        "/api/rankings?month=november",
    ] {
        let (status, err) = get(&f.app, bad, "hu-token").await;
        assert_eq!(
            (status, kind(&err)),
            (StatusCode::BAD_REQUEST, "bad_query"),
            "{bad}"
        );
    }
}

/// One Server-Sent Event: its name, id and data.
#[derive(Debug)]
struct Sse {
    event: String,
    id: String,
    data: Value,
}

/// Parses the events in `text`, skipping comments (keep-alives); returns
/// them and the unparsed rest.
fn parse_sse(text: &str) -> (Vec<Sse>, String) {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(end) = rest.find("\n\n") {
        let block = &rest[..end];
        rest = &rest[end + 2..];
        let (mut event, mut id, mut data) = (String::new(), String::new(), String::new());
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("id:") {
                id = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim());
            }
        }
        if !event.is_empty() {
            out.push(Sse {
                event,
                id,
                data: serde_json::from_str(&data).unwrap(),
            });
        }
    }
    (out, rest.to_string())
}

/// Reads `n` events from a streaming response over a socket.
fn read_events(reader: &mut impl BufRead, n: usize) -> Vec<Sse> {
    let mut text = String::new();
    let mut events = Vec::new();
    while events.len() < n {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the stream ended");
        text.push_str(&line);
        let (more, rest) = parse_sse(&text);
        events.extend(more);
        text = rest;
    }
    events
}

#[test]
fn events_stream_over_a_real_listener_and_journaled_runtime_filtered_by_agency() {
    let dir = std::env::temp_dir().join(format!("hotline-server-worker-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let live = Live::new();
    let (d, _) = Dispatcher::builder(Router::beijing())
        .observe(live.observer())
        .open_journal(&dir, JournalOptions::new())
        .unwrap();
    let server = Server::new(d.clone(), live, config());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    // Serves until the process ends: the streams never finish on their own.
    std::thread::spawn(move || {
        runtime.block_on(server.serve(listener, std::future::pending::<()>()))
    });

    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .unwrap();
    let subscribe = |token: &str| {
        let response = client
            .get(format!("http://{addr}/api/events"))
            .bearer_auth(token)
            .send()
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        BufReader::new(response)
    };
    // The headers are sent once the stream is subscribed: what follows is in it.
    let mut hu = subscribe("hu-token");
    let mut center = subscribe("center-token");

    // 学院路's ticket first: 呼家楼's stream must skip it.
    let now = d.now();
    d.submit(
        Ticket::new("P1", "挪车")
            .with_address("海淀区学院路街道")
            .with_received_at(now),
    )
    .unwrap();
    d.submit(
        Ticket::new("T1", "楼上装修噪音太大")
            .with_address("朝阳区呼家楼街道")
            .with_received_at(now),
    )
    .unwrap();
    d.claim(XUEYUAN, "zhao").unwrap().unwrap();
    d.claim(HUJIALOU, "wang").unwrap().unwrap();

    let seen = read_events(&mut hu, 3);
    let summary: Vec<(&str, &str)> = seen
        .iter()
        .map(|e| (e.event.as_str(), e.id.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("received", "T1/0"),
            ("dispatched", "T1/1"),
            ("claimed", "T1/2")
        ]
    );
    assert_eq!(seen[0].data["ticket"], "T1");
    assert_eq!(
        seen[0].data["kind"]["received"]["ticket"]["text"],
        "楼上装修噪音太大"
    );
    assert_eq!(seen[1].data["kind"]["dispatched"]["agency"], HUJIALOU);
    assert_eq!(seen[2].data["kind"]["claimed"]["worker"], "wang");

    let seen = read_events(&mut center, 6);
    let summary: Vec<(&str, &str)> = seen
        .iter()
        .map(|e| (e.event.as_str(), e.id.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("received", "P1/0"),
            ("dispatched", "P1/1"),
            ("received", "T1/0"),
            ("dispatched", "T1/1"),
            ("claimed", "P1/2"),
            ("claimed", "T1/2")
        ]
    );
    // Acknowledged means journaled.
    d.sync().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Reads the next `n` events from an in-process streaming body.
async fn next_events(body: &mut Body, n: usize) -> Vec<Sse> {
    let mut text = String::new();
    let mut events = Vec::new();
    while events.len() < n {
        let frame = body.frame().await.expect("the stream ended").unwrap();
        if let Ok(bytes) = frame.into_data() {
            text.push_str(std::str::from_utf8(&bytes).unwrap());
        }
        let (more, rest) = parse_sse(&text);
        events.extend(more);
        text = rest;
    }
    events
}

#[tokio::test]
async fn a_stream_joined_late_looks_tickets_up_and_a_lagging_one_is_told() {
    let f = fixture();
    f.d.submit(parking("P1", &f.clock)).unwrap();
    f.d.submit(noise("T1", &f.clock)).unwrap();
    let response = f
        .app
        .clone()
        .oneshot(request("GET", "/api/events", Some("hu-token"), None))
        .await
        .unwrap();
    let mut hu = response.into_body();

    // Both dispatched before the stream began: 呼家楼's is found by lookup.
    f.d.claim(XUEYUAN, "zhao").unwrap().unwrap();
    f.d.claim(HUJIALOU, "wang").unwrap().unwrap();
    let seen = next_events(&mut hu, 1).await;
    assert_eq!(
        (seen[0].event.as_str(), seen[0].id.as_str()),
        ("claimed", "T1/2")
    );

    // More than the broadcast keeps (4,096) while nobody reads.
    let d = f.d.clone();
    let clock = f.clock.clone();
    tokio::task::spawn_blocking(move || {
        for i in 0..2_100 {
            d.submit(noise(&format!("N{i}"), &clock)).unwrap();
        }
    })
    .await
    .unwrap();
    let seen = next_events(&mut hu, 1).await;
    assert_eq!(seen[0].event, "lagged");
    let missed = seen[0].data["missed"].as_u64().unwrap();
    assert!(missed > 0 && missed <= 4_200, "{missed}");
    // And it goes on, in order, with the events it still has.
    let seen = next_events(&mut hu, 2).await;
    let first: u64 = seen[0]
        .id
        .trim_start_matches('N')
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        seen[0].id,
        format!("N{first}/{}", u64::from(seen[0].event == "dispatched"))
    );
    assert!(seen
        .iter()
        .all(|e| e.data["ticket"].as_str().unwrap().starts_with('N')));
}

#[tokio::test]
async fn linked_callers_act_through_their_head_and_the_center_splits_them() {
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let d = Dispatcher::builder(Router::beijing())
        .clock(clock.clone())
        .linker(common::PrefixLinker::new(SignedDuration::from_hours(2), 4))
        .build();
    let app = Server::new(d.clone(), Live::new(), config()).app();
    d.submit(noise("T1", &clock)).unwrap();
    let joined = d.submit(noise("T2", &clock)).unwrap();
    assert_eq!(joined.incident.as_deref(), Some("T1"));

    let (status, view) = get(&app, "/api/tickets/T2", "hu-token").await;
    assert_eq!(
        (status, view["state"].as_str()),
        (StatusCode::OK, Some("linked"))
    );
    assert_eq!(view["incident"]["head"], "T1");
    assert_eq!(view["incident"]["callers"], 2);
    let (_, claim) = post(&app, "/api/claim", "hu-token", json!({"worker": "wang"})).await;
    assert_eq!(
        (claim["id"].as_str(), claim["callers"].as_u64()),
        (Some("T1"), Some(2))
    );

    let (status, err) = post(
        &app,
        "/api/tickets/T2/respond",
        "hu-token",
        json!({"worker": "wang"}),
    )
    .await;
    assert_eq!((status, kind(&err)), (StatusCode::CONFLICT, "linked"));
    let split = json!({"worker": "lead", "reason": "a different flat"});
    assert_eq!(
        post(&app, "/api/tickets/T2/split", "hu-token", split.clone())
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, t) = post(&app, "/api/tickets/T2/split", "center-token", split.clone()).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(
        (t["state"].as_str(), t["incident"].as_str()),
        (Some("dispatched"), None)
    );
    assert_eq!(d.record("T2").unwrap().state(), State::Dispatched);
    let (status, err) = post(&app, "/api/tickets/T2/split", "center-token", split).await;
    assert_eq!((status, kind(&err)), (StatusCode::CONFLICT, "not_linked"));
}

/// A sink that refuses everything once told to.
#[derive(Default)]
struct Refusing(std::sync::atomic::AtomicBool);

impl hotline_router::dispatch::Sink for Refusing {
    fn persist(
        &self,
        _: &[hotline_router::dispatch::Change<'_>],
    ) -> Result<(), hotline_router::dispatch::SinkError> {
        if self.0.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(hotline_router::dispatch::SinkError::new("disk full"));
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_refusing_journal_is_503_and_changes_nothing() {
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let sink = Arc::new(Refusing::default());
    let d = Dispatcher::builder(Router::beijing())
        .clock(clock.clone())
        .sink(sink.clone())
        .build();
    let app = Server::new(d.clone(), Live::new(), config()).app();
    d.submit(noise("T1", &clock)).unwrap();
    d.submit(noise("T2", &clock)).unwrap();
    post(&app, "/api/claim", "hu-token", json!({"worker": "wang"})).await;
    sink.0.store(true, std::sync::atomic::Ordering::SeqCst);

    let (status, err) = post(
        &app,
        "/api/tickets/T1/respond",
        "hu-token",
        json!({"worker": "wang"}),
    )
    .await;
    assert_eq!(
        (status, kind(&err)),
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    );
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("disk full"));
    let (status, _) = post(&app, "/api/claim", "hu-token", json!({"worker": "li"})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(d.record("T1").unwrap().state(), State::Claimed);
    assert_eq!(d.record("T2").unwrap().state(), State::Dispatched);
}
