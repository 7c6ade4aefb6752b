//! The detector's engine: moving the clock, learning, and testing a cell.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::cells::NONE;
use super::rates::{slot, Learn};
use super::stats::Counts;
use super::{Alert, SpikeDetector};

/// Categories beyond this many distinct codes are not tracked.
const MAX_CATEGORIES: usize = 4_096;
/// A cell whose learned count decays below this, with nothing in its
/// window or today, is dropped (a single ticket lasts ~4 half-lives).
const IDLE: f32 = 0.05;
/// The dispersion assumed until enough days are learned to estimate it.
pub(super) const INITIAL_DISPERSION: f64 = 0.1;
/// The estimate needs `Σ E²` over learned cell-days at least this large
/// (a few days of a small city).
const ESTIMATE_FROM: f64 = 1e4;
/// A far jump of the clock is accepted when the next ticket confirms it
/// within this many seconds.
const CONFIRM: i64 = 3_600;

/// Where the detector's time stands.
#[derive(Clone, Debug)]
pub(super) struct Clock {
    pub(super) started: bool,
    /// The newest ticket time.
    pub(super) now: Timestamp,
    /// Its bucket and local day.
    pub(super) bucket: i64,
    pub(super) day: i64,
    pub(super) working: bool,
    pub(super) yesterday_working: bool,
    /// A far-ahead ticket waiting for confirmation.
    pub(super) pending: Option<i64>,
}

impl Clock {
    pub(super) fn new() -> Clock {
        Clock {
            started: false,
            now: Timestamp::UNIX_EPOCH,
            bucket: 0,
            day: 0,
            working: false,
            yesterday_working: false,
            pending: None,
        }
    }
}

impl SpikeDetector {
    fn local(&self, t: i64) -> i64 {
        t.saturating_add(self.s.offset)
    }

    fn local_day(&self, t: i64) -> i64 {
        self.local(t).div_euclid(86_400)
    }

    fn hour(&self, t: i64) -> u32 {
        (self.local(t).rem_euclid(86_400) / 3_600) as u32
    }

    /// The calendar's verdict on local day number `day` (days since
    /// 1970-01-01); a day outside jiff's range is a rest day.
    fn working(&self, day: i64) -> bool {
        if day == self.clock.day && self.clock.started {
            return self.clock.working;
        }
        Timestamp::from_second(day.saturating_mul(86_400))
            .map(|t| {
                self.s
                    .calendar
                    .is_working_day(t.to_zoned(TimeZone::UTC).date())
            })
            .unwrap_or(false)
    }

    fn bucket_slot(&self, b: i64) -> u8 {
        let start = b.saturating_mul(self.s.bucket);
        let day = self.local_day(start);
        let working = if day == self.clock.day - 1 {
            self.clock.yesterday_working
        } else {
            self.working(day)
        };
        slot(working, self.hour(start))
    }

    /// Moves the clock to `at` if it is newer. `false`: the ticket is too
    /// far ahead to trust (yet).
    fn move_clock(&mut self, at: Timestamp) -> bool {
        let t = at.as_second();
        if !self.clock.started {
            self.clock.started = true;
            self.clock.day = self.local_day(t);
            self.clock.working = self.working(self.clock.day);
            self.clock.yesterday_working = self.working(self.clock.day - 1);
            self.clock.bucket = t.div_euclid(self.s.bucket);
            self.clock.now = at;
            for b in self.clock.bucket - self.s.w as i64 + 1..=self.clock.bucket {
                let slot = self.bucket_slot(b);
                self.city.reset(b, slot);
            }
            return true;
        }
        let now = self.clock.now.as_second();
        if at <= self.clock.now {
            self.clock.pending = None;
            return true;
        }
        if t - now > self.s.max_jump {
            match self.clock.pending {
                Some(p) if (t - p).abs() <= CONFIRM => {}
                _ => {
                    self.clock.pending = Some(t);
                    return false;
                }
            }
        }
        self.clock.pending = None;
        let day = self.local_day(t);
        if day > self.clock.day {
            self.fold(day - self.clock.day);
            self.clock.yesterday_working = if day - self.clock.day == 1 {
                self.clock.working
            } else {
                self.working(day - 1)
            };
            self.clock.day = day;
            self.clock.working = self.working(day);
        }
        let bucket = t.div_euclid(self.s.bucket);
        let first = (self.clock.bucket + 1).max(bucket - self.s.w as i64 + 1);
        for b in first..=bucket {
            let slot = self.bucket_slot(b);
            self.city.reset(b, slot);
        }
        self.clock.bucket = bucket;
        self.clock.now = at;
        true
    }

    /// Ends the current day (and `days − 1` empty ones after it).
    fn fold(&mut self, days: i64) {
        let days = days.clamp(1, 100_000) as u32;
        let decay = self.s.decay;
        self.estimate_dispersion();
        let extra = decay.powi(days.saturating_sub(1).min(10_000) as i32);
        self.rates
            .fold(self.clock.working, days, decay, self.s.prior);
        for c in &mut self.cells.cells {
            c.learned = ((f64::from(c.learned) * decay + f64::from(c.today)) * extra) as f32;
            c.today = 0;
            c.alerted = false;
        }
        let now = self.clock.bucket;
        let w = self.s.w as i64;
        self.cells
            .retain(|c| c.learned >= IDLE || (c.sum > 0 && c.head > now - w));
        for i in 0..self.cells.len() {
            self.cells.cells[i].share = self.share(i);
        }
        self.threshold = self.s.threshold(self.cells.len());
    }

    /// Adds the day ending now to the moment estimate of the dispersion:
    /// each cell's day count `O` against its expected `E` (computed as the
    /// test does, conditioned on the day's volume), pooled per level as
    /// `φ = Σ ((O − E)² − O) / Σ E²`, so day-to-day variation beyond
    /// Poisson noise (weather, the news) widens the test. Cells that
    /// alerted today are left out.
    fn estimate_dispersion(&mut self) {
        let working = self.clock.working;
        let city: Vec<f64> = (0..self.names.categories.len())
            .map(|k| self.rates.expected_today(k as u16, working))
            .collect();
        let mut sums = [(0.0, 0.0); 2];
        for c in &self.cells.cells {
            if c.alerted || c.share <= 0.0 {
                continue;
            }
            let share = f64::from(c.share);
            let (level, e) = match self.names.parents[c.place as usize] {
                NONE => (0, share * city[usize::from(c.category)]),
                d => {
                    let parent = self.cells.find(c.category, d);
                    let today = parent.map_or(0, |p| self.cells.cells[p].today);
                    (1, share * f64::from(today))
                }
            };
            let o = f64::from(c.today);
            sums[level].0 += (o - e) * (o - e) - o;
            sums[level].1 += e * e;
        }
        for (level, (num, den)) in sums.into_iter().enumerate() {
            let m = &mut self.moments[level];
            *m = (m.0 * self.s.decay + num, m.1 * self.s.decay + den);
            if self.s.dispersion.is_none() && m.1 >= ESTIMATE_FROM {
                self.dispersion[level] = (m.0 / m.1).clamp(0.0, 100.0);
            }
        }
    }

    /// Cell `i`'s expected share of its parent, from what is learned.
    fn share(&self, i: usize) -> f32 {
        let c = &self.cells.cells[i];
        let learned = f64::from(c.learned);
        match self.names.parents[c.place as usize] {
            NONE => self
                .rates
                .district_share(c.category, c.place, learned, self.s.prior),
            d => {
                let parent = self
                    .cells
                    .find(c.category, d)
                    .map_or(0.0, |p| f64::from(self.cells.cells[p].learned));
                self.rates
                    .street_share(c.place, d, learned, parent, self.s.prior)
            }
        }
    }

    /// Counts one ticket; tests the cells it touched when `test`.
    pub(super) fn record(
        &mut self,
        at: Timestamp,
        category: &str,
        district: Option<&str>,
        street: Option<&str>,
        test: bool,
    ) -> Vec<Alert> {
        let mut alerts = Vec::new();
        self.counters.tickets += 1;
        if !self.move_clock(at) {
            self.counters.ahead += 1;
            return alerts;
        }
        let t = at.as_second();
        let day = self.local_day(t);
        let learn = if day == self.clock.day {
            Learn::Today { hour: self.hour(t) }
        } else if day == self.clock.day - 1 {
            Learn::Late {
                slot: slot(self.clock.yesterday_working, self.hour(t)),
            }
        } else {
            self.counters.stale += 1;
            return alerts;
        };
        let Some(k) = self.names.category(category, MAX_CATEGORIES) else {
            self.counters.untracked += 1;
            return alerts;
        };
        let max = self.s.max_cells;
        let d = district.and_then(|code| self.names.place(code, NONE, max));
        // A street first seen under another district keeps that one; the
        // ticket then counts for its district only.
        let s = match (d, street) {
            (Some(d), Some(code)) => self
                .names
                .place(code, d, max)
                .filter(|&s| self.names.parents[s as usize] == d),
            _ => None,
        };
        let places = [d.unwrap_or(NONE), s.unwrap_or(NONE)];
        let known = usize::from(d.is_some()) + usize::from(s.is_some());
        self.rates.learn(learn, k, &places[..known]);

        let b = t.div_euclid(self.s.bucket);
        let in_window = b > self.clock.bucket - self.s.w as i64;
        if in_window {
            self.city.add(b, k);
        }
        let test = test && in_window && self.rates.days >= self.s.warmup_days;
        let Some(d) = d else { return alerts };
        let Some(di) = self.touch(k, d, learn, in_window.then_some(b)) else {
            return alerts;
        };
        if test && self.worth_testing(di) {
            let share = f64::from(self.cells.cells[di].share);
            {
                let odds = &self.rates.categories[usize::from(k)].odds;
                let mu = share * self.city.expected(k, odds);
                if let Some(a) = self.test(di, mu) {
                    alerts.push(a);
                }
            }
        }
        let Some(s) = s else { return alerts };
        let parent_sum = self.cells.cells[di].sum;
        let Some(si) = self.touch(k, s, learn, in_window.then_some(b)) else {
            return alerts;
        };
        if test && self.worth_testing(si) {
            let share = f64::from(self.cells.cells[si].share);
            {
                if let Some(a) = self.test(si, share * f64::from(parent_sum)) {
                    alerts.push(a);
                }
            }
        }
        alerts
    }

    /// Whether cell `i` can alert or re-arm now: an expected share learned,
    /// and a count at the minimum and not known to be too low, or an
    /// episode to end.
    fn worth_testing(&self, i: usize) -> bool {
        let c = &self.cells.cells[i];
        c.share > 0.0 && (!c.armed || c.sum >= self.s.min_count.max(c.quiet_below))
    }

    /// The cell of category `k` at `place`, created if new, advanced to
    /// the clock, with the ticket learned and (if `bucket`) counted.
    fn touch(&mut self, k: u16, place: u32, learn: Learn, bucket: Option<i64>) -> Option<usize> {
        let Some((i, fresh)) =
            self.cells
                .find_or_insert(k, place, self.clock.bucket, self.s.max_cells)
        else {
            self.counters.untracked += 1;
            return None;
        };
        if fresh {
            self.cells.cells[i].share = self.share(i);
        }
        self.cells.advance(i, self.clock.bucket);
        match learn {
            Learn::Today { .. } => self.cells.cells[i].today += 1,
            Learn::Late { .. } => self.cells.cells[i].learned += 1.0,
        }
        if let Some(b) = bucket {
            self.cells.add(i, b);
        }
        Some(i)
    }

    /// Tests cell `i`'s window count against `mean`: an alert if the cell
    /// is armed, the count at least the minimum and its p-value below the
    /// threshold. A disarmed cell re-arms once its count is back within
    /// two standard deviations of the mean (or down to a single ticket):
    /// a count that dips below the minimum in a quiet hour of a long
    /// episode (a cold night) does not start a new one.
    fn test(&mut self, i: usize, mean: f64) -> Option<Alert> {
        let (min, threshold) = (self.s.min_count, self.threshold);
        let level = usize::from(self.names.parents[self.cells.cells[i].place as usize] != NONE);
        let cell = &mut self.cells.cells[i];
        let x = cell.sum;
        let xf = f64::from(x);
        let mean = if mean.is_finite() { mean.max(0.0) } else { 0.0 };
        let counts = Counts::new(mean, self.dispersion[level]);
        let sd = counts.variance().sqrt();
        if !cell.armed {
            if xf <= (mean + 2.0 * sd).max(1.0) {
                cell.armed = true;
            }
            return None;
        }
        if x < min || mean <= 0.0 {
            return None;
        }
        // Below 3 sd the tail is above 1e-4 (heavier than the normal's for
        // these skewed counts): no need to sum it against a small threshold.
        // Both shortcuts last until the window slides: until then the mean
        // only grows, and with it every p-value.
        if threshold < 1e-5 && xf < mean + 3.0 * sd {
            cell.quiet_below = (mean + 3.0 * sd).ceil().min(f64::from(u32::MAX)) as u32;
            return None;
        }
        let p = counts.upper_tail(x);
        if p >= threshold {
            cell.quiet_below = x.saturating_add(1);
            return None;
        }
        cell.armed = false;
        cell.alerted = true;
        let (k, place) = (cell.category, cell.place);
        self.counters.alerts += 1;
        let code = |p: u32| self.names.places[p as usize].to_string();
        let (district, street) = match self.names.parents[place as usize] {
            NONE => (code(place), None),
            d => (code(d), Some(code(place))),
        };
        Some(Alert {
            at: self.clock.now,
            category: self.names.categories[usize::from(k)].to_string(),
            district,
            street,
            count: x,
            expected: mean,
            p_value: p,
        })
    }
}
