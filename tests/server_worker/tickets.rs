//! Tokens, operations, errors, work lists and the overdue.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use hotline_router::dispatch::{Clock, Dispatcher, Evaluation, ManualClock, State};
use hotline_router::server::{Live, Server};
use hotline_router::{Router, Ticket};
use jiff::SignedDuration;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::*;

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
