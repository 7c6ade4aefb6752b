//! `hotline alerts`: routes JSON Lines tickets and writes one line per
//! spike the [`SpikeDetector`] raises.
//!
//! Output, one line per alert: `{"at","category","district","street",
//! "count","expected","p_value","district_name","street_name"}` — `at` in
//! RFC 3339 in the calendar's time zone, `street` null for a
//! district-wide alert. Time comes from each ticket's `received_at`; a
//! line that is not a ticket, has no `received_at` or cannot be routed is
//! reported on stderr with its line number (the first 100 of them) and
//! counted in the summary, and reading goes on. `--history FILE` learns
//! the expected rates from past tickets first.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use hotline_router::analytics::spikes::{Alert, SpikeDetector};
use hotline_router::{jsonl, Router, Ticket};
use jiff::Timestamp;
use rayon::prelude::*;
use serde::Serialize;

use crate::route::{self, InputArgs, RouteArgs};
use crate::Failure;

/// Lines routed in parallel at a time; the detector then reads them in
/// order.
const BATCH: usize = 8_192;
/// Bad lines listed on stderr; the rest are only counted.
const LISTED: u64 = 100;

/// The options of the alerts command.
#[derive(Args, Clone, Debug)]
pub struct AlertsArgs {
    /// Past tickets (JSON Lines with received_at, in time order) to learn
    /// the expected rates from before reading stdin.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// The fewest tickets in an hour that can alert.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub min_count: u32,
    /// Chance alerts an ordinary week may raise, city-wide.
    #[arg(long, value_name = "N", default_value_t = 1.0)]
    pub false_alarms_per_week: f64,
    /// Fix the over-dispersion φ (variance = mean + φ·mean²) instead of
    /// estimating it from the days learned.
    #[arg(long, value_name = "PHI")]
    pub dispersion: Option<f64>,
    /// Days to learn before any alert (history days count).
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    pub warmup_days: u32,
    /// How to build the router.
    #[command(flatten)]
    pub route: RouteArgs,
    /// How to read the history and stdin.
    #[command(flatten)]
    pub input: InputArgs,
}

/// One output line.
#[derive(Serialize)]
struct Line<'a> {
    at: String,
    category: &'a str,
    district: &'a str,
    street: Option<&'a str>,
    count: u32,
    expected: f64,
    p_value: f64,
    district_name: Option<&'a str>,
    street_name: Option<&'a str>,
}

/// A routed ticket, as the detector reads it.
struct Seen<'r> {
    at: Timestamp,
    category: &'r str,
    district: Option<&'r str>,
    street: Option<&'r str>,
}

/// Counts over one input.
#[derive(Default)]
struct Tally {
    tickets: u64,
    bad: u64,
    alerts: u64,
}

/// Learns the history, then reads stdin and writes the alerts.
///
/// # Errors
///
/// [`Failure::Usage`] for bad options or an unreadable history file,
/// [`Failure::Io`] when reading or writing fails.
pub fn run(args: &AlertsArgs) -> Result<(), Failure> {
    let router = route::router(&args.route, "hotline").map_err(Failure::Usage)?;
    let mut builder = SpikeDetector::builder()
        .min_count(args.min_count)
        .false_alarms_per_week(args.false_alarms_per_week)
        .warmup_days(args.warmup_days)
        .calendar(router.calendar().clone());
    if let Some(phi) = args.dispersion {
        builder = builder.dispersion(phi);
    }
    let mut detector = builder.build().map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(path) = &args.history {
        let name = path.display().to_string();
        let file =
            File::open(path).map_err(|e| Failure::Usage(format!("cannot read {name}: {e}")))?;
        let tally = feed(
            &router,
            &mut detector,
            BufReader::new(file),
            &name,
            &args.input,
            None,
        )
        .map_err(Failure::io(format!("reading {name}")))?;
        eprintln!(
            "hotline: learned {} tickets from {name} ({} bad lines)",
            tally.tickets, tally.bad
        );
    }
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let tally = feed(
        &router,
        &mut detector,
        io::stdin().lock(),
        "stdin",
        &args.input,
        Some(&mut out),
    )
    .map_err(Failure::io("reading stdin and writing alerts"))?;
    out.flush()
        .map_err(Failure::io("reading stdin and writing alerts"))?;
    let stats = detector.stats();
    eprintln!(
        "hotline: {} tickets, {} alerts, {} bad lines{}",
        tally.tickets,
        tally.alerts,
        tally.bad,
        if tally.bad > LISTED {
            " (the first 100 listed)"
        } else {
            ""
        }
    );
    if stats.ahead + stats.stale > 0 {
        eprintln!(
            "hotline: {} tickets far ahead of the stream's time and {} older than the day before were not counted",
            stats.ahead, stats.stale
        );
    }
    if !stats.warm {
        eprintln!(
            "hotline: only {} days were learned, {} are needed before an alert: give --history or a longer stream",
            stats.days_learned, args.warmup_days
        );
    }
    Ok(())
}

/// Reads `input`, routing in parallel batches and feeding the detector in
/// order: observing (alerts to `out`) or, without `out`, learning.
fn feed<R: BufRead>(
    router: &Router,
    detector: &mut SpikeDetector,
    input: R,
    source: &str,
    read: &InputArgs,
    mut out: Option<&mut dyn Write>,
) -> io::Result<Tally> {
    let mut tally = Tally::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut lines = jsonl::lines_capped(input, read.max_line_bytes);
    loop {
        batch.clear();
        for line in lines.by_ref().take(BATCH) {
            batch.push(line?);
        }
        if batch.is_empty() {
            return Ok(tally);
        }
        let seen: Vec<Result<Seen<'_>, String>> = batch
            .par_iter()
            .map(|(_, bytes)| match bytes {
                Ok(bytes) => seen(router, bytes),
                Err(too_long) => Err(too_long.to_string()),
            })
            .collect();
        for ((n, _), s) in batch.iter().zip(seen) {
            let s = match s {
                Ok(s) => s,
                Err(message) => {
                    tally.bad += 1;
                    if tally.bad <= LISTED {
                        eprintln!("hotline: {source} line {n}: {message}");
                    }
                    continue;
                }
            };
            tally.tickets += 1;
            let Some(out) = out.as_deref_mut() else {
                detector.learn_codes(s.at, s.category, s.district, s.street);
                continue;
            };
            for alert in detector.observe_codes(s.at, s.category, s.district, s.street) {
                tally.alerts += 1;
                serde_json::to_writer(&mut *out, &line(router, &alert))?;
                out.write_all(b"\n")?;
            }
        }
    }
}

/// Parses and routes one line.
fn seen<'r>(router: &'r Router, bytes: &[u8]) -> Result<Seen<'r>, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("empty line: expected a JSON ticket".into());
    }
    let ticket: Ticket =
        serde_json::from_slice(bytes).map_err(|e| format!("invalid ticket: {e}"))?;
    let at = ticket.received_at.ok_or_else(|| {
        format!(
            "ticket {} has no received_at: alerts need the time each ticket was received",
            ticket.id
        )
    })?;
    let d = router
        .route(&ticket)
        .map_err(|e| format!("ticket {}: {e}", ticket.id))?;
    // Codes borrowed from the router, which outlives the decision.
    let j = router.jurisdictions();
    Ok(Seen {
        at,
        category: router.category(d.classification().primary()).code(),
        district: d.location().district().map(|i| j.district(i).code()),
        street: d.location().street().map(|i| j.street(i).code()),
    })
}

/// The output line of an alert, with names and local time.
fn line<'a>(router: &'a Router, a: &'a Alert) -> Line<'a> {
    let j = router.jurisdictions();
    let at = a.at.to_zoned(router.time_zone().clone());
    Line {
        at: at.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        category: &a.category,
        district: &a.district,
        street: a.street.as_deref(),
        count: a.count,
        expected: a.expected,
        p_value: a.p_value,
        district_name: j.district_id(&a.district).map(|d| j.district(d).name()),
        street_name: a
            .street
            .as_deref()
            .and_then(|s| j.street_id(s))
            .map(|s| j.street(s).name()),
    }
}
