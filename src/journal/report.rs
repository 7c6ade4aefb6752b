//! What the journal tells its caller: replayed payloads, what recovery and
//! repair found, counters, and what a snapshot wrote.

use std::path::PathBuf;

use super::Lsn;

/// One payload handed to the replay callback of
/// [`Journal::open`](super::Journal::open).
///
/// All snapshot items come first, in the order they were written, then the
/// log records from the snapshot's LSN on, in LSN order.
///
/// # Example
///
/// ```
/// use hotline_router::journal::{Journal, JournalError, JournalOptions, Replayed};
///
/// let dir = std::env::temp_dir().join(format!("hotline-doc-replayed-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let (journal, _) = Journal::open(&dir, JournalOptions::new(), |_| Ok::<_, JournalError>(()))?;
/// journal.append(&[b"a", b"b"])?;
/// drop(journal);
///
/// let mut seen = Vec::new();
/// Journal::open(&dir, JournalOptions::new(), |r| {
///     match r {
///         Replayed::Snapshot(item) => seen.push((None, item)),
///         Replayed::Log { lsn, payload } => seen.push((Some(lsn), payload)),
///         _ => return Err("a kind of payload this code does not know"),
///     }
///     Ok(())
/// })?;
/// assert_eq!(seen, [(Some(0), b"a".to_vec()), (Some(1), b"b".to_vec())]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), JournalError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Replayed {
    /// One item of the latest snapshot.
    Snapshot(Vec<u8>),
    /// One log record.
    Log {
        /// Its LSN.
        lsn: Lsn,
        /// What was appended.
        payload: Vec<u8>,
    },
}

/// What [`Journal::open`](super::Journal::open) found and replayed.
///
/// # Example
///
/// ```
/// use hotline_router::journal::{Journal, JournalError, JournalOptions};
///
/// let dir = std::env::temp_dir().join(format!("hotline-doc-recovery-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let (journal, recovery) = Journal::open(&dir, JournalOptions::new(), |_| Ok::<_, JournalError>(()))?;
/// assert_eq!((recovery.log_records, recovery.next_lsn), (0, 0));
/// journal.append(&[b"x", b"y", b"z"])?;
/// drop(journal);
///
/// let (_, recovery) = Journal::open(&dir, JournalOptions::new(), |_| Ok::<_, JournalError>(()))?;
/// assert_eq!(recovery.snapshot_lsn, None);
/// assert_eq!((recovery.log_records, recovery.next_lsn), (3, 3));
/// assert_eq!(recovery.torn_tail, None);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), JournalError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovery {
    /// The LSN of the snapshot replayed, if any: its items stand for every
    /// record before it.
    pub snapshot_lsn: Option<Lsn>,
    /// Items replayed from the snapshot.
    pub snapshot_items: u64,
    /// Log records replayed (those at or after the snapshot's LSN).
    pub log_records: u64,
    /// The LSN the next appended record gets.
    pub next_lsn: Lsn,
    /// The incomplete write cut from the end of the log, if any.
    pub torn_tail: Option<TornTail>,
}

/// The bytes [`Journal::open`](super::Journal::open) cut from the end of the
/// last segment: a write that a crash interrupted.
///
/// A torn tail holds no acknowledged record under [`SyncPolicy::Always`]
/// unless the disk itself damaged the last record: that case looks the same
/// and is cut the same way (see the module docs, *Recovery*).
///
/// [`SyncPolicy::Always`]: super::SyncPolicy::Always
///
/// # Example
///
/// ```
/// use std::io::Write;
/// use hotline_router::journal::{Journal, JournalError, JournalOptions};
///
/// let dir = std::env::temp_dir().join(format!("hotline-doc-torn-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let (journal, _) = Journal::open(&dir, JournalOptions::new(), |_| Ok::<_, JournalError>(()))?;
/// journal.append(&[b"kept"])?;
/// drop(journal);
///
/// // A crash in the middle of writing a record's header leaves 5 bytes.
/// let segment = dir.join("journal-00000000000000000000.log");
/// std::fs::OpenOptions::new().append(true).open(&segment).unwrap().write_all(&[9; 5]).unwrap();
///
/// let (_, recovery) = Journal::open(&dir, JournalOptions::new(), |_| Ok::<_, JournalError>(()))?;
/// let torn = recovery.torn_tail.expect("the 5 bytes are cut");
/// assert_eq!((torn.file, torn.offset, torn.bytes), (segment, 24 + 16 + 4, 5));
/// assert_eq!(recovery.log_records, 1);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), JournalError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TornTail {
    /// The segment that was cut (or deleted, when even its header was
    /// incomplete).
    pub file: PathBuf,
    /// Where the cut is: the file's new length.
    pub offset: u64,
    /// How many bytes were cut.
    pub bytes: u64,
}

/// What [`Journal::repair`](super::Journal::repair) dropped.
///
/// # Example
///
/// ```
/// use hotline_router::journal::{Journal, JournalError, JournalOptions};
///
/// let dir = std::env::temp_dir().join(format!("hotline-doc-repair-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// drop(Journal::open(&dir, JournalOptions::new(), |_| Ok::<_, JournalError>(()))?);
///
/// // A clean journal: nothing to do.
/// let report = Journal::repair(&dir)?;
/// assert_eq!(report.file, None);
/// assert_eq!(report.bytes_dropped, 0);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), JournalError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepairReport {
    /// The segment cut at the first bad record; `None` if nothing needed
    /// repair.
    pub file: Option<PathBuf>,
    /// Where it was cut (0 when the whole file was removed).
    pub offset: u64,
    /// Bytes dropped in all: the cut tail plus every removed segment.
    pub bytes_dropped: u64,
    /// Segments removed whole, in LSN order.
    pub segments_removed: Vec<PathBuf>,
}

/// Counters of a [`Journal`](super::Journal) since it was opened.
///
/// Read with [`Journal::stats`](super::Journal::stats). `records / syncs`
/// is how many records one `fdatasync` carried: above 1 when group commit
/// batched concurrent appends.
///
/// # Example
///
/// ```
/// use hotline_router::journal::{Journal, JournalError, JournalOptions};
///
/// let dir = std::env::temp_dir().join(format!("hotline-doc-stats-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let (journal, _) = Journal::open(&dir, JournalOptions::new(), |_| Ok::<_, JournalError>(()))?;
/// journal.append(&[b"one", b"two"])?;
/// let stats = journal.stats();
/// assert_eq!(stats.records, 2);
/// assert_eq!(stats.bytes, 2 * (16 + 3));
/// assert_eq!(stats.writes, 1);
/// assert!(stats.syncs >= 1);
/// # drop(journal);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), JournalError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JournalStats {
    /// Records written.
    pub records: u64,
    /// Bytes of records written, frame headers included.
    pub bytes: u64,
    /// `write` calls that carried records: one per group commit.
    pub writes: u64,
    /// `fdatasync` calls, including those that create segments.
    pub syncs: u64,
    /// Bytes of records in the log since the last
    /// [`begin_snapshot`](super::Journal::begin_snapshot) (after open: since
    /// the snapshot replayed, or the start). What the next restore replays
    /// if no snapshot is taken: a hint for when to take one.
    pub bytes_since_snapshot: u64,
}

/// What [`Journal::write_snapshot`](super::Journal::write_snapshot) wrote and
/// deleted.
///
/// # Example
///
/// ```
/// use hotline_router::journal::{Journal, JournalError, JournalOptions};
///
/// let dir = std::env::temp_dir().join(format!("hotline-doc-snapreport-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let (journal, _) = Journal::open(&dir, JournalOptions::new(), |_| Ok::<_, JournalError>(()))?;
/// journal.append(&[b"a", b"b"])?;
/// let from = journal.begin_snapshot()?;
/// let report = journal.write_snapshot(from, [b"state".to_vec()])?;
/// assert_eq!((report.lsn, report.items), (2, 1));
/// assert_eq!(report.bytes, 24 + (16 + 5) + 16);
/// assert_eq!(report.segments_removed, 1);
/// # drop(journal);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), JournalError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotReport {
    /// The snapshot's LSN: replay resumes there.
    pub lsn: Lsn,
    /// Items written.
    pub items: u64,
    /// Size of the snapshot file.
    pub bytes: u64,
    /// Segments deleted because the snapshot covers all their records.
    pub segments_removed: usize,
}
