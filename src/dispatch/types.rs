//! The runtime's public value types: configuration, receipts, claims,
//! errors and counts.

use super::ids::{AgencyCode, TicketId};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::lifecycle::{State, TransitionError};
use super::sink::SinkError;
#[cfg(doc)]
use super::Dispatcher;
use crate::error::TicketError;
use crate::rules::Priority;
use crate::ticket::Ticket;

/// Limits and timings of a [`Dispatcher`].
///
/// # Examples
///
/// Start from the defaults and change what differs; the fields stay
/// readable, and new ones may be added (the struct is `#[non_exhaustive]`).
///
/// ```
/// use hotline_router::dispatch::{DispatchConfig, Dispatcher, SystemClock};
/// use hotline_router::jiff::SignedDuration;
/// use hotline_router::Router;
///
/// let config = DispatchConfig::default()
///     .max_returns(3)
///     .lease(SignedDuration::from_mins(10));
/// assert_eq!((config.max_returns, config.capacity_total), (3, 700_000));
/// let d = Dispatcher::new(Router::beijing(), config, SystemClock);
/// assert_eq!(d.counts().total, 0);
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct DispatchConfig {
    /// Most open tickets one agency may hold; a submit beyond it is refused.
    pub capacity_per_agency: usize,
    /// Most tickets the registry holds (open and closed: 10 × a 70k day by
    /// default); closed ones can be dropped with [`Dispatcher::purge_closed`].
    pub capacity_total: usize,
    /// How long a claim lasts unless the worker responds or resolves.
    pub lease: SignedDuration,
    /// After this many returns (退单) a ticket goes to `center:triage`.
    pub max_returns: u32,
    /// Most moves (returns plus reassignments) one ticket may make; the next
    /// is refused with [`OpError::TooManyMoves`]. Bounds a ticket's history:
    /// besides moves it grows only by claims, and a claim lasts a lease.
    pub max_moves: u32,
    /// How far before the runtime's clock a caller's `received_at` may be
    /// (a ticket taken during an outage and submitted later); older is
    /// refused with [`SubmitError::ReceivedAt`] rather than let it jump the
    /// queue.
    pub max_backdate: SignedDuration,
    /// How far after the runtime's clock a caller's `received_at` may be
    /// (clock skew between the caller and the runtime).
    pub max_ahead: SignedDuration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            capacity_per_agency: 100_000,
            capacity_total: 700_000,
            lease: SignedDuration::from_mins(30),
            max_returns: 2,
            max_moves: 32,
            max_backdate: SignedDuration::from_hours(7 * 24),
            max_ahead: SignedDuration::from_mins(10),
        }
    }
}

impl DispatchConfig {
    /// Sets [`capacity_per_agency`](DispatchConfig::capacity_per_agency).
    #[must_use]
    pub fn capacity_per_agency(mut self, capacity_per_agency: usize) -> Self {
        self.capacity_per_agency = capacity_per_agency;
        self
    }

    /// Sets [`capacity_total`](DispatchConfig::capacity_total).
    #[must_use]
    pub fn capacity_total(mut self, capacity_total: usize) -> Self {
        self.capacity_total = capacity_total;
        self
    }

    /// Sets [`lease`](DispatchConfig::lease).
    #[must_use]
    pub fn lease(mut self, lease: SignedDuration) -> Self {
        self.lease = lease;
        self
    }

    /// Sets [`max_returns`](DispatchConfig::max_returns).
    #[must_use]
    pub fn max_returns(mut self, max_returns: u32) -> Self {
        self.max_returns = max_returns;
        self
    }

    /// Sets [`max_moves`](DispatchConfig::max_moves).
    #[must_use]
    pub fn max_moves(mut self, max_moves: u32) -> Self {
        self.max_moves = max_moves;
        self
    }

    /// Sets [`max_backdate`](DispatchConfig::max_backdate).
    #[must_use]
    pub fn max_backdate(mut self, max_backdate: SignedDuration) -> Self {
        self.max_backdate = max_backdate;
        self
    }

    /// Sets [`max_ahead`](DispatchConfig::max_ahead).
    #[must_use]
    pub fn max_ahead(mut self, max_ahead: SignedDuration) -> Self {
        self.max_ahead = max_ahead;
        self
    }
}

/// What `submit` hands back: where the ticket went.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{Dispatcher, DispatchConfig, SystemClock};
/// use hotline_router::{Router, Ticket};
///
/// let d = Dispatcher::new(Router::beijing(), DispatchConfig::default(), SystemClock);
/// let r = d.submit(Ticket::new("T1", "挪车").with_address("海淀区学院路街道")).unwrap();
/// assert_eq!(r.agency, "street:110108010");
/// assert_eq!(r.incident, None, "no linker: every ticket is its own work item");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Receipt {
    /// The ticket id.
    pub id: TicketId,
    /// The agency holding it (for a ticket that joined an incident: the
    /// incident's).
    pub agency: AgencyCode,
    /// Urgent or normal.
    pub priority: Priority,
    /// When it must be handled by.
    pub deadline: Timestamp,
    /// The head (first ticket) of the incident the ticket joined instead of
    /// being queued; `None` when it is its own work item.
    pub incident: Option<TicketId>,
}

impl Receipt {
    /// A receipt for a ticket queued as its own work item (`incident`
    /// `None`): what a [`Dispatcher`] double or a test model hands back.
    ///
    /// ```
    /// use hotline_router::dispatch::Receipt;
    /// use hotline_router::{jiff::Timestamp, Priority};
    ///
    /// let r = Receipt::new("T1", "city:gas", Priority::Urgent, Timestamp::UNIX_EPOCH);
    /// assert_eq!((r.agency.as_str(), r.incident), ("city:gas", None));
    /// ```
    pub fn new(
        id: impl Into<TicketId>,
        agency: impl Into<AgencyCode>,
        priority: Priority,
        deadline: Timestamp,
    ) -> Receipt {
        Receipt {
            id: id.into(),
            agency: agency.into(),
            priority,
            deadline,
            incident: None,
        }
    }
}

/// A claimed ticket: what a worker needs to act on it.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{Dispatcher, DispatchConfig, SystemClock};
/// use hotline_router::{Router, Ticket};
///
/// let d = Dispatcher::new(Router::beijing(), DispatchConfig::default(), SystemClock);
/// d.submit(Ticket::new("T1", "挪车").with_address("海淀区学院路街道")).unwrap();
/// let claim = d.claim("street:110108010", "worker-1").unwrap().expect("a queued ticket");
/// assert_eq!(claim.id, "T1");
/// assert_eq!(claim.ticket.text, "挪车");
/// assert_eq!(claim.callers, 1);
/// ```
#[derive(Clone, Debug)]
pub struct Claim {
    /// The ticket id.
    pub id: TicketId,
    /// The ticket itself (shared with the record, not copied).
    pub ticket: Arc<Ticket>,
    /// Urgent or normal.
    pub priority: Priority,
    /// When it must be handled by.
    pub deadline: Timestamp,
    /// When the claim lapses unless acted on.
    pub lease_until: Timestamp,
    /// How many callers reported it: 1 plus the tickets linked to its
    /// incident. Resolving it resolves them all; each is called back.
    pub callers: u32,
}

/// Why a submit was refused. The ticket is handed back.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{Dispatcher, DispatchConfig, SubmitError, SystemClock};
/// use hotline_router::{Router, Ticket};
///
/// let d = Dispatcher::new(Router::beijing(), DispatchConfig::default(), SystemClock);
/// d.submit(Ticket::new("T1", "挪车")).unwrap();
/// let err = d.submit(Ticket::new("T1", "挪车")).unwrap_err();
/// assert!(matches!(err, SubmitError::Duplicate(_)));
/// assert_eq!(err.into_ticket().id, "T1");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// The ticket could not be routed.
    #[error("ticket {} refused: {error}", ticket.id)]
    Invalid {
        /// Why.
        error: TicketError,
        /// The ticket, untouched.
        ticket: Box<Ticket>,
    },
    /// A ticket with this id was already submitted.
    #[error("ticket {} was already submitted", .0.id)]
    Duplicate(Box<Ticket>),
    /// A capacity limit is reached.
    #[error("ticket {} refused: {scope} is full ({limit} tickets)", ticket.id)]
    Full {
        /// "the registry" or the agency code.
        scope: String,
        /// The limit that was reached.
        limit: usize,
        /// The ticket, untouched.
        ticket: Box<Ticket>,
    },
    /// A ticket with this id was submitted, closed and purged: ids are
    /// never reused.
    #[error("ticket {} was already submitted, closed and purged: ids are never reused", .0.id)]
    Purged(Box<Ticket>),
    /// The caller's `received_at` is too far from the runtime's clock
    /// (see [`DispatchConfig::max_backdate`] and [`DispatchConfig::max_ahead`]).
    #[error("ticket {} refused: received at {received_at}, but the runtime's clock says {now}", ticket.id)]
    ReceivedAt {
        /// The caller's time.
        received_at: Timestamp,
        /// The runtime's time.
        now: Timestamp,
        /// The ticket, untouched.
        ticket: Box<Ticket>,
    },
    /// The sink (the journal) could not make the ticket durable: it was not
    /// taken in.
    #[error("ticket {} refused: {error}", ticket.id)]
    Sink {
        /// The sink's error.
        error: SinkError,
        /// The ticket, untouched.
        ticket: Box<Ticket>,
    },
}

impl SubmitError {
    /// The refused ticket.
    pub fn into_ticket(self) -> Ticket {
        match self {
            SubmitError::Invalid { ticket, .. }
            | SubmitError::Duplicate(ticket)
            | SubmitError::Full { ticket, .. }
            | SubmitError::Purged(ticket)
            | SubmitError::ReceivedAt { ticket, .. }
            | SubmitError::Sink { ticket, .. } => *ticket,
        }
    }
}

/// Why an operation on a ticket was refused; nothing was changed.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{Dispatcher, DispatchConfig, OpError, SystemClock};
/// use hotline_router::Router;
///
/// let d = Dispatcher::new(Router::beijing(), DispatchConfig::default(), SystemClock);
/// assert!(matches!(d.respond("nope", "w"), Err(OpError::UnknownTicket(_))));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpError {
    /// No ticket has this id.
    #[error("no ticket {0}")]
    UnknownTicket(String),
    /// The ticket's state does not allow it.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Another worker (or nobody) holds the claim.
    #[error("ticket {ticket} is held by {}, not {worker}", holder.as_deref().unwrap_or("nobody"))]
    NotHolder {
        /// The ticket id.
        ticket: String,
        /// Who asked.
        worker: String,
        /// Who holds the claim.
        holder: Option<String>,
    },
    /// The agency is not one of the current router's.
    #[error("no agency {0}")]
    UnknownAgency(String),
    /// Every agency the ticket could go to has returned it, triage included:
    /// the return is refused and the holder keeps it (reassign it by hand).
    #[error("ticket {0} was returned by every agency it could go to: reassign it by hand")]
    NoAgencyLeft(String),
    /// The ticket has moved (returned or reassigned) as often as
    /// [`DispatchConfig::max_moves`] allows; its holder must handle it.
    #[error("ticket {ticket} has already moved {limit} times: its holder must handle it")]
    TooManyMoves {
        /// The ticket id.
        ticket: String,
        /// The limit.
        limit: u32,
    },
    /// The sink (the journal) could not make the operation durable: it was
    /// refused and nothing changed.
    #[error("refused, nothing changed: {0}")]
    Sink(SinkError),
    /// The ticket is linked to another ticket's incident: it is handled
    /// (claimed, resolved, returned, moved) through its head, or split off
    /// first with [`Dispatcher::split`].
    #[error(
        "ticket {ticket} is linked to incident {incident}: act on {incident}, or split it off"
    )]
    Linked {
        /// The ticket id.
        ticket: String,
        /// Its incident's head.
        incident: String,
    },
    /// [`Dispatcher::split`] of a ticket that is not linked to another
    /// ticket's incident (it heads one, stands alone, or is closed).
    #[error(
        "ticket {0} is not linked to another ticket's open incident: there is nothing to split"
    )]
    NotLinked(String),
}

/// How many tickets are where, counted from the records.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{Dispatcher, DispatchConfig, SystemClock};
/// use hotline_router::{Router, Ticket};
///
/// let d = Dispatcher::new(Router::beijing(), DispatchConfig::default(), SystemClock);
/// d.submit(Ticket::new("T1", "挪车")).unwrap();
/// assert_eq!(d.counts().dispatched, 1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// Every ticket held.
    pub total: usize,
    /// On a work list, waiting.
    pub dispatched: usize,
    /// Linked to an open incident: handled with its head.
    pub linked: usize,
    /// Claimed or responded: with a worker.
    pub in_hand: usize,
    /// Resolved, awaiting the call-back.
    pub resolved: usize,
    /// Evaluated.
    pub evaluated: usize,
    /// Open and past the deadline.
    pub escalated: usize,
}

/// An open ticket past its deadline.
///
/// # Examples
///
/// The supervisors' sweep, [`Dispatcher::overdue`](crate::dispatch::Dispatcher::overdue),
/// returns them:
///
/// ```
/// use std::sync::Arc;
/// use hotline_router::dispatch::{Dispatcher, ManualClock, Overdue, State};
/// use hotline_router::{Router, Ticket};
///
/// let start: jiff::Timestamp = "2024-11-20T08:00:00+08:00".parse().unwrap();
/// let d = Dispatcher::builder(Router::beijing()).clock(Arc::new(ManualClock::new(start))).build();
/// d.submit(Ticket::new("T1", "楼道里燃气泄漏")).unwrap();
/// assert!(d.overdue(start).is_empty());
///
/// // A week later nobody has claimed it.
/// let later = start + jiff::SignedDuration::from_hours(24 * 7);
/// let overdue: Vec<Overdue> = d.overdue(later);
/// assert_eq!((overdue[0].id.as_str(), overdue[0].agency.as_str()), ("T1", "city:gas"));
/// assert_eq!(overdue[0].state, State::Dispatched);
/// assert!(overdue[0].deadline <= later);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overdue {
    /// The ticket id.
    pub id: TicketId,
    /// The agency holding it.
    pub agency: AgencyCode,
    /// The deadline it missed.
    pub deadline: Timestamp,
    /// Its state.
    pub state: State,
}
