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
mod ids;
mod incidents;
mod internals;
pub mod lifecycle;
mod linker;
#[cfg(not(feature = "journal"))]
mod no_journal;
mod ops;
mod restore;
mod sink;
mod submit;
#[cfg(test)]
mod tests;
mod types;
mod views;
mod worklist;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use crossbeam_skiplist::SkipMap;
use dashmap::DashMap;
use jiff::Timestamp;
use parking_lot::{Mutex, RwLock};

pub use builder::DispatcherBuilder;
pub use clock::{Clock, ManualClock, SystemClock};
#[cfg(feature = "journal")]
#[cfg_attr(docsrs, doc(cfg(feature = "journal")))]
pub use durable::OpenError;
#[cfg(feature = "postgres")]
pub(crate) use durable::{LogRecord, OwnedLogRecord};
pub use ids::{AgencyCode, TicketId, WorkerId};
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

#[cfg(feature = "journal")]
use crate::journal::Journal;
use crate::router::Router;
use due::DueIndex;
use incidents::Incidents;
#[cfg(not(feature = "journal"))]
use no_journal::Journal;
use worklist::WorkList;

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

#[derive(Debug)]
struct AgencyQueue {
    /// The agency's code, shared: a receipt takes a reference, not a copy.
    code: AgencyCode,
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
