//! `hotline`: the command line of hotline-router.
//!
//! ```text
//! hotline train    --input LABELLED.jsonl [--input …] --output MODEL [trainer options]
//! hotline predict  --model MODEL [--top K] < IN.jsonl > OUT.jsonl
//! hotline evaluate --input LABELLED.jsonl [--input …] (--model MODEL | --folds K) [--json]
//! hotline route    [--model MODEL | --no-model] [--districts FILE …] [--max-line-bytes N] < tickets.jsonl > decisions.jsonl
//! hotline report   --input tickets.jsonl --out report.html [--month YYYY-MM] [--records FILE] [--population FILE]
//! hotline qr       CODE [--buildings FILE] [--url TEMPLATE] > building.svg
//! hotline generate --days N --seed S [--start DATE] [--cold-snap DATE] [--per-day N] [--clean]
//! hotline alerts   [--history PAST.jsonl] [route options] < tickets.jsonl > alerts.jsonl
//! hotline incidents [route options] < tickets.jsonl > linked.jsonl
//! hotline serve    [--addr HOST:PORT] [--journal DIR] [--api-key KEY …] [--agency-token AGENCY=TOKEN …] [route options]
//! ```
//!
//! * `train` fits a [`Trainer`](hotline_router::classify::model::Trainer)
//!   to labelled JSON Lines (`{"text","label"}` per line) and writes the
//!   model file.
//! * `predict` labels `{"id","text"}` lines with a model: exactly one output
//!   line per input line, `{"id","label","confidence"}` or an error line.
//! * `evaluate` scores a model on labelled lines, or cross-validates the
//!   trainer on them (`--folds`).
//! * `route` is the JSON Lines router of `examples/route`, with the model
//!   to classify by.
//! * `report` writes a month's tickets as one self-contained HTML report
//!   (see `report.rs`).
//! * `qr` prints a building's QR code (一楼一码) as SVG: it opens the URL
//!   template with the building's code in it.
//! * `generate` writes the workload generator's tickets; `alerts` routes
//!   tickets and writes the spikes found in them.
//! * `incidents` is `route` plus the incident each ticket belongs to
//!   (`"incident"`, `"incident_size"`), in the tickets' own time.
//!
//! Every command that reads JSON Lines but `train` and `evaluate` takes
//! `--max-line-bytes N` (default 1 MiB): a longer line is skipped without
//! being held and reported like any bad line; `train` and `evaluate` refuse
//! a training file with a line over 1 MiB.
//!
//! Exit codes: 0 success; 2 a usage, configuration or input error (the
//! message on stderr starts with `hotline: `); 1 an I/O failure.

mod alerts;
mod evaluate;
mod generate;
mod incidents;
mod predict;
mod qr;
mod report;
mod route;
mod serve;
mod train;

use std::io;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};

/// Trains, applies and evaluates hotline-router's text classifier, and
/// routes JSON Lines tickets.
#[derive(Parser, Debug)]
#[command(name = "hotline", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a text classifier on labelled JSON Lines ({"text","label"}).
    Train(train::TrainArgs),
    /// Label JSON Lines ({"id","text"}) from stdin with a model, to stdout.
    Predict(predict::PredictArgs),
    /// Score a model on labelled JSON Lines, or cross-validate the trainer.
    Evaluate(evaluate::EvaluateArgs),
    /// Route JSON Lines tickets from stdin to decisions on stdout.
    Route {
        /// How to build the router.
        #[command(flatten)]
        route: route::RouteArgs,
        /// How to read the input.
        #[command(flatten)]
        input: route::InputArgs,
    },
    /// Write a month's tickets as one self-contained HTML report.
    Report(report::ReportArgs),
    /// Print a building's QR code (一楼一码) as SVG on stdout.
    Qr(qr::QrArgs),
    /// Write generated Beijing tickets (with received_at) as JSON Lines.
    Generate(generate::GenerateArgs),
    /// Route JSON Lines tickets from stdin; write one line per spike alert.
    Alerts(alerts::AlertsArgs),
    /// Route JSON Lines tickets and link each to its incident (same problem,
    /// same place, within a window); tickets need received_at.
    Incidents(incidents::IncidentsArgs),
    /// Serve Open311 intake, the worker API and a live dashboard over a
    /// journaled dispatcher (needs the `server` feature).
    Serve(serve::ServeArgs),
}

/// Why a subcommand failed, and so the exit code.
#[derive(Debug)]
pub enum Failure {
    /// A usage, configuration or input error: exit code 2.
    Usage(String),
    /// An I/O failure while reading or writing: exit code 1.
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: io::Error,
    },
}

impl Failure {
    /// An I/O failure while doing `context`.
    pub fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> Failure {
        let context = context.into();
        move |source| Failure::Io { context, source }
    }
}

impl From<route::RouteError> for Failure {
    fn from(e: route::RouteError) -> Failure {
        match e {
            route::RouteError::Config(message) => Failure::Usage(message),
            route::RouteError::Io(source) => Failure::Io {
                context: "routing stdin to stdout".into(),
                source,
            },
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help or --version: print it and succeed.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // `hotline` alone: the help, on stderr, as a usage error.
            let _ = e.print();
            return ExitCode::from(2);
        }
        Err(e) => {
            let text = e.render().to_string();
            eprint!("hotline: {}", text.strip_prefix("error: ").unwrap_or(&text));
            return ExitCode::from(2);
        }
    };
    let result = match &cli.command {
        Command::Train(args) => train::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Route { route, input } => route::run(route, input, "hotline")
            .map(drop)
            .map_err(Failure::from),
        Command::Report(args) => report::run(args),
        Command::Qr(args) => qr::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Alerts(args) => alerts::run(args),
        Command::Incidents(args) => incidents::run(args),
        Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("hotline: {message}");
            ExitCode::from(2)
        }
        // A closed pipe (`hotline predict … | head`) is the reader's choice,
        // not an error worth a message.
        Err(Failure::Io { source, .. }) if source.kind() == io::ErrorKind::BrokenPipe => {
            ExitCode::from(1)
        }
        Err(Failure::Io { context, source }) => {
            eprintln!("hotline: {context}: {source}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
