//! The detector on small synthetic streams: Poisson arrivals of four
//! categories over two districts of ten streets each.

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::rng::SplitMix64;

const CATEGORIES: [(&str, f64); 4] = [
    ("env.noise", 0.4),
    ("heating", 0.3),
    ("transport.parking", 0.2),
    ("housing.property", 0.1),
];
const DISTRICTS: [(&str, f64); 2] = [("D1", 0.6), ("D2", 0.4)];

fn start() -> Timestamp {
    // A Monday.
    "2024-12-02T00:00:00+08:00".parse().unwrap()
}

fn pick<'a>(rng: &mut SplitMix64, table: &[(&'a str, f64)]) -> &'a str {
    let mut x = rng.next_f64();
    for (name, p) in table {
        if x < *p {
            return name;
        }
        x -= p;
    }
    table[table.len() - 1].0
}

/// `hours` of ordinary tickets from `from`, `per_hour` on average (Poisson
/// arrivals); learned or observed. Returns the alerts and the end time.
fn ordinary(
    d: &mut SpikeDetector,
    rng: &mut SplitMix64,
    from: Timestamp,
    span: SignedDuration,
    per_hour: f64,
    learn: bool,
) -> (Vec<Alert>, Timestamp) {
    let end = from + span;
    let mut t = from;
    let mut alerts = Vec::new();
    loop {
        let gap = -(1.0 - rng.next_f64()).ln() * 3_600.0 / per_hour;
        t += SignedDuration::from_secs_f64(gap);
        if t >= end {
            return (alerts, end);
        }
        let category = pick(rng, &CATEGORIES);
        let district = pick(rng, &DISTRICTS);
        let street = format!("{district}-S{}", rng.below(10));
        if learn {
            d.learn_codes(t, category, Some(district), Some(&street));
        } else {
            alerts.extend(d.observe_codes(t, category, Some(district), Some(&street)));
        }
    }
}

fn hours(n: i64) -> SignedDuration {
    SignedDuration::from_hours(n)
}

/// `n` tickets of `category` in `street` of D1, evenly over `minutes`.
fn burst(
    d: &mut SpikeDetector,
    from: Timestamp,
    n: u32,
    minutes: i64,
    category: &str,
    street: &str,
) -> Vec<Alert> {
    let step = SignedDuration::from_secs(minutes * 60 / i64::from(n));
    (0..n)
        .flat_map(|i| {
            let t = from + step * i as i32;
            d.observe_codes(t, category, Some("D1"), Some(street))
        })
        .collect()
}

/// A detector that learned 14 days of 300 tickets an hour.
fn learned(seed: u64) -> (SpikeDetector, SplitMix64, Timestamp) {
    let mut d = SpikeDetector::new();
    let mut rng = SplitMix64::new(seed);
    let (_, end) = ordinary(&mut d, &mut rng, start(), hours(14 * 24), 300.0, true);
    (d, rng, end)
}

#[test]
fn a_burst_alerts_once_per_episode_and_rearms() {
    let (mut d, mut rng, t) = learned(1);
    assert!(d.stats().warm);
    let (quiet, t) = ordinary(&mut d, &mut rng, t, hours(48), 300.0, false);
    assert!(quiet.is_empty(), "{quiet:?}");

    // Heating in D1-S2 is ~300 × 0.3 × 0.6 / 10 = 5.4 an hour; 60 more in
    // 30 minutes, then 30 more in the next 30: one alert.
    let mut alerts = burst(&mut d, t, 60, 30, "heating", "D1-S2");
    alerts.extend(burst(
        &mut d,
        t + SignedDuration::from_mins(30),
        30,
        30,
        "heating",
        "D1-S2",
    ));
    let street: Vec<_> = alerts.iter().filter(|a| a.street.is_some()).collect();
    assert_eq!(street.len(), 1, "{alerts:?}");
    let a = street[0];
    assert_eq!(
        (a.category.as_str(), a.district.as_str()),
        ("heating", "D1")
    );
    assert!(a.at < t + SignedDuration::from_mins(30), "{a:?}");
    assert!(a.p_value < d.stats().threshold && f64::from(a.count) > a.expected);

    // Three ordinary hours: the window empties and the cell re-arms, so
    // a second burst is a second episode.
    let t = t + SignedDuration::from_hours(1);
    let (quiet, t) = ordinary(&mut d, &mut rng, t, hours(3), 300.0, false);
    assert!(quiet.is_empty(), "{quiet:?}");
    let again = burst(&mut d, t, 60, 30, "heating", "D1-S2");
    assert_eq!(
        again.iter().filter(|a| a.street.is_some()).count(),
        1,
        "{again:?}"
    );
}

#[test]
fn few_tickets_do_not_page_anyone() {
    // A generous budget makes 4 property tickets in a quiet district
    // (expected 0.3 an hour) significant; the minimum count keeps them quiet.
    let lax = |min| {
        SpikeDetector::builder()
            .false_alarms_per_week(1_000.0)
            .min_count(min)
            .dispersion(0.0)
            .build()
            .unwrap()
    };
    for (min, expect) in [(8, false), (4, true)] {
        let mut d = lax(min);
        let mut rng = SplitMix64::new(2);
        let (_, t) = ordinary(&mut d, &mut rng, start(), hours(14 * 24 + 3), 5.0, true);
        let alerts = burst(&mut d, t, 4, 10, "housing.property", "D1-S1");
        assert_eq!(!alerts.is_empty(), expect, "min_count {min}: {alerts:?}");
        assert!(alerts
            .iter()
            .all(|a| a.category == "housing.property" && a.count >= 4));
    }
}

#[test]
fn nothing_is_raised_while_warming_up() {
    let mut d = SpikeDetector::new();
    let mut rng = SplitMix64::new(3);
    let (_, t) = ordinary(&mut d, &mut rng, start(), hours(3 * 24 + 10), 300.0, false);
    assert!(burst(&mut d, t, 100, 30, "heating", "D1-S0").is_empty());
    let s = d.stats();
    assert_eq!((s.days_learned, s.warm), (3, false));
}

#[test]
fn a_new_category_or_street_is_learned_before_it_is_watched() {
    let (mut d, mut rng, t) = learned(4);
    // Day 1: a category and a street never seen before. Not tested.
    let first = burst(
        &mut d,
        t + SignedDuration::from_hours(10),
        40,
        60,
        "enterprise.new",
        "D1-new",
    );
    assert!(first.is_empty(), "{first:?}");
    // Day 2: learned (40 a day, 1.7 an hour); 40 in one hour, amid the
    // ordinary stream, is a spike.
    let (_, next) = ordinary(
        &mut d,
        &mut rng,
        t + SignedDuration::from_hours(24),
        hours(10),
        300.0,
        false,
    );
    let second = burst(&mut d, next, 40, 60, "enterprise.new", "D1-new");
    assert!(
        second.iter().any(|a| a.category == "enterprise.new"),
        "{second:?}"
    );
}

#[test]
fn late_tickets_count_in_their_bucket() {
    let (mut d, mut rng, t) = learned(5);
    let (_, t) = ordinary(&mut d, &mut rng, t, hours(1), 300.0, false);
    // 60 heating tickets stamped over the last 40 minutes arrive now, in
    // reverse order: they are inside the window, so they count.
    let alerts: Vec<Alert> = (0..60)
        .flat_map(|i| {
            let at = t - SignedDuration::from_secs(40 * i);
            d.observe_codes(at, "heating", Some("D1"), Some("D1-S3"))
        })
        .collect();
    assert!(
        alerts.iter().any(|a| a.street.as_deref() == Some("D1-S3")),
        "{alerts:?}"
    );
    assert_eq!(d.now(), Some(t));
}

#[test]
fn far_times_do_not_move_the_clock_unconfirmed_or_panic() {
    let (mut d, _, _) = learned(6);
    let t = d.now().unwrap();
    let ahead = |days: i64| t + SignedDuration::from_hours(24 * days);
    // One ticket a year ahead: skipped, the clock stays.
    d.observe_codes(ahead(365), "heating", Some("D1"), None);
    assert_eq!((d.now(), d.stats().ahead), (Some(t), 1));
    // Normal tickets continue; then extremes of the time line.
    d.observe_codes(t, "heating", Some("D1"), None);
    for at in [Timestamp::MIN, Timestamp::MAX, Timestamp::UNIX_EPOCH] {
        assert!(d
            .observe_codes(at, "heating", Some("D1"), Some("D1-S0"))
            .is_empty());
    }
    d.observe_codes(t, "heating", Some("D1"), None);
    let s = d.stats();
    assert_eq!((s.ahead, s.stale), (2, 2), "{s:?}");
    // Two tickets in a row, two days ahead: the jump is confirmed.
    d.observe_codes(ahead(2), "heating", Some("D1"), None);
    d.observe_codes(
        ahead(2) + SignedDuration::from_mins(1),
        "heating",
        Some("D1"),
        None,
    );
    assert_eq!(d.now(), Some(ahead(2) + SignedDuration::from_mins(1)));
    // A fresh detector starting at the end of time does not panic either.
    let mut e = SpikeDetector::new();
    e.observe_codes(Timestamp::MAX, "heating", Some("D1"), Some("S"));
    e.observe_codes(Timestamp::MIN, "heating", Some("D1"), Some("S"));
}

#[test]
fn idle_cells_are_dropped_and_memory_stays_bounded() {
    let mut d = SpikeDetector::builder()
        .half_life_days(1.0)
        .build()
        .unwrap();
    let mut rng = SplitMix64::new(7);
    let (_, t) = ordinary(&mut d, &mut rng, start(), hours(24), 300.0, true);
    // A street seen once.
    d.learn_codes(t, "heating", Some("D2"), Some("D2-once"));
    let with = d.stats().cells;
    // A week later (halved daily), only the ordinary cells remain.
    let (_, _) = ordinary(&mut d, &mut rng, t, hours(7 * 24), 300.0, true);
    let s = d.stats();
    assert_eq!(s.cells, with - 1, "{s:?}");
    assert!(s.bytes < 64 * 1024, "{s:?}");
}

#[test]
fn a_district_wide_rise_is_one_district_alert() {
    let (mut d, mut rng, t) = learned(8);
    // Heating ×6 in every street of D2 for 40 minutes: the district
    // alerts, its streets (compared with their district) do not.
    let mut alerts = Vec::new();
    for j in 0..20 {
        for i in 0..10 {
            let at = t + SignedDuration::from_mins(2 * j);
            let street = format!("D2-S{i}");
            alerts.extend(d.observe_codes(at, "heating", Some("D2"), Some(&street)));
        }
    }
    let (more, _) = ordinary(&mut d, &mut rng, t, hours(1), 300.0, false);
    alerts.extend(more);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        (alerts[0].district.as_str(), alerts[0].street.as_deref()),
        ("D2", None)
    );
}

#[test]
fn dispersion_is_estimated_from_day_to_day_variation() {
    // Poisson counts: nothing beyond Poisson noise is found.
    let (d, _, _) = learned(9);
    let (districts, streets) = d.stats().dispersion;
    assert!(
        districts < 0.02 && streets < 0.02,
        "{:?}",
        d.stats().dispersion
    );

    // Each day, each category × district runs at 0.5× or 1.5× its rate
    // (variance of the factor 0.25): the district cells see φ ≈ 0.25;
    // streets, compared with their district, see none of it.
    let mut d = SpikeDetector::new();
    let mut rng = SplitMix64::new(10);
    let mut t = start();
    for _ in 0..21 {
        let factors: Vec<f64> = (0..8)
            .map(|_| if rng.next_f64() < 0.5 { 0.5 } else { 1.5 })
            .collect();
        let end = t + SignedDuration::from_hours(24);
        loop {
            t += SignedDuration::from_secs_f64(-(1.0 - rng.next_f64()).ln() * 3_600.0 / 450.0);
            if t >= end {
                break;
            }
            let k = rng.below(4);
            let dd = usize::from(rng.next_f64() >= DISTRICTS[0].1);
            if rng.next_f64() * 1.5 >= factors[k * 2 + dd] {
                continue;
            }
            let (category, district) = (CATEGORIES[k].0, DISTRICTS[dd].0);
            let street = format!("{district}-S{}", rng.below(10));
            d.learn_codes(t, category, Some(district), Some(&street));
        }
        t = end;
    }
    let (districts, streets) = d.stats().dispersion;
    assert!((0.12..0.4).contains(&districts), "{districts}");
    assert!(streets < 0.03, "{streets}");
    // A fixed value is kept.
    let fixed = SpikeDetector::builder().dispersion(0.3).build().unwrap();
    assert_eq!(fixed.stats().dispersion, (0.3, 0.3));
}

#[test]
fn a_long_episode_alerts_once_though_quiet_hours_dip_below_the_minimum() {
    let (mut d, mut rng, mut t) = learned(11);
    // Property in D1-S1 is ~1.8 an hour. An hour at 24, then six at 6 (below
    // the minimum of 8, still far above normal), then another at 24: one
    // episode, one alert.
    let mut alerts = Vec::new();
    for rate in [24, 6, 6, 6, 6, 6, 6, 24] {
        for _ in 0..6 {
            let ten = SignedDuration::from_mins(10);
            let (a, end) = ordinary(&mut d, &mut rng, t, ten, 300.0, false);
            alerts.extend(a);
            alerts.extend(burst(&mut d, t, rate / 6, 10, "housing.property", "D1-S1"));
            t = end;
        }
    }
    let street: Vec<_> = alerts.iter().filter(|a| a.street.is_some()).collect();
    assert_eq!(street.len(), 1, "{alerts:?}");
    // Back to normal for two hours, the cell re-arms: the next burst alerts.
    let (_, t) = ordinary(&mut d, &mut rng, t, hours(2), 300.0, false);
    let again = burst(&mut d, t, 24, 60, "housing.property", "D1-S1");
    assert_eq!(
        again.iter().filter(|a| a.street.is_some()).count(),
        1,
        "{again:?}"
    );
}
