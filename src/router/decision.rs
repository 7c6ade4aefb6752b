//! [`Decision`]: one routing decision and its explanation.

use std::fmt::{self, Write as _};

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
    /// [`RouterBuilder::low_confidence_to_triage`](crate::RouterBuilder::low_confidence_to_triage).
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
        let mut lines = ExplainLines::default();
        self.explain_into(&mut lines);
        lines.iter().map(str::to_string).collect()
    }

    /// [`Decision::explain`] written into `out` (cleared first): one buffer
    /// for every line, reused from ticket to ticket by the JSON Lines writer.
    pub(crate) fn explain_into(&self, out: &mut ExplainLines) {
        out.clear();
        let r = &self.router;
        let c = &self.classification;
        let classifier = r.classifier();
        let j = r.jurisdictions();
        let dname = |d: DistrictId| {
            let d = j.district(d);
            Pair(d.name(), d.code())
        };
        let primary = c.primary();
        let evidence = |out: &mut ExplainLines| {
            for (i, (k, w)) in self.verdict.evidence.iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                out.part(format_args!("{sep}{} {w:+.2}", gram_text(*k)));
            }
        };
        if self.verdict.unsure {
            out.line(format_args!(
                "no category keyword matched and the model is unsure (domain {:.2}): {}",
                self.verdict.domain_confidence,
                self.category().code()
            ));
        } else if let (ClassifiedBy::Model, Some(p)) = (self.verdict.by, self.verdict.confidence) {
            out.part(format_args!(
                "category {} by the model (confidence {p:.2}, domain {} {:.2}): ",
                self.category().code(),
                self.domain(),
                self.verdict.domain_confidence,
            ));
            evidence(out);
            out.end();
            if let Some(k) = self.verdict.overruled {
                out.line(format_args!(
                    "the model outweighed the keywords, which said {}",
                    r.category(k).code()
                ));
            }
        }
        if self.verdict.by == ClassifiedBy::Caller {
            out.line(format_args!(
                "category {} chosen by the caller",
                self.category().code()
            ));
        } else if self.verdict.by == ClassifiedBy::Model {
            // The keyword line below would explain a category not chosen.
        } else if c.score() > 0 {
            out.part(format_args!(
                "category {} (score {}): ",
                self.category().code(),
                c.score()
            ));
            let mut sep = "";
            for k in c.matched() {
                let w = classifier.weight(*k, primary);
                if w != 0 {
                    out.part(format_args!("{sep}{} {w:+}", classifier.keyword(*k)));
                    sep = ", ";
                }
            }
            if let Some(ch) = c.channel() {
                let bonus = classifier.channel_bonus(c, primary);
                if bonus != 0 {
                    out.part(format_args!("{sep}channel {} {bonus:+}", ch.as_str()));
                }
            }
            out.end();
        } else {
            out.line(format_args!(
                "no category keyword matched: {}",
                self.category().code()
            ));
        }
        if let (ClassifiedBy::Both, Some(p)) = (self.verdict.by, self.verdict.confidence) {
            out.part(format_args!(
                "the model agrees (confidence {p:.2}, domain {} {:.2}): ",
                self.domain(),
                self.verdict.domain_confidence,
            ));
            evidence(out);
            out.end();
        }
        if self.low_confidence {
            out.line(format_args!(
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
                out.line(format_args!(
                    "on the {} channel {} takes the place of {}",
                    ch.as_str(),
                    self.category().code(),
                    r.category(replaced).code()
                ));
            }
        }
        if !c.secondary().is_empty() {
            out.part(format_args!("also: "));
            for (i, s) in c.secondary().iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                out.part(format_args!("{sep}{}", r.category(*s).code()));
            }
            out.end();
        }
        if let Some(k) = c.urgent_by() {
            out.line(format_args!("urgent: '{}'", classifier.keyword(k)));
        } else if self.assignment.forces_urgent() {
            out.line(format_args!(
                "urgent: the rule raises every ticket to urgent"
            ));
        }
        let locator = r.locator();
        for note in self.location.notes() {
            match *note {
                LocationNote::PointIn { district } => match self.converted_from {
                    Some(crs) if crs != crate::Crs::Wgs84 => out.line(format_args!(
                        "coordinates ({crs:?} → WGS-84) fall in {}",
                        dname(district)
                    )),
                    _ => out.line(format_args!("coordinates fall in {}", dname(district))),
                },
                LocationNote::PointOutside => {
                    out.line(format_args!("coordinates fall outside every district"))
                }
                LocationNote::FromText => {
                    out.line(format_args!("no address: place names read from the text"))
                }
                LocationNote::Name { name, places: 1 } => {
                    out.line(format_args!("place name '{}'", locator.name_text(name)))
                }
                LocationNote::Name { name, places } => out.line(format_args!(
                    "place name '{}' stands for {places} places",
                    locator.name_text(name)
                )),
                LocationNote::AmbiguousDistrict { candidates } => out.line(format_args!(
                    "clues tie between {candidates} districts: district left unknown, not guessed"
                )),
                LocationNote::AmbiguousStreet { candidates } => out.line(format_args!(
                    "clues tie between {candidates} streets: street left unknown, not guessed"
                )),
                LocationNote::NameConflict { name } => out.line(format_args!(
                    "conflict: '{}' is not in the district the other clues agree on",
                    locator.name_text(name)
                )),
                LocationNote::PointConflict { district } => out.line(format_args!(
                    "conflict: coordinates fall in {}, the {} outvotes them",
                    dname(district),
                    match self.located_by() {
                        LocatedBy::Building => "building code",
                        _ => "address",
                    }
                )),
                LocationNote::Building { building } => {
                    let b = r.buildings().building(building);
                    let c = j.community(b.community());
                    out.line(format_args!(
                        "building {} {} ({}): {} {}",
                        b.code(),
                        b.name(),
                        b.address(),
                        c.name(),
                        c.code()
                    ))
                }
                LocationNote::UnknownBuilding => out.line(format_args!(
                    "building code '{}' is not in the registry ({} buildings): located from the other clues",
                    self.location.unknown_building().unwrap_or(""),
                    r.buildings().len()
                )),
            }
        }
        match (self.location.district(), self.location.street()) {
            (_, Some(s)) => out.line(format_args!(
                "located by {}: {} {}",
                self.located_by().as_str(),
                j.street(s).name(),
                j.street(s).code()
            )),
            (Some(d), None) => out.line(format_args!(
                "located by {}: {}",
                self.located_by().as_str(),
                dname(d)
            )),
            (None, None) => out.line(format_args!("location unknown")),
        }
        let agency = r.rules().agency(self.assignment.agency());
        match self.assignment.source() {
            RuleSource::Handler => out.line(format_args!(
                "{} → {} {} (category handler)",
                self.category().code(),
                agency.code(),
                agency.name()
            )),
            RuleSource::Rule(i) => {
                out.part(format_args!(
                    "{} → {} {} (rule {i}",
                    self.category().code(),
                    agency.code(),
                    agency.name(),
                ));
                if let Some(n) = r.rules().rule_note(i) {
                    out.part(format_args!(": {n}"));
                }
                out.line(format_args!(")"));
            }
        }
        let co = self.co_agencies();
        if !co.is_empty() {
            out.part(format_args!("co-handlers: "));
            for (i, a) in co.iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                out.part(format_args!("{sep}{}", r.rules().agency(*a).code()));
            }
            out.end();
        }
        match self.assignment.fallback() {
            Some(Fallback::StreetUnknown) => out.line(format_args!(
                "street unknown: sent to the district's 12345 office"
            )),
            Some(Fallback::DistrictUnknown) => {
                out.line(format_args!("district unknown: sent to human triage"))
            }
            None => {}
        }
        let sla = self.assignment.sla();
        match (self.priority, sla.normal_working_days) {
            (Priority::Urgent, _) => out.line(format_args!(
                "deadline: {} h (urgent SLA)",
                sla.urgent_hours
            )),
            (Priority::Normal, Some(days)) => out.line(format_args!(
                "deadline: {days} working days (normal SLA, {} calendar)",
                r.inner.calendar.name()
            )),
            (Priority::Normal, None) => out.line(format_args!(
                "deadline: {} h (normal SLA)",
                sla.normal_hours.unwrap_or(0)
            )),
        }
        if self.language.service() != LanguageService::Native {
            out.line(format_args!(
                "language {}: {}",
                self.language.code(),
                match self.language.service() {
                    LanguageService::Seat => "foreign-language seat",
                    _ => "interpreter three-way call",
                }
            ));
        }
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
            confidence: super::record::record_confidence(self),
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

/// `name code`, written where it is needed instead of into a `String`.
struct Pair<'a>(&'a str, &'a str);

impl fmt::Display for Pair<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.1)
    }
}

/// The lines of [`Decision::explain`] in one reused buffer: the text of
/// every line back to back, and where each ends.
#[derive(Clone, Debug, Default)]
pub(crate) struct ExplainLines {
    text: String,
    ends: Vec<usize>,
}

impl ExplainLines {
    /// Forgets the lines, keeping the memory.
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Writes part of the line being built.
    fn part(&mut self, args: fmt::Arguments<'_>) {
        // Writing into a String cannot fail.
        let _ = self.text.write_fmt(args);
    }

    /// Ends the line being built.
    fn end(&mut self) {
        self.ends.push(self.text.len());
    }

    /// Writes the rest of the line being built (often all of it) and ends it.
    fn line(&mut self, args: fmt::Arguments<'_>) {
        self.part(args);
        self.end();
    }

    /// The lines, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.text[a..b])
    }
}
