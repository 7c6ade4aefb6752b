//! `GET /api/events`: acknowledged lifecycle events as Server-Sent Events,
//! the center's token all of them, an agency's those of the tickets it
//! holds or held.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;

use super::auth::{names, Agent};
use crate::dispatch::EventKind;
use crate::server::state::AppState;
use crate::server::LiveEvent;

/// Tickets whose agency a connection remembers; past it the memory is
/// dropped and rebuilt (lookups again), so a connection's memory is
/// bounded whatever the traffic (about 1 MB).
const KNOWN_MAX: usize = 16_384;
/// `received` events held until the event that names the ticket's agency
/// (it follows in the same acknowledged operation).
const PENDING_MAX: usize = 64;

/// `GET /api/events`.
pub(crate) async fn events(
    State(state): State<AppState>,
    agent: Agent,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribed before the response starts: whatever is acknowledged
    // after the client has the headers is in its stream.
    let connection = Connection {
        events: state.live().subscribe(),
        filter: (!agent.is_center()).then(|| Filter {
            agency: agent.agency().to_string(),
            known: HashMap::new(),
            pending: VecDeque::new(),
        }),
        ready: VecDeque::new(),
        state: state.clone(),
    };
    let stream = stream::unfold(connection, |mut c| async move {
        loop {
            if let Some(event) = c.ready.pop_front() {
                return Some((Ok(event), c));
            }
            match c.events.recv().await {
                Ok(event) => c.take(event).await,
                Err(RecvError::Lagged(missed)) => c.lagged(missed).await,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(state.until_closed(stream)).keep_alive(KeepAlive::default())
}

struct Connection {
    events: Receiver<Arc<LiveEvent>>,
    /// `None` for the center's token: every event.
    filter: Option<Filter>,
    /// Events decided on, to send.
    ready: VecDeque<Event>,
    state: AppState,
}

/// What an agency's connection knows of tickets' agencies.
struct Filter {
    agency: String,
    /// Ticket → whether the agency holds or held it, as of the events seen.
    /// Only an event naming an agency changes that, and the connection
    /// sees those events (or is told it lagged, and forgets).
    known: HashMap<String, bool>,
    /// `received` events whose ticket's agency is not known yet.
    pending: VecDeque<Arc<LiveEvent>>,
}

impl Connection {
    async fn take(&mut self, event: Arc<LiveEvent>) {
        let Some(filter) = &mut self.filter else {
            self.ready.push_back(sse(&event));
            return;
        };
        if names(&event.kind, &filter.agency) {
            remember(&mut filter.known, &event.ticket, true);
            self.release(&event.ticket, true);
            self.ready.push_back(sse(&event));
            return;
        }
        match &event.kind {
            EventKind::Received { .. } => {
                filter.pending.push_back(event);
                if filter.pending.len() > PENDING_MAX {
                    if let Some(oldest) = filter.pending.pop_front() {
                        self.decide(oldest).await;
                    }
                }
            }
            EventKind::Dispatched { .. } | EventKind::Linked(_) => {
                // To another agency: unless this one held it before.
                let held = filter.known.get(&event.ticket).copied().unwrap_or(false);
                remember(&mut filter.known, &event.ticket, held);
                self.release(&event.ticket, held);
                if held {
                    self.ready.push_back(sse(&event));
                }
            }
            _ => self.decide(event).await,
        }
    }

    /// Sends or drops the held `received` events of `ticket`.
    fn release(&mut self, ticket: &str, send: bool) {
        let Some(filter) = &mut self.filter else {
            return;
        };
        let (mine, rest): (VecDeque<_>, VecDeque<_>) =
            filter.pending.drain(..).partition(|e| e.ticket == ticket);
        filter.pending = rest;
        if send {
            self.ready.extend(mine.iter().map(|e| sse(e)));
        }
    }

    /// Sends `event` if the agency held its ticket by then, asking the
    /// dispatcher when the connection does not know.
    async fn decide(&mut self, event: Arc<LiveEvent>) {
        let Some(filter) = &mut self.filter else {
            return;
        };
        let held = match filter.known.get(&event.ticket) {
            Some(held) => *held,
            None => {
                let (agency, ticket, seq) =
                    (filter.agency.clone(), event.ticket.clone(), event.seq);
                let held = self
                    .state
                    .blocking(move |d| {
                        d.record(&ticket).is_some_and(|r| {
                            let upto = usize::try_from(seq).unwrap_or(usize::MAX);
                            r.history()
                                .iter()
                                .take(upto.saturating_add(1))
                                .any(|(_, kind)| names(kind, &agency))
                        })
                    })
                    .await;
                if let Some(filter) = &mut self.filter {
                    remember(&mut filter.known, &event.ticket, held);
                }
                held
            }
        };
        if held {
            self.ready.push_back(sse(&event));
        }
    }

    /// Tells the client how many events it missed; what the connection
    /// knew may be stale (it may have missed a dispatch), so it forgets.
    async fn lagged(&mut self, missed: u64) {
        self.ready.push_back(
            Event::default()
                .event("lagged")
                .data(serde_json::json!({ "missed": missed }).to_string()),
        );
        let Some(filter) = &mut self.filter else {
            return;
        };
        filter.known.clear();
        let pending: Vec<_> = filter.pending.drain(..).collect();
        for event in pending {
            self.decide(event).await;
        }
    }
}

fn remember(known: &mut HashMap<String, bool>, ticket: &str, held: bool) {
    if known.len() >= KNOWN_MAX && !known.contains_key(ticket) {
        known.clear();
    }
    known.insert(ticket.to_string(), held);
}

/// `event: <name>`, `id: <ticket>/<seq>`, `data: <LiveEvent JSON>`.
fn sse(event: &LiveEvent) -> Event {
    let data = serde_json::to_string(event).unwrap_or_else(|e| {
        serde_json::json!({ "ticket": event.ticket, "error": e.to_string() }).to_string()
    });
    let out = Event::default().event(event.name).data(data);
    // An SSE id cannot hold a line break or NUL (axum would panic): such an
    // id (which intake should refuse anyway) goes without one.
    if event.ticket.contains(['\n', '\r', '\0']) {
        out
    } else {
        out.id(format!("{}/{}", event.ticket, event.seq))
    }
}
