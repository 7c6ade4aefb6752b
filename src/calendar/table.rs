//! A precomputed table of working days, so that a deadline is two array
//! reads instead of a gallop and bisection over the exception list.

/// The longest span of days a table covers (about 55 years, 160 KB); a
/// calendar whose holidays spread wider keeps the searching path.
const MAX_TABLE_DAYS: i64 = 20_000;

/// Days after the last holiday or make-up day the table still covers, so
/// that a deadline of up to about 250 working days from a ticket of the
/// calendar's last year is read from the table.
const TAIL_DAYS: i64 = 400;

/// The working days of the day-number range `(lo, lo + cum.len() - 1]`.
#[derive(Clone, Debug, Default)]
pub(super) struct WorkdayTable {
    lo: i64,
    /// `cum[i]`: the working days in `(lo, lo + i]`.
    cum: Vec<u32>,
    /// The working days of the range, ascending: the `k`-th working day
    /// after `lo` is `days[k - 1]`.
    days: Vec<i64>,
}

impl WorkdayTable {
    /// A table over `(first - 8, last + TAIL_DAYS]`, with `is_working`
    /// telling each day; empty when the span is longer than
    /// [`MAX_TABLE_DAYS`] or there are no exception days.
    pub(super) fn new(first: i64, last: i64, is_working: impl Fn(i64) -> bool) -> WorkdayTable {
        let lo = first.saturating_sub(8);
        let hi = last.saturating_add(TAIL_DAYS);
        if hi.saturating_sub(lo) > MAX_TABLE_DAYS || hi <= lo {
            return WorkdayTable::default();
        }
        let mut cum = Vec::with_capacity((hi - lo + 1) as usize);
        let mut days = Vec::new();
        cum.push(0);
        for d in lo + 1..=hi {
            if is_working(d) {
                days.push(d);
            }
            cum.push(days.len() as u32);
        }
        WorkdayTable { lo, cum, days }
    }

    /// The `n`-th working day (`n >= 1`) after day number `after`, when the
    /// table covers both `after` and the answer; `None` otherwise (the
    /// caller then searches).
    pub(super) fn nth_after(&self, after: i64, n: i64) -> Option<i64> {
        let i = usize::try_from(after.checked_sub(self.lo)?).ok()?;
        let before = i64::from(*self.cum.get(i)?);
        let k = usize::try_from(before.checked_add(n)?.checked_sub(1)?).ok()?;
        self.days.get(k).copied()
    }
}
