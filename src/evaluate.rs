//! Evaluate (评): the 三率 — response, resolution and satisfaction rates —
//! plus on-time rates and counts, per agency, street or district over any
//! window, and the monthly ranking that names the bottom agencies.
//!
//! Everything here is computed from records ([`RateRecord`]): the runtime's
//! lifecycle records ([`TicketRecord`](crate::dispatch::TicketRecord)), or
//! any rows read back from a store; there is no second set of counters that
//! could drift. This module knows nothing of the dispatcher: the runtime
//! feeds it.
//! Rates follow the hotline's call-back: of the tickets evaluated, the share
//! whose caller said the agency responded, resolved, satisfied.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use serde::{Deserialize, Serialize};

/// The caller's answers at call-back.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::Dispatcher;
/// use hotline_router::evaluate::{Evaluation, GroupBy};
/// use hotline_router::{Router, Ticket};
/// use jiff::Timestamp;
///
/// let d = Dispatcher::builder(Router::beijing()).build();
/// d.submit(Ticket::new("T1", "楼道里燃气泄漏")).unwrap();
/// let claim = d.claim("city:gas", "w1").unwrap().unwrap();
/// d.respond(&claim.id, "w1").unwrap();
/// d.resolve(&claim.id, "w1", "valve closed").unwrap();
/// // At call-back: contacted, fixed, but not satisfied.
/// let answers = Evaluation { responded: true, resolved: true, satisfied: false };
/// d.evaluate("T1", answers).unwrap();
/// assert_eq!(d.record("T1").unwrap().evaluation(), Some(answers));
/// assert!(d.evaluate("T1", answers).is_err()); // once per ticket
/// let gas = &d.rates(GroupBy::Agency, Timestamp::MIN, Timestamp::MAX)[0];
/// assert_eq!((gas.resolution_rate(), gas.satisfaction_rate()), (Some(1.0), Some(0.0)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Did the agency contact the caller?
    pub responded: bool,
    /// Was the problem solved?
    pub resolved: bool,
    /// Is the caller satisfied?
    pub satisfied: bool,
}

/// One ticket as the 三率 see it: what a [`RateTable`] counts.
///
/// The runtime's [`TicketRecord`](crate::dispatch::TicketRecord) is one;
/// rows read back from a store or an export can be another, so rates never
/// need a dispatcher.
///
/// # Examples
///
/// ```
/// use hotline_router::evaluate::{rates, Evaluation, GroupBy, RateRecord};
/// use jiff::Timestamp;
///
/// struct Row { agency: &'static str, evaluation: Option<Evaluation> }
///
/// impl RateRecord for Row {
///     fn received_at(&self) -> Timestamp { Timestamp::UNIX_EPOCH }
///     fn is_routed(&self) -> bool { true }
///     fn agency(&self) -> &str { self.agency }
///     fn street(&self) -> Option<&str> { None }
///     fn district(&self) -> Option<&str> { None }
///     fn deadline(&self) -> Timestamp { Timestamp::MAX }
///     fn resolved_at(&self) -> Option<Timestamp> { self.evaluation.map(|_| Timestamp::UNIX_EPOCH) }
///     fn evaluation(&self) -> Option<Evaluation> { self.evaluation }
///     fn is_escalated(&self) -> bool { false }
/// }
///
/// let happy = Evaluation { responded: true, resolved: true, satisfied: true };
/// let rows = [Row { agency: "city:gas", evaluation: Some(happy) }, Row { agency: "city:gas", evaluation: None }];
/// let r = rates(&rows, GroupBy::Agency, Timestamp::MIN, Timestamp::MAX);
/// assert_eq!((r[0].key.as_str(), r[0].received, r[0].evaluated), ("city:gas", 2, 1));
/// assert_eq!(r[0].on_time_rate(), Some(1.0));
/// ```
pub trait RateRecord {
    /// When the ticket was received: what the window is about.
    fn received_at(&self) -> Timestamp;
    /// Whether it got past intake (routed): a ticket still being received
    /// is not counted.
    fn is_routed(&self) -> bool;
    /// The agency holding it, or that closed it.
    fn agency(&self) -> &str;
    /// Its street's code, if known.
    fn street(&self) -> Option<&str>;
    /// Its district's code, if known.
    fn district(&self) -> Option<&str>;
    /// When it had to be handled by.
    fn deadline(&self) -> Timestamp;
    /// When it was resolved, if it was.
    fn resolved_at(&self) -> Option<Timestamp>;
    /// The call-back's answers, once evaluated.
    fn evaluation(&self) -> Option<Evaluation>;
    /// Whether it passed its deadline while open.
    fn is_escalated(&self) -> bool;
}

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
/// let mut r = Rates::new("street:110105003");
/// (r.evaluated, r.responded, r.resolved, r.satisfied) = (4, 4, 3, 2);
/// assert_eq!(r.response_rate(), Some(1.0));
/// assert_eq!(r.resolution_rate(), Some(0.75));
/// assert_eq!(r.satisfaction_rate(), Some(0.5));
/// assert_eq!(r.on_time_rate(), None); // nothing closed yet
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
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
    /// Empty counts for the group `key` (an agency code, a category …),
    /// to fill in field by field; the struct may gain fields, so it is not
    /// built with a struct expression outside the crate.
    pub fn new(key: impl Into<String>) -> Rates {
        Rates {
            key: key.into(),
            ..Rates::default()
        }
    }

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

    fn add<R: RateRecord + ?Sized>(&mut self, r: &R) {
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
    pub fn add<R: RateRecord + ?Sized>(&mut self, r: &R) {
        let at = r.received_at();
        if at < self.from || at >= self.to || !r.is_routed() {
            return;
        }
        let key = match self.group {
            GroupBy::Agency => Some(r.agency()),
            GroupBy::Street => r.street(),
            GroupBy::District => r.district(),
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
pub fn rates<'a, R: RateRecord + 'a>(
    records: impl IntoIterator<Item = &'a R>,
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

/// Why [`month_window`] (or
/// [`Dispatcher::monthly_ranking`](crate::dispatch::Dispatcher::monthly_ranking))
/// refused a year and month.
///
/// # Examples
///
/// ```
/// use hotline_router::evaluate::{month_window, MonthError};
/// use jiff::tz::TimeZone;
///
/// let err = month_window(2024, 13, &TimeZone::UTC).unwrap_err();
/// assert_eq!(err, MonthError::Month { year: 2024, month: 13 });
/// assert_eq!(err.to_string(), "there is no month 13 in 2024: months are 1 to 12");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MonthError {
    /// The month is not 1 to 12.
    #[error("there is no month {month} in {year}: months are 1 to 12")]
    Month {
        /// The year given.
        year: i16,
        /// The month given.
        month: i8,
    },
    /// The month, or the first instant of the month after it, is outside
    /// the times [`Timestamp`] can represent (years −9999 to 9999).
    #[error(
        "month {month} of {year} is out of range: a month must start and end \
         within the years -9999 to 9999 that timestamps can represent"
    )]
    Year {
        /// The year given.
        year: i16,
        /// The month given.
        month: i8,
    },
}

/// The first instant of a calendar month in `tz`, and of the next month:
/// the window `[from, to)` of the tickets received in that month.
/// December's window ends at the first instant of January of the next year.
///
/// # Errors
///
/// [`MonthError::Month`] if `month` is not 1 to 12, and
/// [`MonthError::Year`] if either instant is outside what [`Timestamp`] can
/// represent (years before −9999 or after 9999, and December 9999, whose
/// window would end in the year 10000).
///
/// # Examples
///
/// ```
/// use hotline_router::evaluate::month_window;
/// use jiff::tz::{offset, TimeZone};
/// use jiff::Timestamp;
///
/// let beijing = TimeZone::fixed(offset(8));
/// let (from, to) = month_window(2024, 12, &beijing)?;
/// assert_eq!(from, "2024-12-01T00:00+08:00".parse::<Timestamp>()?);
/// assert_eq!(to, "2025-01-01T00:00+08:00".parse::<Timestamp>()?);
/// assert!(month_window(2024, 0, &beijing).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn month_window(
    year: i16,
    month: i8,
    tz: &TimeZone,
) -> Result<(Timestamp, Timestamp), MonthError> {
    if !(1..=12).contains(&month) {
        return Err(MonthError::Month { year, month });
    }
    let out_of_range = MonthError::Year { year, month };
    let first_instant = |y: i16, m: i8| -> Result<Timestamp, MonthError> {
        Date::new(y, m, 1)
            .and_then(|d| d.to_zoned(tz.clone()))
            .map(|z| z.timestamp())
            .map_err(|_| out_of_range)
    };
    let (next_year, next_month) = if month == 12 {
        (year.checked_add(1).ok_or(out_of_range)?, 1)
    } else {
        (year, month + 1)
    };
    Ok((
        first_instant(year, month)?,
        first_instant(next_year, next_month)?,
    ))
}

/// A month's agency ranking by the mean of the 三率.
///
/// # Examples
///
/// A dispatcher ranks its agencies by the call-backs of a month
/// ([`Dispatcher::monthly_ranking`](crate::dispatch::Dispatcher::monthly_ranking);
/// [`rank`] does it for any [`Rates`]):
///
/// ```
/// use std::sync::Arc;
/// use hotline_router::dispatch::{Dispatcher, Evaluation, ManualClock};
/// use hotline_router::evaluate::Ranking;
/// use hotline_router::{Router, Ticket};
///
/// let clock = Arc::new(ManualClock::new("2024-11-20T08:00:00+08:00".parse().unwrap()));
/// let d = Dispatcher::builder(Router::beijing()).clock(clock).build();
/// for (id, text, agency, happy) in [("T1", "楼道里燃气泄漏", "city:gas", true), ("T2", "家里突然停水了", "city:water", false)] {
///     d.submit(Ticket::new(id, text)).unwrap();
///     let claim = d.claim(agency, "w1").unwrap().unwrap();
///     d.respond(&claim.id, "w1").unwrap();
///     d.resolve(&claim.id, "w1", "done").unwrap();
///     d.evaluate(id, Evaluation { responded: true, resolved: happy, satisfied: happy }).unwrap();
/// }
/// // Rank agencies with at least one call-back; name the worst one.
/// let r: Ranking = d.monthly_ranking(2024, 11, 1, 1).unwrap();
/// assert_eq!(r.ranked.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["city:gas", "city:water"]);
/// assert_eq!(r.bottom, ["city:water"]);
/// assert!(r.unranked.is_empty());
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
/// let counts = |key, evaluated, responded, resolved, satisfied| {
///     let mut r = Rates::new(key);
///     (r.evaluated, r.responded, r.resolved, r.satisfied) = (evaluated, responded, resolved, satisfied);
///     r
/// };
/// let (a, b, c) = (counts("a", 10, 10, 9, 9), counts("b", 10, 6, 5, 3), counts("c", 1, 0, 0, 0));
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

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::offset;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn month_windows() {
        let beijing = TimeZone::fixed(offset(8));
        let cases = [
            (2024, 1, "2024-01-01T00:00+08:00", "2024-02-01T00:00+08:00"),
            (2024, 2, "2024-02-01T00:00+08:00", "2024-03-01T00:00+08:00"),
            (2024, 11, "2024-11-01T00:00+08:00", "2024-12-01T00:00+08:00"),
            (2024, 12, "2024-12-01T00:00+08:00", "2025-01-01T00:00+08:00"),
            (
                -5,
                12,
                "-000005-12-01T00:00+08:00",
                "-000004-01-01T00:00+08:00",
            ),
            (9999, 11, "9999-11-01T00:00+08:00", "9999-12-01T00:00+08:00"),
        ];
        for (year, month, from, to) in cases {
            assert_eq!(
                month_window(year, month, &beijing),
                Ok((ts(from), ts(to))),
                "{year}-{month}"
            );
        }
        let (_, to) = month_window(2024, 12, &TimeZone::UTC).unwrap();
        assert_eq!(to, ts("2025-01-01T00:00Z"));
    }

    #[test]
    fn invalid_months_are_errors() {
        let tz = TimeZone::fixed(offset(8));
        for month in [0, 13, -1, i8::MIN, i8::MAX] {
            let err = month_window(2024, month, &tz).unwrap_err();
            assert_eq!(err, MonthError::Month { year: 2024, month });
            let message = err.to_string();
            assert!(
                message.contains(&format!("month {month} ")) && message.contains("2024"),
                "{message}"
            );
        }
        // Both checks name what was given, the month check first.
        assert_eq!(
            month_window(i16::MAX, 13, &tz),
            Err(MonthError::Month {
                year: i16::MAX,
                month: 13
            })
        );
    }

    #[test]
    fn years_timestamps_cannot_hold_are_errors() {
        let tz = TimeZone::fixed(offset(8));
        for (year, month) in [
            (10_000, 1),
            (i16::MAX, 12),
            (i16::MIN, 1),
            (-10_000, 6),
            // Its window would end on 10000-01-01.
            (9999, 12),
            // Starts before the first instant a timestamp can hold.
            (-9999, 1),
        ] {
            let err = month_window(year, month, &tz).unwrap_err();
            assert_eq!(err, MonthError::Year { year, month }, "{year}-{month}");
            let message = err.to_string();
            assert!(message.contains(&year.to_string()), "{message}");
        }
    }
}
