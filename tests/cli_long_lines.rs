//! Over-long input lines through the CLI: read only up to `--max-line-bytes`
//! (default 1 MiB), answered with an error line, and every later line still
//! answered with its own number.

mod common;

use std::process::Output;

use common::{hotline, stderr};
use serde_json::Value;

/// Asserts a successful run and returns its output's lines.
fn ok(o: &Output) -> Vec<String> {
    common::ok(o).lines().map(str::to_string).collect()
}

const TICKET: &str = r#"{"id":"b","text":"暖气不热","address":"朝阳区呼家楼街道","received_at":"2024-11-20T08:00:00+08:00"}"#;

/// A line of `n` bytes of 'x', then a ticket, then a blank line.
fn input(n: usize) -> Vec<u8> {
    let mut bytes = vec![b'x'; n];
    bytes.push(b'\n');
    bytes.extend_from_slice(TICKET.as_bytes());
    bytes.extend_from_slice(b"\n\n");
    bytes
}

fn assert_too_long_then_routed(lines: &[String], max: usize) {
    assert_eq!(lines.len(), 3, "one line per input line: {lines:?}");
    assert_eq!(
        lines[0],
        format!(r#"{{"id":null,"line":1,"error":"line longer than {max} bytes"}}"#)
    );
    let routed: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(routed["id"], "b");
    assert_eq!(routed["category"], "heating");
    let empty: Value = serde_json::from_str(&lines[2]).unwrap();
    assert_eq!(empty["line"], 3);
}

#[test]
fn route_answers_a_line_over_the_default_cap_with_an_error_line() {
    let out = hotline(&["route"], &input(3 << 20));
    assert_too_long_then_routed(&ok(&out), 1 << 20);
    assert!(
        stderr(&out).contains("1 routed, 2 error lines"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn route_takes_the_cap_from_max_line_bytes() {
    assert!(TICKET.len() <= 256);
    let lines = ok(&hotline(&["route", "--max-line-bytes", "256"], &input(257)));
    assert_too_long_then_routed(&lines, 256);
    // At the cap exactly, the line is read (and is not JSON).
    let lines = ok(&hotline(&["route", "--max-line-bytes", "256"], &input(256)));
    assert!(lines[0].contains("invalid ticket"), "{}", lines[0]);
}

#[test]
fn incidents_caps_its_lines_too() {
    let lines = ok(&hotline(
        &["incidents", "--max-line-bytes", "256"],
        &input(257),
    ));
    assert_too_long_then_routed(&lines, 256);
}

#[test]
fn a_bad_cap_is_a_usage_error() {
    let out = hotline(&["route", "--max-line-bytes", "lots"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
