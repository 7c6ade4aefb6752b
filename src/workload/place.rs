//! Where tickets are: points drawn inside a district's area, on a grid
//! recorded from the router's own locator, and short community names.

use super::Workload;
use crate::locate::crs::{gcj02_to_bd09, wgs84_to_gcj02};
use crate::rng::SplitMix64;
use crate::{Crs, DistrictId};

/// A point in district `d` in `crs`, uniformly over its area (to the grid's
/// resolution), whose conversion back to WGS-84 stays in the district.
pub(super) fn point_in(w: &Workload, d: usize, crs: Crs, rng: &mut SplitMix64) -> (f64, f64) {
    let cells = &w.districts[d].cells;
    let convert = |lon: f64, lat: f64| match crs {
        Crs::Wgs84 => (lon, lat),
        Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
        Crs::Bd09 => {
            let (x, y) = wgs84_to_gcj02(lon, lat);
            gcj02_to_bd09(x, y)
        }
    };
    let mut fallback = None;
    for _ in 0..16 {
        let (col, row) = cells[rng.below(cells.len())];
        let (clon, clat) = cell_centre(col, row);
        let lon = clon + (rng.next_f64() - 0.5) * STEP;
        let lat = clat + (rng.next_f64() - 0.5) * STEP;
        fallback.get_or_insert((clon, clat));
        if w.lands_in(lon, lat, d) {
            let (x, y) = convert(lon, lat);
            let (bx, by) = crs.to_wgs84(x, y);
            if w.lands_in(bx, by, d) {
                return (x, y);
            }
        }
    }
    let (lon, lat) = fallback.expect("at least one cell");
    convert(lon, lat)
}

impl Workload {
    pub(super) fn lands_in(&self, lon: f64, lat: f64, d: usize) -> bool {
        // The grid was filled from the same locator, so district ids match.
        self.router
            .locator()
            .district_at(lon, lat)
            .map(DistrictId::as_usize)
            == Some(d)
    }
}

/// The grid the districts' areas are recorded on: 0.01° cells over a box
/// that contains Beijing (115.4–117.6 E, 39.4–41.1 N).
pub(super) const STEP: f64 = 0.01;
pub(super) const WEST: f64 = 115.4;
pub(super) const SOUTH: f64 = 39.4;

pub(super) fn grid_size() -> (u32, u32) {
    (220, 170)
}

pub(super) fn cell_centre(col: u32, row: u32) -> (f64, f64) {
    (
        WEST + (f64::from(col) + 0.5) * STEP,
        SOUTH + (f64::from(row) + 0.5) * STEP,
    )
}

/// "东大桥社区居委会" → "东大桥社区".
pub(super) fn short_community(name: &str) -> &str {
    name.trim_end_matches("居民委员会")
        .trim_end_matches("村民委员会")
        .trim_end_matches("居委会")
        .trim_end_matches("村委会")
}
