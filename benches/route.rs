//! Criterion benches for the routing core on the embedded Beijing data:
//! classify, locate by point, locate by address and the whole `route`, each
//! beside a naive baseline measured in the same run.
//!
//! ```text
//! cargo bench --bench route
//! ```
//!
//! Inputs are a seeded mix of realistic tickets (fixed phrasings × real
//! community names × points over Beijing), so runs are comparable.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hotline_router::{Crs, Router, RouterConfig, Ticket};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Realistic ticket bodies, ~30–60 characters, across categories.
const PHRASES: &[&str] = &[
    "家里暖气片一直不热，屋里才十五度，老人孩子受不了，希望尽快派人来看看",
    "楼上邻居每天晚上十二点还在装修，电钻声音太吵了，根本睡不着觉",
    "小区门口的垃圾好几天没人清理了，味道很大，夏天还招苍蝇",
    "有辆车堵在单元门口一上午了，打电话也不接，麻烦帮忙联系挪车",
    "我们楼的电梯又坏了，一个星期了物业也不修，老人上下楼很困难",
    "小区什么时候开始老旧小区改造，说了两年了还没有动静，想问问进度",
    "楼道里一股很重的煤气味，怀疑燃气泄漏了，请马上派人来处理",
    "公司拖欠我们三个月工资了，老板一直躲着不见人，想讨薪",
    "楼下饭店的油烟直接排到我家窗户上，窗户都不敢开，太呛人了",
    "小区里新装的充电桩坏了好几个，充不上电，物业说不归他们管",
    "孩子明年上小学，想咨询一下我们这个片区划片到哪个学校",
    "家里突然停水了，也没有提前通知，什么时候能恢复供水",
    "附近公交站撤了以后，老人去医院要多走两公里，希望恢复这个站",
    "社区养老驿站的老年餐太贵了，而且经常吃不上，希望改进",
    "小区绿地被人私自圈起来种菜，还有人私搭乱建了一个棚子",
    "在超市买的预付卡，店铺突然关门跑路了，钱退不回来",
];

struct Mix {
    tickets: Vec<Ticket>,
}

fn mix(n: usize, router: &Router) -> Mix {
    let mut rng = ChaCha8Rng::seed_from_u64(12345);
    let j = router.jurisdictions();
    let communities: Vec<_> = j.communities().map(|(_, c)| c.clone()).collect();
    let tickets = (0..n)
        .map(|i| {
            let text = PHRASES[rng.gen_range(0..PHRASES.len())];
            let mut t = Ticket::new(format!("B{i}"), text);
            // 60% coordinates, 40% address only, some both: the brief's mix.
            let roll: f64 = rng.gen();
            if roll < 0.6 {
                let crs = [Crs::Wgs84, Crs::Gcj02, Crs::Bd09][rng.gen_range(0..3)];
                t = t.with_coordinates(rng.gen_range(115.5..117.4), rng.gen_range(39.5..41.0), crs);
            }
            if roll >= 0.4 {
                let c = &communities[rng.gen_range(0..communities.len())];
                let s = j.street(c.street());
                let d = j.district(s.district());
                t = t.with_address(format!("{}{}{}3号楼", d.name(), s.name(), c.name()));
            }
            t
        })
        .collect();
    Mix { tickets }
}

fn naive_scores(taxonomy: &hotline_router::TaxonomyConfig, text: &str) -> usize {
    // What a Rust user writes first: a str::contains loop over every keyword.
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
    best.1
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
                .map(|p| naive_scores(&taxonomy, black_box(p)))
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

criterion_group!(
    benches,
    bench_classify,
    bench_locate_point,
    bench_locate_address,
    bench_route
);
criterion_main!(benches);
