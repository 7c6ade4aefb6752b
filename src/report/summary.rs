//! The report's tables, assembled from the counters for one month.

use jiff::civil::Date;

use super::counts::{Counts, MonthCounts};
use super::{AlertRow, IncidentRow, Report};
use crate::analytics::governance::GovernanceList;
use crate::analytics::topics::{Candidate, Weights};
use crate::analytics::Month;
use crate::evaluate::Rates;
use crate::{CategoryId, Domain, Region, Router, StreetId};

/// Hot-spot streets listed.
const HOT_STREETS: usize = 15;

/// What the builder read.
///
/// # Examples
///
/// ```
/// use hotline_router::report::Report;
///
/// let mut b = Report::builder(&hotline_router::Router::beijing());
/// b.add_bad_line(7, "expected value at line 1 column 1");
/// assert_eq!(b.build().input().bad, 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputSummary {
    /// Tickets counted.
    pub tickets: u64,
    /// Routed tickets without `received_at` (not counted: the month is unknown).
    pub untimed: u64,
    /// Tickets outside the month and its look-back (not counted).
    pub skipped: u64,
    /// Lines that could not be used.
    pub bad: u64,
    /// The first of them: line number and why.
    pub bad_lines: Vec<(u64, String)>,
}

/// A category's volume in the month.
///
/// # Examples
///
/// ```
/// use hotline_router::report::CategoryRow;
///
/// let row = CategoryRow { code: "heating".into(), name: "供暖".into(), domain: "城乡建设".into(), volume: 10, previous: Some(5) };
/// assert_eq!(row.change(), Some(1.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CategoryRow {
    /// The category code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its domain's name.
    pub domain: String,
    /// Tickets in the month.
    pub volume: u32,
    /// Tickets the month before, if that month was read.
    pub previous: Option<u32>,
}

impl CategoryRow {
    /// The relative change against the month before (1.0 = doubled).
    pub fn change(&self) -> Option<f64> {
        change(self.volume, self.previous)
    }
}

fn change(now: u32, before: Option<u32>) -> Option<f64> {
    before
        .filter(|&b| b > 0)
        .map(|b| f64::from(now) / f64::from(b) - 1.0)
}

/// A district's volume in the month, and its 三率 when records were given.
///
/// # Examples
///
/// ```
/// use hotline_router::report::Report;
/// use hotline_router::{Router, Ticket};
///
/// let at = "2024-11-20T09:00:00+08:00".parse()?;
/// let report = Report::builder(&Router::beijing())
///     .tickets([Ticket::new("T1", "挪车").with_address("海淀区学院路街道").with_received_at(at)])
///     .build();
/// let busiest = &report.districts()[0];
/// assert_eq!((busiest.name.as_str(), busiest.volume), ("海淀区", 1));
/// assert!(busiest.rates.is_none()); // no records given
/// assert_eq!(report.districts().len(), 16); // every district, quiet ones too
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DistrictRow {
    /// The district code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Tickets in the month.
    pub volume: u32,
    /// Tickets the month before, if that month was read.
    pub previous: Option<u32>,
    /// The 三率, from records.
    pub rates: Option<Rates>,
}

/// A hot-spot street: one of the month's busiest.
///
/// # Examples
///
/// ```
/// use hotline_router::report::Report;
/// use hotline_router::{Router, Ticket};
///
/// let at = "2024-11-20T09:00:00+08:00".parse()?;
/// let tickets = ["暖气不热", "暖气片冰凉", "楼上装修太吵"].map(|text| {
///     Ticket::new(text, text).with_address("朝阳区呼家楼街道").with_received_at(at)
/// });
/// let report = Report::builder(&Router::beijing()).tickets(tickets).build();
/// let hot = &report.streets()[0];
/// assert_eq!((hot.name.as_str(), hot.volume), ("呼家楼街道", 3));
/// assert_eq!(hot.top_category, "供暖");
/// assert!((hot.top_share - 2.0 / 3.0).abs() < 1e-9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct StreetRow {
    /// The street code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its district's name.
    pub district: String,
    /// Tickets in the month.
    pub volume: u32,
    /// Tickets the month before, if that month was read.
    pub previous: Option<u32>,
    /// The name of the category it calls about most.
    pub top_category: String,
    /// That category's share of the street's tickets.
    pub top_share: f64,
}

/// Everything [`assemble`] needs.
pub(super) struct Parts<'a> {
    pub router: &'a Router,
    pub title: String,
    pub month: Option<Month>,
    pub input: InputSummary,
    pub counts: &'a Counts,
    pub regions: Vec<(String, Region)>,
    pub topics: Vec<Candidate>,
    pub weights: Weights,
    pub governance: Option<GovernanceList>,
    pub district_rates: Vec<Rates>,
    pub records: u64,
    pub incidents: Vec<IncidentRow>,
    pub alerts: Vec<AlertRow>,
}

pub(super) fn assemble(p: Parts<'_>) -> Report {
    let router = p.router;
    let j = router.jurisdictions();
    let tz = router.time_zone();
    let now = p.month.and_then(|m| p.counts.get(m));
    let before = p.month.and_then(|m| p.counts.get(m.back(1)));
    let days = p.month.map(|m| days(m, now)).unwrap_or_default();
    let window = p.month.and_then(|m| m.window(tz).ok());
    let in_month = |at: jiff::Timestamp| window.is_some_and(|(from, to)| from <= at && at < to);

    let mut categories: Vec<CategoryRow> = router
        .categories()
        .filter_map(|(id, c)| {
            let volume = now.map_or(0, |m| m.categories[id.as_usize()]);
            (volume > 0).then(|| CategoryRow {
                code: c.code().to_string(),
                name: c.name().to_string(),
                domain: c.domain().name().to_string(),
                volume,
                previous: before.map(|m| m.categories[id.as_usize()]),
            })
        })
        .collect();
    categories.sort_by(|a, b| b.volume.cmp(&a.volume).then(a.code.cmp(&b.code)));

    let mut domains: Vec<(String, u32)> = Domain::ALL
        .iter()
        .map(|d| {
            let n = categories
                .iter()
                .filter(|c| c.domain == d.name())
                .map(|c| c.volume)
                .sum();
            (d.name().to_string(), n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    domains.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));

    let mut districts: Vec<DistrictRow> = j
        .districts()
        .map(|(id, d)| DistrictRow {
            code: d.code().to_string(),
            name: d.name().to_string(),
            volume: now.map_or(0, |m| m.districts[id.as_usize()]),
            previous: before.map(|m| m.districts[id.as_usize()]),
            rates: p.district_rates.iter().find(|r| r.key == d.code()).cloned(),
        })
        .collect();
    districts.sort_by(|a, b| b.volume.cmp(&a.volume).then(a.code.cmp(&b.code)));

    let streets = now
        .map(|m| hot_streets(router, m, before))
        .unwrap_or_default();

    let mut incidents: Vec<IncidentRow> = p
        .incidents
        .into_iter()
        .filter(|i| in_month(i.first_at))
        .collect();
    incidents.sort_by(|a, b| b.size.cmp(&a.size).then(a.first_at.cmp(&b.first_at)));
    let mut alerts: Vec<AlertRow> = p.alerts.into_iter().filter(|a| in_month(a.at)).collect();
    alerts.sort_by(|a, b| a.at.cmp(&b.at).then(a.category.cmp(&b.category)));

    let n_days = days.len().max(1) as f64;
    Report {
        router: router.clone(),
        title: p.title,
        month: p.month,
        input: p.input,
        previous_daily_mean: before
            .zip(p.month)
            .map(|(b, m)| f64::from(b.total) / days_in(m.back(1)) as f64),
        total: now.map_or(0, |m| m.total),
        previous_total: before.map(|m| m.total),
        daily_mean: now.map_or(0.0, |m| f64::from(m.total) / n_days),
        days,
        domains,
        categories,
        districts,
        regions: p.regions,
        streets,
        topics: p.topics,
        weights: p.weights,
        governance: p.governance,
        with_records: p.records > 0,
        incidents,
        alerts,
        no_district: now.map_or(0, |m| m.no_district),
    }
}

fn days_in(month: Month) -> i8 {
    Date::new(month.year(), month.month(), 1).map_or(30, |d| d.days_in_month())
}

fn days(month: Month, counts: Option<&MonthCounts>) -> Vec<(Date, u32)> {
    (1..=days_in(month))
        .filter_map(|d| {
            let date = Date::new(month.year(), month.month(), d).ok()?;
            Some((date, counts.map_or(0, |c| c.days[(d - 1) as usize])))
        })
        .collect()
}

fn hot_streets(router: &Router, now: &MonthCounts, before: Option<&MonthCounts>) -> Vec<StreetRow> {
    let j = router.jurisdictions();
    let mut busiest: Vec<(usize, u32)> = now
        .streets
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, n)| *n > 0)
        .collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    busiest.truncate(HOT_STREETS);
    busiest
        .into_iter()
        .map(|(i, volume)| {
            let s = j.street(StreetId(i as u32));
            let (category, n) = now
                .street_category
                .iter()
                .filter(|((street, _), _)| *street as usize == i)
                .map(|((_, c), n)| (*c, *n))
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                .unwrap_or((0, 0));
            StreetRow {
                code: s.code().to_string(),
                name: s.name().to_string(),
                district: j.district(s.district()).name().to_string(),
                volume,
                previous: before.map(|b| b.streets[i]),
                top_category: router.category(CategoryId(category)).name().to_string(),
                top_share: f64::from(n) / f64::from(volume),
            }
        })
        .collect()
}
