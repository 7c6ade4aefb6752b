//! `jsonl::route_lines` writes each decision straight from the `Decision`
//! (a borrowed view and reused buffers, issue 11): its output must be, byte
//! for byte, the serialized `DecisionRecord` that `jsonl::route_line`
//! returns, for every kind of line the generated workload holds, with and
//! without the model.

use hotline_router::workload::{Generated, WorkloadBuilder};
use hotline_router::{jsonl, Router, RouterConfig};

/// The generated lines of one day, and a few hand-written ones for the
/// branches a workload may miss: a building code, an unknown one, a
/// caller's category, a foreign language, an empty and a broken line.
fn input(router: &Router) -> Vec<String> {
    let workload = WorkloadBuilder::new(11).per_day(3_000).build(router);
    let mut lines: Vec<String> = workload
        .day(1)
        .map(|g: Generated| g.to_json_line())
        .collect();
    let received = r#""received_at":"2024-11-22T08:30:00+08:00""#;
    lines.extend([
        format!(r#"{{"id":"b1","text":"楼道灯坏了","building":"110105003050-03",{received}}}"#),
        format!(r#"{{"id":"b2","text":"楼道灯坏了","building":"NO-SUCH-CODE",{received}}}"#),
        format!(r#"{{"id":"c1","text":"停水了","category":"utilities.water",{received}}}"#),
        format!(r#"{{"id":"e1","text":"I lost my passport at the airport","lon":116.6,"lat":40.08,"crs":"gcj02",{received}}}"#),
        String::new(),
        r#"{"id":"x","text":"#.to_string(),
    ]);
    lines
}

fn assert_same_bytes(router: &Router) {
    let lines = input(router);
    let joined = lines.join("\n") + "\n";
    let mut out = Vec::new();
    let summary = jsonl::route_lines(router, joined.as_bytes(), &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got.len(), lines.len());
    let mut routed = 0;
    for (i, (line, got)) in lines.iter().zip(&got).enumerate() {
        let want = match jsonl::route_line(router, line.as_bytes(), i as u64 + 1) {
            Ok(record) => {
                routed += 1;
                serde_json::to_string(&record).unwrap()
            }
            Err(error) => serde_json::to_string(&error).unwrap(),
        };
        assert_eq!(*got, want, "line {}: {line}", i + 1);
    }
    assert_eq!(summary.routed, routed);
    // The comparison covered the branches that matter, not only one shape.
    for needle in [
        r#""building":"#,
        r#""error":"#,
        r#""confidence":null"#,
        "co-handlers: ",
        "(rule ",
        "coordinates (",
        "language en",
        "chosen by the caller",
    ] {
        assert!(out.contains(needle), "no output line has {needle}");
    }
}

#[test]
fn route_lines_writes_the_bytes_of_the_serialized_record_with_the_model() {
    let router = Router::beijing();
    assert!(router.model().is_some());
    assert_same_bytes(&router);
    let out = {
        let mut out = Vec::new();
        let lines = input(&router).join("\n");
        jsonl::route_lines(&router, lines.as_bytes(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    assert!(out.contains("the model agrees (confidence "));
}

#[test]
fn route_lines_writes_the_bytes_of_the_serialized_record_with_keywords_alone() {
    let router = Router::builder()
        .without_model()
        .build(RouterConfig::beijing())
        .unwrap();
    assert_same_bytes(&router);
}
