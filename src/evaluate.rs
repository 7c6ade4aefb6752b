//! Evaluate (评): the 三率 — response, resolution and satisfaction rates —
//! plus on-time rates and counts, per agency, street or district over any
//! window, and the monthly ranking that names the bottom agencies.
//!
//! Everything here is computed from [`TicketRecord`]s, the lifecycle records
//! the runtime keeps; there is no second set of counters that could drift.
//! Rates follow the hotline's call-back: of the tickets evaluated, the share
//! whose caller said the agency responded, resolved, satisfied.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::dispatch::{State, TicketRecord};

/// What to group rates by.
///
/// # Examples
///
/// ```
/// use hotline_router::evaluate::GroupBy;
///
/// assert_ne!(GroupBy::Agency, GroupBy::District);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupBy {
    /// The agency holding the ticket (after any returns and reassignments).
    Agency,
    /// The ticket's street; tickets without one are left out.
    Street,
    /// The ticket's district; tickets without one are left out.
    District,
}

/// Counts and rates for one group over one window.
///
/// # Examples
///
/// ```
/// use hotline_router::evaluate::Rates;
///
/// let r = Rates { key: "street:110105003".into(), evaluated: 4, responded: 4, resolved: 3, satisfied: 2, ..Rates::default() };
/// assert_eq!(r.response_rate(), Some(1.0));
/// assert_eq!(r.resolution_rate(), Some(0.75));
/// assert_eq!(r.satisfaction_rate(), Some(0.5));
/// assert_eq!(r.on_time_rate(), None); // nothing closed yet
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rates {
    /// The agency, street or district code.
    pub key: String,
    /// Tickets received in the window.
    pub received: u64,
    /// Of those, resolved (evaluated or not).
    pub closed: u64,
    /// Of those closed, by the deadline.
    pub on_time: u64,
    /// Of those received, evaluated at call-back.
    pub evaluated: u64,
    /// Evaluated and the caller said the agency responded.
    pub responded: u64,
    /// Evaluated and the caller said the problem was solved.
    pub resolved: u64,
    /// Evaluated and the caller was satisfied.
    pub satisfied: u64,
    /// Escalated (past the deadline while open), whether closed since or not.
    pub escalated: u64,
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

impl Rates {
    /// Response rate (响应率): responded / evaluated.
    pub fn response_rate(&self) -> Option<f64> {
        ratio(self.responded, self.evaluated)
    }
    /// Resolution rate (解决率): resolved / evaluated.
    pub fn resolution_rate(&self) -> Option<f64> {
        ratio(self.resolved, self.evaluated)
    }
    /// Satisfaction rate (满意率): satisfied / evaluated.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        ratio(self.satisfied, self.evaluated)
    }
    /// On-time rate: closed by the deadline / closed.
    pub fn on_time_rate(&self) -> Option<f64> {
        ratio(self.on_time, self.closed)
    }
    /// The ranking score: the mean of the three rates (None without evaluations).
    pub fn score(&self) -> Option<f64> {
        Some((self.response_rate()? + self.resolution_rate()? + self.satisfaction_rate()?) / 3.0)
    }

    fn add(&mut self, r: &TicketRecord) {
        self.received += 1;
        if let Some(at) = r.resolved_at() {
            self.closed += 1;
            self.on_time += u64::from(at <= r.deadline());
        }
        if let Some(e) = r.evaluation() {
            self.evaluated += 1;
            self.responded += u64::from(e.responded);
            self.resolved += u64::from(e.resolved);
            self.satisfied += u64::from(e.satisfied);
        }
        self.escalated += u64::from(r.is_escalated());
    }
}

/// Accumulates rates per group, one record at a time (so a caller can feed
/// it while iterating a concurrent map, without copying records).
///
/// # Examples
///
/// ```
/// use hotline_router::evaluate::{GroupBy, RateTable};
///
/// let table = RateTable::new(GroupBy::Agency, jiff::Timestamp::MIN, jiff::Timestamp::MAX);
/// assert!(table.finish().is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct RateTable {
    group: GroupBy,
    from: Timestamp,
    to: Timestamp,
    groups: BTreeMap<String, Rates>,
}

impl RateTable {
    /// An empty table for tickets received in `[from, to)`.
    pub fn new(group: GroupBy, from: Timestamp, to: Timestamp) -> RateTable {
        RateTable {
            group,
            from,
            to,
            groups: BTreeMap::new(),
        }
    }

    /// Counts one record, if it was received in the window and has a key.
    pub fn add(&mut self, r: &TicketRecord) {
        let at = r.ticket().received_at;
        if at < self.from || at >= self.to || r.state() == State::Received {
            return;
        }
        let key = match self.group {
            GroupBy::Agency => Some(r.agency()),
            GroupBy::Street => r.routing().street.as_deref(),
            GroupBy::District => r.routing().district.as_deref(),
        };
        if let Some(key) = key {
            self.groups
                .entry(key.to_string())
                .or_insert_with(|| Rates {
                    key: key.to_string(),
                    ..Rates::default()
                })
                .add(r);
        }
    }

    /// The rates, sorted by key.
    pub fn finish(self) -> Vec<Rates> {
        self.groups.into_values().collect()
    }
}

/// Rates per group for the tickets received in `[from, to)`, sorted by key.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{Dispatcher, DispatchConfig, SystemClock};
/// use hotline_router::evaluate::{rates, GroupBy};
/// use hotline_router::{Router, Ticket};
///
/// let d = Dispatcher::new(Router::beijing(), DispatchConfig::default(), SystemClock);
/// d.submit(Ticket::new("T1", "挪车").with_address("海淀区学院路街道")).unwrap();
/// let rows = d.rates(GroupBy::District, jiff::Timestamp::MIN, jiff::Timestamp::MAX);
/// assert_eq!((rows[0].key.as_str(), rows[0].received), ("110108", 1));
/// let record = d.record("T1").unwrap();
/// assert_eq!(rates([&record], GroupBy::District, jiff::Timestamp::MIN, jiff::Timestamp::MAX), rows);
/// ```
pub fn rates<'a>(
    records: impl IntoIterator<Item = &'a TicketRecord>,
    group: GroupBy,
    from: Timestamp,
    to: Timestamp,
) -> Vec<Rates> {
    let mut table = RateTable::new(group, from, to);
    for r in records {
        table.add(r);
    }
    table.finish()
}

/// The first instant of a calendar month in `tz`, and of the next month.
pub fn month_window(year: i16, month: i8, tz: &TimeZone) -> (Timestamp, Timestamp) {
    let bound = |y: i16, m: i8| {
        Date::new(y, m, 1)
            .ok()
            .and_then(|d| d.to_zoned(tz.clone()).ok())
            .map_or(Timestamp::MAX, |z| z.timestamp())
    };
    let to = if month >= 12 {
        bound(year.saturating_add(1), 1)
    } else {
        bound(year, month + 1)
    };
    (bound(year, month), to)
}

/// A month's agency ranking by the mean of the 三率.
///
/// # Examples
///
/// ```
/// use hotline_router::evaluate::Ranking;
///
/// let r = Ranking { year: 2024, month: 11, ranked: vec![], unranked: vec![], bottom: vec![] };
/// assert!(r.bottom.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Ranking {
    /// The year.
    pub year: i16,
    /// The month, 1–12.
    pub month: i8,
    /// Agencies with enough evaluations, best first (ties by code).
    pub ranked: Vec<Rates>,
    /// Agencies with too few evaluations to rank.
    pub unranked: Vec<Rates>,
    /// The codes of the bottom agencies, worst first (named publicly).
    pub bottom: Vec<String>,
}

/// Ranks agencies by the mean of their 三率 (`rates` grouped by agency).
/// Agencies with fewer than `min_evaluated` evaluations are not ranked (a
/// single unhappy caller should not name an agency); the `bottom` worst of
/// the ranked are named.
///
/// # Examples
///
/// ```
/// use hotline_router::evaluate::{rank, Rates};
///
/// let a = Rates { key: "a".into(), evaluated: 10, responded: 10, resolved: 9, satisfied: 9, ..Rates::default() };
/// let b = Rates { key: "b".into(), evaluated: 10, responded: 6, resolved: 5, satisfied: 3, ..Rates::default() };
/// let c = Rates { key: "c".into(), evaluated: 1, ..Rates::default() };
/// let r = rank(2024, 11, vec![a, b, c], 5, 1);
/// assert_eq!(r.bottom, ["b"]);
/// assert_eq!(r.unranked[0].key, "c");
/// ```
pub fn rank(
    year: i16,
    month: i8,
    agencies: Vec<Rates>,
    min_evaluated: u64,
    bottom: usize,
) -> Ranking {
    let (mut ranked, unranked): (Vec<Rates>, Vec<Rates>) = agencies
        .into_iter()
        .partition(|r| r.evaluated >= min_evaluated.max(1));
    ranked.sort_by(|a, b| {
        b.score()
            .partial_cmp(&a.score())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.key.cmp(&b.key))
    });
    let bottom = ranked
        .iter()
        .rev()
        .take(bottom)
        .map(|r| r.key.clone())
        .collect();
    Ranking {
        year,
        month,
        ranked,
        unranked,
        bottom,
    }
}
