//! The Open311 side of the server's state: request ids, and the requests
//! by requested time so that `GET requests` reads a window, not every
//! ticket.
//!
//! **Request ids** are `YYYYMMDD-NNNNNN`: the date in the router's time
//! zone and a counter within it (six digits, more past a million a day).
//! At start the highest counter of each date is read back from the
//! dispatcher's records, so a restart continues where it stopped; and the
//! dispatcher refuses an id it has seen ([`SubmitError::Duplicate`](crate::dispatch::SubmitError::Duplicate)),
//! on which the intake takes the next one, so ids stay unique even if the
//! clock steps back to a day already used.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use parking_lot::{Mutex, RwLock};

use super::services::ServiceCache;
use crate::dispatch::Dispatcher;

/// What the Open311 handlers keep between requests.
#[derive(Debug, Default)]
pub(crate) struct Open311State {
    pub(crate) services: ServiceCache,
    /// The last counter used on each date.
    counters: Mutex<BTreeMap<Date, u64>>,
    /// (requested time, id) of every ticket.
    by_time: RwLock<BTreeSet<(Timestamp, String)>>,
}

impl Open311State {
    /// The state over the dispatcher's records as they are now.
    pub(crate) fn new(dispatcher: &Dispatcher) -> Open311State {
        let state = Open311State::default();
        {
            let mut counters = state.counters.lock();
            let mut by_time = state.by_time.write();
            dispatcher.for_each_record(|r| {
                let id = &r.ticket().id;
                if let Some((date, n)) = parse_id(id) {
                    let last = counters.entry(date).or_insert(0);
                    *last = (*last).max(n);
                }
                by_time.insert((r.received_at(), id.clone()));
            });
        }
        state
    }

    /// A fresh request id for a request received `now`.
    pub(crate) fn next_id(&self, now: Timestamp, tz: &TimeZone) -> String {
        let date = now.to_zoned(tz.clone()).date();
        let mut counters = self.counters.lock();
        let n = counters.entry(date).or_insert(0);
        *n += 1;
        format!(
            "{:04}{:02}{:02}-{:06}",
            date.year(),
            date.month(),
            date.day(),
            *n
        )
    }

    /// Indexes a ticket the dispatcher acknowledged.
    pub(crate) fn insert(&self, requested: Timestamp, id: String) {
        self.by_time.write().insert((requested, id));
    }

    /// Up to `n` ids requested within `from..=to`, newest first, older
    /// than `before` (the last of the previous page) if given.
    pub(crate) fn page(
        &self,
        from: Timestamp,
        to: Timestamp,
        before: Option<&(Timestamp, String)>,
        n: usize,
    ) -> Vec<(Timestamp, String)> {
        let upper = match before {
            Some(key) => Bound::Excluded(key.clone()),
            None => match to.checked_add(SignedDuration::from_nanos(1)) {
                Ok(t) => Bound::Excluded((t, String::new())),
                Err(_) => Bound::Unbounded,
            },
        };
        let lower = Bound::Included((from, String::new()));
        if matches!((&lower, &upper), (Bound::Included(l), Bound::Excluded(u)) if l >= u) {
            return Vec::new();
        }
        self.by_time
            .read()
            .range((lower, upper))
            .rev()
            .take(n)
            .cloned()
            .collect()
    }
}

/// `(date, counter)` of an id this intake made, `None` for any other.
fn parse_id(id: &str) -> Option<(Date, u64)> {
    let (date, n) = id.split_once('-')?;
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if n.len() < 6 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i16 = date[..4].parse().ok()?;
    let month: i8 = date[4..6].parse().ok()?;
    let day: i8 = date[6..].parse().ok()?;
    Some((Date::new(year, month, day).ok()?, n.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_back() {
        let date = Date::new(2026, 11, 30).unwrap();
        assert_eq!(parse_id("20261130-000042"), Some((date, 42)));
        assert_eq!(parse_id("20261130-1234567"), Some((date, 1_234_567)));
        assert_eq!(parse_id("20261130-42"), None);
        assert_eq!(parse_id("20261331-000001"), None);
        assert_eq!(parse_id("T1"), None);
    }

    #[test]
    fn ids_count_up_per_local_date() {
        let s = Open311State::default();
        let tz = TimeZone::fixed(jiff::tz::offset(8));
        // 23:30 UTC is the next morning in Beijing.
        let at: Timestamp = "2026-11-29T23:30:00Z".parse().unwrap();
        assert_eq!(s.next_id(at, &tz), "20261130-000001");
        assert_eq!(s.next_id(at, &tz), "20261130-000002");
        let (date, n) = parse_id(&s.next_id(at, &tz)).unwrap();
        assert_eq!((date, n), (Date::new(2026, 11, 30).unwrap(), 3));
    }

    #[test]
    fn pages_run_newest_first_within_the_window() {
        let s = Open311State::default();
        let t = |h: i64| Timestamp::from_second(h * 3600).unwrap();
        for h in 0..10 {
            s.insert(t(h), format!("r{h}"));
        }
        let ids = |v: Vec<(Timestamp, String)>| v.into_iter().map(|(_, id)| id).collect::<Vec<_>>();
        assert_eq!(ids(s.page(t(2), t(5), None, 10)), ["r5", "r4", "r3", "r2"]);
        let first = s.page(t(2), t(5), None, 2);
        assert_eq!(ids(first.clone()), ["r5", "r4"]);
        assert_eq!(ids(s.page(t(2), t(5), first.last(), 10)), ["r3", "r2"]);
        assert!(s.page(t(6), t(5), None, 10).is_empty());
    }
}
