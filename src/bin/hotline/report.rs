//! `hotline report`: a month's tickets as one self-contained HTML report,
//! through [`hotline_router::report`].
//!
//! ```text
//! hotline report --input tickets.jsonl --out report.html [--month YYYY-MM]
//!                [--records events.jsonl] [--population streets.csv] [--alerts alerts.jsonl]
//!                [router options of `hotline route`]
//! ```
//!
//! * `--input`: tickets as JSON Lines, each with `received_at` (the month
//!   comes from the tickets, not the clock). A line that is not a ticket,
//!   cannot be routed or has no `received_at` is counted, listed in the
//!   report's input section and on stderr, and never stops the report.
//! * `--month`: the month reported (default: the latest month in the input).
//! * `--records`: the dispatcher's events as JSON Lines, one
//!   `dispatch::Event` per line (what a `Sink` sees): they give the 三率
//!   and the 每月一题 difficulty. Events are folded into one record per
//!   ticket, which is handed to the report and dropped once evaluated, so
//!   memory holds the tickets still open.
//! * `--population`: CSV `street_code,population`, to rank 治理类街乡镇 per
//!   10,000 residents.
//! * `--alerts`: alert lines as `hotline alerts` writes them. Without it
//!   the spike detector runs over the input (it learns as it reads: the
//!   first week is its warm-up, so give a month or more before the one
//!   reported).
//!
//! Incidents (reports of one problem merged) always come from the input,
//! through the incident index, in the tickets' own time.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use hotline_router::analytics::governance::Population;
use hotline_router::analytics::spikes::SpikeDetector;
use hotline_router::analytics::Month;
use hotline_router::dispatch::{Event, EventKind, State, TicketRecord};
use hotline_router::incident::{IncidentIndex, Sighting};
use hotline_router::report::{AlertRow, IncidentRow, Report, ReportBuilder};
use hotline_router::{jsonl, Region, Ticket};

use crate::route::{self, InputArgs, RouteArgs};
use crate::Failure;

/// The options of the report command.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Tickets as JSON Lines, each with `received_at`.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Where to write the HTML report.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The month to report on, YYYY-MM (default: the latest in the input).
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<Month>,
    /// The dispatcher's events as JSON Lines (one dispatch::Event a line),
    /// for the 三率 and the difficulty of 每月一题 candidates.
    #[arg(long, value_name = "FILE")]
    pub records: Option<PathBuf>,
    /// Residents per street, CSV `street_code,population` with a header,
    /// to rank 治理类街乡镇 per 10,000 residents.
    #[arg(long, value_name = "FILE")]
    pub population: Option<PathBuf>,
    /// Alerts as JSON Lines, as `hotline alerts` writes them.
    #[arg(long, value_name = "FILE")]
    pub alerts: Option<PathBuf>,
    /// The report's title.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    #[command(flatten)]
    pub route: RouteArgs,
    #[command(flatten)]
    pub lines: InputArgs,
}

fn open(path: &Path) -> Result<BufReader<File>, Failure> {
    File::open(path)
        .map(|f| BufReader::with_capacity(1 << 16, f))
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))
}

/// Builds the report and writes it.
///
/// # Errors
///
/// [`Failure::Usage`] for bad options or configuration, [`Failure::Io`]
/// when a file cannot be read or written. Bad lines are not errors.
pub fn run(args: &ReportArgs) -> Result<(), Failure> {
    let (router_builder, config) =
        route::configure(&args.route, "hotline").map_err(Failure::Usage)?;
    let regions: Vec<(String, Region)> = config
        .jurisdictions
        .districts
        .iter()
        .filter_map(|d| Some((d.code.clone(), d.region.clone()?)))
        .collect();
    let router = router_builder
        .build(config)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let mut builder = Report::builder(&router).regions(regions);
    if let Some(m) = args.month {
        builder = builder.month(m);
    }
    if let Some(t) = &args.title {
        builder = builder.title(t.clone());
    }
    if let Some(path) = &args.population {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
        let p = Population::from_csv(&text, &router)
            .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
        builder = builder.population(p);
    }
    if let Some(path) = &args.alerts {
        builder = read_alerts(builder, path, &args.lines)?;
    }

    let input = open(&args.input)?;
    let context = format!("reading {}", args.input.display());
    let mut routed = 0u64;
    // Incidents and spikes come from the input itself (alerts from a file
    // instead, when one is given).
    let mut index = IncidentIndex::new(&router);
    let mut incidents: HashMap<String, IncidentRow> = HashMap::new();
    let mut spikes = (args.alerts.is_none()).then(SpikeDetector::new);
    let mut alerts: Vec<AlertRow> = Vec::new();
    for line in jsonl::lines_capped(input, args.lines.max_line_bytes) {
        let (n, bytes) = line.map_err(Failure::io(context.clone()))?;
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(too_long) => {
                bad(&mut builder, "input", n, too_long.to_string());
                continue;
            }
        };
        let ticket: Ticket = match serde_json::from_slice(&bytes) {
            Ok(t) => t,
            Err(e) => {
                let why = if bytes.iter().all(u8::is_ascii_whitespace) {
                    "empty line: expected a JSON ticket".to_string()
                } else {
                    format!("invalid ticket: {e}")
                };
                bad(&mut builder, "input", n, why);
                continue;
            }
        };
        if ticket.received_at.is_none() {
            bad(
                &mut builder,
                "input",
                n,
                format!("ticket {} has no received_at", ticket.id),
            );
            continue;
        }
        match router.route(&ticket) {
            Ok(d) => {
                routed += 1;
                builder.add(&ticket, &d);
                let at = ticket.received_at.unwrap_or_default();
                let link = index.observe(&Sighting::new(&ticket, &d, at));
                if link.size >= 2 {
                    let row =
                        incidents
                            .entry(link.incident.clone())
                            .or_insert_with(|| IncidentRow {
                                incident: link.incident.clone(),
                                category: d.category().code().to_string(),
                                district: d.district_code().map(str::to_string),
                                street: d.street_code().map(str::to_string),
                                size: 0,
                                first_at: at,
                                last_at: at,
                            });
                    row.size = row.size.max(link.size);
                    row.first_at = row.first_at.min(at);
                    row.last_at = row.last_at.max(at);
                }
                if let Some(spikes) = spikes.as_mut() {
                    alerts.extend(spikes.observe(&d, at).into_iter().map(|a| AlertRow {
                        at: a.at,
                        category: a.category,
                        district: Some(a.district),
                        street: a.street,
                        count: a.count,
                        expected: a.expected,
                        p_value: a.p_value,
                    }));
                }
            }
            Err(e) => bad(
                &mut builder,
                "input",
                n,
                format!("ticket {}: {e}", ticket.id),
            ),
        }
    }
    if let Some(path) = &args.records {
        read_records(&mut builder, path, &args.lines)?;
    }
    builder = builder.incidents(incidents.into_values()).alerts(alerts);
    let report = builder.build();
    let html = report.render();
    let context = format!("writing {}", args.out.display());
    let mut out = BufWriter::new(File::create(&args.out).map_err(Failure::io(context.clone()))?);
    out.write_all(html.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Failure::io(context))?;
    eprintln!(
        "hotline: report for {} written to {}: {} tickets routed, {} in the month, {} bad lines",
        report
            .month()
            .map_or_else(|| "no month".to_string(), |m| m.to_string()),
        args.out.display(),
        routed,
        report.total(),
        report.input().bad
    );
    Ok(())
}

fn bad(builder: &mut ReportBuilder, file: &str, line: u64, why: String) {
    eprintln!("hotline: {file} line {line}: {why}");
    let why = if file == "input" {
        why
    } else {
        format!("{file}: {why}")
    };
    builder.add_bad_line(line, why);
}

fn read_alerts(
    mut builder: ReportBuilder,
    path: &Path,
    read: &InputArgs,
) -> Result<ReportBuilder, Failure> {
    let context = format!("reading {}", path.display());
    let mut rows = Vec::new();
    for line in jsonl::lines_capped(open(path)?, read.max_line_bytes) {
        let (n, bytes) = line.map_err(Failure::io(context.clone()))?;
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(too_long) => {
                bad(&mut builder, "alerts", n, too_long.to_string());
                continue;
            }
        };
        match serde_json::from_slice::<AlertRow>(&bytes) {
            Ok(row) => rows.push(row),
            Err(e) => bad(&mut builder, "alerts", n, format!("invalid alert: {e}")),
        }
    }
    Ok(builder.alerts(rows))
}

/// Folds the events into records; a record goes to the report once
/// evaluated (nothing follows an evaluation), the rest at the end.
fn read_records(builder: &mut ReportBuilder, path: &Path, read: &InputArgs) -> Result<(), Failure> {
    let context = format!("reading {}", path.display());
    let mut open_records: foldhash::HashMap<String, TicketRecord> = Default::default();
    for line in jsonl::lines_capped(open(path)?, read.max_line_bytes) {
        let (n, bytes) = line.map_err(Failure::io(context.clone()))?;
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(too_long) => {
                bad(builder, "records", n, too_long.to_string());
                continue;
            }
        };
        let event: Event = match serde_json::from_slice(&bytes) {
            Ok(e) => e,
            Err(e) => {
                bad(builder, "records", n, format!("invalid event: {e}"));
                continue;
            }
        };
        let applied = if matches!(event.kind, EventKind::Received { .. }) {
            TicketRecord::new(&event).map(|r| {
                open_records.insert(event.ticket.clone(), r);
            })
        } else if let Some(r) = open_records.get_mut(&event.ticket) {
            r.apply(event.at, &event.kind)
        } else {
            bad(
                builder,
                "records",
                n,
                format!(
                    "event {} of ticket {} before its received event",
                    event.kind.name(),
                    event.ticket
                ),
            );
            continue;
        };
        if let Err(e) = applied {
            bad(builder, "records", n, e.to_string());
            continue;
        }
        if open_records
            .get(&event.ticket)
            .is_some_and(|r| r.state() == State::Evaluated)
        {
            if let Some(r) = open_records.remove(&event.ticket) {
                builder.add_record(&r);
            }
        }
    }
    let mut rest: Vec<(String, TicketRecord)> = open_records.into_iter().collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, r) in rest {
        builder.add_record(&r);
    }
    Ok(())
}
