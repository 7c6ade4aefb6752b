//! Criterion benches for the dispatcher over its journal: durable submit
//! throughput beside the in-memory submit measured in the same run, and
//! restore time by journal size, with and without a snapshot.
//!
//! ```text
//! cargo bench --features full --bench durable
//! ```
//!
//! Targets (issue 8): durable submit (policy `Always`, 2 threads) ≥ 0.5× the
//! in-memory submit; restore of 1M tickets' full lifecycles < 3 s with a
//! snapshot. Set `HOTLINE_BENCH_RESTORE_TICKETS` to change the largest
//! restore (building its journal takes a few minutes).
//!
//! Every submit iteration gets a fresh runtime and, for the durable ones, a
//! fresh journal directory (created outside the timed region). Each thread
//! submits its share in batches with `submit_many` — one journal write and
//! one `fdatasync` per batch, shared with the other thread's by group
//! commit — or one ticket per call (`submit`), which pays a sync per call
//! unless the other thread's happens to cover it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
mod common;

use common::start;
use hotline_router::dispatch::{DispatchConfig, Dispatcher, Evaluation, ManualClock};
use hotline_router::journal::{JournalOptions, SyncPolicy};
use hotline_router::{Router, Ticket};
use jiff::SignedDuration;

const BATCH: usize = 20_000;
const THREADS: usize = 2;

fn bench_dir(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(capacity: usize) -> DispatchConfig {
    DispatchConfig::default()
        .capacity_per_agency(capacity)
        .capacity_total(capacity)
}

/// The runtime's clock: a day after the mix starts, so that every ticket of
/// the mix (one every 2.5 s) is in the past.
fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(start() + SignedDuration::from_hours(24)))
}

/// `tickets` in `THREADS` contiguous shares.
fn shares(tickets: &[Ticket]) -> Vec<Vec<Ticket>> {
    tickets
        .chunks(tickets.len().div_ceil(THREADS))
        .map(<[Ticket]>::to_vec)
        .collect()
}

/// How a thread hands its share to the runtime.
#[derive(Clone, Copy)]
enum Mode {
    One,
    Batches(usize),
}

/// Submits every share on its own thread; the time, and how many were
/// accepted.
fn run(d: &Dispatcher, shares: Vec<Vec<Ticket>>, mode: Mode) -> (Duration, usize) {
    let started = Instant::now();
    let accepted = thread::scope(|s| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| {
                s.spawn(move || match mode {
                    Mode::One => share
                        .into_iter()
                        .filter(|t| d.submit(t.clone()).is_ok())
                        .count(),
                    Mode::Batches(n) => share
                        .chunks(n)
                        .map(|chunk| {
                            d.submit_many(chunk.iter().cloned())
                                .iter()
                                .filter(|r| r.is_ok())
                                .count()
                        })
                        .sum(),
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .sum()
    });
    (started.elapsed(), accepted)
}

fn bench_submit(c: &mut Criterion) {
    let router = Router::beijing();
    let tickets = common::mix(&router, BATCH);
    let mut g = c.benchmark_group("durable_submit");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    let cases: [(&str, Option<SyncPolicy>, Mode); 6] = [
        ("in_memory/one", None, Mode::One),
        ("in_memory/batch256", None, Mode::Batches(256)),
        (
            "always/batch1024",
            Some(SyncPolicy::Always),
            Mode::Batches(1024),
        ),
        (
            "always/batch256",
            Some(SyncPolicy::Always),
            Mode::Batches(256),
        ),
        (
            "always/batch32",
            Some(SyncPolicy::Always),
            Mode::Batches(32),
        ),
        ("always/one", Some(SyncPolicy::Always), Mode::One),
    ];
    for (name, policy, mode) in cases {
        g.bench_function(BenchmarkId::new(name, THREADS), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for i in 0..iters {
                    let builder = Dispatcher::builder(router.clone())
                        .config(config(BATCH))
                        .clock(clock());
                    let dir = bench_dir(&format!("submit-{i}"));
                    let d = match policy {
                        None => builder.build(),
                        Some(p) => {
                            builder
                                .open_journal(&dir, JournalOptions::new().sync(p))
                                .expect("a fresh journal")
                                .0
                        }
                    };
                    let (took, accepted) = run(&d, shares(&tickets), mode);
                    assert_eq!(accepted, BATCH, "every bench ticket is accepted");
                    total += took;
                    drop(d);
                    let _ = std::fs::remove_dir_all(&dir);
                }
                total
            })
        });
    }
    g.finish();
}

/// A journal holding `n` tickets' full lifecycles (submit, claim, respond,
/// resolve, evaluate), snapshotted at the end when `snapshot`.
fn build_journal(router: &Router, n: usize, snapshot: bool) -> PathBuf {
    let dir = bench_dir(&format!("restore-{n}-{snapshot}"));
    // Built with write-only acknowledgement: the bench times restore, not
    // this; the bytes on disk are the same.
    let options = JournalOptions::new().sync(SyncPolicy::Interval(Duration::from_secs(1)));
    let (d, _) = Dispatcher::builder(router.clone())
        .config(config(n))
        .clock(clock())
        .snapshot_every(u64::MAX)
        .open_journal(&dir, options)
        .expect("a fresh journal");
    let mix = common::mix(router, 20_000);
    let answers = Evaluation {
        responded: true,
        resolved: true,
        satisfied: true,
    };
    for start in (0..n).step_by(mix.len()) {
        let tickets = mix.iter().take(n - start).enumerate().map(|(i, t)| {
            let mut t = t.clone();
            t.id = format!("R{}", start + i);
            t
        });
        for r in d.submit_many(tickets) {
            let r = r.expect("bench tickets are accepted");
            let c = d.claim(&r.agency, "w").unwrap().expect("a queued ticket");
            d.respond(&c.id, "w").unwrap();
            d.resolve(&c.id, "w", "handled").unwrap();
            d.evaluate(&c.id, answers).unwrap();
        }
    }
    if snapshot {
        d.checkpoint().expect("a snapshot");
    }
    d.sync().expect("synced");
    dir
}

fn bench_restore(c: &mut Criterion) {
    let router = Router::beijing();
    let largest: usize = std::env::var("HOTLINE_BENCH_RESTORE_TICKETS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let mut g = c.benchmark_group("durable_restore");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    for (n, snapshot) in [(100_000, false), (100_000, true), (largest, true)] {
        let dir = build_journal(&router, n, snapshot);
        let name = if snapshot { "snapshot" } else { "log_only" };
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new(name, n), |b| {
            // Dropping a million tickets is not restoring them: the runtime
            // is dropped outside the timed region.
            b.iter_with_large_drop(|| {
                Dispatcher::builder(router.clone())
                    .config(config(n))
                    .open_journal(&dir, JournalOptions::new())
                    .expect("the journal opens")
                    .0
            })
        });
        let (d, _) = Dispatcher::builder(router.clone())
            .config(config(n))
            .open_journal(&dir, JournalOptions::new())
            .expect("the journal opens");
        assert_eq!(d.counts().evaluated, n, "every ticket restored, evaluated");
        drop(d);
        let _ = std::fs::remove_dir_all(&dir);
    }
    g.finish();
}

criterion_group!(benches, bench_submit, bench_restore);
criterion_main!(benches);
