use super::*;
use crate::error::BuildErrorKind;
use crate::locate::region::Polygon;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn poly(exterior: &[[f64; 2]], holes: &[&[[f64; 2]]]) -> Polygon {
    Polygon::new(
        exterior.to_vec(),
        holes.iter().map(|h| h.to_vec()).collect(),
        "test",
    )
    .unwrap()
}

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<[f64; 2]> {
    vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
}

fn region(parts: Vec<Polygon>) -> Region {
    Region::new(parts, "test").unwrap()
}

fn oracle(regions: &[Region], x: f64, y: f64) -> Option<u32> {
    regions
        .iter()
        .position(|r| r.contains_naive(x, y))
        .map(|i| i as u32)
}

/// Parameter sets that between them take every build path: the
/// default, one top-level cell split in two repeatedly, a fine grid with
/// no subdivision, and a single leaf.
fn param_sets() -> Vec<Params> {
    vec![
        Params::default(),
        Params {
            cells_per_edge: 1e-9,
            max_side: 1,
            leaf_edges: 0,
            max_sub_side: 2,
            max_depth: 7,
            max_bytes: None,
        },
        Params {
            cells_per_edge: 4.0,
            max_side: 64,
            leaf_edges: usize::MAX,
            max_sub_side: 2,
            max_depth: 0,
            max_bytes: None,
        },
        Params {
            cells_per_edge: 1e-9,
            max_side: 1,
            leaf_edges: usize::MAX,
            max_sub_side: 2,
            max_depth: 0,
            max_bytes: None,
        },
        Params {
            cells_per_edge: 0.3,
            max_side: 7,
            leaf_edges: 3,
            max_sub_side: 3,
            max_depth: 4,
            max_bytes: None,
        },
    ]
}

/// Every vertex, every edge midpoint, the grid lines through them, and
/// random points, plus exact cell boundaries of the built index.
fn probe_points(regions: &[Region], index: &PolygonIndex, seed: u64, n: usize) -> Vec<[f64; 2]> {
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    let mut points = Vec::new();
    for r in regions {
        for (a, b) in r.edges() {
            let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
            points.extend([a, mid]);
            xs.extend([a[0], mid[0]]);
            ys.extend([a[1], mid[1]]);
        }
    }
    xs.extend_from_slice(&index.bounds);
    ys.extend_from_slice(&index.bounds);
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    ys.sort_by(f64::total_cmp);
    ys.dedup();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pick = |v: &[f64], rng: &mut ChaCha8Rng| v[rng.gen_range(0..v.len())];
    for _ in 0..n {
        points.push([pick(&xs, &mut rng), pick(&ys, &mut rng)]);
    }
    let [x0, y0, x1, y1] = index.bbox;
    for _ in 0..n {
        let x = x0 - 0.1 + (x1 - x0 + 0.2) * rng.gen::<f64>();
        let y = y0 - 0.1 + (y1 - y0 + 0.2) * rng.gen::<f64>();
        points.push([x, y]);
        points.push([x, pick(&ys, &mut rng)]);
        points.push([pick(&xs, &mut rng), y]);
    }
    points
}

fn check_agreement(name: &str, regions: &[Region], n: usize) {
    for (p, params) in param_sets().into_iter().enumerate() {
        let index = PolygonIndex::bulk_load_with(regions, params)
            .unwrap_or_else(|e| panic!("{name} params {p}: {e}"));
        assert_eq!(index.len(), regions.len());
        for [x, y] in probe_points(regions, &index, p as u64, n) {
            assert_eq!(
                index.locate(x, y),
                oracle(regions, x, y),
                "{name} params {p}: ({x:?}, {y:?})"
            );
        }
    }
}

#[test]
fn squares_holes_and_islands() {
    let regions = vec![
        // 0: a square with two holes
        region(vec![poly(
            &square(0.0, 0.0, 10.0, 10.0),
            &[&square(1.0, 1.0, 4.0, 4.0), &square(6.0, 6.0, 9.0, 9.0)],
        )]),
        // 1: lies in 0's first hole, touching the hole's boundary
        region(vec![poly(&square(1.0, 1.0, 3.0, 4.0), &[])]),
        // 2: a multi-part region: in 0's second hole and outside 0
        region(vec![
            poly(&square(7.0, 7.0, 8.0, 8.0), &[]),
            poly(&[[10.0, 0.0], [12.0, 5.0], [10.0, 10.0]], &[]),
        ]),
        // 3: overlaps 0 and 2 (lower ids win where they overlap)
        region(vec![poly(
            &[[5.0, 5.0], [11.5, 5.0], [11.5, 7.5], [5.0, 7.5]],
            &[],
        )]),
    ];
    check_agreement("squares", &regions, 4000);
    let index = PolygonIndex::bulk_load(&regions).unwrap();
    let cases = [
        (0.5, 0.5, Some(0)),
        (2.0, 2.0, Some(1)),
        (3.5, 2.0, None), // in 0's hole, right of 1
        (3.0, 2.0, None), // on 1's right edge: belongs to the right side
        (7.5, 7.5, Some(2)),
        (6.5, 6.5, Some(3)), // in 0's hole, inside 3
        (5.5, 5.5, Some(0)), // overlap of 0 and 3
        (10.5, 5.0, Some(2)),
        (11.3, 6.0, Some(2)), // overlap of 2 and 3
        (11.4, 7.0, Some(3)),
        (12.0, 5.0, None), // the triangle's tip
        (-0.0, 0.0, Some(0)),
        (13.0, 5.0, None),
    ];
    for (x, y, expected) in cases {
        assert_eq!(index.locate(x, y), expected, "({x}, {y})");
        assert_eq!(oracle(&regions, x, y), expected, "oracle ({x}, {y})");
    }
}

#[test]
fn triangle_fan_and_shared_edges_partition() {
    // n triangles around a centre, tiling a polygon; irrational-looking
    // vertices so that the exact predicates matter.
    let n = 23;
    let c = [0.3, -0.7];
    let rim: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            let t = std::f64::consts::TAU * f64::from(i) / f64::from(n);
            [c[0] + t.cos() * 1.7, c[1] + t.sin() * 1.1]
        })
        .collect();
    let regions: Vec<Region> = (0..n as usize)
        .map(|i| region(vec![poly(&[c, rim[i], rim[(i + 1) % n as usize]], &[])]))
        .collect();
    check_agreement("fan", &regions, 4000);
    // Every point strictly inside the rim polygon, edges and the centre
    // included, is in exactly one triangle.
    let index = PolygonIndex::bulk_load(&regions).unwrap();
    let hull = Region::from(poly(&rim, &[]));
    for [x, y] in probe_points(&regions, &index, 99, 4000) {
        let count = regions.iter().filter(|r| r.contains_naive(x, y)).count();
        if hull.contains_naive(x, y) {
            assert_eq!(count, 1, "({x}, {y})");
        } else {
            assert!(count <= 1, "({x}, {y})");
        }
    }
}

#[test]
fn dense_ring_forces_subdivision() {
    // A wiggly ring with thousands of vertices concentrated on one side.
    let n = 1500;
    let ring: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            // Vertices crowd near t = 0, so some cells get hundreds.
            let t = std::f64::consts::TAU * (f64::from(i) / f64::from(n)).powi(4);
            let r =
                1.0 + 0.2 * (37.0 * t).sin() * (t / 2.0).sin().powi(8) + 0.05 * (900.0 * t).sin();
            [116.0 + r * t.cos(), 40.0 + r * t.sin()]
        })
        .collect();
    let regions = vec![
        region(vec![poly(&ring, &[&square(115.8, 39.8, 116.2, 40.2)])]),
        region(vec![poly(&square(115.9, 39.9, 116.1, 40.1), &[])]),
    ];
    check_agreement("dense", &regions, 300);
    let index = PolygonIndex::bulk_load(&regions).unwrap();
    let (grids, leaves, _, _) = index.stats();
    assert!(leaves > 10 && grids >= 3, "{grids} grids, {leaves} leaves");
}

#[test]
fn at_most_64_regions_meet() {
    let fan = |n: u32| -> Vec<Region> {
        let rim: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let t = std::f64::consts::TAU * f64::from(i) / f64::from(n);
                [t.cos(), t.sin()]
            })
            .collect();
        (0..n as usize)
            .map(|i| {
                region(vec![poly(
                    &[[0.0, 0.0], rim[i], rim[(i + 1) % n as usize]],
                    &[],
                )])
            })
            .collect()
    };
    let regions = fan(64);
    let index = PolygonIndex::bulk_load(&regions).unwrap();
    for [x, y] in probe_points(&regions, &index, 7, 2000) {
        assert_eq!(index.locate(x, y), oracle(&regions, x, y), "({x}, {y})");
    }
    let err = PolygonIndex::bulk_load(&fan(65)).unwrap_err();
    match err.kind() {
        BuildErrorKind::IndexLimit { reason } => {
            assert!(reason.starts_with("65 regions (ids 0, 1, 2"), "{reason}");
            assert!(reason.contains("at most 64"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn garbage_queries_and_empty_index() {
    let regions = vec![region(vec![poly(&square(0.0, 0.0, 1.0, 1.0), &[])])];
    let index = PolygonIndex::bulk_load(&regions).unwrap();
    for (x, y) in [
        (f64::NAN, 0.5),
        (0.5, f64::NAN),
        (f64::NAN, f64::NAN),
        (f64::INFINITY, 0.5),
        (f64::NEG_INFINITY, 0.5),
        (0.5, f64::INFINITY),
        (0.5, f64::NEG_INFINITY),
        (f64::MAX, f64::MIN),
        (-1e-300, 0.5),
        (1.0 + f64::EPSILON, 0.5),
    ] {
        assert_eq!(index.locate(x, y), None, "({x}, {y})");
    }
    assert_eq!(index.locate(0.0, 0.0), Some(0));
    assert_eq!(index.locate(-0.0, -0.0), Some(0));
    assert!(!index.is_empty() && index.heap_bytes() > 0);

    let empty = PolygonIndex::bulk_load(&[]).unwrap();
    assert!(empty.is_empty());
    assert_eq!(empty.len(), 0);
    assert_eq!(empty.locate(0.0, 0.0), None);
    assert_eq!(empty.locate(f64::NAN, 0.0), None);
}

#[test]
fn degenerate_extents() {
    // Zero-area rings: the union box is a line or has tiny extent.
    let flat = vec![region(vec![poly(
        &[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]],
        &[],
    )])];
    let upright = vec![region(vec![poly(
        &[[5.0, 0.0], [5.0, 1.0], [5.0, 3.0]],
        &[],
    )])];
    let tiny = vec![
        region(vec![poly(
            &[[1.0, 1.0], [1.0 + 4e-16, 1.0], [1.0, 1.0 + 4e-16]],
            &[],
        )]),
        region(vec![poly(
            &[
                [1.0 + 2e-16, 1.0],
                [1.0 + 4e-16, 1.0],
                [1.0 + 4e-16, 1.0 + 2e-16],
            ],
            &[],
        )]),
    ];
    check_agreement("flat", &flat, 1000);
    check_agreement("upright", &upright, 1000);
    check_agreement("tiny", &tiny, 1000);
    let index = PolygonIndex::bulk_load(&tiny).unwrap();
    assert_eq!(index.locate(1.0, 1.0), Some(0));
}

/// `f64::next_up` needs Rust 1.86; the crate supports 1.80.
fn next_up(x: f64) -> f64 {
    match x {
        0.0 => f64::from_bits(1),
        x if x > 0.0 => f64::from_bits(x.to_bits() + 1),
        x => f64::from_bits(x.to_bits() - 1),
    }
}

#[test]
fn slot_stays_in_closed_cell() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for _ in 0..200 {
        let lo = 116.0 + rng.gen::<f64>();
        let hi = lo + rng.gen::<f64>() * 1e-3;
        let n = rng.gen_range(1..40);
        let bounds = boundaries(lo, hi, n);
        assert!(bounds.windows(2).all(|w| w[0] <= w[1]));
        let exact = if hi > lo { n as f64 / (hi - lo) } else { 0.0 };
        // Rounding rarely makes the arithmetic guess wrong, so also try
        // scales that are off, to make sure the correction does its job.
        for scale in [exact, exact * 0.9, exact * 1.1, exact * 1.5, 0.0] {
            for &b in &bounds {
                for v in [b, next_up(b), -next_up(-b)] {
                    if v < lo || v > hi {
                        continue;
                    }
                    let i = slot(v, lo, scale, &bounds);
                    assert!(
                        bounds[i] <= v && v <= bounds[i + 1],
                        "{v} in cell {i} of {bounds:?}"
                    );
                }
            }
        }
    }
}
