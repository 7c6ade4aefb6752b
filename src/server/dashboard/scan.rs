//! The dashboard's heavy parts: every work list, the overdue items and
//! this month's 三率, from one scan of the records (the summary caches
//! the result for a second).

use std::collections::{BinaryHeap, HashMap};

use jiff::Timestamp;
use serde::Serialize;

use crate::dispatch::{Dispatcher, State};
use crate::evaluate::{month_window, rank, GroupBy, RateTable, Rates};
use crate::Router;

use super::summary::{agency_name, category_name, local};

/// Rows in each top list (agencies, overdue, worst 三率).
const TOP: usize = 10;
/// Evaluations an agency needs this month to be ranked among the worst:
/// one unhappy caller should not name an agency.
const MIN_EVALUATED: u64 = 5;

/// One agency's work list.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct AgencyRow {
    pub agency: String,
    pub name: String,
    pub open: u64,
    pub oldest_seconds: i64,
    pub overdue: u64,
}

/// Every work list, and the longest.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct WorkLists {
    pub agencies: usize,
    pub open: u64,
    pub top: Vec<AgencyRow>,
}

/// An open work item past its deadline.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct OverdueRow {
    pub id: String,
    pub agency: String,
    pub agency_name: String,
    pub category: String,
    pub category_name: String,
    pub deadline: String,
    pub late_seconds: i64,
}

/// Overdue work items: how many, and the latest of them.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct OverdueView {
    pub count: u64,
    pub oldest: Vec<OverdueRow>,
}

/// The 三率 of the city or of one agency this month.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RateRow {
    pub key: String,
    pub name: String,
    pub received: u64,
    pub evaluated: u64,
    pub response: Option<f64>,
    pub resolution: Option<f64>,
    pub satisfaction: Option<f64>,
    pub score: Option<f64>,
}

/// This month's 三率: city-wide and the worst ranked agencies.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RatesView {
    pub month: String,
    pub min_evaluated: u64,
    pub city: RateRow,
    pub worst: Vec<RateRow>,
}

/// What one scan of the records computed.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Heavy {
    pub computed_at: String,
    pub work_lists: WorkLists,
    pub overdue: OverdueView,
    pub rates: RatesView,
}

/// Whether a ticket in `state` is an item on its agency's work list.
/// Linked tickets are not: their incident's head is.
fn on_list(state: State) -> bool {
    matches!(
        state,
        State::Received | State::Dispatched | State::Claimed | State::Responded
    )
}

#[derive(Default)]
struct ListTally {
    open: u64,
    oldest: Option<Timestamp>,
    overdue: u64,
}

/// One scan: every work list, the overdue items, and this month's 三率.
/// Overdue means open past the deadline, as [`Dispatcher::overdue`]
/// reports once it has escalated; computed here without escalating, so
/// that looking at the dashboard writes nothing.
pub(super) fn compute(d: &Dispatcher, now: Timestamp, router: &Router) -> Heavy {
    let tz = router.time_zone();
    let zoned = now.to_zoned(tz.clone());
    let (year, month) = (zoned.year(), zoned.month());
    let (from, to) = month_window(year, month, tz).unwrap_or((now, now));
    let mut table = RateTable::new(GroupBy::Agency, from, to);
    let mut lists: HashMap<String, ListTally> = HashMap::new();
    // The overdue items with the earliest deadlines: a max-heap of TOP.
    let mut oldest: BinaryHeap<(Timestamp, String, String, String)> = BinaryHeap::new();
    let mut overdue = 0u64;
    d.for_each_record(|r| {
        table.add(r);
        if !on_list(r.state()) {
            return;
        }
        let tally = lists.entry(r.agency().to_string()).or_default();
        tally.open += 1;
        let at = r.received_at();
        tally.oldest = Some(tally.oldest.map_or(at, |o| o.min(at)));
        let deadline = r.deadline();
        if deadline < now {
            tally.overdue += 1;
            overdue += 1;
            let id = &r.ticket().id;
            if oldest.len() < TOP || oldest.peek().is_some_and(|p| (deadline, id) < (p.0, &p.1)) {
                oldest.push((
                    deadline,
                    id.clone(),
                    r.agency().to_string(),
                    r.routing().category.clone(),
                ));
                if oldest.len() > TOP {
                    oldest.pop();
                }
            }
        }
    });
    let mut rows: Vec<(String, ListTally)> = lists.into_iter().collect();
    rows.sort_by(|a, b| b.1.open.cmp(&a.1.open).then_with(|| a.0.cmp(&b.0)));
    let open = rows.iter().map(|r| r.1.open).sum();
    let agencies = rows.len();
    let top_lists = rows
        .into_iter()
        .take(TOP)
        .map(|(agency, t)| AgencyRow {
            name: agency_name(router, &agency),
            oldest_seconds: t
                .oldest
                .map_or(0, |o| now.duration_since(o).as_secs().max(0)),
            open: t.open,
            overdue: t.overdue,
            agency,
        })
        .collect();
    let oldest = oldest
        .into_sorted_vec()
        .into_iter()
        .map(|(deadline, id, agency, category)| OverdueRow {
            id,
            agency_name: agency_name(router, &agency),
            agency,
            category_name: category_name(router, &category),
            category,
            deadline: local(deadline, tz),
            late_seconds: now.duration_since(deadline).as_secs(),
        })
        .collect();
    let agency_rates = table.finish();
    let mut city = Rates {
        key: "city".into(),
        ..Rates::default()
    };
    for r in &agency_rates {
        city.received += r.received;
        city.evaluated += r.evaluated;
        city.responded += r.responded;
        city.resolved += r.resolved;
        city.satisfied += r.satisfied;
    }
    let ranking = rank(year, month, agency_rates, MIN_EVALUATED, TOP);
    let worst = ranking
        .bottom
        .iter()
        .filter_map(|code| ranking.ranked.iter().find(|r| &r.key == code))
        .map(|r| rate_row(r, agency_name(router, &r.key)))
        .collect();
    Heavy {
        computed_at: local(now, tz),
        work_lists: WorkLists {
            agencies,
            open,
            top: top_lists,
        },
        overdue: OverdueView {
            count: overdue,
            oldest,
        },
        rates: RatesView {
            month: format!("{year:04}-{month:02}"),
            min_evaluated: MIN_EVALUATED,
            city: rate_row(&city, "全市".into()),
            worst,
        },
    }
}

fn rate_row(r: &Rates, name: String) -> RateRow {
    RateRow {
        key: r.key.clone(),
        name,
        received: r.received,
        evaluated: r.evaluated,
        response: r.response_rate(),
        resolution: r.resolution_rate(),
        satisfaction: r.satisfaction_rate(),
        score: r.score(),
    }
}
