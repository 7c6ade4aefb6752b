//! Taking tickets in (接): the checks, the id, a place on a work list or in
//! an open incident, and the events made durable before anyone sees them.
//!
//! A submit goes through three steps:
//!
//! 1. [`admit`](Dispatcher::admit): everything that needs no id — the time
//!    window, routing, purged ids, capacity — and, with a linker, the
//!    incident the linker names;
//! 2. [`take`](Dispatcher::take): the id is taken by inserting the ticket's
//!    slot *locked* into the registry, so that anyone who finds it waits
//!    until the submit is acknowledged or refused. A ticket that joins an
//!    incident takes its id under its head's lock (see
//!    [`incidents`](super::incidents) for why and for the lock order);
//! 3. the sink, then [`finish`](Dispatcher::finish) (visible) or
//!    [`abort`](Dispatcher::abort) (the id and the capacity freed, the
//!    ticket handed back).

use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use dashmap::mapref::entry::Entry as MapEntry;
use jiff::Timestamp;
use parking_lot::{ArcMutexGuard, Mutex, RawMutex};

use super::incidents::Joined;
use super::lifecycle::{Event, EventKind, Routing, TicketRecord};
use super::sink::{self, Change, SinkError};
use super::types::{Receipt, SubmitError};
use super::worklist::Entry;
use super::{fingerprint, AgencyQueue, Dispatcher, Held};
use crate::rules::Priority;
use crate::ticket::Ticket;

/// A ticket past every check that needs no id: routed, with a place
/// reserved under both capacity limits, and the incident its linker named.
pub(super) struct Admitted {
    pub(super) ticket: Ticket,
    pub(super) routing: Routing,
    /// Where the router sends it, how urgent, by when.
    pub(super) agency: String,
    pub(super) priority: Priority,
    pub(super) deadline: Timestamp,
    /// Its agency's queue; one open place on it is reserved.
    pub(super) queue: Arc<AgencyQueue>,
    /// The head the linker named, and why.
    pub(super) link: Option<(String, Vec<String>)>,
}

/// A submit between taking its id and its acknowledgement: the slot is in
/// the registry (so the id is taken) and locked; the record is not in it yet.
pub(super) struct Pending {
    pub(super) key: Arc<str>,
    pub(super) guard: ArcMutexGuard<RawMutex, Held>,
    pub(super) record: TicketRecord,
    pub(super) place: Place,
    pub(super) receipt: Receipt,
}

/// Where an acknowledged submit goes.
pub(super) enum Place {
    /// On its agency's list. The work-list number is taken before it is
    /// persisted, so that the journal keeps it and a restore queues it
    /// exactly as here.
    Queued {
        queued: u64,
        queue: Arc<AgencyQueue>,
    },
    /// A member of the incident headed by `head` (already in its members).
    Joined { head: Arc<str> },
}

/// How a submit may wait for the head of the incident its ticket joins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum HeadLock {
    /// Block: the thread holds no slot.
    Wait,
    /// Do not block (the thread holds slots of a batch): if the head is
    /// busy, hand the ticket back to be taken after the batch is persisted.
    Try,
    /// Do not block, and if the head is busy, stand alone: the thread holds
    /// a slot it cannot let go of (a `for_each_record` callback).
    TryOrAlone,
}

/// Why `take` did not take a ticket.
pub(super) enum Untaken {
    Refused(SubmitError),
    /// Its head is busy and `HeadLock::Try` said not to wait.
    Busy(Box<Admitted>),
}

thread_local! {
    /// How many `for_each_record` callbacks this thread is inside (each
    /// holds a ticket's slot).
    static IN_CALLBACK: Cell<u32> = const { Cell::new(0) };
}

/// Marks the current thread as holding a slot in a callback, until dropped.
pub(super) struct CallbackScope(());

impl CallbackScope {
    pub(super) fn enter() -> CallbackScope {
        IN_CALLBACK.with(|n| n.set(n.get() + 1));
        CallbackScope(())
    }
}

impl Drop for CallbackScope {
    fn drop(&mut self) {
        IN_CALLBACK.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

fn in_callback() -> bool {
    IN_CALLBACK.with(|n| n.get() > 0)
}

impl Dispatcher {
    /// Routes a ticket and puts it on its agency's work list (接、派) — or,
    /// with a [linker](super::DispatcherBuilder::linker) that finds it is
    /// the same problem as an open incident, links it to that incident
    /// ([`Receipt::incident`] names the head): the agency keeps one work
    /// item, the caller is called back like any other.
    ///
    /// A ticket without `received_at` is stamped with the runtime's clock; a
    /// caller's time must lie within [`DispatchConfig::max_backdate`](super::DispatchConfig::max_backdate)
    /// before and [`DispatchConfig::max_ahead`](super::DispatchConfig::max_ahead)
    /// after it.
    ///
    /// # Errors
    ///
    /// [`SubmitError`], with the ticket handed back: it cannot be routed, its
    /// id was already submitted (or purged), its time is out of range, a
    /// capacity limit is reached (a ticket that would join an incident
    /// counts against its routed agency's limit too: the limit is checked
    /// before the linker is asked), or the sink refused it.
    pub fn submit(&self, ticket: Ticket) -> Result<Receipt, SubmitError> {
        let now = self.now();
        let admitted = self.admit(ticket, now)?;
        let how = if in_callback() {
            HeadLock::TryOrAlone
        } else {
            HeadLock::Wait
        };
        let pending = self.take_waiting(admitted, now, how, || {})?;
        if let Some(sink) = &self.shared.sink {
            let events = events_of(&pending.record);
            let change = Change::Events {
                events: &events,
                queued: pending.place.queued(),
            };
            if let Err(error) = sink::persist(&**sink, &[change]) {
                drop(events);
                return Err(self.abort(pending, error));
            }
        }
        let receipt = self.finish(pending);
        self.after_op();
        Ok(receipt)
    }

    /// Submits many tickets at once: with a journal they are made durable
    /// by one write and one sync, so a batch costs little more than one
    /// ticket (this is how an intake or a replay keeps up). Results come
    /// in input order.
    ///
    /// A ticket whose incident's head is busy — an operation on it is being
    /// persisted, or the head is earlier in this very batch — splits the
    /// batch: what came before it is persisted first (and acknowledged),
    /// because a batch never waits for a head while it holds tickets.
    pub fn submit_many(
        &self,
        tickets: impl IntoIterator<Item = Ticket>,
    ) -> Vec<Result<Receipt, SubmitError>> {
        let now = self.now();
        let callback = in_callback();
        let mut results: Vec<Option<Result<Receipt, SubmitError>>> = Vec::new();
        let mut pending: Vec<(usize, Pending)> = Vec::new();
        for (i, ticket) in tickets.into_iter().enumerate() {
            results.push(None);
            let admitted = match self.admit(ticket, now) {
                Ok(a) => a,
                Err(e) => {
                    results[i] = Some(Err(e));
                    continue;
                }
            };
            let how = match (callback, pending.is_empty()) {
                (true, _) => HeadLock::TryOrAlone,
                (false, true) => HeadLock::Wait,
                (false, false) => HeadLock::Try,
            };
            let taken = self.take_waiting(admitted, now, how, || {
                self.persist_batch(&mut pending, &mut results)
            });
            match taken {
                Ok(p) => pending.push((i, p)),
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        self.persist_batch(&mut pending, &mut results);
        self.after_op();
        results.into_iter().flatten().collect()
    }

    /// Persists a batch's pending tickets in one sink call and acknowledges
    /// (or refuses) them all; `results` gets their answers.
    fn persist_batch(
        &self,
        pending: &mut Vec<(usize, Pending)>,
        results: &mut [Option<Result<Receipt, SubmitError>>],
    ) {
        if pending.is_empty() {
            return;
        }
        let mut refused = None;
        if let Some(sink) = &self.shared.sink {
            let events: Vec<Vec<Event>> =
                pending.iter().map(|(_, p)| events_of(&p.record)).collect();
            let changes: Vec<Change<'_>> = events
                .iter()
                .zip(pending.iter())
                .map(|(events, (_, p))| Change::Events {
                    events,
                    queued: p.place.queued(),
                })
                .collect();
            refused = sink::persist(&**sink, &changes).err();
        }
        for (i, p) in pending.drain(..) {
            results[i] = Some(match &refused {
                Some(error) => Err(self.abort(p, error.clone())),
                None => Ok(self.finish(p)),
            });
        }
    }

    /// `take`, and if the head is busy: `release` (the caller lets go of
    /// every slot it holds), then take it waiting for the head.
    fn take_waiting(
        &self,
        admitted: Admitted,
        now: Timestamp,
        how: HeadLock,
        mut release: impl FnMut(),
    ) -> Result<Pending, SubmitError> {
        let (mut admitted, mut how) = (admitted, how);
        loop {
            match self.take(admitted, now, how) {
                Ok(p) => return Ok(p),
                Err(Untaken::Refused(e)) => return Err(e),
                Err(Untaken::Busy(back)) => {
                    release();
                    (admitted, how) = (*back, HeadLock::Wait);
                }
            }
        }
    }

    /// Checks and reserves everything a submit needs before its id is
    /// taken, and asks the linker.
    pub(super) fn admit(
        &self,
        mut ticket: Ticket,
        now: Timestamp,
    ) -> Result<Admitted, SubmitError> {
        let s = &*self.shared;
        match ticket.received_at {
            None => ticket.received_at = Some(now),
            Some(at) => {
                let earliest = now
                    .checked_sub(s.config.max_backdate)
                    .unwrap_or(Timestamp::MIN);
                let latest = now
                    .checked_add(s.config.max_ahead)
                    .unwrap_or(Timestamp::MAX);
                if at < earliest || at > latest {
                    return Err(SubmitError::ReceivedAt {
                        received_at: at,
                        now,
                        ticket: Box::new(ticket),
                    });
                }
            }
        }
        let router = s.router.load();
        let decision = match router.route(&ticket) {
            Ok(d) => d,
            Err(error) => {
                return Err(SubmitError::Invalid {
                    error,
                    ticket: Box::new(ticket),
                })
            }
        };
        let (agency, priority, deadline) = (
            decision.agency_code().to_string(),
            decision.priority(),
            decision.deadline(),
        );
        let routing = Routing {
            category: decision.category().code().to_string(),
            district: decision.district_code().map(str::to_string),
            street: decision.street_code().map(str::to_string),
        };
        if s.purged.read().contains(&fingerprint(&ticket.id)) {
            return Err(SubmitError::Purged(Box::new(ticket)));
        }
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
        // Asked last, so that the linker sees only tickets that will be
        // taken (a duplicate is told apart here, and for good under the
        // registry's lock in `take`); only a sink can still refuse one.
        let link = match &s.linker {
            Some(linker) if !s.records.contains_key(ticket.id.as_str()) => {
                let at = ticket.received_at.unwrap_or(now);
                linker.lock().link(&ticket, &decision, at)
            }
            _ => None,
        };
        drop(decision);
        drop(router);
        Ok(Admitted {
            ticket,
            routing,
            agency,
            priority,
            deadline,
            queue,
            link,
        })
    }

    /// Takes the ticket's id: into the incident the linker named, if it is
    /// an open one here, else onto its agency's list.
    pub(super) fn take(
        &self,
        admitted: Admitted,
        now: Timestamp,
        how: HeadLock,
    ) -> Result<Pending, Untaken> {
        let admitted = if admitted.link.is_some() {
            match self.join(admitted, now, how) {
                Joined::Pending(p) => return Ok(p),
                Joined::Refused(e) => return Err(Untaken::Refused(e)),
                Joined::Busy(a) => return Err(Untaken::Busy(a)),
                Joined::Alone(a) => a,
            }
        } else {
            admitted
        };
        let s = &*self.shared;
        let Admitted {
            ticket,
            routing,
            agency,
            priority,
            deadline,
            queue,
            link: _,
        } = admitted;
        let key: Arc<str> = Arc::from(ticket.id.as_str());
        let Some(guard) = self.take_id(&key) else {
            return Err(Untaken::Refused(self.refuse_duplicate(ticket, &queue)));
        };
        let mut record = TicketRecord::start(now, Arc::new(ticket), routing);
        let dispatched = EventKind::Dispatched {
            agency,
            priority,
            deadline,
        };
        record
            .apply_owned(now, dispatched)
            .expect("a fresh record accepts Dispatched");
        record.queued = s.seq.fetch_add(1, Ordering::Relaxed);
        let code = queue.code.clone();
        Ok(Pending {
            place: Place::Queued {
                queued: record.queued,
                queue,
            },
            receipt: Receipt {
                id: key.clone().into(),
                agency: code,
                priority,
                deadline,
                incident: None,
            },
            key,
            guard,
            record,
        })
    }

    /// Inserts a new, locked slot for `key` into the registry: `None` when
    /// the id is taken. Locked before it is visible: anyone who finds the
    /// id waits until the submit is acknowledged or refused.
    pub(super) fn take_id(&self, key: &Arc<str>) -> Option<ArcMutexGuard<RawMutex, Held>> {
        let slot = Arc::new(Mutex::new(Held::default()));
        let guard = slot.lock_arc();
        match self.shared.records.entry(key.clone()) {
            MapEntry::Occupied(_) => None,
            MapEntry::Vacant(vacant) => {
                vacant.insert(slot);
                Some(guard)
            }
        }
    }

    /// Gives back what `admit` reserved, for a duplicate id.
    pub(super) fn refuse_duplicate(&self, ticket: Ticket, queue: &AgencyQueue) -> SubmitError {
        queue.open.fetch_sub(1, Ordering::AcqRel);
        self.shared.total.fetch_sub(1, Ordering::AcqRel);
        SubmitError::Duplicate(Box::new(ticket))
    }

    /// Makes an acknowledged submit visible: the record, and for a queued
    /// ticket its work-list and deadline entries.
    pub(super) fn finish(&self, pending: Pending) -> Receipt {
        let s = &*self.shared;
        let Pending {
            key,
            mut guard,
            record,
            place,
            receipt,
        } = pending;
        if let Place::Queued { queued: seq, queue } = place {
            queue.list.push(Entry {
                priority: receipt.priority,
                received_at: record.received_at(),
                seq,
                ticket: key.clone(),
                version: record.version(),
            });
            s.deadlines.insert(receipt.deadline, seq, key);
            guard.due = Some((receipt.deadline, seq));
        }
        guard.record = Some(record);
        receipt
    }

    /// Undoes a refused submit: frees its id, its capacity and its place in
    /// an incident, hands the ticket back. (The linker is not told: a head
    /// it names that is not here is dropped from it at the next link, see
    /// [`Linker::closed`](super::Linker::closed).)
    pub(super) fn abort(&self, pending: Pending, error: SinkError) -> SubmitError {
        let s = &*self.shared;
        let slot = ArcMutexGuard::mutex(&pending.guard).clone();
        s.records
            .remove_if(&pending.key, |_, v| Arc::ptr_eq(v, &slot));
        match &pending.place {
            Place::Queued { queue, .. } => {
                queue.open.fetch_sub(1, Ordering::AcqRel);
            }
            // Before the slot is let go: a head operation waiting for it
            // then finds no record, and the member gone.
            Place::Joined { head } => s.incidents.leave(head, &pending.key),
        }
        s.total.fetch_sub(1, Ordering::AcqRel);
        drop(pending.guard);
        SubmitError::Sink {
            error,
            ticket: Box::new(pending.record.into_ticket()),
        }
    }
}

impl Place {
    /// The work-list number to persist.
    fn queued(&self) -> Option<u64> {
        match self {
            Place::Queued { queued, .. } => Some(*queued),
            Place::Joined { .. } => None,
        }
    }
}

/// A new record's events, as a sink receives them.
fn events_of(record: &TicketRecord) -> Vec<Event> {
    let id = &record.ticket().id;
    record
        .history()
        .iter()
        .zip(0..)
        .map(|((at, kind), seq)| Event {
            ticket: id.clone(),
            seq,
            at: *at,
            kind: kind.clone(),
        })
        .collect()
}
