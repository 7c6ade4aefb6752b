//! `hotline incidents` end to end: the route line plus the incident, one
//! line per input line in order, time from the tickets, error lines.

mod common;

use common::{hotline, ok};
use serde_json::Value;

/// A burst main reported three times, another problem, and lines that
/// cannot be linked.
fn stream() -> String {
    concat!(
        "\u{FEFF}",
        r#"{"id":"w1","text":"小区东门外马路上水管爆了，水往上冒","address":"朝阳区呼家楼街道金台里小区东门","lon":116.4661,"lat":39.9228,"crs":"gcj02","received_at":"2025-07-14T06:50:00+08:00"}"#, "\r\n",
        r#"{"id":"w2","text":"金台路这边自来水管破了，水淹到马路牙子了","lon":116.4675,"lat":39.9225,"crs":"gcj02","received_at":"2025-07-14T06:54:00+08:00"}"#, "\n",
        r#"{"id":"e1","text":"金台里9号楼电梯坏了，停在5层不动","address":"朝阳区呼家楼街道金台里社区9号楼","received_at":"2025-07-14T07:02:00+08:00"}"#, "\n",
        "\n",
        "not json\n",
        r#"{"id":"n1","text":"停水了","address":"朝阳区金台里"}"#, "\n",
        r#"{"id":"x1","text":"","received_at":"2025-07-14T07:10:00+08:00"}"#, "\n",
        r#"{"id":"w3","text":"早上起来没水了，听说外面管子爆了","lon":116.47339,"lat":39.92877,"crs":"bd09","received_at":"2025-07-14T06:40:00+08:00"}"#,
    )
    .to_string()
}

#[test]
fn each_line_is_the_route_line_plus_its_incident() {
    let input = stream();
    let linked = ok(&hotline(&["incidents"], input.as_bytes()));
    let routed = ok(&hotline(&["route"], input.as_bytes()));
    let (linked, routed): (Vec<&str>, Vec<&str>) =
        (linked.lines().collect(), routed.lines().collect());
    assert_eq!(linked.len(), 8, "one line per input line");
    let mut incidents = Vec::new();
    for (l, r) in linked.iter().zip(&routed) {
        let v: Value = serde_json::from_str(l).unwrap();
        if v.get("error").is_some() {
            continue;
        }
        // Byte for byte the route line, then the incident fields.
        let head = r.strip_suffix('}').unwrap();
        assert!(l.starts_with(head), "{l}\n{r}");
        assert!(l[head.len()..].starts_with(",\"incident\":"), "{l}");
        incidents.push((
            v["id"].as_str().unwrap().to_string(),
            v["incident"].as_str().unwrap().to_string(),
            v["incident_size"].as_u64().unwrap(),
        ));
    }
    let expected = [("w1", "w1", 1), ("w2", "w1", 2), ("e1", "e1", 1)];
    for (got, want) in incidents.iter().zip(expected) {
        assert_eq!((got.0.as_str(), got.1.as_str(), got.2), want);
    }
    // w3 was received before w1 and reached the stream last: it joins.
    assert_eq!(incidents.last().unwrap(), &("w3".into(), "w1".into(), 3));
}

#[test]
fn bad_lines_are_error_lines_and_time_comes_from_the_tickets() {
    let input = stream();
    let linked = ok(&hotline(&["incidents"], input.as_bytes()));
    let routed = ok(&hotline(&["route"], input.as_bytes()));
    let lines: Vec<Value> = linked
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let route_lines: Vec<Value> = routed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Empty and non-JSON lines: exactly route's error lines.
    for i in [3, 4, 6] {
        assert_eq!(lines[i], route_lines[i], "line {}", i + 1);
        assert!(lines[i]["error"].is_string());
    }
    // A ticket without received_at: an error line that says so (route
    // would take the wall clock instead).
    assert_eq!(lines[5]["id"], "n1");
    assert_eq!(lines[5]["line"], 6);
    assert!(lines[5]["error"].as_str().unwrap().contains("received_at"));
    assert!(route_lines[5].get("error").is_none());
}

#[test]
fn route_options_apply_and_mistakes_are_usage_errors() {
    let input = stream();
    let o = hotline(&["incidents", "--no-model"], input.as_bytes());
    let out = ok(&o);
    assert_eq!(out.lines().count(), 8);
    assert!(String::from_utf8_lossy(&o.stderr).contains("tickets linked"));
    let o = hotline(&["incidents", "--taxonomy", "/no/such/file.toml"], b"");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("hotline: ") && err.contains("/no/such/file.toml"),
        "{err}"
    );
    let o = hotline(&["incidents", "--no-such-flag"], b"");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_held_out_stream_runs_through_the_command() {
    let path = format!(
        "{}/tests/data/incidents/heldout.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    // The labels and resolution events are not tickets: strip them, as a
    // caller's file would not have them.
    let input: String = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("\"event\""))
        .map(|l| {
            let mut v: serde_json::Map<String, Value> = serde_json::from_str(l).unwrap();
            v.remove("incident");
            v.remove("note");
            serde_json::to_string(&v).unwrap() + "\n"
        })
        .collect();
    let out = ok(&hotline(&["incidents"], input.as_bytes()));
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), input.lines().count());
    assert!(lines.iter().all(|v| v["incident"].is_string()));
    let joined = lines
        .iter()
        .filter(|v| v["incident_size"].as_u64() > Some(1))
        .count();
    assert!(joined > 40, "{joined} tickets joined an incident");
}
