//! Rebuilding a runtime from what a sink persisted: events, whole ticket
//! histories (snapshots) and purges.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use jiff::Timestamp;
use parking_lot::Mutex;
use smallvec::{smallvec, SmallVec};

#[cfg(feature = "journal")]
use super::fingerprint;
use super::incidents::{follow, MemberMap};
use super::lifecycle::{Event, EventKind, State, TicketRecord, TransitionError};
use super::types::OpError;
use super::worklist::Entry;
use super::{clock, Dispatcher, Hasher, Held, Slot};
use crate::par::prelude::*;
use crate::rules::Priority;

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
    /// The event's position in what was replayed, from 0: in
    /// [`Dispatcher::restore`], the event's; from a journal, its record's
    /// (snapshot items and log records counted alike — the journal error
    /// around this one names the file and byte offset). An operation cut
    /// off mid-way is completed once everything is replayed: when that
    /// fails, the index is the number of items replayed (the failure is
    /// after the last of them).
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
    /// How many items were replayed: the index errors after the replay
    /// (completing cut-off operations) name.
    end: u64,
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
        self.end = self.end.max(index.saturating_add(1));
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
    #[cfg(feature = "journal")]
    pub(super) fn tickets(&mut self, tickets: Vec<(Arc<str>, Arc<Slot>)>) {
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
    #[cfg(feature = "journal")]
    pub(crate) fn purge(&mut self, ids: &[String]) {
        for id in ids {
            self.records.remove(id.as_str());
            self.purged.insert(fingerprint(id));
        }
    }

    /// Remembers purged ids by fingerprint (from a snapshot).
    #[cfg(feature = "journal")]
    pub(crate) fn purged(&mut self, fingerprints: &[u64]) {
        self.purged.extend(fingerprints.iter().copied());
    }

    /// Notes that `count` items were replayed (snapshot items included).
    #[cfg(feature = "journal")]
    pub(crate) fn replayed(&mut self, count: u64) {
        self.end = self.end.max(count);
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
        let end = self.end;
        // Only tickets with something to report make an entry (most have
        // none): the list stays small for a million tickets.
        let found: Vec<Found> = records
            .into_par_iter()
            .map(|(key, slot)| install_one(d, end, key, slot, true))
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
/// `index` is what an error names: the end of the replay.
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
        CutOff::Submit => {
            let agency = d
                .next_agency(record, None)
                .unwrap_or_else(|| d.triage_code());
            match d.router().route(record.ticket()) {
                Ok(decision) => (agency, decision.priority(), decision.deadline()),
                Err(_) => (agency, Priority::Normal, record.received_at()),
            }
        }
        // As a live split would have.
        CutOff::Split => d.own_dispatch(record),
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

// ---- incidents ------------------------------------------------------------

/// A restored ticket's part in the incidents: (head, member, received at).
pub(super) type Membership = (Arc<str>, Arc<str>, Timestamp);

impl Dispatcher {
    /// The end of a restore, once every other ticket is installed: finishes
    /// the members whose head's operation was cut off (`linked`: every
    /// ticket restored `Linked`, with the index its errors name), rebuilds the
    /// incidents, and re-feeds the linker with `open` (the open tickets
    /// that are their own work items, with their time of receipt).
    pub(super) fn restore_incidents(
        &self,
        mut memberships: Vec<Membership>,
        mut linked: Vec<(u64, Arc<str>, Arc<Slot>)>,
        mut open: Vec<(Timestamp, Arc<str>)>,
        mut install: impl FnMut(u64, Arc<str>, Arc<Slot>) -> Result<(), RestoreError>,
    ) -> Result<(), RestoreError> {
        // In a fixed order, so that completions reach the sink the same way
        // every time.
        linked.sort_unstable_by(|a, b| a.1.cmp(&b.1));
        let mut members = Vec::new();
        for (index, key, slot) in linked {
            let fail = |source| RestoreError {
                index,
                ticket: key.to_string(),
                source,
            };
            let head = self.complete_member(&slot).map_err(fail)?;
            match head {
                Some((head, received_at)) => {
                    memberships.push((head.clone(), key.clone(), received_at));
                    members.push((received_at, key.clone(), head));
                }
                None => {
                    let received_at = slot
                        .lock()
                        .record
                        .as_ref()
                        .map_or(Timestamp::MIN, TicketRecord::received_at);
                    open.push((received_at, key.clone()));
                }
            }
            install(index, key, slot)?;
        }
        let mut map = MemberMap::default();
        for (head, member, at) in memberships {
            if self.slot(&head).is_some() {
                map.entry(head).or_default().push((at, member));
            }
        }
        self.shared.incidents.install(map);
        if self.shared.linker.is_some() {
            self.refeed(open, members);
        }
        Ok(())
    }

    /// Finishes a restored member: resolved with its head if the head is
    /// resolved, moved with it if it moved, split off if there is no head
    /// to follow. Returns its head and time of receipt if it is still
    /// linked (or was just resolved with it).
    fn complete_member(&self, slot: &Arc<Slot>) -> Result<Option<(Arc<str>, Timestamp)>, OpError> {
        let head: Arc<str> = match slot.lock().record.as_ref().and_then(TicketRecord::incident) {
            Some(head) => Arc::from(head),
            None => return Ok(None),
        };
        let head_slot = self.slot(&head);
        // Head before member, as everywhere.
        let head_guard = head_slot.as_ref().map(|s| s.lock());
        let mut guard = slot.lock();
        let Some(record) = guard.record.as_mut() else {
            return Ok(None);
        };
        let now = self.now();
        let head_record = head_guard.as_ref().and_then(|g| g.record.as_ref());
        let kinds: SmallVec<[EventKind; 2]> = match head_record {
            Some(h) if h.incident().is_none() && h.state().is_open() => {
                if (h.agency(), h.priority(), h.deadline())
                    == (record.agency(), record.priority(), record.deadline())
                {
                    smallvec![]
                } else {
                    smallvec![follow(&head, h.agency(), h.priority(), h.deadline())]
                }
            }
            Some(h) if h.incident().is_none() => match last_resolved(h) {
                Some(resolved) => smallvec![resolved],
                None => smallvec![],
            },
            // No head to follow: it becomes its own work item.
            _ => {
                let (agency, priority, deadline) = self.own_dispatch(record);
                let split = EventKind::Split {
                    by: "restore".into(),
                    reason: format!("its incident's head {head} is not an open ticket here"),
                };
                let dispatched = EventKind::Dispatched {
                    agency,
                    priority,
                    deadline,
                };
                let queued = self.shared.seq.fetch_add(1, Ordering::Relaxed);
                self.commit(record, now, smallvec![split, dispatched], Some(queued))?;
                return Ok(None);
            }
        };
        if !kinds.is_empty() {
            self.commit(record, now, kinds, None)?;
        }
        Ok(Some((head, record.received_at())))
    }

    /// Feeds the linker every open ticket: in received order, a head before
    /// its members.
    fn refeed(
        &self,
        open: Vec<(Timestamp, Arc<str>)>,
        members: Vec<(Timestamp, Arc<str>, Arc<str>)>,
    ) {
        let heads: HashMap<&str, Timestamp> = open.iter().map(|(at, k)| (&**k, *at)).collect();
        // (fed after, is a member, ticket, head)
        type Feed<'a> = (Timestamp, bool, &'a Arc<str>, Option<&'a Arc<str>>);
        let mut order: Vec<Feed<'_>> = open
            .iter()
            .map(|(at, key)| (*at, false, key, None))
            .collect();
        for (at, key, head) in &members {
            if !self.record(key).is_some_and(|r| r.state() == State::Linked) {
                continue;
            }
            let after = heads.get(&**head).map_or(*at, |h| (*h).max(*at));
            order.push((after, true, key, Some(head)));
        }
        order.sort_unstable();
        let router = self.router();
        for (_, _, key, head) in order {
            let Some(record) = self.record(key) else {
                continue;
            };
            if !record.state().is_open() {
                continue;
            }
            let Ok(decision) = router.route(record.ticket()) else {
                continue;
            };
            if let Some(linker) = &self.shared.linker {
                linker.lock().restore(
                    record.ticket(),
                    &decision,
                    record.received_at(),
                    head.map(|h| &**h),
                );
            }
        }
    }
}

/// The `Resolved` event a resolved head got, for its members.
fn last_resolved(head: &TicketRecord) -> Option<EventKind> {
    head.history()
        .iter()
        .rev()
        .find(|(_, kind)| matches!(kind, EventKind::Resolved { .. }))
        .map(|(_, kind)| kind.clone())
}
