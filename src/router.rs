//! The router: one ticket in, one explained decision out (派).

use std::sync::Arc;

use jiff::{tz::TimeZone, SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::calendar::Calendar;
use crate::classify::language::{Language, LanguageService};
use crate::classify::model::{argmax, features::gram_text, softmax, Model, Seen};
use crate::classify::normalize::normalize;
use crate::classify::{Category, CategoryId, Classification, Classifier, Domain};
use crate::config::RouterConfig;
use crate::error::{BuildError, BuildErrorKind, TicketError};
use crate::locate::buildings::{Building, Buildings};
use crate::locate::jurisdictions::{DistrictId, Jurisdictions};
use crate::locate::{LocatedBy, Location, LocationNote, Locator};
use crate::rules::{AgencyId, Assignment, Fallback, Priority, RuleSet, RuleSource};
use crate::ticket::Ticket;

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
    /// default. Longer tickets are rejected with [`TicketError::TooLong`]
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
    /// confidence ([`Decision::is_low_confidence`]).
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

    /// The languages (ISO 639-1 codes, as [`Language::code`]) the model
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

/// Routes tickets: classify → locate → apply rules → decide.
///
/// A router is immutable once built. Routing takes `&self`, allocates
/// nothing for ordinary tickets, and never panics on bad input: a ticket is
/// either routed or handed back with a [`TicketError`].
///
/// # Cloning
///
/// Cheap: everything is behind one `Arc`. No lock is needed: clone it into
/// every thread. To change rules, build a new router and swap it in.
///
/// # Examples
///
/// ```
/// use hotline_router::{Crs, Priority, Router, Ticket};
///
/// let router = Router::beijing();
/// let ticket = Ticket::new("T1", "朝阳区呼家楼街道东大桥社区暖气片不热，屋里才15度")
///     .with_coordinates(116.4605, 39.9230, Crs::Gcj02);
/// let decision = router.route(&ticket).unwrap();
/// assert_eq!(decision.category().code(), "heating");
/// assert_eq!(decision.street_code(), Some("110105003"));
/// assert_eq!(decision.agency_code(), "district:110105:city_mgmt");
/// assert_eq!(decision.priority(), Priority::Normal);
/// for reason in decision.explain() {
///     println!("{reason}");
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Router {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    model: Option<Blend>,
    min_confidence: f32,
    triage_low_confidence: bool,
    keyword_weight: f32,
    model_languages: Vec<String>,
    classifier: Classifier,
    jurisdictions: Jurisdictions,
    locator: Locator,
    rules: RuleSet,
    time_zone: TimeZone,
    calendar: Calendar,
    max_text_bytes: usize,
}

impl Router {
    /// The default router over the embedded Beijing data.
    ///
    /// Builds in about 40 ms in a release build (measured with `hotline
    /// route`: 39–43 ms, of which the embedded model's first load is ~4 ms;
    /// 35–37 ms without it); build it once and clone it.
    ///
    /// # Panics
    ///
    /// Never in a released crate: the embedded configuration is built by the
    /// crate's own tests.
    pub fn beijing() -> Router {
        Router::from_config(RouterConfig::beijing())
            .expect("embedded Beijing config builds (tested)")
    }

    /// Builds a router with default options.
    ///
    /// # Errors
    ///
    /// Any configuration problem, as a [`BuildError`] naming the item.
    pub fn from_config(config: RouterConfig) -> Result<Router, BuildError> {
        RouterBuilder::default().build(config)
    }

    /// A builder for non-default options.
    pub fn builder() -> RouterBuilder {
        RouterBuilder::default()
    }

    /// Routes one ticket.
    ///
    /// # Classification
    ///
    /// The text is [normalised](crate::classify::normalize) once, then read
    /// by the keyword classifier and, when the router has a model and the
    /// ticket is in one of its languages, by the model. Each category's
    /// score is the model's calibrated logit plus
    /// [`keyword_weight`](RouterBuilder::keyword_weight) × its keyword score
    /// (capped at 20); after a softmax the domain with the most probability
    /// wins, then the best category within it. A strong keyword match keeps
    /// its category unless the model is sure otherwise; the model finds what
    /// keywords miss. With no keyword match and a model not sure of the
    /// domain (less than half the probability), the ticket falls into the
    /// fallback category, as without a model. Urgency comes
    /// from the keywords alone. [`Decision::classified_by`],
    /// [`Decision::confidence`] and [`Decision::explain`] say what decided.
    ///
    /// # Deadlines
    ///
    /// The deadline runs from the ticket's
    /// [`received_at`](Ticket::received_at). A ticket without one is taken
    /// as received now, on the wall clock ([`Timestamp::now`]) at routing
    /// time; a [`Dispatcher`](crate::dispatch::Dispatcher) stamps it with its
    /// own clock before routing, so a simulated clock is never mixed with
    /// the wall clock.
    ///
    /// # Errors
    ///
    /// A [`TicketError`] when the ticket has an empty id, no text and no
    /// address, invalid coordinates, or more text than the limit.
    pub fn route(&self, ticket: &Ticket) -> Result<Decision, TicketError> {
        let inner = &*self.inner;
        if ticket.id.trim().is_empty() {
            return Err(TicketError::EmptyId);
        }
        let address = ticket.address.as_deref().unwrap_or("");
        if ticket.text.trim().is_empty() && address.trim().is_empty() {
            return Err(TicketError::Empty);
        }
        let len = ticket.text.len() + address.len();
        if len > inner.max_text_bytes {
            return Err(TicketError::TooLong {
                len,
                limit: inner.max_text_bytes,
            });
        }
        if let Some(c) = ticket.coordinates.filter(|c| !c.is_valid()) {
            return Err(TicketError::InvalidCoordinates {
                lon: c.lon,
                lat: c.lat,
            });
        }
        let chosen = match ticket.category.as_deref() {
            None => None,
            Some(code) => Some(inner.classifier.category_id(code).ok_or_else(|| {
                TicketError::UnknownCategory {
                    code: code.to_string(),
                }
            })?),
        };

        // Invisible characters and full-width forms must not hide keywords.
        let text = normalize(&ticket.text);
        let language = Language::detect(if ticket.text.trim().is_empty() {
            address
        } else {
            &ticket.text
        });
        let mut classification = inner.classifier.classify_on(&text, ticket.channel);
        let code = language.code();
        let verdict = if let Some(chosen) = chosen {
            // The caller's choice stands; what the words matched stays as
            // secondary categories and for urgency.
            let secondary = std::iter::once(classification.primary())
                .chain(classification.secondary().iter().copied())
                .filter(|c| *c != chosen && classification.score_of(*c) > 0)
                .take(3)
                .collect();
            inner
                .classifier
                .set_primary(&mut classification, chosen, secondary);
            Verdict {
                by: ClassifiedBy::Caller,
                ..Verdict::default()
            }
        } else if inner.model_languages.is_empty()
            || inner.model_languages.iter().any(|l| l == code)
        {
            self.blend(&mut classification, &text)
        } else {
            // The model reads the languages it was trained on (the default
            // one, Chinese); others go by their keywords.
            Verdict::default()
        };
        let low_confidence = verdict.confidence.is_some_and(|p| p < inner.min_confidence);
        let location = inner.locator.locate(ticket);
        let category = if low_confidence && inner.triage_low_confidence {
            inner.classifier.fallback()
        } else {
            classification.primary()
        };
        let assignment = inner
            .rules
            .assignment(category, location.district(), location.street());
        let priority = if classification.is_urgent() || assignment.forces_urgent() {
            Priority::Urgent
        } else {
            Priority::Normal
        };
        let sla = assignment.sla();
        // Read the wall clock only for a ticket that carries no time.
        let received_at = ticket.received_at.unwrap_or_else(Timestamp::now);
        let after_hours = |hours: u32| {
            received_at
                .checked_add(SignedDuration::from_hours(i64::from(hours)))
                .unwrap_or(Timestamp::MAX)
        };
        let deadline = match (priority, sla.normal_working_days) {
            (Priority::Urgent, _) => after_hours(sla.urgent_hours),
            (Priority::Normal, Some(days)) => inner.calendar.add_working_days(received_at, days),
            // The rule set checked that an SLA has one of the two.
            (Priority::Normal, None) => after_hours(sla.normal_hours.unwrap_or(0)),
        };
        Ok(Decision {
            router: self.clone(),
            classification,
            verdict,
            low_confidence,
            location,
            assignment: assignment.clone(),
            priority,
            deadline,
            language,
            converted_from: ticket.coordinates.map(|c| c.crs),
        })
    }

    /// Combines the keyword classification with the model, if any (see
    /// [`Router::route`]).
    fn blend(&self, c: &mut Classification, text: &str) -> Verdict {
        let inner = &*self.inner;
        let Some(blend) = &inner.model else {
            return Verdict::default();
        };
        if text.trim().is_empty() {
            return Verdict::default();
        }
        let model = &blend.model;
        let t = model.temperature();
        let mut seen = Seen::new();
        let mut z = model.decision_values_seen(text, &mut seen);
        if seen.len() < MIN_MODEL_GRAMS {
            // A word or two: the model's scores mean little (one n-gram is
            // the whole unit vector), so keywords alone decide.
            return Verdict::default();
        }
        z.iter_mut().for_each(|v| *v /= t);
        if let Some(channel) = c.channel() {
            // A replaced category's probability goes to its replacement.
            for (replaced, by) in inner.classifier.replacements_on(channel) {
                if let Some(lx) = blend.label_of[replaced.as_usize()] {
                    let x = std::mem::replace(&mut z[lx as usize], f32::NEG_INFINITY);
                    if let Some(lr) = blend.label_of[by.as_usize()] {
                        z[lr as usize] = log_add_exp(z[lr as usize], x);
                    }
                }
            }
            // Categories of other channels are out of the question.
            for &(l, cat) in &blend.restricted {
                if !inner.classifier.category(cat).allows(channel) {
                    z[l as usize] = f32::NEG_INFINITY;
                }
            }
            if z.iter().all(|v| *v == f32::NEG_INFINITY) {
                return Verdict::default();
            }
        }
        for &(cat, score) in c.scores() {
            if let Some(l) = blend.label_of[cat.as_usize()] {
                // The cap bounds what the words say; the channel's
                // preference is other evidence, added beyond it.
                let bonus = inner.classifier.channel_bonus(c, cat);
                z[l as usize] += inner.keyword_weight * ((score - bonus).min(20) + bonus) as f32;
            }
        }
        let p = softmax(&z, 1.0);
        let mut best = argmax(&p);
        // The domain first, by its categories' summed probability, then the
        // best category within it: neighbours in one domain split their
        // probability, and splitting must not hand the ticket to another
        // domain (measured on the dev set: +0.5 to +0.7 points of domain
        // agreement).
        let mut mass = [0.0f32; Domain::ALL.len()];
        for (i, v) in p.iter().enumerate() {
            mass[blend.domain_of[i] as usize] += v;
        }
        let mut domain = blend.domain_of[best] as usize;
        for (d, m) in mass.iter().enumerate() {
            if *m > mass[domain] {
                domain = d;
            }
        }
        if domain != blend.domain_of[best] as usize {
            let in_domain = (0..p.len()).filter(|&i| blend.domain_of[i] as usize == domain);
            if let Some(b) = in_domain.max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a))) {
                best = b;
            }
        }
        if c.score() == 0 && mass[domain] < MODEL_ALONE_DOMAIN {
            // Nothing the keywords know and the model not sure of the
            // domain: the fallback category, as without a model.
            return Verdict {
                confidence: Some(p[best]),
                by: ClassifiedBy::Model,
                domain_confidence: mass[domain],
                overruled: None,
                evidence: SmallVec::new(),
                unsure: true,
            };
        }
        let primary = blend.category_of[best];
        let by = if c.score() > 0 && primary == c.primary() {
            ClassifiedBy::Both
        } else {
            ClassifiedBy::Model
        };
        let keyword_choice = (c.score() > 0 && primary != c.primary()).then_some(c.primary());
        if primary != c.primary() {
            let mut secondary: SmallVec<[CategoryId; 3]> = SmallVec::new();
            if let Some(k) = keyword_choice {
                secondary.push(k);
            }
            for s in c.secondary() {
                if *s != primary && secondary.len() < 3 {
                    secondary.push(*s);
                }
            }
            inner.classifier.set_primary(c, primary, secondary);
        }
        Verdict {
            confidence: Some(p[best]),
            domain_confidence: mass[domain],
            by,
            overruled: keyword_choice,
            evidence: model.evidence_in(&seen, best),
            unsure: false,
        }
    }

    /// The trained model beside the keywords, if any.
    pub fn model(&self) -> Option<&Model> {
        self.inner.model.as_ref().map(|b| &b.model)
    }

    /// The classifier.
    pub fn classifier(&self) -> &Classifier {
        &self.inner.classifier
    }

    /// The locator.
    pub fn locator(&self) -> &Locator {
        &self.inner.locator
    }

    /// The compiled rules and agencies.
    pub fn rules(&self) -> &RuleSet {
        &self.inner.rules
    }

    /// The jurisdiction tables.
    pub fn jurisdictions(&self) -> &Jurisdictions {
        &self.inner.jurisdictions
    }

    /// The building registry (一楼一码; see
    /// [`locate::buildings`](crate::locate::buildings)).
    pub fn buildings(&self) -> &Buildings {
        self.inner.locator.buildings()
    }

    /// The category with this id.
    ///
    /// # Panics
    ///
    /// If the id is not from this router.
    pub fn category(&self, id: CategoryId) -> &Category {
        self.inner.classifier.category(id)
    }

    /// The id of the category with this code.
    pub fn category_id(&self, code: &str) -> Option<CategoryId> {
        self.inner.classifier.category_id(code)
    }

    /// Every category, in taxonomy order.
    pub fn categories(&self) -> impl ExactSizeIterator<Item = (CategoryId, &Category)> {
        self.inner.classifier.categories()
    }

    /// The time zone deadlines are written in.
    pub fn time_zone(&self) -> &TimeZone {
        &self.inner.time_zone
    }

    /// The working-day calendar deadlines are counted on: the configured
    /// [`calendar`](RouterConfig::calendar) with its days counted in the
    /// router's [`time_zone`](Router::time_zone) (see
    /// [`Calendar::with_utc_offset`]).
    pub fn calendar(&self) -> &Calendar {
        &self.inner.calendar
    }
}

/// One routing decision, with everything that explains it.
///
/// A decision holds a clone of its router's handle (one reference count, so
/// names and codes are not copied): it outlives the [`Router`] value it came
/// from, even a temporary one, and can be sent to another thread. The codes
/// and names it returns borrow from the decision; for strings that live as
/// long as a router you keep, look them up by id on the router
/// ([`Router::category`] with [`Classification::primary`]). Turn it into
/// an owned, serializable [`DecisionRecord`] with [`Decision::to_record`].
///
/// # Examples
///
/// Routing with a temporary router, in a function that returns errors:
///
/// ```
/// use hotline_router::{Router, Ticket, TicketError};
///
/// fn agency(text: &str) -> Result<String, TicketError> {
///     let d = Router::beijing().route(&Ticket::new("T1", text))?;
///     Ok(d.agency_code().to_string())
/// }
/// assert_eq!(agency("I lost my passport at the airport").unwrap(), "city:airport");
/// assert!(agency("   ").is_err());
/// ```
///
/// Reading a decision:
///
/// ```
/// use hotline_router::{LanguageService, LocatedBy, Router, Ticket};
///
/// let router = Router::beijing();
/// let d = router.route(&Ticket::new("T9", "I lost my passport at the airport, who can help?")).unwrap();
/// assert_eq!(d.category().code(), "travel.lost_property");
/// assert_eq!(d.agency_code(), "city:airport");
/// assert_eq!(d.located_by(), LocatedBy::None);
/// assert_eq!(d.language().code(), "en");
/// assert_eq!(d.language().service(), LanguageService::Seat);
/// ```
#[derive(Clone, Debug)]
pub struct Decision {
    router: Router,
    classification: Classification,
    verdict: Verdict,
    low_confidence: bool,
    location: Location,
    assignment: Assignment,
    priority: Priority,
    deadline: Timestamp,
    language: Language,
    converted_from: Option<crate::Crs>,
}

impl Decision {
    /// The primary category.
    pub fn category(&self) -> &Category {
        self.router.category(self.classification.primary())
    }

    /// The primary category's first-level domain.
    pub fn domain(&self) -> Domain {
        self.category().domain()
    }

    /// The classification: primary, secondary categories, matched keywords.
    pub fn classification(&self) -> &Classification {
        &self.classification
    }

    /// How sure the classification is (0 to 1), when a model took part;
    /// `None` for keywords alone.
    pub fn confidence(&self) -> Option<f32> {
        self.verdict.confidence
    }

    /// How sure the domain is: the summed probability of its categories,
    /// when a model took part. The router picks the domain first, then the
    /// best category within it.
    pub fn domain_confidence(&self) -> Option<f32> {
        self.verdict
            .confidence
            .map(|_| self.verdict.domain_confidence)
    }

    /// Whether the confidence is below the router's minimum; such a ticket
    /// went to the fallback category's handler if the router was built with
    /// [`RouterBuilder::low_confidence_to_triage`].
    pub fn is_low_confidence(&self) -> bool {
        self.low_confidence
    }

    /// What decided the category: keywords, the model, or both agreeing.
    pub fn classified_by(&self) -> ClassifiedBy {
        self.verdict.by
    }

    /// The n-grams that weighed most for the model's choice, strongest
    /// first, with their contribution to its decision value.
    pub fn model_evidence(&self) -> Vec<(String, f32)> {
        self.verdict
            .evidence
            .iter()
            .map(|(k, w)| (gram_text(*k), *w))
            .collect()
    }

    /// Where the ticket is, as far as is certain.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The district's code, if known.
    pub fn district_code(&self) -> Option<&str> {
        let j = self.router.jurisdictions();
        self.location.district().map(|d| j.district(d).code())
    }

    /// The street's code, if known.
    pub fn street_code(&self) -> Option<&str> {
        let j = self.router.jurisdictions();
        self.location.street().map(|s| j.street(s).code())
    }

    /// The community's code, if known.
    pub fn community_code(&self) -> Option<&str> {
        let j = self.router.jurisdictions();
        self.location.community().map(|c| j.community(c).code())
    }

    /// The building, when the ticket carried a building code of the
    /// registry (一楼一码): then [`located_by`](Decision::located_by) is
    /// [`LocatedBy::Building`].
    pub fn building(&self) -> Option<&Building> {
        let registry = self.router.buildings();
        self.location.building().map(|b| registry.building(b))
    }

    /// The building's code, when the ticket was located by it.
    pub fn building_code(&self) -> Option<&str> {
        self.building().map(Building::code)
    }

    /// Which clue located the ticket.
    pub fn located_by(&self) -> LocatedBy {
        self.location.located_by()
    }

    /// The lead agency.
    pub fn agency(&self) -> AgencyId {
        self.assignment.agency()
    }

    /// The lead agency's code.
    pub fn agency_code(&self) -> &str {
        self.router.rules().agency(self.assignment.agency()).code()
    }

    /// The co-handlers.
    pub fn co_agencies(&self) -> &[AgencyId] {
        self.router.rules().co_agencies(&self.assignment)
    }

    /// The compiled rule cell that decided the agency.
    pub fn assignment(&self) -> &Assignment {
        &self.assignment
    }

    /// Urgent or normal.
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// When the ticket must be handled by.
    pub fn deadline(&self) -> Timestamp {
        self.deadline
    }

    /// The deadline as RFC 3339 in the router's local time
    /// (`2024-11-22T08:30:00+08:00`).
    pub fn deadline_local(&self) -> String {
        self.deadline
            .to_zoned(self.router.time_zone().clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }

    /// The ticket's language.
    pub fn language(&self) -> Language {
        self.language
    }

    /// Short human-readable reasons, in pipeline order: category, urgency,
    /// location, rule, fallback, deadline, language.
    pub fn explain(&self) -> Vec<String> {
        let r = &self.router;
        let c = &self.classification;
        let classifier = r.classifier();
        let j = r.jurisdictions();
        let dname = |d: DistrictId| format!("{} {}", j.district(d).name(), j.district(d).code());
        let mut out = Vec::new();
        let primary = c.primary();
        let evidence = || {
            self.model_evidence()
                .iter()
                .map(|(g, w)| format!("{g} {w:+.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.verdict.unsure {
            out.push(format!(
                "no category keyword matched and the model is unsure (domain {:.2}): {}",
                self.verdict.domain_confidence,
                self.category().code()
            ));
        } else if let (ClassifiedBy::Model, Some(p)) = (self.verdict.by, self.verdict.confidence) {
            out.push(format!(
                "category {} by the model (confidence {p:.2}, domain {} {:.2}): {}",
                self.category().code(),
                self.domain(),
                self.verdict.domain_confidence,
                evidence()
            ));
            if let Some(k) = self.verdict.overruled {
                out.push(format!(
                    "the model outweighed the keywords, which said {}",
                    r.category(k).code()
                ));
            }
        }
        if self.verdict.by == ClassifiedBy::Caller {
            out.push(format!(
                "category {} chosen by the caller",
                self.category().code()
            ));
        } else if self.verdict.by == ClassifiedBy::Model {
            // The keyword line below would explain a category not chosen.
        } else if c.score() > 0 {
            let words: Vec<String> = c
                .matched()
                .iter()
                .filter_map(|k| {
                    let w = classifier.weight(*k, primary);
                    (w != 0).then(|| format!("{} {w:+}", classifier.keyword(*k)))
                })
                .chain(c.channel().and_then(|ch| {
                    let bonus = classifier.channel_bonus(c, primary);
                    (bonus != 0).then(|| format!("channel {} {bonus:+}", ch.as_str()))
                }))
                .collect();
            out.push(format!(
                "category {} (score {}): {}",
                self.category().code(),
                c.score(),
                words.join(", ")
            ));
        } else {
            out.push(format!(
                "no category keyword matched: {}",
                self.category().code()
            ));
        }
        if let (ClassifiedBy::Both, Some(p)) = (self.verdict.by, self.verdict.confidence) {
            out.push(format!(
                "the model agrees (confidence {p:.2}, domain {} {:.2}): {}",
                self.domain(),
                self.verdict.domain_confidence,
                evidence()
            ));
        }
        if self.low_confidence {
            out.push(format!(
                "low confidence: {:.2} is below {:.2}{}",
                self.verdict.confidence.unwrap_or(0.0),
                r.inner.min_confidence,
                if r.inner.triage_low_confidence {
                    ", so the fallback category's handler decides"
                } else {
                    ""
                }
            ));
        }
        if let Some(ch) = c.channel() {
            if let Some((replaced, _)) = classifier
                .replacements_on(ch)
                .find(|(_, by)| *by == primary)
            {
                out.push(format!(
                    "on the {} channel {} takes the place of {}",
                    ch.as_str(),
                    self.category().code(),
                    r.category(replaced).code()
                ));
            }
        }
        if !c.secondary().is_empty() {
            let codes: Vec<&str> = c
                .secondary()
                .iter()
                .map(|s| r.category(*s).code())
                .collect();
            out.push(format!("also: {}", codes.join(", ")));
        }
        if let Some(k) = c.urgent_by() {
            out.push(format!("urgent: '{}'", classifier.keyword(k)));
        } else if self.assignment.forces_urgent() {
            out.push("urgent: the rule raises every ticket to urgent".into());
        }
        let locator = r.locator();
        for note in self.location.notes() {
            out.push(match *note {
                LocationNote::PointIn { district } => match self.converted_from {
                    Some(crs) if crs != crate::Crs::Wgs84 => {
                        format!("coordinates ({crs:?} → WGS-84) fall in {}", dname(district))
                    }
                    _ => format!("coordinates fall in {}", dname(district)),
                },
                LocationNote::PointOutside => "coordinates fall outside every district".into(),
                LocationNote::FromText => "no address: place names read from the text".into(),
                LocationNote::Name { name, places: 1 } => {
                    format!("place name '{}'", locator.name_text(name))
                }
                LocationNote::Name { name, places } => format!(
                    "place name '{}' stands for {places} places",
                    locator.name_text(name)
                ),
                LocationNote::AmbiguousDistrict { candidates } => format!(
                    "clues tie between {candidates} districts: district left unknown, not guessed"
                ),
                LocationNote::AmbiguousStreet { candidates } => format!(
                    "clues tie between {candidates} streets: street left unknown, not guessed"
                ),
                LocationNote::NameConflict { name } => format!(
                    "conflict: '{}' is not in the district the other clues agree on",
                    locator.name_text(name)
                ),
                LocationNote::PointConflict { district } => format!(
                    "conflict: coordinates fall in {}, the {} outvotes them",
                    dname(district),
                    match self.located_by() {
                        LocatedBy::Building => "building code",
                        _ => "address",
                    }
                ),
                LocationNote::Building { building } => {
                    let b = r.buildings().building(building);
                    let c = j.community(b.community());
                    format!(
                        "building {} {} ({}): {} {}",
                        b.code(),
                        b.name(),
                        b.address(),
                        c.name(),
                        c.code()
                    )
                }
                LocationNote::UnknownBuilding => format!(
                    "building code '{}' is not in the registry ({} buildings): located from the other clues",
                    self.location.unknown_building().unwrap_or(""),
                    r.buildings().len()
                ),
            });
        }
        match (self.location.district(), self.location.street()) {
            (_, Some(s)) => out.push(format!(
                "located by {}: {} {}",
                self.located_by().as_str(),
                j.street(s).name(),
                j.street(s).code()
            )),
            (Some(d), None) => out.push(format!(
                "located by {}: {}",
                self.located_by().as_str(),
                dname(d)
            )),
            (None, None) => out.push("location unknown".into()),
        }
        let agency = r.rules().agency(self.assignment.agency());
        match self.assignment.source() {
            RuleSource::Handler => out.push(format!(
                "{} → {} {} (category handler)",
                self.category().code(),
                agency.code(),
                agency.name()
            )),
            RuleSource::Rule(i) => out.push(format!(
                "{} → {} {} (rule {i}{})",
                self.category().code(),
                agency.code(),
                agency.name(),
                r.rules()
                    .rule_note(i)
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            )),
        }
        let co = self.co_agencies();
        if !co.is_empty() {
            let codes: Vec<&str> = co.iter().map(|a| r.rules().agency(*a).code()).collect();
            out.push(format!("co-handlers: {}", codes.join(", ")));
        }
        match self.assignment.fallback() {
            Some(Fallback::StreetUnknown) => {
                out.push("street unknown: sent to the district's 12345 office".into())
            }
            Some(Fallback::DistrictUnknown) => {
                out.push("district unknown: sent to human triage".into())
            }
            None => {}
        }
        let sla = self.assignment.sla();
        out.push(match (self.priority, sla.normal_working_days) {
            (Priority::Urgent, _) => format!("deadline: {} h (urgent SLA)", sla.urgent_hours),
            (Priority::Normal, Some(days)) => format!(
                "deadline: {days} working days (normal SLA, {} calendar)",
                r.inner.calendar.name()
            ),
            (Priority::Normal, None) => {
                format!("deadline: {} h (normal SLA)", sla.normal_hours.unwrap_or(0))
            }
        });
        if self.language.service() != LanguageService::Native {
            out.push(format!(
                "language {}: {}",
                self.language.code(),
                match self.language.service() {
                    LanguageService::Seat => "foreign-language seat",
                    _ => "interpreter three-way call",
                }
            ));
        }
        out
    }

    /// The owned, serializable form: the `examples/route` output line.
    pub fn to_record(&self, id: &str) -> DecisionRecord {
        let rules = self.router.rules();
        let mut categories = vec![self.category().code().to_string()];
        categories.extend(
            self.classification
                .secondary()
                .iter()
                .map(|c| self.router.category(*c).code().to_string()),
        );
        DecisionRecord {
            id: id.to_string(),
            category: self.category().code().to_string(),
            domain: self.domain(),
            categories,
            confidence: self
                .verdict
                .confidence
                .map(|p| (f64::from(p) * 1e4).round() / 1e4),
            classified_by: self.verdict.by,
            low_confidence: self.low_confidence,
            district: self.district_code().map(str::to_string),
            street: self.street_code().map(str::to_string),
            community: self.community_code().map(str::to_string),
            building: self.building_code().map(str::to_string),
            located_by: self.located_by(),
            agency: self.agency_code().to_string(),
            co_agencies: self
                .co_agencies()
                .iter()
                .map(|a| rules.agency(*a).code().to_string())
                .collect(),
            priority: self.priority,
            deadline: self.deadline_local(),
            language: self.language.code().to_string(),
            language_service: self.language.service(),
            explain: self.explain(),
        }
    }
}

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

/// ln(e^a + e^b), without overflow.
fn log_add_exp(a: f32, b: f32) -> f32 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if lo == f32::NEG_INFINITY {
        hi
    } else {
        hi + (lo - hi).exp().ln_1p()
    }
}

/// Fewer n-grams known to the model than this, and it abstains.
const MIN_MODEL_GRAMS: usize = 6;

/// With no keyword match, the model decides only when its domain holds at
/// least this much probability: place names alone ("朝阳区呼家楼街道") give
/// 0.44–0.48 to `urban_rural`, a real demand 0.6 and more.
const MODEL_ALONE_DOMAIN: f32 = 0.5;

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

/// The model's part in one decision.
#[derive(Clone, Debug, Default)]
struct Verdict {
    confidence: Option<f32>,
    /// The summed probability of the chosen category's domain.
    domain_confidence: f32,
    by: ClassifiedBy,
    /// The keywords' choice when the model outweighed it.
    overruled: Option<CategoryId>,
    evidence: SmallVec<[(u64, f32); 3]>,
    /// No keyword matched and the model is below the minimum confidence:
    /// the category stayed the fallback.
    unsure: bool,
}

/// A model bound to a taxonomy: label ↔ category maps.
#[derive(Clone, Debug)]
struct Blend {
    model: Model,
    domain_of: Vec<Domain>,
    category_of: Vec<CategoryId>,
    label_of: Vec<Option<u16>>,
    /// (label, category) of the labels some channel cannot fall into.
    restricted: Vec<(u16, CategoryId)>,
}

impl Blend {
    fn new(model: Model, classifier: &Classifier) -> Result<Blend, BuildError> {
        let mut category_of = Vec::with_capacity(model.labels().len());
        let mut label_of = vec![None; classifier.categories().len()];
        for (i, label) in model.labels().iter().enumerate() {
            let id = classifier
                .category_id(label)
                .ok_or_else(|| BuildErrorKind::Model {
                    reason: format!("label '{label}' is not a category code of the taxonomy"),
                })?;
            category_of.push(id);
            label_of[id.as_usize()] = Some(i as u16);
        }
        let restricted = category_of
            .iter()
            .enumerate()
            .filter(|(_, c)| classifier.category(**c).is_restricted())
            .map(|(l, c)| (l as u16, *c))
            .collect();
        Ok(Blend {
            model,
            domain_of: category_of
                .iter()
                .map(|c| classifier.category(*c).domain())
                .collect(),
            category_of,
            label_of,
            restricted,
        })
    }
}
