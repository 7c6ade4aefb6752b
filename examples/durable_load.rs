//! Drives a journaled dispatcher under full load and says, line by line,
//! what it acknowledged — to be killed with `kill -9` at any moment and
//! checked after restore.
//!
//! ```text
//! cargo run --release --features workload --example durable_load -- --journal DIR [--seed N] [--tickets N] [--threads N] [--submit-only]
//! cargo run --release --features workload --example durable_load -- --in-memory [--seed N] [--tickets N] [--threads N] [--submit-only]
//! cargo run --release --features workload --example durable_load -- --journal DIR --dump
//! ```
//!
//! * With `--journal DIR` it opens the journal in DIR, restoring what is
//!   there (stderr: `restored N tickets in T ms`), then on `--threads`
//!   threads (default 2) submits generated Beijing tickets and takes each
//!   through its lifecycle — claim, respond, then mostly resolve and
//!   evaluate, sometimes a return (退单) or a reassignment first — until
//!   `--tickets` were submitted (default: forever). Ticket ids carry a run
//!   tag, so they never repeat across runs on the same journal.
//! * For every operation the dispatcher acknowledged, one line on stdout,
//!   `<op> <ticket-id>` with op ∈ submit, claim, respond, resolve, return,
//!   reassign, evaluate, written and flushed right after the acknowledgement
//!   and before the thread's next operation. A line is printed only for an
//!   acknowledged operation, so every line must survive a crash.
//! * `--submit-only` only submits; `--in-memory` runs the same load without
//!   a journal (the baseline).
//! * `--dump` restores and prints `<ticket-id> <state>` for every ticket,
//!   sorted by id; on a corrupt journal it prints the error (file and byte
//!   offset) and exits with status 2.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use hotline_router::dispatch::{AgencyCode, DispatchConfig, Dispatcher, Evaluation, SubmitError};
use hotline_router::journal::JournalOptions;
use hotline_router::workload::WorkloadBuilder;
use hotline_router::Router;
use parking_lot::Mutex;
use rand::{Rng, SeedableRng};

/// What to run.
#[derive(Debug, Parser)]
#[command(about = "Journaled dispatcher under load, printing every acknowledged operation")]
pub struct Args {
    /// The journal directory (created if missing).
    #[arg(long, required_unless_present = "in_memory")]
    pub journal: Option<PathBuf>,
    /// Run without a journal.
    #[arg(long, conflicts_with_all = ["journal", "dump"])]
    pub in_memory: bool,
    /// Seed of the generated tickets and of the workers' choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Stop after this many submits (default: run until killed).
    #[arg(long)]
    pub tickets: Option<u64>,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Only submit.
    #[arg(long)]
    pub submit_only: bool,
    /// Restore and print every ticket's state.
    #[arg(long, requires = "journal")]
    pub dump: bool,
}

#[allow(dead_code)] // the crash test includes this file and calls `run`
fn main() -> ExitCode {
    run(Args::parse())
}

/// Runs the tool; the exit code says how it went.
pub fn run(args: Args) -> ExitCode {
    // Nothing is purged here (a purged ticket would look lost to a
    // checker), so the registry must hold every ticket of a long run.
    let config = DispatchConfig::default()
        .capacity_total(usize::MAX)
        .capacity_per_agency(usize::MAX);
    let builder = Dispatcher::builder(Router::beijing()).config(config);
    let started = Instant::now();
    let d = match &args.journal {
        None => builder.build(),
        Some(dir) => match builder.open_journal(dir, JournalOptions::new()) {
            Ok((d, recovery)) => {
                if let Some(torn) = &recovery.torn_tail {
                    eprintln!(
                        "cut a torn tail: {} bytes at {} of {}",
                        torn.bytes,
                        torn.offset,
                        torn.file.display()
                    );
                }
                d
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    eprintln!(
        "restored {} tickets in {} ms",
        d.counts().total,
        started.elapsed().as_millis()
    );
    if args.dump {
        return dump(&d);
    }
    load(&d, &args)
}

fn dump(d: &Dispatcher) -> ExitCode {
    let mut lines = Vec::new();
    d.for_each_record(|r| lines.push(format!("{} {}", r.ticket().id, r.state().as_str())));
    lines.sort_unstable();
    let mut out = std::io::stdout().lock();
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn load(d: &Dispatcher, args: &Args) -> ExitCode {
    let router = d.router();
    let workload = Arc::new(
        WorkloadBuilder::new(args.seed)
            .per_day(20_000)
            .build(&router),
    );
    // Nanoseconds of the start: a tag no earlier run on this journal had.
    let run = format!("{:x}", jiff::Timestamp::now().as_nanosecond());
    let submitted = Arc::new(AtomicU64::new(0));
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let failed = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..args.threads.max(1))
            .map(|thread| {
                let (d, workload, submitted, out, run) = (
                    d.clone(),
                    workload.clone(),
                    submitted.clone(),
                    out.clone(),
                    run.clone(),
                );
                scope.spawn(move || {
                    let worker = Worker {
                        d,
                        out,
                        name: format!("w{thread}"),
                        rng: rand::rngs::StdRng::seed_from_u64(args.seed ^ thread as u64),
                    };
                    worker.drive(&workload, &run, thread, &submitted, args)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err("a worker thread panicked".into())))
            .find_map(Result::err)
    });
    match failed {
        None => ExitCode::SUCCESS,
        Some(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Worker {
    d: Dispatcher,
    out: Arc<Mutex<std::io::Stdout>>,
    name: String,
    rng: rand::rngs::StdRng,
}

impl Worker {
    fn drive(
        mut self,
        workload: &hotline_router::workload::Workload,
        run: &str,
        thread: usize,
        submitted: &AtomicU64,
        args: &Args,
    ) -> Result<(), String> {
        let limit = args.tickets.unwrap_or(u64::MAX);
        let mut n = 0u64;
        // Each thread walks its own days of the workload, so the threads'
        // tickets differ.
        for day in (thread as u32..).step_by(args.threads.max(1)) {
            for generated in workload.day(day % 3650) {
                let Some(mut ticket) = generated.into_ticket() else {
                    continue;
                };
                if submitted.fetch_add(1, Ordering::AcqRel) >= limit {
                    return Ok(());
                }
                n += 1;
                ticket.id = format!("{run}-{thread}-{n}");
                // Received now, on the runtime's clock.
                ticket.received_at = None;
                let agency = match self.d.submit(ticket) {
                    Ok(receipt) => {
                        self.ack("submit", &receipt.id)?;
                        receipt.agency
                    }
                    // Some generated tickets are unroutable on purpose.
                    Err(SubmitError::Invalid { .. }) => continue,
                    Err(e) => return Err(e.to_string()),
                };
                if !args.submit_only {
                    self.handle(&agency)?;
                }
            }
        }
        Ok(())
    }

    /// Claims the next ticket of `agency` and takes it to evaluation,
    /// following it when it is returned or reassigned.
    fn handle(&mut self, agency: &str) -> Result<(), String> {
        let mut agency = AgencyCode::from(agency);
        for _ in 0..4 {
            let Some(claim) = self
                .d
                .claim(&agency, &self.name)
                .map_err(|e| e.to_string())?
            else {
                return Ok(());
            };
            let id = claim.id;
            self.ack("claim", &id)?;
            self.d.respond(&id, &self.name).map_err(|e| e.to_string())?;
            self.ack("respond", &id)?;
            let roll: f64 = self.rng.gen();
            let moved = if roll < 0.08 {
                self.d
                    .return_ticket(&id, &self.name, "not ours")
                    .ok()
                    .map(|r| ("return", r.agency))
            } else if roll < 0.10 {
                self.d
                    .reassign(&id, "center:triage", &self.name, "needs a second look")
                    .ok()
                    .map(|r| ("reassign", r.agency))
            } else {
                None
            };
            if let Some((op, next)) = moved {
                self.ack(op, &id)?;
                agency = next;
                continue;
            }
            self.d
                .resolve(&id, &self.name, "handled")
                .map_err(|e| e.to_string())?;
            self.ack("resolve", &id)?;
            let satisfied = self.rng.gen_bool(0.9);
            let evaluation = Evaluation {
                responded: true,
                resolved: satisfied,
                satisfied,
            };
            self.d
                .evaluate(&id, evaluation)
                .map_err(|e| e.to_string())?;
            self.ack("evaluate", &id)?;
            return Ok(());
        }
        Ok(())
    }

    /// One acknowledged operation, on stdout before anything else happens.
    fn ack(&self, op: &str, id: &str) -> Result<(), String> {
        let mut out = self.out.lock();
        writeln!(out, "{op} {id}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("stdout: {e}"))
    }
}
