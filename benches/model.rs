//! The trained classifier: training time on 10,000 messages of ~400
//! characters, prediction per message, and the whole route with the model
//! beside the keyword-only router on the generated Beijing mix.
//!
//! The 10,000 training messages are made from the crate's labelled corpus
//! (`data/corpus/`): same-label texts joined to ~400 characters, labelled
//! with their first-level domain (16 labels, as a provincial message board
//! files them) — and, for the default model's shape, with their category.

use std::collections::HashMap;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hotline_router::classify::model::{Model, Trainer};
use hotline_router::workload::{Generated, WorkloadBuilder};
use hotline_router::{Router, RouterConfig, Ticket};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The labelled corpus: (text, category).
fn corpus() -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/data/corpus"))
        .expect("data/corpus")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        for line in std::fs::read_to_string(&f).expect("a corpus file").lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                if let (Some(t), Some(l)) = (v["text"].as_str(), v["label"].as_str()) {
                    out.push((t.to_string(), l.to_string()));
                }
            }
        }
    }
    out
}

/// `n` messages of about `chars` characters: texts of one label joined.
fn long_messages(corpus: &[(String, String)], n: usize, chars: usize) -> Vec<(String, String)> {
    let mut by_label: HashMap<&str, Vec<&str>> = HashMap::new();
    for (t, l) in corpus {
        by_label.entry(l).or_default().push(t);
    }
    let mut labels: Vec<&str> = by_label.keys().copied().collect();
    labels.sort_unstable();
    let mut rng = ChaCha8Rng::seed_from_u64(400);
    (0..n)
        .map(|_| {
            let l = labels[rng.gen_range(0..labels.len())];
            let texts = &by_label[l];
            let mut s = String::new();
            while s.chars().count() < chars {
                s.push_str(texts[rng.gen_range(0..texts.len())]);
                s.push('。');
            }
            (s.chars().take(chars).collect(), l.to_string())
        })
        .collect()
}

fn bench_model(c: &mut Criterion) {
    let corpus = corpus();
    let router = Router::beijing();
    let domain_of = |code: &str| {
        router
            .category_id(code)
            .map(|id| router.category(id).domain().code().to_string())
            .unwrap_or_else(|| "other".to_string())
    };
    let by_category = long_messages(&corpus, 10_000, 400);
    let by_domain: Vec<(String, String)> = by_category
        .iter()
        .map(|(t, l)| (t.clone(), domain_of(l)))
        .collect();

    let mut g = c.benchmark_group("model");
    g.sample_size(10);
    g.throughput(Throughput::Elements(by_domain.len() as u64));
    g.bench_function("train/10k_x_400_chars/16_domains", |b| {
        b.iter(|| Trainer::new().train(black_box(&by_domain).iter().map(|(t, l)| (t, l))))
    });
    g.bench_function("train/10k_x_400_chars/categories", |b| {
        b.iter(|| Trainer::new().train(black_box(&by_category).iter().map(|(t, l)| (t, l))))
    });
    g.finish();

    let bytes = Model::beijing().to_bytes();
    let mut g = c.benchmark_group("load");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("default_model_from_bytes", |b| {
        b.iter(|| Model::from_bytes(black_box(&bytes)).map(|m| m.feature_count()))
    });
    g.finish();

    let domains = Trainer::new()
        .train(by_domain.iter().map(|(t, l)| (t, l)))
        .expect("trains");
    let probes: Vec<&str> = by_domain
        .iter()
        .take(1000)
        .map(|(t, _)| t.as_str())
        .collect();
    let mut g = c.benchmark_group("predict_400_chars");
    g.throughput(Throughput::Elements(probes.len() as u64));
    for (name, model) in [
        ("trained_16_domains", domains),
        ("default_beijing_model", Model::beijing()),
    ] {
        g.bench_with_input(BenchmarkId::new("model", name), &model, |b, m| {
            b.iter(|| {
                probes
                    .iter()
                    .map(|t| m.predict(black_box(t)).label())
                    .sum::<usize>()
            })
        });
    }
    g.finish();
}

/// The whole route on the generated mix: keywords alone (the baseline) and
/// keywords with the default model.
fn bench_route_with_model(c: &mut Criterion) {
    let with_model = Router::beijing();
    let keywords_only = Router::builder()
        .without_model()
        .build(RouterConfig::beijing())
        .expect("builds");
    let workload = WorkloadBuilder::new(7).per_day(20_000).build(&with_model);
    let tickets: Vec<Ticket> = workload.day(2).filter_map(Generated::into_ticket).collect();
    let mut g = c.benchmark_group("route_generated_mix");
    g.throughput(Throughput::Elements(tickets.len() as u64));
    for (name, router) in [("keywords_only", keywords_only), ("with_model", with_model)] {
        g.bench_with_input(BenchmarkId::new("router", name), &router, |b, r| {
            b.iter(|| {
                tickets
                    .iter()
                    .filter(|t| r.route(black_box(t)).is_ok())
                    .count()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_model, bench_route_with_model);
criterion_main!(benches);
