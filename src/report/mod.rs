//! The monthly report: one self-contained HTML file a city official can
//! open anywhere — no scripts, no fonts or images to fetch, no network.
//!
//! A [`ReportBuilder`] reads routed tickets (and, optionally, the
//! dispatcher's [`TicketRecord`]s) one at a time and folds them into
//! per-month counters; [`Report`] is what it computed for one month, and
//! [`Report::render`] writes the page:
//!
//! * **input** — tickets read, and the lines that could not be used;
//! * **daily volume** — a bar per day, weekends lighter, the previous
//!   month's daily mean as a line (drawn with `plotters`' SVG backend);
//! * **categories** — the 16 domains and the top categories, against the
//!   month before;
//! * **the district map** — the district polygons, projected
//!   equirectangularly with longitude scaled by cos(latitude), each
//!   filled by its volume on a light-to-dark scale with a legend;
//! * **hot-spot streets** — the busiest streets and what they call about;
//! * **incidents** and **alerts** — given as rows ([`IncidentRow`],
//!   [`AlertRow`]) by whatever found them;
//! * **每月一题 candidates** ([`topics`](crate::analytics::topics)) and the
//!   **治理类街乡镇** list ([`governance`](crate::analytics::governance));
//! * **三率** by district, when records were given.
//!
//! # Streaming
//!
//! Nothing per ticket is kept but a few evidence ids: a year of tickets
//! streams through in the memory of its counters (per month: categories,
//! districts, streets, street × category, and the 每月一题 counters).
//! The month reported is the one set with [`ReportBuilder::month`], or
//! else the latest month seen; with a month set, tickets older than its
//! look-back are not kept at all.
//!
//! # The map's polygons
//!
//! A [`Router`] keeps its district polygons only inside its point index,
//! not as shapes (the national layer is 426k vertices). The map therefore
//! takes them from [`ReportBuilder::regions`]; without that call, from the
//! embedded Beijing data, for the districts whose codes the router shares.
//!
//! # Example
//!
//! ```
//! use hotline_router::report::Report;
//! use hotline_router::workload::WorkloadBuilder;
//! use hotline_router::Router;
//!
//! let router = Router::beijing();
//! let workload = WorkloadBuilder::new(7).per_day(200).start("2024-11-01".parse()?).build(&router);
//! let mut builder = Report::builder(&router).title("朝阳区 12345 月报");
//! for day in 0..3 {
//!     for item in workload.day(day) {
//!         match item.into_ticket() {
//!             Some(t) => match router.route(&t) {
//!                 Ok(d) => { builder.add(&t, &d); }
//!                 Err(e) => builder.add_bad_line(0, e.to_string()),
//!             },
//!             None => builder.add_bad_line(0, "not a ticket"),
//!         }
//!     }
//! }
//! let report = builder.build();
//! assert_eq!(report.month().map(|m| m.to_string()).as_deref(), Some("2024-11"));
//! let html = report.render();
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! assert!(html.contains("每月一题") && html.contains("<svg"));
//! assert!(!html.contains("https://"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`TicketRecord`]: crate::dispatch::TicketRecord

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;

use crate::analytics::governance::{Governance, GovernanceList, Population};
use crate::analytics::topics::{Candidate, Topics, Weights};
use crate::analytics::Month;
use crate::dispatch::TicketRecord;
use crate::evaluate::{GroupBy, RateTable, Rates};
use crate::{Decision, JurisdictionsConfig, Region, Router, Ticket};

mod chart;
mod counts;
mod html;
pub(crate) mod map;
mod summary;

use counts::Counts;
pub use summary::{CategoryRow, DistrictRow, InputSummary, StreetRow};

/// Most bad lines listed by name (all are counted).
const LISTED_BAD_LINES: usize = 50;

/// One incident (many callers, one problem) for the report's incidents
/// section; district and street are codes, shown by name.
///
/// # Examples
///
/// ```
/// use hotline_router::report::{IncidentRow, Report};
/// use hotline_router::Router;
///
/// let burst = IncidentRow {
///     incident: "D0003-000120".into(),
///     category: "utilities.water".into(),
///     district: Some("110105".into()),
///     street: Some("110105003".into()),
///     size: 4,
///     first_at: "2024-11-03T08:10:00+08:00".parse()?,
///     last_at: "2024-11-03T09:40:00+08:00".parse()?,
/// };
/// let html = Report::builder(&Router::beijing())
///     .month("2024-11".parse()?)
///     .incidents([burst])
///     .render();
/// assert!(html.contains("D0003-000120") && html.contains("呼家楼街道"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct IncidentRow {
    /// The incident id (its first ticket's id).
    pub incident: String,
    /// The category code.
    pub category: String,
    /// The district code.
    #[serde(default)]
    pub district: Option<String>,
    /// The street code.
    #[serde(default)]
    pub street: Option<String>,
    /// Tickets linked to it.
    pub size: u32,
    /// When its first ticket was received.
    pub first_at: Timestamp,
    /// When its latest ticket was received.
    pub last_at: Timestamp,
}

/// One spike alert for the report's alerts section: the line format of
/// `hotline alerts` (`{"at","category","district","street","count",
/// "expected","p_value"}`).
///
/// # Examples
///
/// ```
/// use hotline_router::report::AlertRow;
///
/// let line = r#"{"at":"2024-11-20T10:00:00+08:00","category":"heating","district":"110105","street":"110105003","count":41,"expected":2.5,"p_value":1e-12}"#;
/// let alert: AlertRow = serde_json::from_str(line).unwrap();
/// assert_eq!(alert.count, 41);
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct AlertRow {
    /// When it was raised.
    pub at: Timestamp,
    /// The category code.
    pub category: String,
    /// The district code.
    #[serde(default)]
    pub district: Option<String>,
    /// The street code.
    #[serde(default)]
    pub street: Option<String>,
    /// Tickets counted.
    pub count: u32,
    /// Tickets expected.
    pub expected: f64,
    /// The test's p-value.
    pub p_value: f64,
}

/// Reads tickets (and records) and builds a [`Report`]; see the
/// [module documentation](self).
///
/// Options are set by value (`.month(…)`, `.population(…)`), tickets added
/// by reference ([`add`](ReportBuilder::add)) or as a whole stream
/// ([`tickets`](ReportBuilder::tickets)).
///
/// # Examples
///
/// ```
/// use hotline_router::report::Report;
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let at = "2024-11-20T09:00:00+08:00".parse()?;
/// let report = Report::builder(&router)
///     .month("2024-11".parse()?)
///     .tickets([
///         Ticket::new("T1", "暖气不热").with_address("朝阳区呼家楼街道").with_received_at(at),
///         Ticket::new("T2", "").with_received_at(at), // unroutable: listed as a bad line
///     ])
///     .build();
/// assert_eq!(report.input().tickets, 1);
/// assert_eq!(report.input().bad_lines, [(2, "ticket has no text and no address".to_string())]);
/// assert_eq!(report.districts()[0].name, "朝阳区");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ReportBuilder {
    router: Router,
    title: String,
    month: Option<Month>,
    regions: Option<Vec<(String, Region)>>,
    incidents: Vec<IncidentRow>,
    alerts: Vec<AlertRow>,
    counts: Counts,
    topics: Topics,
    governance: Governance,
    district_rates: BTreeMap<Month, RateTable>,
    records: u64,
    input: InputSummary,
    streamed: u64,
}

impl ReportBuilder {
    fn new(router: &Router) -> ReportBuilder {
        ReportBuilder {
            router: router.clone(),
            title: "12345 接诉即办 月度报告".to_string(),
            month: None,
            regions: None,
            incidents: Vec::new(),
            alerts: Vec::new(),
            counts: Counts::new(router),
            topics: Topics::new(router),
            governance: Governance::new(router),
            district_rates: BTreeMap::new(),
            records: 0,
            input: InputSummary::default(),
            streamed: 0,
        }
    }

    /// Reports on `month` (default: the latest month seen). Set it before
    /// adding tickets, so that tickets it does not need are not kept.
    pub fn month(mut self, month: Month) -> ReportBuilder {
        self.month = Some(month);
        self.topics = self.topics.only(month);
        self
    }

    /// The page's title.
    pub fn title(mut self, title: impl Into<String>) -> ReportBuilder {
        self.title = title.into();
        self
    }

    /// Ranks the 治理类 list per 10,000 residents of this table.
    pub fn population(mut self, population: Population) -> ReportBuilder {
        self.governance = self.governance.population(population);
        self
    }

    /// The district polygons of the map, by district code (default: the
    /// embedded Beijing polygons of the districts the router shares).
    pub fn regions(mut self, regions: impl IntoIterator<Item = (String, Region)>) -> ReportBuilder {
        self.regions = Some(regions.into_iter().collect());
        self
    }

    /// Incidents for the incidents section (those of the month are shown,
    /// largest first).
    pub fn incidents(mut self, rows: impl IntoIterator<Item = IncidentRow>) -> ReportBuilder {
        self.incidents.extend(rows);
        self
    }

    /// Alerts for the alerts section (those of the month are shown).
    pub fn alerts(mut self, rows: impl IntoIterator<Item = AlertRow>) -> ReportBuilder {
        self.alerts.extend(rows);
        self
    }

    /// Routes and adds every ticket of a stream; a ticket the router
    /// refuses is a bad line numbered by its place in the stream (from 1).
    pub fn tickets(mut self, tickets: impl IntoIterator<Item = Ticket>) -> ReportBuilder {
        let router = self.router.clone();
        for ticket in tickets {
            self.streamed += 1;
            match router.route(&ticket) {
                Ok(d) => {
                    self.add(&ticket, &d);
                }
                Err(e) => self.add_bad_line(self.streamed, e.to_string()),
            }
        }
        self
    }

    /// Adds the records of a stream (see [`add_record`](ReportBuilder::add_record)).
    pub fn records<'a>(
        mut self,
        records: impl IntoIterator<Item = &'a TicketRecord>,
    ) -> ReportBuilder {
        for r in records {
            self.add_record(r);
        }
        self
    }

    /// Counts a routed ticket. Returns `false`, counting it as skipped,
    /// when it has no `received_at` or falls outside the month set and its
    /// look-back.
    pub fn add(&mut self, ticket: &Ticket, decision: &Decision) -> bool {
        let Some(at) = ticket.received_at else {
            self.input.untimed += 1;
            return false;
        };
        if let Some(m) = self.month {
            let back = Month::of(at, self.router.time_zone()).months_until(m);
            if !(0..=self.topics.config().lookback as i32).contains(&back) {
                self.input.skipped += 1;
                return false;
            }
        }
        self.input.tickets += 1;
        self.counts.add(at, decision);
        self.topics.add(ticket, decision);
        self.governance.add(ticket, decision);
        true
    }

    /// Adds how a ticket was handled: its 三率 by district and street, and
    /// its 每月一题 candidate's difficulty. Its volume comes from
    /// [`add`](ReportBuilder::add) (a record alone adds none).
    pub fn add_record(&mut self, record: &TicketRecord) {
        self.records += 1;
        let tz = self.router.time_zone();
        let month = Month::of(record.received_at(), tz);
        self.topics.add_record(record);
        self.governance.add_record(record);
        if let std::collections::btree_map::Entry::Vacant(e) = self.district_rates.entry(month) {
            let Ok((from, to)) = month.window(tz) else {
                return;
            };
            e.insert(RateTable::new(GroupBy::District, from, to));
        }
        if let Some(t) = self.district_rates.get_mut(&month) {
            t.add(record);
        }
    }

    /// Notes an input line that could not be used (all are counted; the
    /// first 50 are listed in the report).
    pub fn add_bad_line(&mut self, line: u64, reason: impl Into<String>) {
        self.input.bad += 1;
        if self.input.bad_lines.len() < LISTED_BAD_LINES {
            self.input.bad_lines.push((line, reason.into()));
        }
    }

    /// Computes the report of the month.
    pub fn build(self) -> Report {
        let month = self.month.or_else(|| self.counts.latest());
        let regions = self
            .regions
            .unwrap_or_else(|| beijing_regions(&self.router));
        let district_rates: Vec<Rates> = month
            .and_then(|m| self.district_rates.get(&m).cloned())
            .map(RateTable::finish)
            .unwrap_or_default();
        let topics = month.map(|m| self.topics.rank(m)).unwrap_or_default();
        let governance = month.map(|m| self.governance.list(m));
        // Incidents and alerts of the report's month only, biggest and
        // earliest first: the rows may come from a longer stream.
        let tz = self.router.time_zone().clone();
        let in_month = |at: Timestamp| month.is_none_or(|m| Month::of(at, &tz) == m);
        let mut incidents = self.incidents;
        incidents.retain(|i| in_month(i.first_at));
        incidents.sort_by(|a, b| {
            (b.size, a.first_at, &a.incident).cmp(&(a.size, b.first_at, &b.incident))
        });
        let mut alerts = self.alerts;
        alerts.retain(|a| in_month(a.at));
        alerts.sort_by_key(|a| a.at);
        summary::assemble(summary::Parts {
            router: &self.router,
            title: self.title,
            month,
            input: self.input,
            counts: &self.counts,
            regions,
            topics,
            weights: self.topics.config().weights,
            governance,
            district_rates,
            records: self.records,
            incidents,
            alerts,
        })
    }

    /// Builds and renders in one step.
    pub fn render(self) -> String {
        self.build().render()
    }
}

/// The embedded Beijing polygons of the districts whose codes the router has.
pub(crate) fn beijing_regions(router: &Router) -> Vec<(String, Region)> {
    let j = router.jurisdictions();
    JurisdictionsConfig::beijing()
        .districts
        .into_iter()
        .filter(|d| j.district_id(&d.code).is_some())
        .filter_map(|d| Some((d.code, d.region?)))
        .collect()
}

/// A month's report, computed by [`ReportBuilder::build`]; [`render`]
/// writes it as HTML.
///
/// # Examples
///
/// ```
/// use hotline_router::report::Report;
/// use hotline_router::Router;
///
/// // Nothing read: every section says so.
/// let report = Report::builder(&Router::beijing()).build();
/// assert_eq!(report.month(), None);
/// assert!(report.render().contains("没有工单"));
/// ```
///
/// [`render`]: Report::render
#[derive(Clone, Debug)]
pub struct Report {
    router: Router,
    title: String,
    month: Option<Month>,
    input: InputSummary,
    days: Vec<(jiff::civil::Date, u32)>,
    previous_daily_mean: Option<f64>,
    daily_mean: f64,
    total: u32,
    no_district: u32,
    previous_total: Option<u32>,
    domains: Vec<(String, u32)>,
    categories: Vec<CategoryRow>,
    districts: Vec<DistrictRow>,
    regions: Vec<(String, Region)>,
    streets: Vec<StreetRow>,
    topics: Vec<Candidate>,
    weights: Weights,
    governance: Option<GovernanceList>,
    with_records: bool,
    incidents: Vec<IncidentRow>,
    alerts: Vec<AlertRow>,
}

impl Report {
    /// A builder over `router` (names, time zone and the taxonomy come
    /// from it).
    pub fn builder(router: &Router) -> ReportBuilder {
        ReportBuilder::new(router)
    }

    /// The month reported on (`None` when no ticket was read).
    pub fn month(&self) -> Option<Month> {
        self.month
    }

    /// What was read.
    pub fn input(&self) -> &InputSummary {
        &self.input
    }

    /// Tickets in the month.
    pub fn total(&self) -> u32 {
        self.total
    }

    /// Tickets per day of the month.
    pub fn days(&self) -> &[(jiff::civil::Date, u32)] {
        &self.days
    }

    /// Every category with tickets in the month, busiest first.
    pub fn categories(&self) -> &[CategoryRow] {
        &self.categories
    }

    /// Every district, busiest first, with 三率 when records were given.
    pub fn districts(&self) -> &[DistrictRow] {
        &self.districts
    }

    /// The busiest streets, busiest first.
    pub fn streets(&self) -> &[StreetRow] {
        &self.streets
    }

    /// The 每月一题 candidates, best first.
    pub fn topics(&self) -> &[Candidate] {
        &self.topics
    }

    /// The 治理类 list.
    pub fn governance(&self) -> Option<&GovernanceList> {
        self.governance.as_ref()
    }

    /// The page: one self-contained HTML document.
    pub fn render(&self) -> String {
        html::page(self)
    }
}
