//! The configuration a router is built from: taxonomy, routing and
//! jurisdictions, as plain data.
//!
//! Every part is plain, public, serde-friendly data so that a caller can load
//! it from files, edit it in code (a what-if rule change) and build a new
//! [`Router`](crate::Router) from it. Nothing here is validated: validation is
//! the builder's job, and every problem becomes a
//! [`BuildError`] that names the offending item.
//!
//! The embedded Beijing configuration is [`RouterConfig::beijing`]; its files
//! are in the crate's `data/beijing/` folder and document the schema by
//! example (`taxonomy.toml`, `routing.toml`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::classify::Domain;
use crate::error::{BuildError, BuildErrorKind};
use crate::locate::geojson::{parse_feature_collection, SkippedFeature, Untidy};
use crate::locate::region::Region;
use crate::rules::Priority;
use crate::ticket::Channel;

pub use crate::locate::buildings::{BuildingConfig, BuildingsConfig};

/// Everything a [`Router`](crate::Router) is built from.
///
/// `calendar` counts working days for deadlines (China's, with public
/// holidays and make-up days, for [`RouterConfig::beijing`]).
///
/// # Examples
///
/// ```
/// use hotline_router::{Router, RouterConfig};
///
/// let mut config = RouterConfig::beijing();
/// // What if heating in Chaoyang went to the street offices instead?
/// config.routing.handlers.get_mut("heating").unwrap().handler = "street".into();
/// let router = Router::from_config(config).unwrap();
/// assert_eq!(router.categories().count(), 82);
/// ```
#[derive(Clone, Debug)]
pub struct RouterConfig {
    /// What tickets are about: categories and their keywords.
    pub taxonomy: TaxonomyConfig,
    /// Who handles what: agencies, handlers, SLAs and override rules.
    pub routing: RoutingConfig,
    /// Where things are: districts (with polygons), streets, communities.
    pub jurisdictions: JurisdictionsConfig,
    /// Working days for deadlines. Its dates are civil dates in the router's
    /// zone: the router counts them at `routing.utc_offset_hours`, whatever
    /// offset the calendar was made with (see [`Calendar::with_utc_offset`]).
    pub calendar: Calendar,
}

/// The taxonomy: categories with weighted keywords, and urgency words.
///
/// Its TOML form is `data/beijing/taxonomy.toml`.
///
/// # Examples
///
/// ```
/// use hotline_router::TaxonomyConfig;
///
/// let taxonomy = TaxonomyConfig::from_toml(r#"
///     [urgency]
///     keywords = ["燃气泄漏"]
///     [[category]]
///     code = "heating"
///     name = "供暖"
///     keywords = { "暖气" = 4, "暖气片不热" = 8 }
/// "#, "inline").unwrap();
/// assert_eq!(taxonomy.categories[0].keywords["暖气片不热"], 8);
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxonomyConfig {
    /// Keyword points a category gets on its own channels whenever its
    /// keywords already score at least this much (see
    /// [`CategoryConfig::channels`]); 0 when not given.
    #[serde(default)]
    pub channel_bonus: u16,
    /// Words that make any ticket urgent.
    #[serde(default)]
    pub urgency: UrgencyConfig,
    /// The categories, in tie-break order: on equal scores the earlier wins.
    #[serde(rename = "category")]
    pub categories: Vec<CategoryConfig>,
}

/// Words that make any ticket urgent, whatever its category.
///
/// # Examples
///
/// ```
/// use hotline_router::UrgencyConfig;
///
/// let urgency = UrgencyConfig { keywords: vec!["被困".into()] };
/// assert_eq!(urgency.keywords.len(), 1);
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrgencyConfig {
    /// The words; matched like category keywords.
    pub keywords: Vec<String>,
}

/// One category of the taxonomy.
///
/// # Examples
///
/// ```
/// use hotline_router::CategoryConfig;
///
/// let heating = CategoryConfig {
///     code: "heating".into(),
///     domain: hotline_router::Domain::UrbanRural,
///     name: "供暖".into(),
///     name_en: "Heating".into(),
///     keywords: [("暖气片不热".to_string(), 8)].into_iter().collect(),
///     urgent: vec!["暖气管爆裂".into()],
///     channels: Vec::new(), // every channel
///     other_channels: false,
///     replaces: Vec::new(),
/// };
/// assert_eq!(heating.keywords.len(), 1);
/// ```
///
/// A category of the enterprise line alone, in the TOML form:
///
/// ```
/// use hotline_router::{Channel, TaxonomyConfig};
///
/// let taxonomy = TaxonomyConfig::from_toml(r#"
///     channel_bonus = 6
///     [[category]]
///     code = "enterprise.tax"
///     name = "企业税费"
///     channels = ["enterprise"]
///     replaces = ["tax"]
///     keywords = { "出口退税" = 12 }
///     [[category]]
///     code = "tax"
///     name = "税务"
/// "#, "inline").unwrap();
/// assert_eq!(taxonomy.categories[0].channels, [Channel::Enterprise]);
/// assert!(!taxonomy.categories[0].other_channels);
/// assert_eq!(taxonomy.categories[0].replaces, ["tax"]);
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryConfig {
    /// The stable code, e.g. `housing.old_renovation` (a public contract).
    pub code: String,
    /// The first-level domain (`other` when not given).
    #[serde(default)]
    pub domain: Domain,
    /// The Chinese name.
    pub name: String,
    /// The English name.
    #[serde(default)]
    pub name_en: String,
    /// Keyword → weight. Negative weights are evidence against the category.
    #[serde(default)]
    pub keywords: BTreeMap<String, i32>,
    /// Words that make a ticket of this category urgent.
    #[serde(default)]
    pub urgent: Vec<String>,
    /// The channels the category belongs to, e.g. `["enterprise"]`; empty
    /// (the default) for a category of every channel. On its own channels
    /// the category is preferred: a keyword score of at least the
    /// taxonomy's [`channel_bonus`](TaxonomyConfig::channel_bonus) gets that
    /// much more. Tickets of other channels cannot fall into it, unless
    /// `other_channels`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
    /// With `channels`: whether tickets of other channels may still fall
    /// into the category (default false). Without `channels` it means
    /// nothing, and building refuses it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub other_channels: bool,
    /// Category codes this category takes the place of on its own channels
    /// (`enterprise.tax` replaces `tax` on the enterprise line): there they
    /// are set aside, and their keyword score and model probability count
    /// for this category. Needs `channels`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<String>,
}

/// Routing: agencies, the handler of each category, SLAs and override rules.
///
/// Its TOML form is `data/beijing/routing.toml`. Agencies follow the brief's
/// codes: `street:<9 digits>` exists for every street, `district:<6 digits>:<dept>`
/// for every district and every department in `district_departments`,
/// `city:<dept>` for every entry of `city_agencies`, and `center:triage`.
///
/// # Examples
///
/// ```
/// use hotline_router::RouterConfig;
///
/// let routing = RouterConfig::beijing().routing;
/// assert_eq!(routing.handlers["heating"].handler, "district:city_mgmt");
/// assert_eq!(routing.utc_offset_hours, 8);
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// The offset of local time from UTC, in hours; deadlines are written in
    /// it and working days are counted in it (the calendar's dates are civil
    /// dates at this offset).
    #[serde(default = "default_offset")]
    pub utc_offset_hours: i8,
    /// The category a ticket falls into when no keyword matches.
    #[serde(default = "default_fallback")]
    pub fallback_category: String,
    /// The name of the human triage desk (`center:triage`).
    #[serde(default = "default_triage_name")]
    pub triage_name: String,
    /// District department code → name (e.g. `housing` → `住房和城乡建设委员会`).
    pub district_departments: BTreeMap<String, String>,
    /// Municipal body code → name (e.g. `exit_entry` → `市公安局出入境管理总队`).
    pub city_agencies: BTreeMap<String, String>,
    /// The SLA used where a category sets none.
    #[serde(default)]
    pub default_sla: Sla,
    /// Category code → who handles it by default.
    #[serde(rename = "handler")]
    pub handlers: BTreeMap<String, HandlerConfig>,
    /// Overrides for a category in one district or one street.
    #[serde(rename = "rule", default)]
    pub rules: Vec<RuleConfig>,
}

fn default_offset() -> i8 {
    8
}
fn default_fallback() -> String {
    "other".into()
}
fn default_triage_name() -> String {
    "12345 human triage".into()
}

/// Deadlines: hours for urgent tickets; hours or working days for normal
/// ones (exactly one of the two).
///
/// Working days are counted on the router's [`Calendar`]: the deadline is
/// the end of the N-th working day after the day the ticket was received, so
/// a ticket received on the eve of the National Day week gets its days after
/// the holiday.
///
/// # Examples
///
/// ```
/// use hotline_router::Sla;
///
/// let sla = Sla::working_days(2, 5);
/// assert_eq!((sla.urgent_hours, sla.normal_working_days), (2, Some(5)));
/// assert_eq!(Sla::hours(1, 48).normal_hours, Some(48));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sla {
    /// Hours allowed for an urgent ticket.
    pub urgent_hours: u32,
    /// Hours allowed for a normal ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal_hours: Option<u32>,
    /// Working days allowed for a normal ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal_working_days: Option<u32>,
}

impl Sla {
    /// Urgent in hours, normal in hours.
    pub fn hours(urgent_hours: u32, normal_hours: u32) -> Sla {
        Sla {
            urgent_hours,
            normal_hours: Some(normal_hours),
            normal_working_days: None,
        }
    }

    /// Urgent in hours, normal in working days.
    pub fn working_days(urgent_hours: u32, normal_working_days: u32) -> Sla {
        Sla {
            urgent_hours,
            normal_hours: None,
            normal_working_days: Some(normal_working_days),
        }
    }
}

impl Default for Sla {
    /// Two hours urgent, five working days normal.
    fn default() -> Self {
        Sla::working_days(2, 5)
    }
}

/// Who handles a category by default, and its SLA.
///
/// `handler` and each of `co` is a handler spec: `street` (the ticket's
/// street office), `district:<dept>` (that department of the ticket's
/// district), `city:<dept>`, `center:triage`, or a literal agency code such as
/// `street:110105003` or `district:110105:housing`.
///
/// # Examples
///
/// ```
/// use hotline_router::HandlerConfig;
///
/// let h = HandlerConfig { handler: "street".into(), co: vec!["district:housing".into()], sla: None };
/// assert_eq!(h.co.len(), 1);
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandlerConfig {
    /// The lead handler.
    pub handler: String,
    /// Co-handlers, informed and jointly responsible.
    #[serde(default)]
    pub co: Vec<String>,
    /// This category's SLA; the default SLA when absent.
    #[serde(default)]
    pub sla: Option<Sla>,
}

/// An override: in this district or this street, these categories go elsewhere.
///
/// A street rule beats a district rule, which beats the category's handler.
/// Exactly one of `district` and `street` must be given.
///
/// # Examples
///
/// ```
/// use hotline_router::RuleConfig;
///
/// let rule = RuleConfig {
///     categories: vec!["heating".into()],
///     district: Some("110105".into()),
///     agency: Some("district:housing".into()),
///     ..RuleConfig::default()
/// };
/// assert!(rule.street.is_none());
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The categories the rule applies to (at least one).
    pub categories: Vec<String>,
    /// The district (6-digit code) the rule applies to.
    #[serde(default)]
    pub district: Option<String>,
    /// The street (9-digit code) the rule applies to.
    #[serde(default)]
    pub street: Option<String>,
    /// The lead handler (a handler spec); the category's handler when absent.
    #[serde(default)]
    pub agency: Option<String>,
    /// Co-handlers (handler specs); the category's when absent.
    #[serde(default)]
    pub co_agencies: Option<Vec<String>>,
    /// Forces the priority (e.g. every heating ticket urgent in a cold snap).
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Overrides the SLA.
    #[serde(default)]
    pub sla: Option<Sla>,
    /// Why the rule exists; shown in decisions' explanations.
    #[serde(default)]
    pub note: Option<String>,
}

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
/// use hotline_router::DistrictConfig;
///
/// let d = DistrictConfig { code: "110105".into(), name: "朝阳区".into(), region: None };
/// assert!(d.region.is_none());
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
/// use hotline_router::StreetConfig;
///
/// let s = StreetConfig { code: "110105003".into(), name: "呼家楼街道".into(), district: "110105".into() };
/// assert!(s.code.starts_with(&s.district));
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
/// use hotline_router::CommunityConfig;
///
/// let c = CommunityConfig { code: "110105003001".into(), name: "东大桥社区居委会".into(), street: "110105003".into() };
/// assert!(c.code.starts_with(&c.street));
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

const BEIJING_TAXONOMY: &str = include_str!("../data/beijing/taxonomy.toml");
const BEIJING_ROUTING: &str = include_str!("../data/beijing/routing.toml");
const BEIJING_DISTRICTS_GEOJSON: &str = include_str!("../data/beijing/districts.geojson");
const BEIJING_DISTRICTS: &str = include_str!("../data/beijing/districts.csv");
const BEIJING_STREETS: &str = include_str!("../data/beijing/streets.csv");
const BEIJING_COMMUNITIES: &str = include_str!("../data/beijing/communities.csv");

impl RouterConfig {
    /// The embedded Beijing configuration: the real 16 district polygons,
    /// 349 streets and 7,535 communities, the default taxonomy, agencies and
    /// rules.
    ///
    /// # Panics
    ///
    /// Never in a released crate: the embedded files are parsed by the
    /// crate's own tests, so a broken one cannot ship.
    pub fn beijing() -> RouterConfig {
        RouterConfig::try_beijing().expect("embedded Beijing data is valid (tested)")
    }

    fn try_beijing() -> Result<RouterConfig, BuildError> {
        Ok(RouterConfig {
            taxonomy: TaxonomyConfig::from_toml(BEIJING_TAXONOMY, "embedded taxonomy.toml")?,
            routing: RoutingConfig::from_toml(BEIJING_ROUTING, "embedded routing.toml")?,
            jurisdictions: JurisdictionsConfig::try_beijing()?,
            calendar: Calendar::china(),
        })
    }
}

impl TaxonomyConfig {
    /// Parses the TOML form (see `data/beijing/taxonomy.toml`).
    ///
    /// # Errors
    ///
    /// A [`BuildErrorKind::Parse`] naming
    /// `source_name` and the line.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Self, BuildError> {
        toml::from_str(text).map_err(|e| BuildError::parse(source_name, e))
    }
}

impl RoutingConfig {
    /// Parses the TOML form (see `data/beijing/routing.toml`).
    ///
    /// # Errors
    ///
    /// A [`BuildErrorKind::Parse`] naming
    /// `source_name` and the line.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::RoutingConfig;
    ///
    /// let err = RoutingConfig::from_toml("handler = 3", "bad.toml").unwrap_err();
    /// assert!(err.to_string().starts_with("cannot parse bad.toml"));
    /// ```
    pub fn from_toml(text: &str, source_name: &str) -> Result<Self, BuildError> {
        toml::from_str(text).map_err(|e| BuildError::parse(source_name, e))
    }
}

impl JurisdictionsConfig {
    /// The embedded Beijing jurisdictions (see `data/beijing/SOURCES.md`),
    /// with the sample building registry.
    pub fn beijing() -> JurisdictionsConfig {
        JurisdictionsConfig::try_beijing().expect("embedded Beijing data is valid (tested)")
    }

    fn try_beijing() -> Result<JurisdictionsConfig, BuildError> {
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
    fn embedded_beijing_config_parses() {
        let config = RouterConfig::try_beijing().unwrap();
        assert_eq!(config.taxonomy.categories.len(), 82);
        assert!(config
            .jurisdictions
            .districts
            .iter()
            .all(|d| d.region.is_some()));
    }

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

    #[test]
    fn unknown_fields_are_rejected_with_the_file_name() {
        let err =
            TaxonomyConfig::from_toml("[[category]]\ncode='a'\nname='b'\nkeyword={}", "t.toml")
                .unwrap_err();
        assert!(err.to_string().contains("t.toml"), "{err}");
    }
}
