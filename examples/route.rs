//! Routes JSON Lines tickets from stdin to JSON Lines decisions on stdout.
//!
//! ```text
//! cargo run --release --example route < tickets.jsonl > decisions.jsonl
//! ```
//!
//! Input, one ticket per line:
//! `{"id","text","address"?,"lon"?,"lat"?,"crs"?: "wgs84"|"gcj02"|"bd09","channel"?,"received_at"?}`
//! (a ticket without `received_at` is taken as received now).
//!
//! Output, exactly one line per input line, in order: the decision
//! (`{"id","category","categories","district","street","community","located_by","agency",
//! "co_agencies","priority","deadline","language","language_service","explain"}`) or, for a
//! line that cannot be parsed or routed, `{"id": <id or null>, "line": <n>, "error": "<what>"}`.
//! Nothing is skipped silently, and memory stays constant: the input streams.

use std::io::{self, BufRead, BufWriter, Write};

use hotline_router::{Router, Ticket};
use serde::Serialize;

#[derive(Serialize)]
struct ErrorLine<'a> {
    id: Option<&'a str>,
    line: u64,
    error: String,
}

fn main() -> io::Result<()> {
    let router = Router::beijing();
    let stdin = io::stdin().lock();
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let (mut routed, mut failed) = (0u64, 0u64);
    for (n, line) in stdin.split(b'\n').enumerate() {
        let line_no = n as u64 + 1;
        let mut bytes = line?;
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        let result = match serde_json::from_slice::<Ticket>(&bytes) {
            Ok(ticket) => match router.route(&ticket) {
                Ok(decision) => Ok(decision.to_record(&ticket.id)),
                Err(e) => Err((Some(ticket.id.clone()), e.to_string())),
            },
            Err(e) => Err((id_of(&bytes), parse_error(&bytes, e))),
        };
        match result {
            Ok(record) => {
                routed += 1;
                serde_json::to_writer(&mut out, &record)?;
            }
            Err((id, error)) => {
                failed += 1;
                let e = ErrorLine {
                    id: id.as_deref(),
                    line: line_no,
                    error,
                };
                serde_json::to_writer(&mut out, &e)?;
            }
        }
        out.write_all(b"\n")?;
    }
    out.flush()?;
    eprintln!("route: {routed} routed, {failed} errors");
    Ok(())
}

/// The ticket id, if the line is a JSON object with a string id.
fn id_of(bytes: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    value.get("id")?.as_str().map(str::to_string)
}

fn parse_error(bytes: &[u8], e: serde_json::Error) -> String {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        "empty line: expected a JSON ticket".to_string()
    } else {
        format!("invalid ticket: {e}")
    }
}
