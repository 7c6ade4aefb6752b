//! [`DecisionRecord`], the owned output line, and [`ClassifiedBy`].

use std::fmt::Write as _;

use serde::ser::{SerializeStruct, Serializer};
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
    /// The caller chose the category ([`Ticket::category`]); keywords still
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

/// A [`DecisionRecord`] borrowed from a decision: serializes to the same
/// bytes without copying a code into a `String` of its own.
struct RecordView<'a> {
    decision: &'a Decision,
    id: &'a str,
    scratch: &'a RecordScratch,
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

impl Serialize for RecordView<'_> {
    /// Field for field what `#[derive(Serialize)]` writes for
    /// [`DecisionRecord`] (tests/jsonl_view.rs compares the bytes).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.decision;
        let router = &d.router;
        let rules = router.rules();
        let building = d.building_code();
        let fields = if building.is_some() { 19 } else { 18 };
        let mut st = s.serialize_struct("DecisionRecord", fields)?;
        st.serialize_field("id", self.id)?;
        st.serialize_field("category", d.category().code())?;
        st.serialize_field("domain", &d.domain())?;
        st.serialize_field(
            "categories",
            &Seq(|| {
                std::iter::once(d.category().code()).chain(
                    d.classification
                        .secondary()
                        .iter()
                        .map(|c| router.category(*c).code()),
                )
            }),
        )?;
        st.serialize_field("confidence", &record_confidence(d))?;
        st.serialize_field("classified_by", &d.verdict.by)?;
        st.serialize_field("low_confidence", &d.low_confidence)?;
        st.serialize_field("district", &d.district_code())?;
        st.serialize_field("street", &d.street_code())?;
        st.serialize_field("community", &d.community_code())?;
        if let Some(b) = building {
            st.serialize_field("building", b)?;
        } else {
            st.skip_field("building")?;
        }
        st.serialize_field("located_by", &d.located_by())?;
        st.serialize_field("agency", d.agency_code())?;
        st.serialize_field(
            "co_agencies",
            &Seq(|| d.co_agencies().iter().map(|a| rules.agency(*a).code())),
        )?;
        st.serialize_field("priority", &d.priority)?;
        st.serialize_field("deadline", self.scratch.deadline.as_str())?;
        st.serialize_field("language", d.language.code())?;
        st.serialize_field("language_service", &d.language.service())?;
        st.serialize_field("explain", &Seq(|| self.scratch.explain.iter()))?;
        st.end()
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
    /// what `serde_json` writes for the record, through buffers in
    /// `scratch` instead of a record's owned strings.
    pub(crate) fn write_record<W: std::io::Write>(
        &self,
        id: &str,
        scratch: &mut RecordScratch,
        out: W,
    ) -> serde_json::Result<()> {
        self.explain_into(&mut scratch.explain);
        scratch.deadline.clear();
        let _ = write!(
            scratch.deadline,
            "{}",
            self.deadline
                .to_zoned(self.router.time_zone().clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
        );
        let view = RecordView {
            decision: self,
            id,
            scratch,
        };
        serde_json::to_writer(out, &view)
    }
}
