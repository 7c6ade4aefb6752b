//! The journal as the dispatcher's sink: what its records hold, opening
//! (restore, then keep journaling), and snapshots.
//!
//! A log record is one [`Change`]: the events of one operation, or a chunk
//! of purged ids, as JSON — self-describing, so that fields added later read
//! back with their defaults, and readable with `jq` when something must be
//! looked at by hand. A snapshot item is one ticket's whole history (or a
//! chunk of purged-id fingerprints).

use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::restore::{Rebuild, RestoreError};
use super::{Change, Dispatcher, DispatcherBuilder, Event, EventKind, Sink, SinkError};
use crate::journal::{Journal, JournalError, JournalOptions, Recovery, Replayed, SnapshotReport};

/// Purged-id fingerprints per snapshot item.
const FINGERPRINTS_PER_ITEM: usize = 100_000;

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum LogRecord<'a> {
    Events(&'a [Event]),
    Purged(&'a [String]),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum OwnedLogRecord {
    Events(Vec<Event>),
    Purged(Vec<String>),
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum SnapshotItem<'a> {
    Ticket {
        id: &'a str,
        queued: u64,
        history: &'a [(Timestamp, EventKind)],
    },
    Purged(&'a [u64]),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum OwnedSnapshotItem {
    Ticket {
        id: String,
        queued: u64,
        history: Vec<(Timestamp, EventKind)>,
    },
    Purged(Vec<u64>),
}

/// The journal as a sink: each change one record, a call's changes in one
/// group commit.
struct JournalSink(Journal);

impl Sink for JournalSink {
    fn persist(&self, changes: &[Change<'_>]) -> Result<(), SinkError> {
        let mut payloads: SmallVec<[Vec<u8>; 1]> = SmallVec::with_capacity(changes.len());
        for change in changes {
            let record = match *change {
                Change::Events(events) => LogRecord::Events(events),
                Change::Purged(ids) => LogRecord::Purged(ids),
            };
            payloads.push(serde_json::to_vec(&record).map_err(SinkError::from_source)?);
        }
        let slices: SmallVec<[&[u8]; 1]> = payloads.iter().map(Vec::as_slice).collect();
        self.0
            .append(&slices)
            .map(|_| ())
            .map_err(SinkError::from_source)
    }
}

/// Why [`DispatcherBuilder::open_journal`] failed.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{Dispatcher, OpenError};
/// use hotline_router::journal::JournalOptions;
/// use hotline_router::Router;
///
/// let dir = std::env::temp_dir().join(format!("hotline-doc-open-error-{}", std::process::id()));
/// let _ = std::fs::remove_dir_all(&dir);
/// let (d, _) = Dispatcher::builder(Router::beijing()).open_journal(&dir, JournalOptions::new()).unwrap();
/// // The journal is locked while `d` lives: a second runtime cannot open it.
/// let again = Dispatcher::builder(Router::beijing()).open_journal(&dir, JournalOptions::new());
/// assert!(matches!(again, Err(OpenError::Journal(_))));
/// drop(d);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The journal could not be read (it names the file and offset), or a
    /// record in it does not fit the tickets' histories.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// An operation cut off mid-way could not be completed.
    #[error(transparent)]
    Restore(#[from] RestoreError),
}

impl DispatcherBuilder {
    /// Opens (or creates) the journal in `dir`, restores the runtime from it
    /// — the latest snapshot, then the log after it — and keeps journaling:
    /// from now on every operation is acknowledged only once its events are
    /// in the journal, as durable as `options`' [`SyncPolicy`](crate::journal::SyncPolicy)
    /// says (by default: synced to disk). The journal replaces any
    /// [`sink`](Self::sink).
    ///
    /// What recovery found (a torn tail cut off, how much was replayed) is in
    /// the returned [`Recovery`].
    ///
    /// # Errors
    ///
    /// [`OpenError`]: the journal is locked by another runtime, unreadable,
    /// or corrupt before its tail (the error names the file and byte offset;
    /// [`Journal::repair`] truncates there), or a record does not fit.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::dispatch::Dispatcher;
    /// use hotline_router::journal::JournalOptions;
    /// use hotline_router::{Router, Ticket};
    ///
    /// let dir = std::env::temp_dir().join(format!("hotline-doc-open-{}", std::process::id()));
    /// let _ = std::fs::remove_dir_all(&dir);
    /// let (d, _) = Dispatcher::builder(Router::beijing()).open_journal(&dir, JournalOptions::new()).unwrap();
    /// d.submit(Ticket::new("T1", "楼道灯坏了").with_address("朝阳区呼家楼街道")).unwrap(); // on disk now
    /// drop(d);
    ///
    /// let (d, recovery) = Dispatcher::builder(Router::beijing()).open_journal(&dir, JournalOptions::new()).unwrap();
    /// assert!(d.record("T1").is_some());
    /// assert!(recovery.torn_tail.is_none());
    /// # drop(d);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn open_journal(
        self,
        dir: impl AsRef<Path>,
        options: JournalOptions,
    ) -> Result<(Dispatcher, Recovery), OpenError> {
        let mut rebuild = Rebuild::default();
        let mut index = 0u64;
        let (journal, recovery) = Journal::open(dir, options, |replayed| {
            let result = replay(&mut rebuild, index, replayed);
            index += 1;
            result
        })?;
        let sink: Arc<dyn Sink> = Arc::new(JournalSink(journal.clone()));
        let d = self.assemble(Some(sink), Some(journal));
        rebuild.install(&d)?;
        Ok((d, recovery))
    }
}

fn replay(
    rebuild: &mut Rebuild,
    index: u64,
    replayed: Replayed,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    match replayed {
        Replayed::Snapshot(bytes) => match serde_json::from_slice(&bytes)? {
            OwnedSnapshotItem::Ticket {
                id,
                queued,
                history,
            } => rebuild.history(index, &id, queued, history)?,
            OwnedSnapshotItem::Purged(fingerprints) => rebuild.purged(&fingerprints),
        },
        Replayed::Log { payload, .. } => match serde_json::from_slice(&payload)? {
            OwnedLogRecord::Events(events) => {
                for event in events {
                    rebuild.event(index, event)?;
                }
            }
            OwnedLogRecord::Purged(ids) => rebuild.purge(&ids),
        },
    }
    Ok(())
}

impl Dispatcher {
    /// Writes a snapshot of every ticket (and the purged ids) and deletes
    /// the journal before it: restore then reads the snapshot and the log
    /// since. Purged tickets leave the journal here. Runs alongside other
    /// operations (each ticket is locked only while it is written out).
    /// Taken automatically in the background every
    /// [`snapshot_every`](DispatcherBuilder::snapshot_every) bytes of log.
    ///
    /// `Ok(None)` without a journal.
    ///
    /// # Errors
    ///
    /// The journal's: the snapshot is then not used, nothing is lost.
    pub fn checkpoint(&self) -> Result<Option<SnapshotReport>, JournalError> {
        let s = &*self.shared;
        let Some(journal) = &s.journal else {
            return Ok(None);
        };
        let _maintenance = s.maintenance.lock();
        let from = journal.begin_snapshot()?;
        let slots = self.slots();
        let purged: Vec<u64> = s.purged.read().iter().copied().collect();
        let purged_items = purged.chunks(FINGERPRINTS_PER_ITEM).map(|chunk| {
            serde_json::to_vec(&SnapshotItem::Purged(chunk)).expect("integers serialize")
        });
        let tickets = slots.iter().filter_map(|(key, slot)| {
            let held = slot.lock();
            let record = held.record.as_ref()?;
            let item = SnapshotItem::Ticket {
                id: key,
                queued: record.queued,
                history: record.history(),
            };
            // Events serialize as they do in every log record.
            Some(serde_json::to_vec(&item).expect("events serialize to JSON"))
        });
        journal
            .write_snapshot(from, purged_items.chain(tickets))
            .map(Some)
    }

    /// Forces everything acknowledged onto disk, whatever the journal's sync
    /// policy (for `Interval`, before a planned shutdown). Nothing to do
    /// without a journal.
    ///
    /// # Errors
    ///
    /// The journal's.
    pub fn sync(&self) -> Result<(), JournalError> {
        match &self.shared.journal {
            Some(journal) => journal.sync(),
            None => Ok(()),
        }
    }

    /// The journal, if the runtime has one.
    pub fn journal(&self) -> Option<&Journal> {
        self.shared.journal.as_ref()
    }
}
