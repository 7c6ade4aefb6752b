//! [`Month`]: a calendar month, the unit 每月一题 and the monthly rankings
//! count in.

use std::fmt;
use std::str::FromStr;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::evaluate::{month_window, MonthError};

/// A calendar month (`2024-11`), ordered by time.
///
/// Parsed from and shown as `YYYY-MM`; [`Month::of`] finds the month an
/// instant falls in where the hotline is (the router's time zone).
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::Month;
/// use jiff::tz::{offset, TimeZone};
///
/// let nov: Month = "2024-11".parse()?;
/// assert_eq!(nov.next(), "2024-12".parse()?);
/// assert_eq!(nov.back(11).to_string(), "2023-12");
/// // 16:30 UTC on 30 November is already 1 December in Beijing.
/// let late = "2024-11-30T16:30:00Z".parse()?;
/// assert_eq!(Month::of(late, &TimeZone::fixed(offset(8))), nov.next());
/// assert!("2024-13".parse::<Month>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i16,
    month: i8,
}

impl Month {
    /// The month `month` (1–12) of `year`.
    ///
    /// # Errors
    ///
    /// [`MonthError`] if `month` is not 1 to 12 or the month is outside
    /// the years a [`Timestamp`] can hold.
    pub fn new(year: i16, month: i8) -> Result<Month, MonthError> {
        month_window(year, month, &TimeZone::UTC)?;
        Ok(Month { year, month })
    }

    /// The month `at` falls in, in time zone `tz`.
    pub fn of(at: Timestamp, tz: &TimeZone) -> Month {
        let date = at.to_zoned(tz.clone()).date();
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The year.
    pub fn year(self) -> i16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> i8 {
        self.month
    }

    /// The month after this one.
    pub fn next(self) -> Month {
        self.shift(1)
    }

    /// The month `n` months before this one.
    pub fn back(self, n: u32) -> Month {
        self.shift(-(n.min(120_000) as i32))
    }

    /// Months from `self` to `later` (negative when `later` is earlier).
    pub fn months_until(self, later: Month) -> i32 {
        later.index() - self.index()
    }

    /// The window `[from, to)` of instants in this month, in time zone `tz`.
    ///
    /// # Errors
    ///
    /// [`MonthError::Year`] for December 9999, whose window would end in
    /// the year 10000.
    pub fn window(self, tz: &TimeZone) -> Result<(Timestamp, Timestamp), MonthError> {
        month_window(self.year, self.month, tz)
    }

    fn index(self) -> i32 {
        i32::from(self.year) * 12 + i32::from(self.month) - 1
    }

    fn shift(self, by: i32) -> Month {
        let i = self.index() + by;
        Month {
            // Clamped to what `i16` holds; far outside any real data.
            year: i
                .div_euclid(12)
                .clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16,
            month: (i.rem_euclid(12) + 1) as i8,
        }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Why a text is not a month.
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::Month;
///
/// let err = "2024/11".parse::<Month>().unwrap_err();
/// assert_eq!(err.to_string(), "'2024/11' is not a month: expected YYYY-MM, e.g. 2024-11");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a month: {reason}")]
pub struct ParseMonthError {
    text: String,
    reason: String,
}

impl FromStr for Month {
    type Err = ParseMonthError;

    fn from_str(s: &str) -> Result<Month, ParseMonthError> {
        let fail = |reason: String| ParseMonthError {
            text: s.to_string(),
            reason,
        };
        let (y, m) = s
            .split_once('-')
            .filter(|(y, m)| !y.is_empty() && m.len() == 2)
            .ok_or_else(|| fail("expected YYYY-MM, e.g. 2024-11".into()))?;
        let year: i16 = y
            .parse()
            .map_err(|_| fail(format!("the year '{y}' is not a number")))?;
        let month: i8 = m
            .parse()
            .map_err(|_| fail(format!("the month '{m}' is not a number")))?;
        Month::new(year, month).map_err(|e| fail(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifting_crosses_years() {
        let jan: Month = "2024-01".parse().unwrap();
        assert_eq!(jan.back(1).to_string(), "2023-12");
        assert_eq!(jan.back(13).to_string(), "2022-12");
        assert_eq!(jan.back(1).next(), jan);
        assert_eq!(jan.back(3).months_until(jan), 3);
        assert_eq!(jan.months_until(jan.back(3)), -3);
    }

    #[test]
    fn bad_months_are_refused_with_the_reason() {
        for (text, says) in [
            ("2024-13", "no month 13"),
            ("2024-1", "expected YYYY-MM"),
            ("-11", "expected YYYY-MM"),
            ("abcd-11", "year 'abcd'"),
            ("2024-x1", "month 'x1'"),
            ("", "expected"),
        ] {
            let err = text.parse::<Month>().unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
