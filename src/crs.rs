//! [`Crs`], a leaf value type: a ticket carries it, the locator converts
//! with it ([`Crs::to_wgs84`] and the formulas live in
//! [`locate::crs`](crate::locate::crs)). It depends on nothing in the crate,
//! so [`ticket`](crate::ticket) does not import the locator.

use std::fmt;
use std::str::FromStr;

/// A coordinate reference system a ticket's coordinates can be given in.
///
/// # Examples
///
/// ```
/// use hotline_router::locate::crs::Crs;
///
/// let crs: Crs = "GCJ02".parse().unwrap();
/// assert_eq!(crs, Crs::Gcj02);
/// let (lon, lat) = crs.to_wgs84(116.40324337854781, 39.90940335390724);
/// assert!((lon - 116.397).abs() < 1e-6 && (lat - 39.908).abs() < 1e-6);
/// assert_eq!(Crs::default(), Crs::Wgs84);
/// ```
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    /// WGS-84 longitude and latitude (GPS; the polygons' own system).
    #[default]
    Wgs84,
    /// GCJ-02 ("Mars coordinates"), used by AMap, Tencent and Google China.
    Gcj02,
    /// BD-09, used by Baidu Maps.
    Bd09,
}

impl Crs {
    /// The lower-case name, as accepted by [`FromStr`] and serde.
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a string is not the name of a [`Crs`].
///
/// # Examples
///
/// ```
/// use hotline_router::locate::crs::Crs;
///
/// let err = "mars".parse::<Crs>().unwrap_err();
/// assert_eq!(err.input(), "mars");
/// assert!(err.to_string().contains("wgs84, gcj02 or bd09"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown coordinate system '{input}': expected wgs84, gcj02 or bd09 (any case)")]
pub struct ParseCrsError {
    input: String,
}

impl ParseCrsError {
    /// The string that was not recognised.
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl FromStr for Crs {
    type Err = ParseCrsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("wgs84") {
            Ok(Crs::Wgs84)
        } else if s.eq_ignore_ascii_case("gcj02") {
            Ok(Crs::Gcj02)
        } else if s.eq_ignore_ascii_case("bd09") {
            Ok(Crs::Bd09)
        } else {
            Err(ParseCrsError {
                input: s.to_owned(),
            })
        }
    }
}
