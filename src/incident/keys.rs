//! Place keys: how an incident is found without scanning them all.
//!
//! Every key is a 64-bit hash of (kind, value): a grid cell, a compound (its
//! name within its district) or a building code. A key's bucket lists the
//! open incidents filed under it with their categories inline, so a ticket
//! reads one bucket per key it has and touches only the incidents whose
//! category matches — whatever the number of related categories.
//!
//! The grid has one layer per radius class (radii up to 100 m, 200 m,
//! 400 m, … — cells twice the class's radius wide): an incident is filed in
//! every cell of its class that its category's disk touches (one to four),
//! and a ticket reads the single cell its point is in, in each class its
//! category or a related one uses. Any incident within its radius of the
//! point has its disk over that point, so it is in that cell; and small
//! radii keep small cells, so a cell lists few incidents.

use smallvec::SmallVec;

/// The kinds of place key.
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    Cell = 1,
    Code = 2,
    Compound = 3,
}

/// Degrees of latitude per metre (the meridian's mean).
const DEG_PER_M_LAT: f64 = 1.0 / 110_574.0;
/// Cells are as wide in longitude as they need to be at 55°N (China's
/// north); further north a disk may span more cells than are filed, from
/// about 73°.
const COS_CELL_LAT: f64 = 0.573_576_436_351_046; // cos(55°)

/// The key of a place value of `kind`.
pub(super) fn key(kind: Kind, value: u64) -> u64 {
    combine(kind as u64, value)
}

/// The key of grid cell `cell` of radius class `class`.
pub(super) fn cell_key(class: u8, (x, y): (i64, i64)) -> u64 {
    key(
        Kind::Cell,
        combine(combine(u64::from(class), x as u64), y as u64),
    )
}

/// The radius class of a radius: the smallest `k` with 100 m × 2^k ≥ it.
pub(super) fn class_of(radius_m: f64) -> u8 {
    let mut k = 0;
    while 100.0 * f64::from(1u32 << k) < radius_m && k < 30 {
        k += 1;
    }
    k
}

/// The cell width of a radius class: twice its largest radius.
pub(super) fn cell_m(class: u8) -> f64 {
    200.0 * f64::from(1u32 << class.min(30))
}

/// The cell of a point, for a grid of `cell_m`-metre cells.
pub(super) fn cell_of(cell_m: f64, p: (f64, f64)) -> (i64, i64) {
    let size = cell_size(cell_m);
    ((p.0 / size.0).floor() as i64, (p.1 / size.1).floor() as i64)
}

/// The cells of a grid of `cell_m`-metre cells that a disk of `radius_m`
/// around `p` touches: at most 2 × 2 while the radius is at most half a
/// cell.
pub(super) fn disk_cells(cell_m: f64, radius_m: f64, p: (f64, f64)) -> SmallVec<[(i64, i64); 4]> {
    let size = cell_size(cell_m);
    let dlat = radius_m * DEG_PER_M_LAT;
    let dlon = dlat / p.1.to_radians().cos().max(0.05);
    let x0 = ((p.0 - dlon) / size.0).floor() as i64;
    let x1 = ((p.0 + dlon) / size.0).floor() as i64;
    let y0 = ((p.1 - dlat) / size.1).floor() as i64;
    let y1 = ((p.1 + dlat) / size.1).floor() as i64;
    let mut out = SmallVec::new();
    for x in x0..=x1.min(x0 + 1) {
        for y in y0..=y1.min(y0 + 1) {
            out.push((x, y));
        }
    }
    out
}

/// Cell width and height in degrees.
fn cell_size(cell_m: f64) -> (f64, f64) {
    (
        cell_m * DEG_PER_M_LAT / COS_CELL_LAT,
        cell_m * DEG_PER_M_LAT,
    )
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
    crate::hash::fnv1a(s.as_bytes())
}

/// Two hashes combined into one that is never 0 (0 means "none").
pub(super) fn combine(a: u64, b: u64) -> u64 {
    crate::hash::mix(a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_point_within_the_radius_reads_a_cell_the_disk_is_in() {
        for radius in [100.0, 200.0, 500.0] {
            let cell_m = 1000.0;
            for k in 0..500 {
                let p = (73.5 + k as f64 * 0.1237, 18.0 + k as f64 * 0.0713);
                let cells = disk_cells(cell_m, radius, p);
                assert!(cells.len() <= 4);
                for deg in (0..360).step_by(15) {
                    let a = (deg as f64).to_radians();
                    let (dx, dy) = (0.999 * radius * a.cos(), 0.999 * radius * a.sin());
                    let q = (
                        p.0 + dx / (111_320.0 * p.1.to_radians().cos()),
                        p.1 + dy / 110_574.0,
                    );
                    assert!(metres(p, q) <= radius);
                    assert!(cells.contains(&cell_of(cell_m, q)), "{p:?} {q:?}");
                }
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
    fn keys_of_different_kinds_differ() {
        assert_ne!(key(Kind::Compound, 7), key(Kind::Code, 7));
        assert_ne!(cell_key(0, (0, 0)), 0);
        assert_ne!(cell_key(0, (0, 1)), cell_key(0, (1, 0)));
        assert_ne!(cell_key(0, (1, 1)), cell_key(1, (1, 1)));
    }

    #[test]
    fn radius_classes() {
        assert_eq!((class_of(1.0), class_of(100.0), class_of(101.0)), (0, 0, 1));
        assert_eq!(
            (class_of(400.0), class_of(500.0), class_of(5000.0)),
            (2, 3, 6)
        );
        for r in [1.0, 99.0, 150.0, 500.0, 5000.0] {
            assert!(cell_m(class_of(r)) >= 2.0 * r);
        }
    }
}
