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

use crate::calendar::Calendar;
use crate::error::BuildError;

pub use crate::classify::config::{CategoryConfig, TaxonomyConfig, UrgencyConfig};
pub use crate::locate::buildings::{BuildingConfig, BuildingsConfig};
pub use crate::locate::config::{
    CommunityConfig, DistrictConfig, JurisdictionsConfig, StreetConfig,
};
pub use crate::rules::config::{HandlerConfig, RoutingConfig, RuleConfig, Sla};

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

const BEIJING_TAXONOMY: &str = include_str!("../data/beijing/taxonomy.toml");
const BEIJING_ROUTING: &str = include_str!("../data/beijing/routing.toml");

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
}
