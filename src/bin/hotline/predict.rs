//! `hotline predict`: `{"id","text"}` lines in, `{"id","label","confidence"}`
//! lines out, exactly one output line per input line, in order.
//!
//! The conventions are those of [`hotline_router::jsonl`]: a byte-order
//! mark at the very start is skipped, CRLF line ends are accepted, and a
//! line that cannot be used (empty, not JSON, invalid UTF-8, no id, no
//! text) is answered with `{"id": <id or null>, "line": <n>, "error": "…"}`.
//! Lines stream through: memory does not grow with the input.

use std::io::{self, BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use hotline_router::classify::model::Model;
use hotline_router::jsonl::{self, ErrorRecord};
use serde::{Deserialize, Serialize};

use crate::route::{load_model, InputArgs};
use crate::Failure;

/// The options of `hotline predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    /// The model file (from `hotline train`).
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Also list the K most probable labels, best first, as
    /// "top": [{"label","confidence"}…].
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
    pub top: Option<u32>,
    #[command(flatten)]
    pub input: InputArgs,
}

/// One input line; other fields (a ticket's address, coordinates …) are
/// ignored.
#[derive(Deserialize)]
struct Input {
    id: String,
    #[serde(default)]
    text: String,
}

#[derive(Serialize)]
struct Output<'a> {
    id: &'a str,
    label: &'a str,
    confidence: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    top: Option<Vec<Ranked<'a>>>,
}

#[derive(Serialize)]
struct Ranked<'a> {
    label: &'a str,
    confidence: f32,
}

/// Runs `hotline predict` on stdin and stdout.
pub fn run(args: &PredictArgs) -> Result<(), Failure> {
    let model = load_model(&args.model).map_err(Failure::Usage)?;
    let started = Instant::now();
    let out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let (predicted, errors) = predict_lines(
        &model,
        args.top,
        io::stdin().lock(),
        args.input.max_line_bytes,
        out,
    )?;
    eprintln!(
        "hotline: {predicted} predicted, {errors} error lines in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Predicts every line of `input` to `output`; returns the numbers of
/// predictions and error lines.
fn predict_lines(
    model: &Model,
    top: Option<u32>,
    input: impl BufRead,
    max_line_bytes: usize,
    mut output: impl Write,
) -> Result<(u64, u64), Failure> {
    let mut counts = (0, 0);
    for line in jsonl::lines_capped(input, max_line_bytes) {
        let (n, bytes) = line.map_err(Failure::io("reading stdin"))?;
        let parsed = bytes
            .map_err(ErrorRecord::from)
            .and_then(|bytes| parse(&bytes, n));
        let written = match parsed {
            Ok(input) => {
                counts.0 += 1;
                write_prediction(model, top, &input, &mut output)
            }
            Err(record) => {
                counts.1 += 1;
                serde_json::to_writer(&mut output, &record).map_err(io::Error::from)
            }
        };
        written
            .and_then(|()| output.write_all(b"\n"))
            .map_err(Failure::io("writing stdout"))?;
    }
    output.flush().map_err(Failure::io("writing stdout"))?;
    Ok(counts)
}

/// Parses one line (without its line end).
fn parse(bytes: &[u8], line: u64) -> Result<Input, ErrorRecord> {
    let error = |id: Option<String>, error: String| ErrorRecord { id, line, error };
    let input: Input = serde_json::from_slice(bytes).map_err(|e| {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            error(
                None,
                "empty line: expected a JSON object {\"id\",\"text\"}".into(),
            )
        } else {
            error(jsonl::id_of(bytes), format!("invalid line: {e}"))
        }
    })?;
    if input.id.trim().is_empty() {
        return Err(error(Some(input.id), "id is empty".into()));
    }
    if input.text.trim().is_empty() {
        return Err(error(
            Some(input.id),
            "text is empty: nothing to classify".into(),
        ));
    }
    Ok(input)
}

/// Writes the prediction line for `input` (without its line end).
fn write_prediction(
    model: &Model,
    top: Option<u32>,
    input: &Input,
    output: impl Write,
) -> io::Result<()> {
    let p = model.predict(&input.text);
    let top = top.map(|k| {
        p.top(k as usize)
            .into_iter()
            .map(|(l, confidence)| Ranked {
                label: model.label(l),
                confidence,
            })
            .collect()
    });
    let line = Output {
        id: &input.id,
        label: model.label(p.label()),
        confidence: p.confidence(),
        top,
    };
    serde_json::to_writer(output, &line).map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_router::classify::model::Trainer;

    fn model() -> Model {
        Trainer::new()
            .hash_bits(12)
            .train([
                ("暖气不热", "heating"),
                ("暖气片冰凉", "heating"),
                ("楼上噪音太大", "noise"),
                ("半夜施工噪音", "noise"),
            ])
            .unwrap()
    }

    fn predict(input: &[u8], top: Option<u32>) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        predict_lines(
            &model(),
            top,
            input,
            jsonl::DEFAULT_MAX_LINE_BYTES,
            &mut out,
        )
        .unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn a_line_over_the_cap_is_an_error_line_and_the_next_is_predicted() {
        let input = "{\"id\":\"long\",\"text\":\"暖气不热暖气不热\"}\n{\"id\":\"a\",\"text\":\"暖气不热\"}\n";
        let mut out = Vec::new();
        let counts = predict_lines(&model(), None, input.as_bytes(), 40, &mut out).unwrap();
        assert_eq!(counts, (1, 1));
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"id":null,"line":1,"error":"line longer than 40 bytes"}"#
        );
        assert!(
            lines[1].starts_with(r#"{"id":"a","label":"heating""#),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn one_line_out_per_line_in() {
        let input = "\u{FEFF}{\"id\":\"a\",\"text\":\"暖气不热\"}\r\n\n{\"id\":\"b\"}\nnot json\n{\"id\":\"c\",\"text\":\"噪音\",\"address\":\"x\"}";
        let lines = predict(input.as_bytes(), Some(5));
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0]["id"], "a");
        assert_eq!(lines[0]["label"], "heating");
        assert_eq!(lines[0]["top"].as_array().unwrap().len(), 2);
        assert_eq!(lines[1]["line"], 2);
        assert!(lines[1]["error"].as_str().unwrap().contains("empty line"));
        assert_eq!(lines[2]["id"], "b");
        assert!(lines[2]["error"]
            .as_str()
            .unwrap()
            .contains("text is empty"));
        assert_eq!(lines[3]["id"], serde_json::Value::Null);
        assert_eq!(lines[4]["label"], "noise");
    }

    #[test]
    fn invalid_utf8_is_an_error_line() {
        let lines = predict(b"{\"id\":\"a\",\"text\":\"\xff\"}\n", None);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["line"], 1);
        assert!(lines[0].get("top").is_none());
    }
}
