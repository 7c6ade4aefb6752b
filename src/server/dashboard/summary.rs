//! The dashboard's numbers: today's counters, kept from the live events,
//! and the heavier parts (work lists, overdue tickets, 三率), computed
//! from one scan of the records at most once a second.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::broadcast::{self, error::TryRecvError};
use tokio::sync::watch;

use super::scan::{compute, Heavy};
use crate::analytics::spikes::{Alert, SpikeDetector};
use crate::dispatch::{Dispatcher, EventKind, State};
use crate::report::map::{self, Area};
use crate::{Region, Router};

use super::super::{Live, LiveEvent};

/// Categories shown.
const TOP: usize = 10;
/// The latest tickets shown.
const LATEST: usize = 12;
/// The latest alerts shown.
const ALERTS: usize = 10;
/// How long a scan's results (and a drawn map) are served before another.
const FRESH: Duration = Duration::from_secs(1);

/// One row of a count table: a category or a district.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Count {
    pub code: String,
    pub name: String,
    pub count: u64,
}

/// Today's volume.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct TodayView {
    pub received: u64,
    pub no_district: u64,
    pub categories: Vec<Count>,
    pub districts: Vec<Count>,
}

/// A recent ticket, newest first.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct LatestRow {
    pub id: String,
    pub at: String,
    pub category: String,
    pub category_name: String,
    pub district: Option<String>,
    pub district_name: Option<String>,
    pub agency: Option<String>,
    pub agency_name: Option<String>,
}

/// A spike the detector raised.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct AlertRow {
    pub at: String,
    pub category: String,
    pub category_name: String,
    pub district: String,
    pub district_name: String,
    pub street: Option<String>,
    pub street_name: Option<String>,
    pub count: u32,
    pub expected: f64,
}

/// `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Summary {
    pub now: String,
    pub date: String,
    pub version: u64,
    pub today: TodayView,
    pub latest: Vec<LatestRow>,
    pub alerts: Vec<AlertRow>,
    #[serde(flatten)]
    pub heavy: Arc<Heavy>,
}

/// Today's counters, for one local date.
#[derive(Debug, Default)]
struct Counters {
    date: Option<Date>,
    received: u64,
    no_district: u64,
    categories: HashMap<String, u64>,
    districts: HashMap<String, u64>,
    /// Tickets counted by a scan: their `Received` events, which may still
    /// be waiting in the channel, must not count them twice.
    seen: HashSet<String>,
}

impl Counters {
    fn for_date(date: Date) -> Counters {
        Counters {
            date: Some(date),
            ..Counters::default()
        }
    }

    fn count(&mut self, category: &str, district: Option<&str>) {
        self.received += 1;
        *self.categories.entry(category.to_string()).or_default() += 1;
        match district {
            Some(d) => *self.districts.entry(d.to_string()).or_default() += 1,
            None => self.no_district += 1,
        }
    }
}

/// A recent ticket, by code.
#[derive(Clone, Debug)]
struct Latest {
    id: String,
    at: Timestamp,
    category: String,
    district: Option<String>,
    agency: Option<String>,
}

/// What the live events feed: read and written under one lock.
#[derive(Debug)]
struct Feed {
    events: broadcast::Receiver<Arc<LiveEvent>>,
    counters: Counters,
    latest: VecDeque<Latest>,
    detector: SpikeDetector,
    alerts: VecDeque<Alert>,
}

/// The map last drawn: when, for which counts.
#[derive(Debug)]
struct Drawn {
    at: Instant,
    counts: Vec<(String, u64)>,
    svg: Arc<str>,
}

/// The dashboard's state over one dispatcher.
#[derive(Debug)]
pub(crate) struct Board {
    dispatcher: Dispatcher,
    feed: Mutex<Feed>,
    heavy: Mutex<Option<(Instant, Arc<Heavy>)>>,
    map: Mutex<Option<Drawn>>,
    regions: Vec<(String, Region)>,
    version: watch::Sender<u64>,
}

pub(super) fn local(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn date_of(at: Timestamp, tz: &TimeZone) -> Date {
    at.to_zoned(tz.clone()).date()
}

pub(super) fn category_name(router: &Router, code: &str) -> String {
    router.category_id(code).map_or_else(
        || code.to_string(),
        |id| router.category(id).name().to_string(),
    )
}

fn district_name(router: &Router, code: &str) -> String {
    let j = router.jurisdictions();
    j.district_id(code)
        .map_or_else(|| code.to_string(), |id| j.district(id).name().to_string())
}

fn street_name(router: &Router, code: &str) -> String {
    let j = router.jurisdictions();
    j.street_id(code)
        .map_or_else(|| code.to_string(), |id| j.street(id).name().to_string())
}

pub(super) fn agency_name(router: &Router, code: &str) -> String {
    let rules = router.rules();
    rules.agency_id(code).map_or_else(
        || code.to_string(),
        |id| rules.agency(id).name().to_string(),
    )
}

impl Board {
    /// Subscribes to `live`, then counts today's tickets, the latest ones
    /// and the spike detector's history from the records (a full scan,
    /// once: call it on the blocking pool).
    pub(crate) fn new(dispatcher: &Dispatcher, live: &Live) -> Board {
        // Subscribe first: an event acknowledged during the scan is then
        // either in the scan (and `seen`) or in the channel, never lost.
        let events = live.subscribe();
        let router = dispatcher.router();
        let tz = router.time_zone().clone();
        let mut detector = SpikeDetector::builder()
            .calendar(router.calendar().clone())
            .build()
            .unwrap_or_default();
        let mut history: Vec<(Timestamp, String, Option<String>, Option<String>)> = Vec::new();
        dispatcher.for_each_record(|r| {
            let routing = r.routing();
            history.push((
                r.received_at(),
                routing.category.clone(),
                routing.district.clone(),
                routing.street.clone(),
            ));
        });
        history.sort_by_key(|h| h.0);
        for (at, category, district, street) in &history {
            detector.learn_codes(*at, category, district.as_deref(), street.as_deref());
        }
        drop(history);
        let today = date_of(dispatcher.now(), &tz);
        let (counters, latest) = scan(dispatcher, today, &tz);
        Board {
            dispatcher: dispatcher.clone(),
            feed: Mutex::new(Feed {
                events,
                counters,
                latest,
                detector,
                alerts: VecDeque::new(),
            }),
            heavy: Mutex::new(None),
            map: Mutex::new(None),
            regions: crate::report::beijing_regions(&router),
            version: watch::channel(0).0,
        }
    }

    /// A receiver told each time the numbers changed.
    pub(crate) fn changes(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// Applies the events waiting in the channel; on the blocking pool (a
    /// subscriber that fell behind rescans the records).
    pub(crate) fn drain(&self) {
        let router = self.dispatcher.router();
        let tz = router.time_zone().clone();
        let mut feed = self.feed.lock();
        let mut applied = 0usize;
        let mut lagged = false;
        loop {
            match feed.events.try_recv() {
                Ok(event) => {
                    apply(&mut feed, &event, &tz);
                    applied += 1;
                }
                Err(TryRecvError::Lagged(_)) => lagged = true,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        if lagged {
            // Events were missed: recount from the records, which hold
            // every acknowledged one. (The spike detector misses them.)
            let today = date_of(self.dispatcher.now(), &tz);
            let (counters, latest) = scan(&self.dispatcher, today, &tz);
            feed.counters = counters;
            feed.latest = latest;
        }
        if applied > 0 || lagged {
            self.version.send_modify(|v| *v += 1);
        }
    }

    /// The summary: today's counters as of now, the scan's parts at most a
    /// second old. On the blocking pool.
    pub(crate) fn summary(&self) -> Summary {
        self.drain();
        let router = self.dispatcher.router();
        let tz = router.time_zone().clone();
        let now = self.dispatcher.now();
        let today = date_of(now, &tz);
        let (today_view, latest, alerts) = {
            let mut feed = self.feed.lock();
            if feed.counters.date.is_none_or(|d| d < today) {
                feed.counters = Counters::for_date(today);
            }
            let c = &feed.counters;
            let today_view = TodayView {
                received: c.received,
                no_district: c.no_district,
                categories: top(&c.categories, TOP, |code| category_name(&router, code)),
                districts: top(&c.districts, usize::MAX, |code| {
                    district_name(&router, code)
                }),
            };
            let latest = feed
                .latest
                .iter()
                .map(|l| LatestRow {
                    id: l.id.clone(),
                    at: local(l.at, &tz),
                    category: l.category.clone(),
                    category_name: category_name(&router, &l.category),
                    district: l.district.clone(),
                    district_name: l.district.as_deref().map(|d| district_name(&router, d)),
                    agency: l.agency.clone(),
                    agency_name: l.agency.as_deref().map(|a| agency_name(&router, a)),
                })
                .collect();
            let alerts = feed
                .alerts
                .iter()
                .map(|a| AlertRow {
                    at: local(a.at, &tz),
                    category: a.category.clone(),
                    category_name: category_name(&router, &a.category),
                    district: a.district.clone(),
                    district_name: district_name(&router, &a.district),
                    street: a.street.clone(),
                    street_name: a.street.as_deref().map(|s| street_name(&router, s)),
                    count: a.count,
                    expected: a.expected,
                })
                .collect();
            (today_view, latest, alerts)
        };
        Summary {
            now: local(now, &tz),
            date: today.to_string(),
            version: *self.version.borrow(),
            today: today_view,
            latest,
            alerts,
            heavy: self.heavy(now, &router),
        }
    }

    /// The scan's results, recomputed when older than a second. The lock
    /// is held through the scan: concurrent requests wait for one scan
    /// rather than start their own.
    fn heavy(&self, now: Timestamp, router: &Router) -> Arc<Heavy> {
        let mut cached = self.heavy.lock();
        if let Some((at, heavy)) = &*cached {
            if at.elapsed() < FRESH {
                return heavy.clone();
            }
        }
        let heavy = Arc::new(compute(&self.dispatcher, now, router));
        *cached = Some((Instant::now(), heavy.clone()));
        heavy
    }

    /// The district map shaded by today's counts, as a standalone SVG:
    /// redrawn at most once a second, and only when the counts changed.
    pub(crate) fn map_svg(&self) -> Arc<str> {
        self.drain();
        let today = date_of(self.dispatcher.now(), self.dispatcher.router().time_zone());
        let counts: Vec<(String, u64)> = {
            let feed = self.feed.lock();
            let current = feed.counters.date == Some(today);
            self.regions
                .iter()
                .map(|(code, _)| {
                    let n = if current {
                        feed.counters.districts.get(code).copied().unwrap_or(0)
                    } else {
                        0
                    };
                    (code.clone(), n)
                })
                .collect()
        };
        let mut cached = self.map.lock();
        if let Some(drawn) = &*cached {
            if drawn.counts == counts || drawn.at.elapsed() < FRESH {
                return drawn.svg.clone();
            }
        }
        let router = self.dispatcher.router();
        let names: Vec<String> = counts
            .iter()
            .map(|(code, _)| district_name(&router, code))
            .collect();
        let areas: Vec<Area<'_>> = self
            .regions
            .iter()
            .zip(&counts)
            .zip(&names)
            .map(|(((code, region), (_, n)), name)| Area {
                code,
                name,
                volume: u32::try_from(*n).unwrap_or(u32::MAX),
                region,
            })
            .collect();
        // Served as a file of its own, the SVG needs its namespace.
        let svg: Arc<str> = map::map(&areas)
            .replacen("<svg ", r#"<svg xmlns="http://www.w3.org/2000/svg" "#, 1)
            .into();
        *cached = Some(Drawn {
            at: Instant::now(),
            counts,
            svg: svg.clone(),
        });
        svg
    }
}

/// Counts `today`'s tickets and finds the latest ones, from the records.
fn scan(d: &Dispatcher, today: Date, tz: &TimeZone) -> (Counters, VecDeque<Latest>) {
    let mut counters = Counters::for_date(today);
    let mut latest: Vec<Latest> = Vec::with_capacity(LATEST + 1);
    d.for_each_record(|r| {
        let at = r.received_at();
        let routing = r.routing();
        if date_of(at, tz) == today {
            counters.count(&routing.category, routing.district.as_deref());
            counters.seen.insert(r.ticket().id.clone());
        }
        if latest.len() < LATEST || latest.last().is_some_and(|l| l.at < at) {
            let agency = (r.state() != State::Received).then(|| r.agency().to_string());
            latest.push(Latest {
                id: r.ticket().id.clone(),
                at,
                category: routing.category.clone(),
                district: routing.district.clone(),
                agency,
            });
            latest.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.id.cmp(&b.id)));
            latest.truncate(LATEST);
        }
    });
    (counters, latest.into())
}

/// Folds one live event into the feed.
fn apply(feed: &mut Feed, event: &LiveEvent, tz: &TimeZone) {
    match &event.kind {
        EventKind::Received { ticket, routing } => {
            if feed.counters.seen.contains(&event.ticket) {
                return;
            }
            let at = ticket.received_at.unwrap_or(event.at);
            let date = date_of(at, tz);
            if feed.counters.date.is_none_or(|d| d < date) {
                feed.counters = Counters::for_date(date);
            }
            if feed.counters.date == Some(date) {
                feed.counters
                    .count(&routing.category, routing.district.as_deref());
            }
            feed.latest.push_front(Latest {
                id: event.ticket.clone(),
                at,
                category: routing.category.clone(),
                district: routing.district.clone(),
                agency: None,
            });
            feed.latest.truncate(LATEST);
            let alerts = feed.detector.observe_codes(
                at,
                &routing.category,
                routing.district.as_deref(),
                routing.street.as_deref(),
            );
            for alert in alerts {
                feed.alerts.push_front(alert);
            }
            feed.alerts.truncate(ALERTS);
        }
        EventKind::Dispatched { agency, .. } => set_agency(feed, &event.ticket, agency),
        EventKind::Linked(link) => set_agency(feed, &event.ticket, &link.agency),
        _ => {}
    }
}

fn set_agency(feed: &mut Feed, id: &str, agency: &str) {
    if let Some(l) = feed.latest.iter_mut().find(|l| l.id == id) {
        l.agency = Some(agency.to_string());
    }
}

/// The `n` largest counts, largest first (ties by code).
fn top(counts: &HashMap<String, u64>, n: usize, name: impl Fn(&str) -> String) -> Vec<Count> {
    let mut rows: Vec<(&String, u64)> = counts.iter().map(|(k, v)| (k, *v)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    rows.into_iter()
        .take(n)
        .map(|(code, count)| Count {
            code: code.clone(),
            name: name(code),
            count,
        })
        .collect()
}
