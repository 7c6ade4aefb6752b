//! Lifecycle events as they are acknowledged, for the event stream and the
//! dashboard.

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::dispatch::{Change, EventKind};

/// Events a slow subscriber may fall behind by before it misses some.
const BACKLOG: usize = 4096;

/// One acknowledged lifecycle event.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::Dispatcher;
/// use hotline_router::server::Live;
/// use hotline_router::{Router, Ticket};
///
/// let live = Live::new();
/// let mut events = live.subscribe();
/// let d = Dispatcher::builder(Router::beijing()).observe(live.observer()).build();
/// d.submit(Ticket::new("T1", "楼道灯坏了").with_address("朝阳区呼家楼街道")).unwrap();
/// let first = events.try_recv().unwrap();
/// assert_eq!((first.ticket.as_str(), first.name), ("T1", "received"));
/// ```
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct LiveEvent {
    /// The ticket id.
    pub ticket: String,
    /// The event's number within its ticket.
    pub seq: u32,
    /// When it happened.
    pub at: Timestamp,
    /// The event's name ([`EventKind::name`]).
    pub name: &'static str,
    /// The event itself.
    pub kind: EventKind,
}

/// A broadcast of acknowledged events: give [`Live::observer`] to the
/// dispatcher's builder, [`Live::subscribe`] from each consumer.
///
/// Publishing never blocks the dispatcher: a subscriber that falls more
/// than 4,096 events behind misses the oldest (its receiver reports how
/// many), and with no subscriber events are dropped.
///
/// # Examples
///
/// ```
/// use hotline_router::server::Live;
///
/// let live = Live::new();
/// let events = live.subscribe();
/// assert!(events.is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct Live {
    sender: broadcast::Sender<Arc<LiveEvent>>,
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

impl Live {
    /// A broadcast with no subscribers yet.
    pub fn new() -> Live {
        Live {
            sender: broadcast::channel(BACKLOG).0,
        }
    }

    /// The function to pass to
    /// [`DispatcherBuilder::observe`](crate::dispatch::DispatcherBuilder::observe).
    pub fn observer(&self) -> impl Fn(&[Change<'_>]) + Send + Sync + 'static {
        let sender = self.sender.clone();
        move |changes: &[Change<'_>]| {
            if sender.receiver_count() == 0 {
                return;
            }
            for change in changes {
                if let Change::Events { events, .. } = change {
                    for e in events.iter() {
                        let _ = sender.send(Arc::new(LiveEvent {
                            ticket: e.ticket.clone(),
                            seq: e.seq,
                            at: e.at,
                            name: e.kind.name(),
                            kind: e.kind.clone(),
                        }));
                    }
                }
            }
        }
    }

    /// A new subscriber: it receives every event acknowledged from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.sender.subscribe()
    }
}
