//! TEMPORARY stub, replaced by the spatial work.
/// Coordinate reference system.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    /// WGS-84
    #[default]
    Wgs84,
    /// GCJ-02
    Gcj02,
    /// BD-09
    Bd09,
}
impl Crs {
    /// Converts to WGS-84.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        (lon, lat)
    }
}
