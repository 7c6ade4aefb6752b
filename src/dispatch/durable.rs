//! The journal as the dispatcher's sink: what its records hold, opening
//! (restore, then keep journaling), and snapshots.
//!
//! A log record is one [`Change`]: the events of one operation, or a chunk
//! of purged ids, as JSON — self-describing, so that fields added later read
//! back with their defaults, and readable with `jq` when something must be
//! looked at by hand. A snapshot item is one ticket's whole history, event
//! times as `[seconds, nanoseconds]` (or a chunk of purged-id fingerprints).

use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::restore::{slot_of, Rebuild, RestoreError};
use super::{
    Change, Dispatcher, DispatcherBuilder, Event, EventKind, Sink, SinkError, TicketRecord,
};
use crate::journal::{Journal, JournalError, JournalOptions, Recovery, Replayed, SnapshotReport};
use crate::par::prelude::*;

/// Purged-id fingerprints per snapshot item.
const FINGERPRINTS_PER_ITEM: usize = 100_000;

/// One [`Change`] as a log record: the journal's records, and the rows of
/// other stores (`store::postgres`), have this one JSON shape.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LogRecord<'a> {
    Events {
        events: &'a [Event],
        #[serde(skip_serializing_if = "Option::is_none")]
        queued: Option<u64>,
    },
    Purged(&'a [String]),
}

/// A [`LogRecord`] read back.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OwnedLogRecord {
    Events {
        events: Vec<Event>,
        #[serde(default)]
        queued: Option<u64>,
    },
    Purged(Vec<String>),
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum SnapshotItem<'a> {
    Ticket {
        id: &'a str,
        queued: u64,
        history: History<'a>,
    },
    Purged(&'a [u64]),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum OwnedSnapshotItem {
    Ticket {
        id: String,
        queued: u64,
        /// `[seconds, nanoseconds, event]` per event.
        history: Vec<(i64, i32, EventKind)>,
    },
    Purged(Vec<u64>),
}

/// A history in a snapshot: each event's time as `[seconds, nanoseconds]`
/// rather than RFC 3339 text: two integers parse faster than a timestamp's
/// text, a restore parses six per ticket, and a snapshot is read by this
/// code only (the log, meant to be read by people too, keeps the text).
struct History<'a>(&'a [(Timestamp, EventKind)]);

impl Serialize for History<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for (at, kind) in self.0 {
            seq.serialize_element(&(at.as_second(), at.subsec_nanosecond(), kind))?;
        }
        seq.end()
    }
}

/// The journal as a sink: each change one record, a call's changes in one
/// group commit.
struct JournalSink(Journal);

impl<'a> LogRecord<'a> {
    pub(crate) fn of(change: &Change<'a>) -> LogRecord<'a> {
        match *change {
            Change::Events { events, queued } => LogRecord::Events { events, queued },
            Change::Purged(ids) => LogRecord::Purged(ids),
        }
    }
}

impl OwnedLogRecord {
    /// Applies the record, read at `index`, to `rebuild`.
    pub(crate) fn apply(self, index: u64, rebuild: &mut Rebuild) -> Result<(), RestoreError> {
        match self {
            OwnedLogRecord::Events { events, queued } => {
                for event in events {
                    rebuild.event(index, event, queued)?;
                }
            }
            OwnedLogRecord::Purged(ids) => rebuild.purge(&ids),
        }
        Ok(())
    }
}

impl Sink for JournalSink {
    fn persist(&self, changes: &[Change<'_>]) -> Result<(), SinkError> {
        let mut payloads: SmallVec<[Vec<u8>; 1]> = SmallVec::with_capacity(changes.len());
        for change in changes {
            let record = LogRecord::of(change);
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

#[cfg_attr(docsrs, doc(cfg(feature = "journal")))]
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
        let mut replay = Replay::new();
        let (journal, recovery) = Journal::open(dir, options, |replayed| replay.take(replayed))?;
        let rebuild = replay.finish().map_err(|source| JournalError::Replay {
            file: journal.dir().to_path_buf(),
            offset: 0,
            source,
        })?;
        let sink: Arc<dyn Sink> = Arc::new(JournalSink(journal.clone()));
        let d = self.assemble(Some(sink), Some(journal), rebuild.len());
        rebuild.install(&d)?;
        Ok((d, recovery))
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Snapshot items decoded per parallel batch.
const DECODE_BATCH: usize = 8_192;

/// What the journal replays, applied to a [`Rebuild`]. Snapshot items are
/// independent tickets: they are decoded and rebuilt in parallel batches
/// (most of a restore's time) while the journal reads on — at most
/// `IN_FLIGHT` batches at once, so memory stays bounded; log records are
/// applied in order, after every snapshot item.
struct Replay {
    rebuild: Rebuild,
    snapshot: Vec<(u64, Vec<u8>)>,
    index: u64,
    sender: mpsc::Sender<Result<Vec<Decoded>, BoxError>>,
    receiver: mpsc::Receiver<Result<Vec<Decoded>, BoxError>>,
    in_flight: usize,
}

/// Snapshot batches being decoded while the journal reads the next.
const IN_FLIGHT: usize = 4;

impl Replay {
    fn new() -> Replay {
        let (sender, receiver) = mpsc::channel();
        Replay {
            rebuild: Rebuild::default(),
            snapshot: Vec::new(),
            index: 0,
            sender,
            receiver,
            in_flight: 0,
        }
    }

    fn take(&mut self, replayed: Replayed) -> Result<(), BoxError> {
        let index = self.index;
        self.index += 1;
        match replayed {
            Replayed::Snapshot(bytes) => {
                self.snapshot.push((index, bytes));
                if self.snapshot.len() >= DECODE_BATCH {
                    if self.in_flight >= IN_FLIGHT {
                        self.receive_one()?;
                    }
                    self.spawn_batch();
                }
            }
            Replayed::Log { payload, .. } => {
                self.flush()?;
                let record: OwnedLogRecord = serde_json::from_slice(&payload)?;
                record.apply(index, &mut self.rebuild)?;
            }
        }
        Ok(())
    }

    fn spawn_batch(&mut self) {
        let batch = std::mem::take(&mut self.snapshot);
        let sender = self.sender.clone();
        crate::par::spawn(move || {
            let decoded = batch
                .into_par_iter()
                .map(|(index, bytes)| decode_item(index, &bytes))
                .collect();
            // The receiver lives until every batch is received.
            let _ = sender.send(decoded);
        });
        self.in_flight += 1;
    }

    fn receive_one(&mut self) -> Result<(), BoxError> {
        let decoded = self.receiver.recv()??;
        self.in_flight -= 1;
        let mut tickets = Vec::with_capacity(decoded.len());
        for item in decoded {
            match item {
                Decoded::Ticket(key, slot) => tickets.push((key, slot)),
                Decoded::Purged(fingerprints) => self.rebuild.purged(&fingerprints),
            }
        }
        self.rebuild.tickets(tickets);
        Ok(())
    }

    /// Waits for every snapshot item to be decoded and taken.
    fn flush(&mut self) -> Result<(), BoxError> {
        if !self.snapshot.is_empty() {
            self.spawn_batch();
        }
        while self.in_flight > 0 {
            self.receive_one()?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Rebuild, BoxError> {
        self.flush()?;
        self.rebuild.replayed(self.index);
        Ok(self.rebuild)
    }
}

enum Decoded {
    Ticket(Arc<str>, Arc<super::Slot>),
    Purged(Vec<u64>),
}

fn decode_item(index: u64, bytes: &[u8]) -> Result<Decoded, BoxError> {
    Ok(match serde_json::from_slice(bytes)? {
        OwnedSnapshotItem::Ticket {
            id,
            queued,
            history,
        } => {
            let history = history
                .into_iter()
                .map(|(seconds, nanos, kind)| Ok((Timestamp::new(seconds, nanos)?, kind)))
                .collect::<Result<Vec<_>, jiff::Error>>()?;
            let mut record =
                TicketRecord::from_history(&id, history).map_err(|e| RestoreError {
                    index,
                    ticket: id.clone(),
                    source: e.into(),
                })?;
            record.queued = queued;
            Decoded::Ticket(Arc::from(id), slot_of(record))
        }
        OwnedSnapshotItem::Purged(fingerprints) => Decoded::Purged(fingerprints),
    })
}

#[cfg_attr(docsrs, doc(cfg(feature = "journal")))]
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
                history: History(record.history()),
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
