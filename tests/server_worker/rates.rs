//! 三率 and rankings against the dispatcher's own.

use axum::http::StatusCode;
use hotline_router::dispatch::Evaluation;
use hotline_router::evaluate::GroupBy;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

use super::*;

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
