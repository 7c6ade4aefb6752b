//! The JSON Lines contract of `examples/route`, as a library function.
//!
//! One ticket per input line in, exactly one line per input line out, in
//! order: the decision, or an error line `{"id", "line", "error"}` for a line
//! that cannot be parsed or routed. Nothing is skipped, and memory stays
//! constant: lines stream through. A UTF-8 byte-order mark at the start of
//! the input, as some Windows tools write, is ignored.

use std::io::{self, BufRead, Write};

use serde::Serialize;

use crate::router::{DecisionRecord, Router};
use crate::ticket::Ticket;

/// The output line for an input line that could not be parsed or routed.
///
/// # Examples
///
/// ```
/// use hotline_router::{jsonl, Router};
///
/// let router = Router::beijing();
/// let err = jsonl::route_line(&router, br#"{"id":"x","text":"","lon":1}"#, 7).unwrap_err();
/// assert_eq!((err.id.as_deref(), err.line), (Some("x"), 7));
/// assert!(err.error.contains("lon and lat"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ErrorRecord {
    /// The ticket id, when the line had one.
    pub id: Option<String>,
    /// The 1-based input line number.
    pub line: u64,
    /// What was wrong.
    pub error: String,
}

/// Counts from one run of [`route_lines`].
///
/// # Examples
///
/// ```
/// use hotline_router::{jsonl, Router};
///
/// let input = "{\"id\":\"a\",\"text\":\"挪车\"}\nnot json\n";
/// let mut out = Vec::new();
/// let summary = jsonl::route_lines(&Router::beijing(), input.as_bytes(), &mut out).unwrap();
/// assert_eq!((summary.routed, summary.errors), (1, 1));
/// assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines routed.
    pub routed: u64,
    /// Lines answered with an error line.
    pub errors: u64,
}

/// Routes one input line (without its newline).
///
/// # Errors
///
/// An [`ErrorRecord`] when the line is not a valid ticket or the ticket
/// cannot be routed.
pub fn route_line(
    router: &Router,
    line: &[u8],
    line_no: u64,
) -> Result<DecisionRecord, ErrorRecord> {
    let error = |id: Option<String>, error: String| ErrorRecord {
        id,
        line: line_no,
        error,
    };
    let ticket: Ticket = serde_json::from_slice(line).map_err(|e| {
        if line.iter().all(u8::is_ascii_whitespace) {
            error(None, "empty line: expected a JSON ticket".into())
        } else {
            error(id_of(line), format!("invalid ticket: {e}"))
        }
    })?;
    match router.route(&ticket) {
        Ok(decision) => Ok(decision.to_record(&ticket.id)),
        Err(e) => Err(error(Some(ticket.id), e.to_string())),
    }
}

/// Routes every line of `input` to `output`, one output line per input line.
///
/// A UTF-8 byte-order mark (EF BB BF) at the very start of `input` is
/// skipped; anywhere else it is part of the line, and a line that starts
/// with one is not JSON.
///
/// # Errors
///
/// Only I/O errors; bad lines become error lines.
pub fn route_lines<R: BufRead, W: Write>(
    router: &Router,
    input: R,
    mut output: W,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    for line in lines(input) {
        let (n, bytes) = line?;
        match route_line(router, &bytes, n) {
            Ok(record) => {
                summary.routed += 1;
                serde_json::to_writer(&mut output, &record)?;
            }
            Err(record) => {
                summary.errors += 1;
                serde_json::to_writer(&mut output, &record)?;
            }
        }
        output.write_all(b"\n")?;
    }
    output.flush()?;
    Ok(summary)
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = "\u{FEFF}".as_bytes();

/// The lines of JSON Lines input as the crate reads them everywhere: split
/// on `\n`, a trailing `\r` removed (CRLF files), a UTF-8 byte-order mark
/// skipped at the very start of the input (anywhere else it stays, and that
/// line is not JSON). Each item is the 1-based line number and the bytes;
/// the bytes need not be UTF-8.
///
/// # Errors
///
/// Each item is an I/O error if reading failed.
///
/// # Examples
///
/// ```
/// use hotline_router::jsonl;
///
/// let input = "\u{FEFF}{\"id\":\"a\"}\r\n\nnot json";
/// let lines: Vec<(u64, Vec<u8>)> = jsonl::lines(input.as_bytes()).map(Result::unwrap).collect();
/// assert_eq!(lines[0], (1, br#"{"id":"a"}"#.to_vec()));
/// assert_eq!(lines[1], (2, Vec::new()));
/// assert_eq!(lines[2].0, 3);
/// ```
pub fn lines<R: BufRead>(input: R) -> impl Iterator<Item = io::Result<(u64, Vec<u8>)>> {
    input.split(b'\n').enumerate().map(|(n, line)| {
        let mut bytes = line?;
        if n == 0 && bytes.starts_with(BOM) {
            bytes.drain(..BOM.len());
        }
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        Ok((n as u64 + 1, bytes))
    })
}

/// The id of an input line, if it is a JSON object with a string `id`: for
/// the error line of a line that was JSON but not a valid input.
///
/// # Examples
///
/// ```
/// use hotline_router::jsonl;
///
/// assert_eq!(jsonl::id_of(br#"{"id":"T1","lon":"x"}"#).as_deref(), Some("T1"));
/// assert_eq!(jsonl::id_of(b"not json"), None);
/// ```
pub fn id_of(bytes: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    value.get("id")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(input: &[u8]) -> (Summary, Vec<serde_json::Value>) {
        let mut out = Vec::new();
        let summary = route_lines(&Router::beijing(), input, &mut out).unwrap();
        let lines = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (summary, lines)
    }

    #[test]
    fn a_byte_order_mark_at_the_start_is_ignored() {
        let input =
            "\u{FEFF}{\"id\":\"a\",\"text\":\"挪车\"}\r\n{\"id\":\"b\",\"text\":\"暖气不热\"}\n";
        let (summary, lines) = route(input.as_bytes());
        assert_eq!((summary.routed, summary.errors), (2, 0));
        assert_eq!(lines[0]["id"], "a");
        assert_eq!(lines[0]["category"], "transport.parking");
        assert_eq!(lines[0]["language"], "zh");
        assert_eq!(lines[1]["id"], "b");
    }

    #[test]
    fn a_byte_order_mark_after_the_start_is_not_skipped() {
        let input = "{\"id\":\"a\",\"text\":\"挪车\"}\n\u{FEFF}{\"id\":\"b\",\"text\":\"挪车\"}\n";
        let (summary, lines) = route(input.as_bytes());
        assert_eq!((summary.routed, summary.errors), (1, 1));
        assert_eq!(lines[1]["line"], 2);
        assert!(lines[1]["error"]
            .as_str()
            .unwrap()
            .contains("invalid ticket"));
    }

    #[test]
    fn a_byte_order_mark_alone_is_an_empty_line() {
        let (summary, lines) = route("\u{FEFF}".as_bytes());
        assert_eq!((summary.routed, summary.errors), (0, 1));
        assert!(lines[0]["error"].as_str().unwrap().contains("empty line"));
    }
}
