//! 每月一题 candidates: the recurring problems of a month, ranked.
//!
//! Beijing's 每月一题 ("one problem a month") takes the problems citizens
//! raise most, most persistently, and that are hardest to solve, and
//! makes each one a city-wide project: 2–3 problems a month, 13–27 a year
//! (加装电梯 in old communities, 停车难, 供暖不热 …). [`Topics`] reads the
//! tickets of a month and the months before and proposes the candidates.
//!
//! # What a candidate is
//!
//! A candidate is **category × place × wording**:
//!
//! * the **category** the router gave the ticket;
//! * the **place**: its street; or, when the same problem is spread over a
//!   district — at least [`spread_streets`](TopicsConfig::spread_streets)
//!   streets and no street with half of it — the district;
//! * the **wording**: the phrase of the category the ticket is about, so
//!   that 加装电梯 and 电梯坏了 are separate candidates within 电梯. It is the
//!   most specific keyword of the category the text matched (the
//!   taxonomy's keywords are weighted by specificity: 加装电梯 10, 装电梯 8,
//!   电梯 6); a ticket that matched none (the model placed it) falls back to
//!   its first content phrase once place names and filler such as 你好 or
//!   麻烦尽快处理 are removed. The wording depends on the ticket alone, so it
//!   is the same in every month and counts are exact.
//!
//! # The score
//!
//! Each part is scaled to 0–1 and the total is their weighted mean
//! ([`Weights`]; default weights in brackets):
//!
//! | part | what | how |
//! |---|---|---|
//! | volume (0.30) | how many tickets this month | `ln(1+v) / ln(1+v_max)` over the month's candidates |
//! | persistence (0.25) | months it recurred | months of the last `lookback + 1` with at least `present_min` tickets, ÷ `lookback + 1` |
//! | growth (0.15) | against the months before | `log2((v+1)/(mean+1)) / 2`, clamped to 0–1: four times the earlier mean scores 1; 0 when no earlier month was seen |
//! | spread (0.10) | streets it is in | `s / (s + spread_streets)` |
//! | difficulty (0.20) | how badly it is handled | mean of 1 − resolution rate, 1 − satisfaction rate and returns per ticket, from [`TicketRecord`]s; left out of the mean when no record was given |
//!
//! The real selection weighs frequency, persistence and difficulty: those
//! three carry 75% of the score, and a candidate is **suggested** only if
//! it recurred (present in at least two of the months looked at). The
//! first [`picks`](TopicsConfig::picks) (3) suggested candidates are the
//! month's proposal — 2–3 a month, within the 13–27 a year the city
//! chooses; the rest of the ranking is there for the people who decide.
//!
//! # Memory
//!
//! Tickets are folded into one counter per month × category × place ×
//! wording (about 100 bytes with its hash-table slot, plus up to
//! [`evidence`](TopicsConfig::evidence) ticket ids); no text is kept.
//! A month holds at most [`max_cells`](TopicsConfig::max_cells) counters:
//! beyond that, new wordings of a category and district are counted
//! together as 其他表述. With [`Topics::only`] set, tickets outside the
//! month and its look-back are not kept at all.
//!
//! # Examples
//!
//! ```
//! use hotline_router::analytics::topics::Topics;
//! use hotline_router::{Router, Ticket};
//!
//! let router = Router::beijing();
//! let mut topics = Topics::new(&router);
//! let months = ["2024-09", "2024-10", "2024-11"];
//! for (m, month) in months.iter().enumerate() {
//!     for i in 0..(3 + 4 * m) {
//!         let t = Ticket::new(format!("{month}-{i}"), "老楼想加装电梯，不知道找谁")
//!             .with_address("朝阳区呼家楼街道")
//!             .with_received_at(format!("{month}-15T10:00:00+08:00").parse()?);
//!         topics.add(&t, &router.route(&t)?);
//!     }
//! }
//! let ranked = topics.rank("2024-11".parse()?);
//! let top = &ranked[0];
//! assert_eq!((top.category.as_str(), top.wording.as_str()), ("housing.elevator", "加装电梯"));
//! assert_eq!(top.place.name(), "朝阳区呼家楼街道");
//! assert_eq!((top.volume, top.months_present), (11, 3));
//! assert!(top.suggested);
//! assert_eq!(top.evidence[0], "2024-11-0");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`TicketRecord`]: crate::dispatch::TicketRecord

use std::collections::BTreeMap;

use smallvec::SmallVec;

use super::Month;
use crate::classify::normalize::normalize;
use crate::dispatch::TicketRecord;
use crate::{CategoryId, Classification, Decision, DistrictId, Router, StreetId, Ticket};
use wording::{content_phrase, keyword_phrase, place_names};

mod config;
mod rank;
mod wording;

pub use config::{TopicsConfig, Weights};

/// The wording of tickets with no phrase of their own (and of overflow).
const OTHER_WORDING: &str = "其他表述";
/// A cell's street when the ticket had none.
const NO_STREET: u32 = u32::MAX;
/// Most distinct wordings remembered; beyond it, new ones are 其他表述.
const MAX_WORDINGS: usize = 1 << 16;

/// Where a candidate problem is.
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::topics::Place;
///
/// let p = Place::Street { code: "110105003".into(), name: "呼家楼街道".into(), district: "朝阳区".into() };
/// assert_eq!(p.name(), "朝阳区呼家楼街道");
/// assert_eq!(p.code(), "110105003");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// One street or township.
    Street {
        /// The street's code.
        code: String,
        /// The street's name.
        name: String,
        /// Its district's name.
        district: String,
    },
    /// A district: the problem is spread over its streets, or its tickets
    /// named no street.
    District {
        /// The district's code.
        code: String,
        /// The district's name.
        name: String,
    },
}

impl Place {
    /// The full name (朝阳区呼家楼街道, or 朝阳区).
    pub fn name(&self) -> String {
        match self {
            Place::Street { name, district, .. } => format!("{district}{name}"),
            Place::District { name, .. } => name.clone(),
        }
    }

    /// The street's or district's code.
    pub fn code(&self) -> &str {
        match self {
            Place::Street { code, .. } | Place::District { code, .. } => code,
        }
    }
}

/// What the dispatcher's records say about a candidate's tickets.
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::topics::Outcome;
///
/// let o = Outcome { records: 10, evaluated: 8, resolved: 4, satisfied: 2, returns: 3 };
/// assert_eq!(o.resolution_rate(), Some(0.5));
/// assert_eq!(o.satisfaction_rate(), Some(0.25));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Records seen.
    pub records: u32,
    /// Of those, evaluated at call-back.
    pub evaluated: u32,
    /// Evaluated as resolved.
    pub resolved: u32,
    /// Evaluated as satisfied.
    pub satisfied: u32,
    /// Returns (退单) over all the records.
    pub returns: u32,
}

impl Outcome {
    /// Resolved of evaluated.
    pub fn resolution_rate(&self) -> Option<f64> {
        (self.evaluated > 0).then(|| f64::from(self.resolved) / f64::from(self.evaluated))
    }
    /// Satisfied of evaluated.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        (self.evaluated > 0).then(|| f64::from(self.satisfied) / f64::from(self.evaluated))
    }

    /// 0 (handled well) to 1 (nothing resolved, nobody satisfied, every
    /// ticket returned); 0 without records.
    fn difficulty(&self) -> f64 {
        let mut parts: SmallVec<[f64; 3]> = SmallVec::new();
        parts.extend(self.resolution_rate().map(|r| 1.0 - r));
        parts.extend(self.satisfaction_rate().map(|r| 1.0 - r));
        if self.records > 0 {
            parts.push((f64::from(self.returns) / f64::from(self.records)).min(1.0));
        }
        if parts.is_empty() {
            0.0
        } else {
            parts.iter().sum::<f64>() / parts.len() as f64
        }
    }

    fn add(&mut self, o: &Outcome) {
        self.records += o.records;
        self.evaluated += o.evaluated;
        self.resolved += o.resolved;
        self.satisfied += o.satisfied;
        self.returns += o.returns;
    }
}

/// A candidate's score, part by part (each 0–1) and in total.
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::topics::Topics;
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let mut topics = Topics::new(&router);
/// let t = Ticket::new("T1", "楼上装修噪音太大")
///     .with_address("西城区德胜街道")
///     .with_received_at("2024-11-20T20:00:00+08:00".parse()?);
/// topics.add(&t, &router.route(&t)?);
/// let score = topics.rank("2024-11".parse()?)[0].score;
/// assert_eq!(score.volume, 1.0); // the month's only candidate is its busiest
/// assert_eq!(score.growth, 0.0); // no earlier month was read
/// assert_eq!(score.difficulty, None); // no records were given
/// assert!(0.0 < score.total && score.total < 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Score {
    /// This month's volume against the busiest candidate's.
    pub volume: f64,
    /// Growth against the months before.
    pub growth: f64,
    /// Share of the months looked at in which it was present.
    pub persistence: f64,
    /// Spread over streets.
    pub spread: f64,
    /// How badly it is handled; `None` when no records were given.
    pub difficulty: Option<f64>,
    /// The weighted mean of the parts.
    pub total: f64,
}

/// One proposed 每月一题 problem, with the evidence for it.
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::topics::Topics;
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let mut topics = Topics::new(&router);
/// for (id, month) in [("A", "2024-10"), ("B", "2024-10"), ("C", "2024-11"), ("D", "2024-11")] {
///     let t = Ticket::new(id, "路边有辆僵尸车长期停放")
///         .with_address("海淀区学院路街道")
///         .with_received_at(format!("{month}-12T10:00:00+08:00").parse()?);
///     topics.add(&t, &router.route(&t)?);
/// }
/// let c = &topics.rank("2024-11".parse()?)[0];
/// assert_eq!(format!("{} · {} · {}", c.place.name(), c.category_name, c.wording), "海淀区学院路街道 · 停车、挪车 · 僵尸车");
/// assert_eq!(c.history, [None, None, Some(2)]); // July and August were not read
/// assert_eq!(c.months_present, 2);
/// assert_eq!(c.evidence, ["C", "D"]);
/// assert!(c.suggested); // it recurred
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The category code.
    pub category: String,
    /// The category's name (电梯故障、加装电梯).
    pub category_name: String,
    /// Where.
    pub place: Place,
    /// The recurring phrase (加装电梯).
    pub wording: String,
    /// Tickets this month.
    pub volume: u32,
    /// Tickets in each of the `lookback` months before, oldest first;
    /// `None` for a month of which nothing was read.
    pub history: Vec<Option<u32>>,
    /// Of the `lookback + 1` months up to this one, those with at least
    /// `present_min` tickets.
    pub months_present: u32,
    /// Streets the tickets are in (0 when none named a street).
    pub streets: u32,
    /// What the records say, when records were given.
    pub outcome: Outcome,
    /// The score.
    pub score: Score,
    /// A few of this month's ticket ids (the first ones received, from its
    /// busiest streets first).
    pub evidence: Vec<String>,
    /// One of the month's proposed problems.
    pub suggested: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    category: u16,
    district: u16,
    street: u32,
    wording: u32,
}

#[derive(Clone, Debug, Default)]
struct Cell {
    tickets: u32,
    outcome: Outcome,
    evidence: SmallVec<[Box<str>; 3]>,
}

/// Accumulates tickets and records month by month and ranks a month's
/// 每月一题 candidates; see the [module documentation](self).
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::topics::Topics;
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let mut topics = Topics::new(&router).only("2024-11".parse()?);
/// let t = Ticket::new("T1", "小区车位太少，晚上没地方停车")
///     .with_address("海淀区学院路街道")
///     .with_received_at("2024-11-02T19:00:00+08:00".parse()?);
/// assert!(topics.add(&t, &router.route(&t)?));
/// // Outside November and its look-back: not kept.
/// let old = t.clone().with_received_at("2023-01-02T19:00:00+08:00".parse()?);
/// assert!(!topics.add(&old, &router.route(&old)?));
/// // 停车 and 车位 weigh the same: the first in code-point order names it.
/// assert_eq!(topics.rank("2024-11".parse()?)[0].wording, "停车");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Topics {
    router: Router,
    config: TopicsConfig,
    only: Option<Month>,
    months: BTreeMap<Month, foldhash::HashMap<Key, Cell>>,
    wordings: Vec<Box<str>>,
    wording_ids: foldhash::HashMap<Box<str>, u32>,
    records: u64,
}

impl Topics {
    /// An empty accumulator with the default [`TopicsConfig`].
    pub fn new(router: &Router) -> Topics {
        Topics::with_config(router, TopicsConfig::default())
    }

    /// An empty accumulator with `config`.
    pub fn with_config(router: &Router, config: TopicsConfig) -> Topics {
        let mut topics = Topics {
            router: router.clone(),
            config,
            only: None,
            months: BTreeMap::new(),
            wordings: Vec::new(),
            wording_ids: foldhash::HashMap::default(),
            records: 0,
        };
        topics.wording_id(OTHER_WORDING);
        topics
    }

    /// Keeps only what ranking `month` needs: that month and the
    /// `lookback` months before it.
    pub fn only(mut self, month: Month) -> Topics {
        self.only = Some(month);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &TopicsConfig {
        &self.config
    }

    /// The months with anything counted, oldest first.
    pub fn months(&self) -> impl Iterator<Item = Month> + '_ {
        self.months.keys().copied()
    }

    /// Counters held over all months (the memory bound: see the
    /// [module documentation](self#memory)).
    pub fn cells(&self) -> usize {
        self.months.values().map(|m| m.len()).sum()
    }

    /// Counts a routed ticket. Returns whether it was counted: a ticket
    /// without `received_at` or without a district, or outside the month
    /// set with [`only`](Topics::only), is not.
    pub fn add(&mut self, ticket: &Ticket, decision: &Decision) -> bool {
        let Some(at) = ticket.received_at else {
            return false;
        };
        let Some(category) = self.router.category_id(decision.category().code()) else {
            return false;
        };
        let loc = decision.location();
        let (district, street) = (loc.district(), loc.street());
        let month = Month::of(at, self.router.time_zone());
        let Some(district) = district.filter(|_| self.wanted(month)) else {
            return false;
        };
        let wording = self.wording_of(
            &ticket.text,
            decision.classification(),
            category,
            district,
            street,
            loc.community(),
        );
        let key = Key {
            category: category.as_usize() as u16,
            district: district.as_usize() as u16,
            street: street.map_or(NO_STREET, |s| s.as_usize() as u32),
            wording,
        };
        let evidence = self.config.evidence;
        let cell = self.cell(month, key);
        cell.tickets += 1;
        if cell.evidence.len() < evidence {
            cell.evidence.push(ticket.id.as_str().into());
        }
        true
    }

    /// Adds what a dispatcher's record says about how a ticket was
    /// handled (evaluation and returns) to its candidate's difficulty. The
    /// ticket itself is counted by [`add`](Topics::add); a record alone adds
    /// no volume. Returns whether it was counted (see `add`).
    pub fn add_record(&mut self, record: &TicketRecord) -> bool {
        let routing = record.routing();
        let j = self.router.jurisdictions();
        let Some(category) = self.router.category_id(&routing.category) else {
            return false;
        };
        let district = routing.district.as_deref().and_then(|c| j.district_id(c));
        let street = routing.street.as_deref().and_then(|c| j.street_id(c));
        let month = Month::of(record.received_at(), self.router.time_zone());
        let Some(district) = district.filter(|_| self.wanted(month)) else {
            return false;
        };
        let ticket = record.ticket();
        let classification = self.router.classifier().classify(&normalize(&ticket.text));
        let community = self.router.locator().locate(ticket).community();
        let wording = self.wording_of(
            &ticket.text,
            &classification,
            category,
            district,
            street,
            community,
        );
        let key = Key {
            category: category.as_usize() as u16,
            district: district.as_usize() as u16,
            street: street.map_or(NO_STREET, |s| s.as_usize() as u32),
            wording,
        };
        let e = record.evaluation();
        let outcome = Outcome {
            records: 1,
            evaluated: u32::from(e.is_some()),
            resolved: u32::from(e.is_some_and(|e| e.resolved)),
            satisfied: u32::from(e.is_some_and(|e| e.satisfied)),
            returns: record.returned_from().len() as u32,
        };
        self.cell(month, key).outcome.add(&outcome);
        self.records += 1;
        true
    }

    fn wanted(&self, month: Month) -> bool {
        self.only.is_none_or(|only| {
            let back = month.months_until(only);
            (0..=self.config.lookback as i32).contains(&back)
        })
    }

    fn wording_of(
        &mut self,
        text: &str,
        classification: &Classification,
        category: CategoryId,
        district: DistrictId,
        street: Option<StreetId>,
        community: Option<crate::CommunityId>,
    ) -> u32 {
        let classifier = self.router.classifier();
        if let Some(k) = keyword_phrase(classifier, classification, category) {
            let k = k.to_string();
            return self.wording_id(&k);
        }
        let j = self.router.jurisdictions();
        let places = place_names(j, Some(district), street, community);
        match content_phrase(text, &places) {
            Some(p) => self.wording_id(&p),
            None => 0,
        }
    }

    fn wording_id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.wording_ids.get(text) {
            return id;
        }
        if self.wordings.len() >= MAX_WORDINGS {
            return 0;
        }
        let id = self.wordings.len() as u32;
        self.wordings.push(text.into());
        self.wording_ids.insert(text.into(), id);
        id
    }

    fn cell(&mut self, month: Month, key: Key) -> &mut Cell {
        let cells = self.months.entry(month).or_default();
        let key = if cells.len() >= self.config.max_cells && !cells.contains_key(&key) {
            // Full: new wordings fold into one counter per category and
            // district (at most categories × districts more).
            Key {
                street: NO_STREET,
                wording: 0,
                ..key
            }
        } else {
            key
        };
        cells.entry(key).or_default()
    }
}
