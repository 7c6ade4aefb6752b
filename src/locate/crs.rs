//! Coordinate reference systems used by Chinese map services, and the
//! conversions between them.
//!
//! Web maps in China do not publish WGS-84 coordinates: AMap (Gaode), Tencent
//! and Google China use GCJ-02, a deliberately distorted datum, and Baidu adds
//! a second distortion on top (BD-09). Jurisdiction polygons are WGS-84, so a
//! ticket's coordinates are converted to WGS-84 before they are located.
//!
//! The formulas are the widely published ones (the same as the `coordtransform`
//! and `eviltransform` libraries). GCJ-02 is only applied inside a rough
//! bounding box of China; outside it every conversion is the identity, which is
//! what the map services do too.

use std::f64::consts::PI;

pub use crate::crs::{Crs, ParseCrsError};
use crate::ticket::Coordinates;

impl Crs {
    /// Converts a longitude and latitude given in this system to WGS-84.
    ///
    /// Non-finite input gives non-finite output; it never panics.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 => (lon, lat),
            Crs::Gcj02 => gcj02_to_wgs84(lon, lat),
            Crs::Bd09 => bd09_to_wgs84(lon, lat),
        }
    }
}

impl Coordinates {
    /// The same point in WGS-84 (an approximation within a metre for
    /// GCJ-02 and BD-09, whose published inverses are iterative).
    pub fn to_wgs84(&self) -> (f64, f64) {
        self.crs.to_wgs84(self.lon, self.lat)
    }
}

/// Semi-major axis of the Krasovsky 1940 ellipsoid, which GCJ-02 is built on.
const KRASOVSKY_A: f64 = 6378245.0;
/// First eccentricity squared of the Krasovsky 1940 ellipsoid.
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;
/// BD-09's angular scale factor.
const X_PI: f64 = PI * 3000.0 / 180.0;
/// The inverses are fixed-point iterations that gain roughly three digits per
/// step; this many steps reach the limit of f64 with room to spare, and the
/// cap keeps a pathological input from looping.
const MAX_INVERSE_STEPS: usize = 8;
/// Stop iterating once a step moves the estimate by less than this (degrees).
/// Each step shrinks the error by the offset's slope, about 2e-3 per degree,
/// so after a step of 3e-5° the estimate is within ~1e-7° (1 cm) — far below
/// the GCJ-02 model's own error — and each step saved is a dozen
/// trigonometric calls on the routing path of every app ticket.
const INVERSE_TOLERANCE: f64 = 3e-5;

/// Whether GCJ-02 leaves a point alone. Written so that NaN counts as
/// outside: the identity then passes the NaN through unchanged.
fn outside_china(lon: f64, lat: f64) -> bool {
    !((72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat))
}

/// The GCJ-02 offsets `(lat, lon)` before scaling, at `x = lon - 105`,
/// `y = lat - 35`. The two share their terms in `x`, computed once: the
/// same operations in the same order as the usual two functions, so the
/// same bits, with 10 sines instead of 12.
fn transform(x: f64, y: f64) -> (f64, f64) {
    let common = (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    let mut lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    lat += common;
    lat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    lat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    lon += common;
    lon += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    lon += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    (lat, lon)
}

/// Converts WGS-84 to GCJ-02 (identity outside China's bounding box).
///
/// ```
/// let (lon, lat) = hotline_router::locate::crs::wgs84_to_gcj02(116.404, 39.915);
/// assert!((lon - 116.41024449916938).abs() < 1e-12);
/// assert!((lat - 39.91640428150164).abs() < 1e-12);
/// ```
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let (dlat, dlon) = transform(lon - 105.0, lat - 35.0);
    let radlat = lat / 180.0 * PI;
    let sin_lat = radlat.sin();
    let magic = 1.0 - KRASOVSKY_EE * sin_lat * sin_lat;
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrt_magic * radlat.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// Converts GCJ-02 to WGS-84 (identity outside China's bounding box).
///
/// GCJ-02 has no closed-form inverse. The offset varies slowly (its
/// derivative is about 2e-3), so the fixed-point iteration
/// `w ← w − (gcj(w) − g)` converges fast; two or three steps bring the result
/// within about 1e-7 degrees (1 cm; the worst over a Beijing grid in the
/// tests is 1.2e-7), well below the model's own error.
///
/// ```
/// use hotline_router::locate::crs::{gcj02_to_wgs84, wgs84_to_gcj02};
///
/// let (lon, lat) = gcj02_to_wgs84(116.40324337854781, 39.90940335390724);
/// assert!((lon - 116.397).abs() < 2e-7 && (lat - 39.908).abs() < 2e-7);
/// ```
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let (mut wlon, mut wlat) = (lon, lat);
    for _ in 0..MAX_INVERSE_STEPS {
        let (glon, glat) = wgs84_to_gcj02(wlon, wlat);
        let (dlon, dlat) = (glon - lon, glat - lat);
        wlon -= dlon;
        wlat -= dlat;
        if dlon.abs() < INVERSE_TOLERANCE && dlat.abs() < INVERSE_TOLERANCE {
            break;
        }
    }
    (wlon, wlat)
}

/// Converts GCJ-02 to BD-09.
///
/// ```
/// let (lon, lat) = hotline_router::locate::crs::gcj02_to_bd09(116.404, 39.915);
/// assert!((lon - 116.41036949371029).abs() < 1e-12);
/// assert!((lat - 39.92133699351021).abs() < 1e-12);
/// ```
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// The widely published one-step BD-09 inverse; only approximate (off by up
/// to about 1.3e-6 degrees, 0.15 m, in Beijing).
fn bd09_to_gcj02_approx(lon: f64, lat: f64) -> (f64, f64) {
    let x = lon - 0.0065;
    let y = lat - 0.006;
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * X_PI).cos();
    (z * theta.cos(), z * theta.sin())
}

/// Converts BD-09 to GCJ-02.
///
/// Starts from the usual one-step inverse and refines it by fixed-point
/// iteration against [`gcj02_to_bd09`], so that the result maps back to the
/// input to within about 1e-8 degrees (the one-step formula alone is off by
/// up to 1.3e-6 degrees).
///
/// ```
/// use hotline_router::locate::crs::{bd09_to_gcj02, gcj02_to_bd09};
///
/// let (lon, lat) = bd09_to_gcj02(116.404, 39.915);
/// assert!((lon - 116.39762729119315).abs() < 2e-6);
/// let (blon, blat) = gcj02_to_bd09(lon, lat);
/// assert!((blon - 116.404).abs() < 2e-8 && (blat - 39.915).abs() < 2e-8);
/// ```
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (mut glon, mut glat) = bd09_to_gcj02_approx(lon, lat);
    for _ in 0..MAX_INVERSE_STEPS {
        let (blon, blat) = gcj02_to_bd09(glon, glat);
        let (dlon, dlat) = (blon - lon, blat - lat);
        glon -= dlon;
        glat -= dlat;
        if dlon.abs() < INVERSE_TOLERANCE && dlat.abs() < INVERSE_TOLERANCE {
            break;
        }
    }
    (glon, glat)
}

/// Converts BD-09 to WGS-84 (via GCJ-02).
///
/// ```
/// let (lon, lat) = hotline_router::locate::crs::bd09_to_wgs84(116.404, 39.915);
/// assert!((lon - 116.3914).abs() < 1e-3 && (lat - 39.9073).abs() < 1e-3);
/// ```
pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (glon, glat) = bd09_to_gcj02(lon, lat);
    gcj02_to_wgs84(glon, glat)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: (f64, f64), expected: (f64, f64), tol: f64) -> bool {
        (actual.0 - expected.0).abs() <= tol && (actual.1 - expected.1).abs() <= tol
    }

    /// Reference pairs: the `coordtransform` README (wandergis/coordtransform,
    /// test/app.js) for the forward formulas, which an independent Python
    /// implementation reproduces bit for bit; gcoord's test for (123, 45)
    /// (given there to 5 decimals). Inverse GCJ-02 references are the exact
    /// fixed point, which the one-step formulas in those libraries only
    /// approximate.
    #[test]
    fn reference_pairs() {
        type Point = (f64, f64);
        // (what, conversion, input, expected, tolerance)
        type Case = (&'static str, fn(f64, f64) -> Point, Point, Point, f64);
        let cases: &[Case] = &[
            (
                "wgs→gcj Tiananmen",
                wgs84_to_gcj02,
                (116.397, 39.908),
                (116.403_243_378_547_81, 39.909_403_353_907_24),
                1e-12,
            ),
            (
                "wgs→gcj coordtransform",
                wgs84_to_gcj02,
                (116.404, 39.915),
                (116.410_244_499_169_38, 39.916_404_281_501_64),
                1e-12,
            ),
            (
                "gcj→bd coordtransform",
                gcj02_to_bd09,
                (116.404, 39.915),
                (116.410_369_493_710_29, 39.921_336_993_510_21),
                1e-12,
            ),
            (
                "bd→gcj coordtransform (one-step there)",
                bd09_to_gcj02,
                (116.404, 39.915),
                (116.397_627_291_193_15, 39.908_656_739_576_31),
                2e-6,
            ),
            (
                "gcj→wgs exact fixed point",
                gcj02_to_wgs84,
                (116.404, 39.915),
                (116.397_755_754_574_85, 39.913_596_235_609_404),
                1e-9,
            ),
            (
                "gcj→wgs gcoord",
                gcj02_to_wgs84,
                (123.0, 45.0),
                (122.993_955_97, 44.998_040_71),
                5e-6,
            ),
            (
                "gcj→bd gcoord",
                gcj02_to_bd09,
                (123.0, 45.0),
                (123.006_364_99, 45.006_368_99),
                1e-8,
            ),
        ];
        for &(name, f, input, expected, tol) in cases {
            let got = f(input.0, input.1);
            assert!(close(got, expected, tol), "{name}: {got:?} vs {expected:?}");
        }
    }

    /// The textbook GCJ-02 offset, as two functions that each compute the
    /// shared terms: `transform` must give the same bits.
    #[test]
    fn shared_terms_give_the_textbook_bits() {
        fn lat_ref(x: f64, y: f64) -> f64 {
            let mut ret =
                -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
            ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
            ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
            ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
            ret
        }
        fn lon_ref(x: f64, y: f64) -> f64 {
            let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
            ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
            ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
            ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
            ret
        }
        for i in 0..=200 {
            for j in 0..=200 {
                let lon = 73.0 + 64.0 * f64::from(i) / 200.0;
                let lat = 1.0 + 54.0 * f64::from(j) / 200.0;
                let (x, y) = (lon - 105.0, lat - 35.0);
                let (la, lo) = transform(x, y);
                assert_eq!(la.to_bits(), lat_ref(x, y).to_bits(), "lat at {lon},{lat}");
                assert_eq!(lo.to_bits(), lon_ref(x, y).to_bits(), "lon at {lon},{lat}");
            }
        }
    }

    #[test]
    fn round_trips_over_beijing_grid() {
        let mut worst_gcj: f64 = 0.0;
        let mut worst_bd: f64 = 0.0;
        for i in 0..=40 {
            for j in 0..=40 {
                let lon = 115.4 + 2.1 * f64::from(i) / 40.0;
                let lat = 39.4 + 1.7 * f64::from(j) / 40.0;
                let (glon, glat) = wgs84_to_gcj02(lon, lat);
                // The offset in Beijing is several hundred metres: make sure
                // the round trip is not trivially the identity.
                assert!((glon - lon).abs() > 1e-4 || (glat - lat).abs() > 1e-4);
                let (wlon, wlat) = gcj02_to_wgs84(glon, glat);
                worst_gcj = worst_gcj.max((wlon - lon).abs()).max((wlat - lat).abs());

                let (blon, blat) = gcj02_to_bd09(lon, lat);
                let (g2lon, g2lat) = bd09_to_gcj02(blon, blat);
                worst_bd = worst_bd.max((g2lon - lon).abs()).max((g2lat - lat).abs());

                let (b, l) = gcj02_to_bd09(glon, glat);
                let back = Crs::Bd09.to_wgs84(b, l);
                assert!(close(back, (lon, lat), 1e-6), "bd09→wgs84 at {lon},{lat}");
            }
        }
        // Measured: 1.2e-7 and 8.5e-9; the bounds leave room for libm.
        assert!(worst_gcj < 3e-7, "GCJ-02 round trip error {worst_gcj}");
        assert!(worst_bd < 3e-8, "BD-09 round trip error {worst_bd}");
    }

    #[test]
    fn identity_outside_china() {
        for &(lon, lat) in &[
            (2.35, 48.85),
            (-74.0, 40.7),
            (139.69, 35.69),
            (72.0, 30.0),
            (100.0, 56.0),
            (100.0, 0.5),
        ] {
            assert_eq!(wgs84_to_gcj02(lon, lat), (lon, lat));
            assert_eq!(gcj02_to_wgs84(lon, lat), (lon, lat));
            assert_eq!(Crs::Gcj02.to_wgs84(lon, lat), (lon, lat));
        }
    }

    #[test]
    fn non_finite_input_does_not_panic() {
        for &(lon, lat) in &[
            (f64::NAN, 39.9),
            (116.4, f64::NAN),
            (f64::INFINITY, 39.9),
            (116.4, f64::NEG_INFINITY),
        ] {
            for crs in [Crs::Wgs84, Crs::Gcj02, Crs::Bd09] {
                let (x, y) = crs.to_wgs84(lon, lat);
                assert!(!(x.is_finite() && y.is_finite()), "{crs}: {x},{y}");
            }
        }
    }

    #[test]
    fn parse_and_serde_names() {
        for (text, crs) in [
            ("wgs84", Crs::Wgs84),
            ("WGS84", Crs::Wgs84),
            ("Gcj02", Crs::Gcj02),
            ("bd09", Crs::Bd09),
            ("BD09", Crs::Bd09),
        ] {
            assert_eq!(text.parse::<Crs>(), Ok(crs));
        }
        for bad in ["", "wgs-84", " wgs84", "epsg:4326", "gcj"] {
            let err = bad.parse::<Crs>().unwrap_err();
            assert_eq!(err.input(), bad);
            assert!(err.to_string().contains("expected wgs84, gcj02 or bd09"));
        }
        for crs in [Crs::Wgs84, Crs::Gcj02, Crs::Bd09] {
            let json = serde_json::to_string(&crs).unwrap();
            assert_eq!(json, format!("\"{crs}\""));
            assert_eq!(serde_json::from_str::<Crs>(&json).unwrap(), crs);
            assert_eq!(crs.as_str().parse::<Crs>(), Ok(crs));
        }
    }
}
