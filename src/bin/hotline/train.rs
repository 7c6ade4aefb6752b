//! `hotline train`: labelled JSON Lines in, a model file out.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use hotline_router::classify::model::{Model, Trainer};
use hotline_router::jsonl;
use serde::Deserialize;

use crate::Failure;

/// The options of `hotline train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Labelled JSON Lines, one {"text","label"} object a line; repeat to
    /// train on several files, read in the order given.
    #[arg(long, value_name = "LABELLED.jsonl", required = true)]
    pub input: Vec<PathBuf>,
    /// Where to write the model file.
    #[arg(long, value_name = "MODEL")]
    pub output: PathBuf,
    #[command(flatten)]
    pub options: TrainerOptions,
}

/// The trainer's options; each one not given keeps `Trainer::new()`'s value.
#[derive(Args, Debug, Default)]
pub struct TrainerOptions {
    /// The longest character n-gram, 1 to 3 [trainer default: 2].
    #[arg(long, value_name = "N")]
    pub ngrams: Option<u8>,
    /// Hash bits: features fall into 2^B buckets, 8 to 22 [trainer default: 18].
    #[arg(long, value_name = "B")]
    pub hash_bits: Option<u8>,
    /// The SVM's cost of a margin violation, > 0 [trainer default: 3].
    #[arg(long = "c", value_name = "C")]
    pub c: Option<f64>,
    /// The seed of the example order (and of the fold split of `evaluate
    /// --folds`) [trainer default: fixed].
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// The share of examples held out to fit the confidence, in [0, 0.9)
    /// [trainer default: 0.1].
    #[arg(long, value_name = "F")]
    pub holdout: Option<f64>,
    /// Drop weights below this fraction of their label's largest, in [0, 1)
    /// [trainer default: 0.01].
    #[arg(long, value_name = "F")]
    pub prune: Option<f32>,
    /// The most passes over the data per label [trainer default: 40].
    #[arg(long, value_name = "N")]
    pub max_passes: Option<u32>,
}

impl TrainerOptions {
    /// `Trainer::new()` with the options given.
    pub fn trainer(&self) -> Trainer {
        let mut t = Trainer::new();
        if let Some(v) = self.ngrams {
            t.ngrams(v);
        }
        if let Some(v) = self.hash_bits {
            t.hash_bits(v);
        }
        if let Some(v) = self.c {
            t.c(v);
        }
        if let Some(v) = self.seed {
            t.seed(v);
        }
        if let Some(v) = self.holdout {
            t.holdout(v);
        }
        if let Some(v) = self.prune {
            t.prune(v);
        }
        if let Some(v) = self.max_passes {
            t.max_passes(v);
        }
        t
    }

    /// The flags given, as they were spelled.
    pub fn given(&self) -> Vec<&'static str> {
        [
            (self.ngrams.is_some(), "--ngrams"),
            (self.hash_bits.is_some(), "--hash-bits"),
            (self.c.is_some(), "--c"),
            (self.seed.is_some(), "--seed"),
            (self.holdout.is_some(), "--holdout"),
            (self.prune.is_some(), "--prune"),
            (self.max_passes.is_some(), "--max-passes"),
        ]
        .into_iter()
        .filter_map(|(given, flag)| given.then_some(flag))
        .collect()
    }
}

/// One labelled line; other fields are ignored.
#[derive(Deserialize)]
struct Labelled {
    text: String,
    label: String,
}

/// Reads `(text, label)` examples from labelled JSON Lines files, in order.
///
/// A byte-order mark at the start of a file, CRLF line ends and blank lines
/// are accepted; any other line that is not an object with a string `text`
/// and a non-empty string `label` is an error naming the file and line.
pub fn read_labelled(paths: &[PathBuf]) -> Result<Vec<(String, String)>, Failure> {
    let mut examples = Vec::new();
    for path in paths {
        if path.is_dir() {
            return Err(Failure::Usage(format!("{} is a directory", path.display())));
        }
        let file = File::open(path)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
        read_file(path, BufReader::new(file), &mut examples)?;
    }
    Ok(examples)
}

fn read_file(
    path: &Path,
    reader: impl BufRead,
    examples: &mut Vec<(String, String)>,
) -> Result<(), Failure> {
    for line in jsonl::lines(reader) {
        let (n, bytes) = line.map_err(Failure::io(format!("reading {}", path.display())))?;
        let bytes = bytes.map_err(|e| Failure::Usage(format!("{}:{n}: {e}", path.display())))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let at = || format!("{}:{n}", path.display());
        let example: Labelled = serde_json::from_slice(&bytes).map_err(|e| {
            Failure::Usage(format!(
                "{}: invalid example (expected {{\"text\",\"label\"}}): {e}",
                at()
            ))
        })?;
        if example.label.trim().is_empty() {
            return Err(Failure::Usage(format!("{}: empty label", at())));
        }
        examples.push((example.text, example.label));
    }
    Ok(())
}

/// Runs `hotline train`.
pub fn run(args: &TrainArgs) -> Result<(), Failure> {
    let examples = read_labelled(&args.input)?;
    let trainer = args.options.trainer();
    let started = Instant::now();
    let model: Model = trainer
        .train(examples.iter().map(|(t, l)| (t.as_str(), l.as_str())))
        .map_err(|e| Failure::Usage(format!("cannot train: {e}")))?;
    let elapsed = started.elapsed();
    let bytes = model.to_bytes();
    std::fs::write(&args.output, &bytes)
        .map_err(Failure::io(format!("writing {}", args.output.display())))?;
    eprintln!(
        "hotline: {} examples, {} labels from {} file{}",
        examples.len(),
        model.labels().len(),
        args.input.len(),
        if args.input.len() == 1 { "" } else { "s" }
    );
    eprintln!(
        "hotline: trained in {:.2} s: {} features, {} weights; {} bytes written to {}",
        elapsed.as_secs_f64(),
        model.feature_count(),
        model.weight_count(),
        bytes.len(),
        args.output.display()
    );
    eprintln!("hotline: options {trainer:?}");
    Ok(())
}
