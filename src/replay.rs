//! Replay: route a stream of tickets in parallel and aggregate as it goes,
//! without holding the tickets — and compare two routers on the same stream
//! (what-if).
//!
//! Both take any `Iterator<Item = Ticket> + Send` (a file being read, a
//! generator) and bridge it to rayon's pool: each worker thread folds into
//! its own table and the tables are merged at the end, so memory is the size
//! of the tables, not of the stream.

use std::collections::HashMap;

use rayon::iter::{ParallelBridge, ParallelIterator};

use crate::classify::CategoryId;
use crate::locate::jurisdictions::DistrictId;
use crate::router::Router;
use crate::rules::AgencyId;
use crate::ticket::Ticket;

/// Counts by category × district × agency, from one router.
///
/// # Examples
///
/// ```
/// use hotline_router::replay::replay;
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let tickets = vec![
///     Ticket::new("1", "暖气片不热").with_address("朝阳区呼家楼街道"),
///     Ticket::new("2", "暖气片不热").with_address("朝阳区呼家楼街道"),
///     Ticket::new("", "no id"),
/// ];
/// let tally = replay(&router, tickets.into_iter());
/// assert_eq!((tally.routed(), tally.errors()), (2, 1));
/// let rows = tally.rows(&router);
/// assert_eq!(rows[0].category, "heating");
/// assert_eq!(rows[0].agency, "district:110105:city_mgmt");
/// assert_eq!(rows[0].count, 2);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Tally {
    routed: u64,
    errors: u64,
    counts: HashMap<(CategoryId, Option<DistrictId>, AgencyId), u64>,
}

/// One row of a [`Tally`], with codes resolved.
///
/// # Examples
///
/// ```
/// use hotline_router::replay::{replay, TallyRow};
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let tickets = [
///     Ticket::new("1", "家里暖气片一直不热"),
///     Ticket::new("2", "家里暖气片一直不热").with_address("朝阳区呼家楼街道"),
/// ];
/// let rows: Vec<TallyRow> = replay(&router, tickets.into_iter()).rows(&router);
/// // Located in a district or not: two rows, the unlocated one without a district.
/// assert_eq!(rows.len(), 2);
/// assert!(rows.iter().all(|r| r.category == "heating" && r.count == 1));
/// assert_eq!(rows.iter().filter(|r| r.district.as_deref() == Some("110105")).count(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TallyRow {
    /// The category code.
    pub category: String,
    /// The district code, if located.
    pub district: Option<String>,
    /// The agency code.
    pub agency: String,
    /// How many tickets.
    pub count: u64,
}

impl Tally {
    /// Tickets routed.
    pub fn routed(&self) -> u64 {
        self.routed
    }

    /// Tickets refused with a [`TicketError`](crate::TicketError).
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// The counts with codes, most frequent first (ties in code order).
    pub fn rows(&self, router: &Router) -> Vec<TallyRow> {
        let j = router.jurisdictions();
        let mut rows: Vec<TallyRow> = self
            .counts
            .iter()
            .map(|(&(c, d, a), &count)| TallyRow {
                category: router.category(c).code().to_string(),
                district: d.map(|d| j.district(d).code().to_string()),
                agency: router.rules().agency(a).code().to_string(),
                count,
            })
            .collect();
        rows.sort_by(|a, b| {
            b.count.cmp(&a.count).then_with(|| {
                (&a.category, &a.district, &a.agency).cmp(&(&b.category, &b.district, &b.agency))
            })
        });
        rows
    }

    fn add(mut self, router: &Router, ticket: &Ticket) -> Tally {
        match router.route(ticket) {
            Ok(d) => {
                self.routed += 1;
                let key = (
                    d.classification().primary(),
                    d.location().district(),
                    d.agency(),
                );
                *self.counts.entry(key).or_default() += 1;
            }
            Err(_) => self.errors += 1,
        }
        self
    }

    fn merge(mut self, other: Tally) -> Tally {
        self.routed += other.routed;
        self.errors += other.errors;
        for (k, n) in other.counts {
            *self.counts.entry(k).or_default() += n;
        }
        self
    }
}

/// Routes every ticket of `tickets` on rayon's pool and tallies the
/// decisions. The tickets are not kept.
///
/// The iterator is drained under a lock, one ticket at a time: when making
/// the tickets costs as much as routing them (parsing, generating), prefer
/// [`replay_par`] with a source that splits, e.g. days generated in parallel.
pub fn replay<I>(router: &Router, tickets: I) -> Tally
where
    I: Iterator<Item = Ticket> + Send,
{
    replay_par(router, tickets.par_bridge())
}

/// [`replay`] over a parallel source.
///
/// # Examples
///
/// ```
/// use rayon::prelude::*;
/// use hotline_router::replay::replay_par;
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let calls = [("楼道灯坏了", "朝阳区呼家楼街道"), ("楼下饭店油烟太大", "海淀区学院路街道")];
/// let tickets = (0..2_000usize).into_par_iter().map(|i| {
///     let (text, address) = calls[i % 2];
///     Ticket::new(format!("T{i}"), text).with_address(address)
/// });
/// let tally = replay_par(&router, tickets);
/// assert_eq!(tally.routed(), 2_000);
/// ```
pub fn replay_par<P>(router: &Router, tickets: P) -> Tally
where
    P: ParallelIterator<Item = Ticket>,
{
    tickets
        .fold(Tally::default, |t, ticket| t.add(router, &ticket))
        .reduce(Tally::default, Tally::merge)
}

/// How the same tickets route under two routers.
///
/// # Examples
///
/// ```
/// use hotline_router::replay::what_if;
/// use hotline_router::{Router, RouterConfig, RuleConfig, Ticket};
///
/// let old = Router::beijing();
/// let mut config = RouterConfig::beijing();
/// config.routing.rules.push(RuleConfig {
///     categories: vec!["env.noise".into()],
///     district: Some("110105".into()),
///     agency: Some("district:ecology".into()),
///     ..RuleConfig::default()
/// });
/// let new = Router::from_config(config).unwrap();
/// let tickets = vec![
///     Ticket::new("N1", "楼上装修噪音太大").with_address("朝阳区呼家楼街道"),
///     Ticket::new("H1", "暖气片不热").with_address("朝阳区呼家楼街道"),
/// ];
/// let diff = what_if(&old, &new, tickets.into_iter(), 3);
/// assert_eq!((diff.total(), diff.changed()), (2, 1));
/// let m = &diff.moves()[0];
/// assert_eq!((m.from.as_str(), m.to.as_str(), m.count), ("street:110105003", "district:110105:ecology", 1));
/// assert_eq!(m.examples, ["N1"]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct WhatIf {
    total: u64,
    errors: u64,
    moves: HashMap<(String, String), (u64, Vec<String>)>,
    examples: usize,
}

/// Tickets that go from one agency under the old router to another under
/// the new one.
///
/// # Examples
///
/// [`what_if`] lists them:
///
/// ```
/// use hotline_router::replay::{what_if, Move};
/// use hotline_router::{Router, RouterConfig, Ticket};
///
/// let old = Router::beijing();
/// // The new configuration hands gas leaks to the street office.
/// let mut config = RouterConfig::beijing();
/// config.routing.handlers.get_mut("utilities.gas").unwrap().handler = "street".into();
/// let new = Router::from_config(config).unwrap();
/// let tickets = (0..3).map(|i| Ticket::new(format!("T{i}"), "楼道里燃气泄漏").with_address("朝阳区呼家楼街道"));
/// let moves: Vec<Move> = what_if(&old, &new, tickets, 1).moves();
/// assert_eq!(moves.len(), 1);
/// assert_eq!((moves[0].from.as_str(), moves[0].to.as_str()), ("city:gas", "street:110105003"));
/// assert_eq!((moves[0].count, moves[0].examples.len()), (3, 1));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    /// The agency code under the old router.
    pub from: String,
    /// The agency code under the new router.
    pub to: String,
    /// How many tickets move.
    pub count: u64,
    /// Up to the requested number of example ticket ids.
    pub examples: Vec<String>,
}

impl WhatIf {
    /// Tickets that both routers routed.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Tickets that either router refused.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Tickets whose agency changes.
    pub fn changed(&self) -> u64 {
        self.moves.values().map(|(n, _)| n).sum()
    }

    /// The old agency → new agency matrix, as its non-zero cells, largest
    /// first.
    pub fn moves(&self) -> Vec<Move> {
        let mut moves: Vec<Move> = self
            .moves
            .iter()
            .map(|((from, to), (count, examples))| {
                let mut examples = examples.clone();
                examples.sort();
                Move {
                    from: from.clone(),
                    to: to.clone(),
                    count: *count,
                    examples,
                }
            })
            .collect();
        moves.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| (&a.from, &a.to).cmp(&(&b.from, &b.to)))
        });
        moves
    }

    fn add(mut self, old: &Router, new: &Router, ticket: &Ticket) -> WhatIf {
        match (old.route(ticket), new.route(ticket)) {
            (Ok(a), Ok(b)) => {
                self.total += 1;
                if a.agency_code() != b.agency_code() {
                    let cell = self
                        .moves
                        .entry((a.agency_code().to_string(), b.agency_code().to_string()))
                        .or_default();
                    cell.0 += 1;
                    if cell.1.len() < self.examples {
                        cell.1.push(ticket.id.clone());
                    }
                }
            }
            _ => self.errors += 1,
        }
        self
    }

    fn merge(mut self, other: WhatIf) -> WhatIf {
        self.total += other.total;
        self.errors += other.errors;
        for (k, (n, ex)) in other.moves {
            let cell = self.moves.entry(k).or_default();
            cell.0 += n;
            for id in ex {
                if cell.1.len() < self.examples {
                    cell.1.push(id);
                }
            }
        }
        self
    }
}

/// Routes every ticket under both routers (in parallel) and reports which
/// change agency, keeping up to `examples` ticket ids per cell of the
/// old → new matrix. Agencies are compared by code, so the routers may have
/// different agency lists. Counts are exact; which example ids are kept
/// depends on how the stream was split between threads.
pub fn what_if<I>(old: &Router, new: &Router, tickets: I, examples: usize) -> WhatIf
where
    I: Iterator<Item = Ticket> + Send,
{
    let empty = || WhatIf {
        examples,
        ..WhatIf::default()
    };
    tickets
        .par_bridge()
        .fold(empty, |w, ticket| w.add(old, new, &ticket))
        .reduce(empty, WhatIf::merge)
}
