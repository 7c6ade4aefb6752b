//! `kill -9` of `hotline serve` while eight clients post: every request
//! answered 200 with an id is there after the restart, with its
//! description, and ids stay unique across restarts.

use std::collections::HashMap;
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

const CLIENTS: usize = 8;
/// Kill points: acknowledged requests (all rounds) before each kill.
const KILL_AFTER: [usize; 3] = [40, 150, 300];

#[path = "support/serve.rs"]
mod serve;

/// Starts the server on the journal, returns it and its address.
fn start(journal: &Path) -> (Child, String) {
    let (child, stderr) = serve::spawn(&["--journal", journal.to_str().unwrap()]);
    (child, serve::serving(stderr))
}

#[test]
fn acknowledged_requests_survive_kill_9() {
    let journal = Path::new(env!("CARGO_TARGET_TMPDIR")).join("server_crash_journal");
    let _ = std::fs::remove_dir_all(&journal);
    let acked: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let http = reqwest::blocking::Client::new();
    let (mut child, mut addr) = start(&journal);

    for (round, &kill_after) in KILL_AFTER.iter().enumerate() {
        let stop = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let refused = refused.clone();
                let (stop, acked, url) = (
                    stop.clone(),
                    acked.clone(),
                    format!("http://{addr}/open311/v2/requests.json"),
                );
                thread::spawn(move || {
                    let http = reqwest::blocking::Client::new();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let description = format!("第{round}轮 客户{c} 第{n}件：楼道灯坏了");
                        let form = [
                            ("description", description.as_str()),
                            ("address_string", "朝阳区呼家楼街道"),
                        ];
                        let sent = http.post(&url).form(&form).send();
                        // Refused connections and cut answers after the kill
                        // are expected: only a 200 promises anything.
                        let Ok(resp) = sent else { continue };
                        if resp.status() != 200 {
                            refused.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        let Ok(v) = resp.json::<serde_json::Value>() else {
                            continue;
                        };
                        let id = v[0]["service_request_id"].as_str().unwrap().to_string();
                        let earlier = acked.lock().unwrap().insert(id.clone(), description);
                        assert!(earlier.is_none(), "id {id} given twice");
                    }
                })
            })
            .collect();
        while acked.lock().unwrap().len() < kill_after {
            // A server that died or refuses everything would never get
            // there: fail instead of waiting forever.
            assert!(child.try_wait().unwrap().is_none(), "the server exited");
            assert!(
                refused.load(Ordering::Relaxed) < 100,
                "the server refuses posts"
            );
            thread::sleep(std::time::Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            c.join().unwrap();
        }

        (child, addr) = start(&journal);
        let acked = acked.lock().unwrap();
        for (id, description) in acked.iter() {
            let resp = http
                .get(format!("http://{addr}/open311/v2/requests/{id}.json"))
                .send()
                .unwrap();
            assert_eq!(resp.status(), 200, "round {round}: {id} lost");
            let v: serde_json::Value = resp.json().unwrap();
            assert_eq!(
                v[0]["description"],
                description.as_str(),
                "round {round}: {id}"
            );
        }
        eprintln!(
            "round {round}: {} acknowledged requests all restored",
            acked.len()
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
