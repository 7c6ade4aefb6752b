//! `hotline evaluate`: how well a model, or the trainer by cross-validation,
//! labels labelled JSON Lines.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::{ArgGroup, Args};
use hotline_router::classify::model::{cross_validate, Evaluation, LabelScores};
use serde::Serialize;

use crate::route::load_model;
use crate::train::{read_labelled, TrainerOptions};
use crate::Failure;

/// The options of `hotline evaluate`.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("what").required(true).args(["model", "folds"])))]
pub struct EvaluateArgs {
    /// Labelled JSON Lines, one {"text","label"} object a line; repeat to
    /// read several files, in the order given.
    #[arg(long, value_name = "LABELLED.jsonl", required = true)]
    pub input: Vec<PathBuf>,
    /// The model file to score.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Instead of scoring a model, cross-validate the trainer on the input
    /// with K folds (at least 2), with the trainer options below.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(2..))]
    pub folds: Option<u32>,
    /// Print the numbers as one JSON object instead of the report.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub options: TrainerOptions,
}

/// The `--json` form of an [`Evaluation`].
#[derive(Serialize)]
struct Report<'a> {
    accuracy: f64,
    macro_f1: f64,
    total: usize,
    labels: BTreeMap<&'a str, &'a LabelScores>,
    /// `[gold, predicted, n]` for every pair that occurred.
    confusion: Vec<(&'a str, &'a str, usize)>,
}

impl<'a> Report<'a> {
    fn new(e: &'a Evaluation) -> Report<'a> {
        Report {
            accuracy: e.accuracy,
            macro_f1: e.macro_f1,
            total: e.total,
            labels: e.labels.iter().map(|(l, s)| (l.as_str(), s)).collect(),
            confusion: e
                .confusion
                .iter()
                .map(|((g, p), n)| (g.as_str(), p.as_str(), *n))
                .collect(),
        }
    }
}

/// Runs `hotline evaluate`.
pub fn run(args: &EvaluateArgs) -> Result<(), Failure> {
    let given = args.options.given();
    if args.folds.is_none() && !given.is_empty() {
        return Err(Failure::Usage(format!(
            "{} only apply to training: use them with --folds, not --model",
            given.join(", ")
        )));
    }
    // Load the model before reading the input: a bad model file fails fast.
    let model = args
        .model
        .as_deref()
        .map(load_model)
        .transpose()
        .map_err(Failure::Usage)?;
    let examples = read_labelled(&args.input)?;
    let started = Instant::now();
    let evaluation = match (model, args.folds) {
        (Some(model), _) => Evaluation::of_model(
            &model,
            examples.iter().map(|(t, l)| (t.as_str(), l.as_str())),
        ),
        (None, Some(folds)) => cross_validate(
            &args.options.trainer(),
            &examples,
            folds as usize,
            args.options.seed.unwrap_or(0),
        )
        .map_err(|e| Failure::Usage(format!("cannot cross-validate: {e}")))?,
        (None, None) => unreachable!("clap requires --model or --folds"),
    };
    let how = match args.folds {
        Some(k) => format!("{k}-fold cross-validation"),
        None => "the model".to_string(),
    };
    eprintln!(
        "hotline: {} examples scored by {how} in {:.2} s",
        evaluation.total,
        started.elapsed().as_secs_f64()
    );
    let mut out = io::stdout().lock();
    let written = if args.json {
        serde_json::to_writer(&mut out, &Report::new(&evaluation))
            .map_err(io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
    } else {
        write!(out, "{evaluation}")
    };
    written
        .and_then(|()| out.flush())
        .map_err(Failure::io("writing stdout"))
}
