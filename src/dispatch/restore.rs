//! Rebuilding a runtime from what a sink persisted: events, whole ticket
//! histories (snapshots) and purges.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use jiff::Timestamp;
use parking_lot::Mutex;
use rayon::prelude::*;
use smallvec::smallvec;

use super::incidents::Membership;
use super::lifecycle::{Event, EventKind, State, TicketRecord, TransitionError};
use super::types::OpError;
use super::worklist::Entry;
use super::{clock, fingerprint, Dispatcher, Hasher, Held, Slot};

/// Why a restore failed, and where.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{Dispatcher, DispatchConfig, Event, EventKind, RestoreError, SystemClock};
/// use hotline_router::Router;
///
/// // A ticket's first event must be `Received`.
/// let stray = Event { ticket: "T1".into(), seq: 0, at: jiff::Timestamp::UNIX_EPOCH, kind: EventKind::LeaseExpired };
/// let err = Dispatcher::restore(Router::beijing(), DispatchConfig::default(), SystemClock, [stray]).unwrap_err();
/// assert_eq!(err.index, 0);
/// assert_eq!(err.ticket, "T1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot restore from event {index} (ticket {ticket}): {source}")]
#[non_exhaustive]
pub struct RestoreError {
    /// The event's position in what was replayed, from 0.
    pub index: u64,
    /// Its ticket.
    pub ticket: String,
    /// What is wrong with it.
    #[source]
    pub source: OpError,
}

/// Records being rebuilt, before they become a runtime. Each record lives in
/// the slot it will have in the runtime, so that nothing large moves while
/// a million tickets are rebuilt.
#[derive(Default)]
pub(crate) struct Rebuild {
    records: HashMap<Arc<str>, Arc<Slot>, Hasher>,
    purged: HashSet<u64, Hasher>,
    /// The next work-list number: after every number a snapshot kept.
    next_queued: u64,
    latest: Option<Timestamp>,
}

/// A slot holding `record`, as the runtime keeps it.
pub(crate) fn slot_of(record: TicketRecord) -> Arc<Slot> {
    Arc::new(Mutex::new(Held {
        record: Some(record),
        due: None,
    }))
}

impl Rebuild {
    /// Applies one event. An event the ticket already has (same number,
    /// same content) is skipped: a snapshot is taken while the runtime
    /// works, so the log after it may repeat what it holds.
    ///
    /// `queued` is the work-list number the live runtime gave the ticket if
    /// this event queued it (the journal keeps it); without it, numbers
    /// follow the order of the events.
    pub(crate) fn event(
        &mut self,
        index: u64,
        event: Event,
        queued: Option<u64>,
    ) -> Result<(), RestoreError> {
        let fail = |source: OpError| RestoreError {
            index,
            ticket: event.ticket.clone(),
            source,
        };
        self.saw(event.at);
        let queues = matches!(
            event.kind,
            EventKind::Dispatched { .. } | EventKind::LeaseExpired
        );
        let Some(slot) = self.records.get(event.ticket.as_str()) else {
            if event.seq != 0 {
                return Err(fail(OpError::UnknownTicket(event.ticket.clone())));
            }
            let record = TicketRecord::new(&event).map_err(|e| fail(e.into()))?;
            self.records
                .insert(Arc::from(event.ticket.as_str()), slot_of(record));
            return Ok(());
        };
        let mut held = slot.lock();
        let Some(record) = held.record.as_mut() else {
            return Err(fail(OpError::UnknownTicket(event.ticket.clone())));
        };
        let next = record.next_seq();
        if event.seq < next {
            let (at, kind) = &record.history()[event.seq as usize];
            if *at == event.at && *kind == event.kind {
                return Ok(());
            }
        }
        if event.seq != next {
            return Err(fail(
                TransitionError {
                    ticket: event.ticket.clone(),
                    state: record.state(),
                    event: "an event out of sequence",
                }
                .into(),
            ));
        }
        record
            .apply(event.at, &event.kind)
            .map_err(|e| fail(e.into()))?;
        if queues {
            record.queued = queued.unwrap_or(self.next_queued);
            self.next_queued = self.next_queued.max(record.queued.saturating_add(1));
        }
        Ok(())
    }

    /// How many tickets so far.
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// Takes whole tickets from a snapshot, each already in its slot (built
    /// in parallel by the caller).
    pub(crate) fn tickets(&mut self, tickets: Vec<(Arc<str>, Arc<Slot>)>) {
        self.records.reserve(tickets.len());
        for (key, slot) in tickets {
            if let Some(record) = &slot.lock().record {
                if let Some((at, _)) = record.history().last() {
                    self.latest = Some(self.latest.map_or(*at, |l| l.max(*at)));
                }
                self.next_queued = self.next_queued.max(record.queued.saturating_add(1));
            }
            self.records.insert(key, slot);
        }
    }

    /// Drops purged tickets and remembers their ids.
    pub(crate) fn purge(&mut self, ids: &[String]) {
        for id in ids {
            self.records.remove(id.as_str());
            self.purged.insert(fingerprint(id));
        }
    }

    /// Remembers purged ids by fingerprint (from a snapshot).
    pub(crate) fn purged(&mut self, fingerprints: &[u64]) {
        self.purged.extend(fingerprints.iter().copied());
    }

    fn saw(&mut self, at: Timestamp) {
        self.latest = Some(self.latest.map_or(at, |l| l.max(at)));
    }

    /// Moves the records into `d` (fresh) and builds its work lists, leases,
    /// deadlines, escalations and incidents; completes operations cut off
    /// mid-way; re-feeds the linker.
    ///
    /// The order does not matter: a work list orders its entries by
    /// priority, time and the record's own work-list number. Linked tickets
    /// come last, once their heads are installed: a member whose head's
    /// operation was cut off is completed from its head.
    pub(crate) fn install(self, d: &Dispatcher) -> Result<(), RestoreError> {
        let s = &*d.shared;
        if let Some(latest) = self.latest {
            s.latest
                .fetch_max(clock::to_nanos(latest), Ordering::AcqRel);
        }
        *s.purged.write() = self.purged;
        s.seq.store(self.next_queued, Ordering::Relaxed);
        s.total.store(self.records.len(), Ordering::Release);
        // Every index the records go into takes concurrent inserts: install
        // them on every core (a million tickets took 1.5 s on one).
        let records: Vec<(Arc<str>, Arc<Slot>)> = self.records.into_iter().collect();
        // Only tickets with something to report make an entry (most have
        // none): the list stays small for a million tickets.
        let found: Vec<Found> = records
            .into_par_iter()
            .enumerate()
            .map(|(index, (key, slot))| install_one(d, index as u64, key, slot, true))
            .filter(|found| !matches!(found, Ok(f) if f.is_empty()))
            .collect::<Result<_, RestoreError>>()?;
        let (mut leases, mut memberships, mut linked, mut open) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for found in found {
            leases.extend(found.lease);
            memberships.extend(found.member);
            linked.extend(found.linked);
            open.extend(found.open);
        }
        d.restore_incidents(memberships, linked, open, |index, key, slot| {
            leases.extend(install_one(d, index, key, slot, false)?.lease);
            Ok(())
        })?;
        // Leases ending at the same moment lapse in the order the tickets
        // were queued, as they would have live (they are requeued with new
        // numbers in that order): the map above is walked in random order.
        leases.sort_unstable_by_key(|(queued, ..)| *queued);
        for (_, until, key, version) in leases {
            let seq = s.seq.fetch_add(1, Ordering::Relaxed);
            s.leases.insert((until, seq), (key, version));
        }
        Ok(())
    }
}

/// A claim's lease to register: (work-list number, end, ticket, version).
type Lease = (u64, Timestamp, Arc<str>, u32);

/// What installing a ticket found that needs the other tickets.
#[derive(Default)]
struct Found {
    /// Its claim's lease, registered in order later.
    lease: Option<Lease>,
    /// It is (or was, until resolved with its head) in an incident.
    member: Option<Membership>,
    /// It is linked: completed from its head, and installed, at the end.
    linked: Option<(u64, Arc<str>, Arc<Slot>)>,
    /// An open ticket that is its own work item, for the linker.
    open: Option<(Timestamp, Arc<str>)>,
}

impl Found {
    fn is_empty(&self) -> bool {
        self.lease.is_none()
            && self.member.is_none()
            && self.linked.is_none()
            && self.open.is_none()
    }
}

/// Puts one restored ticket into the runtime: its indexes, then the
/// registry. A linked ticket is handed back instead when `defer_linked`.
fn install_one(
    d: &Dispatcher,
    index: u64,
    key: Arc<str>,
    slot: Arc<Slot>,
    defer_linked: bool,
) -> Result<Found, RestoreError> {
    let s = &*d.shared;
    let mut found = Found::default();
    let mut guard = slot.lock();
    if let Held {
        record: Some(record),
        due,
    } = &mut *guard
    {
        // Linked, and not between a Split and its Dispatched.
        let member = record.state() == State::Linked && record.incident().is_some();
        if member && defer_linked {
            drop(guard);
            found.linked = Some((index, key, slot));
            return Ok(found);
        }
        if let Some(head) = record.incident() {
            found.member = Some((Arc::from(head), key.clone(), record.received_at()));
        }
        if record.state().is_open() && !member {
            if let Some(kind) = cut_off(record) {
                complete(d, record, kind).map_err(|source| RestoreError {
                    index,
                    ticket: key.to_string(),
                    source,
                })?;
            }
            if s.linker.is_some() {
                found.open = Some((record.received_at(), key.clone()));
            }
            d.queue(record.agency()).open.fetch_add(1, Ordering::AcqRel);
            if record.is_escalated() {
                s.escalated.insert(key.clone(), ());
            } else {
                let seq = s.seq.fetch_add(1, Ordering::Relaxed);
                s.deadlines.insert(record.deadline(), seq, key.clone());
                *due = Some((record.deadline(), seq));
            }
            match record.state() {
                State::Dispatched => d.queue(record.agency()).list.push(Entry {
                    priority: record.priority(),
                    received_at: record.received_at(),
                    seq: record.queued,
                    ticket: key.clone(),
                    version: record.version(),
                }),
                State::Claimed => {
                    found.lease = record
                        .lease_until()
                        .map(|until| (record.queued, until, key.clone(), record.version()));
                }
                _ => {}
            }
        }
    }
    drop(guard);
    s.records.insert(key, slot);
    Ok(found)
}

/// What an operation cut off after its first event was doing.
enum CutOff {
    Submit,
    Return,
    Reassign,
    Split,
}

fn cut_off(record: &TicketRecord) -> Option<CutOff> {
    match record.history().last().map(|(_, k)| k) {
        Some(EventKind::Received { .. }) => Some(CutOff::Submit),
        Some(EventKind::Returned { .. }) => Some(CutOff::Return),
        Some(EventKind::Reassigned { .. }) => Some(CutOff::Reassign),
        Some(EventKind::Split { .. }) => Some(CutOff::Split),
        _ => None,
    }
}

/// Finishes an operation cut off mid-way, through the sink like any other.
/// Never rolled back: what a sink persisted stays persisted.
fn complete(d: &Dispatcher, record: &mut TicketRecord, cut: CutOff) -> Result<(), OpError> {
    let (agency, priority, deadline) = match cut {
        // As live code would have: on its own, as a submit or a split does.
        CutOff::Submit | CutOff::Split => d.own_dispatch(record),
        // As a live return would have, else back where it was.
        CutOff::Return => (
            d.next_agency(record, None)
                .unwrap_or_else(|| record.agency().to_string()),
            record.priority(),
            record.deadline(),
        ),
        // The destination was in the lost event: back where it was.
        CutOff::Reassign => (
            record.agency().to_string(),
            record.priority(),
            record.deadline(),
        ),
    };
    let now = d.now();
    let dispatched = EventKind::Dispatched {
        agency,
        priority,
        deadline,
    };
    let queued = d.shared.seq.fetch_add(1, Ordering::Relaxed);
    d.commit(record, now, smallvec![dispatched], Some(queued))?;
    Ok(())
}
