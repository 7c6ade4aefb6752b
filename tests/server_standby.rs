//! Two `hotline serve` processes on one PostgreSQL schema: the active one
//! takes posts from four clients and is killed with `kill -9` while they
//! post; the `--standby` takes over and answers every request the active
//! one acknowledged, and takes new posts.
//!
//! Needs a database: `HOTLINE_TEST_POSTGRES=postgres://…` (`.ci/postgres`
//! starts a throw-away one). Without it the test fails when `CI` is set
//! and is skipped (with a message) otherwise.

use std::collections::HashMap;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const CLIENTS: usize = 4;
const KILL_AFTER: usize = 200;

#[path = "support/postgres.rs"]
mod postgres_support;
use postgres_support::database;

#[path = "support/serve.rs"]
mod serve;

fn spawn(url: &str, schema: &str, standby: bool) -> (Child, serve::Stderr) {
    let mut args = vec!["--postgres", url, "--schema", schema];
    if standby {
        args.push("--standby");
    }
    serve::spawn(&args)
}

#[test]
fn the_standby_answers_every_acknowledged_request_after_kill_9() {
    let Some(url) = database() else { return };
    let schema = format!("e2e_standby_{}", std::process::id());
    let (mut active, active_err) = spawn(&url, &schema, false);
    let active_addr = serve::serving(active_err);
    let (mut standby, mut standby_err) = spawn(&url, &schema, true);
    serve::wait_for(&mut standby_err, "standby for schema");

    let acked: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (stop, acked) = (stop.clone(), acked.clone());
            let endpoint = format!("http://{active_addr}/open311/v2/requests.json");
            thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let description = format!("客户{c} 第{n}件：小区门口路灯不亮");
                    let form = [
                        ("description", description.as_str()),
                        ("address_string", "海淀区学院路街道"),
                    ];
                    // After the kill: refused connections, cut answers.
                    // Only a 200 with an id promises anything.
                    let Ok(resp) = http.post(&endpoint).form(&form).send() else {
                        continue;
                    };
                    if resp.status() != 200 {
                        continue;
                    }
                    let Ok(v) = resp.json::<serde_json::Value>() else {
                        continue;
                    };
                    let id = v[0]["service_request_id"].as_str().unwrap().to_string();
                    acked.lock().unwrap().insert(id, description);
                }
            })
        })
        .collect();
    while acked.lock().unwrap().len() < KILL_AFTER {
        assert!(
            active.try_wait().unwrap().is_none(),
            "the active server exited"
        );
        thread::sleep(Duration::from_millis(5));
    }
    active.kill().unwrap(); // SIGKILL, while the clients still post
    let killed = Instant::now();
    active.wait().unwrap();
    let standby_addr = serve::serving(standby_err);
    let took_over = killed.elapsed();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    // A figure for the record (the target is 5 s), not an assertion.
    eprintln!("the standby served {took_over:?} after the kill");

    let http = reqwest::blocking::Client::new();
    let acked = acked.lock().unwrap();
    assert!(acked.len() >= KILL_AFTER);
    for (id, description) in acked.iter() {
        let resp = http
            .get(format!(
                "http://{standby_addr}/open311/v2/requests/{id}.json"
            ))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200, "{id} acknowledged by the active, lost");
        let v: serde_json::Value = resp.json().unwrap();
        assert_eq!(v[0]["description"], description.as_str());
    }
    // The standby is now the writer: it takes new posts, with new ids.
    let resp = http
        .post(format!("http://{standby_addr}/open311/v2/requests.json"))
        .form(&[
            ("description", "楼道灯坏了"),
            ("address_string", "朝阳区呼家楼街道"),
        ])
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = resp.json().unwrap();
    let id = v[0]["service_request_id"].as_str().unwrap();
    assert!(!acked.contains_key(id), "id {id} given twice");

    standby.kill().unwrap();
    standby.wait().unwrap();
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    db.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}
