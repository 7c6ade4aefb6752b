//! The detector's settings, checked when it is built.

use jiff::SignedDuration;

use super::SpikeDetector;
use crate::Calendar;

/// A setting a [`SpikeDetectorBuilder`] refused.
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::spikes::{SpikeConfigError, SpikeDetector};
/// use jiff::SignedDuration;
///
/// let err = SpikeDetector::builder()
///     .window(SignedDuration::from_mins(7))
///     .build()
///     .unwrap_err();
/// assert!(matches!(err, SpikeConfigError::Window { .. }));
/// assert_eq!(err.to_string(), "the window (7m) must be 1 to 1024 whole buckets (5m)");
/// ```
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpikeConfigError {
    /// A bucket must last from a second to a day, in whole seconds.
    #[error("a bucket must last whole seconds, from 1 s to 1 day, not {0:#}")]
    Bucket(SignedDuration),
    /// The window must be a whole number of buckets, at most 1,024.
    #[error("the window ({window:#}) must be 1 to 1024 whole buckets ({bucket:#})")]
    Window {
        /// The window asked for.
        window: SignedDuration,
        /// The bucket length.
        bucket: SignedDuration,
    },
    /// A number out of its range.
    #[error("{name} must be {range}, not {value}")]
    OutOfRange {
        /// The setting's name, as the builder method.
        name: &'static str,
        /// What it may be.
        range: &'static str,
        /// What it was.
        value: f64,
    },
}

/// Configures a [`SpikeDetector`]; every setting is checked by
/// [`build`](SpikeDetectorBuilder::build).
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::spikes::SpikeDetector;
/// use hotline_router::Calendar;
/// use jiff::SignedDuration;
///
/// // A small city: a 2-hour window, 6 tickets suffice, a false alarm a
/// // fortnight, and Poisson counts.
/// let detector = SpikeDetector::builder()
///     .window(SignedDuration::from_hours(2))
///     .bucket(SignedDuration::from_mins(10))
///     .min_count(6)
///     .false_alarms_per_week(0.5)
///     .dispersion(0.0)
///     .calendar(Calendar::china())
///     .build()?;
/// assert!(detector.stats().threshold < 1e-3);
/// # Ok::<(), hotline_router::analytics::spikes::SpikeConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SpikeDetectorBuilder {
    window: SignedDuration,
    bucket: SignedDuration,
    min_count: u32,
    false_alarms_per_week: f64,
    dispersion: Option<f64>,
    half_life_days: f64,
    warmup_days: u32,
    prior_strength: f64,
    max_cells: usize,
    max_jump: SignedDuration,
    calendar: Calendar,
}

impl Default for SpikeDetectorBuilder {
    fn default() -> Self {
        SpikeDetectorBuilder::new()
    }
}

impl SpikeDetectorBuilder {
    /// The default settings (see [`SpikeDetector::new`]).
    pub fn new() -> SpikeDetectorBuilder {
        SpikeDetectorBuilder {
            window: SignedDuration::from_mins(60),
            bucket: SignedDuration::from_mins(5),
            min_count: 8,
            false_alarms_per_week: 1.0,
            dispersion: None,
            half_life_days: 28.0,
            warmup_days: 7,
            prior_strength: 50.0,
            max_cells: 200_000,
            max_jump: SignedDuration::from_hours(24),
            calendar: Calendar::china(),
        }
    }

    /// How far back a cell's count reaches (60 minutes). Longer windows
    /// catch slower rises, later.
    pub fn window(mut self, window: SignedDuration) -> Self {
        self.window = window;
        self
    }

    /// The resolution of the window (5 minutes): the window slides by
    /// buckets, and a ticket up to a window late still counts in its own.
    pub fn bucket(mut self, bucket: SignedDuration) -> Self {
        self.bucket = bucket;
        self
    }

    /// The fewest tickets in a window that can alert (8), whatever the
    /// p-value: improbable small counts are not worth a call.
    pub fn min_count(mut self, n: u32) -> Self {
        self.min_count = n;
        self
    }

    /// The chance alerts an ordinary week may raise city-wide (1.0); sets
    /// the p-value threshold (see the module docs).
    pub fn false_alarms_per_week(mut self, n: f64) -> Self {
        self.false_alarms_per_week = n;
        self
    }

    /// Fixes the over-dispersion φ of the counts: variance = mean +
    /// φ·mean²; 0 is Poisson. By default φ is estimated from the learned
    /// days, per level (districts, streets), starting from 0.1.
    pub fn dispersion(mut self, phi: f64) -> Self {
        self.dispersion = Some(phi);
        self
    }

    /// How fast history is forgotten (28 days).
    pub fn half_life_days(mut self, days: f64) -> Self {
        self.half_life_days = days;
        self
    }

    /// Days with tickets to learn before any alert (7).
    pub fn warmup_days(mut self, days: u32) -> Self {
        self.warmup_days = days;
        self
    }

    /// Pseudo-tickets by which learned shares are shrunk towards broader
    /// ones (50).
    pub fn prior_strength(mut self, n: f64) -> Self {
        self.prior_strength = n;
        self
    }

    /// The most cells (and places) held (200,000, ~18 MB); tickets of new
    /// cells beyond it count city-wide only.
    pub fn max_cells(mut self, n: usize) -> Self {
        self.max_cells = n;
        self
    }

    /// How far ahead of the clock a ticket may be before it needs a second
    /// ticket to confirm the jump (24 hours).
    pub fn max_jump(mut self, jump: SignedDuration) -> Self {
        self.max_jump = jump;
        self
    }

    /// The calendar whose days, offset, holidays and make-up days the
    /// detector's slots follow ([`Calendar::china`]).
    pub fn calendar(mut self, calendar: Calendar) -> Self {
        self.calendar = calendar;
        self
    }

    /// Builds the detector.
    ///
    /// # Errors
    ///
    /// A [`SpikeConfigError`] naming the first setting out of range.
    pub fn build(&self) -> Result<SpikeDetector, SpikeConfigError> {
        let b = self.bucket;
        if b.subsec_nanos() != 0 || b < SignedDuration::from_secs(1) || b > DAY {
            return Err(SpikeConfigError::Bucket(b));
        }
        let bucket = b.as_secs();
        let window = self.window;
        let w = if window.subsec_nanos() == 0 && window.as_secs() % bucket == 0 {
            window.as_secs() / bucket
        } else {
            0
        };
        if !(1..=1024).contains(&w) {
            return Err(SpikeConfigError::Window { window, bucket: b });
        }
        let range = |name, range, value: f64, ok: bool| {
            if ok && value.is_finite() {
                Ok(value)
            } else {
                Err(SpikeConfigError::OutOfRange { name, range, value })
            }
        };
        let min = f64::from(self.min_count);
        range("min_count", "at least 1", min, self.min_count >= 1)?;
        let budget = self.false_alarms_per_week;
        range("false_alarms_per_week", "above 0", budget, budget > 0.0)?;
        if let Some(phi) = self.dispersion {
            range("dispersion", "0 to 100", phi, (0.0..=100.0).contains(&phi))?;
        }
        let half = self.half_life_days;
        range("half_life_days", "above 0", half, half > 0.0)?;
        let prior = self.prior_strength;
        range("prior_strength", "0 or more", prior, prior >= 0.0)?;
        let cells = self.max_cells as f64;
        range("max_cells", "at least 1", cells, self.max_cells >= 1)?;
        let jump = self.max_jump.as_secs_f64();
        range(
            "max_jump",
            "at least the window",
            jump,
            self.max_jump >= window,
        )?;
        Ok(SpikeDetector::with_settings(Settings {
            bucket,
            w: w as usize,
            min_count: self.min_count,
            budget,
            dispersion: self.dispersion,
            decay: 0.5f64.powf(1.0 / half),
            warmup_days: self.warmup_days,
            prior,
            max_cells: self.max_cells,
            max_jump: self.max_jump.as_secs(),
            offset: i64::from(self.calendar.utc_offset().seconds()),
            calendar: self.calendar.clone(),
        }))
    }
}

const DAY: SignedDuration = SignedDuration::from_hours(24);

/// The checked settings.
#[derive(Clone, Debug)]
pub(super) struct Settings {
    /// Bucket length in seconds.
    pub(super) bucket: i64,
    /// Buckets in the window.
    pub(super) w: usize,
    pub(super) min_count: u32,
    pub(super) budget: f64,
    /// Fixed; `None`: estimated.
    pub(super) dispersion: Option<f64>,
    /// Weight kept per day.
    pub(super) decay: f64,
    pub(super) warmup_days: u32,
    pub(super) prior: f64,
    pub(super) max_cells: usize,
    pub(super) max_jump: i64,
    /// The calendar's UTC offset in seconds.
    pub(super) offset: i64,
    pub(super) calendar: Calendar,
}

impl Settings {
    /// The p-value threshold with `cells` cells under test.
    pub(super) fn threshold(&self, cells: usize) -> f64 {
        let windows = (7 * 86_400 / self.bucket).max(1) as f64;
        self.budget / (windows * cells.max(1) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        let b = SpikeDetectorBuilder::new;
        let mins = SignedDuration::from_mins;
        assert!(matches!(
            b().bucket(SignedDuration::from_millis(1500)).build(),
            Err(SpikeConfigError::Bucket(_))
        ));
        assert!(matches!(
            b().bucket(mins(0)).build(),
            Err(SpikeConfigError::Bucket(_))
        ));
        assert!(matches!(
            b().window(mins(0)).build(),
            Err(SpikeConfigError::Window { .. })
        ));
        assert!(matches!(
            b().window(SignedDuration::from_hours(24 * 30)).build(),
            Err(SpikeConfigError::Window { .. })
        ));
        let out = |r: Result<SpikeDetector, SpikeConfigError>| match r {
            Err(SpikeConfigError::OutOfRange { name, .. }) => name,
            other => panic!("{other:?}"),
        };
        assert_eq!(out(b().min_count(0).build()), "min_count");
        assert_eq!(
            out(b().false_alarms_per_week(0.0).build()),
            "false_alarms_per_week"
        );
        assert_eq!(
            out(b().false_alarms_per_week(f64::NAN).build()),
            "false_alarms_per_week"
        );
        assert_eq!(out(b().dispersion(-0.1).build()), "dispersion");
        assert_eq!(
            out(b().half_life_days(f64::INFINITY).build()),
            "half_life_days"
        );
        assert_eq!(out(b().prior_strength(-1.0).build()), "prior_strength");
        assert_eq!(out(b().max_cells(0).build()), "max_cells");
        assert_eq!(out(b().max_jump(mins(30)).build()), "max_jump");
        let e = b().dispersion(-0.1).build().unwrap_err();
        assert_eq!(e.to_string(), "dispersion must be 0 to 100, not -0.1");
    }

    #[test]
    fn threshold_is_the_budget_over_cells_and_windows() {
        let d = SpikeDetectorBuilder::new().build().unwrap();
        // 2,016 five-minute windows a week; one cell.
        assert!((d.s.threshold(1) - 1.0 / 2_016.0).abs() < 1e-15);
        assert!((d.s.threshold(10_000) - 1.0 / 20_160_000.0).abs() < 1e-18);
        let half = SpikeDetectorBuilder::new()
            .false_alarms_per_week(0.5)
            .bucket(SignedDuration::from_mins(10))
            .build()
            .unwrap();
        assert!((half.s.threshold(100) - 0.5 / 100_800.0).abs() < 1e-15);
    }
}
