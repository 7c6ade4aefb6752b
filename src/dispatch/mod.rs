//! Dispatch and handle (派、办): the concurrent runtime that takes tickets in,
//! routes them, keeps them on per-agency work lists until they are handled
//! and evaluated, and never loses one.
//!
//! # Concurrency
//!
//! Every method takes `&self`; clone the [`Dispatcher`] (an `Arc` inside)
//! into every thread. The pieces:
//!
//! * the ticket registry is a sharded `DashMap`: operations on one ticket are
//!   serialised by its shard lock, operations on different tickets mostly
//!   run in parallel;
//! * each agency's work list is a heap behind its own small mutex
//!   ([`worklist`](self) docs say why);
//! * claim leases are an ordered lock-free skip list (`crossbeam-skiplist`)
//!   and deadlines a sharded set of small ordered maps, so
//!   [`Dispatcher::overdue`] and lease expiry cost time proportional to what
//!   is due, not to all tickets;
//! * the router is behind an `ArcSwap`: [`Dispatcher::reload`] swaps it
//!   atomically, every submit routes with exactly one router, and queued
//!   tickets keep their agency.
//!
//! **Strong consistency per ticket**: a ticket's events are applied and
//! reported to the [`Observer`] in order, under the ticket's lock.
//! **Eventual consistency across tickets**: [`Dispatcher::counts`] and the
//! 三率 in [`crate::evaluate`] read the registry shard by shard while other
//! threads work, so under load they are a consistent view of each ticket,
//! not a snapshot of all tickets at one instant.

mod clock;
mod due;
pub mod lifecycle;
mod restore;
mod types;
mod worklist;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use crossbeam_skiplist::SkipMap;
use dashmap::mapref::entry::Entry as MapEntry;
use dashmap::DashMap;
use jiff::Timestamp;

pub use clock::{Clock, ManualClock, SystemClock};
pub use lifecycle::{Evaluation, Event, EventKind, Routing, State, TicketRecord, TransitionError};
pub use types::{Claim, Counts, DispatchConfig, Observer, OpError, Overdue, Receipt, SubmitError};

use crate::evaluate::{month_window, rank, GroupBy, MonthError, Ranking, RateTable, Rates};
use crate::router::Router;
use crate::ticket::Ticket;
use due::DueIndex;
use worklist::{Entry, WorkList};

/// The concurrent dispatch runtime.
///
/// # Cloning
///
/// Cheap: everything is behind one `Arc`; clones share the same state.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use hotline_router::dispatch::{Dispatcher, DispatchConfig, ManualClock, State};
/// use hotline_router::{Router, Ticket};
///
/// let clock = Arc::new(ManualClock::new("2024-11-20T08:00:00+08:00".parse().unwrap()));
/// let d = Dispatcher::new(Router::beijing(), DispatchConfig::default(), clock.clone());
/// let receipt = d.submit(Ticket::new("T1", "楼道里燃气泄漏").with_received_at(clock.now())).unwrap();
/// assert_eq!(receipt.agency, "city:gas");
///
/// let claim = d.claim("city:gas", "w1").unwrap();
/// d.respond(&claim.id, "w1").unwrap();
/// d.resolve(&claim.id, "w1", "valve closed, pipe repaired").unwrap();
/// d.evaluate(&claim.id, true, true, true).unwrap();
/// assert_eq!(d.record("T1").unwrap().state(), State::Evaluated);
/// # use hotline_router::dispatch::Clock;
/// ```
#[derive(Clone)]
pub struct Dispatcher {
    shared: Arc<Shared>,
}

struct Shared {
    router: ArcSwap<Router>,
    clock: Arc<dyn Clock>,
    config: DispatchConfig,
    observer: Option<Arc<dyn Observer>>,
    /// Boxed: the map then moves 8 bytes per ticket when it grows, not a
    /// whole record.
    records: DashMap<Arc<str>, Box<TicketRecord>, Hasher>,
    agencies: DashMap<Arc<str>, Arc<AgencyQueue>, Hasher>,
    total: AtomicUsize,
    seq: AtomicU64,
    /// Open tickets not yet escalated, by deadline; entries of tickets that
    /// closed meanwhile are dropped when they come due.
    deadlines: DueIndex,
    /// Claims by lease end; stale entries (claim acted on) are dropped when due.
    leases: SkipMap<(Timestamp, u64), (Arc<str>, u32)>,
    /// Open escalated tickets; closed ones are dropped lazily by `overdue`.
    escalated: DashMap<Arc<str>, (), Hasher>,
}

/// foldhash, seeded per process: SipHash (the std default) was the largest
/// single cost of a submit after routing, and ticket ids come from outside,
/// so the hasher stays randomly seeded.
type Hasher = foldhash::fast::RandomState;

#[derive(Debug, Default)]
struct AgencyQueue {
    list: WorkList,
    /// Open tickets held by the agency (dispatched, claimed or responded).
    open: AtomicUsize,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("tickets", &self.shared.records.len())
            .field("agencies", &self.shared.agencies.len())
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// A runtime routing with `router`, reading time from `clock`.
    pub fn new(router: Router, config: DispatchConfig, clock: impl Clock + 'static) -> Dispatcher {
        Dispatcher::with_parts(router, config, Arc::new(clock), None)
    }

    /// Like [`Dispatcher::new`], with an observer that receives every event.
    pub fn with_observer(
        router: Router,
        config: DispatchConfig,
        clock: impl Clock + 'static,
        observer: Arc<dyn Observer>,
    ) -> Dispatcher {
        Dispatcher::with_parts(router, config, Arc::new(clock), Some(observer))
    }

    fn with_parts(
        router: Router,
        config: DispatchConfig,
        clock: Arc<dyn Clock>,
        observer: Option<Arc<dyn Observer>>,
    ) -> Dispatcher {
        Dispatcher {
            shared: Arc::new(Shared {
                router: ArcSwap::from_pointee(router),
                clock,
                config,
                observer,
                records: DashMap::with_hasher(Hasher::default()),
                agencies: DashMap::with_hasher(Hasher::default()),
                total: AtomicUsize::new(0),
                seq: AtomicU64::new(0),
                deadlines: DueIndex::default(),
                leases: SkipMap::new(),
                escalated: DashMap::with_hasher(Hasher::default()),
            }),
        }
    }

    /// Swaps in a rebuilt router. Submits already routing finish with the
    /// old one; queued tickets keep their agency; returns route with the new.
    pub fn reload(&self, router: Router) {
        self.shared.router.store(Arc::new(router));
    }

    /// The router submits use now.
    pub fn router(&self) -> Arc<Router> {
        self.shared.router.load_full()
    }

    /// The current time on the runtime's clock.
    pub fn now(&self) -> Timestamp {
        self.shared.clock.now()
    }

    /// Routes a ticket and puts it on its agency's work list (接、派).
    ///
    /// # Errors
    ///
    /// [`SubmitError`], with the ticket handed back: it cannot be routed, its
    /// id was already submitted, or a capacity limit is reached.
    pub fn submit(&self, ticket: Ticket) -> Result<Receipt, SubmitError> {
        let s = &*self.shared;
        let now = s.clock.now();
        let mut ticket = ticket;
        if ticket.received_at.is_none() {
            ticket.received_at = Some(now);
        }
        let router = s.router.load();
        let (agency, priority, deadline, routing) = match router.route(&ticket) {
            Ok(d) => (
                d.agency_code().to_string(),
                d.priority(),
                d.deadline(),
                Routing {
                    category: d.category().code().to_string(),
                    district: d.district_code().map(str::to_string),
                    street: d.street_code().map(str::to_string),
                },
            ),
            Err(error) => {
                return Err(SubmitError::Invalid {
                    error,
                    ticket: Box::new(ticket),
                })
            }
        };
        drop(router);

        if s.total.fetch_add(1, Ordering::AcqRel) >= s.config.capacity_total {
            s.total.fetch_sub(1, Ordering::AcqRel);
            return Err(SubmitError::Full {
                scope: "the registry".into(),
                limit: s.config.capacity_total,
                ticket: Box::new(ticket),
            });
        }
        let queue = self.queue(&agency);
        if queue.open.fetch_add(1, Ordering::AcqRel) >= s.config.capacity_per_agency {
            queue.open.fetch_sub(1, Ordering::AcqRel);
            s.total.fetch_sub(1, Ordering::AcqRel);
            return Err(SubmitError::Full {
                scope: agency,
                limit: s.config.capacity_per_agency,
                ticket: Box::new(ticket),
            });
        }
        let key: Arc<str> = Arc::from(ticket.id.as_str());
        let received_at = ticket.received_at_or(now);
        let seq = s.seq.fetch_add(1, Ordering::Relaxed);
        let version = match s.records.entry(key.clone()) {
            MapEntry::Occupied(_) => {
                queue.open.fetch_sub(1, Ordering::AcqRel);
                s.total.fetch_sub(1, Ordering::AcqRel);
                return Err(SubmitError::Duplicate(Box::new(ticket)));
            }
            MapEntry::Vacant(slot) => {
                let mut record = Box::new(TicketRecord::start(now, Arc::new(ticket), routing));
                if let Some(o) = &s.observer {
                    o.on_event(&Event {
                        ticket: record.ticket().id.clone(),
                        seq: 0,
                        at: now,
                        kind: record.history()[0].1.clone(),
                    });
                }
                let dispatched = EventKind::Dispatched {
                    agency: agency.clone(),
                    priority,
                    deadline,
                };
                // A fresh record accepts Dispatched: cannot fail.
                self.apply_and_emit(&mut record, now, dispatched)
                    .expect("Dispatched follows Received");
                let version = record.version();
                slot.insert(record);
                version
            }
        };
        queue.list.push(Entry {
            priority,
            received_at,
            seq,
            ticket: key.clone(),
            version,
        });
        s.deadlines.insert(deadline, seq, key.clone());
        Ok(Receipt {
            id: key.to_string(),
            agency,
            priority,
            deadline,
        })
    }

    /// Claims the next ticket of `agency` for `worker`: urgent first, oldest
    /// first within a priority. Expired leases are put back first.
    pub fn claim(&self, agency: &str, worker: &str) -> Option<Claim> {
        let s = &*self.shared;
        let now = s.clock.now();
        self.expire_leases(now);
        let queue = s.agencies.get(agency)?.clone();
        while let Some(entry) = queue.list.pop() {
            let Some(mut record) = s.records.get_mut(&entry.ticket) else {
                continue;
            };
            if record.state() != State::Dispatched
                || record.version() != entry.version
                || record.agency() != agency
            {
                continue; // stale: the ticket moved on since it was queued
            }
            let lease_until = now.checked_add(s.config.lease).unwrap_or(Timestamp::MAX);
            let claimed = EventKind::Claimed {
                worker: worker.to_string(),
                lease_until,
            };
            if self.apply_and_emit(&mut record, now, claimed).is_err() {
                continue;
            }
            let seq = s.seq.fetch_add(1, Ordering::Relaxed);
            s.leases
                .insert((lease_until, seq), (entry.ticket.clone(), record.version()));
            return Some(Claim {
                id: entry.ticket.to_string(),
                ticket: record.ticket_arc().clone(),
                priority: record.priority(),
                deadline: record.deadline(),
                lease_until,
            });
        }
        None
    }

    /// Puts back every claim whose lease ended by `now` and was not acted
    /// on; returns how many. Costs time proportional to the leases due.
    pub fn expire_leases(&self, now: Timestamp) -> usize {
        let s = &*self.shared;
        let mut expired = 0;
        while let Some(due) = s.leases.front() {
            if due.key().0 > now {
                break;
            }
            // Remove exactly this entry: with `pop_front` a concurrent caller
            // could have taken it meanwhile and this one the next, not yet due.
            if !due.remove() {
                continue;
            }
            let (key, version) = due.value().clone();
            let Some(mut record) = s.records.get_mut(&key) else {
                continue;
            };
            if record.state() != State::Claimed || record.version() != version {
                continue; // acted on, or claimed again since
            }
            if self
                .apply_and_emit(&mut record, now, EventKind::LeaseExpired)
                .is_ok()
            {
                expired += 1;
                self.requeue(&key, &record);
            }
        }
        expired
    }

    /// Records that the worker contacted the caller.
    ///
    /// # Errors
    ///
    /// Unknown ticket, not claimed, or claimed by another worker.
    pub fn respond(&self, id: &str, worker: &str) -> Result<(), OpError> {
        self.by_holder(id, worker, |d, record, now| {
            d.apply_and_emit(
                record,
                now,
                EventKind::Responded {
                    worker: worker.to_string(),
                },
            )?;
            Ok(())
        })
    }

    /// Records that the ticket is handled.
    ///
    /// # Errors
    ///
    /// Unknown ticket, not claimed, or claimed by another worker.
    pub fn resolve(&self, id: &str, worker: &str, outcome: &str) -> Result<(), OpError> {
        self.by_holder(id, worker, |d, record, now| {
            d.apply_and_emit(
                record,
                now,
                EventKind::Resolved {
                    worker: worker.to_string(),
                    outcome: outcome.to_string(),
                },
            )?;
            d.queue(record.agency()).open.fetch_sub(1, Ordering::AcqRel);
            Ok(())
        })
    }

    /// Returns the ticket as not the agency's (退单). It is routed again
    /// without the agencies that returned it — the router's choice, then its
    /// co-handlers, then the district's 12345 office — and after
    /// `max_returns` returns it goes to `center:triage`.
    ///
    /// # Errors
    ///
    /// Unknown ticket, not claimed, or claimed by another worker; or
    /// [`OpError::NoAgencyLeft`] when every candidate, triage included, has
    /// returned it (the holder keeps it).
    pub fn return_ticket(&self, id: &str, worker: &str, reason: &str) -> Result<Receipt, OpError> {
        self.by_holder(id, worker, |d, record, now| {
            let returned = EventKind::Returned {
                worker: worker.to_string(),
                reason: reason.to_string(),
            };
            record.check(&returned)?;
            // Decided before anything changes, so a refused return leaves the
            // ticket with its holder.
            let next = d
                .next_agency(record, Some(record.agency()))
                .ok_or_else(|| OpError::NoAgencyLeft(id.to_string()))?;
            d.apply_and_emit(record, now, returned)?;
            d.redispatch(id, record, now, next)
        })
    }

    /// Moves a ticket to `agency` by hand.
    ///
    /// # Errors
    ///
    /// Unknown ticket or agency, or the ticket is closed.
    pub fn reassign(
        &self,
        id: &str,
        agency: &str,
        by: &str,
        reason: &str,
    ) -> Result<Receipt, OpError> {
        if self.router().rules().agency_id(agency).is_none() {
            return Err(OpError::UnknownAgency(agency.to_string()));
        }
        let now = self.now();
        let mut record = self.record_mut(id)?;
        self.apply_and_emit(
            &mut record,
            now,
            EventKind::Reassigned {
                by: by.to_string(),
                reason: reason.to_string(),
            },
        )?;
        self.redispatch(id, &mut record, now, agency.to_string())
    }

    /// Records the call-back's answers (评).
    ///
    /// # Errors
    ///
    /// Unknown ticket, or not resolved yet (or already evaluated).
    pub fn evaluate(
        &self,
        id: &str,
        responded: bool,
        resolved: bool,
        satisfied: bool,
    ) -> Result<(), OpError> {
        let now = self.now();
        let mut record = self.record_mut(id)?;
        self.apply_and_emit(
            &mut record,
            now,
            EventKind::Evaluated {
                responded,
                resolved,
                satisfied,
            },
        )?;
        Ok(())
    }

    /// Escalates every open ticket whose deadline passed by `now` (an
    /// [`EventKind::Escalated`] event and a flag; the ticket stays on its
    /// list) and returns all open escalated tickets. Costs time proportional
    /// to the overdue tickets, not to all.
    pub fn overdue(&self, now: Timestamp) -> Vec<Overdue> {
        let s = &*self.shared;
        for (_, key) in s.deadlines.take_due(now) {
            let escalated = match s.records.get_mut(&key) {
                Some(mut record) => {
                    record.state().is_open()
                        && !record.is_escalated()
                        && self
                            .apply_and_emit(&mut record, now, EventKind::Escalated)
                            .is_ok()
                }
                None => false,
            };
            // Inserted after the record's lock is released: `retain` below
            // takes the two maps' locks in the other order.
            if escalated {
                s.escalated.insert(key, ());
            }
        }
        let mut out = Vec::new();
        s.escalated.retain(|key, _| {
            let Some(record) = s.records.get(key) else {
                return false;
            };
            if !record.state().is_open() {
                return false;
            }
            out.push(Overdue {
                id: key.to_string(),
                agency: record.agency().to_string(),
                deadline: record.deadline(),
                state: record.state(),
            });
            true
        });
        out.sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.id.cmp(&b.id)));
        out
    }

    /// The 三率 and counts per group for tickets received in `[from, to)`
    /// (see [`crate::evaluate::rates`]).
    pub fn rates(&self, group: GroupBy, from: Timestamp, to: Timestamp) -> Vec<Rates> {
        let mut table = RateTable::new(group, from, to);
        self.for_each_record(|r| table.add(r));
        table.finish()
    }

    /// The agency ranking for tickets received in a month of the router's
    /// time zone (see [`crate::evaluate::rank`]).
    ///
    /// # Errors
    ///
    /// A [`MonthError`] if `month` is not 1 to 12 or the month is out of
    /// range (see [`month_window`]).
    pub fn monthly_ranking(
        &self,
        year: i16,
        month: i8,
        min_evaluated: u64,
        bottom: usize,
    ) -> Result<Ranking, MonthError> {
        let (from, to) = month_window(year, month, self.router().time_zone())?;
        Ok(rank(
            year,
            month,
            self.rates(GroupBy::Agency, from, to),
            min_evaluated,
            bottom,
        ))
    }

    /// A copy of a ticket's record: state, agency, history.
    pub fn record(&self, id: &str) -> Option<TicketRecord> {
        self.shared.records.get(id).map(|r| (**r).clone())
    }

    /// Calls `f` with every record (shard by shard; see the module docs on
    /// consistency).
    pub fn for_each_record(&self, mut f: impl FnMut(&TicketRecord)) {
        for r in self.shared.records.iter() {
            f(r.value());
        }
    }

    /// How many tickets are where.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        self.for_each_record(|r| {
            c.total += 1;
            match r.state() {
                State::Received | State::Dispatched => c.dispatched += 1,
                State::Claimed | State::Responded => c.in_hand += 1,
                State::Resolved => c.resolved += 1,
                State::Evaluated => c.evaluated += 1,
            }
            if r.state().is_open() && r.is_escalated() {
                c.escalated += 1;
            }
        });
        c
    }

    /// Open tickets held by an agency.
    pub fn open_at(&self, agency: &str) -> usize {
        self.shared
            .agencies
            .get(agency)
            .map_or(0, |q| q.open.load(Ordering::Acquire))
    }

    /// Drops evaluated tickets received before `before` from memory (persist
    /// the events first: they are the record); returns how many.
    pub fn purge_closed(&self, before: Timestamp) -> usize {
        let s = &*self.shared;
        let mut purged = 0;
        s.records.retain(|_, r| {
            let drop = r.state() == State::Evaluated && r.received_at() < before;
            purged += usize::from(drop);
            !drop
        });
        s.total.fetch_sub(purged, Ordering::AcqRel);
        purged
    }

    // ---- internals -------------------------------------------------------

    fn queue(&self, agency: &str) -> Arc<AgencyQueue> {
        if let Some(q) = self.shared.agencies.get(agency) {
            return q.clone();
        }
        self.shared
            .agencies
            .entry(Arc::from(agency))
            .or_default()
            .clone()
    }

    fn record_mut(
        &self,
        id: &str,
    ) -> Result<dashmap::mapref::one::RefMut<'_, Arc<str>, Box<TicketRecord>>, OpError> {
        self.shared
            .records
            .get_mut(id)
            .ok_or_else(|| OpError::UnknownTicket(id.to_string()))
    }

    /// Runs `f` on the record if `worker` holds its claim.
    fn by_holder<T>(
        &self,
        id: &str,
        worker: &str,
        f: impl FnOnce(&Self, &mut TicketRecord, Timestamp) -> Result<T, OpError>,
    ) -> Result<T, OpError> {
        let now = self.now();
        let mut record = self.record_mut(id)?;
        if matches!(record.state(), State::Claimed | State::Responded)
            && record.worker() != Some(worker)
        {
            return Err(OpError::NotHolder {
                ticket: id.to_string(),
                worker: worker.to_string(),
                holder: record.worker().map(str::to_string),
            });
        }
        f(self, &mut record, now)
    }

    fn apply_and_emit(
        &self,
        record: &mut TicketRecord,
        now: Timestamp,
        kind: EventKind,
    ) -> Result<(), TransitionError> {
        let seq = record.next_seq();
        match &self.shared.observer {
            None => record.apply_owned(now, kind),
            Some(o) => {
                record.apply(now, &kind)?;
                o.on_event(&Event {
                    ticket: record.ticket().id.clone(),
                    seq,
                    at: now,
                    kind,
                });
                Ok(())
            }
        }
    }

    /// The agency a returned ticket goes to next: the router's choice, its
    /// co-handlers, the district's 12345 office, then triage — the first that
    /// has not returned it (`returning` is returning it now). After
    /// `max_returns` returns only triage is left. `None` when every candidate
    /// has returned it.
    fn next_agency(&self, record: &TicketRecord, returning: Option<&str>) -> Option<String> {
        let router = self.router();
        let refused: Vec<&str> = record
            .returned_from()
            .iter()
            .map(String::as_str)
            .chain(returning)
            .collect();
        let mut candidates: Vec<String> = Vec::new();
        if refused.len() < self.shared.config.max_returns as usize {
            if let Ok(d) = router.route(record.ticket()) {
                candidates.push(d.agency_code().to_string());
                let rules = router.rules();
                candidates.extend(
                    d.co_agencies()
                        .iter()
                        .map(|a| rules.agency(*a).code().to_string()),
                );
                if let Some(district) = d.district_code() {
                    candidates.push(format!("district:{district}:gov"));
                }
            }
        }
        candidates.push("center:triage".into());
        candidates
            .into_iter()
            .find(|a| !refused.contains(&a.as_str()) && router.rules().agency_id(a).is_some())
    }

    /// Moves an open ticket to `agency` and queues it there.
    fn redispatch(
        &self,
        id: &str,
        record: &mut TicketRecord,
        now: Timestamp,
        agency: String,
    ) -> Result<Receipt, OpError> {
        let from = record.agency().to_string();
        let (priority, deadline) = (record.priority(), record.deadline());
        self.apply_and_emit(
            record,
            now,
            EventKind::Dispatched {
                agency: agency.clone(),
                priority,
                deadline,
            },
        )?;
        // Capacity limits intake, never a re-dispatch: a ticket in the system
        // must always have somewhere to be.
        self.queue(&from).open.fetch_sub(1, Ordering::AcqRel);
        self.queue(&agency).open.fetch_add(1, Ordering::AcqRel);
        let key: Arc<str> = Arc::from(id);
        self.requeue(&key, record);
        Ok(Receipt {
            id: id.to_string(),
            agency,
            priority,
            deadline,
        })
    }

    fn requeue(&self, key: &Arc<str>, record: &TicketRecord) {
        let seq = self.shared.seq.fetch_add(1, Ordering::Relaxed);
        self.queue(record.agency()).list.push(Entry {
            priority: record.priority(),
            received_at: record.received_at(),
            seq,
            ticket: key.clone(),
            version: record.version(),
        });
    }
}
