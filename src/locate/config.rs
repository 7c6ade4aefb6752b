//! The jurisdictions' configuration, as plain data: districts with their
//! polygons, streets, communities and buildings, and its loaders (CSV,
//! GeoJSON, the embedded Beijing files).
//!
//! Re-exported from [`config`](crate::config) and the crate root; it lives
//! here, beside the [`Jurisdictions`](super::jurisdictions::Jurisdictions)
//! it builds, so that the locator does not import the configuration of the
//! whole router.

use serde::Deserialize;

use crate::error::{BuildError, BuildErrorKind};
use crate::locate::buildings::BuildingsConfig;
use crate::locate::geojson::{parse_feature_collection, SkippedFeature, Untidy};
use crate::locate::region::Region;

/// The jurisdictions: districts with their polygons, streets, communities.
///
/// # Examples
///
/// ```
/// use hotline_router::JurisdictionsConfig;
///
/// let j = JurisdictionsConfig::beijing();
/// assert_eq!((j.districts.len(), j.streets.len(), j.communities.len()), (16, 349, 7535));
/// ```
#[derive(Clone, Debug, Default)]
pub struct JurisdictionsConfig {
    /// Districts (区/县), with their polygons where known.
    pub districts: Vec<DistrictConfig>,
    /// Street and township offices (街道/镇/乡/地区).
    pub streets: Vec<StreetConfig>,
    /// Communities and villages (社区/村).
    pub communities: Vec<CommunityConfig>,
    /// The building registry (一楼一码): code → building, community and
    /// point. Empty by default; [`JurisdictionsConfig::beijing`] carries the
    /// sample registry ([`BuildingsConfig::beijing_sample`]).
    pub buildings: BuildingsConfig,
}

/// A district.
///
/// # Examples
///
/// ```
/// use hotline_router::{Crs, LocatedBy, Router, RouterConfig, Ticket};
///
/// let config = RouterConfig::beijing();
/// let chaoyang = config.jurisdictions.districts.iter().find(|d| d.code == "110105").unwrap();
/// assert_eq!(chaoyang.name, "朝阳区");
/// assert!(chaoyang.region.is_some()); // so a point alone finds it
///
/// let router = Router::from_config(config)?;
/// let ticket = Ticket::new("T1", "路灯不亮").with_coordinates(116.4497, 39.9262, Crs::Wgs84);
/// let d = router.route(&ticket).unwrap();
/// assert_eq!((d.district_code(), d.located_by()), (Some("110105"), LocatedBy::Coordinates));
/// # Ok::<(), hotline_router::BuildError>(())
/// ```
#[derive(Clone, Debug)]
pub struct DistrictConfig {
    /// The 6-digit code.
    pub code: String,
    /// The name, with its suffix (朝阳区).
    pub name: String,
    /// Its area; a district without one is found by address only.
    pub region: Option<Region>,
}

/// A street or township office.
///
/// # Examples
///
/// ```
/// use hotline_router::{BuildErrorKind, Jurisdictions, JurisdictionsConfig, StreetConfig};
///
/// let mut config = JurisdictionsConfig::from_csv("code,name\n110105,朝阳区\n", "code\n", "code\n")?;
/// config.streets.push(StreetConfig {
///     code: "110105003".into(),
///     name: "呼家楼街道".into(),
///     district: "110105".into(),
/// });
/// let j = Jurisdictions::new(&config)?;
/// let street = j.street(j.street_id("110105003").unwrap());
/// assert_eq!(j.district(street.district()).name(), "朝阳区");
///
/// // A street of a district that is not there is refused, and named.
/// config.streets[0].district = "110199".into();
/// let err = Jurisdictions::new(&config).unwrap_err();
/// assert!(matches!(err.kind(), BuildErrorKind::UnknownJurisdiction { code, .. } if code == "110199"));
/// # Ok::<(), hotline_router::BuildError>(())
/// ```
#[derive(Clone, Debug, Deserialize)]
pub struct StreetConfig {
    /// The 9-digit code.
    pub code: String,
    /// The name, with its suffix (呼家楼街道).
    pub name: String,
    /// The district's code.
    #[serde(alias = "district_code")]
    pub district: String,
}

/// A community (社区) or village (村).
///
/// # Examples
///
/// ```
/// use hotline_router::{JurisdictionsConfig, Router, Ticket};
///
/// let j = JurisdictionsConfig::beijing();
/// let c = j.communities.iter().find(|c| c.name == "东大桥社区居委会").unwrap();
/// assert_eq!((c.code.as_str(), c.street.as_str()), ("110105003050", "110105003"));
///
/// // Its name in an address locates a ticket down to the community.
/// let ticket = Ticket::new("T1", "楼道灯坏了").with_address("朝阳区呼家楼街道东大桥社区");
/// let d = Router::beijing().route(&ticket).unwrap();
/// assert_eq!((d.community_code(), d.street_code()), (Some("110105003050"), Some("110105003")));
/// ```
#[derive(Clone, Debug, Deserialize)]
pub struct CommunityConfig {
    /// The 12-digit code.
    pub code: String,
    /// The official name (东大桥社区居委会).
    pub name: String,
    /// The street's code.
    #[serde(alias = "street_code")]
    pub street: String,
}

#[derive(Deserialize)]
struct DistrictRow {
    code: String,
    name: String,
}

const BEIJING_DISTRICTS_GEOJSON: &str = include_str!("../../data/beijing/districts.geojson");
const BEIJING_DISTRICTS: &str = include_str!("../../data/beijing/districts.csv");
const BEIJING_STREETS: &str = include_str!("../../data/beijing/streets.csv");
const BEIJING_COMMUNITIES: &str = include_str!("../../data/beijing/communities.csv");

impl JurisdictionsConfig {
    /// The embedded Beijing jurisdictions (see `data/beijing/SOURCES.md`),
    /// with the sample building registry.
    pub fn beijing() -> JurisdictionsConfig {
        JurisdictionsConfig::try_beijing().expect("embedded Beijing data is valid (tested)")
    }

    pub(crate) fn try_beijing() -> Result<JurisdictionsConfig, BuildError> {
        let mut j =
            JurisdictionsConfig::from_csv(BEIJING_DISTRICTS, BEIJING_STREETS, BEIJING_COMMUNITIES)?;
        j.attach_polygons(
            BEIJING_DISTRICTS_GEOJSON,
            "embedded districts.geojson",
            "code",
        )?;
        j.buildings = BuildingsConfig::beijing_sample();
        Ok(j)
    }

    /// Reads districts (`code,name`), streets (`code,name,district_code`) and
    /// communities (`code,name,street_code`) from CSV text with a header row.
    ///
    /// # Errors
    ///
    /// A [`BuildErrorKind::Parse`] naming the
    /// file and record.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::JurisdictionsConfig;
    ///
    /// let j = JurisdictionsConfig::from_csv(
    ///     "code,name\n110105,朝阳区\n",
    ///     "code,name,district_code\n110105003,呼家楼街道,110105\n",
    ///     "code,name,street_code\n110105003001,东大桥社区居委会,110105003\n",
    /// ).unwrap();
    /// assert_eq!(j.streets[0].district, "110105");
    /// assert!(JurisdictionsConfig::from_csv("code\n1\n", "", "").is_err());
    /// ```
    pub fn from_csv(
        districts: &str,
        streets: &str,
        communities: &str,
    ) -> Result<JurisdictionsConfig, BuildError> {
        let districts: Vec<DistrictRow> = read_csv(districts, "districts csv")?;
        Ok(JurisdictionsConfig {
            districts: districts
                .into_iter()
                .map(|d| DistrictConfig {
                    code: d.code,
                    name: d.name,
                    region: None,
                })
                .collect(),
            streets: read_csv(streets, "streets csv")?,
            communities: read_csv(communities, "communities csv")?,
            buildings: BuildingsConfig::default(),
        })
    }

    /// Districts, with their polygons, from a GeoJSON FeatureCollection of
    /// any city or country: `code_property` and `name_property` name the
    /// properties holding each feature's code and name. Untidy features (no
    /// code, no geometry, a broken polygon) are skipped and returned, or
    /// rejected, as `untidy` says. Streets and communities can be added
    /// afterwards (e.g. from [`JurisdictionsConfig::from_csv`]).
    ///
    /// # Errors
    ///
    /// A parse error, or with [`Untidy::Reject`] the first untidy feature,
    /// named by position and name.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::locate::geojson::Untidy;
    /// use hotline_router::JurisdictionsConfig;
    ///
    /// let json = r#"{"type": "FeatureCollection", "features": [
    ///   {"type": "Feature", "properties": {"gb": "156000001", "name": "A"},
    ///    "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}},
    ///   {"type": "Feature", "properties": {"gb": "", "name": "境界线"},
    ///    "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}}]}"#;
    /// let (j, skipped) = JurisdictionsConfig::from_geojson(json, "inline", "gb", "name", Untidy::Skip).unwrap();
    /// assert_eq!((j.districts.len(), skipped[0].name.as_str()), (1, "境界线"));
    /// assert!(JurisdictionsConfig::from_geojson(json, "inline", "gb", "name", Untidy::Reject).is_err());
    /// ```
    pub fn from_geojson(
        geojson: &str,
        source_name: &str,
        code_property: &str,
        name_property: &str,
        untidy: Untidy,
    ) -> Result<(JurisdictionsConfig, Vec<SkippedFeature>), BuildError> {
        let set =
            parse_feature_collection(geojson, source_name, code_property, name_property, untidy)?;
        let districts = set
            .features
            .into_iter()
            .map(|f| DistrictConfig {
                code: f.code,
                name: f.name,
                region: Some(f.region),
            })
            .collect();
        Ok((
            JurisdictionsConfig {
                districts,
                ..JurisdictionsConfig::default()
            },
            set.skipped,
        ))
    }

    /// Attaches polygons from a GeoJSON FeatureCollection to the districts
    /// whose code is in the feature property `code_property`.
    ///
    /// # Errors
    ///
    /// A parse error, an invalid polygon, a feature whose code is not one
    /// of the districts, or two features for one district (named in the error).
    pub fn attach_polygons(
        &mut self,
        geojson: &str,
        source_name: &str,
        code_property: &str,
    ) -> Result<(), BuildError> {
        let set =
            parse_feature_collection(geojson, source_name, code_property, "name", Untidy::Reject)?;
        for feature in set.features {
            let district = self
                .districts
                .iter_mut()
                .find(|d| d.code == feature.code)
                .ok_or_else(|| {
                    BuildError::from(BuildErrorKind::UnknownJurisdiction {
                        context: format!("{source_name} feature '{}'", feature.name),
                        code: feature.code.clone(),
                    })
                })?;
            if district.region.is_some() {
                return Err(BuildErrorKind::DuplicateCode {
                    what: "district polygon",
                    code: feature.code,
                }
                .into());
            }
            district.region = Some(feature.region);
        }
        Ok(())
    }
}

fn read_csv<T: serde::de::DeserializeOwned>(text: &str, name: &str) -> Result<Vec<T>, BuildError> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .map(|row| row.map_err(|e| BuildError::parse(name, e)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygons_attach_once_per_district() {
        let mut j = JurisdictionsConfig::from_csv(
            "code,name\n1,A区\n",
            "code,name,district_code\n",
            "code,name,street_code\n",
        )
        .unwrap();
        let feature = r#"{"type":"Feature","properties":{"code":"1","name":"A区"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}"#;
        let one = format!(r#"{{"type":"FeatureCollection","features":[{feature}]}}"#);
        let two = format!(r#"{{"type":"FeatureCollection","features":[{feature},{feature}]}}"#);
        let unknown = one.replace(r#""code":"1""#, r#""code":"2""#);
        assert!(j.clone().attach_polygons(&one, "one", "code").is_ok());
        let err = j.clone().attach_polygons(&two, "two", "code").unwrap_err();
        assert_eq!(err.to_string(), "duplicate district polygon code '1'");
        let err = j.attach_polygons(&unknown, "unknown", "code").unwrap_err();
        assert!(err.to_string().contains("'2'"), "{err}");
    }
}
