//! Replays generated days (a year at 70k/day by default) or a JSON Lines
//! file through the default Beijing router on every core, and prints the
//! throughput and the aggregate table.
//!
//! ```text
//! cargo run --release --features workload --example replay                      # 365 days × 70,000 tickets
//! cargo run --release --features workload --example replay -- --days 7 --per-day 70000 --seed 1
//! cargo run --release --features workload --example replay -- --file tickets.jsonl
//! ```
//!
//! Tickets stream from the generator (or the file) into rayon's pool and are
//! tallied as they are routed: memory does not grow with the number of days.

use std::io::{BufRead, BufReader};
use std::time::Instant;

use hotline_router::replay::{replay, replay_par};
use hotline_router::workload::{Generated, WorkloadBuilder};
use hotline_router::{Router, Ticket};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

struct Args {
    days: u32,
    per_day: u32,
    seed: u64,
    file: Option<String>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        days: 365,
        per_day: 70_000,
        seed: 12345,
        file: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--days" => a.days = value()?.parse().map_err(|e| format!("--days: {e}"))?,
            "--per-day" => a.per_day = value()?.parse().map_err(|e| format!("--per-day: {e}"))?,
            "--seed" => a.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--file" => a.file = Some(value()?),
            other => {
                return Err(format!(
                    "unknown argument {other:?} (expected --days, --per-day, --seed, --file)"
                ))
            }
        }
    }
    Ok(a)
}

fn main() {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("replay: {e}");
            std::process::exit(2);
        }
    };
    let router = Router::beijing();
    let started = Instant::now();
    let (tally, malformed) = match &args.file {
        Some(path) => {
            let file = match std::fs::File::open(path) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("replay: cannot open {path}: {e}");
                    std::process::exit(2);
                }
            };
            let malformed = std::sync::atomic::AtomicU64::new(0);
            let tickets = BufReader::new(file)
                .lines()
                .map_while(Result::ok)
                .filter_map(|line| {
                    let t = serde_json::from_str::<Ticket>(&line).ok();
                    if t.is_none() {
                        malformed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    t
                });
            let tally = replay(&router, tickets);
            (tally, malformed.into_inner())
        }
        None => {
            let workload = WorkloadBuilder::new(args.seed)
                .per_day(args.per_day)
                .build(&router);
            let bar = ProgressBar::new(u64::from(args.days));
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} days {elapsed} {msg}")
                    .expect("a valid template"),
            );
            let malformed = std::sync::atomic::AtomicU64::new(0);
            // Days are generated in parallel too: each worker makes its own.
            let tickets = (0..args.days)
                .into_par_iter()
                .flat_map_iter(|d| {
                    bar.inc(1);
                    workload.day(d)
                })
                .filter_map(|g| match g {
                    Generated::Ticket(t) => Some(t),
                    Generated::Malformed(_) => {
                        malformed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        None
                    }
                });
            let tally = replay_par(&router, tickets);
            bar.finish();
            (tally, malformed.into_inner())
        }
    };
    let took = started.elapsed().as_secs_f64();
    let total = tally.routed() + tally.errors() + malformed;
    println!(
        "\n{total} tickets in {took:.2} s: {:.0} tickets/s on {} threads ({} routed, {} refused, {} malformed lines)\n",
        total as f64 / took,
        rayon::current_num_threads(),
        tally.routed(),
        tally.errors(),
        malformed
    );
    let rows = tally.rows(&router);
    println!(
        "{:<28} {:<8} {:<30} {:>10}",
        "category", "district", "agency", "tickets"
    );
    for r in rows.iter().take(25) {
        println!(
            "{:<28} {:<8} {:<30} {:>10}",
            r.category,
            r.district.as_deref().unwrap_or("-"),
            r.agency,
            r.count
        );
    }
    if rows.len() > 25 {
        println!("… {} more rows", rows.len() - 25);
    }
}
