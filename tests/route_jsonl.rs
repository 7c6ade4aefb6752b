//! The `examples/route` contract: one output line per input line, in order;
//! bad lines become error lines naming the line and, where there is one, the id.

use hotline_router::{jsonl, Router};
use serde_json::Value;

fn run(input: &str) -> (Vec<Value>, jsonl::Summary) {
    let mut out = Vec::new();
    let summary = jsonl::route_lines(&Router::beijing(), input.as_bytes(), &mut out).unwrap();
    let lines = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, summary)
}

#[test]
fn every_line_gets_exactly_one_answer_in_order() {
    let input = [
        r#"{"id":"ok1","text":"暖气片不热","address":"朝阳区呼家楼街道","received_at":"2024-11-20T08:00:00+08:00"}"#,
        r#"not json at all"#,
        r#""#,
        r#"{"id":"bad-coords","text":"停电了","lon":200,"lat":39.9}"#,
        r#"{"id":"half","text":"停电了","lon":116.4}"#,
        r#"{"id":"crs","text":"停电了","lon":116.4,"lat":39.9,"crs":"mercator"}"#,
        r#"{"text":"no id"}"#,
        r#"{"id":"","text":"empty id"}"#,
        r#"{"id":"empty","text":"   "}"#,
        r#"{"id":"chan","text":"x","channel":"fax"}"#,
        r#"[1,2,3]"#,
        r#"{"id":"ok2","text":"Lost my passport at the airport","lon":116.6,"lat":40.08,"crs":"gcj02","channel":"app"}"#,
        "{\"id\":\"crlf\",\"text\":\"挪车\"}\r",
    ]
    .join("\n");
    let (lines, summary) = run(&input);
    assert_eq!(lines.len(), 13);
    assert_eq!((summary.routed, summary.errors), (3, 10));

    let ok = &lines[0];
    assert_eq!(ok["id"], "ok1");
    assert_eq!(ok["category"], "heating");
    assert_eq!(ok["categories"][0], "heating");
    assert_eq!(ok["district"], "110105");
    assert_eq!(ok["street"], "110105003");
    assert_eq!(ok["located_by"], "address");
    assert_eq!(ok["agency"], "district:110105:city_mgmt");
    assert_eq!(ok["co_agencies"], Value::Array(vec![]));
    assert_eq!(ok["priority"], "normal");
    assert_eq!(ok["deadline"], "2024-11-23T00:00:00+08:00");
    assert_eq!(ok["language"], "zh");
    assert_eq!(ok["language_service"], "native");
    assert!(!ok["explain"].as_array().unwrap().is_empty());

    let errors: Vec<(Value, u64, String)> = lines[1..11]
        .iter()
        .map(|l| {
            (
                l["id"].clone(),
                l["line"].as_u64().unwrap(),
                l["error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect: [(Value, u64, &str); 10] = [
        (Value::Null, 2, "invalid ticket"),
        (Value::Null, 3, "empty line"),
        ("bad-coords".into(), 4, "invalid coordinates"),
        ("half".into(), 5, "lon and lat must be given together"),
        ("crs".into(), 6, "invalid ticket"),
        (Value::Null, 7, "missing field `id`"),
        ("".into(), 8, "ticket id is empty"),
        ("empty".into(), 9, "no text and no address"),
        ("chan".into(), 10, "invalid ticket"),
        (Value::Null, 11, "invalid ticket"),
    ];
    for ((id, line, error), (want_id, want_line, want)) in errors.iter().zip(expect) {
        assert_eq!((id, *line), (&want_id, want_line), "{error}");
        assert!(
            error.contains(want),
            "line {line}: {error:?} should contain {want:?}"
        );
    }
    assert_eq!(lines[11]["agency"], "city:airport");
    assert_eq!(lines[11]["language_service"], "seat");
    assert_eq!(lines[12]["id"], "crlf");
    assert_eq!(lines[12]["category"], "transport.parking");
}

#[test]
fn invalid_utf8_is_an_error_line_not_a_crash() {
    let mut out = Vec::new();
    let input: &[u8] = b"{\"id\":\"a\",\"text\":\"\xff\xfe\"}\n{\"id\":\"b\",\"text\":\"\xe6\x8c\xaa\xe8\xbd\xa6\"}\n";
    let summary = jsonl::route_lines(&Router::beijing(), input, &mut out).unwrap();
    assert_eq!((summary.routed, summary.errors), (1, 1));
    let text = String::from_utf8(out).unwrap();
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["line"], 1);
}
