//! What happens to a ticket: the [`Event`]s a sink persists and
//! [`TicketRecord::apply`](super::TicketRecord::apply) replays. Their JSON
//! form is the journal's and must stay readable: a kind or a field added
//! later reads back old journals (new kinds are new variants; new fields of
//! old kinds need a default).

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crate::evaluate::Evaluation;
use crate::rules::Priority;
use crate::ticket::Ticket;

/// What the router decided for a ticket, as kept with it.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{Dispatcher, Routing};
/// use hotline_router::{Router, Ticket};
///
/// let d = Dispatcher::builder(Router::beijing()).build();
/// d.submit(Ticket::new("T1", "暖气片不热").with_address("朝阳区呼家楼街道")).unwrap();
/// let record = d.record("T1").unwrap();
/// let routing: &Routing = record.routing();
/// assert_eq!(routing.category, "heating");
/// assert_eq!((routing.district.as_deref(), routing.street.as_deref()), (Some("110105"), Some("110105003")));
///
/// // Without a place the router could find, only the category is kept.
/// d.submit(Ticket::new("T2", "暖气片不热")).unwrap();
/// assert_eq!(d.record("T2").unwrap().routing().district, None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routing {
    /// The category code.
    pub category: String,
    /// The district code, if known.
    pub district: Option<String>,
    /// The street code, if known.
    pub street: Option<String>,
}

/// Why and where a ticket joined an incident: the payload of
/// [`EventKind::Linked`].
///
/// Boxed in the event: every history entry of every ticket is as large as
/// the largest event kind, and this one is rare.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{EventKind, Link};
/// use hotline_router::Priority;
///
/// let link = Link {
///     incident: "T1".into(),
///     agency: "city:water".into(),
///     priority: Priority::Normal,
///     deadline: "2024-11-21T18:00:00+08:00".parse().unwrap(),
///     reasons: vec!["same category (utilities.water) 120 m away, 25 minutes later".into()],
/// };
/// let json = serde_json::to_string(&EventKind::Linked(Box::new(link))).unwrap();
/// assert!(json.starts_with(r#"{"linked":{"incident":"T1","agency":"city:water""#));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The head: the id of the incident's first ticket.
    pub incident: String,
    /// The agency handling the incident (the head's).
    pub agency: String,
    /// The head's priority.
    pub priority: Priority,
    /// The head's deadline, which governs the member's: it is what the
    /// member's handling is measured against.
    pub deadline: Timestamp,
    /// Why it joined (the linker's reasons), or why it moved with its head.
    pub reasons: Vec<String>,
}

/// One change to one ticket.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{Event, EventKind};
///
/// let e = Event { ticket: "T1".into(), seq: 3, at: "2024-11-20T08:00:00Z".parse().unwrap(), kind: EventKind::Responded { worker: "w1".into() } };
/// let json = serde_json::to_string(&e).unwrap();
/// assert!(json.contains(r#""kind":{"responded":{"worker":"w1"}}"#));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The ticket id.
    pub ticket: String,
    /// The event's number within its ticket, from 0, without gaps.
    pub seq: u32,
    /// When it happened (the runtime's clock).
    pub at: Timestamp,
    /// What happened.
    pub kind: EventKind,
}

/// What happened to a ticket.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::EventKind;
///
/// let k = EventKind::Returned { worker: "w".into(), reason: "not ours".into() };
/// assert_eq!(k.name(), "returned");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// Taken in (接).
    Received {
        /// The ticket as submitted.
        /// Shared with claims, which hand it to workers without a copy.
        ticket: Arc<Ticket>,
        /// What the router made of it.
        routing: Routing,
    },
    /// Put on an agency's work list (派).
    Dispatched {
        /// The agency code.
        agency: String,
        /// Urgent or normal.
        priority: Priority,
        /// When it must be handled by.
        deadline: Timestamp,
    },
    /// Claimed by a worker.
    Claimed {
        /// Who claimed it.
        worker: String,
        /// When the claim lapses unless acted on.
        lease_until: Timestamp,
    },
    /// The claim lapsed; back on the work list.
    LeaseExpired,
    /// The caller was contacted.
    Responded {
        /// Who responded.
        worker: String,
    },
    /// Handled (办结).
    Resolved {
        /// Who resolved it.
        worker: String,
        /// What was done.
        outcome: String,
    },
    /// Returned as not the agency's (退单); a `Dispatched` to the next agency follows.
    Returned {
        /// Who returned it.
        worker: String,
        /// Why.
        reason: String,
    },
    /// Moved to another agency by hand; a `Dispatched` follows.
    Reassigned {
        /// Who moved it.
        by: String,
        /// Why.
        reason: String,
    },
    /// Past its deadline while still open.
    Escalated,
    /// Joined an open incident instead of being dispatched (at submit), or
    /// followed its head to another agency (the head was returned or
    /// reassigned).
    Linked(Box<Link>),
    /// Taken out of its incident by hand (a wrong merge); a `Dispatched` to
    /// the ticket's own agency, with its own deadline, follows.
    Split {
        /// Who split it.
        by: String,
        /// Why.
        reason: String,
    },
    /// The call-back (评).
    Evaluated {
        /// Did the agency contact the caller?
        responded: bool,
        /// Was the problem solved?
        resolved: bool,
        /// Is the caller satisfied?
        satisfied: bool,
    },
}

impl EventKind {
    /// A short name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Received { .. } => "received",
            EventKind::Dispatched { .. } => "dispatched",
            EventKind::Claimed { .. } => "claimed",
            EventKind::LeaseExpired => "lease_expired",
            EventKind::Responded { .. } => "responded",
            EventKind::Resolved { .. } => "resolved",
            EventKind::Returned { .. } => "returned",
            EventKind::Reassigned { .. } => "reassigned",
            EventKind::Escalated => "escalated",
            EventKind::Evaluated { .. } => "evaluated",
            EventKind::Linked(_) => "linked",
            EventKind::Split { .. } => "split",
        }
    }
}
