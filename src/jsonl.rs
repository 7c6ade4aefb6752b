//! The JSON Lines contract of `examples/route`, as a library function.
//!
//! One ticket per input line in, exactly one line per input line out, in
//! order: the decision, or an error line `{"id", "line", "error"}` for a line
//! that cannot be parsed or routed. Nothing is skipped, and memory stays
//! constant: lines stream through, and a line is read only up to a cap
//! ([`DEFAULT_MAX_LINE_BYTES`], 1 MiB, unless set with [`lines_capped`] or
//! [`route_lines_capped`]): the rest of a longer line is skipped without
//! being held, and the line is answered with the error line
//! `{"id":null,"line":N,"error":"line longer than 1048576 bytes"}`. A UTF-8
//! byte-order mark at the start of the input, as some Windows tools write,
//! is ignored.

use std::io::{self, BufRead, Read, Write};

use serde::Serialize;

use crate::router::{DecisionRecord, RecordScratch, Router};
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
    let ticket = parse_ticket(line, line_no)?;
    match router.route(&ticket) {
        Ok(decision) => Ok(decision.to_record(&ticket.id)),
        Err(e) => Err(ErrorRecord {
            id: Some(ticket.id),
            line: line_no,
            error: e.to_string(),
        }),
    }
}

/// The ticket of an input line, or the error line answering it.
fn parse_ticket(line: &[u8], line_no: u64) -> Result<Ticket, ErrorRecord> {
    serde_json::from_slice(line).map_err(|e| {
        let (id, error) = if line.iter().all(u8::is_ascii_whitespace) {
            (None, "empty line: expected a JSON ticket".to_string())
        } else {
            (id_of(line), format!("invalid ticket: {e}"))
        };
        ErrorRecord {
            id,
            line: line_no,
            error,
        }
    })
}

/// Routes one line and writes its output line, without its newline:
/// what [`route_line`] returns, serialized, but written straight from the
/// decision through buffers reused from line to line. Returns whether the
/// line was routed (`false`: an error line was written).
fn write_line<W: Write>(
    router: &Router,
    line: Result<&[u8], LineTooLong>,
    line_no: u64,
    scratch: &mut RecordScratch,
    output: &mut W,
) -> io::Result<bool> {
    let routed = line.map_err(ErrorRecord::from).and_then(|bytes| {
        let ticket = parse_ticket(bytes, line_no)?;
        match router.route(&ticket) {
            Ok(decision) => Ok((ticket, decision)),
            Err(e) => Err(ErrorRecord {
                id: Some(ticket.id),
                line: line_no,
                error: e.to_string(),
            }),
        }
    });
    match routed {
        Ok((ticket, decision)) => {
            decision.write_record(&ticket.id, scratch, &mut *output)?;
            Ok(true)
        }
        Err(record) => {
            serde_json::to_writer(&mut *output, &record)?;
            Ok(false)
        }
    }
}

/// Routes every line of `input` to `output`, one output line per input line.
///
/// A UTF-8 byte-order mark (EF BB BF) at the very start of `input` is
/// skipped; anywhere else it is part of the line, and a line that starts
/// with one is not JSON. A line longer than [`DEFAULT_MAX_LINE_BYTES`] is
/// skipped and answered with an error line ([`route_lines_capped`] sets
/// another cap).
///
/// # Errors
///
/// Only I/O errors; bad lines become error lines.
pub fn route_lines<R: BufRead, W: Write>(
    router: &Router,
    input: R,
    output: W,
) -> io::Result<Summary> {
    route_lines_capped(router, input, output, DEFAULT_MAX_LINE_BYTES)
}

/// [`route_lines`] with a line longer than `max_line_bytes` (its newline,
/// a CR before it and a byte-order mark at the start of the input not
/// counted) skipped and answered with the error line
/// `{"id":null,"line":N,"error":"line longer than <max_line_bytes> bytes"}`.
/// At most about `max_line_bytes` of a line are held in memory.
///
/// # Errors
///
/// Only I/O errors; bad lines become error lines.
///
/// # Examples
///
/// ```
/// use hotline_router::{jsonl, Router};
///
/// let input = format!("{}\n{{\"id\":\"b\",\"text\":\"挪车\"}}\n", "x".repeat(100));
/// let mut out = Vec::new();
/// let summary = jsonl::route_lines_capped(&Router::beijing(), input.as_bytes(), &mut out, 64).unwrap();
/// assert_eq!((summary.routed, summary.errors), (1, 1));
/// let out = String::from_utf8(out).unwrap();
/// let first = out.lines().next().unwrap();
/// assert_eq!(first, r#"{"id":null,"line":1,"error":"line longer than 64 bytes"}"#);
/// ```
pub fn route_lines_capped<R: BufRead, W: Write>(
    router: &Router,
    input: R,
    mut output: W,
    max_line_bytes: usize,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut scratch = RecordScratch::default();
    let mut lines = lines_capped(input, max_line_bytes);
    while let Some(line) = lines.advance() {
        let (n, read) = line?;
        let bytes = read.map(|()| lines.buf.as_slice());
        if write_line(router, bytes, n, &mut scratch, &mut output)? {
            summary.routed += 1;
        } else {
            summary.errors += 1;
        }
        output.write_all(b"\n")?;
    }
    output.flush()?;
    Ok(summary)
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = "\u{FEFF}".as_bytes();

/// The longest line, in bytes, that [`lines`] and [`route_lines`] read: 1 MiB,
/// some thousand times a real ticket. A longer line is skipped, not held.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

/// A line longer than the cap of [`lines_capped`]: it was skipped, and only
/// the cap's worth of it was ever held in memory.
///
/// # Examples
///
/// ```
/// use hotline_router::jsonl::{self, ErrorRecord};
///
/// let mut lines = jsonl::lines_capped("0123456789\nok\n".as_bytes(), 4);
/// let (n, first) = lines.next().unwrap().unwrap();
/// let too_long = first.unwrap_err();
/// assert_eq!((n, too_long.line, too_long.max), (1, 1, 4));
/// let record = ErrorRecord::from(too_long);
/// assert_eq!((record.id, record.error.as_str()), (None, "line longer than 4 bytes"));
/// assert_eq!(lines.next().unwrap().unwrap(), (2, Ok(b"ok".to_vec())));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line longer than {max} bytes")]
pub struct LineTooLong {
    /// The 1-based input line number.
    pub line: u64,
    /// The cap it exceeded, in bytes.
    pub max: usize,
}

impl From<LineTooLong> for ErrorRecord {
    fn from(e: LineTooLong) -> ErrorRecord {
        ErrorRecord {
            id: None,
            line: e.line,
            error: e.to_string(),
        }
    }
}

/// One item of [`Lines`]: the 1-based line number and the line's bytes, or
/// [`LineTooLong`] for a line over the cap.
pub type Line = (u64, Result<Vec<u8>, LineTooLong>);

/// The lines of JSON Lines input as the crate reads them everywhere: split
/// on `\n`, a trailing `\r` removed (CRLF files), a UTF-8 byte-order mark
/// skipped at the very start of the input (anywhere else it stays, and that
/// line is not JSON). Each item is the 1-based line number and the bytes
/// (they need not be UTF-8), or [`LineTooLong`] for a line longer than
/// [`DEFAULT_MAX_LINE_BYTES`] (see [`lines_capped`]).
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
/// let lines: Vec<jsonl::Line> = jsonl::lines(input.as_bytes()).map(Result::unwrap).collect();
/// assert_eq!(lines[0], (1, Ok(br#"{"id":"a"}"#.to_vec())));
/// assert_eq!(lines[1], (2, Ok(Vec::new())));
/// assert_eq!(lines[2].0, 3);
/// ```
pub fn lines<R: BufRead>(input: R) -> Lines<R> {
    lines_capped(input, DEFAULT_MAX_LINE_BYTES)
}

/// [`lines`] with a cap of `max_line_bytes` (the newline, a CR before it
/// and a byte-order mark at the start of the input not counted): a longer
/// line is read only up to the cap, the rest is skipped in the reader's
/// own buffer without being held, and the item is [`LineTooLong`]; the
/// lines after it follow with their right numbers.
///
/// # Examples
///
/// ```
/// use std::io::{BufReader, Read};
/// use hotline_router::jsonl;
///
/// // 5 MB of 'x' without a newline, never held in memory, then a line.
/// let huge = std::io::repeat(b'x').take(5_000_000).chain(&b"\n{}\n"[..]);
/// let lines: Vec<jsonl::Line> = jsonl::lines_capped(BufReader::new(huge), 1024)
///     .map(Result::unwrap)
///     .collect();
/// assert_eq!(lines.len(), 2);
/// assert_eq!(lines[0].1.as_ref().unwrap_err().max, 1024);
/// assert_eq!(lines[1], (2, Ok(b"{}".to_vec())));
/// ```
pub fn lines_capped<R: BufRead>(input: R, max_line_bytes: usize) -> Lines<R> {
    Lines {
        input,
        max: max_line_bytes,
        number: 0,
        buf: Vec::new(),
    }
}

/// The iterator of [`lines`] and [`lines_capped`].
///
/// # Examples
///
/// ```
/// use hotline_router::jsonl;
///
/// let lines: jsonl::Lines<&[u8]> = jsonl::lines_capped(&b"a\nbb\n"[..], 1);
/// let numbers: Vec<(u64, bool)> = lines.map(|l| l.unwrap()).map(|(n, b)| (n, b.is_ok())).collect();
/// assert_eq!(numbers, [(1, true), (2, false)]);
/// ```
#[derive(Debug)]
pub struct Lines<R> {
    input: R,
    max: usize,
    /// Lines read so far.
    number: u64,
    /// The line being read; never more than the cap and a few bytes.
    buf: Vec<u8>,
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = io::Result<Line>;

    fn next(&mut self) -> Option<io::Result<Line>> {
        Some(
            self.advance()?
                .map(|(n, line)| (n, line.map(|()| std::mem::take(&mut self.buf)))),
        )
    }
}

impl<R: BufRead> Lines<R> {
    /// Reads the next line into `self.buf` (cleared first, and kept: a
    /// caller that only borrows the line reuses its memory), or `None` at
    /// the end of the input.
    fn advance(&mut self) -> Option<io::Result<(u64, Result<(), LineTooLong>)>> {
        let first = self.number == 0;
        // Room for a CR, and for a BOM on the first line: both are removed.
        let slack = 1 + if first { BOM.len() } else { 0 };
        let limit = u64::try_from(self.max.saturating_add(slack)).unwrap_or(u64::MAX);
        self.buf.clear();
        // std's read_until (memchr), bounded: the content up to the limit
        // and the newline, or one byte more than the limit.
        let mut bounded = (&mut self.input).take(limit.saturating_add(1));
        match bounded.read_until(b'\n', &mut self.buf) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => return Some(Err(e)),
        }
        let mut too_long = false;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        } else if self.buf.len() as u64 > limit {
            too_long = true;
            self.buf.clear();
            if let Err(e) = self.skip_rest() {
                return Some(Err(e));
            }
        }
        self.number += 1;
        let line = self.number;
        if !too_long {
            if first && self.buf.starts_with(BOM) {
                self.buf.drain(..BOM.len());
            }
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            too_long = self.buf.len() > self.max;
        }
        if too_long {
            self.buf.clear();
            return Some(Ok((
                line,
                Err(LineTooLong {
                    line,
                    max: self.max,
                }),
            )));
        }
        Some(Ok((line, Ok(()))))
    }

    /// Skips the input up to and with the next newline, in the reader's own
    /// buffer: nothing of it is held.
    fn skip_rest(&mut self) -> io::Result<()> {
        loop {
            let available = match self.input.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok(());
            }
            if let Some(i) = available.iter().position(|&b| b == b'\n') {
                self.input.consume(i + 1);
                return Ok(());
            }
            let n = available.len();
            self.input.consume(n);
        }
    }
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

    /// A reader of `n` bytes of 'x' without a newline, then `rest`: the
    /// bytes are made as they are read, never held.
    fn huge_then(n: u64, rest: &'static [u8]) -> impl BufRead {
        io::BufReader::new(io::Read::chain(io::Read::take(io::repeat(b'x'), n), rest))
    }

    #[test]
    fn a_huge_line_is_skipped_without_being_held_and_later_lines_keep_their_numbers() {
        const MAX: usize = 1024;
        let input = huge_then(50_000_000, b"\n{\"id\":\"b\"}\r\nlast");
        let mut lines = lines_capped(input, MAX);
        let (n, first) = lines.next().unwrap().unwrap();
        assert_eq!((n, first), (1, Err(LineTooLong { line: 1, max: MAX })));
        // The cap and a few bytes at most, with the Vec's growth slack.
        assert!(
            lines.buf.capacity() <= 2 * (MAX + 4),
            "{}",
            lines.buf.capacity()
        );
        assert_eq!(
            lines.next().unwrap().unwrap(),
            (2, Ok(br#"{"id":"b"}"#.to_vec()))
        );
        assert_eq!(lines.next().unwrap().unwrap(), (3, Ok(b"last".to_vec())));
        assert!(lines.next().is_none());
    }

    #[test]
    fn a_huge_last_line_without_a_newline_is_one_error() {
        let items: Vec<Line> = lines_capped(huge_then(3_000_000, b""), 100)
            .map(Result::unwrap)
            .collect();
        assert_eq!(items, [(1, Err(LineTooLong { line: 1, max: 100 }))]);
    }

    #[test]
    fn the_cap_counts_neither_the_newline_nor_a_cr_nor_the_byte_order_mark() {
        let input = "\u{FEFF}abcd\r\nabcd\nabcd\r\nabcde\nabcd\r\r\n\n";
        let items: Vec<Line> = lines_capped(input.as_bytes(), 4)
            .map(Result::unwrap)
            .collect();
        let too_long = |line| Err(LineTooLong { line, max: 4 });
        assert_eq!(
            items,
            [
                (1, Ok(b"abcd".to_vec())),
                (2, Ok(b"abcd".to_vec())),
                (3, Ok(b"abcd".to_vec())),
                (4, too_long(4)),
                (5, too_long(5)),
                (6, Ok(Vec::new())),
            ]
        );
    }

    #[test]
    fn a_line_split_across_reads_is_capped_on_its_whole_length() {
        // A one-byte buffer: every byte is its own read.
        let input = io::BufReader::with_capacity(1, &b"abc\nabcdef\nab"[..]);
        let items: Vec<Line> = lines_capped(input, 3).map(Result::unwrap).collect();
        assert_eq!(
            items,
            [
                (1, Ok(b"abc".to_vec())),
                (2, Err(LineTooLong { line: 2, max: 3 })),
                (3, Ok(b"ab".to_vec())),
            ]
        );
    }

    #[test]
    fn route_lines_answers_a_huge_line_with_an_error_line_and_routes_the_next() {
        let input = huge_then(
            50_000_000,
            "\n{\"id\":\"b\",\"text\":\"挪车\"}\n".as_bytes(),
        );
        let mut out = Vec::new();
        let summary = route_lines(&Router::beijing(), input, &mut out).unwrap();
        assert_eq!((summary.routed, summary.errors), (1, 1));
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"id":null,"line":1,"error":"line longer than 1048576 bytes"}"#
        );
        let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(second["id"], "b");
        assert_eq!(second["category"], "transport.parking");
        assert_eq!(lines.len(), 2);
    }
}
