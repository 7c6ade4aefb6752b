//! `hotline generate`: seeded, realistic Beijing hotline days as JSON Lines
//! tickets with `received_at`, from [`hotline_router::workload`].
//!
//! Day after day, each in order of arrival, streamed in constant memory.
//! Like a real feed, the output has about 0.5% malformed lines (truncated
//! JSON, wrong types, unknown fields, empty lines) and 0.5% tickets that
//! parse but cannot be routed; `--clean` leaves the malformed lines out.

use std::io::{self, BufWriter, Write};

use clap::Args;
use hotline_router::workload::{Generated, WorkloadBuilder};
use hotline_router::Router;
use jiff::civil::Date;
use jiff::SignedDuration;

use crate::Failure;

/// The options of the generate command.
#[derive(Args, Clone, Debug)]
pub struct GenerateArgs {
    /// Days to generate (at least 1).
    #[arg(long, value_name = "N")]
    pub days: u32,
    /// The seed: the same seed and options give the same lines.
    #[arg(long, value_name = "S")]
    pub seed: u64,
    /// The first day, YYYY-MM-DD (China time).
    #[arg(long, value_name = "DATE", default_value = "2024-01-01")]
    pub start: Date,
    /// A day of cold snap (heating tickets ×20), one of the days generated.
    #[arg(long, value_name = "DATE")]
    pub cold_snap: Option<Date>,
    /// Tickets on an ordinary weekday (Monday ×1.1, weekends ×0.8, ±3%).
    #[arg(long, value_name = "N", default_value_t = 70_000)]
    pub per_day: u32,
    /// Leave out the malformed lines (about 0.5%, kept by default because a
    /// real feed has them; the ~0.5% unroutable tickets stay either way).
    #[arg(long)]
    pub clean: bool,
}

/// Writes the days to stdout.
///
/// # Errors
///
/// [`Failure::Usage`] for days or dates out of range, [`Failure::Io`] when
/// stdout fails (a closed pipe included).
pub fn run(args: &GenerateArgs) -> Result<(), Failure> {
    if args.days == 0 {
        return Err(Failure::Usage("--days must be at least 1".into()));
    }
    if args.per_day == 0 {
        return Err(Failure::Usage("--per-day must be at least 1".into()));
    }
    let last = args
        .start
        .checked_add(SignedDuration::from_hours(24 * (i64::from(args.days) - 1)))
        .map_err(|_| {
            Failure::Usage(format!(
                "{} days from {} run past the last date there is",
                args.days, args.start
            ))
        })?;
    let mut builder = WorkloadBuilder::new(args.seed)
        .per_day(args.per_day)
        .start(args.start);
    if let Some(day) = args.cold_snap {
        if day < args.start || day > last {
            return Err(Failure::Usage(format!(
                "--cold-snap {day} is not one of the days generated ({} to {last})",
                args.start
            )));
        }
        builder = builder.cold_snap(day);
    }
    let workload = builder.build(&Router::beijing());
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let io = Failure::io("writing generated tickets to stdout");
    let write = |out: &mut BufWriter<_>| -> io::Result<()> {
        for n in 0..args.days {
            for item in workload.day(n) {
                match item {
                    Generated::Ticket(t) => serde_json::to_writer(&mut *out, &t)?,
                    Generated::Malformed(_) if args.clean => continue,
                    Generated::Malformed(line) => out.write_all(line.as_bytes())?,
                }
                out.write_all(b"\n")?;
            }
        }
        out.flush()
    };
    write(&mut out).map_err(io)
}
