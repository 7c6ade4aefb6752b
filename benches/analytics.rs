//! Criterion bench for what a live stream costs beside routing: per ticket,
//! the incident lookup (link or open, `IncidentIndex::observe`) plus the
//! spike update (`SpikeDetector::observe`), against routing the same
//! tickets — the baseline every ticket pays anyway, measured in the same
//! run.
//!
//! ```text
//! cargo bench --features full --bench analytics
//! ```
//!
//! The tickets are one generated December weekday (heating season: the
//! most incidents and the densest cells), routed once before timing. Each
//! iteration starts from a fresh incident index and a spike detector that
//! learned two weeks of history, so every iteration does the same work.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hotline_router::analytics::spikes::SpikeDetector;
use hotline_router::incident::{IncidentIndex, Sighting};
use hotline_router::workload::{Generated, WorkloadBuilder};
use hotline_router::{Router, Ticket};
use jiff::civil::date;

fn bench_stream(c: &mut Criterion) {
    let router = Router::beijing();
    let history = WorkloadBuilder::new(7)
        .per_day(20_000)
        .start(date(2024, 11, 18))
        .build(&router);
    let mut learned = SpikeDetector::new();
    for n in 0..14 {
        for t in history.day(n).filter_map(Generated::into_ticket) {
            if let (Ok(d), Some(at)) = (router.route(&t), t.received_at) {
                learned.learn(&d, at);
            }
        }
    }
    let day = WorkloadBuilder::new(8)
        .start(date(2024, 12, 3))
        .build(&router);
    let tickets: Vec<Ticket> = day
        .day(0)
        .filter_map(Generated::into_ticket)
        .filter(|t| router.route(t).is_ok() && t.received_at.is_some())
        .collect();
    let decisions: Vec<_> = tickets
        .iter()
        .map(|t| router.route(t).expect("routable"))
        .collect();

    let mut g = c.benchmark_group("stream");
    g.sample_size(10);
    g.throughput(Throughput::Elements(tickets.len() as u64));
    g.bench_function("route (baseline)", |b| {
        b.iter(|| {
            for t in &tickets {
                black_box(router.route(black_box(t)).is_ok());
            }
        })
    });
    g.bench_function("incident + spike", |b| {
        b.iter_batched(
            || (IncidentIndex::new(&router), learned.clone()),
            |(mut index, mut spikes)| {
                let mut joined = 0u32;
                for (t, d) in tickets.iter().zip(&decisions) {
                    let at = t.received_at.expect("filtered");
                    joined += u32::from(index.observe(&Sighting::new(t, d, at)).joined);
                    black_box(spikes.observe(d, at).len());
                }
                black_box(joined);
                (index, spikes)
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("incident only", |b| {
        b.iter_batched(
            || IncidentIndex::new(&router),
            |mut index| {
                for (t, d) in tickets.iter().zip(&decisions) {
                    let at = t.received_at.expect("filtered");
                    black_box(index.observe(&Sighting::new(t, d, at)).joined);
                }
                index
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_stream);
criterion_main!(benches);
