//! `hotline serve` as a child process, for the tests that kill it: start
//! it, read its stderr up to a line, and where it serves.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStderr, Command, Stdio};

/// The server's stderr, line by line.
pub type Stderr = Lines<BufReader<ChildStderr>>;

/// Starts `hotline serve ARGS --addr 127.0.0.1:0 --rate 0`.
pub fn spawn(args: &[&str]) -> (Child, Stderr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("serve")
        .args(args)
        .args(["--addr", "127.0.0.1:0", "--rate", "0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    (child, lines)
}

/// Reads stderr until a line contains `marker`; returns that line.
pub fn wait_for(lines: &mut Stderr, marker: &str) -> String {
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains(marker) {
            return line;
        }
    }
    panic!("the server exited before printing {marker:?}");
}

/// Waits until the server serves; returns its `host:port`, and keeps
/// draining stderr so the server never blocks on a full pipe.
pub fn serving(mut lines: Stderr) -> String {
    let line = wait_for(&mut lines, "serving on http://");
    std::thread::spawn(move || for _ in lines {});
    line.split("serving on http://")
        .nth(1)
        .unwrap()
        .trim_end_matches('/')
        .to_string()
}
