//! [`RouterBuilder`]: the options a [`Router`](super::Router) is built with.

use std::sync::Arc;

use jiff::tz::TimeZone;

use crate::classify::model::Model;
use crate::classify::Classifier;
use crate::config::RouterConfig;
use crate::error::{BuildError, BuildErrorKind};
use crate::locate::buildings::Buildings;
use crate::locate::jurisdictions::{DistrictId, Jurisdictions};
use crate::locate::Locator;
use crate::rules::RuleSet;

use super::blend::Blend;
use super::{Inner, Router};

/// Builds a [`Router`] with non-default options.
///
/// # Examples
///
/// ```
/// use hotline_router::{Router, RouterConfig, Ticket, TicketError};
///
/// let router = Router::builder().max_text_bytes(16).build(RouterConfig::beijing()).unwrap();
/// let long = Ticket::new("T1", "暖气片不热暖气片不热");
/// assert!(matches!(router.route(&long), Err(TicketError::TooLong { .. })));
/// ```
#[derive(Clone, Debug)]
pub struct RouterBuilder {
    max_text_bytes: usize,
    model: ModelChoice,
    min_confidence: f32,
    triage_low_confidence: bool,
    keyword_weight: f32,
    model_languages: Vec<String>,
}

#[derive(Clone, Debug)]
enum ModelChoice {
    /// The embedded Beijing model, when the taxonomy has all its labels.
    Default,
    Given(Model),
    Without,
}

impl Default for RouterBuilder {
    fn default() -> Self {
        RouterBuilder {
            max_text_bytes: 64 * 1024,
            model: ModelChoice::Default,
            min_confidence: 0.3,
            triage_low_confidence: false,
            keyword_weight: 0.3,
            model_languages: vec!["zh".to_string()],
        }
    }
}

impl RouterBuilder {
    /// The longest ticket text (plus address) accepted, in bytes; 64 KiB by
    /// default. Longer tickets are rejected with [`TicketError::TooLong`](crate::TicketError::TooLong)
    /// rather than scanned.
    pub fn max_text_bytes(&mut self, limit: usize) -> &mut Self {
        self.max_text_bytes = limit;
        self
    }

    /// Classifies with this trained model beside the keywords (see
    /// [`Router::route`]). Its labels must be category codes of the
    /// taxonomy, or [`build`](RouterBuilder::build) fails. Without this
    /// call the router uses [`Model::beijing`] when the taxonomy has every
    /// one of its labels, and keywords alone otherwise.
    pub fn model(&mut self, model: Model) -> &mut Self {
        self.model = ModelChoice::Given(model);
        self
    }

    /// Classifies with keywords alone.
    pub fn without_model(&mut self) -> &mut Self {
        self.model = ModelChoice::Without;
        self
    }

    /// Below this confidence (0 to 1; default 0.3) a decision is marked low
    /// confidence ([`Decision::is_low_confidence`](crate::Decision::is_low_confidence)).
    pub fn min_confidence(&mut self, confidence: f32) -> &mut Self {
        self.min_confidence = confidence;
        self
    }

    /// Sends low-confidence decisions to the fallback category's handler
    /// (human triage by default) instead of the predicted category's;
    /// off by default.
    pub fn low_confidence_to_triage(&mut self, yes: bool) -> &mut Self {
        self.triage_low_confidence = yes;
        self
    }

    /// The languages (ISO 639-1 codes, as [`Language::code`](crate::Language::code)) the model
    /// reads; tickets in other languages are classified by keywords alone.
    /// `["zh"]` by default, the language of the default model's corpus; an
    /// empty list lets the model read every ticket.
    pub fn model_languages<I, S>(&mut self, codes: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.model_languages = codes.into_iter().map(Into::into).collect();
        self
    }

    /// How much one point of keyword score adds to a category's logit when
    /// keywords and the model are combined (default 0.3; 0 lets the model
    /// decide alone).
    pub fn keyword_weight(&mut self, weight: f32) -> &mut Self {
        self.keyword_weight = weight;
        self
    }

    /// Validates and compiles a configuration.
    ///
    /// # Errors
    ///
    /// Any configuration problem, as a [`BuildError`] naming the item.
    pub fn build(&self, mut config: RouterConfig) -> Result<Router, BuildError> {
        let buildings = std::mem::take(&mut config.jurisdictions.buildings);
        let classifier = Classifier::new(&config.taxonomy, &config.routing.fallback_category)?;
        let jurisdictions = Jurisdictions::new(&config.jurisdictions)?;
        // Moved out of the config, not copied: the national layer is 426k vertices.
        let (districts, regions): (Vec<DistrictId>, Vec<_>) = config
            .jurisdictions
            .districts
            .into_iter()
            .enumerate()
            .filter_map(|(i, d)| d.region.map(|r| (DistrictId(i as u32), r)))
            .unzip();
        let mut locator = Locator::new(&jurisdictions, &districts, &regions)?;
        let mut region_of = vec![None; jurisdictions.districts().len()];
        for (d, r) in districts.iter().zip(&regions) {
            region_of[d.as_usize()] = Some(r);
        }
        let registry = Buildings::new(&buildings, &jurisdictions, &locator, &region_of)?;
        locator.set_buildings(registry);
        let rules = RuleSet::new(&config.routing, &classifier, &jurisdictions)?;
        let offset = jiff::tz::Offset::from_hours(config.routing.utc_offset_hours)
            .map_err(|e| BuildError::parse("routing utc_offset_hours", e))?;
        let model = match &self.model {
            ModelChoice::Default => Blend::new(Model::beijing(), &classifier).ok(),
            ModelChoice::Given(m) => Some(Blend::new(m.clone(), &classifier)?),
            ModelChoice::Without => None,
        };
        for (what, v) in [
            ("min_confidence", self.min_confidence),
            ("keyword_weight", self.keyword_weight),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(BuildErrorKind::Model {
                    reason: format!("{what} = {v} must be a finite number ≥ 0"),
                }
                .into());
            }
        }
        Ok(Router {
            inner: Arc::new(Inner {
                model,
                min_confidence: self.min_confidence,
                triage_low_confidence: self.triage_low_confidence,
                keyword_weight: self.keyword_weight,
                model_languages: self.model_languages.clone(),
                classifier,
                jurisdictions,
                locator,
                rules,
                time_zone: TimeZone::fixed(offset),
                // Working days are civil dates where the router's deadlines
                // are written, not where the calendar file was made.
                calendar: config.calendar.with_utc_offset(offset),
                max_text_bytes: self.max_text_bytes,
            }),
        })
    }
}
