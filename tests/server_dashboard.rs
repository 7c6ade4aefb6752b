//! The live dashboard: its summary against the dispatcher's own numbers,
//! its map and event stream, and the page as headless Chromium renders it
//! (so the script ran, fetched the live data and drew it as text).
//!
//! Most tickets are submitted through the dispatcher the server was built
//! with (the dashboard follows the dispatcher's acknowledged events,
//! whatever brought them); the browser test also posts one through the
//! Open311 intake, as a citizen's app would, and finds it on the page.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use hotline_router::dispatch::{Clock, Dispatcher, Evaluation, ManualClock};
use hotline_router::evaluate::GroupBy;
use hotline_router::server::{Live, Server, ServerConfig};
use hotline_router::{Router, Ticket};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tower::ServiceExt;

const TEXTS: [&str; 6] = [
    "楼道灯坏了好几天了",
    "小区门口有人占道经营，堵得走不了",
    "楼道里有燃气泄漏的味道",
    "暖气片不热，屋里只有十四度",
    "家里停水了，一直没来",
    "路边井盖丢了，很危险",
];
const ADDRESSES: [&str; 5] = [
    "朝阳区呼家楼街道",
    "海淀区学院路街道",
    "西城区德胜街道",
    "丰台区卢沟桥街道",
    "东城区东华门街道",
];

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn ticket(id: &str, i: usize) -> Ticket {
    Ticket::new(id, TEXTS[i % TEXTS.len()]).with_address(ADDRESSES[i % ADDRESSES.len()])
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 16 << 20).await.unwrap();
    (parts.status, parts.headers, bytes.to_vec())
}

async fn summary(app: &axum::Router) -> Value {
    let (status, _, body) = get(app, "/dashboard/summary.json").await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_slice(&body).unwrap()
}

fn counts(rows: &Value) -> BTreeMap<String, u64> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn summary_numbers_match_the_dispatcher() {
    let clock = Arc::new(ManualClock::new(ts("2024-11-19T09:00:00+08:00")));
    let live = Live::new();
    let d = Dispatcher::builder(Router::beijing())
        .clock(clock.clone())
        .observe(live.observer())
        .build();
    // Yesterday: 30 tickets, some handled and called back.
    for i in 0..30 {
        d.submit(ticket(&format!("Y{i:02}"), i)).unwrap();
        clock.advance(SignedDuration::from_mins(7));
    }
    for i in (0..30).step_by(3) {
        let id = format!("Y{i:02}");
        let agency = d.record(&id).unwrap().agency().to_string();
        while let Some(claim) = d.claim(&agency, "w1").unwrap() {
            d.respond(&claim.id, "w1").unwrap();
            d.resolve(&claim.id, "w1", "done").unwrap();
            let ok = claim.id.ends_with('0') || claim.id.ends_with('3');
            let e = Evaluation {
                responded: true,
                resolved: ok,
                satisfied: ok,
            };
            d.evaluate(&claim.id, e).unwrap();
            if claim.id == id {
                break;
            }
        }
    }
    // Today: 40 more, the board built before the last 15 (so that both the
    // scan at start and the live events are counted).
    clock.set(ts("2024-11-20T08:00:00+08:00"));
    for i in 0..25 {
        d.submit(ticket(&format!("A{i:02}"), i + 1)).unwrap();
        clock.advance(SignedDuration::from_mins(11));
    }
    let rt = runtime();
    let app = Server::new(d.clone(), live, ServerConfig::new()).app();
    // The map builds the board (a scan) without computing the summary's
    // heavy parts, which are then computed once, below, after every change.
    let (status, _, _) = rt.block_on(get(&app, "/dashboard/map.svg"));
    assert_eq!(status, StatusCode::OK);
    for i in 0..15 {
        d.submit(ticket(&format!("B{i:02}"), i + 2)).unwrap();
        clock.advance(SignedDuration::from_mins(13));
    }
    let s = rt.block_on(summary(&app));
    let now = clock.now();
    assert_eq!(s["date"], "2024-11-20");

    let tz = d.router().time_zone().clone();
    let midnight = ts("2024-11-20T00:00:00+08:00");
    let tomorrow = ts("2024-11-21T00:00:00+08:00");
    let by_district: BTreeMap<String, u64> = d
        .rates(GroupBy::District, midnight, tomorrow)
        .into_iter()
        .map(|r| (r.key, r.received))
        .collect();
    let today_total: u64 = d
        .rates(GroupBy::Agency, midnight, tomorrow)
        .iter()
        .map(|r| r.received)
        .sum();
    assert_eq!(today_total, 40);
    assert_eq!(s["today"]["received"], today_total);
    assert_eq!(counts(&s["today"]["districts"]), by_district);
    let mut by_category: HashMap<String, u64> = HashMap::new();
    d.for_each_record(|r| {
        if r.received_at() >= midnight {
            *by_category.entry(r.routing().category.clone()).or_default() += 1;
        }
    });
    let shown = counts(&s["today"]["categories"]);
    assert_eq!(shown.len(), by_category.len().min(10));
    for (code, n) in &shown {
        assert_eq!(by_category[code], *n, "category {code}");
    }

    // Work lists: every agency shown holds what the dispatcher says.
    let lists = s["work_lists"]["top"].as_array().unwrap();
    assert!(!lists.is_empty());
    for row in lists {
        let agency = row["agency"].as_str().unwrap();
        assert_eq!(row["open"], d.open_at(agency) as u64, "{agency}");
    }
    let c = d.counts();
    assert_eq!(s["work_lists"]["open"], (c.dispatched + c.in_hand) as u64);

    // Overdue: what Dispatcher::overdue reports (asked after, since it
    // escalates; the set is the same).
    let overdue = d.overdue(now);
    assert!(
        !overdue.is_empty(),
        "the urgent tickets of yesterday are late"
    );
    assert_eq!(s["overdue"]["count"], overdue.len() as u64);
    let ids: Vec<&str> = s["overdue"]["oldest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = overdue.iter().take(10).map(|o| o.id.as_str()).collect();
    assert_eq!(ids, expected);
    let late = s["overdue"]["oldest"][0]["late_seconds"].as_i64().unwrap();
    assert_eq!(late, now.duration_since(overdue[0].deadline).as_secs());

    // 三率 this month, city-wide and the bottom of the ranking.
    let month = d.rates(
        GroupBy::Agency,
        ts("2024-11-01T00:00:00+08:00"),
        ts("2024-12-01T00:00:00+08:00"),
    );
    let sum = |f: fn(&hotline_router::evaluate::Rates) -> u64| month.iter().map(f).sum::<u64>();
    let (evaluated, satisfied) = (sum(|r| r.evaluated), sum(|r| r.satisfied));
    assert_eq!(evaluated, d.counts().evaluated as u64);
    assert!(evaluated >= 10);
    assert_eq!(s["rates"]["month"], "2024-11");
    assert_eq!(s["rates"]["city"]["evaluated"], evaluated);
    let shown = s["rates"]["city"]["satisfaction"].as_f64().unwrap();
    assert!((shown - satisfied as f64 / evaluated as f64).abs() < 1e-12);
    let ranking = d.monthly_ranking(2024, 11, 5, 10).unwrap();
    let worst: Vec<&str> = s["rates"]["worst"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(worst, ranking.bottom);

    // The latest tickets: newest first, with their district and agency.
    let latest = &s["latest"][0];
    assert_eq!(latest["id"], "B14");
    let record = d.record("B14").unwrap();
    assert_eq!(latest["agency"], record.agency());
    assert_eq!(
        latest["district"].as_str(),
        record.routing().district.as_deref()
    );
    assert_eq!(
        latest["at"],
        record
            .received_at()
            .to_zoned(tz)
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    );

    // Past local midnight, today starts again from nothing.
    clock.set(ts("2024-11-21T00:00:05+08:00"));
    d.submit(ticket("C00", 0)).unwrap();
    let s = rt.block_on(summary(&app));
    assert_eq!(s["date"], "2024-11-21");
    assert_eq!(s["today"]["received"], 1);
    assert_eq!(s["today"]["districts"].as_array().unwrap().len(), 1);
}

#[test]
fn the_map_shades_districts_by_todays_tickets() {
    let live = Live::new();
    let d = Dispatcher::builder(Router::beijing())
        .observe(live.observer())
        .build();
    for i in 0..3 {
        d.submit(ticket(&format!("M{i}"), 0)).unwrap(); // 朝阳区
    }
    d.submit(ticket("M3", 1)).unwrap(); // 海淀区
    let app = Server::new(d, live, ServerConfig::new()).app();
    let (status, headers, body) = runtime().block_on(get(&app, "/dashboard/map.svg"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/svg+xml");
    let svg = String::from_utf8(body).unwrap();
    assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" "#));
    assert_eq!(svg.matches(r#"class="district""#).count(), 16);
    assert!(svg.contains("朝阳区：3 件"), "{svg:.300}");
    assert!(svg.contains("海淀区：1 件"));
    assert!(svg.contains("西城区：0 件"));
    // The busiest district is the darkest of the scale.
    let path = svg.split(r#"<path id="d-110105""#).nth(1).unwrap();
    assert!(path.contains(r##"fill="#800026""##));
}

#[test]
fn the_page_is_self_contained_and_locked_down() {
    let live = Live::new();
    let d = Dispatcher::builder(Router::beijing())
        .observe(live.observer())
        .build();
    let app = Server::new(d, live, ServerConfig::new()).app();
    let rt = runtime();
    let (status, headers, body) = rt.block_on(get(&app, "/"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_SECURITY_POLICY],
        "default-src 'self'"
    );
    let html = String::from_utf8(body).unwrap();
    for asset in ["/dashboard/dashboard.js", "/dashboard/dashboard.css"] {
        assert!(html.contains(asset));
        let (status, _, body) = rt.block_on(get(&app, asset));
        assert_eq!(status, StatusCode::OK, "{asset}");
        let text = String::from_utf8(body).unwrap();
        assert!(!text.contains("://"), "{asset} refers elsewhere");
        assert!(!text.contains("innerHTML"), "{asset} writes markup");
    }
    assert!(!html.contains("://"), "the page refers elsewhere");
}

/// A server on 127.0.0.1, stopped when dropped.
struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn serve(server: Server) -> Running {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        runtime().block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            let _ = server
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await;
        });
    });
    Running {
        addr: addr_rx.recv().unwrap(),
        stop: Some(stop),
    }
}

#[test]
fn the_stream_says_when_tickets_arrive() {
    let live = Live::new();
    let d = Dispatcher::builder(Router::beijing())
        .observe(live.observer())
        .build();
    let server = serve(Server::new(d.clone(), live, ServerConfig::new()));
    let url = format!("http://{}/dashboard/stream", server.addr);
    let response = reqwest::blocking::get(&url).unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    // The stream is open (headers came) before the submit: its event
    // must follow.
    d.submit(ticket("S1", 0)).unwrap();
    let mut lines = BufReader::new(response).lines();
    let event = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|l| l.starts_with("event:"))
        .unwrap();
    assert_eq!(event, "event: changed");
    let data = lines.next().unwrap().unwrap();
    assert!(data.strip_prefix("data: ").unwrap().parse::<u64>().unwrap() >= 1);
}

/// Headless Chromium, or `None` (and a message) when it is missing and
/// this is not CI.
fn chromium() -> Option<&'static Path> {
    let path = Path::new("/usr/bin/chromium");
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!("/usr/bin/chromium is missing: CI must install Debian's chromium (see .ci/run)");
    }
    eprintln!("skipping the browser test: /usr/bin/chromium is missing (apt-get install chromium)");
    None
}

/// The DOM Chromium renders at `url` after the page's scripts ran.
fn dump_dom(chromium: &Path, url: &str) -> String {
    static RUN: AtomicU32 = AtomicU32::new(0);
    let profile: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "dash-chromium-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=5000",
            // A backstop: a page that never settles still ends the run.
            "--timeout=60000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn chromium_renders_live_tickets_as_text() {
    let Some(chromium) = chromium() else {
        return;
    };
    let live = Live::new();
    let d = Dispatcher::builder(Router::beijing())
        .observe(live.observer())
        .build();
    let server = serve(Server::new(d.clone(), live, ServerConfig::new()));
    let url = format!("http://{}/", server.addr);

    d.submit(ticket("DASH-0001", 0)).unwrap(); // 朝阳区
    let dom = dump_dom(chromium, &url);
    assert!(dom.contains("DASH-0001"), "{dom}");
    assert!(dom.contains("朝阳区"), "{dom}");
    assert!(!dom.contains("数据获取失败"), "{dom}");

    // A ticket posted by a citizen's app through Open311, a second one
    // straight to the dispatcher, and one whose id is markup: the next
    // load shows them all, the markup as text.
    let posted = reqwest::blocking::Client::new()
        .post(format!("{url}open311/v2/requests.json"))
        .form(&[
            ("description", "小区东门的路灯坏了一个多星期，晚上很黑"),
            ("address_string", "丰台区方庄街道"),
        ])
        .send()
        .unwrap();
    assert_eq!(posted.status(), StatusCode::OK);
    let posted: serde_json::Value = posted.json().unwrap();
    let posted = posted[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    d.submit(ticket("DASH-0002", 1)).unwrap(); // 海淀区
    d.submit(ticket(r#"<b id="xss">DASH-0003</b>"#, 2)).unwrap(); // 西城区
    let dom = dump_dom(chromium, &url);
    for text in [
        "DASH-0001",
        "DASH-0002",
        "海淀区",
        "西城区",
        &posted,
        "丰台区",
    ] {
        assert!(dom.contains(text), "{text} missing from {dom}");
    }
    assert!(
        dom.contains(r#"&lt;b id="xss"&gt;DASH-0003&lt;/b&gt;"#),
        "{dom}"
    );
    assert!(
        !dom.contains(r#"<b id="xss">"#),
        "ticket text became markup"
    );
}
