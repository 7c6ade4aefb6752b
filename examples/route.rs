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
//! The work is done by [`hotline_router::jsonl::route_lines`].

use std::io::{self, BufWriter};

use hotline_router::{jsonl, Router};

fn main() -> io::Result<()> {
    let router = Router::beijing();
    let out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let summary = jsonl::route_lines(&router, io::stdin().lock(), out)?;
    eprintln!(
        "route: {} routed, {} error lines",
        summary.routed, summary.errors
    );
    Ok(())
}
