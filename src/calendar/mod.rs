//! Working days: deadlines and lateness counted the way the hotline counts
//! them, in working days of China's official calendar.
//!
//! A [`Calendar`] knows which days are working days: Monday to Friday,
//! except public holidays, plus the make-up working days (调休) that the State
//! Council moves onto weekends. [`Calendar::china`] carries the official
//! schedule for the years in `data/calendar/china.toml`; outside those years
//! only the weekend rule applies, because the schedule for a year is
//! published only a few weeks before it starts.
//!
//! Days are civil dates in the calendar's time zone, a fixed offset from UTC
//! (China time, +08:00, unless set with [`Calendar::with_utc_offset`]): a
//! ticket received at 23:30 Beijing time on a Friday was received on Friday,
//! whatever the UTC date. A [`Router`](crate::Router) gives its calendar the
//! router's own offset (`utc_offset_hours` of the routing configuration), so
//! a router's working days are civil dates in the router's zone.

use jiff::civil::{Date, Weekday};
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ToSpan};
use serde::Deserialize;

use crate::error::BuildError;

mod table;
use table::WorkdayTable;

const CHINA: &str = include_str!("../../data/calendar/china.toml");

/// Day numbers count from this Monday, so that `n.rem_euclid(7)` is the
/// weekday (0 = Monday … 6 = Sunday).
const EPOCH_MONDAY: Date = Date::constant(2024, 1, 1);
/// `EPOCH_MONDAY` as days since 1970-01-01, so that local days are integer
/// arithmetic on a fixed offset (checked by a unit test).
const EPOCH_UNIX_DAY: i64 = 19_723;
/// China time, the offset of [`Calendar::china`] and every calendar made
/// without [`Calendar::with_utc_offset`].
const CHINA_OFFSET_HOURS: i8 = 8;

/// The longest rest period accepted in a calendar file. Official ones last at
/// most 9 days; anything longer is a typo in a date.
const MAX_HOLIDAY_DAYS: i64 = 31;

/// A working-day calendar: weekends off, public holidays off, make-up days on.
///
/// Its dates are civil dates at a fixed offset from UTC: +08:00 (China time)
/// unless changed with [`with_utc_offset`](Calendar::with_utc_offset). A
/// [`Router`](crate::Router) sets its calendar's offset to its own, so in a
/// router the dates are civil dates in the router's zone.
///
/// Only the days that break the weekend rule are stored — holidays that fall
/// on a weekday and make-up working days on a weekend — sorted: a few dozen a
/// year. Looking up a day is a binary search, and counting the working days in
/// a range is the closed-form count of weekdays corrected by the exceptions in
/// it, so [`add_working_days`](Calendar::add_working_days) is a binary search
/// over that count and takes the same few steps for any number of days.
///
/// # Examples
///
/// ```
/// use hotline_router::Calendar;
/// use jiff::civil::date;
/// use jiff::Timestamp;
///
/// let cal = Calendar::china();
/// assert!(!cal.is_working_day(date(2024, 10, 1))); // 国庆节
/// assert!(cal.is_working_day(date(2024, 9, 29))); // a Sunday, but 调休
///
/// // Received on Friday 27 September 2024, due in 3 working days: Sunday 29th
/// // and Monday 30th count, the National Day week does not, so the deadline
/// // is the end of Tuesday 8 October.
/// let received: Timestamp = "2024-09-27T10:00+08:00".parse()?;
/// let due = cal.add_working_days(received, 3);
/// assert_eq!(due, "2024-10-09T00:00+08:00".parse()?);
///
/// // Closed on Thursday 10 October: 5 working days after receipt, 2 late.
/// let closed: Timestamp = "2024-10-10T16:00+08:00".parse()?;
/// assert_eq!(cal.working_days_between(received, closed) - 3, 2);
/// # Ok::<(), jiff::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Calendar {
    name: String,
    years: Option<(i16, i16)>,
    /// Holidays on weekdays and make-up days on weekends, sorted, no repeats.
    exceptions: Vec<Date>,
    /// The same days as day numbers, each with +1 for a make-up working day
    /// and -1 for a holiday: counting them is integer work on the hot path
    /// of every `route` (date arithmetic per comparison cost ~1 µs).
    exception_days: Vec<(i64, i64)>,
    /// The offset from UTC; `tz` is this fixed offset. `local_day` and
    /// `start_of_day` use its seconds, integer arithmetic.
    offset: Offset,
    tz: TimeZone,
    /// The working days around the exceptions, precomputed: a deadline is
    /// read from it, not searched for (the search cost ~100 ns a `route`).
    table: WorkdayTable,
}

impl Calendar {
    /// China's official calendar for the years in the embedded
    /// `data/calendar/china.toml` (2024–2026), in China time (+08:00).
    pub fn china() -> Calendar {
        Calendar::from_toml(CHINA, "embedded data/calendar/china.toml")
            .expect("embedded China calendar is valid (tested)")
    }

    /// A calendar without holidays: Monday to Friday are working days, in
    /// China time (+08:00). [`covers`](Calendar::covers) is false for every
    /// date.
    pub fn weekends_only() -> Calendar {
        Calendar {
            name: "weekends only".to_owned(),
            years: None,
            exceptions: Vec::new(),
            exception_days: Vec::new(),
            offset: china_offset(),
            tz: TimeZone::fixed(china_offset()),
            table: WorkdayTable::default(),
        }
    }

    /// Reads a calendar in the format of `data/calendar/china.toml`; its days
    /// are in China time (+08:00).
    ///
    /// Every date must parse and lie within `first_year..=last_year`, a
    /// holiday must not end before it starts nor last more than 31 days, a
    /// make-up working day must be a Saturday or Sunday and must not fall in
    /// a holiday. Errors are [`BuildErrorKind::Parse`](crate::BuildErrorKind::Parse)
    /// naming `source_name` and the offending entry.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Calendar, BuildError> {
        let file: CalendarFile =
            toml::from_str(text).map_err(|e| BuildError::parse(source_name, e))?;
        let fail = |message: String| BuildError::parse(source_name, message);
        let (first, last) = (file.first_year, file.last_year);
        if first > last {
            return Err(fail(format!(
                "first_year {first} is after last_year {last}"
            )));
        }
        let parse_date = |entry: &str, text: &str| -> Result<Date, BuildError> {
            let date: Date = text
                .parse()
                .map_err(|e| fail(format!("{entry}: '{text}' is not a date (YYYY-MM-DD): {e}")))?;
            if !(first..=last).contains(&date.year()) {
                return Err(fail(format!(
                    "{entry}: {date} is outside the years {first}..={last}"
                )));
            }
            Ok(date)
        };

        let mut holidays = Vec::with_capacity(file.holiday.len());
        for h in &file.holiday {
            let entry = format!("holiday '{}' ({} to {})", h.name, h.from, h.to);
            let (from, to) = (parse_date(&entry, &h.from)?, parse_date(&entry, &h.to)?);
            if from > to {
                return Err(fail(format!("{entry}: ends before it starts")));
            }
            if day_number(to) - day_number(from) >= MAX_HOLIDAY_DAYS {
                return Err(fail(format!(
                    "{entry}: longer than {MAX_HOLIDAY_DAYS} days, check the dates"
                )));
            }
            holidays.push((from, to, &h.name));
        }

        let mut exceptions = Vec::new();
        for w in &file.workday {
            let entry = match &w.note {
                Some(note) => format!("workday {} ({note})", w.date),
                None => format!("workday {}", w.date),
            };
            let date = parse_date(&entry, &w.date)?;
            if !is_weekend(date) {
                return Err(fail(format!(
                    "{entry}: is a {:?}; a make-up working day must be a Saturday or Sunday",
                    date.weekday()
                )));
            }
            if let Some((_, _, name)) = holidays.iter().find(|h| (h.0..=h.1).contains(&date)) {
                return Err(fail(format!(
                    "{entry}: is also a rest day of holiday '{name}'"
                )));
            }
            exceptions.push(date);
        }
        for &(from, to, _) in &holidays {
            let days = from.series(1.day()).take_while(|&d| d <= to);
            exceptions.extend(days.filter(|&d| !is_weekend(d)));
        }
        exceptions.sort_unstable();
        exceptions.dedup();

        let exception_days = exceptions
            .iter()
            .map(|&d| (day_number(d), if is_weekend(d) { 1 } else { -1 }))
            .collect();
        let mut calendar = Calendar {
            name: file.name,
            years: Some((first, last)),
            exceptions,
            exception_days,
            offset: china_offset(),
            tz: TimeZone::fixed(china_offset()),
            table: WorkdayTable::default(),
        };
        if let (Some(&(a, _)), Some(&(b, _))) = (
            calendar.exception_days.first(),
            calendar.exception_days.last(),
        ) {
            // Built from the counting the search uses, so both agree.
            calendar.table = WorkdayTable::new(a, b, |d| calendar.working_days_in(d - 1, d) == 1);
        }
        Ok(calendar)
    }

    /// The same calendar with its days counted at `offset` from UTC: the
    /// same holidays and make-up days, as civil dates in that zone.
    ///
    /// A [`Router`](crate::Router) calls this with its own offset
    /// (`utc_offset_hours` of the routing configuration) when it is built.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::Calendar;
    /// use jiff::tz::offset;
    /// use jiff::Timestamp;
    ///
    /// // Thursday 21 November 2024, 20:00 UTC: already Friday in Beijing.
    /// let received: Timestamp = "2024-11-21T20:00Z".parse()?;
    /// let china = Calendar::china();
    /// assert_eq!(china.add_working_days(received, 0), "2024-11-23T00:00+08:00".parse()?);
    /// let utc = Calendar::china().with_utc_offset(offset(0));
    /// assert_eq!(utc.utc_offset(), offset(0));
    /// assert_eq!(utc.add_working_days(received, 0), "2024-11-22T00:00Z".parse()?);
    /// # Ok::<(), jiff::Error>(())
    /// ```
    pub fn with_utc_offset(mut self, offset: Offset) -> Calendar {
        self.offset = offset;
        self.tz = TimeZone::fixed(offset);
        self
    }

    /// The offset from UTC whose civil dates the calendar counts: +08:00
    /// unless set with [`with_utc_offset`](Calendar::with_utc_offset).
    pub fn utc_offset(&self) -> Offset {
        self.offset
    }

    /// The calendar's name, e.g. "China (mainland) public holidays", for
    /// explanations.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether `date` is a working day: Monday to Friday unless a holiday,
    /// Saturday and Sunday only as make-up working days.
    pub fn is_working_day(&self, date: Date) -> bool {
        is_weekend(date) == self.exceptions.binary_search(&date).is_ok()
    }

    /// Whether the calendar has holiday data for `date`'s year. Outside those
    /// years only the weekend rule applies, so deadlines that far out may
    /// fall on holidays nobody has announced yet.
    pub fn covers(&self, date: Date) -> bool {
        self.years
            .is_some_and(|(first, last)| (first..=last).contains(&date.year()))
    }

    /// The deadline `days` working days after `start`, in the calendar's
    /// time zone ([`utc_offset`](Calendar::utc_offset), +08:00 unless set): the end (00:00 of
    /// the following day) of the `days`-th working day strictly after the
    /// local day of `start`.
    ///
    /// `days == 0` means the end of the day of `start` if that is a working
    /// day, else the end of the next working day. A deadline beyond what
    /// [`Timestamp`] can represent saturates to [`Timestamp::MAX`].
    pub fn add_working_days(&self, start: Timestamp, days: u32) -> Timestamp {
        let day = self.local_day(start);
        let due = match days {
            0 => self.nth_working_day_after(day - 1, 1),
            n => self.nth_working_day_after(day, n.into()),
        };
        due.and_then(|d| self.start_of_day(d + 1))
            .unwrap_or(Timestamp::MAX)
    }

    /// The working days strictly after the local day of `from` up to and
    /// including the local day of `to`; negative (the same count, swapped)
    /// if `to`'s day is before `from`'s.
    ///
    /// With `from` the time a ticket was received, this is the number of
    /// working days it took: more than the ticket's working-day limit means
    /// late by the difference, matching [`add_working_days`](Calendar::add_working_days).
    pub fn working_days_between(&self, from: Timestamp, to: Timestamp) -> i64 {
        let (a, b) = (self.local_day(from), self.local_day(to));
        if a <= b {
            self.working_days_in(a, b)
        } else {
            -self.working_days_in(b, a)
        }
    }

    /// The time zone whose days the calendar counts: the fixed offset
    /// [`utc_offset`](Calendar::utc_offset).
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    // Integer arithmetic on the fixed offset rather than jiff's civil
    // conversions: these run twice in every `route` of a normal ticket.
    fn local_day(&self, t: Timestamp) -> i64 {
        (t.as_second() + i64::from(self.offset.seconds())).div_euclid(86_400) - EPOCH_UNIX_DAY
    }

    fn start_of_day(&self, day: i64) -> Option<Timestamp> {
        let seconds = day
            .checked_add(EPOCH_UNIX_DAY)?
            .checked_mul(86_400)?
            .checked_sub(i64::from(self.offset.seconds()))?;
        Timestamp::from_second(seconds).ok()
    }

    /// The working days in the day-number range `(after, upto]`, `after <= upto`.
    fn working_days_in(&self, after: i64, upto: i64) -> i64 {
        let index = |day: i64| self.exception_days.partition_point(|&(d, _)| d <= day);
        let adjustment: i64 = self.exception_days[index(after)..index(upto)]
            .iter()
            .map(|&(_, delta)| delta)
            .sum();
        weekdays_through(upto) - weekdays_through(after) + adjustment
    }

    /// The `n`-th working day (`n >= 1`) after day number `after`, or `None`
    /// if it is beyond [`Date::MAX`].
    fn nth_working_day_after(&self, after: i64, n: i64) -> Option<i64> {
        // The count of working days in (after, d] grows by at most one a day,
        // so the first d where it reaches n is the answer. The answer is
        // close to `after` (n working days are about 7n/5 calendar days plus
        // a holiday week or two), so gallop from a near guess and bisect
        // the bracket, instead of bisecting up to Date::MAX — that cost
        // ~6 µs, most of a whole `route`.
        if n >= 1 {
            if let Some(day) = self.table.nth_after(after, n) {
                return Some(day);
            }
        }
        self.search_nth_working_day_after(after, n)
    }

    /// [`nth_working_day_after`](Calendar::nth_working_day_after) by
    /// searching the exception list, for days the table does not cover.
    fn search_nth_working_day_after(&self, after: i64, n: i64) -> Option<i64> {
        let last = day_number(Date::MAX);
        let mut lo = after;
        let mut hi = after.saturating_add(n + n / 2 + 16).min(last);
        while self.working_days_in(after, hi) < n {
            if hi == last {
                return None;
            }
            lo = hi;
            hi = after.saturating_add(2 * (hi - after)).min(last);
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.working_days_in(after, mid) >= n {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(hi)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    name: String,
    first_year: i16,
    last_year: i16,
    #[serde(default)]
    holiday: Vec<HolidayEntry>,
    #[serde(default)]
    workday: Vec<WorkdayEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayEntry {
    name: String,
    from: String,
    to: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkdayEntry {
    date: String,
    note: Option<String>,
}

fn china_offset() -> Offset {
    jiff::tz::offset(CHINA_OFFSET_HOURS)
}

fn day_number(date: Date) -> i64 {
    date.duration_since(EPOCH_MONDAY).as_hours().div_euclid(24)
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Monday-to-Friday days from the epoch through `day`, relative: only
/// differences are meaningful, and they count the weekdays in between.
fn weekdays_through(day: i64) -> i64 {
    let next = day + 1;
    5 * next.div_euclid(7) + next.rem_euclid(7).min(5)
}

#[cfg(test)]
mod tests;
