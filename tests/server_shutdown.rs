//! Graceful shutdown of `Server::serve` with clients still holding event
//! streams open: the streams end, `serve` returns, and what it
//! acknowledged is in the journal when it is opened again.

use std::io::Read;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use hotline_router::dispatch::Dispatcher;
use hotline_router::journal::JournalOptions;
use hotline_router::server::{Live, Server, ServerConfig};
use hotline_router::Router;

#[test]
fn shutdown_ends_open_event_streams_and_keeps_what_was_acknowledged() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("server_shutdown_journal");
    let _ = std::fs::remove_dir_all(&dir);
    let live = Live::new();
    let (d, _) = Dispatcher::builder(Router::beijing())
        .observe(live.observer())
        .open_journal(&dir, JournalOptions::new())
        .unwrap();
    let config = ServerConfig::new().agency_token("center:triage", "center-token");
    let server = Server::new(d, live, config);

    let (addr_tx, addr_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let served = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            server
                .serve(listener, async {
                    let _ = stop_rx.await;
                })
                .await
        });
        done_tx.send(served.map_err(|e| e.to_string())).unwrap();
    });
    let addr = addr_rx.recv().unwrap();
    let http = reqwest::blocking::Client::new();

    // Two clients hold streams open: the worker API's and the dashboard's.
    let mut worker_stream = http
        .get(format!("http://{addr}/api/events"))
        .bearer_auth("center-token")
        .send()
        .unwrap();
    assert_eq!(worker_stream.status(), 200);
    let mut dashboard_stream = http
        .get(format!("http://{addr}/dashboard/stream"))
        .send()
        .unwrap();
    assert_eq!(dashboard_stream.status(), 200);
    let posted: serde_json::Value = http
        .post(format!("http://{addr}/open311/v2/requests.json"))
        .form(&[
            ("description", "暖气不热"),
            ("address_string", "朝阳区呼家楼街道"),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = posted[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();

    stop_tx.send(()).unwrap();
    // Without the streams ending, `serve` would wait for these clients
    // forever: the bound only turns a hang into a failure.
    let served = done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve did not return with event streams open");
    served.unwrap();
    // Both streams were ended by the server (read to their end).
    let mut rest = String::new();
    worker_stream.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("event: received"), "{rest}");
    dashboard_stream.read_to_string(&mut rest).unwrap();

    let (d, _) = Dispatcher::builder(Router::beijing())
        .open_journal(&dir, JournalOptions::new())
        .unwrap();
    assert!(d.record(&id).is_some(), "{id} acknowledged, then lost");
}
