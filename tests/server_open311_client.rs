//! A third-party GeoReport v2 client against the server: `tests/open311/client.py`
//! (the PyPI `georeport` client, JSON and XML, and the GeoReport v2 JSON
//! schemas checked with `jsonschema`) on a server listening on
//! 127.0.0.1:0 in this process.
//!
//! Needs `python3 -m pip install georeport jsonschema`: without them the
//! test fails when `CI` is set, and is skipped (with a message) otherwise.

use std::path::Path;
use std::process::Command;

use hotline_router::dispatch::Dispatcher;
use hotline_router::server::{Live, Server, ServerConfig};
use hotline_router::Router;

fn python_ready() -> Result<(), String> {
    let out = Command::new("python3")
        .args(["-c", "import georeport, jsonschema, xmltodict, requests"])
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn georeport_client_reads_json_and_xml_and_answers_match_the_schemas() {
    if let Err(why) = python_ready() {
        let msg = format!(
            "python3 with georeport and jsonschema is needed \
             (python3 -m pip install georeport jsonschema): {why}"
        );
        if std::env::var_os("CI").is_some() {
            panic!("{msg}");
        }
        eprintln!("skipped: {msg}");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let live = Live::new();
    let dispatcher = Dispatcher::builder(Router::beijing())
        .observe(live.observer())
        .build();
    let server = Server::new(dispatcher, live, ServerConfig::new());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = rt.spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/open311");
    let out = Command::new("python3")
        .arg(dir.join("client.py"))
        .arg(format!("http://{addr}/open311/v2"))
        .arg(dir.join("schemas"))
        .output()
        .unwrap();
    let _ = stop.send(());
    rt.block_on(serving).unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "client.py failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("checks passed"), "{stdout}");
    eprintln!("{stdout}");
}
