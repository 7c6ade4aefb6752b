//! `hotline incidents`: JSON Lines tickets from stdin to route lines with
//! the incident each ticket belongs to, on stdout.
//!
//! Each output line is exactly the line `hotline route` writes for the
//! ticket, with `"incident"` (the id of the incident's first ticket; a
//! ticket alone has its own) and `"incident_size"` (tickets so far) added
//! at the end — and `"incident_merged"` when the ticket showed other open
//! incidents to be the same one (their tickets now belong to `incident`).
//! Time comes from each ticket's `received_at`, never from the clock, so a
//! ticket without one is an error line. One output line per input line, in
//! order; bad lines are the error lines of `hotline route`.

use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};

use clap::Args;
use hotline_router::incident::{IncidentIndex, Link, Sighting};
use hotline_router::jsonl::{self, ErrorRecord};
use hotline_router::{Router, Ticket};

use crate::route::{self, InputArgs, RouteArgs};
use crate::Failure;

/// The options of the incidents command: those of `hotline route`.
#[derive(Args, Clone, Debug, Default)]
pub struct IncidentsArgs {
    #[command(flatten)]
    pub route: RouteArgs,
    #[command(flatten)]
    pub input: InputArgs,
}

/// Builds the router and the index, then links stdin to stdout.
///
/// # Errors
///
/// [`Failure::Usage`] for options or configuration, [`Failure::Io`] when
/// stdin or stdout fails. Bad lines are error lines, not errors.
pub fn run(args: &IncidentsArgs) -> Result<(), Failure> {
    let router = route::router(&args.route, "hotline").map_err(Failure::Usage)?;
    let out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let (linked, errors, index) =
        link_lines(&router, io::stdin().lock(), args.input.max_line_bytes, out)
            .map_err(Failure::io("linking stdin to stdout"))?;
    eprintln!(
        "hotline: {linked} tickets linked, {} incidents open at the end, {errors} error lines",
        index.open_incidents()
    );
    Ok(())
}

/// Links every line of `input`; returns the tickets linked, the error lines
/// and the index as it ends.
fn link_lines(
    router: &Router,
    input: impl io::BufRead,
    max_line_bytes: usize,
    mut output: impl Write,
) -> io::Result<(u64, u64, IncidentIndex)> {
    let mut index = IncidentIndex::new(router);
    let (mut linked, mut errors) = (0, 0);
    for line in jsonl::lines_capped(input, max_line_bytes) {
        let (n, bytes) = line?;
        let linked_line = bytes
            .map_err(ErrorRecord::from)
            .and_then(|bytes| link_line(router, &mut index, &bytes, n));
        match linked_line {
            Ok(text) => {
                linked += 1;
                output.write_all(text.as_bytes())?;
            }
            Err(record) => {
                errors += 1;
                serde_json::to_writer(&mut output, &record)?;
            }
        }
        output.write_all(b"\n")?;
    }
    output.flush()?;
    Ok((linked, errors, index))
}

/// The output line for one input line, without its newline.
fn link_line(
    router: &Router,
    index: &mut IncidentIndex,
    bytes: &[u8],
    n: u64,
) -> Result<String, ErrorRecord> {
    let Ok(ticket) = serde_json::from_slice::<Ticket>(bytes) else {
        // Not a ticket: the route command's own error line for it.
        return Err(match jsonl::route_line(router, bytes, n) {
            Err(record) => record,
            Ok(_) => ErrorRecord {
                id: jsonl::id_of(bytes),
                line: n,
                error: "invalid ticket".into(),
            },
        });
    };
    let error = |error: String| ErrorRecord {
        id: Some(ticket.id.clone()),
        line: n,
        error,
    };
    let Some(at) = ticket.received_at else {
        return Err(error(
            "no received_at: incidents are linked in the tickets' own time, so each ticket needs one"
                .into(),
        ));
    };
    let decision = router.route(&ticket).map_err(|e| error(e.to_string()))?;
    let record = decision.to_record(&ticket.id);
    let link = index.observe(&Sighting::new(&ticket, &decision, at));
    let mut line = serde_json::to_string(&record).map_err(|e| error(e.to_string()))?;
    append(&mut line, &link);
    Ok(line)
}

/// Appends the link's fields to a serialised route line.
fn append(line: &mut String, link: &Link) {
    // The route line is a JSON object: reopen it before its last brace,
    // so that everything before is byte for byte what `hotline route` says.
    line.pop();
    let id = serde_json::Value::from(link.incident.as_str());
    let _ = write!(line, ",\"incident\":{id},\"incident_size\":{}", link.size);
    if !link.merged.is_empty() {
        let merged = serde_json::Value::from(link.merged.clone());
        let _ = write!(line, ",\"incident_merged\":{merged}");
    }
    line.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_in_lines_out() {
        let router = Router::beijing();
        let input = concat!(
            r#"{"id":"a","text":"停电了","address":"朝阳区呼家楼街道金台里社区","received_at":"2024-11-20T18:00:00+08:00"}"#,
            "\n",
            r#"{"id":"b","text":"家里也停电了","address":"朝阳区呼家楼街道金台里社区","received_at":"2024-11-20T18:05:00+08:00"}"#,
            "\n",
            r#"{"id":"c","text":"停电了"}"#,
            "\nnot json\n"
        );
        let mut out = Vec::new();
        let (linked, errors, index) = link_lines(
            &router,
            input.as_bytes(),
            jsonl::DEFAULT_MAX_LINE_BYTES,
            &mut out,
        )
        .unwrap();
        assert_eq!((linked, errors, index.open_incidents()), (2, 2, 1));
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            (&lines[1]["incident"], &lines[1]["incident_size"]),
            (&"a".into(), &2.into())
        );
        assert!(lines[2]["error"].as_str().unwrap().contains("received_at"));
        assert_eq!(lines[3]["line"], 4);
    }
}
