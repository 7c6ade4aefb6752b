//! Property tests: on random tilings (rectilinear with T-junctions, or
//! jittered), with multi-part regions and holes filled by other regions, the
//! index agrees with `contains_naive` everywhere, and every point of the
//! tiled box is in exactly one region. On random overlapping, possibly
//! self-intersecting polygons snapped to a coarse grid, the index returns the
//! lowest region that `contains_naive` accepts.

use hotline_router::locate::polygon_index::PolygonIndex;
use hotline_router::locate::region::{Polygon, Region};
use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Dyadic steps keep rectilinear coordinates (and midpoints) exact.
const STEP: f64 = 1.0 / 64.0;
const X0: f64 = 116.0;
const Y0: f64 = 39.5;

#[derive(Debug)]
struct Tiling {
    regions: Vec<Region>,
    /// The tiled box `[x0, y0, x1, y1]`.
    bbox: [f64; 4],
}

/// `n + 1` sorted distinct grid coordinates starting at `origin`.
fn grid_lines(rng: &mut ChaCha8Rng, n: usize, origin: f64) -> Vec<f64> {
    let mut ks: Vec<u32> = (1..48).collect();
    ks.shuffle(rng);
    let mut ks: Vec<u32> = ks[..n].to_vec();
    ks.push(0);
    ks.sort_unstable();
    ks.into_iter()
        .map(|k| origin + f64::from(k) * STEP)
        .collect()
}

/// A rectangle's ring with extra vertices on its sides (T-junctions with
/// the neighbours, which do not have them), on exact dyadic positions.
fn rect_ring(rng: &mut ChaCha8Rng, x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<[f64; 2]> {
    let mut ring = Vec::new();
    let corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
    for side in 0..4 {
        let a = corners[side];
        let b = corners[(side + 1) % 4];
        ring.push(a);
        if rng.gen_bool(0.5) {
            let mut ts: Vec<f64> = (0..rng.gen_range(1..=2))
                .map(|_| f64::from(rng.gen_range(1..16u32)) / 16.0)
                .collect();
            ts.sort_by(f64::total_cmp);
            ts.dedup();
            for t in ts {
                ring.push([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]);
            }
        }
    }
    ring
}

fn tiling(cols: usize, rows: usize, labels: usize, jitter: bool, seed: u64) -> Tiling {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let xs = grid_lines(&mut rng, cols, X0);
    let ys = grid_lines(&mut rng, rows, Y0);
    // Parts per label: (exterior, holes).
    let mut parts: Vec<Vec<Polygon>> = vec![Vec::new(); labels];
    let mut add = |label: usize, exterior: Vec<[f64; 2]>, holes: Vec<Vec<[f64; 2]>>| {
        parts[label].push(Polygon::new(exterior, holes, "tile").expect("valid tile"));
    };
    // Jittered grid vertices; boundary vertices stay on the box's sides.
    let spacing = xs
        .windows(2)
        .chain(ys.windows(2))
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    let vertex = |rng: &mut ChaCha8Rng, i: usize, j: usize| -> [f64; 2] {
        let mut v = [xs[i], ys[j]];
        if jitter {
            if i != 0 && i != cols {
                v[0] += rng.gen_range(-0.2..0.2) * spacing;
            }
            if j != 0 && j != rows {
                v[1] += rng.gen_range(-0.2..0.2) * spacing;
            }
        }
        v
    };
    let grid: Vec<Vec<[f64; 2]>> = (0..=cols)
        .map(|i| (0..=rows).map(|j| vertex(&mut rng, i, j)).collect())
        .collect();
    for i in 0..cols {
        for j in 0..rows {
            let label = rng.gen_range(0..labels);
            let exterior = if jitter {
                vec![
                    grid[i][j],
                    grid[i + 1][j],
                    grid[i + 1][j + 1],
                    grid[i][j + 1],
                ]
            } else {
                rect_ring(&mut rng, xs[i], ys[j], xs[i + 1], ys[j + 1])
            };
            if rng.gen_bool(0.3) {
                // A hole, filled by a part of some (maybe the same) region.
                let hole = if jitter {
                    let c = exterior
                        .iter()
                        .fold([0.0, 0.0], |s, v| [s[0] + v[0] / 4.0, s[1] + v[1] / 4.0]);
                    let f = rng.gen_range(0.2..0.8);
                    exterior
                        .iter()
                        .map(|v| [c[0] + (v[0] - c[0]) * f, c[1] + (v[1] - c[1]) * f])
                        .collect()
                } else {
                    // Inside the cell or touching its sides, on the dyadic grid.
                    let along = |rng: &mut ChaCha8Rng, lo: f64, hi: f64| {
                        let a = rng.gen_range(0..8u32);
                        let b = rng.gen_range(a + 1..=8u32);
                        let t = |k: u32| lo + (hi - lo) * f64::from(k) / 8.0;
                        (t(a), t(b))
                    };
                    let (hx0, hx1) = along(&mut rng, xs[i], xs[i + 1]);
                    let (hy0, hy1) = along(&mut rng, ys[j], ys[j + 1]);
                    rect_ring(&mut rng, hx0, hy0, hx1, hy1)
                };
                let filler = rng.gen_range(0..labels);
                add(filler, hole.clone(), vec![]);
                add(label, exterior, vec![hole]);
            } else {
                add(label, exterior, vec![]);
            }
        }
    }
    let regions = parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| Region::new(p, "tile").unwrap())
        .collect();
    Tiling {
        regions,
        bbox: [xs[0], ys[0], xs[cols], ys[rows]],
    }
}

/// Mirrors how a grid splits `[lo, hi]` into `n` cells, so that probes hit
/// the index's cell boundaries exactly.
fn split(lo: f64, hi: f64, n: usize, i: usize) -> f64 {
    if i == n {
        return hi;
    }
    (lo + (hi - lo) * i as f64 / n as f64).clamp(lo, hi)
}

/// Adversarial probes: vertices, edge midpoints, the lines through them,
/// likely cell boundaries at two levels, neighbours one ulp away, and random
/// points in and around the box.
fn probes(regions: &[Region], bbox: [f64; 4], seed: u64) -> Vec<[f64; 2]> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut points = Vec::new();
    for region in regions {
        for ring in region.polygons().iter().flat_map(|p| p.rings()) {
            for (i, &a) in ring.iter().enumerate() {
                let b = ring[(i + 1) % ring.len()];
                points.push(a);
                points.push([(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]);
                points.push([next_up(a[0]), a[1]]);
                points.push([a[0], -next_up(-a[1])]);
            }
        }
    }
    let [x0, y0, x1, y1] = bbox;
    let mut xs: Vec<f64> = points.iter().map(|p| p[0]).collect();
    let mut ys: Vec<f64> = points.iter().map(|p| p[1]).collect();
    for _ in 0..200 {
        let n = rng.gen_range(1..=64);
        let c = rng.gen_range(0..n);
        let s = rng.gen_range(2..=16);
        let k = rng.gen_range(0..=s);
        xs.push(split(split(x0, x1, n, c), split(x0, x1, n, c + 1), s, k));
        xs.push(split(x0, x1, n, rng.gen_range(0..=n)));
        let n = rng.gen_range(1..=64);
        let c = rng.gen_range(0..n);
        ys.push(split(split(y0, y1, n, c), split(y0, y1, n, c + 1), s, k));
        ys.push(split(y0, y1, n, rng.gen_range(0..=n)));
    }
    for _ in 0..600 {
        points.push([
            xs[rng.gen_range(0..xs.len())],
            ys[rng.gen_range(0..ys.len())],
        ]);
        // A degenerate box (snapped vertices on one line) still needs a
        // non-empty range around it.
        let (w, h) = ((x1 - x0).max(1e-6), (y1 - y0).max(1e-6));
        points.push([
            rng.gen_range(x0 - 0.05 * w..x1 + 0.05 * w),
            rng.gen_range(y0 - 0.05 * h..y1 + 0.05 * h),
        ]);
    }
    points
}

/// `f64::next_up` needs Rust 1.86; the crate supports 1.80.
fn next_up(x: f64) -> f64 {
    match x {
        0.0 => f64::from_bits(1),
        x if x > 0.0 => f64::from_bits(x.to_bits() + 1),
        x => f64::from_bits(x.to_bits() - 1),
    }
}

fn naive(regions: &[Region], x: f64, y: f64) -> Option<u32> {
    regions
        .iter()
        .position(|r| r.contains_naive(x, y))
        .map(|i| i as u32)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn tilings_partition_the_box_and_the_index_agrees(
        cols in 1usize..7,
        rows in 1usize..7,
        labels in 1usize..7,
        jitter in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let t = tiling(cols, rows, labels, jitter, seed);
        let index = PolygonIndex::bulk_load(&t.regions).expect("a tiling builds");
        prop_assert_eq!(index.len(), t.regions.len());
        let [x0, y0, x1, y1] = t.bbox;
        for [x, y] in probes(&t.regions, t.bbox, seed ^ 1) {
            let count = t.regions.iter().filter(|r| r.contains_naive(x, y)).count();
            // The half-open rule gives the box's left and bottom sides to
            // the tiles and its right and top sides to the outside.
            let in_box = x >= x0 && x < x1 && y >= y0 && y < y1;
            prop_assert_eq!(count, usize::from(in_box), "({:?}, {:?}) is in {} regions", x, y, count);
            prop_assert_eq!(index.locate(x, y), naive(&t.regions, x, y), "({:?}, {:?})", x, y);
        }
    }

    #[test]
    fn overlapping_snapped_polygons_agree(
        n in 1usize..8,
        vertices in 3usize..12,
        snap in prop_oneof![Just(1.0 / 8.0), Just(1.0 / 1024.0), Just(0.0)],
        seed in any::<u64>(),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let snap_to = |v: f64| if snap > 0.0 { (v / snap).round() * snap } else { v };
        let mut regions = Vec::new();
        for _ in 0..n {
            let (cx, cy) = (X0 + rng.gen_range(0.0..1.0), Y0 + rng.gen_range(0.0..1.0));
            let ring: Vec<[f64; 2]> = (0..vertices)
                .map(|_| [snap_to(cx + rng.gen_range(-0.6..0.6)), snap_to(cy + rng.gen_range(-0.6..0.6))])
                .collect();
            // Snapping may collapse a ring; such rings are rejected, not
            // indexed.
            if let Ok(p) = Polygon::new(ring, vec![], "random") {
                regions.push(Region::from(p));
            }
        }
        let index = PolygonIndex::bulk_load(&regions).expect("few regions always build");
        let bbox = regions.iter().map(Region::bbox).fold(
            [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY],
            |b, r| [b[0].min(r[0]), b[1].min(r[1]), b[2].max(r[2]), b[3].max(r[3])],
        );
        if regions.is_empty() {
            prop_assert!(index.is_empty());
            prop_assert_eq!(index.locate(X0, Y0), None);
        } else {
            for [x, y] in probes(&regions, bbox, seed ^ 2) {
                prop_assert_eq!(index.locate(x, y), naive(&regions, x, y), "({:?}, {:?})", x, y);
            }
        }
    }
}
