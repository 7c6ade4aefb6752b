//! The polygon index against two independent references: `geo`'s
//! point-in-polygon test and `Region::contains_naive`, on the real Beijing
//! district layer and on a synthetic layer with holes and multi-part regions.

use geo::Contains;
use hotline_router::locate::geojson::{parse_feature_collection, Untidy};
use hotline_router::locate::polygon_index::PolygonIndex;
use hotline_router::locate::region::{Polygon, Region};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BEIJING: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/beijing/districts.geojson"
));

/// A region with the references it is checked against.
struct Reference {
    region: Region,
    geo: geo::MultiPolygon<f64>,
    bbox: [f64; 4],
}

impl Reference {
    fn new(region: Region) -> Reference {
        let ring = |r: &[[f64; 2]]| {
            geo::LineString::from(r.iter().map(|v| (v[0], v[1])).collect::<Vec<_>>())
        };
        let geo = geo::MultiPolygon::new(
            region
                .polygons()
                .iter()
                .map(|p| {
                    geo::Polygon::new(
                        ring(p.exterior()),
                        p.holes().iter().map(|h| ring(h)).collect(),
                    )
                })
                .collect(),
        );
        let bbox = region.bbox();
        Reference { region, geo, bbox }
    }

    fn in_bbox(&self, x: f64, y: f64) -> bool {
        x >= self.bbox[0] && x <= self.bbox[2] && y >= self.bbox[1] && y <= self.bbox[3]
    }
}

fn naive(refs: &[Reference], x: f64, y: f64) -> Option<u32> {
    refs.iter()
        .position(|r| r.in_bbox(x, y) && r.region.contains_naive(x, y))
        .map(|i| i as u32)
}

fn geo_lowest(refs: &[Reference], x: f64, y: f64) -> Option<u32> {
    let c = geo::coord! { x: x, y: y };
    refs.iter()
        .position(|r| r.in_bbox(x, y) && r.geo.contains(&c))
        .map(|i| i as u32)
}

fn union_bbox(refs: &[Reference]) -> [f64; 4] {
    refs.iter().fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        |b, r| {
            [
                b[0].min(r.bbox[0]),
                b[1].min(r.bbox[1]),
                b[2].max(r.bbox[2]),
                b[3].max(r.bbox[3]),
            ]
        },
    )
}

/// Checks `n` seeded random points over the (slightly enlarged) union box:
/// the index must equal `contains_naive` everywhere and `geo` everywhere
/// (random points never land exactly on a boundary, where `geo` says "not
/// contained"). Returns how many points were inside some region.
fn check_random(index: &PolygonIndex, refs: &[Reference], n: usize, seed: u64) -> usize {
    let [x0, y0, x1, y1] = union_bbox(refs);
    let (mx, my) = ((x1 - x0) * 0.02, (y1 - y0) * 0.02);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut inside = 0;
    for _ in 0..n {
        let x = rng.gen_range(x0 - mx..x1 + mx);
        let y = rng.gen_range(y0 - my..y1 + my);
        let got = index.locate(x, y);
        assert_eq!(
            got,
            naive(refs, x, y),
            "index vs contains_naive at ({x:?}, {y:?})"
        );
        assert_eq!(
            got,
            geo_lowest(refs, x, y),
            "index vs geo at ({x:?}, {y:?})"
        );
        inside += usize::from(got.is_some());
    }
    inside
}

/// Every vertex and edge midpoint, and points on the horizontal and vertical
/// lines through them: the index must equal `contains_naive` exactly there.
fn check_boundaries(index: &PolygonIndex, refs: &[Reference], seed: u64) {
    let mut points = Vec::new();
    for r in refs {
        for ring in r.region.polygons().iter().flat_map(|p| p.rings()) {
            for (i, &a) in ring.iter().enumerate() {
                let b = ring[(i + 1) % ring.len()];
                points.push(a);
                points.push([(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]);
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let extra: Vec<[f64; 2]> = (0..points.len())
        .map(|_| {
            let p = points[rng.gen_range(0..points.len())];
            let q = points[rng.gen_range(0..points.len())];
            [p[0], q[1]]
        })
        .collect();
    for [x, y] in points.into_iter().chain(extra) {
        assert_eq!(index.locate(x, y), naive(refs, x, y), "({x:?}, {y:?})");
    }
}

fn beijing() -> (Vec<String>, Vec<String>, Vec<Reference>) {
    let set =
        parse_feature_collection(BEIJING, "districts.geojson", "code", "name", Untidy::Reject)
            .expect("the Beijing layer parses");
    assert!(set.skipped.is_empty());
    let codes = set.features.iter().map(|f| f.code.clone()).collect();
    let names = set.features.iter().map(|f| f.name.clone()).collect();
    let refs = set
        .features
        .into_iter()
        .map(|f| Reference::new(f.region))
        .collect();
    (codes, names, refs)
}

#[test]
fn beijing_agrees_with_geo_and_contains_naive() {
    let (codes, _, refs) = beijing();
    assert_eq!(refs.len(), 16);
    let regions: Vec<Region> = refs.iter().map(|r| r.region.clone()).collect();
    let index = PolygonIndex::bulk_load(&regions).expect("the Beijing index builds");
    assert_eq!(index.len(), 16);

    let inside = check_random(&index, &refs, 100_000, 12345);
    // Beijing fills roughly two thirds of its bounding box.
    assert!(inside > 40_000, "only {inside} points inside");
    check_boundaries(&index, &refs, 1);

    let code_at = |lon, lat| index.locate(lon, lat).map(|i| codes[i as usize].as_str());
    assert_eq!(code_at(116.3975, 39.9087), Some("110101"), "Tiananmen");
    assert_eq!(code_at(116.366, 39.912), Some("110102"), "Financial Street");
    assert_eq!(code_at(116.310, 39.985), Some("110108"), "Zhongguancun");
    assert_eq!(code_at(116.657, 39.909), Some("110112"), "Tongzhou");
    assert_eq!(code_at(115.975, 40.457), Some("110119"), "Yanqing");
    assert_eq!(code_at(121.47, 31.23), None, "Shanghai");
    assert_eq!(code_at(f64::NAN, 39.9), None);
}

#[test]
fn beijing_districts_do_not_overlap_at_random_points() {
    // Real layers can overlap a little; this one should not at all, which
    // is what makes "lowest id wins" irrelevant in practice.
    let (_, names, refs) = beijing();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let [x0, y0, x1, y1] = union_bbox(&refs);
    for _ in 0..20_000 {
        let (x, y) = (rng.gen_range(x0..x1), rng.gen_range(y0..y1));
        let hits: Vec<&str> = refs
            .iter()
            .zip(&names)
            .filter(|(r, _)| r.in_bbox(x, y) && r.region.contains_naive(x, y))
            .map(|(_, n)| n.as_str())
            .collect();
        assert!(hits.len() <= 1, "({x}, {y}) is in {hits:?}");
    }
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<[f64; 2]> {
    vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
}

fn polygon(exterior: Vec<[f64; 2]>, holes: Vec<Vec<[f64; 2]>>) -> Polygon {
    Polygon::new(exterior, holes, "synthetic").unwrap()
}

/// A layer around (116, 40) with: a region with two holes, one holding
/// another region and the other holding a part of a third, multi-part
/// region; a star-shaped region sharing edges with its neighbours; a thin
/// sliver; and overlapping regions (lowest id wins).
fn synthetic() -> Vec<Region> {
    let (cx, cy) = (116.0, 40.0);
    let star: Vec<[f64; 2]> = (0..40)
        .map(|i| {
            let t = std::f64::consts::TAU * f64::from(i) / 40.0;
            let r = if i % 2 == 0 { 0.3 } else { 0.12 };
            [cx + 0.9 + r * t.cos(), cy + 0.6 + r * t.sin()]
        })
        .collect();
    vec![
        // 0: a big square with two holes
        Region::new(
            vec![polygon(
                rect(cx - 1.0, cy - 1.0, cx + 1.0, cy + 1.0),
                vec![
                    rect(cx - 0.8, cy - 0.8, cx - 0.2, cy - 0.2),
                    rect(cx + 0.2, cy - 0.8, cx + 0.8, cy - 0.2),
                ],
            )],
            "0",
        )
        .unwrap(),
        // 1: fills the first hole exactly (shared edges)
        Region::from(polygon(
            rect(cx - 0.8, cy - 0.8, cx - 0.2, cy - 0.2),
            vec![],
        )),
        // 2: a part inside the second hole, a part outside everything, and a
        // part with its own hole that holds region 3
        Region::new(
            vec![
                polygon(rect(cx + 0.3, cy - 0.7, cx + 0.7, cy - 0.3), vec![]),
                polygon(
                    rect(cx + 1.5, cy - 0.5, cx + 2.5, cy + 0.5),
                    vec![rect(cx + 1.8, cy - 0.2, cx + 2.2, cy + 0.2)],
                ),
                polygon(
                    vec![[cx - 2.0, cy], [cx - 1.2, cy - 0.3], [cx - 1.2, cy + 0.3]],
                    vec![],
                ),
            ],
            "2",
        )
        .unwrap(),
        // 3: inside region 2's hole, touching it at the bottom
        Region::from(polygon(
            vec![
                [cx + 1.8, cy - 0.2],
                [cx + 2.2, cy - 0.2],
                [cx + 2.0, cy + 0.1],
            ],
            vec![],
        )),
        // 4: a star overlapping region 0 (0 wins there) and sticking out
        Region::from(polygon(star, vec![])),
        // 5: a thin sliver along region 0's right side
        Region::from(polygon(
            vec![
                [cx + 1.0, cy - 1.0],
                [cx + 1.0001, cy - 1.0],
                [cx + 1.0, cy + 1.0],
            ],
            vec![],
        )),
    ]
}

#[test]
fn synthetic_layer_agrees_with_geo_and_contains_naive() {
    let regions = synthetic();
    let refs: Vec<Reference> = regions.iter().cloned().map(Reference::new).collect();
    let index = PolygonIndex::bulk_load(&regions).unwrap();
    assert_eq!(index.len(), 6);
    let inside = check_random(&index, &refs, 100_000, 99);
    assert!(inside > 20_000, "only {inside} points inside");
    check_boundaries(&index, &refs, 2);

    let cases = [
        (116.0, 40.0, Some(0)),
        (115.5, 39.5, Some(1)),  // first hole, filled by 1
        (116.25, 39.25, None),   // second hole, outside 2's part
        (116.5, 39.5, Some(2)),  // 2's part in the second hole
        (118.0, 40.3, Some(2)),  // 2's part outside region 0
        (118.0, 40.15, None),    // in 2's hole, above 3
        (118.0, 39.85, Some(3)), // 3 inside 2's hole
        (118.0, 39.8, Some(3)),  // 3's bottom edge, shared with 2's hole
        (114.5, 40.0, Some(2)),  // the triangle part
        (116.9, 40.6, Some(0)),  // the star's centre: overlap, 0 wins
        (116.9, 41.05, None),    // above everything: the star is not that tall
        (117.15, 40.6, Some(4)), // the star's right point, outside region 0
        (117.00001, 39.5, Some(5)),
        (116.99999, 39.5, Some(0)),
    ];
    for (x, y, expected) in cases {
        assert_eq!(index.locate(x, y), expected, "({x}, {y})");
        assert_eq!(naive(&refs, x, y), expected, "naive ({x}, {y})");
    }
}

#[test]
#[ignore = "reads the 10 MB national layer from ../shared/data/china; run with --ignored"]
fn china_layer_skips_untidy_features_and_agrees() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/china/districts.geojson"
    );
    let Ok(json) = std::fs::read_to_string(path) else {
        eprintln!("skipping: {path} is not there");
        return;
    };
    let set = parse_feature_collection(&json, path, "gb", "name", Untidy::Skip).unwrap();
    assert_eq!(set.features.len(), 2891);
    let skipped: Vec<(usize, &str)> = set
        .skipped
        .iter()
        .map(|s| (s.index, s.name.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [368, 407, 851, 1771, 2235, 2299, 2512].map(|i| (i, "境界线"))
    );
    assert!(set.skipped.iter().all(|s| s.reason.contains("'gb'")));
    let err = parse_feature_collection(&json, path, "gb", "name", Untidy::Reject).unwrap_err();
    assert!(err.to_string().contains("feature 368 ('境界线')"), "{err}");

    let refs: Vec<Reference> = set
        .features
        .into_iter()
        .map(|f| Reference::new(f.region))
        .collect();
    let regions: Vec<Region> = refs.iter().map(|r| r.region.clone()).collect();
    let index = PolygonIndex::bulk_load(&regions).unwrap();
    let inside = check_random(&index, &refs, 20_000, 2898);
    assert!(inside > 4_000, "only {inside} points inside");
}
