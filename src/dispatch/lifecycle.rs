//! The ticket lifecycle (接、派、办、评) as an explicit state machine.
//!
//! Every change to a ticket is an [`Event`]; [`TicketRecord::apply`] is the
//! one place that decides whether an event is legal in the current state and
//! what it changes. The live runtime and the rebuild from persisted events
//! both go through it, so they cannot disagree.
//!
//! ```text
//!            submit                claim             respond            resolve          evaluate
//! (none) ─► Received ─► Dispatched ───► Claimed ─────────► Responded ────────► Resolved ─────► Evaluated
//!             │            ▲   ▲           │  │ lease expires    │                ▲
//!             │            │   └───────────┘  └───────┬──────────┘                │
//!             │            ├──── return (re-routed) / reassign ─┘                 │
//!             │            │ split                         resolved with its head │
//!             └ join ─► Linked ───────────────────────────────────────────────────┘
//!                     ⟲ follows its head when the head is returned or reassigned:
//!                       the same incident, the new agency
//! ```
//!
//! Escalation (past the deadline) is a flag on an open ticket, not a state:
//! the ticket stays on its work list and visible.
//!
//! **Incidents.** A ticket that reports a problem already open under another
//! ticket (its *head*) joins that incident instead of being dispatched: it is
//! [`Linked`](State::Linked) — open, its caller still to be called back, but
//! on no work list and with no deadline or escalation of its own (the head's
//! deadline governs). It follows the head: when the head moves, a new
//! [`EventKind::Linked`] carries the new agency, so a member's
//! [`agency`](TicketRecord::agency) is always its incident's; when the head is
//! resolved, the member is resolved with it (same worker and outcome), and is
//! then evaluated on its own like any ticket. [`EventKind::Split`] takes a
//! wrongly merged ticket out: a `Dispatched` to its own agency follows.

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

pub use super::events::{Evaluation, Event, EventKind, Link, Routing};
use crate::rules::Priority;
use crate::ticket::Ticket;

/// Where a ticket is in its lifecycle.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::State;
///
/// assert!(State::Claimed.is_open());
/// assert!(State::Linked.is_open(), "a linked caller still waits for the answer");
/// assert!(!State::Resolved.is_open());
/// assert_eq!(State::Dispatched.as_str(), "dispatched");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum State {
    /// Taken in, not yet on a work list (only between two events of one submit).
    Received,
    /// On its agency's work list, waiting to be claimed.
    Dispatched,
    /// Claimed by a worker under a lease.
    Claimed,
    /// The worker has contacted the caller.
    Responded,
    /// The agency says it is handled.
    Resolved,
    /// The caller was called back and evaluated the handling.
    Evaluated,
    /// Joined another ticket's open incident (合并工单): handled with it, on
    /// no work list of its own; resolved when its head is.
    Linked,
}

impl State {
    /// Whether the ticket still needs handling. Open tickets count against
    /// capacity and deadlines, except [`Linked`](State::Linked) ones: their
    /// incident's head does.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            State::Received | State::Dispatched | State::Claimed | State::Responded | State::Linked
        )
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Received => "received",
            State::Dispatched => "dispatched",
            State::Claimed => "claimed",
            State::Responded => "responded",
            State::Resolved => "resolved",
            State::Evaluated => "evaluated",
            State::Linked => "linked",
        }
    }
}

/// An event that is not legal in the ticket's current state.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{State, TransitionError};
///
/// let e = TransitionError { ticket: "T1".into(), state: State::Dispatched, event: "resolved" };
/// assert_eq!(e.to_string(), "ticket T1 is dispatched: cannot apply resolved");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("ticket {ticket} is {}: cannot apply {event}", state.as_str())]
pub struct TransitionError {
    /// The ticket id.
    pub ticket: String,
    /// Its state.
    pub state: State,
    /// The event that was refused.
    pub event: &'static str,
}

/// Everything known about one ticket, derived from its events only.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{Event, EventKind, Routing, State, TicketRecord};
/// use hotline_router::{Priority, Ticket};
///
/// let at: jiff::Timestamp = "2024-11-20T08:00:00Z".parse().unwrap();
/// let received = EventKind::Received {
///     ticket: std::sync::Arc::new(Ticket::new("T1", "暖气不热").with_received_at(at)),
///     routing: Routing { category: "heating".into(), district: None, street: None },
/// };
/// let mut r = TicketRecord::new(&Event { ticket: "T1".into(), seq: 0, at, kind: received }).unwrap();
/// r.apply(at, &EventKind::Dispatched { agency: "center:triage".into(), priority: Priority::Normal, deadline: at }).unwrap();
/// assert_eq!(r.state(), State::Dispatched);
/// assert!(r.apply(at, &EventKind::Responded { worker: "w".into() }).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct TicketRecord {
    // The ticket and its routing live once, in the `Received` event at
    // `history[0]`.
    state: State,
    agency: String,
    priority: Priority,
    deadline: Timestamp,
    worker: Option<String>,
    lease_until: Option<Timestamp>,
    returned_from: SmallVec<[String; 2]>,
    escalated: bool,
    dispatched_at: Timestamp,
    responded_at: Option<Timestamp>,
    resolved_at: Option<Timestamp>,
    evaluation: Option<Evaluation>,
    /// Bumped at every dispatch, so stale work-list entries can be told apart.
    version: u32,
    /// Returns plus reassignments so far.
    moves: u32,
    /// The runtime's number for its latest place on a work list: the
    /// tie-break between equal times, kept across snapshots. Not an event.
    pub(crate) queued: u64,
    history: Vec<(Timestamp, EventKind)>,
}

impl TicketRecord {
    /// Starts a record from its `Received` event.
    ///
    /// # Errors
    ///
    /// If the event is not `Received`.
    pub fn new(event: &Event) -> Result<TicketRecord, TransitionError> {
        let EventKind::Received { .. } = &event.kind else {
            return Err(TransitionError {
                ticket: event.ticket.clone(),
                state: State::Received,
                event: event.kind.name(),
            });
        };
        Ok(TicketRecord {
            state: State::Received,
            agency: String::new(),
            priority: Priority::Normal,
            deadline: event.at,
            worker: None,
            lease_until: None,
            returned_from: SmallVec::new(),
            escalated: false,
            dispatched_at: event.at,
            responded_at: None,
            resolved_at: None,
            evaluation: None,
            version: 0,
            moves: 0,
            queued: 0,
            history: vec![(event.at, event.kind.clone())],
        })
    }

    /// Applies one event, or refuses it without changing anything.
    ///
    /// # Errors
    ///
    /// A [`TransitionError`] when the event is illegal in the current state.
    pub fn apply(&mut self, at: Timestamp, kind: &EventKind) -> Result<(), TransitionError> {
        self.check(kind)?;
        self.update(at, kind);
        self.history.push((at, kind.clone()));
        Ok(())
    }

    /// [`apply`](Self::apply) taking the event by value: the runtime's hot
    /// path keeps it without a copy.
    pub(crate) fn apply_owned(
        &mut self,
        at: Timestamp,
        kind: EventKind,
    ) -> Result<(), TransitionError> {
        self.check(&kind)?;
        self.update(at, &kind);
        self.history.push((at, kind));
        Ok(())
    }

    /// Starts a record from a `Received` event taken by value.
    pub(crate) fn start(at: Timestamp, ticket: Arc<Ticket>, routing: Routing) -> TicketRecord {
        let mut record = TicketRecord {
            state: State::Received,
            agency: String::new(),
            priority: Priority::Normal,
            deadline: at,
            worker: None,
            lease_until: None,
            returned_from: SmallVec::new(),
            escalated: false,
            dispatched_at: at,
            responded_at: None,
            resolved_at: None,
            evaluation: None,
            version: 0,
            moves: 0,
            queued: 0,
            // Received and Dispatched at submit; most tickets wait on a list
            // a while, so grow only when they move (memory per queued ticket
            // is what bounds a replay of a peak day).
            history: Vec::with_capacity(2),
        };
        record
            .history
            .push((at, EventKind::Received { ticket, routing }));
        record
    }

    /// Rebuilds a record from a history (as [`history`](Self::history)
    /// returns it), checking every step.
    ///
    /// # Errors
    ///
    /// An empty history, a first event that is not `Received`, a ticket id
    /// other than `id`, or an illegal transition.
    pub fn from_history(
        id: &str,
        history: impl IntoIterator<Item = (Timestamp, EventKind)>,
    ) -> Result<TicketRecord, TransitionError> {
        let mut history = history.into_iter();
        let refuse = |event: &'static str| TransitionError {
            ticket: id.to_string(),
            state: State::Received,
            event,
        };
        let (at, first) = history.next().ok_or(refuse("an empty history"))?;
        let EventKind::Received { ticket, routing } = first else {
            return Err(refuse(first.name()));
        };
        if ticket.id != id {
            return Err(refuse("a Received event of another ticket"));
        }
        let mut record = TicketRecord::start(at, ticket, routing);
        for (at, kind) in history {
            record.apply_owned(at, kind)?;
        }
        Ok(record)
    }

    /// Whether the events of one operation are legal in order: the first
    /// against the current state, and a `Dispatched` after it only to
    /// complete a return or reassignment. (A submit's two events are built
    /// on a fresh record, not checked here.)
    pub(crate) fn check_all(&self, kinds: &[EventKind]) -> Result<(), TransitionError> {
        let Some((first, rest)) = kinds.split_first() else {
            return Ok(());
        };
        self.check(first)?;
        let completes = matches!(
            first,
            EventKind::Returned { .. } | EventKind::Reassigned { .. } | EventKind::Split { .. }
        );
        match rest {
            [] => Ok(()),
            [EventKind::Dispatched { .. }] if completes => Ok(()),
            [other, ..] => Err(TransitionError {
                ticket: self.ticket().id.clone(),
                state: self.state,
                event: other.name(),
            }),
        }
    }

    /// The submitted ticket back, out of a record that was never stored.
    pub(crate) fn into_ticket(mut self) -> Ticket {
        match self.history.swap_remove(0).1 {
            EventKind::Received { ticket, .. } => Arc::unwrap_or_clone(ticket),
            _ => unreachable!("a record's first event is Received"),
        }
    }

    /// Whether `kind` is legal now.
    pub(crate) fn check(&self, kind: &EventKind) -> Result<(), TransitionError> {
        use EventKind as E;
        use State as S;
        let refuse = || TransitionError {
            ticket: self.ticket().id.clone(),
            state: self.state,
            event: kind.name(),
        };
        // After a Returned, Reassigned or Split event the ticket is between
        // agencies: only a Dispatched may follow.
        let between = matches!(
            self.history.last(),
            Some((
                _,
                E::Returned { .. } | E::Reassigned { .. } | E::Split { .. }
            ))
        );
        match (self.state, kind) {
            (S::Received, E::Dispatched { .. } | E::Linked(_)) => {}
            (_, E::Dispatched { .. }) if between => {}
            _ if between => return Err(refuse()),
            (S::Dispatched, E::Claimed { .. }) => {}
            (S::Claimed, E::LeaseExpired) => {}
            (S::Claimed, E::Responded { .. }) => {}
            (S::Claimed | S::Responded, E::Resolved { .. }) => {}
            (S::Claimed | S::Responded, E::Returned { .. }) => {}
            (S::Dispatched | S::Claimed | S::Responded, E::Reassigned { .. }) => {}
            (S::Dispatched | S::Claimed | S::Responded, E::Escalated) if !self.escalated => {}
            (S::Resolved, E::Evaluated { .. }) => {}
            // A member follows its own head only.
            (S::Linked, E::Linked(link)) if self.incident() == Some(link.incident.as_str()) => {}
            (S::Linked, E::Split { .. } | E::Resolved { .. }) => {}
            _ => return Err(refuse()),
        }
        Ok(())
    }

    /// What a legal event changes (history aside).
    fn update(&mut self, at: Timestamp, kind: &EventKind) {
        use EventKind as E;
        use State as S;
        match kind {
            // Refused by the legality match above; nothing to change.
            E::Received { .. } => {}
            E::Dispatched {
                agency,
                priority,
                deadline,
            } => {
                self.state = S::Dispatched;
                self.agency.clone_from(agency);
                self.priority = *priority;
                self.deadline = *deadline;
                self.worker = None;
                self.lease_until = None;
                self.dispatched_at = at;
                self.version += 1;
            }
            E::Claimed {
                worker,
                lease_until,
            } => {
                self.state = S::Claimed;
                self.worker = Some(worker.clone());
                self.lease_until = Some(*lease_until);
            }
            E::LeaseExpired => {
                self.state = S::Dispatched;
                self.worker = None;
                self.lease_until = None;
                self.version += 1;
            }
            E::Responded { .. } => {
                self.state = S::Responded;
                self.lease_until = None;
                self.responded_at = Some(at);
            }
            E::Resolved { worker, .. } => {
                if self.state == S::Linked {
                    // Resolved with its head, by the head's worker.
                    self.worker = Some(worker.clone());
                }
                self.state = S::Resolved;
                self.lease_until = None;
                self.resolved_at = Some(at);
            }
            E::Linked(link) => {
                self.state = S::Linked;
                self.agency.clone_from(&link.agency);
                self.priority = link.priority;
                self.deadline = link.deadline;
                self.dispatched_at = at;
            }
            // Still linked until the Dispatched that completes the split.
            E::Split { .. } => {}
            E::Returned { .. } => {
                self.returned_from.push(self.agency.clone());
                self.lease_until = None;
                self.moves += 1;
            }
            E::Reassigned { .. } => {
                self.lease_until = None;
                self.moves += 1;
            }
            E::Escalated => self.escalated = true,
            E::Evaluated {
                responded,
                resolved,
                satisfied,
            } => {
                self.state = S::Evaluated;
                self.evaluation = Some(Evaluation {
                    responded: *responded,
                    resolved: *resolved,
                    satisfied: *satisfied,
                });
            }
        }
    }

    /// The ticket as submitted.
    pub fn ticket(&self) -> &Ticket {
        self.received().0
    }

    /// The ticket as submitted, shared.
    pub fn ticket_arc(&self) -> &Arc<Ticket> {
        self.received().0
    }
    /// When the ticket was received: its own time, else the time of its
    /// `Received` event (a dispatcher stamps a ticket without one).
    pub fn received_at(&self) -> Timestamp {
        self.ticket().received_at.unwrap_or(self.history[0].0)
    }
    /// What the router made of it.
    pub fn routing(&self) -> &Routing {
        self.received().1
    }

    fn received(&self) -> (&Arc<Ticket>, &Routing) {
        match &self.history[0].1 {
            EventKind::Received { ticket, routing } => (ticket, routing),
            // Records start only from a Received event (`new`, `start`) and
            // history only grows.
            _ => unreachable!("a record's first event is Received"),
        }
    }
    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }
    /// The agency holding it (empty before the first dispatch).
    pub fn agency(&self) -> &str {
        &self.agency
    }
    /// Urgent or normal.
    pub fn priority(&self) -> Priority {
        self.priority
    }
    /// When it must be handled by.
    pub fn deadline(&self) -> Timestamp {
        self.deadline
    }
    /// The worker holding the claim, if claimed or responded.
    pub fn worker(&self) -> Option<&str> {
        self.worker.as_deref()
    }
    /// When the current claim lapses, if claimed.
    pub fn lease_until(&self) -> Option<Timestamp> {
        self.lease_until
    }
    /// The agencies that returned it, in order.
    pub fn returned_from(&self) -> &[String] {
        &self.returned_from
    }
    /// Whether it went past its deadline while open.
    pub fn is_escalated(&self) -> bool {
        self.escalated
    }
    /// When it was last put on a work list (or joined, or followed, an
    /// incident).
    pub fn dispatched_at(&self) -> Timestamp {
        self.dispatched_at
    }
    /// When the caller was first contacted.
    pub fn responded_at(&self) -> Option<Timestamp> {
        self.responded_at
    }
    /// When it was resolved.
    pub fn resolved_at(&self) -> Option<Timestamp> {
        self.resolved_at
    }
    /// The call-back's answers.
    pub fn evaluation(&self) -> Option<Evaluation> {
        self.evaluation
    }
    /// Every event so far, time-stamped, in order.
    pub fn history(&self) -> &[(Timestamp, EventKind)] {
        &self.history
    }
    /// How many times it was returned or reassigned.
    pub fn moves(&self) -> u32 {
        self.moves
    }
    /// The head of the incident it joined (the incident's first ticket), if
    /// it joined one and was not split off since: while
    /// [`Linked`](State::Linked), and after it was resolved with its head.
    /// `None` for a ticket that is its own work item, a head included.
    pub fn incident(&self) -> Option<&str> {
        // Derived, not stored: a field would cost every record its size, and
        // only members' short histories have anything to find.
        self.history.iter().rev().find_map(|(_, kind)| match kind {
            EventKind::Linked(link) => Some(Some(link.incident.as_str())),
            EventKind::Split { .. } => Some(None),
            _ => None,
        })?
    }
    pub(crate) fn version(&self) -> u32 {
        self.version
    }
    /// The next event's sequence number.
    pub(crate) fn next_seq(&self) -> u32 {
        self.history.len() as u32
    }
}
