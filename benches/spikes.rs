//! Criterion bench for the spike detector: one generated December day
//! (70,000 tickets, heating season) observed ticket by ticket by a
//! detector that learned two weeks of history, beside routing the same
//! tickets (the baseline: what every ticket costs anyway).
//!
//! ```text
//! cargo bench --features full --bench spikes
//! ```
//!
//! Tickets are routed once before timing; `observe_codes` takes the codes
//! as a consumer of decisions has them, `observe` a `Decision` itself.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hotline_router::analytics::spikes::SpikeDetector;
use hotline_router::workload::{Generated, WorkloadBuilder};
use hotline_router::{Decision, Router, Ticket};
use jiff::civil::date;
use jiff::Timestamp;
use rayon::prelude::*;

/// Routes `tickets` (in order) with their times; unroutable ones dropped.
fn route(router: &Router, tickets: &[Ticket]) -> Vec<(Decision, Timestamp)> {
    tickets
        .par_iter()
        .filter_map(|t| Some((router.route(t).ok()?, t.received_at?)))
        .collect()
}

fn bench_spikes(c: &mut Criterion) {
    let router = Router::beijing();
    let history = WorkloadBuilder::new(7)
        .per_day(20_000)
        .start(date(2024, 11, 18))
        .build(&router);
    let mut learned = SpikeDetector::new();
    for n in 0..14 {
        let tickets: Vec<Ticket> = history.day(n).filter_map(Generated::into_ticket).collect();
        for (d, at) in route(&router, &tickets) {
            learned.learn(&d, at);
        }
    }
    assert!(learned.stats().warm);
    let day = WorkloadBuilder::new(8)
        .start(date(2024, 12, 2))
        .build(&router);
    let tickets: Vec<Ticket> = day.day(0).filter_map(Generated::into_ticket).collect();
    let decisions = route(&router, &tickets);
    let codes: Vec<_> = decisions
        .iter()
        .map(|(d, at)| (*at, d.category().code(), d.district_code(), d.street_code()))
        .collect();
    let expected_alerts = {
        let mut d = learned.clone();
        codes
            .iter()
            .map(|&(at, k, dc, sc)| d.observe_codes(at, k, dc, sc).len())
            .sum::<usize>()
    };

    let mut g = c.benchmark_group("spikes");
    g.sample_size(20);
    g.throughput(Throughput::Elements(codes.len() as u64));
    g.bench_function("observe_codes", |b| {
        b.iter_batched(
            || learned.clone(),
            |mut d| {
                let mut alerts = 0;
                for &(at, k, dc, sc) in &codes {
                    alerts += d.observe_codes(at, k, dc, sc).len();
                }
                assert_eq!(alerts, expected_alerts);
                d
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("observe_decision", |b| {
        b.iter_batched(
            || learned.clone(),
            |mut d| {
                let mut alerts = 0;
                for (decision, at) in &decisions {
                    alerts += d.observe(decision, *at).len();
                }
                assert_eq!(alerts, expected_alerts);
                d
            },
            BatchSize::LargeInput,
        )
    });
    let routable: Vec<&Ticket> = tickets.iter().filter(|t| router.route(t).is_ok()).collect();
    assert_eq!(routable.len(), codes.len());
    g.bench_function("route (baseline)", |b| {
        b.iter(|| {
            routable
                .iter()
                .map(|t| black_box(router.route(t).map(|d| d.agency()).is_ok()))
                .filter(|&ok| ok)
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_spikes);
criterion_main!(benches);
