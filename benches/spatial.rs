//! Point-in-polygon at city and national scale, beside what a Rust user
//! writes first: an `rstar` R-tree of bounding boxes, then `geo`'s exact
//! `Contains` on the candidates. Both answer the same seeded points, and the
//! bench asserts they agree before it measures.
//!
//! ```text
//! cargo bench --features full --bench spatial
//! ```
//!
//! The national layer (2,898 districts, 426k vertices) is read from
//! `../shared/data/china/districts.geojson` and never copied into the crate;
//! without it the national benches are skipped with a message. The Beijing
//! layer is the embedded one.

use std::hint::black_box;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use geo::{Contains, Coord, LineString, MultiPolygon, Point, Polygon as GeoPolygon};
use hotline_router::locate::geojson::{parse_feature_collection, Untidy};
use hotline_router::locate::polygon_index::PolygonIndex;
use hotline_router::locate::region::Region;
use hotline_router::workload::{Generated, WorkloadBuilder};
use hotline_router::{JurisdictionsConfig, Router, RouterConfig, Ticket};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

const NATIONAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/china/districts.geojson"
);

/// The baseline: bounding boxes in an R-tree, exact test with geo.
struct GeoRstar {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    shapes: Vec<MultiPolygon<f64>>,
}

impl GeoRstar {
    fn new(regions: &[Region]) -> GeoRstar {
        let ring = |r: &[[f64; 2]]| {
            LineString::from(
                r.iter()
                    .map(|p| Coord { x: p[0], y: p[1] })
                    .collect::<Vec<_>>(),
            )
        };
        let shapes: Vec<MultiPolygon<f64>> = regions
            .iter()
            .map(|r| {
                MultiPolygon::new(
                    r.polygons()
                        .iter()
                        .map(|p| {
                            GeoPolygon::new(
                                ring(p.exterior()),
                                p.holes().iter().map(|h| ring(h)).collect(),
                            )
                        })
                        .collect(),
                )
            })
            .collect();
        let boxes = regions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let b = r.bbox();
                GeomWithData::new(Rectangle::from_corners([b[0], b[1]], [b[2], b[3]]), i)
            })
            .collect();
        GeoRstar {
            tree: RTree::bulk_load(boxes),
            shapes,
        }
    }

    /// The lowest region containing the point, as the index answers.
    fn locate(&self, x: f64, y: f64) -> Option<u32> {
        let p = Point::new(x, y);
        self.tree
            .locate_in_envelope_intersecting(&AABB::from_point([x, y]))
            .filter(|c| self.shapes[c.data].contains(&p))
            .map(|c| c.data as u32)
            .min()
    }
}

/// Seeded points: half uniform over the layer's bounding box, half near the
/// regions' own vertices (inside and on both sides of boundaries).
fn points(regions: &[Region], n: usize) -> Vec<(f64, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(2898);
    let bbox =
        regions
            .iter()
            .map(Region::bbox)
            .fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            });
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                (
                    rng.gen_range(bbox[0]..bbox[2]),
                    rng.gen_range(bbox[1]..bbox[3]),
                )
            } else {
                let r = &regions[rng.gen_range(0..regions.len())];
                let ring = r.rings().next().expect("a region has a ring");
                let v = ring[rng.gen_range(0..ring.len())];
                (
                    v[0] + rng.gen_range(-0.05..0.05),
                    v[1] + rng.gen_range(-0.05..0.05),
                )
            }
        })
        .collect()
}

fn compare(c: &mut Criterion, layer: &str, regions: &[Region]) {
    let index = PolygonIndex::bulk_load(regions).expect("the layer builds");
    let baseline = GeoRstar::new(regions);
    let pts = points(regions, 4096);
    // Identical answers on every bench point (geo's contains excludes the
    // boundary itself; random points do not land on it).
    let mut hits = 0;
    for &(x, y) in &pts {
        let a = index.locate(x, y);
        assert_eq!(
            a,
            baseline.locate(x, y),
            "{layer}: disagreement at ({x}, {y})"
        );
        hits += usize::from(a.is_some());
    }
    eprintln!(
        "{layer}: {} regions, index {:.1} MiB, {hits} of {} bench points inside a region",
        regions.len(),
        index.heap_bytes() as f64 / (1024.0 * 1024.0),
        pts.len()
    );
    let mut g = c.benchmark_group(format!("{layer}/locate"));
    g.throughput(Throughput::Elements(pts.len() as u64));
    g.bench_function("grid_index", |b| {
        b.iter(|| {
            pts.iter()
                .filter(|&&(x, y)| index.locate(black_box(x), y).is_some())
                .count()
        })
    });
    g.bench_function("geo_rstar", |b| {
        b.iter(|| {
            pts.iter()
                .filter(|&&(x, y)| baseline.locate(black_box(x), y).is_some())
                .count()
        })
    });
    g.finish();

    let mut g = c.benchmark_group(format!("{layer}/build"));
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.bench_with_input(
        BenchmarkId::new("grid_index", regions.len()),
        regions,
        |b, r| b.iter(|| PolygonIndex::bulk_load(r).map(|i| i.len())),
    );
    g.finish();
}

fn beijing(c: &mut Criterion) {
    let regions: Vec<Region> = RouterConfig::beijing()
        .jurisdictions
        .districts
        .into_iter()
        .filter_map(|d| d.region)
        .collect();
    compare(c, "beijing", &regions);
}

fn national(c: &mut Criterion) {
    let Ok(json) = std::fs::read_to_string(NATIONAL) else {
        eprintln!("skipping the national benches: {NATIONAL} is not there");
        return;
    };
    let set = parse_feature_collection(&json, NATIONAL, "gb", "name", Untidy::Skip)
        .expect("the national layer parses");
    eprintln!(
        "national: {} districts loaded, {} untidy features skipped ({})",
        set.features.len(),
        set.skipped.len(),
        set.skipped
            .iter()
            .map(|s| format!("#{} '{}'", s.index, s.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let regions: Vec<Region> = set.features.iter().map(|f| f.region.clone()).collect();
    compare(c, "national", &regions);

    // Whole routes over the national layer: the generated Beijing mix, with
    // districts from the national polygons (and names).
    let (jurisdictions, _) =
        JurisdictionsConfig::from_geojson(&json, NATIONAL, "gb", "name", Untidy::Skip)
            .expect("the national layer parses");
    let mut config = RouterConfig::beijing();
    config.jurisdictions = jurisdictions;
    config.routing.rules.clear(); // they name Beijing streets
    let started = std::time::Instant::now();
    let router = Router::from_config(config).expect("the national router builds");
    eprintln!(
        "national: router built in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let beijing = Router::beijing();
    let tickets: Vec<Ticket> = WorkloadBuilder::new(7)
        .per_day(4_096)
        .build(&beijing)
        .day(2)
        .filter_map(Generated::into_ticket)
        .collect();
    let routed = tickets.iter().filter(|t| router.route(t).is_ok()).count();
    let mut g = c.benchmark_group("national/route");
    g.throughput(Throughput::Elements(tickets.len() as u64));
    g.bench_function("generated_mix", |b| {
        b.iter(|| {
            let n = tickets
                .iter()
                .filter(|t| router.route(black_box(t)).is_ok())
                .count();
            assert_eq!(n, routed);
            n
        })
    });
    g.finish();
}

criterion_group!(benches, beijing, national);
criterion_main!(benches);
