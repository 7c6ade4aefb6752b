//! Dispatch and handle (派、办): the concurrent runtime that takes tickets in,
//! routes them, keeps them on per-agency work lists until they are handled
//! and evaluated, and — with a journal — never loses an acknowledged one.
//!
//! # Durability
//!
//! In memory, the runtime holds its state as long as the process lives.
//! [`DispatcherBuilder::open_journal`] makes it durable: every operation's
//! events are written to the crate's [`journal`](crate::journal) before the
//! operation is acknowledged (by default `fdatasync`ed first), the runtime is
//! restored from it on open, and snapshots keep the restore short. Any other
//! [`Sink`] (a broker, a database) can take the journal's place: a sink sees
//! each operation's events before they are applied, and its refusal refuses
//! the operation with nothing changed.
//!
//! # Incidents: one work item, many callers (合并工单)
//!
//! With a [`Linker`] ([`DispatcherBuilder::linker`]; the crate's incident
//! index is one), a ticket that reports the same problem as an open
//! incident joins it instead of queueing: it is [`State::Linked`] to the
//! incident's first ticket, its *head* ([`Receipt::incident`]).
//!
//! * The agency sees one work item, the head, with its caller count
//!   ([`Claim::callers`], [`Dispatcher::callers`], [`Dispatcher::incident`]);
//!   members hold no place on a list, no deadline and no capacity of their
//!   own, and never escalate: the head's deadline governs.
//! * Resolving the head resolves every member still linked to it — the same
//!   worker and outcome, in the same sink call — and the linker is told the
//!   incident is closed. Each caller is then evaluated on its own: the 三率
//!   count callers. Returning or reassigning the head takes its members to
//!   the new agency in the same sink call, so the rates by agency credit
//!   the agency that handled the incident.
//! * [`Dispatcher::split`] takes a wrongly merged ticket out, to its own
//!   agency and deadline; acting on a member as if it were a work item
//!   (respond, resolve, return, reassign) is [`OpError::Linked`].
//! * The linker proposes, the runtime decides: a head that is not an open
//!   work item here, or that is less urgent than the newcomer, is refused
//!   and the ticket stands alone.
//! * A restore rebuilds the incidents from the records, completes members
//!   whose head's operation was cut off, and feeds the linker every open
//!   ticket again ([`Linker::restore`]).
//!
//! Without a linker, every ticket is its own work item, as before.
//!
//! # Concurrency
//!
//! Every method takes `&self`; clone the [`Dispatcher`] (an `Arc` inside)
//! into every thread. The pieces:
//!
//! * the ticket registry is a sharded `DashMap` of per-ticket slots: an
//!   operation on one ticket holds that ticket's lock from its checks through
//!   the sink to the change, so waiting for a disk sync delays only that
//!   ticket; operations on different tickets run in parallel;
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
//! * incidents: a ticket that joins an incident takes its id under the
//!   head's lock, and every operation on a head locks the head, then its
//!   members — the only place a thread holding one ticket waits for
//!   another. A submit waits for a head only while it holds no ticket (a
//!   batch that does tries, and persists what it holds before it waits);
//!   the incidents' map and the linker are locked only around their own
//!   calls. Members join heads older than themselves, so these waits cannot
//!   close a cycle.
//!
//! **Strong consistency per ticket**: a ticket's events reach the sink and
//! are applied in order, under the ticket's lock.
//! **Eventual consistency across tickets**: [`Dispatcher::counts`] and the
//! 三率 in [`crate::evaluate`] visit the tickets one at a time while other
//! threads work, so under load they are a consistent view of each ticket,
//! not a snapshot of all tickets at one instant.

mod builder;
mod clock;
mod due;
#[cfg(feature = "journal")]
mod durable;
mod events;
mod incidents;
pub mod lifecycle;
mod linker;
#[cfg(not(feature = "journal"))]
mod no_journal;
mod restore;
mod sink;
mod submit;
#[cfg(test)]
mod tests;
mod types;
mod worklist;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use crossbeam_skiplist::SkipMap;
use dashmap::DashMap;
use jiff::Timestamp;
use parking_lot::{Mutex, RwLock};
use smallvec::{smallvec, SmallVec};

pub use builder::DispatcherBuilder;
pub use clock::{Clock, ManualClock, SystemClock};
#[cfg(feature = "journal")]
#[cfg_attr(docsrs, doc(cfg(feature = "journal")))]
pub use durable::OpenError;
#[cfg(feature = "postgres")]
pub(crate) use durable::{LogRecord, OwnedLogRecord};
pub use incidents::IncidentView;
pub use lifecycle::{
    Evaluation, Event, EventKind, Link, Routing, State, TicketRecord, TransitionError,
};
pub use linker::Linker;
#[cfg(feature = "postgres")]
pub(crate) use restore::Rebuild;
pub use restore::RestoreError;
pub use sink::{Change, Sink, SinkError};
pub use types::{Claim, Counts, DispatchConfig, OpError, Overdue, Receipt, SubmitError};

use crate::evaluate::{month_window, rank, GroupBy, MonthError, Ranking, RateTable, Rates};
#[cfg(feature = "journal")]
use crate::journal::Journal;
use crate::router::Router;
use due::DueIndex;
use incidents::Incidents;
#[cfg(not(feature = "journal"))]
use no_journal::Journal;
use worklist::{Entry, WorkList};

/// The concurrent dispatch runtime.
///
/// # Cloning
///
/// Cheap: everything is behind one `Arc`; clones share the same state.
///
/// # Durability
///
/// In memory by default. Give it a [`Sink`] — the crate's journal with
/// [`DispatcherBuilder::open_journal`] — and every operation is acknowledged
/// (its `Ok` returned) only after the sink accepted its events; a refused
/// operation changes nothing.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use hotline_router::dispatch::{Clock, Dispatcher, Evaluation, ManualClock, State};
/// use hotline_router::{Router, Ticket};
///
/// let clock = Arc::new(ManualClock::new("2024-11-20T08:00:00+08:00".parse().unwrap()));
/// let d = Dispatcher::builder(Router::beijing()).clock(clock.clone()).build();
/// let receipt = d.submit(Ticket::new("T1", "楼道里燃气泄漏")).unwrap();
/// assert_eq!(receipt.agency, "city:gas");
///
/// let claim = d.claim("city:gas", "w1").unwrap().expect("the gas desk has a ticket");
/// d.respond(&claim.id, "w1").unwrap();
/// d.resolve(&claim.id, "w1", "valve closed, pipe repaired").unwrap();
/// d.evaluate(&claim.id, Evaluation { responded: true, resolved: true, satisfied: true }).unwrap();
/// assert_eq!(d.record("T1").unwrap().state(), State::Evaluated);
/// assert_eq!(d.record("T1").unwrap().received_at(), clock.now());
/// ```
#[derive(Clone)]
pub struct Dispatcher {
    shared: Arc<Shared>,
    /// Shared by the caller's handles only (not by a background snapshot's):
    /// dropped with the last of them, it waits for a snapshot in progress,
    /// so that the journal is closed — and can be reopened — once the last
    /// handle is gone.
    closer: Option<Arc<Closer>>,
}

/// Joins the background snapshot thread when the last caller's handle goes.
#[derive(Default)]
struct Closer {
    snapshot: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Closer {
    fn drop(&mut self) {
        if let Some(thread) = self.snapshot.get_mut().take() {
            let _ = thread.join();
        }
    }
}

struct Shared {
    router: ArcSwap<Router>,
    clock: Arc<dyn Clock>,
    /// The latest time handed out, in nanoseconds: the runtime's time never
    /// goes backwards, whatever its clock does.
    latest: AtomicI64,
    config: DispatchConfig,
    sink: Option<Arc<dyn Sink>>,
    /// The journal behind `sink`, when it is the crate's: for snapshots.
    journal: Option<Journal>,
    /// Journal bytes after which a snapshot is taken in the background.
    snapshot_every: u64,
    snapshotting: AtomicBool,
    ops: AtomicU64,
    /// Every ticket's slot. A slot is locked for the whole of an operation on
    /// its ticket, persisting included; the map's own shard locks are never
    /// held while a slot lock is awaited (clone the slot out first), so the
    /// two cannot deadlock.
    records: DashMap<Arc<str>, Arc<Slot>, Hasher>,
    agencies: DashMap<Arc<str>, Arc<AgencyQueue>, Hasher>,
    total: AtomicUsize,
    seq: AtomicU64,
    /// Open tickets not yet escalated, by deadline.
    deadlines: DueIndex,
    /// Claims by lease end; stale entries (claim acted on) are dropped when due.
    leases: SkipMap<(Timestamp, u64), (Arc<str>, u32)>,
    /// Open escalated tickets; closed ones leave when they close.
    escalated: DashMap<Arc<str>, (), Hasher>,
    /// Fingerprints of purged ids, which can never be submitted again.
    purged: RwLock<HashSet<u64, Hasher>>,
    /// Serialises purges and snapshots, so a snapshot never sees half a purge.
    maintenance: Mutex<()>,
    /// Incidents with members: head → members.
    incidents: Incidents,
    /// Decides which new tickets join an open incident. Locked only around
    /// a call into it, never while waiting for a slot or the sink.
    linker: Option<Mutex<Box<dyn Linker>>>,
}

/// One ticket's place in the registry.
type Slot = Mutex<Held>;

#[derive(Default)]
struct Held {
    /// `None` while its submit is being persisted, and for good if that fails.
    record: Option<TicketRecord>,
    /// Its entry in the deadline index, removed when it closes.
    due: Due,
}

/// A ticket's entry in the deadline index: its deadline and number.
type Due = Option<(Timestamp, u64)>;

/// foldhash, seeded per process: SipHash (the std default) was the largest
/// single cost of a submit after routing, and ticket ids come from outside,
/// so the hasher stays randomly seeded.
type Hasher = foldhash::fast::RandomState;

/// Purge markers are persisted in chunks, so that one purge of a year's
/// tickets does not make one giant journal record.
const PURGE_CHUNK: usize = 10_000;

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
            .field("journal", &self.shared.journal.as_ref().map(Journal::dir))
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// An in-memory runtime routing with `router`, reading time from `clock`.
    /// For a sink or a journal, use [`Dispatcher::builder`].
    pub fn new(router: Router, config: DispatchConfig, clock: impl Clock + 'static) -> Dispatcher {
        Dispatcher::builder(router)
            .config(config)
            .clock(clock)
            .build()
    }

    /// A builder: configuration, clock, sink, journal.
    pub fn builder(router: Router) -> DispatcherBuilder {
        DispatcherBuilder::new(router)
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

    /// The current time: the clock's, but never earlier than a time already
    /// handed out (a clock set back cannot make a late ticket on time).
    pub fn now(&self) -> Timestamp {
        let t = clock::to_nanos(self.shared.clock.now());
        let latest = self.shared.latest.fetch_max(t, Ordering::AcqRel).max(t);
        Timestamp::from_nanosecond(i128::from(latest)).unwrap_or(Timestamp::MAX)
    }

    /// Claims the next ticket of `agency` for `worker`: urgent first, oldest
    /// first within a priority. Expired leases are put back first. `Ok(None)`
    /// when the list is empty.
    ///
    /// # Errors
    ///
    /// [`OpError::UnknownAgency`] for an agency the router does not know (a
    /// typo would otherwise look like an empty list); [`OpError::Sink`].
    pub fn claim(&self, agency: &str, worker: &str) -> Result<Option<Claim>, OpError> {
        let s = &*self.shared;
        let now = self.now();
        self.expire_leases(now);
        let Some(queue) = s.agencies.get(agency).map(|q| q.clone()) else {
            return match self.router().rules().agency_id(agency) {
                Some(_) => Ok(None),
                None => Err(OpError::UnknownAgency(agency.to_string())),
            };
        };
        while let Some(entry) = queue.list.pop() {
            let Some(slot) = self.slot(&entry.ticket) else {
                continue;
            };
            let mut held = slot.lock();
            let Some(record) = held.record.as_mut() else {
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
            match self.commit(record, now, smallvec![claimed], None) {
                Ok(()) => {}
                Err(e @ OpError::Sink(_)) => {
                    queue.list.push(entry); // refused: still waiting
                    return Err(e);
                }
                Err(_) => continue,
            }
            let seq = s.seq.fetch_add(1, Ordering::Relaxed);
            s.leases
                .insert((lease_until, seq), (entry.ticket.clone(), record.version()));
            let claim = Claim {
                id: entry.ticket.to_string(),
                ticket: record.ticket_arc().clone(),
                priority: record.priority(),
                deadline: record.deadline(),
                lease_until,
                // Under the head's lock, which members join and leave under.
                callers: s.incidents.callers(&entry.ticket),
            };
            drop(held);
            self.after_op();
            return Ok(Some(claim));
        }
        Ok(None)
    }

    /// Puts back every claim whose lease ended by `now` and was not acted
    /// on; returns how many. Costs time proportional to the leases due. A
    /// lease the sink refuses to expire stays due, for the next call.
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
            let Some(slot) = self.slot(&key) else {
                continue;
            };
            let mut held = slot.lock();
            let Some(record) = held.record.as_mut() else {
                continue;
            };
            if record.state() != State::Claimed || record.version() != version {
                continue; // acted on, or claimed again since
            }
            let queued = s.seq.fetch_add(1, Ordering::Relaxed);
            match self.commit(
                record,
                now,
                smallvec![EventKind::LeaseExpired],
                Some(queued),
            ) {
                Ok(()) => {
                    expired += 1;
                    self.requeue(&key, record);
                }
                Err(OpError::Sink(_)) => {
                    s.leases.insert(*due.key(), (key, version));
                    break;
                }
                Err(_) => {}
            }
        }
        expired
    }

    /// Records that the worker contacted the caller.
    ///
    /// # Errors
    ///
    /// Unknown ticket, not claimed, or claimed by another worker; the sink.
    pub fn respond(&self, id: &str, worker: &str) -> Result<(), OpError> {
        self.by_holder(id, worker, |d, record, _, now| {
            refuse_linked(record)?;
            let responded = EventKind::Responded {
                worker: worker.to_string(),
            };
            d.commit(record, now, smallvec![responded], None)
        })
    }

    /// Records that the ticket is handled — and with it every ticket
    /// linked to its incident: they are resolved by the same worker with
    /// the same outcome, in the same operation (one sink call), and each
    /// caller is then called back on its own ([`evaluate`](Self::evaluate)).
    ///
    /// # Errors
    ///
    /// Unknown ticket, not claimed, or claimed by another worker;
    /// [`OpError::Linked`] for a ticket linked to another's incident
    /// (resolve the head); the sink.
    pub fn resolve(&self, id: &str, worker: &str, outcome: &str) -> Result<(), OpError> {
        self.by_holder(id, worker, |d, record, due, now| {
            refuse_linked(record)?;
            let resolved = EventKind::Resolved {
                worker: worker.to_string(),
                outcome: outcome.to_string(),
            };
            d.commit_incident(id, record, now, smallvec![resolved.clone()], None, |_| {
                resolved.clone()
            })?;
            d.closed(id);
            d.queue(record.agency()).open.fetch_sub(1, Ordering::AcqRel);
            // Closed: it can no longer be overdue.
            if let Some((at, seq)) = due.take() {
                d.shared.deadlines.remove(at, seq);
            }
            d.shared.escalated.remove(id);
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
    /// Unknown ticket, not claimed, or claimed by another worker;
    /// [`OpError::NoAgencyLeft`] when every candidate, triage included, has
    /// returned it (the holder keeps it); [`OpError::TooManyMoves`];
    /// [`OpError::Linked`] for a ticket linked to another's incident; the
    /// sink.
    ///
    /// The tickets linked to its incident follow it to the next agency, in
    /// the same operation.
    pub fn return_ticket(&self, id: &str, worker: &str, reason: &str) -> Result<Receipt, OpError> {
        self.by_holder(id, worker, |d, record, _, now| {
            refuse_linked(record)?;
            let returned = EventKind::Returned {
                worker: worker.to_string(),
                reason: reason.to_string(),
            };
            record.check(&returned)?;
            d.check_moves(record)?;
            // Decided before anything changes, so a refused return leaves the
            // ticket with its holder.
            let next = d
                .next_agency(record, Some(record.agency()))
                .ok_or_else(|| OpError::NoAgencyLeft(id.to_string()))?;
            d.move_to(id, record, now, returned, next)
        })
    }

    /// Moves a ticket to `agency` by hand. The tickets linked to its
    /// incident follow it, in the same operation.
    ///
    /// # Errors
    ///
    /// Unknown ticket or agency, the ticket is closed, it moved too often
    /// ([`OpError::TooManyMoves`]), it is linked to another's incident
    /// ([`OpError::Linked`]: split it off first); the sink.
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
        self.on_record(id, |d, record, _, now| {
            refuse_linked(record)?;
            let reassigned = EventKind::Reassigned {
                by: by.to_string(),
                reason: reason.to_string(),
            };
            record.check(&reassigned)?;
            d.check_moves(record)?;
            d.move_to(id, record, now, reassigned, agency.to_string())
        })
    }

    /// Records the call-back's answers (评). Every caller of an incident is
    /// evaluated on its own: the 三率 count callers, not work items.
    ///
    /// # Errors
    ///
    /// Unknown ticket, or not resolved yet (a linked ticket: until its head
    /// is resolved), or already evaluated; the sink.
    pub fn evaluate(&self, id: &str, evaluation: Evaluation) -> Result<(), OpError> {
        self.on_record(id, |d, record, _, now| {
            let evaluated = EventKind::Evaluated {
                responded: evaluation.responded,
                resolved: evaluation.resolved,
                satisfied: evaluation.satisfied,
            };
            d.commit(record, now, smallvec![evaluated], None)
        })
    }

    /// Escalates every open ticket whose deadline passed by `now` (an
    /// [`EventKind::Escalated`] event and a flag; the ticket stays on its
    /// list) and returns all open escalated tickets. Costs time proportional
    /// to the overdue tickets, not to all. An escalation the sink refuses
    /// stays due, for the next call.
    pub fn overdue(&self, now: Timestamp) -> Vec<Overdue> {
        let s = &*self.shared;
        for (at, seq, key) in s.deadlines.take_due(now) {
            let Some(slot) = self.slot(&key) else {
                continue;
            };
            let mut held = slot.lock();
            let Held {
                record: Some(record),
                due,
            } = &mut *held
            else {
                continue;
            };
            *due = None;
            if !record.state().is_open() || record.is_escalated() {
                continue;
            }
            match self.commit(record, now, smallvec![EventKind::Escalated], None) {
                Ok(()) => {
                    s.escalated.insert(key, ());
                }
                Err(OpError::Sink(_)) => {
                    s.deadlines.insert(at, seq, key);
                    *due = Some((at, seq));
                }
                Err(_) => {}
            }
        }
        let keys: Vec<Arc<str>> = s.escalated.iter().map(|e| e.key().clone()).collect();
        let mut out = Vec::new();
        for key in keys {
            let Some(slot) = self.slot(&key) else {
                s.escalated.remove(&key);
                continue;
            };
            let held = slot.lock();
            match &held.record {
                Some(record) if record.state().is_open() => out.push(Overdue {
                    id: key.to_string(),
                    agency: record.agency().to_string(),
                    deadline: record.deadline(),
                    state: record.state(),
                }),
                _ => {
                    s.escalated.remove(&key);
                }
            }
        }
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
    /// A month outside 1–12 or a year out of range.
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
        let slot = self.slot(id)?;
        let held = slot.lock();
        held.record.clone()
    }

    /// Calls `f` with every record, one ticket at a time (see the module
    /// docs on consistency).
    ///
    /// `f` runs while the ticket it is given is locked: it may call the
    /// dispatcher, but not about that ticket or its incident (resolving or
    /// moving a head locks its members), and not `for_each_record` again
    /// (either would wait for itself). A ticket submitted from `f` does not
    /// wait for a busy incident head: it stands alone instead.
    pub fn for_each_record(&self, mut f: impl FnMut(&TicketRecord)) {
        let _scope = submit::CallbackScope::enter();
        for (_, slot) in self.slots() {
            let held = slot.lock();
            if let Some(record) = &held.record {
                f(record);
            }
        }
    }

    /// How many tickets are where.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        self.for_each_record(|r| {
            c.total += 1;
            match r.state() {
                State::Received | State::Dispatched => c.dispatched += 1,
                State::Linked => c.linked += 1,
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

    /// Open tickets held by an agency: its work items (dispatched, claimed
    /// or responded), without the tickets linked to them.
    pub fn open_at(&self, agency: &str) -> usize {
        self.shared
            .agencies
            .get(agency)
            .map_or(0, |q| q.open.load(Ordering::Acquire))
    }

    /// Drops evaluated tickets received before `before` from memory, and
    /// (at the next snapshot) from the journal; returns how many. Their ids
    /// are remembered (8 bytes each) and refused if submitted again
    /// ([`SubmitError::Purged`]).
    ///
    /// # Errors
    ///
    /// [`OpError::Sink`]: the sink refused a purge marker; tickets purged by
    /// earlier markers of this call stay purged.
    pub fn purge_closed(&self, before: Timestamp) -> Result<usize, OpError> {
        let s = &*self.shared;
        let _maintenance = s.maintenance.lock();
        let closed: Vec<(Arc<str>, Arc<Slot>)> = self
            .slots()
            .into_iter()
            .filter(|(_, slot)| {
                slot.lock()
                    .record
                    .as_ref()
                    .is_some_and(|r| r.state() == State::Evaluated && r.received_at() < before)
            })
            .collect();
        let mut purged = 0;
        for chunk in closed.chunks(PURGE_CHUNK) {
            let ids: Vec<String> = chunk.iter().map(|(k, _)| k.to_string()).collect();
            if let Some(sink) = &s.sink {
                sink::persist(&**sink, &[Change::Purged(&ids)]).map_err(OpError::Sink)?;
            }
            s.purged
                .write()
                .extend(ids.iter().map(|id| fingerprint(id)));
            for (key, slot) in chunk {
                s.records.remove_if(key, |_, v| Arc::ptr_eq(v, slot));
            }
            s.incidents.forget(chunk.iter().map(|(key, _)| key));
            s.total.fetch_sub(chunk.len(), Ordering::AcqRel);
            purged += chunk.len();
        }
        if purged > 0 {
            s.records.shrink_to_fit();
        }
        Ok(purged)
    }

    // ---- internals -------------------------------------------------------

    /// Persists one operation's events, then applies them; refused as a
    /// whole, and then nothing changed. `queued` is the ticket's new
    /// work-list number when the operation queues it (persisted with the
    /// events, so that a restore orders the list exactly as here).
    pub(crate) fn commit(
        &self,
        record: &mut TicketRecord,
        now: Timestamp,
        kinds: SmallVec<[EventKind; 2]>,
        queued: Option<u64>,
    ) -> Result<(), OpError> {
        record.check_all(&kinds)?;
        if let Some(sink) = &self.shared.sink {
            let first = record.next_seq();
            let events: SmallVec<[Event; 2]> = kinds
                .into_iter()
                .zip(first..)
                .map(|(kind, seq)| Event {
                    ticket: record.ticket().id.clone(),
                    seq,
                    at: now,
                    kind,
                })
                .collect();
            let change = Change::Events {
                events: &events,
                queued,
            };
            sink::persist(&**sink, &[change]).map_err(OpError::Sink)?;
            for event in events {
                record.apply_owned(event.at, event.kind)?;
            }
        } else {
            for kind in kinds {
                record.apply_owned(now, kind)?;
            }
        }
        if let Some(queued) = queued {
            record.queued = queued;
        }
        Ok(())
    }

    /// Starts a snapshot in the background when the journal has grown
    /// enough since the last (checked every 1,024 operations: cheap).
    fn after_op(&self) {
        let s = &*self.shared;
        let Some(journal) = &s.journal else {
            return;
        };
        if !s.ops.fetch_add(1, Ordering::Relaxed).is_multiple_of(1024)
            || journal.stats().bytes_since_snapshot < s.snapshot_every
            || s.snapshotting.swap(true, Ordering::AcqRel)
        {
            return;
        }
        // Not a caller's handle: it must not keep the closer alive.
        let d = Dispatcher {
            shared: self.shared.clone(),
            closer: None,
        };
        let spawned = std::thread::Builder::new()
            .name("hotline-snapshot".into())
            .spawn(move || {
                // A failed snapshot leaves the journal as it was (longer to
                // restore, nothing lost); the next trigger tries again.
                let _ = d.checkpoint();
                d.shared.snapshotting.store(false, Ordering::Release);
            });
        match (spawned, &self.closer) {
            (Ok(thread), Some(closer)) => {
                // The previous snapshot thread has finished (`snapshotting`
                // was clear): replacing its handle just detaches it.
                *closer.snapshot.lock() = Some(thread);
            }
            (Ok(_), None) => {}
            (Err(_), _) => s.snapshotting.store(false, Ordering::Release),
        }
    }

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

    /// The ticket's slot, cloned out so that no map lock is held while the
    /// slot is locked.
    fn slot(&self, id: &str) -> Option<Arc<Slot>> {
        self.shared.records.get(id).map(|r| r.value().clone())
    }

    fn slot_or_err(&self, id: &str) -> Result<Arc<Slot>, OpError> {
        self.slot(id)
            .ok_or_else(|| OpError::UnknownTicket(id.to_string()))
    }

    /// Every slot, cloned out shard by shard.
    fn slots(&self) -> Vec<(Arc<str>, Arc<Slot>)> {
        self.shared
            .records
            .iter()
            .map(|e| (e.key().clone(), e.value().clone()))
            .collect()
    }

    /// Runs `f` on the record (and its deadline entry) if `worker` holds its
    /// claim.
    fn by_holder<T>(
        &self,
        id: &str,
        worker: &str,
        f: impl FnOnce(&Self, &mut TicketRecord, &mut Due, Timestamp) -> Result<T, OpError>,
    ) -> Result<T, OpError> {
        self.on_record(id, |d, record, due, now| {
            if matches!(record.state(), State::Claimed | State::Responded)
                && record.worker() != Some(worker)
            {
                return Err(OpError::NotHolder {
                    ticket: id.to_string(),
                    worker: worker.to_string(),
                    holder: record.worker().map(str::to_string),
                });
            }
            f(d, record, due, now)
        })
    }

    /// Runs one operation on a ticket under its lock: `f` gets the record,
    /// its deadline entry and the time.
    fn on_record<T>(
        &self,
        id: &str,
        f: impl FnOnce(&Self, &mut TicketRecord, &mut Due, Timestamp) -> Result<T, OpError>,
    ) -> Result<T, OpError> {
        let now = self.now();
        let slot = self.slot_or_err(id)?;
        let mut held = slot.lock();
        let Held {
            record: Some(record),
            due,
        } = &mut *held
        else {
            return Err(OpError::UnknownTicket(id.to_string()));
        };
        let result = f(self, record, due, now);
        drop(held);
        if result.is_ok() {
            self.after_op();
        }
        result
    }

    fn check_moves(&self, record: &TicketRecord) -> Result<(), OpError> {
        let limit = self.shared.config.max_moves;
        if record.moves() >= limit {
            return Err(OpError::TooManyMoves {
                ticket: record.ticket().id.clone(),
                limit,
            });
        }
        Ok(())
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

    /// Moves an open ticket to `agency` (`first` is the `Returned` or
    /// `Reassigned` event) and queues it there.
    fn move_to(
        &self,
        id: &str,
        record: &mut TicketRecord,
        now: Timestamp,
        first: EventKind,
        agency: String,
    ) -> Result<Receipt, OpError> {
        let from = record.agency().to_string();
        let (priority, deadline) = (record.priority(), record.deadline());
        let dispatched = EventKind::Dispatched {
            agency: agency.clone(),
            priority,
            deadline,
        };
        let queued = self.shared.seq.fetch_add(1, Ordering::Relaxed);
        let follow = |_: &TicketRecord| incidents::follow(id, &agency, priority, deadline);
        self.commit_incident(
            id,
            record,
            now,
            smallvec![first, dispatched],
            Some(queued),
            follow,
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
            incident: None,
        })
    }

    /// Puts the ticket on its agency's list under the number its operation
    /// persisted (`commit` set it).
    fn requeue(&self, key: &Arc<str>, record: &TicketRecord) {
        let seq = record.queued;
        self.queue(record.agency()).list.push(Entry {
            priority: record.priority(),
            received_at: record.received_at(),
            seq,
            ticket: key.clone(),
            version: record.version(),
        });
    }
}

/// Refuses an operation on a work item for a ticket linked to another's
/// incident: it is handled through its head.
fn refuse_linked(record: &TicketRecord) -> Result<(), OpError> {
    match (record.state(), record.incident()) {
        (State::Linked, Some(head)) => Err(OpError::Linked {
            ticket: record.ticket().id.clone(),
            incident: head.to_string(),
        }),
        _ => Ok(()),
    }
}

/// A ticket id's fingerprint, stable across processes (it is stored in
/// snapshots): 64-bit FNV-1a. Two ids share one with odds of about
/// n / 2^64 — a fresh id is wrongly refused as purged practically never.
fn fingerprint(id: &str) -> u64 {
    crate::hash::fnv1a(id.as_bytes())
}
