//! Spikes: one street or district suddenly calling about one thing — a
//! heating failure, a power cut, a burst main — noticed while it happens.
//!
//! A [`SpikeDetector`] reads routed tickets in time order and returns an
//! [`Alert`] when a **cell** — a category in a district, or a category in
//! a street — has had far more tickets in the last hour than its expected
//! rate allows. It keeps state only for the cells it has seen, learns the
//! expected rates from history and from the stream itself, and costs a
//! fraction of a routing per ticket.
//!
//! # What an alert means
//!
//! "In the hour ending at `at`, street `street` of `district` had `count`
//! tickets of `category` where `expected` were expected, and a count that
//! high has probability `p_value` if nothing unusual were going on." The
//! threshold on that probability is set so that, over the whole city, an
//! ordinary week raises about [`false_alarms_per_week`] alerts by chance.
//! Each cell alerts once per episode: after an alert it stays quiet until
//! its count falls back to within two standard deviations of the
//! expected, then re-arms.
//!
//! # The expected count
//!
//! The detector does not predict how many tickets the hotline will get; it
//! takes the volume it is actually getting and asks whether one cell's
//! share of it is unusual. For a district cell (category *k*, district
//! *d*), over the buckets *b* of the window:
//!
//! ```text
//! expected = share(d | k) × Σ_b  others_b × odds_k(slot_b)
//! ```
//!
//! * `others_b` are the tickets of *all other categories*, city-wide, in
//!   bucket *b*. Using the stream's own volume makes the baseline follow
//!   the time of day, the weekday, holidays (a quiet Spring Festival lowers
//!   every expectation with it) and long-term growth without modelling
//!   them. Leaving category *k* out keeps a city-wide surge of *k* (a cold
//!   snap) from raising its own expectation.
//! * `odds_k(slot)` is *k*'s share of tickets over the others' in that
//!   **slot** — a working day or a rest day (from the [`Calendar`]: public
//!   holidays are rest days, make-up Saturdays working days) × the local
//!   hour — learned. Noise complaints are a larger share at night, the
//!   enterprise line's on working days.
//! * `share(d | k)` is the district's learned share of category *k*.
//!
//! A street cell is compared with its own district: `expected =
//! share(street | k, d) × (the district cell's count in the window)`. A
//! district-wide rise (the whole of 朝阳区 cold) is then one district
//! alert, not forty street alerts; a rise in one street stands out against
//! its neighbours.
//!
//! Shares are learned counts, shrunk towards a broader share by
//! `prior_strength` pseudo-tickets: a street's share of a category towards
//! the street's share of all its district's tickets, a district's towards
//! its share of the city, a slot's odds towards the category's overall
//! share. A street with 3 heating tickets in history is thus expected to
//! behave like the street as a whole does, not like those 3 tickets.
//!
//! # Learning
//!
//! Counts accumulate per day and are folded into the learned ones when the
//! day ends (local midnight on the calendar's offset), each day's weight
//! then decaying with a half-life of [`half_life_days`] (28 by default):
//! the heating season, a new housing estate, a changed taxonomy are
//! learned within weeks, and a burst is never part of its own baseline.
//! Feed history with [`learn`] (no alerts) before the live stream, or let
//! the detector learn online: it raises nothing until [`warmup_days`]
//! days with tickets have been learned (7 by default — a week covers both
//! day types). A place or category never seen before is learned for a day
//! before it is tested: a new street's first tickets are not a spike.
//!
//! # The test
//!
//! The count is compared with a **negative binomial** distribution of the
//! expected mean and variance `mean + φ × mean²`, and the p-value is its
//! exact upper tail `P(X ≥ count)`. Real hotline counts are
//! over-dispersed — weather, the news, a building's management vary from
//! day to day beyond Poisson noise — and most at high counts, which is
//! where the quadratic term bites: at φ = 0.1 a district expecting 100
//! heating tickets an hour has a standard deviation of 33, not 10, while a
//! street expecting 1 is barely changed. φ is **estimated** from the days
//! learned, per level (district cells, street cells): each cell's day
//! count `O` against its expected `E`, pooled as `Σ((O − E)² − O) / ΣE²`
//! (the moment estimator), leaving out cells that alerted that day. It
//! starts at 0.1 until there is enough data; fix it with [`dispersion`].
//! The estimate sees day-to-day variation and the error of the learned
//! shares; it cannot see many callers reporting one incident within the
//! hour — feed incident-merged counts if your stream has many duplicates.
//!
//! A cell alerts when it is armed, its count is at least [`min_count`] (8:
//! three tickets where 0.1 were expected are improbable, yet page nobody)
//! and the p-value is below
//!
//! ```text
//! threshold = false_alarms_per_week / (cells × windows per week)
//! ```
//!
//! with `windows per week` = a week's buckets (2,016 at 5 minutes): a
//! Bonferroni bound over every (cell, window) pair a week tests, so the
//! expected number of chance alerts is at most `false_alarms_per_week`.
//! It is conservative: overlapping windows are strongly correlated, and
//! most cells are so quiet that only the minimum count could let them
//! alert. With Beijing's 10,416 live cells the default budget of 1 gives
//! a threshold of 4.8e-8.
//!
//! **Choosing the budget:** it is the number of false alarms a week your
//! duty officer accepts. Dividing it by 10 raises the count needed in a
//! street expecting 2.4 tickets in the hour from 15 to 17 (Poisson; about
//! 6 minutes later for a burst of 20 an hour); the dispersion matters as
//! much (17 at φ = 0.05, 19 at 0.1). Measure the rate on your own weeks
//! without incidents, as below, before you tune it.
//!
//! # Measured
//!
//! Generated Beijing weeks of December 2024 (70,000 tickets a day; heating
//! is 14% of all tickets), routed by `Router::beijing()`, after four weeks
//! of history from another seed at 25,000 a day (`tests/spikes.rs`):
//!
//! * 40 heating tickets in 呼家楼街道 within 2 hours, from 10:07 on a
//!   Wednesday (the day's peak: 2.5 heating tickets an hour expected
//!   there): alerted after 39 minutes, at 17 tickets in the hour. A power
//!   cut of 40 tickets in 卢沟桥街道: alerted after 19 minutes. Over 32
//!   bursts in 8 districts at 03:00, 10:00, 15:00 and 20:00 (the ignored
//!   `burst_delays_across_streets_days_and_hours`): all within 60 minutes,
//!   median 24, slowest 42 (at night, where the minimum count decides).
//! * A cold snap (heating ×20 all day): heating alerts in all 16 districts
//!   between 00:07 and 00:55, each once, and no street alert (each street
//!   rose with its district).
//! * **False alarms: none** — 0 alerts besides the injected ones in 4
//!   weeks and the 6 ordinary days of the cold-snap week (2.3 million
//!   tickets), against a budget of 1 a week. The generator's counts are
//!   Poisson and its shares fixed, so this is the behaviour on well-modelled
//!   data (estimated φ: 0.0006 for districts, 0.03 for streets, the latter
//!   the error of shares learned from a month); real data will use more of
//!   the budget.
//!
//! # Real streams
//!
//! * **Holidays and make-up days** take the rest-day or working-day slots
//!   from the [`Calendar`]; a quiet holiday lowers every expectation
//!   through the volume itself.
//! * **Night hours:** expectations near 0, so the minimum count decides:
//!   8 tickets of one kind in one street in an hour at 03:00 alert.
//! * **New streets and categories** (a taxonomy change, an estate opened)
//!   are learned for a day, then watched.
//! * **One category's city-wide surge** (a cold snap) counts as "other
//!   tickets" for every other category, inflating their expectations while
//!   it lasts: other spikes that day need more tickets to show.
//! * **A lasting level shift** (the heating season's start, a category
//!   split in the taxonomy) is learned only at the half-life's pace: until
//!   then each district re-arms on quiet nights and alerts again the next
//!   day. Measured on a generated year whose heating weight steps ×37 on
//!   1 November: 459 district heating alerts that month, 5 in the other
//!   eleven. Give history that covers the season's start, or a shorter
//!   [`half_life_days`](SpikeDetectorBuilder::half_life_days) around it.
//! * **Bad times:** see below.
//!
//! # Time
//!
//! Time comes from the tickets, not the wall clock: the newest ticket time
//! is the detector's *now*. A ticket up to a window late is counted in its
//! bucket; later ones (up to the previous day) are only learned. A ticket
//! more than [`max_jump`] (a day) ahead of now is held as suspect and
//! skipped unless the next ticket confirms the jump (within an hour of it):
//! one ticket stamped 2099 does not end every window. Nothing panics on
//! any [`Timestamp`].
//!
//! # Resource usage
//!
//! A cell holds its ring of `window / bucket` (12) `u16` counts, 40 bytes
//! of state and an index entry. Cells exist only where tickets came; a
//! cell whose learned count decays away (a single ticket after about four
//! months) is dropped at a day's end, and [`max_cells`] caps them. Beijing's
//! 76 categories × 365 places bound the cells at 27,740; after a month
//! there are 10,416 and the detector holds 1.35 MB in all
//! ([`SpikeStats::bytes`]), whatever the stream's length. An update costs
//! three hash lookups of codes and two of cells, and a cell is tested at
//! most once per bucket unless its count rises: 0.18 µs a ticket (0.27 µs
//! through [`observe`](SpikeDetector::observe), which reads the codes off
//! the decision) on a shared, loaded machine where routing the ticket took
//! 7.9 µs (`benches/spikes.rs`).
//!
//! # Examples
//!
//! ```
//! use hotline_router::analytics::spikes::SpikeDetector;
//! use jiff::{SignedDuration, Timestamp};
//!
//! let mut detector = SpikeDetector::new();
//! // Two ordinary weeks as history: a ticket a minute, four categories
//! // over five streets of 朝阳区, round-robin.
//! let categories = ["env.noise", "heating", "transport.parking", "housing.property"];
//! let streets = ["110105001", "110105002", "110105003", "110105004", "110105006"];
//! let mut t: Timestamp = "2024-11-18T00:00:00+08:00".parse()?;
//! for i in 0..14 * 24 * 60 {
//!     let street = streets[(i / 4) % 5];
//!     detector.learn_codes(t, categories[i % 4], Some("110105"), Some(street));
//!     t += SignedDuration::from_mins(1);
//! }
//! // Then 呼家楼街道 (110105003) calls about heating 40 times in an hour,
//! // beside the ordinary stream.
//! let mut alerts = Vec::new();
//! for i in 0..60 {
//!     let street = streets[(i / 4) % 5];
//!     alerts.extend(detector.observe_codes(t, categories[i % 4], Some("110105"), Some(street)));
//!     for _ in 0..(2 - i % 3) {
//!         alerts.extend(detector.observe_codes(t, "heating", Some("110105"), Some("110105003")));
//!     }
//!     t += SignedDuration::from_mins(1);
//! }
//! let street = alerts.iter().find(|a| a.street.is_some()).expect("the street is alerted");
//! assert_eq!(street.street.as_deref(), Some("110105003"));
//! assert_eq!(street.category, "heating");
//! assert!(street.count >= 8 && f64::from(street.count) > 3.0 * street.expected);
//! // Once per episode: the same street and category did not alert again.
//! assert_eq!(alerts.iter().filter(|a| a.street == street.street).count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`false_alarms_per_week`]: SpikeDetectorBuilder::false_alarms_per_week
//! [`half_life_days`]: SpikeDetectorBuilder::half_life_days
//! [`warmup_days`]: SpikeDetectorBuilder::warmup_days
//! [`dispersion`]: SpikeDetectorBuilder::dispersion
//! [`min_count`]: SpikeDetectorBuilder::min_count
//! [`max_jump`]: SpikeDetectorBuilder::max_jump
//! [`max_cells`]: SpikeDetectorBuilder::max_cells
//! [`learn`]: SpikeDetector::learn
//! [`Calendar`]: crate::Calendar

mod builder;
mod cells;
mod detector;
mod rates;
mod stats;
#[cfg(test)]
mod tests;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use builder::{SpikeConfigError, SpikeDetectorBuilder};

use crate::router::Decision;
use builder::Settings;
use cells::{Cells, CityRing, Names};
use detector::Clock;
use rates::Rates;

/// One spike: a cell whose count in the window ending at `at` is
/// improbably high.
///
/// Serialized as the JSON object `{"at","category","district","street",
/// "count","expected","p_value"}` (`at` in RFC 3339, `street` null for a
/// district-wide alert): the line `hotline alerts` writes.
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::spikes::Alert;
///
/// let line = r#"{"at":"2024-12-04T02:31:00Z","category":"heating","district":"110105",
///     "street":"110105003","count":14,"expected":1.2,"p_value":3.1e-10}"#;
/// let alert: Alert = serde_json::from_str(line).unwrap();
/// assert_eq!(alert.street.as_deref(), Some("110105003"));
/// assert!(f64::from(alert.count) > 10.0 * alert.expected);
/// assert_eq!(serde_json::from_str::<Alert>(&serde_json::to_string(&alert).unwrap()).unwrap(), alert);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The end of the window: the newest ticket time the detector had seen.
    pub at: Timestamp,
    /// The category code.
    pub category: String,
    /// The district code.
    pub district: String,
    /// The street code; `None` for a district-wide alert.
    pub street: Option<String>,
    /// Tickets of the category at the place in the window.
    pub count: u32,
    /// The tickets expected there in the window.
    pub expected: f64,
    /// `P(X ≥ count)` for the expected distribution: how improbable the
    /// count is by chance (below the detector's threshold).
    pub p_value: f64,
}

/// What a detector has seen and holds, from [`SpikeDetector::stats`].
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::spikes::SpikeDetector;
///
/// let mut d = SpikeDetector::new();
/// let at = "2024-12-02T09:00:00+08:00".parse().unwrap();
/// d.observe_codes(at, "heating", Some("110105"), Some("110105003"));
/// d.observe_codes("2099-01-01T00:00:00Z".parse().unwrap(), "heating", None, None);
/// let s = d.stats();
/// assert_eq!((s.tickets, s.ahead, s.cells), (2, 1, 2));
/// assert!(!s.warm);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SpikeStats {
    /// Tickets given to `observe` or `learn`.
    pub tickets: u64,
    /// Of those, skipped as too far ahead of the clock (unconfirmed jumps).
    pub ahead: u64,
    /// Skipped as older than the previous day.
    pub stale: u64,
    /// Counted city-wide but not in a cell: the cell or code limit was
    /// reached.
    pub untracked: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Live cells.
    pub cells: usize,
    /// Days with tickets learned.
    pub days_learned: u32,
    /// Whether the warm-up is over (alerts can be raised).
    pub warm: bool,
    /// The p-value below which a cell alerts now.
    pub threshold: f64,
    /// The over-dispersion φ in use for district cells and street cells
    /// (estimated unless fixed by the builder).
    pub dispersion: (f64, f64),
    /// Heap bytes held, roughly.
    pub bytes: usize,
}

/// Running counts.
#[derive(Clone, Debug, Default)]
struct Counters {
    tickets: u64,
    ahead: u64,
    stale: u64,
    untracked: u64,
    alerts: u64,
}

/// A streaming spike detector over routed tickets; see the [module
/// docs](self) for what it computes.
///
/// Single-threaded by design (one `&mut` per update, no locks): run it
/// beside the router's consumer, or in a thread fed by a channel. Clone it
/// to branch a learned state (a "what if" replay, a test).
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::spikes::SpikeDetector;
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let mut detector = SpikeDetector::builder().min_count(10).build().unwrap();
/// let ticket = Ticket::new("T1", "暖气片冰凉，屋里只有十四度")
///     .with_address("朝阳区呼家楼街道东大桥社区")
///     .with_received_at("2024-12-04T09:12:00+08:00".parse().unwrap());
/// let decision = router.route(&ticket).unwrap();
/// // Without history the detector is warming up: it learns, and never alerts.
/// let alerts = detector.observe(&decision, ticket.received_at.unwrap());
/// assert!(alerts.is_empty());
/// assert_eq!(detector.stats().cells, 2); // heating in 朝阳区, and in 呼家楼街道
/// ```
#[derive(Clone, Debug)]
pub struct SpikeDetector {
    s: Settings,
    clock: Clock,
    names: Names,
    city: CityRing,
    cells: Cells,
    rates: Rates,
    threshold: f64,
    /// φ in use for district and street cells.
    dispersion: [f64; 2],
    /// Decayed sums of `(O − E)² − O` and `E²` over cell-days, per level.
    moments: [(f64, f64); 2],
    counters: Counters,
}

impl Default for SpikeDetector {
    fn default() -> Self {
        SpikeDetector::new()
    }
}

impl SpikeDetector {
    /// A detector with the default settings (a 60-minute window in
    /// 5-minute buckets, at least 8 tickets, 1 false alarm a week,
    /// dispersion 0.1, 28-day half-life, 7 warm-up days, China's calendar).
    pub fn new() -> SpikeDetector {
        SpikeDetectorBuilder::new()
            .build()
            .expect("the default settings are valid")
    }

    /// A builder to change the settings.
    pub fn builder() -> SpikeDetectorBuilder {
        SpikeDetectorBuilder::new()
    }

    fn with_settings(s: Settings) -> SpikeDetector {
        let threshold = s.threshold(0);
        let phi = s.dispersion.unwrap_or(detector::INITIAL_DISPERSION);
        SpikeDetector {
            dispersion: [phi; 2],
            moments: [(0.0, 0.0); 2],
            city: CityRing::new(s.w),
            cells: Cells::new(s.w),
            s,
            clock: Clock::new(),
            names: Names::default(),
            rates: Rates::default(),
            threshold,
            counters: Counters::default(),
        }
    }

    /// Counts a routed ticket received at `at` and returns the alerts it
    /// raised (none, one, or a district and a street one).
    ///
    /// The ticket is learned as well. A ticket with no district counts
    /// only in the city-wide volume.
    pub fn observe(&mut self, decision: &Decision, at: Timestamp) -> Vec<Alert> {
        self.record(
            at,
            decision.category().code(),
            decision.district_code(),
            decision.street_code(),
            true,
        )
    }

    /// [`observe`](SpikeDetector::observe) from codes: any category code
    /// (codes never seen are learned, then watched), the district's code
    /// and, if known, the street's (taken only with a district).
    pub fn observe_codes(
        &mut self,
        at: Timestamp,
        category: &str,
        district: Option<&str>,
        street: Option<&str>,
    ) -> Vec<Alert> {
        self.record(at, category, district, street, true)
    }

    /// Learns a past ticket without testing anything: history, in time
    /// order, before the live stream continues from where it ends.
    pub fn learn(&mut self, decision: &Decision, at: Timestamp) {
        self.record(
            at,
            decision.category().code(),
            decision.district_code(),
            decision.street_code(),
            false,
        );
    }

    /// [`learn`](SpikeDetector::learn) from codes.
    pub fn learn_codes(
        &mut self,
        at: Timestamp,
        category: &str,
        district: Option<&str>,
        street: Option<&str>,
    ) {
        self.record(at, category, district, street, false);
    }

    /// The detector's time: the newest ticket time seen, if any.
    pub fn now(&self) -> Option<Timestamp> {
        self.clock.started.then_some(self.clock.now)
    }

    /// Counts and sizes.
    pub fn stats(&self) -> SpikeStats {
        let c = &self.counters;
        SpikeStats {
            tickets: c.tickets,
            ahead: c.ahead,
            stale: c.stale,
            untracked: c.untracked,
            alerts: c.alerts,
            cells: self.cells.len(),
            days_learned: self.rates.days,
            warm: self.rates.days >= self.s.warmup_days,
            threshold: self.threshold,
            dispersion: (self.dispersion[0], self.dispersion[1]),
            bytes: self.cells.bytes() + self.city.bytes() + self.names.bytes() + self.rates.bytes(),
        }
    }
}
