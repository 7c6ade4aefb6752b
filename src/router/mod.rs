//! The router: one ticket in, one explained decision out (派).

mod blend;
mod builder;
mod decision;
mod record;

pub use builder::RouterBuilder;
pub use decision::Decision;
pub(crate) use record::RecordScratch;
pub use record::{ClassifiedBy, DecisionRecord};

use std::sync::Arc;

use jiff::{tz::TimeZone, SignedDuration, Timestamp};

use crate::calendar::Calendar;
use crate::classify::language::Language;
use crate::classify::model::Model;
use crate::classify::normalize::normalize;
use crate::classify::{Category, CategoryId, Classifier};
use crate::config::RouterConfig;
use crate::error::{BuildError, TicketError};
use crate::locate::buildings::Buildings;
use crate::locate::jurisdictions::Jurisdictions;
use crate::locate::Locator;
use crate::rules::{Priority, RuleSet};
use crate::ticket::Ticket;

use blend::{Blend, Verdict};

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
