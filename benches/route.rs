//! Criterion benches for the routing core on the embedded Beijing data:
//! classify, locate by point, locate by address and the whole `route`, each
//! beside a naive baseline measured in the same run.
//!
//! ```text
//! cargo bench --features full --bench route
//! ```
//!
//! Inputs are a seeded mix of realistic tickets (fixed phrasings × real
//! community names × points over Beijing), so runs are comparable.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
mod common;

use common::PHRASES;
use hotline_router::workload::{Generated, WorkloadBuilder};
use hotline_router::{Router, RouterConfig, Ticket};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

struct Mix {
    tickets: Vec<Ticket>,
}

fn mix(n: usize, router: &Router) -> Mix {
    Mix {
        tickets: common::mix(router, n),
    }
}

/// What a Rust user writes first: a `str::contains` loop over every keyword.
/// Returns (best category index, its score), ties to the earlier category.
fn naive_scores(taxonomy: &hotline_router::TaxonomyConfig, text: &str) -> (usize, i32) {
    let mut best = (0i32, usize::MAX);
    for (i, c) in taxonomy.categories.iter().enumerate() {
        let score: i32 = c
            .keywords
            .iter()
            .filter(|(k, _)| text.contains(k.as_str()))
            .map(|(_, w)| *w)
            .sum();
        if score > best.0 {
            best = (score, i);
        }
    }
    (best.1, best.0)
}

fn bench_classify(c: &mut Criterion) {
    let router = Router::beijing();
    let taxonomy = RouterConfig::beijing().taxonomy;
    let mut g = c.benchmark_group("classify");
    g.throughput(Throughput::Elements(PHRASES.len() as u64));
    let other = router.category_id("other").unwrap();
    let classified = PHRASES
        .iter()
        .filter(|p| router.classifier().classify(p).primary() != other)
        .count();
    assert_eq!(
        classified,
        PHRASES.len(),
        "every bench phrase has a category"
    );
    // Identical answers: the same primary category with the same score.
    for p in PHRASES {
        let c = router.classifier().classify(p);
        assert_eq!(
            naive_scores(&taxonomy, p),
            (c.primary().as_usize(), c.score()),
            "{p}"
        );
    }
    g.bench_function("automaton", |b| {
        b.iter(|| {
            PHRASES
                .iter()
                .map(|p| {
                    router
                        .classifier()
                        .classify(black_box(p))
                        .primary()
                        .as_usize()
                })
                .sum::<usize>()
        })
    });
    g.bench_function("naive_contains_loop", |b| {
        b.iter(|| {
            PHRASES
                .iter()
                .map(|p| naive_scores(&taxonomy, black_box(p)).0)
                .sum::<usize>()
        })
    });
    g.finish();
}

fn bench_locate_point(c: &mut Criterion) {
    let router = Router::beijing();
    let config = RouterConfig::beijing();
    let regions: Vec<_> = config
        .jurisdictions
        .districts
        .iter()
        .map(|d| d.region.clone().unwrap())
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let points: Vec<(f64, f64)> = (0..4096)
        .map(|_| (rng.gen_range(115.4..117.6), rng.gen_range(39.4..41.1)))
        .collect();
    let naive = |&(x, y): &(f64, f64)| regions.iter().position(|r| r.contains_naive(x, y));
    let hits = points.iter().filter(|p| naive(p).is_some()).count();
    let index_hits = points
        .iter()
        .filter(|&&(x, y)| router.locator().district_at(x, y).is_some())
        .count();
    assert_eq!(hits, index_hits, "index and naive scan agree");
    let mut g = c.benchmark_group("locate_point");
    g.throughput(Throughput::Elements(points.len() as u64));
    g.bench_function("grid_index", |b| {
        b.iter(|| {
            points
                .iter()
                .filter(|&&(x, y)| router.locator().district_at(black_box(x), y).is_some())
                .count()
        })
    });
    g.bench_function("naive_scan", |b| {
        b.iter(|| {
            points
                .iter()
                .filter(|p| naive(black_box(p)).is_some())
                .count()
        })
    });
    g.finish();
}

fn bench_locate_address(c: &mut Criterion) {
    let router = Router::beijing();
    let tickets: Vec<Ticket> = mix(2048, &router)
        .tickets
        .into_iter()
        .filter(|t| t.address.is_some())
        .map(|mut t| {
            t.coordinates = None;
            t
        })
        .collect();
    let located = tickets
        .iter()
        .filter(|t| router.locator().locate(t).street().is_some())
        .count();
    assert!(
        located * 10 > tickets.len() * 9,
        "most full addresses resolve to a street"
    );
    let mut g = c.benchmark_group("locate_address");
    g.throughput(Throughput::Elements(tickets.len() as u64));
    g.bench_function("gazetteer", |b| {
        b.iter(|| {
            tickets
                .iter()
                .filter(|t| router.locator().locate(black_box(t)).street().is_some())
                .count()
        })
    });
    g.finish();
}

fn bench_route(c: &mut Criterion) {
    let router = Router::beijing();
    let single = Ticket::new("S1", PHRASES[0]).with_address("朝阳区呼家楼街道东大桥社区3号楼");
    assert_eq!(
        router.route(&single).unwrap().agency_code(),
        "district:110105:city_mgmt"
    );
    let mut g = c.benchmark_group("route");
    g.throughput(Throughput::Elements(1));
    g.bench_function("single_50_chars", |b| {
        b.iter(|| router.route(black_box(&single)).map(|d| d.agency()))
    });
    let mix = mix(4096, &router);
    let routed = mix
        .tickets
        .iter()
        .filter(|t| router.route(t).is_ok())
        .count();
    assert_eq!(routed, mix.tickets.len(), "every generated ticket routes");
    g.throughput(Throughput::Elements(mix.tickets.len() as u64));
    g.bench_with_input(
        BenchmarkId::new("mix", mix.tickets.len()),
        &mix,
        |b, mix| {
            b.iter(|| {
                mix.tickets
                    .iter()
                    .filter_map(|t| router.route(black_box(t)).ok())
                    .map(|d| d.agency().as_usize())
                    .sum::<usize>()
            })
        },
    );
    g.finish();
}

/// Day 2 of the generated Beijing mix (20,000 a day, seed 7) and how many
/// of its tickets `router` routes; at least 95% must.
fn generated_day(router: &Router) -> (Vec<Ticket>, usize) {
    let workload = WorkloadBuilder::new(7).per_day(20_000).build(router);
    let tickets: Vec<Ticket> = workload.day(2).filter_map(Generated::into_ticket).collect();
    let routed = tickets.iter().filter(|t| router.route(t).is_ok()).count();
    assert!(
        routed * 100 >= tickets.len() * 95,
        "the generated mix routes"
    );
    (tickets, routed)
}

/// `tickets` routed as a batch on 1 and 2 threads (rayon), each iteration
/// checking that `routed` of them route.
fn bench_batches(
    g: &mut BenchmarkGroup<'_, WallTime>,
    router: &Router,
    tickets: &[Ticket],
    routed: usize,
) {
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        g.bench_with_input(BenchmarkId::new("batch", threads), &threads, |b, _| {
            b.iter(|| {
                let n = pool.install(|| {
                    tickets
                        .par_iter()
                        .filter(|t| router.route(black_box(t)).is_ok())
                        .count()
                });
                assert_eq!(n, routed);
                n
            })
        });
    }
}

/// The generated Beijing mix (`workload`: coordinates in three systems,
/// addresses, foreign and unroutable tickets), one ticket at a time and as
/// a batch on 1 and 2 threads.
fn bench_generated(c: &mut Criterion) {
    let router = Router::beijing();
    let (tickets, routed) = generated_day(&router);
    let mut g = c.benchmark_group("generated");
    g.throughput(Throughput::Elements(tickets.len() as u64));
    bench_batches(&mut g, &router, &tickets, routed);
    g.finish();
}

/// The target of issue 11: the generated mix routed with the keyword
/// classifier alone, one ticket at a time on 1 and 2 threads. Beside it, in
/// the same run, the keyword classification of the same texts alone: a
/// floor every route pays (normalising and one automaton pass), so the gap
/// between the two is what locating, rules and deadlines cost.
fn bench_generated_keywords(c: &mut Criterion) {
    let router = Router::builder()
        .without_model()
        .build(RouterConfig::beijing())
        .expect("the Beijing configuration builds");
    let (tickets, routed) = generated_day(&router);
    let mut g = c.benchmark_group("generated_keywords");
    g.throughput(Throughput::Elements(tickets.len() as u64));
    g.bench_function("classify_only_baseline", |b| {
        b.iter(|| {
            tickets
                .iter()
                .map(|t| {
                    router
                        .classifier()
                        .classify(black_box(&t.text))
                        .primary()
                        .as_usize()
                })
                .sum::<usize>()
        })
    });
    bench_batches(&mut g, &router, &tickets, routed);
    g.finish();
}

/// Issue 11's "per-line cost beyond routing" for `hotline route`: the same
/// generated lines, keywords alone, in one run: routing the parsed tickets
/// only; parsing the lines only; route plus the owned `DecisionRecord` and
/// its serialization (the former per-line path); and `jsonl::route_lines`,
/// the whole of what `hotline route` does per line (parse, route, write the
/// decision) into a sink.
fn bench_jsonl(c: &mut Criterion) {
    let router = Router::builder()
        .without_model()
        .build(RouterConfig::beijing())
        .expect("the Beijing configuration builds");
    let workload = WorkloadBuilder::new(7).per_day(20_000).build(&router);
    let tickets: Vec<Ticket> = workload.day(2).filter_map(Generated::into_ticket).collect();
    let input: String = tickets
        .iter()
        .map(|t| serde_json::to_string(t).expect("a ticket serializes") + "\n")
        .collect();
    let routed = tickets.iter().filter(|t| router.route(t).is_ok()).count() as u64;
    let mut g = c.benchmark_group("jsonl_keywords");
    g.throughput(Throughput::Elements(tickets.len() as u64));
    g.bench_function("route_only", |b| {
        b.iter(|| {
            tickets
                .iter()
                .filter(|t| router.route(black_box(t)).is_ok())
                .count()
        })
    });
    g.bench_function("parse_only", |b| {
        b.iter(|| {
            input
                .lines()
                .filter(|l| serde_json::from_str::<Ticket>(black_box(l)).is_ok())
                .count()
        })
    });
    g.bench_function("route_to_record_serialize", |b| {
        let mut out = Vec::with_capacity(1 << 16);
        b.iter(|| {
            out.clear();
            for t in &tickets {
                if let Ok(d) = router.route(black_box(t)) {
                    serde_json::to_writer(&mut out, &d.to_record(&t.id)).expect("serializes");
                    out.push(b'\n');
                }
            }
            out.len()
        })
    });
    g.bench_function("route_lines", |b| {
        b.iter(|| {
            let summary = hotline_router::jsonl::route_lines(
                &router,
                black_box(input.as_bytes()),
                std::io::sink(),
            )
            .expect("a sink does not fail");
            assert_eq!(summary.routed, routed);
            summary.routed
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_generated_keywords,
    bench_jsonl,
    bench_classify,
    bench_locate_point,
    bench_locate_address,
    bench_route,
    bench_generated
);
criterion_main!(benches);
