//! One incident, many callers (合并工单): tickets that report a problem
//! already open under another ticket join that ticket's incident instead of
//! becoming work items of their own.
//!
//! # What callers of the runtime see
//!
//! * A [`Linker`] (plugged in with
//!   [`DispatcherBuilder::linker`](super::DispatcherBuilder::linker)) decides
//!   at submit whether a new ticket is the same problem as an open incident.
//!   If so the ticket is [`Linked`](super::State::Linked) to the incident's
//!   first ticket, its *head*: [`Receipt::incident`] names the head, and the
//!   ticket goes on no work list and has no deadline of its own.
//! * The agency sees one work item, the head, with its caller count
//!   ([`Claim::callers`](super::Claim::callers)).
//! * Resolving the head resolves every ticket still linked to it, in the
//!   same operation; each caller is then evaluated on its own, so the 三率
//!   stay per caller. Returning or reassigning the head takes its members
//!   along: a member's agency is always its incident's, and the rates by
//!   agency credit the agency that handled it.
//! * [`Dispatcher::split`] takes a wrongly merged ticket out: it is
//!   dispatched to its own agency with its own deadline.
//! * The `Linked` event keeps the linker's reasons: a record's history says
//!   why it joined.
//!
//! Without a linker nothing of this happens: every ticket is its own work
//! item (a journal written with one still restores its incidents).
//!
//! # Locks, and why they cannot deadlock
//!
//! A member joins under its head's slot lock: it takes its own id (inserts
//! its slot, locked, into the registry) and is added to the head's members
//! while the head is locked and seen open, and it stays locked itself until
//! its submit is applied or refused. Every operation that changes the head
//! for its members (resolve, return, reassign) holds the head's lock and
//! then locks the members it finds, so it either sees a new member (and
//! waits for its submit to finish) or runs entirely before the member looks
//! at the head (and the member then sees the head closed, or its new
//! agency). No member is ever left linked to a resolved head.
//!
//! The lock order:
//!
//! 1. A thread that holds a slot waits for another slot in one case only:
//!    an operation on a head waits for the head's members. Members join a
//!    head after the head's record exists, so these waits go from older to
//!    strictly younger tickets and cannot close a cycle (a member split off
//!    can head an incident of its own, whose members are younger still).
//! 2. A submit waits for a head's lock holding no slot at all: it asks for
//!    the head before it takes its own id. A batch ([`submit_many`]) that
//!    already holds its earlier tickets only *tries* the head's lock; if it
//!    is busy, the batch persists what it holds first, then waits. A submit
//!    from a [`for_each_record`](Dispatcher::for_each_record) callback
//!    (which holds the ticket it was handed) never waits: with the head
//!    busy, the ticket stands alone.
//! 3. The incidents map's lock and the linker's lock are leaves: nothing is
//!    locked or awaited (no slot, no sink) while either is held.
//!
//! Since nobody waits for a slot while holding a younger one, and a
//! waiting submit holds nothing, the waits-for graph has no cycle.
//!
//! [`Receipt::incident`]: super::Receipt::incident
//! [`submit_many`]: Dispatcher::submit_many

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use jiff::Timestamp;
use parking_lot::{ArcMutexGuard, Mutex, RawMutex};
use smallvec::{smallvec, SmallVec};

use super::lifecycle::{Event, EventKind, Link, State, TicketRecord};
use super::sink::{self, Change};
use super::submit::{Admitted, HeadLock, Pending, Place};
use super::types::{OpError, Receipt, SubmitError};
use super::{Dispatcher, Hasher, Held, TicketId, WorkerId};
use crate::rules::Priority;

/// One incident as [`Dispatcher::incident`] sees it.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{DispatchConfig, Dispatcher, SystemClock};
/// use hotline_router::{Router, Ticket};
///
/// // Without a linker a ticket is an incident of one.
/// let d = Dispatcher::new(Router::beijing(), DispatchConfig::default(), SystemClock);
/// d.submit(Ticket::new("T1", "挪车").with_address("海淀区学院路街道")).unwrap();
/// let view = d.incident("T1").unwrap();
/// assert_eq!((view.head.as_str(), view.callers(), view.open), ("T1", 1, true));
/// assert_eq!(view.agency, "street:110108010");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentView {
    /// The incident's first ticket: the work item.
    pub head: String,
    /// The tickets linked to it (and resolved with it), in the order they
    /// were received (ties by id); split-off tickets are not among them.
    pub members: Vec<String>,
    /// Whether the head is still open.
    pub open: bool,
    /// The agency handling it.
    pub agency: String,
}

impl IncidentView {
    /// How many callers reported it: the head's and the members'.
    pub fn callers(&self) -> usize {
        1 + self.members.len()
    }
}

/// The members of every incident that has any: head → (received at,
/// member). Entries are made when a first member joins, and leave with a
/// purged head.
#[derive(Default)]
pub(super) struct Incidents {
    /// Set once the first member joins, never cleared: a runtime that never
    /// had an incident skips the lock on every resolve and move. Written
    /// under the head's slot lock, which its readers hold too.
    active: AtomicBool,
    map: Mutex<MemberMap>,
}

/// Head → (received at, member) of each member.
pub(super) type MemberMap = HashMap<Arc<str>, Vec<(Timestamp, Arc<str>)>, Hasher>;

impl Incidents {
    pub(super) fn join(&self, head: &Arc<str>, member: Arc<str>, received_at: Timestamp) {
        self.map
            .lock()
            .entry(head.clone())
            .or_default()
            .push((received_at, member));
        self.active.store(true, Ordering::Release);
    }

    pub(super) fn leave(&self, head: &str, member: &str) {
        let mut map = self.map.lock();
        if let Some(members) = map.get_mut(head) {
            members.retain(|(_, m)| &**m != member);
            if members.is_empty() {
                map.remove(head);
            }
        }
    }

    /// The members of `head`'s incident, as they are now.
    fn members(&self, head: &str) -> Vec<Arc<str>> {
        if !self.active.load(Ordering::Acquire) {
            return Vec::new();
        }
        self.map.lock().get(head).map_or_else(Vec::new, |members| {
            members.iter().map(|(_, m)| m.clone()).collect()
        })
    }

    /// 1 + the members of `head`'s incident.
    pub(super) fn callers(&self, head: &str) -> u32 {
        let members = if self.active.load(Ordering::Acquire) {
            self.map.lock().get(head).map_or(0, Vec::len)
        } else {
            0
        };
        u32::try_from(members).map_or(u32::MAX, |n| n.saturating_add(1))
    }

    /// Drops purged tickets: as heads and as members.
    pub(super) fn forget<'a>(&self, purged: impl Iterator<Item = &'a Arc<str>>) {
        if !self.active.load(Ordering::Acquire) {
            return;
        }
        let purged: HashSet<&str> = purged.map(|k| &**k).collect();
        self.map.lock().retain(|head, members| {
            members.retain(|(_, m)| !purged.contains(&**m));
            !purged.contains(&**head) && !members.is_empty()
        });
    }

    fn sorted(&self, head: &str) -> Vec<String> {
        let mut members = self.map.lock().get(head).cloned().unwrap_or_default();
        members.sort_unstable();
        members.into_iter().map(|(_, m)| m.to_string()).collect()
    }

    /// Sets the map as a restore found it.
    pub(super) fn install(&self, map: MemberMap) {
        self.active.store(!map.is_empty(), Ordering::Release);
        *self.map.lock() = map;
    }
}

/// A member's event when its head moved to `agency`.
pub(super) fn follow(
    head: &str,
    agency: &str,
    priority: Priority,
    deadline: Timestamp,
) -> EventKind {
    EventKind::Linked(Box::new(Link {
        incident: head.to_string(),
        agency: agency.to_string(),
        priority,
        deadline,
        reasons: vec![format!("followed its incident's head {head} to {agency}")],
    }))
}

/// What `join` did with a ticket the linker put in an incident.
pub(super) enum Joined {
    Pending(Pending),
    Refused(SubmitError),
    /// The head is busy and the caller said not to wait.
    Busy(Box<Admitted>),
    /// Not let in: it stands alone (the linker was told).
    Alone(Admitted),
}

/// Why a head named by the linker does not take a new member.
enum Verdict {
    /// The head, its agency, priority and deadline.
    Open(String, Priority, Timestamp),
    /// Closed, or not a ticket here: the linker should drop it.
    Gone,
    /// Linked itself, or less urgent than the newcomer.
    Refused,
}

/// One ticket's share of an operation on several tickets.
pub(super) struct Part<'a> {
    pub(super) record: &'a mut TicketRecord,
    pub(super) kinds: SmallVec<[EventKind; 2]>,
    pub(super) queued: Option<u64>,
}

impl Dispatcher {
    /// A ticket the linker put in `admitted.link`'s incident: its id is
    /// taken, and it joins, under the head's lock, if the head is open.
    pub(super) fn join(&self, mut admitted: Admitted, now: Timestamp, how: HeadLock) -> Joined {
        let Some((head, reasons)) = admitted.link.take() else {
            return Joined::Alone(admitted);
        };
        let id = admitted.ticket.id.clone();
        if head == id {
            self.unlinked(&id, None);
            return Joined::Alone(admitted);
        }
        let Some(slot) = self.slot(&head) else {
            self.unlinked(&id, Some(&head));
            return Joined::Alone(admitted);
        };
        let guard = match how {
            HeadLock::Wait => slot.lock_arc(),
            HeadLock::Try | HeadLock::TryOrAlone => match slot.try_lock_arc() {
                Some(guard) => guard,
                None if how == HeadLock::Try => {
                    admitted.link = Some((head, reasons));
                    return Joined::Busy(Box::new(admitted));
                }
                None => {
                    self.unlinked(&id, None);
                    return Joined::Alone(admitted);
                }
            },
        };
        let verdict = match &guard.record {
            None => Verdict::Gone,
            Some(r) if !r.state().is_open() => Verdict::Gone,
            Some(r) if r.state() == State::Linked || admitted.priority > r.priority() => {
                Verdict::Refused
            }
            Some(r) => Verdict::Open(r.agency().to_string(), r.priority(), r.deadline()),
        };
        let (agency, priority, deadline) = match verdict {
            Verdict::Open(agency, priority, deadline) => (agency, priority, deadline),
            gone_or_refused => {
                drop(guard);
                let gone = matches!(gone_or_refused, Verdict::Gone);
                self.unlinked(&id, gone.then_some(head.as_str()));
                return Joined::Alone(admitted);
            }
        };
        let key: Arc<str> = Arc::from(id.as_str());
        let Some(own) = self.take_id(&key) else {
            drop(guard);
            return Joined::Refused(self.refuse_duplicate(admitted.ticket, &admitted.queue));
        };
        let head_key: Arc<str> = Arc::from(head.as_str());
        let received_at = admitted.ticket.received_at.unwrap_or(now);
        self.shared
            .incidents
            .join(&head_key, key.clone(), received_at);
        drop(guard);
        // A member is no work item: it holds no place on its agency's list.
        admitted.queue.open.fetch_sub(1, Ordering::AcqRel);
        let mut record = TicketRecord::start(now, Arc::new(admitted.ticket), admitted.routing);
        let link = Link {
            incident: head.clone(),
            agency: agency.clone(),
            priority,
            deadline,
            reasons,
        };
        record
            .apply_owned(now, EventKind::Linked(Box::new(link)))
            .expect("a fresh record accepts Linked");
        Joined::Pending(Pending {
            receipt: Receipt {
                id: id.into(),
                agency: agency.into(),
                priority,
                deadline,
                incident: Some(head.into()),
            },
            key,
            guard: own,
            record,
            place: Place::Joined { head: head_key },
        })
    }

    /// Tells the linker that `ticket` stands alone, and that `gone` (the
    /// head it named) is closed or not here.
    fn unlinked(&self, ticket: &str, gone: Option<&str>) {
        if let Some(linker) = &self.shared.linker {
            let mut linker = linker.lock();
            if let Some(head) = gone {
                linker.closed(head);
            }
            linker.split(ticket);
        }
    }

    /// Tells the linker that `head`'s incident was resolved.
    pub(super) fn closed(&self, head: &str) {
        if let Some(linker) = &self.shared.linker {
            linker.lock().closed(head);
        }
    }

    /// Commits an operation on `head` (its slot held by the caller) and, in
    /// the same sink call, `follow`'s event for each ticket still linked to
    /// it. Without members it is [`commit`](Self::commit).
    pub(super) fn commit_incident(
        &self,
        head: &str,
        record: &mut TicketRecord,
        now: Timestamp,
        kinds: SmallVec<[EventKind; 2]>,
        queued: Option<u64>,
        follow: impl Fn(&TicketRecord) -> EventKind,
    ) -> Result<(), OpError> {
        let members = self.shared.incidents.members(head);
        if members.is_empty() {
            return self.commit(record, now, kinds, queued);
        }
        // Refused before waiting for anyone.
        record.check_all(&kinds)?;
        let mut guards = self.lock_members(head, &members);
        let mut parts = Vec::with_capacity(1 + guards.len());
        parts.push(Part {
            record,
            kinds,
            queued,
        });
        for guard in &mut guards {
            if let Some(member) = guard.record.as_mut() {
                let kind = follow(member);
                parts.push(Part {
                    record: member,
                    kinds: smallvec![kind],
                    queued: None,
                });
            }
        }
        self.commit_group(now, &mut parts)
    }

    /// Locks the tickets of `members` that are still linked to `head`
    /// (head → members is the lock order).
    fn lock_members(&self, head: &str, members: &[Arc<str>]) -> Vec<ArcMutexGuard<RawMutex, Held>> {
        members
            .iter()
            .filter_map(|m| {
                let guard = self.slot(m)?.lock_arc();
                let linked = guard
                    .record
                    .as_ref()
                    .is_some_and(|r| r.state() == State::Linked && r.incident() == Some(head));
                linked.then_some(guard)
            })
            .collect()
    }

    /// Persists one operation's events on several tickets in one sink call
    /// (one change per ticket, in order: the head first), then applies
    /// them; refused as a whole, and then nothing changed.
    pub(super) fn commit_group(
        &self,
        now: Timestamp,
        parts: &mut [Part<'_>],
    ) -> Result<(), OpError> {
        for part in parts.iter() {
            part.record.check_all(&part.kinds)?;
        }
        if let Some(sink) = &self.shared.sink {
            let events: Vec<SmallVec<[Event; 2]>> = parts
                .iter()
                .map(|part| {
                    let ticket = &part.record.ticket().id;
                    part.kinds
                        .iter()
                        .zip(part.record.next_seq()..)
                        .map(|(kind, seq)| Event {
                            ticket: ticket.clone(),
                            seq,
                            at: now,
                            kind: kind.clone(),
                        })
                        .collect()
                })
                .collect();
            let changes: Vec<Change<'_>> = events
                .iter()
                .zip(parts.iter())
                .map(|(events, part)| Change::Events {
                    events,
                    queued: part.queued,
                })
                .collect();
            sink::persist(&**sink, &changes).map_err(OpError::Sink)?;
        }
        for part in parts.iter_mut() {
            for kind in part.kinds.drain(..) {
                part.record.apply_owned(now, kind)?;
            }
            if let Some(queued) = part.queued {
                part.record.queued = queued;
            }
        }
        Ok(())
    }

    /// Takes a ticket out of the incident it was linked to (a wrong merge):
    /// it is dispatched to its own agency — the router's choice for it now,
    /// as a return is — with its own priority and deadline (from its own
    /// time of receipt, as at submit), and queued. The linker is told.
    ///
    /// # Errors
    ///
    /// [`OpError::NotLinked`] for a ticket that is not linked to another's
    /// open incident (a head, a ticket alone, a closed one); unknown
    /// ticket; the sink.
    ///
    /// # Examples
    ///
    /// See `tests/dispatch_incidents.rs`; without a linker nothing is
    /// linked, so nothing can be split:
    ///
    /// ```
    /// use hotline_router::dispatch::{DispatchConfig, Dispatcher, OpError, SystemClock};
    /// use hotline_router::{Router, Ticket};
    ///
    /// let d = Dispatcher::new(Router::beijing(), DispatchConfig::default(), SystemClock);
    /// d.submit(Ticket::new("T1", "挪车").with_address("海淀区学院路街道")).unwrap();
    /// assert_eq!(d.split("T1", "lead", "not the same"), Err(OpError::NotLinked("T1".into())));
    /// ```
    pub fn split(
        &self,
        id: impl Into<TicketId>,
        by: impl Into<WorkerId>,
        reason: &str,
    ) -> Result<Receipt, OpError> {
        let (id, by) = (id.into(), by.into());
        let (id, by) = (id.as_str(), by.as_str());
        self.on_record(id, |d, record, due, now| {
            let head = match (record.state(), record.incident()) {
                (State::Linked, Some(head)) => head.to_string(),
                _ => return Err(OpError::NotLinked(id.to_string())),
            };
            let (agency, priority, deadline) = d.own_dispatch(record);
            let split = EventKind::Split {
                by: by.to_string(),
                reason: reason.to_string(),
            };
            let dispatched = EventKind::Dispatched {
                agency: agency.clone(),
                priority,
                deadline,
            };
            let queued = d.shared.seq.fetch_add(1, Ordering::Relaxed);
            d.commit(record, now, smallvec![split, dispatched], Some(queued))?;
            let key: Arc<str> = Arc::from(id);
            d.queue(&agency).open.fetch_add(1, Ordering::AcqRel);
            d.shared.deadlines.insert(deadline, queued, key.clone());
            *due = Some((deadline, queued));
            d.requeue(&key, record);
            d.shared.incidents.leave(&head, id);
            if let Some(linker) = &d.shared.linker {
                linker.lock().split(id);
            }
            Ok(Receipt {
                id: key.into(),
                agency: agency.into(),
                priority,
                deadline,
                incident: None,
            })
        })
    }

    /// Where a ticket goes on its own, as at submit: the router's choice
    /// now, its priority and its deadline from its own time of receipt
    /// (the rules' triage if the router no longer takes it).
    pub(super) fn own_dispatch(&self, record: &TicketRecord) -> (String, Priority, Timestamp) {
        match self.router().route(record.ticket()) {
            Ok(d) => (d.agency_code().to_string(), d.priority(), d.deadline()),
            Err(_) => (self.triage_code(), Priority::Normal, record.received_at()),
        }
    }

    /// The incident `id` belongs to: the one it is linked to, else the one
    /// it heads (a ticket alone heads an incident of one). `None` for an
    /// unknown ticket, or one whose head was purged.
    pub fn incident(&self, id: impl Into<TicketId>) -> Option<IncidentView> {
        let id = id.into();
        let id = id.as_str();
        let head: Arc<str> = {
            let slot = self.slot(id)?;
            let held = slot.lock();
            let record = held.record.as_ref()?;
            Arc::from(record.incident().unwrap_or(id))
        };
        let slot = self.slot(&head)?;
        let held = slot.lock();
        let record = held.record.as_ref()?;
        Some(IncidentView {
            head: head.to_string(),
            members: self.shared.incidents.sorted(&head),
            open: record.state().is_open(),
            agency: record.agency().to_string(),
        })
    }

    /// How many callers reported the incident `id` belongs to (see
    /// [`incident`](Self::incident)): 1 plus its members. `None` for an
    /// unknown ticket.
    pub fn callers(&self, id: impl Into<TicketId>) -> Option<u32> {
        self.incident(id)
            .map(|view| u32::try_from(view.callers()).unwrap_or(u32::MAX))
    }
}
