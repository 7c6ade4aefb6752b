//! The taxonomy's configuration, as plain data: categories with their
//! weighted keywords, channels and urgency words, and its TOML form.
//!
//! Re-exported from [`config`](crate::config) and the crate root; it lives
//! here, beside the classifier it builds, so that the classifier does not
//! import the configuration of the whole router.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::classify::Domain;
use crate::error::BuildError;
use crate::ticket::Channel;

/// The taxonomy: categories with weighted keywords, and urgency words.
///
/// Its TOML form is `data/beijing/taxonomy.toml`.
///
/// # Examples
///
/// ```
/// use hotline_router::{Classifier, TaxonomyConfig};
///
/// let taxonomy = TaxonomyConfig::from_toml(r#"
///     [urgency]
///     keywords = ["燃气泄漏"]
///     [[category]]
///     code = "heating"
///     name = "供暖"
///     keywords = { "暖气" = 4, "暖气片不热" = 8 }
///     [[category]]
///     code = "other"
///     name = "其他"
/// "#, "inline")?;
/// let classifier = Classifier::new(&taxonomy, "other")?;
/// let c = classifier.classify("家里暖气片不热");
/// // Every keyword found counts: 暖气 (4) and 暖气片不热 (8).
/// assert_eq!((classifier.category(c.primary()).code(), c.score()), ("heating", 12));
/// assert!(classifier.classify("楼道里燃气泄漏").is_urgent());
/// # Ok::<(), hotline_router::BuildError>(())
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
/// use hotline_router::{Priority, Router, RouterConfig, Ticket};
///
/// let ticket = Ticket::new("T1", "小区门口的路灯不亮，晚上独居老人出门不方便");
/// assert_eq!(Router::beijing().route(&ticket).unwrap().priority(), Priority::Normal);
///
/// // Make every ticket that mentions a person living alone urgent.
/// let mut config = RouterConfig::beijing();
/// config.taxonomy.urgency.keywords.push("独居老人".into());
/// let router = Router::from_config(config)?;
/// assert_eq!(router.route(&ticket).unwrap().priority(), Priority::Urgent);
/// # Ok::<(), hotline_router::BuildError>(())
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
/// use hotline_router::{CategoryConfig, Classifier, TaxonomyConfig};
///
/// let heating = CategoryConfig {
///     code: "heating".into(),
///     domain: hotline_router::Domain::UrbanRural,
///     name: "供暖".into(),
///     name_en: "Heating".into(),
///     keywords: [("暖气片不热".to_string(), 8)].into_iter().collect(),
///     urgent: vec!["暖气管爆裂".into()],
///     channels: Vec::new(), // every channel
///     other_channels: false, replaces: Vec::new(),
/// };
/// let other = CategoryConfig { code: "other".into(), name: "其他".into(), name_en: "Other".into(),
///     keywords: Default::default(), urgent: Vec::new(), ..heating.clone() };
/// let taxonomy = TaxonomyConfig { categories: vec![heating, other], ..TaxonomyConfig::default() };
/// let classifier = Classifier::new(&taxonomy, "other")?;
/// let c = classifier.classify("暖气片不热，暖气管爆裂了");
/// assert_eq!(classifier.category(c.primary()).code(), "heating");
/// assert!(c.is_urgent()); // by the category's own urgent words
/// assert!(!classifier.classify("暖气片不热").is_urgent());
/// # Ok::<(), hotline_router::BuildError>(())
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

impl TaxonomyConfig {
    /// Parses the TOML form (see `data/beijing/taxonomy.toml`).
    ///
    /// # Errors
    ///
    /// A [`BuildErrorKind::Parse`](crate::BuildErrorKind::Parse) naming
    /// `source_name` and the line.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Self, BuildError> {
        toml::from_str(text).map_err(|e| BuildError::parse(source_name, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_rejected_with_the_file_name() {
        let err =
            TaxonomyConfig::from_toml("[[category]]\ncode='a'\nname='b'\nkeyword={}", "t.toml")
                .unwrap_err();
        assert!(err.to_string().contains("t.toml"), "{err}");
    }
}
