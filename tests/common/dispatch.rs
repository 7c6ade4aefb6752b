//! The helpers that need the `dispatch` feature: a sink that logs, a test
//! linker, journal segment listing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hotline_router::dispatch::{Change, Event, Linker, Sink, SinkError};
use hotline_router::{Decision, Ticket};
use jiff::{SignedDuration, Timestamp};

/// A sink that keeps every event, in the order it saw them (per ticket that
/// is the order they were applied: the sink runs under the ticket's lock).
#[derive(Default)]
pub struct Log(Mutex<Vec<Event>>);

impl Sink for Log {
    fn persist(&self, changes: &[Change<'_>]) -> Result<(), SinkError> {
        let mut log = self.0.lock().unwrap();
        for change in changes {
            if let Change::Events { events, .. } = change {
                log.extend(events.iter().cloned());
            }
        }
        Ok(())
    }
}

impl Log {
    /// Every event so far.
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }
}

/// A journal directory's segment files, in order.
pub fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    files
}

/// A linker for the tests: a ticket joins the earliest-received open
/// incident whose head has the same category and the same first
/// `prefix` characters of text, received within `window` of it (either
/// way). Every call is written to `calls`, which the test keeps a handle on.
pub struct PrefixLinker {
    window: SignedDuration,
    prefix: usize,
    /// Open heads by (category, prefix): (received at, id).
    heads: BTreeMap<(String, String), BTreeSet<(Timestamp, String)>>,
    /// Tickets it linked, with their key and time: a split makes them heads.
    members: HashMap<String, ((String, String), Timestamp)>,
    /// Every call, as `"link T2 -> T1"`, `"closed T1"`, `"split T2"`,
    /// `"restore T2 T1"` (head or `-`).
    pub calls: Arc<Mutex<Vec<String>>>,
}

impl PrefixLinker {
    pub fn new(window: SignedDuration, prefix: usize) -> PrefixLinker {
        PrefixLinker {
            window,
            prefix,
            heads: BTreeMap::new(),
            members: HashMap::new(),
            calls: Arc::default(),
        }
    }

    fn key(&self, ticket: &Ticket, decision: &Decision) -> (String, String) {
        (
            decision.category().code().to_string(),
            ticket.text.chars().take(self.prefix).collect(),
        )
    }

    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }
}

impl Linker for PrefixLinker {
    fn link(
        &mut self,
        ticket: &Ticket,
        decision: &Decision,
        at: Timestamp,
    ) -> Option<(String, Vec<String>)> {
        let key = self.key(ticket, decision);
        let near = self.heads.get(&key).and_then(|heads| {
            heads
                .iter()
                .find(|(since, _)| at.duration_since(*since).abs() <= self.window)
                .cloned()
        });
        match near {
            Some((since, head)) => {
                self.log(format!("link {} -> {head}", ticket.id));
                self.members.insert(ticket.id.clone(), (key.clone(), at));
                let minutes = at.duration_since(since).as_mins();
                Some((
                    head.clone(),
                    vec![format!(
                        "same category ({}) and words (\"{}\") as {head}, {minutes} min apart",
                        key.0, key.1
                    )],
                ))
            }
            None => {
                self.log(format!("link {} -> -", ticket.id));
                self.heads
                    .entry(key)
                    .or_default()
                    .insert((at, ticket.id.clone()));
                None
            }
        }
    }

    fn closed(&mut self, head: &str) {
        self.log(format!("closed {head}"));
        for heads in self.heads.values_mut() {
            heads.retain(|(_, id)| id != head);
        }
    }

    fn split(&mut self, ticket: &str) {
        self.log(format!("split {ticket}"));
        if let Some((key, at)) = self.members.remove(ticket) {
            self.heads
                .entry(key)
                .or_default()
                .insert((at, ticket.to_string()));
        }
    }

    fn restore(&mut self, ticket: &Ticket, decision: &Decision, at: Timestamp, head: Option<&str>) {
        self.log(format!("restore {} {}", ticket.id, head.unwrap_or("-")));
        let key = self.key(ticket, decision);
        match head {
            None => {
                self.heads
                    .entry(key)
                    .or_default()
                    .insert((at, ticket.id.clone()));
            }
            Some(_) => {
                self.members.insert(ticket.id.clone(), (key, at));
            }
        }
    }
}
