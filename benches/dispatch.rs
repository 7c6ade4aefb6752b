//! Criterion benches for the dispatch runtime: submit (route + enqueue) and
//! claim + resolve throughput at 1, 2 and 4 threads, each beside a baseline
//! measured in the same run — the pipeline a Rust user writes first: route
//! with the same router, then one `Mutex` over a `HashMap` of per-agency
//! `VecDeque`s plus a `HashMap` registry for duplicate checks.
//!
//! ```text
//! cargo bench --features full --bench dispatch
//! ```
//!
//! Target: submit ≥ 1M tickets/s on 2 threads, and ≥ 3× the baseline there.
//! `submit/route_only` measures routing alone on the same threads: the floor
//! under both submit pipelines.
//!
//! Inputs are a seeded batch of 20,000 realistic tickets (the route bench's
//! mix: fixed phrasings × real community names × points over Beijing). Every
//! iteration gets a fresh runtime, so ids never collide; building it, filling
//! it (for claim + resolve), splitting the batch and dropping the runtime are
//! outside the timed region, spawning the threads is inside it. Each
//! iteration checks that every ticket was accepted or handled and that both
//! implementations put the same number of tickets on every agency's list.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
mod common;

use common::start;
use hotline_router::dispatch::{DispatchConfig, Dispatcher, ManualClock};
use hotline_router::{Priority, Router, Ticket};
use jiff::Timestamp;

const BATCH: usize = 20_000;
const THREADS: [usize; 3] = [1, 2, 4];

/// The seeded batch (see `common::mix`).
fn batch(router: &Router) -> Vec<Ticket> {
    common::mix(router, BATCH)
}

/// What every implementation must end up with: tickets per agency.
fn expected(router: &Router, tickets: &[Ticket]) -> BTreeMap<String, usize> {
    let mut per_agency = BTreeMap::new();
    for t in tickets {
        let agency = router.route(t).expect("every bench ticket routes");
        *per_agency
            .entry(agency.agency_code().to_string())
            .or_default() += 1;
    }
    per_agency
}

/// The baseline: what a Rust user writes first.
struct Naive {
    router: Router,
    inner: Mutex<NaiveInner>,
}

#[derive(Default)]
struct NaiveInner {
    queues: HashMap<String, VecDeque<String>>,
    registry: HashMap<String, NaiveRecord>,
}

#[allow(dead_code)] // written, as the runtime's are, but only partly read here
struct NaiveRecord {
    ticket: Ticket,
    agency: String,
    priority: Priority,
    deadline: Timestamp,
    worker: Option<String>,
    outcome: Option<String>,
}

impl Naive {
    fn new(router: Router) -> Naive {
        Naive {
            router,
            inner: Mutex::new(NaiveInner::default()),
        }
    }

    /// Routes outside the lock, then registers and enqueues under it (urgent
    /// to the front). Returns the agency, or the ticket boxed as the
    /// runtime's `SubmitError` does.
    fn submit(&self, ticket: Ticket) -> Result<String, Box<Ticket>> {
        let Ok(d) = self.router.route(&ticket) else {
            return Err(Box::new(ticket));
        };
        let (agency, priority, deadline) =
            (d.agency_code().to_string(), d.priority(), d.deadline());
        let mut guard = self.inner.lock().expect("not poisoned");
        let inner = &mut *guard;
        if inner.registry.contains_key(&ticket.id) {
            return Err(Box::new(ticket));
        }
        let queue = inner.queues.entry(agency.clone()).or_default();
        match priority {
            Priority::Urgent => queue.push_front(ticket.id.clone()),
            _ => queue.push_back(ticket.id.clone()),
        }
        inner.registry.insert(
            ticket.id.clone(),
            NaiveRecord {
                ticket,
                agency: agency.clone(),
                priority,
                deadline,
                worker: None,
                outcome: None,
            },
        );
        Ok(agency)
    }

    /// Pops the agency's next ticket and records the claim; hands back the
    /// id and a copy of the ticket, as the runtime's `Claim` does.
    fn claim(&self, agency: &str, worker: &str) -> Option<(String, Ticket)> {
        let mut guard = self.inner.lock().expect("not poisoned");
        let inner = &mut *guard;
        let id = inner.queues.get_mut(agency)?.pop_front()?;
        let record = inner.registry.get_mut(&id)?;
        record.worker = Some(worker.to_string());
        let ticket = record.ticket.clone();
        Some((id, ticket))
    }

    /// Resolves if `worker` holds the claim.
    fn resolve(&self, id: &str, worker: &str, outcome: &str) -> bool {
        let mut guard = self.inner.lock().expect("not poisoned");
        match guard.registry.get_mut(id) {
            Some(r) if r.worker.as_deref() == Some(worker) && r.outcome.is_none() => {
                r.outcome = Some(outcome.to_string());
                true
            }
            _ => false,
        }
    }

    fn queued(&self, agency: &str) -> usize {
        let guard = self.inner.lock().expect("not poisoned");
        guard.queues.get(agency).map_or(0, VecDeque::len)
    }
}

fn dispatcher(router: &Router) -> Dispatcher {
    let config = DispatchConfig::default()
        .capacity_per_agency(BATCH)
        .capacity_total(BATCH);
    // The clock a day after the mix starts: its tickets (one every 2.5 s)
    // are then all in the past, as a runtime requires.
    let now = start() + jiff::SignedDuration::from_hours(24);
    Dispatcher::new(router.clone(), config, Arc::new(ManualClock::new(now)))
}

/// Splits the batch into `threads` contiguous shares (copied: not timed).
fn shares(tickets: &[Ticket], threads: usize) -> Vec<Vec<Ticket>> {
    tickets
        .chunks(tickets.len().div_ceil(threads))
        .map(<[Ticket]>::to_vec)
        .collect()
}

/// Runs `work` on every share on its own thread; the time and the sum of
/// what the threads return.
fn timed<T: Send>(shares: Vec<T>, work: impl Fn(usize, T) -> usize + Sync) -> (Duration, usize) {
    let started = Instant::now();
    let done = thread::scope(|s| {
        let work = &work;
        let handles: Vec<_> = shares
            .into_iter()
            .enumerate()
            .map(|(k, share)| s.spawn(move || work(k, share)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .sum()
    });
    (started.elapsed(), done)
}

fn bench_submit(c: &mut Criterion) {
    let router = Router::beijing();
    let tickets = batch(&router);
    let expected = expected(&router, &tickets);
    let mut g = c.benchmark_group("submit");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    for threads in THREADS {
        g.bench_with_input(
            BenchmarkId::new("dispatcher", threads),
            &threads,
            |b, &threads| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let d = dispatcher(&router);
                        let (took, accepted) = timed(shares(&tickets, threads), |_, share| {
                            share
                                .into_iter()
                                .map(|t| usize::from(black_box(d.submit(t)).is_ok()))
                                .sum()
                        });
                        total += took;
                        assert_eq!(accepted, BATCH, "every ticket accepted");
                        assert_eq!(d.counts().dispatched, BATCH);
                        for (agency, n) in &expected {
                            assert_eq!(d.open_at(agency), *n, "{agency}");
                        }
                    }
                    total
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("mutex_baseline", threads),
            &threads,
            |b, &threads| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let naive = Naive::new(router.clone());
                        let (took, accepted) = timed(shares(&tickets, threads), |_, share| {
                            share
                                .into_iter()
                                .map(|t| usize::from(black_box(naive.submit(t)).is_ok()))
                                .sum()
                        });
                        total += took;
                        assert_eq!(accepted, BATCH, "every ticket accepted");
                        for (agency, n) in &expected {
                            assert_eq!(naive.queued(agency), *n, "{agency}");
                        }
                    }
                    total
                })
            },
        );
        // The floor both stand on: routing alone, on the same threads.
        g.bench_with_input(
            BenchmarkId::new("route_only", threads),
            &threads,
            |b, &threads| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let chunks: Vec<&[Ticket]> =
                            tickets.chunks(BATCH.div_ceil(threads)).collect();
                        let (took, routed) = timed(chunks, |_, share| {
                            share
                                .iter()
                                .map(|t| usize::from(black_box(router.route(t)).is_ok()))
                                .sum()
                        });
                        total += took;
                        assert_eq!(routed, BATCH, "every ticket routes");
                    }
                    total
                })
            },
        );
    }
    g.finish();
}

/// The agencies each thread visits, in its own order: thread `k` of `n`
/// starts `k/n` of the way round, so threads meet on a list only when one
/// has drained its first share.
fn rounds(agencies: &[String], threads: usize) -> Vec<Vec<String>> {
    (0..threads)
        .map(|k| {
            let from = k * agencies.len() / threads;
            agencies[from..]
                .iter()
                .chain(&agencies[..from])
                .cloned()
                .collect()
        })
        .collect()
}

fn bench_claim_resolve(c: &mut Criterion) {
    let router = Router::beijing();
    let tickets = batch(&router);
    let expected = expected(&router, &tickets);
    let agencies: Vec<String> = expected.keys().cloned().collect();
    let mut g = c.benchmark_group("claim_resolve");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    // Refilling a fresh runtime (untimed) costs several times the timed
    // drain: a shorter measurement keeps the whole run to a few minutes.
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    for threads in THREADS {
        g.bench_with_input(
            BenchmarkId::new("dispatcher", threads),
            &threads,
            |b, &threads| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let d = dispatcher(&router);
                        for t in tickets.iter().cloned() {
                            d.submit(t).expect("fresh runtime accepts the batch");
                        }
                        let (took, handled) = timed(rounds(&agencies, threads), |k, round| {
                            let worker = format!("w{k}");
                            let mut handled = 0;
                            for agency in &round {
                                while let Some(claim) = d.claim(agency, &worker).unwrap() {
                                    d.resolve(&claim.id, &worker, "done").expect("holder");
                                    handled += 1;
                                }
                            }
                            handled
                        });
                        total += took;
                        assert_eq!(handled, BATCH, "every ticket handled");
                        assert_eq!(d.counts().resolved, BATCH);
                    }
                    total
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("mutex_baseline", threads),
            &threads,
            |b, &threads| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let naive = Naive::new(router.clone());
                        for t in tickets.iter().cloned() {
                            naive.submit(t).expect("fresh baseline accepts the batch");
                        }
                        let (took, handled) = timed(rounds(&agencies, threads), |k, round| {
                            let worker = format!("w{k}");
                            let mut handled = 0;
                            for agency in &round {
                                while let Some((id, _ticket)) = naive.claim(agency, &worker) {
                                    assert!(naive.resolve(&id, &worker, "done"), "holder");
                                    handled += 1;
                                }
                            }
                            handled
                        });
                        total += took;
                        assert_eq!(handled, BATCH, "every ticket handled");
                    }
                    total
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench_submit, bench_claim_resolve);
criterion_main!(benches);
