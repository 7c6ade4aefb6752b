//! Place keys: how an incident is found without scanning them all.
//!
//! Every key is a 64-bit hash of (kind, category, value), so one map holds
//! grid cells, building codes, buildings, compounds and communities of every
//! category without collisions between kinds. The grid is per category:
//! cells four radii wide, an incident filed in every cell its disk touches
//! (one to four), and a query reading the single cell its point is in —
//! one map lookup per category, whatever the radius.

use smallvec::SmallVec;

use super::config::CategoryRule;
use crate::CategoryId;

/// The kinds of place key.
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    Cell = 1,
    Code = 2,
    Building = 3,
    Compound = 4,
    Community = 5,
}

/// Degrees of latitude per metre (the meridian's mean).
const DEG_PER_M_LAT: f64 = 1.0 / 110_574.0;
/// Cells are four radii wide: a disk of one radius then lies in at most
/// 2 × 2 cells, and a point's own cell is among them.
const CELL_RADII: f64 = 4.0;
/// Cells are as wide in longitude as the radius needs at 55°N (China's
/// north); the 2 × 2 bound holds up to about 73°.
const COS_CELL_LAT: f64 = 0.573_576_436_351_046; // cos(55°)

/// The key of a place value of `kind` for `category`.
pub(super) fn key(kind: Kind, category: CategoryId, value: u64) -> u64 {
    combine(((kind as u64) << 56) ^ category.as_usize() as u64, value)
}

/// The key of grid cell `cell` for `category`.
pub(super) fn cell_key(category: CategoryId, (x, y): (i64, i64)) -> u64 {
    key(Kind::Cell, category, combine(x as u64, y as u64))
}

/// The cell a point is in, for a category of this radius.
pub(super) fn cell_of(radius_m: f64, p: (f64, f64)) -> (i64, i64) {
    let size = cell_size(radius_m);
    ((p.0 / size.0).floor() as i64, (p.1 / size.1).floor() as i64)
}

/// The cells a disk of the rule's radius around `p` touches.
pub(super) fn disk_cells(rule: &CategoryRule, p: (f64, f64)) -> SmallVec<[(i64, i64); 4]> {
    let size = cell_size(rule.radius_m);
    let dlat = rule.radius_m * DEG_PER_M_LAT;
    let dlon = dlat / p.1.to_radians().cos().max(0.05);
    let x0 = ((p.0 - dlon) / size.0).floor() as i64;
    let x1 = ((p.0 + dlon) / size.0).floor() as i64;
    let y0 = ((p.1 - dlat) / size.1).floor() as i64;
    let y1 = ((p.1 + dlat) / size.1).floor() as i64;
    let mut out = SmallVec::new();
    // 2 × 2 at most below ~73°; capped so that no latitude makes it grow.
    for x in x0..=x1.min(x0 + 1) {
        for y in y0..=y1.min(y0 + 1) {
            out.push((x, y));
        }
    }
    out
}

/// Cell width and height in degrees for a radius.
fn cell_size(radius_m: f64) -> (f64, f64) {
    let m = radius_m * CELL_RADII;
    (m * DEG_PER_M_LAT / COS_CELL_LAT, m * DEG_PER_M_LAT)
}

/// Distance in metres between two WGS-84 points (equirectangular: within a
/// fraction of a percent over a few kilometres).
pub(super) fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let lat = ((a.1 + b.1) / 2.0).to_radians();
    let dx = (a.0 - b.0) * lat.cos() * 111_320.0;
    let dy = (a.1 - b.1) * 110_574.0;
    (dx * dx + dy * dy).sqrt()
}

/// A string's 64-bit fingerprint (FNV-1a).
pub(super) fn fingerprint(s: &str) -> u64 {
    crate::fnv::fnv1a(s.as_bytes())
}

/// Two hashes combined into one that is never 0 (0 means "none").
pub(super) fn combine(a: u64, b: u64) -> u64 {
    mix(a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b).max(1)
}

/// MurmurHash3's 64-bit finaliser.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::config::Reach;

    const RULE: CategoryRule = CategoryRule {
        window: jiff::SignedDuration::from_hours(1),
        radius_m: 200.0,
        reach: Reach::Area,
        merge: true,
        words: 1.0,
    };

    #[test]
    fn any_point_within_the_radius_queries_a_cell_the_disk_is_in() {
        for k in 0..500 {
            let p = (73.5 + k as f64 * 0.1237, 18.0 + k as f64 * 0.0713);
            let cells = disk_cells(&RULE, p);
            assert!(cells.len() <= 4);
            for deg in (0..360).step_by(15) {
                let a = (deg as f64).to_radians();
                let (dx, dy) = (199.0 * a.cos(), 199.0 * a.sin());
                let q = (
                    p.0 + dx / (111_320.0 * p.1.to_radians().cos()),
                    p.1 + dy / 110_574.0,
                );
                assert!(metres(p, q) <= 200.0);
                assert!(cells.contains(&cell_of(RULE.radius_m, q)), "{p:?} {q:?}");
            }
        }
    }

    #[test]
    fn distances() {
        // 0.001° of latitude is about 110.6 m; of longitude at 39.9°N, 85.4 m.
        assert!((metres((116.4, 39.9), (116.4, 39.901)) - 110.574).abs() < 0.01);
        assert!((metres((116.4, 39.9), (116.401, 39.9)) - 85.4).abs() < 0.5);
    }

    #[test]
    fn keys_of_different_kinds_or_categories_differ() {
        let (a, b) = (CategoryId(1), CategoryId(2));
        assert_ne!(key(Kind::Compound, a, 7), key(Kind::Community, a, 7));
        assert_ne!(key(Kind::Compound, a, 7), key(Kind::Compound, b, 7));
        assert_ne!(cell_key(a, (0, 0)), 0);
    }
}
