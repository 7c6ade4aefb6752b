//! [`DecisionRecord`], the owned output line, and [`ClassifiedBy`].

use std::fmt::Write as _;

use std::io::{self, Write};

use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::classify::language::LanguageService;
use crate::classify::Domain;
use crate::locate::LocatedBy;
use crate::rules::Priority;

use super::decision::ExplainLines;
use super::Decision;

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
    /// The caller chose the category ([`Ticket::category`](crate::Ticket::category)); keywords still
    /// decide urgency.
    Caller,
}

/// Buffers reused from line to line by [`Decision::write_record`]: the
/// explain lines and the deadline text.
#[derive(Debug, Default)]
pub(crate) struct RecordScratch {
    explain: ExplainLines,
    deadline: String,
}

/// A sequence serialized from an iterator made on demand.
struct Seq<F>(F);

impl<F, I> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

/// The record's confidence: the model's, rounded to 4 decimals.
pub(super) fn record_confidence(d: &Decision) -> Option<f64> {
    d.verdict
        .confidence
        .map(|p| (f64::from(p) * 1e4).round() / 1e4)
}

impl Decision {
    /// Writes [`Decision::to_record`]`(id)` as JSON to `out`, byte for byte
    /// what `serde_json` writes for the record (tests/jsonl_view.rs
    /// compares them), without a record's owned strings: the field names
    /// are written as they are (serde_json would escape each name, every
    /// line), each value is serialized by serde_json from the decision, and
    /// the explain lines and deadline go through buffers in `scratch`.
    pub(crate) fn write_record<W: Write>(
        &self,
        id: &str,
        scratch: &mut RecordScratch,
        mut out: W,
    ) -> io::Result<()> {
        self.explain_into(&mut scratch.explain);
        scratch.deadline.clear();
        let _ = write!(
            scratch.deadline,
            "{}",
            self.deadline
                .to_zoned(self.router.time_zone().clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
        );
        let router = &self.router;
        let rules = router.rules();
        let w = &mut out;
        field(w, b"{\"id\":", id)?;
        field(w, b",\"category\":", self.category().code())?;
        field(w, b",\"domain\":", &self.domain())?;
        let categories = || {
            std::iter::once(self.category().code()).chain(
                self.classification
                    .secondary()
                    .iter()
                    .map(|c| router.category(*c).code()),
            )
        };
        field(w, b",\"categories\":", &Seq(categories))?;
        field(w, b",\"confidence\":", &record_confidence(self))?;
        field(w, b",\"classified_by\":", &self.verdict.by)?;
        field(w, b",\"low_confidence\":", &self.low_confidence)?;
        field(w, b",\"district\":", &self.district_code())?;
        field(w, b",\"street\":", &self.street_code())?;
        field(w, b",\"community\":", &self.community_code())?;
        if let Some(b) = self.building_code() {
            field(w, b",\"building\":", b)?;
        }
        field(w, b",\"located_by\":", &self.located_by())?;
        field(w, b",\"agency\":", self.agency_code())?;
        let co = || self.co_agencies().iter().map(|a| rules.agency(*a).code());
        field(w, b",\"co_agencies\":", &Seq(co))?;
        field(w, b",\"priority\":", &self.priority)?;
        field(w, b",\"deadline\":", scratch.deadline.as_str())?;
        field(w, b",\"language\":", self.language.code())?;
        field(w, b",\"language_service\":", &self.language.service())?;
        field(w, b",\"explain\":", &Seq(|| scratch.explain.iter()))?;
        w.write_all(b"}")
    }
}

/// Writes `name` (the JSON up to the value) as it is, then `value` as
/// serde_json serializes it.
fn field<W: Write, T: Serialize + ?Sized>(w: &mut W, name: &[u8], value: &T) -> io::Result<()> {
    w.write_all(name)?;
    serde_json::to_writer(&mut *w, value).map_err(io::Error::from)
}
