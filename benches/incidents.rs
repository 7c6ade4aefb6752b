//! Criterion benches for the incident index on the generated workload
//! (`hotline_router::workload`, 70,000 tickets a day): linking a ticket
//! (lookup + insert + expiry, `observe`) beside routing it, in the same run.
//!
//! ```text
//! cargo bench --features full --bench incidents
//! ```
//!
//! Target: `observe` well under 1 µs per ticket. The index is first filled
//! with two generated days, then every iteration links the stream's next
//! 5,000 tickets into the same index — the steady state of a live stream,
//! where incidents open and expire at the rate tickets arrive. The tickets
//! are generated and routed before each iteration's clock starts. Each
//! iteration checks that tickets joined incidents (at least a third of the
//! share a reference run saw: the share moves with the hour of the day).
//!
//! Baselines in the same group: `route` (the router alone, the floor under
//! any pipeline that links tickets) and `naive_scan`, what a Rust user
//! writes first — scan every open incident for one of the same category in
//! the same district within the window and radius — on 200 tickets.

use std::cell::RefCell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hotline_router::incident::{IncidentIndex, Sighting};
use hotline_router::workload::{Workload, WorkloadBuilder};
use hotline_router::{CategoryId, Decision, DistrictId, Router, Ticket};
use jiff::Timestamp;

const BATCH: usize = 5_000;
const NAIVE: usize = 200;

/// The generated stream, day after day, routable tickets only.
struct Stream<'r> {
    router: &'r Router,
    workload: Workload,
    day: u32,
    pending: std::vec::IntoIter<Ticket>,
}

impl<'r> Stream<'r> {
    fn new(router: &'r Router) -> Self {
        let workload = WorkloadBuilder::new(2024)
            .per_day(70_000)
            .start("2024-11-18".parse().unwrap())
            .build(router);
        Stream {
            router,
            workload,
            day: 0,
            pending: Vec::new().into_iter(),
        }
    }

    fn take(&mut self, n: usize) -> Vec<Ticket> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match self.pending.next() {
                Some(t) => out.push(t),
                None => {
                    let day: Vec<Ticket> = self
                        .workload
                        .day(self.day)
                        .filter_map(|g| g.into_ticket())
                        .filter(|t| self.router.route(t).is_ok())
                        .collect();
                    self.day += 1;
                    self.pending = day.into_iter();
                }
            }
        }
        out
    }
}

fn link(index: &mut IncidentIndex, t: &Ticket, d: &Decision) -> bool {
    let at = t.received_at.expect("generated tickets have times");
    index.observe(&Sighting::new(t, d, at)).joined
}

/// The naive baseline's open incident.
#[derive(Clone, Copy)]
struct Open {
    category: CategoryId,
    district: Option<DistrictId>,
    point: Option<(f64, f64)>,
    last: Timestamp,
}

fn naive_link(open: &mut Vec<Open>, index: &IncidentIndex, t: &Ticket, d: &Decision) -> bool {
    let category = d.classification().primary();
    let rule = index.rule(category);
    let at = t.received_at.unwrap();
    let point = t.coordinates.map(|c| c.to_wgs84());
    let district = d.location().district();
    let hit = open.iter_mut().find(|o| {
        o.category == category
            && o.district == district
            && at.duration_since(o.last) <= rule.window
            && match (o.point, point) {
                (Some(p), Some(q)) => {
                    let dx = (p.0 - q.0) * 85_000.0;
                    let dy = (p.1 - q.1) * 110_574.0;
                    (dx * dx + dy * dy).sqrt() <= rule.radius_m
                }
                _ => true,
            }
    });
    match hit {
        Some(o) => {
            o.last = o.last.max(at);
            true
        }
        None => {
            open.push(Open {
                category,
                district,
                point,
                last: at,
            });
            false
        }
    }
}

fn bench(c: &mut Criterion) {
    let router = Router::beijing();
    let stream = RefCell::new(Stream::new(&router));
    let index = RefCell::new(IncidentIndex::new(&router));
    let mut naive_open = Vec::new();
    let history = stream.borrow_mut().take(140_000);
    for t in &history {
        let d = router.route(t).unwrap();
        link(&mut index.borrow_mut(), t, &d);
        naive_link(&mut naive_open, &index.borrow(), t, &d);
    }
    drop(history);
    // The share of tickets that join an incident, to check each batch by.
    let share = {
        let batch = stream.borrow_mut().take(BATCH);
        let mut ix = index.borrow().clone();
        let joined = batch
            .iter()
            .filter(|t| link(&mut ix, t, &router.route(t).unwrap()))
            .count();
        joined as f64 / BATCH as f64
    };
    println!(
        "prefilled: {:?}; {:.1}% of tickets join an open incident",
        index.borrow().footprint(),
        100.0 * share
    );
    // The share moves with the hour of the day; a broken index joins none.
    let check = |joined: usize| {
        let s = joined as f64 / BATCH as f64;
        assert!(s > share / 3.0, "{s} vs {share}");
    };
    // Routing alone reads a stream of its own, so the index's stream does
    // not jump ahead of it.
    let route_stream = RefCell::new(Stream::new(&router));

    let mut g = c.benchmark_group("incidents");
    g.sample_size(10);
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("route", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batch = route_stream.borrow_mut().take(BATCH);
                let start = Instant::now();
                let sum: usize = batch
                    .iter()
                    .map(|t| router.route(black_box(t)).unwrap().agency().as_usize())
                    .sum();
                total += start.elapsed();
                black_box(sum);
            }
            total
        })
    });
    g.bench_function("observe", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batch = stream.borrow_mut().take(BATCH);
                let decisions: Vec<Decision> =
                    batch.iter().map(|t| router.route(t).unwrap()).collect();
                let mut ix = index.borrow_mut();
                let start = Instant::now();
                let joined = batch
                    .iter()
                    .zip(&decisions)
                    .filter(|(t, d)| link(&mut ix, t, d))
                    .count();
                total += start.elapsed();
                check(joined);
            }
            total
        })
    });
    g.bench_function("route_and_observe", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batch = stream.borrow_mut().take(BATCH);
                let mut ix = index.borrow_mut();
                let start = Instant::now();
                let joined = batch
                    .iter()
                    .filter(|t| link(&mut ix, t, &router.route(t).unwrap()))
                    .count();
                total += start.elapsed();
                check(joined);
            }
            total
        })
    });
    g.throughput(Throughput::Elements(NAIVE as u64));
    g.bench_function("naive_scan", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batch = route_stream.borrow_mut().take(NAIVE);
                let decisions: Vec<Decision> =
                    batch.iter().map(|t| router.route(t).unwrap()).collect();
                let mut open = naive_open.clone();
                let ix = index.borrow();
                let start = Instant::now();
                let joined = batch
                    .iter()
                    .zip(&decisions)
                    .filter(|(t, d)| naive_link(&mut open, &ix, t, d))
                    .count();
                total += start.elapsed();
                black_box(joined);
            }
            total
        })
    });
    g.finish();
    println!("after the run: {:?}", index.borrow().footprint());
}

criterion_group!(benches, bench);
criterion_main!(benches);
