//! [`DecisionRecord`], the owned output line, and [`ClassifiedBy`].

use serde::{Deserialize, Serialize};

use crate::classify::language::LanguageService;
use crate::classify::Domain;
use crate::locate::LocatedBy;
use crate::rules::Priority;

/// A decision as owned data: the line `examples/route` writes.
///
/// Field names and values are a public contract (see the README).
///
/// # Examples
///
/// ```
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let ticket = Ticket::new("T3", "小区电梯坏了一个星期没人修").with_address("海淀区学院路街道");
/// let record = router.route(&ticket).unwrap().to_record(&ticket.id);
/// let line = serde_json::to_string(&record).unwrap();
/// assert!(line.starts_with(r#"{"id":"T3","category":"housing.elevator""#));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionRecord {
    /// The ticket id.
    pub id: String,
    /// The primary category code.
    pub category: String,
    /// The primary category's first-level domain (an extension).
    pub domain: Domain,
    /// The primary category followed by the secondary ones.
    pub categories: Vec<String>,
    /// The classification's confidence when a model took part, rounded to
    /// 4 decimals (an extension).
    pub confidence: Option<f64>,
    /// `keywords`, `model` or `both` (an extension).
    pub classified_by: ClassifiedBy,
    /// Whether the confidence is below the router's minimum (an extension).
    pub low_confidence: bool,
    /// The district code, if known.
    pub district: Option<String>,
    /// The street code, if known.
    pub street: Option<String>,
    /// The community code, if known (an extension of the first contract).
    pub community: Option<String>,
    /// The building code, when the ticket was located by it (一楼一码; an
    /// extension, left out of the JSON when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building: Option<String>,
    /// Which clue located the ticket.
    pub located_by: LocatedBy,
    /// The lead agency's code.
    pub agency: String,
    /// The co-handlers' codes.
    pub co_agencies: Vec<String>,
    /// "urgent" or "normal".
    pub priority: Priority,
    /// RFC 3339 in local (China) time.
    pub deadline: String,
    /// ISO 639-1 code.
    pub language: String,
    /// "native", "seat" or "interpreter".
    pub language_service: LanguageService,
    /// Short human-readable reasons.
    pub explain: Vec<String>,
}

/// What decided a ticket's category.
///
/// # Examples
///
/// ```
/// use hotline_router::{ClassifiedBy, Router, Ticket};
///
/// let router = Router::beijing();
/// let d = router.route(&Ticket::new("T1", "家里暖气片一直不热")).unwrap();
/// assert_eq!(d.classified_by(), ClassifiedBy::Both);
/// let keywords_only = Router::builder().without_model().build(hotline_router::RouterConfig::beijing()).unwrap();
/// let d = keywords_only.route(&Ticket::new("T1", "家里暖气片一直不热")).unwrap();
/// assert_eq!(d.classified_by(), ClassifiedBy::Keywords);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassifiedBy {
    /// Keywords alone (no model, or no text for it).
    #[default]
    Keywords,
    /// The model: no keyword matched, or the model outweighed them.
    Model,
    /// Keywords and the model agreed.
    Both,
    /// The caller chose the category ([`Ticket::category`]); keywords still
    /// decide urgency.
    Caller,
}
