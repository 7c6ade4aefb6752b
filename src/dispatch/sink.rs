//! Where an operation's events go before the operation is acknowledged.
//!
//! A [`Sink`] sees every operation's events *before* they are applied: if it
//! fails, the operation is refused with the sink's error and nothing in the
//! runtime changes. The crate's [`Journal`](crate::journal::Journal) is one
//! sink (see [`DispatcherBuilder::open_journal`](super::DispatcherBuilder::open_journal));
//! a message broker or a database can be another.

use std::error::Error as StdError;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::lifecycle::Event;

/// One change a sink must make durable.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::Change;
///
/// let purged = vec!["T1".to_string()];
/// let change = Change::Purged(&purged);
/// assert!(matches!(change, Change::Purged(ids) if ids.len() == 1));
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Change<'a> {
    /// The events of one operation on one ticket, in order. They are applied
    /// together or not at all: a sink must keep them together (the journal
    /// writes them as one checksummed record).
    Events {
        /// The events.
        events: &'a [Event],
        /// The ticket's new work-list number when the operation puts it on
        /// a list (submit, return, reassignment, lease expiry): the last
        /// tie-break between tickets of equal priority and time. Keep it to
        /// restore the lists in exactly the order they had.
        queued: Option<u64>,
    },
    /// Closed tickets dropped by [`Dispatcher::purge_closed`](super::Dispatcher::purge_closed);
    /// their ids can never be submitted again.
    Purged(&'a [String]),
}

/// Receives every change before it is applied, and can refuse it.
///
/// `persist` is called with the ticket's lock held, so a ticket's changes
/// arrive in order; changes of different tickets may arrive from many
/// threads at once, and a call may carry many operations (a
/// [`Dispatcher::submit_many`](super::Dispatcher::submit_many) batch): a sink
/// that makes them durable together pays one write for all of them. One
/// operation may change several tickets — an incident's head and its
/// members, when the head is resolved or moved — as one change per ticket,
/// the head's first, every ticket locked: keep them together if you can;
/// if only a prefix survives a crash, restore completes the rest.
///
/// Return `Ok` only once the changes are as durable as the caller was
/// promised: the operation is acknowledged right after. Return an error and
/// the operation is refused, the runtime unchanged. A panic counts as an
/// error ([`SinkError::is_panic`]). Never call back into the dispatcher.
///
/// # Examples
///
/// ```
/// use std::sync::Mutex;
/// use hotline_router::dispatch::{Change, Dispatcher, DispatchConfig, Event, Sink, SinkError, SystemClock};
/// use hotline_router::{Router, Ticket};
///
/// /// Keeps the events in memory; refuses everything once "full".
/// #[derive(Default)]
/// struct Log(Mutex<Vec<Event>>);
/// impl Sink for Log {
///     fn persist(&self, changes: &[Change<'_>]) -> Result<(), SinkError> {
///         let mut log = self.0.lock().unwrap();
///         if log.len() >= 2 {
///             return Err(SinkError::new("the log is full"));
///         }
///         for change in changes {
///             if let Change::Events { events, .. } = change {
///                 log.extend(events.iter().cloned());
///             }
///         }
///         Ok(())
///     }
/// }
///
/// let log = std::sync::Arc::new(Log::default());
/// let d = Dispatcher::builder(Router::beijing()).sink(log.clone()).build();
/// d.submit(Ticket::new("T1", "挪车")).unwrap(); // Received + Dispatched
/// assert!(d.submit(Ticket::new("T2", "挪车")).is_err());
/// assert!(d.record("T2").is_none(), "a refused submit leaves nothing behind");
/// ```
pub trait Sink: Send + Sync {
    /// Makes `changes` durable, or refuses them.
    ///
    /// # Errors
    ///
    /// Any failure: the operation is then refused with it.
    fn persist(&self, changes: &[Change<'_>]) -> Result<(), SinkError>;
}

/// A sink's refusal: why an operation could not be made durable.
///
/// Cloneable and comparable (by message) so that it can travel inside
/// [`OpError`](super::OpError); the underlying error is kept as the
/// [`source`](StdError::source).
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::SinkError;
///
/// let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full");
/// let e = SinkError::from_source(io);
/// assert_eq!(e.to_string(), "disk full");
/// assert!(std::error::Error::source(&e).is_some());
/// ```
#[derive(Clone)]
pub struct SinkError {
    message: String,
    source: Option<Arc<dyn StdError + Send + Sync>>,
    panic: bool,
}

impl SinkError {
    /// An error with only a message.
    pub fn new(message: impl Into<String>) -> SinkError {
        SinkError {
            message: message.into(),
            source: None,
            panic: false,
        }
    }

    /// An error wrapping another (its message, and it as the source).
    pub fn from_source(source: impl StdError + Send + Sync + 'static) -> SinkError {
        SinkError {
            message: source.to_string(),
            source: Some(Arc::new(source)),
            panic: false,
        }
    }

    /// Whether the sink panicked (the panic was caught; the operation refused).
    pub fn is_panic(&self) -> bool {
        self.panic
    }

    /// The underlying error, if it is an `E`: e.g. a
    /// [`JournalError`](crate::journal::JournalError).
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.source.as_deref().and_then(|s| s.downcast_ref::<E>())
    }
}

impl fmt::Debug for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SinkError")
            .field("message", &self.message)
            .field("panic", &self.panic)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for SinkError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl PartialEq for SinkError {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message && self.panic == other.panic
    }
}
impl Eq for SinkError {}

/// Calls the sink, turning a panic into an error: a panicking sink must not
/// leave a ticket half-changed (its lock is released by unwinding, and the
/// operation is refused like any other failure).
pub(crate) fn persist(sink: &dyn Sink, changes: &[Change<'_>]) -> Result<(), SinkError> {
    match catch_unwind(AssertUnwindSafe(|| sink.persist(changes))) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-string payload".into());
            Err(SinkError {
                message: format!("the sink panicked: {what}"),
                source: None,
                panic: true,
            })
        }
    }
}
