//! [`JournalError`]: every way opening, writing or repairing a journal fails.

use std::io;
use std::path::{Path, PathBuf};

use super::Lsn;

/// An error from a [`Journal`](super::Journal).
///
/// Every variant that concerns a file names it, and a byte offset where one
/// applies, so the message alone says where to look. The messages also say
/// what to do: which call repairs, which option to change.
///
/// # Example
///
/// ```
/// use hotline_router::journal::{Journal, JournalError, JournalOptions};
///
/// let dir = std::env::temp_dir().join(format!("hotline-doc-error-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let (journal, _) = Journal::open(&dir, JournalOptions::new(), |_| Ok::<_, JournalError>(()))?;
///
/// // A second open of the same directory is refused while the first lives.
/// let second = Journal::open(&dir, JournalOptions::new(), |_| Ok::<_, JournalError>(()));
/// assert!(matches!(second, Err(JournalError::Locked { .. })));
///
/// // Empty payloads are refused: a zero-filled tail can never look valid.
/// assert!(matches!(journal.append(&[b""]), Err(JournalError::EmptyRecord)));
/// # drop(journal);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), JournalError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// An operating-system call failed. An `Io` error from
    /// [`append`](super::Journal::append) or [`sync`](super::Journal::sync)
    /// also poisons the journal: later calls return [`JournalError::Failed`].
    #[error("journal I/O error: could not {op} {}: {source}", path.display())]
    Io {
        /// The file or directory the call was about.
        path: PathBuf,
        /// What was being done, e.g. `"write to"` or `"fdatasync"`.
        op: &'static str,
        /// The operating system's error. Its [`kind`](io::Error::kind)
        /// tells, e.g., a full disk ([`io::ErrorKind::StorageFull`]).
        source: io::Error,
    },

    /// A file's bytes are invalid where a torn write cannot explain them: a
    /// segment other than the last, valid records after the bad ones, or a
    /// damaged snapshot.
    #[error("{}: corrupt at byte {offset}: {reason}; {}", file.display(), repair_hint(file))]
    Corrupt {
        /// The damaged file.
        file: PathBuf,
        /// Where its first bad byte run starts: a record's first byte, or 0
        /// for a bad file header.
        offset: u64,
        /// What is wrong there.
        reason: String,
    },

    /// The replay callback of [`Journal::open`](super::Journal::open)
    /// refused a payload.
    #[error("replay refused the record at byte {offset} of {}: {source}", file.display())]
    Replay {
        /// The segment or snapshot the payload came from.
        file: PathBuf,
        /// Where its frame starts.
        offset: u64,
        /// The callback's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// Another [`Journal`](super::Journal), in this process or another,
    /// has the directory open.
    #[error(
        "journal directory {} is in use by another open Journal (this process or another): \
         drop that one first",
        dir.display()
    )]
    Locked {
        /// The directory.
        dir: PathBuf,
    },

    /// An earlier write or sync failed, and the journal refuses all further
    /// writes.
    ///
    /// After a failed `fdatasync` the kernel may have dropped the dirty
    /// pages and marked them clean, so a retry can "succeed" without the
    /// data ever reaching the disk (PostgreSQL's "fsyncgate", 2018). The
    /// only safe state is the one on disk: drop every handle and reopen.
    #[error(
        "the journal stopped accepting writes after an earlier failure ({reason}): \
         drop every handle and reopen the directory to recover"
    )]
    Failed {
        /// The failure that poisoned the journal.
        reason: String,
    },

    /// A payload, or a snapshot item, is larger than
    /// [`JournalOptions::max_record_bytes`](super::JournalOptions::max_record_bytes).
    #[error(
        "record of {bytes} bytes exceeds the limit of {limit} bytes: split it, or raise \
         JournalOptions::max_record_bytes"
    )]
    TooLarge {
        /// The payload's length.
        bytes: u64,
        /// The configured limit.
        limit: u32,
    },

    /// An append had no payload, or an empty one. Empty records are refused
    /// so that a zero-filled tail can never decode as a record.
    #[error("empty record: append needs at least one payload, and each payload at least one byte")]
    EmptyRecord,

    /// A file has the right magic but a format version this build does not
    /// read.
    #[error(
        "{}: format version {found}, but this build reads version {}: open it with the \
         build that wrote it; if the other segments are version {} this one is damaged, \
         and Journal::repair cuts the log there",
        file.display(),
        super::format::VERSION,
        super::format::VERSION
    )]
    Version {
        /// The file.
        file: PathBuf,
        /// The version in its header.
        found: u32,
    },

    /// The segments do not chain: a segment is missing, or starts at the
    /// wrong LSN.
    #[error(
        "{}: expected the log to continue at LSN {expected} but it continues at {found}, \
         so a segment is missing; Journal::repair drops this segment and every later one",
        file.display()
    )]
    Gap {
        /// The segment where the chain breaks.
        file: PathBuf,
        /// The LSN the previous segments (or the snapshot) end at.
        expected: Lsn,
        /// The LSN this segment starts at (or the log ends at).
        found: Lsn,
    },

    /// [`write_snapshot`](super::Journal::write_snapshot) was given an LSN
    /// it cannot cover: older than the current snapshot, or past what is
    /// synced.
    #[error(
        "snapshot LSN {lsn} is outside {min}..={max}: pass the LSN that \
         Journal::begin_snapshot returned"
    )]
    SnapshotLsn {
        /// The LSN given.
        lsn: Lsn,
        /// The current snapshot's LSN (0 without one).
        min: Lsn,
        /// The first LSN not yet synced.
        max: Lsn,
    },
}

/// What to do about a corrupt file: a log can be cut, a snapshot cannot.
fn repair_hint(file: &Path) -> &'static str {
    if file.extension().is_some_and(|e| e == "snap") {
        "a snapshot cannot be repaired: restore it from a backup"
    } else {
        "Journal::repair truncates the log there, dropping this record and every later one"
    }
}

impl JournalError {
    pub(crate) fn io(path: &Path, op: &'static str, source: io::Error) -> Self {
        JournalError::Io {
            path: path.to_path_buf(),
            op,
            source,
        }
    }

    pub(crate) fn corrupt(file: &Path, offset: u64, reason: impl Into<String>) -> Self {
        JournalError::Corrupt {
            file: file.to_path_buf(),
            offset,
            reason: reason.into(),
        }
    }
}

/// A write or sync failure that poisoned the journal, kept so every waiter
/// can be told (an [`io::Error`] is not `Clone`).
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    pub(crate) path: PathBuf,
    pub(crate) op: &'static str,
    pub(crate) kind: io::ErrorKind,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(path: &Path, op: &'static str, e: &io::Error) -> Self {
        Failure {
            path: path.to_path_buf(),
            op,
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    /// For callers that were waiting on the write that failed: the I/O
    /// error itself, with its kind.
    pub(crate) fn to_io(&self) -> JournalError {
        let source = io::Error::new(self.kind, self.message.clone());
        JournalError::Io {
            path: self.path.clone(),
            op: self.op,
            source,
        }
    }

    /// For every later call.
    pub(crate) fn to_failed(&self) -> JournalError {
        JournalError::Failed {
            reason: format!(
                "could not {} {}: {}",
                self.op,
                self.path.display(),
                self.message
            ),
        }
    }
}
