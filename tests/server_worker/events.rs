//! The event stream: over a real listener, filtered by agency, lagging.

use std::io::{BufRead, BufReader};

use axum::body::Body;
use hotline_router::dispatch::Dispatcher;
use hotline_router::journal::JournalOptions;
use hotline_router::server::{Live, Server};
use hotline_router::{Router, Ticket};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::*;

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
