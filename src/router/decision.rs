//! [`Decision`]: one routing decision and its explanation.

use jiff::Timestamp;

use crate::classify::language::{Language, LanguageService};
use crate::classify::model::features::gram_text;
use crate::classify::{Category, Classification, Domain};
use crate::locate::buildings::Building;
use crate::locate::jurisdictions::DistrictId;
use crate::locate::{LocatedBy, Location, LocationNote};
use crate::rules::{AgencyId, Assignment, Fallback, Priority, RuleSource};

use super::blend::Verdict;
use super::{ClassifiedBy, DecisionRecord, Router};

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
    pub(super) router: Router,
    pub(super) classification: Classification,
    pub(super) verdict: Verdict,
    pub(super) low_confidence: bool,
    pub(super) location: Location,
    pub(super) assignment: Assignment,
    pub(super) priority: Priority,
    pub(super) deadline: Timestamp,
    pub(super) language: Language,
    pub(super) converted_from: Option<crate::Crs>,
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
