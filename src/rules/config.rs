//! The routing configuration, as plain data: agencies, the handler of each
//! category, SLAs and override rules, and its TOML form.
//!
//! Re-exported from [`config`](crate::config) and the crate root; it lives
//! here, beside the [`RuleSet`](super::RuleSet) it compiles into, so that the
//! rules do not import the configuration of the whole router.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::BuildError;
use crate::priority::Priority;

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
/// Working days are counted on the router's [`Calendar`](crate::Calendar): the deadline is
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
/// use hotline_router::{HandlerConfig, Router, RouterConfig, Ticket};
///
/// // A `[handler."heating"]` table of `routing.toml`.
/// let heating: HandlerConfig = toml::from_str(r#"
///     handler = "street"
///     co = ["district:housing"]
///     sla = { urgent_hours = 2, normal_hours = 24 }
/// "#).unwrap();
/// let mut config = RouterConfig::beijing();
/// config.routing.handlers.insert("heating".into(), heating);
/// let router = Router::from_config(config)?;
/// let d = router.route(&Ticket::new("T1", "暖气片不热").with_address("朝阳区呼家楼街道")).unwrap();
/// assert_eq!(d.agency_code(), "street:110105003"); // the ticket's street office
/// let co: Vec<_> = d.co_agencies().iter().map(|&a| router.rules().agency(a).code()).collect();
/// assert_eq!(co, ["district:110105:housing"]); // its district's department
/// # Ok::<(), hotline_router::BuildError>(())
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
/// use hotline_router::{Router, RouterConfig, RuleConfig, Ticket};
///
/// let mut config = RouterConfig::beijing();
/// config.routing.rules.push(RuleConfig {
///     categories: vec!["heating".into()],
///     district: Some("110105".into()),
///     agency: Some("district:housing".into()),
///     note: Some("朝阳 heating goes to housing this winter".into()),
///     ..RuleConfig::default()
/// });
/// let router = Router::from_config(config)?;
/// let heating = |address: &str| Ticket::new("T1", "暖气片不热").with_address(address);
/// let d = router.route(&heating("朝阳区呼家楼街道")).unwrap();
/// assert_eq!(d.agency_code(), "district:110105:housing"); // the rule
/// let d = router.route(&heating("海淀区学院路街道")).unwrap();
/// assert_eq!(d.agency_code(), "district:110108:city_mgmt"); // elsewhere, the handler
/// # Ok::<(), hotline_router::BuildError>(())
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
    /// `urgent` raises every ticket the rule routes to urgent (e.g. every
    /// heating ticket in a cold snap). A rule cannot lower a priority:
    /// whether a ticket is urgent otherwise comes from its words, and
    /// `normal` is refused when the router is built
    /// ([`BuildErrorKind::NormalPriorityRule`](crate::BuildErrorKind::NormalPriorityRule)).
    ///
    /// ```
    /// use hotline_router::{BuildErrorKind, Priority, Router, RouterConfig, RuleConfig};
    ///
    /// let mut config = RouterConfig::beijing();
    /// config.routing.rules.push(RuleConfig {
    ///     categories: vec!["heating".into()],
    ///     district: Some("110105".into()),
    ///     priority: Some(Priority::Normal),
    ///     ..RuleConfig::default()
    /// });
    /// let err = Router::from_config(config).unwrap_err();
    /// assert!(matches!(err.kind(), BuildErrorKind::NormalPriorityRule { .. }));
    /// assert!(err.to_string().contains("never lower"), "{err}");
    /// ```
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Overrides the SLA.
    #[serde(default)]
    pub sla: Option<Sla>,
    /// Why the rule exists; shown in decisions' explanations.
    #[serde(default)]
    pub note: Option<String>,
}

impl RoutingConfig {
    /// Parses the TOML form (see `data/beijing/routing.toml`).
    ///
    /// # Errors
    ///
    /// A [`BuildErrorKind::Parse`](crate::BuildErrorKind::Parse) naming
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
