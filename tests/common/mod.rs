//! Helpers shared by the integration tests. Each test file compiles this
//! module on its own and uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hotline_router::dispatch::{Change, Event, Sink, SinkError};

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
