//! [`JournalOptions`] and [`SyncPolicy`]: how a journal is opened.

use std::time::Duration;

/// When an [`append`](super::Journal::append) is acknowledged.
///
/// | policy | `append` returns after | survives `kill -9` | survives power loss |
/// |---|---|---|---|
/// | `Always` | `write` + `fdatasync` | yes | yes |
/// | `Interval(d)` | `write` (page cache) | yes | up to the last `d` lost |
///
/// Under `Interval(d)` the writer still calls `fdatasync` at most every `d`,
/// and always on [`sync`](super::Journal::sync), on segment rotation, in
/// [`begin_snapshot`](super::Journal::begin_snapshot), and when the last
/// handle is dropped.
///
/// Either way, concurrent appends share one `write` and one `fdatasync`
/// (group commit), so the cost of `Always` falls as the number of
/// concurrent appenders grows.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use hotline_router::journal::{JournalOptions, SyncPolicy};
///
/// assert_eq!(SyncPolicy::default(), SyncPolicy::Always);
/// // Trade the last 10 ms of acknowledged records on a power cut for speed.
/// let options = JournalOptions::new().sync(SyncPolicy::Interval(Duration::from_millis(10)));
/// # let _ = options;
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// Acknowledge a record only once it is on disk (`fdatasync`).
    #[default]
    Always,
    /// Acknowledge a record once it is written to the operating system, and
    /// `fdatasync` at most this often.
    Interval(Duration),
}

/// Options for [`Journal::open`](super::Journal::open).
///
/// # Example
///
/// ```
/// use hotline_router::journal::{JournalOptions, SyncPolicy};
///
/// let options = JournalOptions::new()
///     .sync(SyncPolicy::Always)
///     .segment_bytes(16 << 20)
///     .max_record_bytes(1 << 20);
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
pub struct JournalOptions {
    pub(crate) sync: SyncPolicy,
    pub(crate) segment_bytes: u64,
    pub(crate) max_record_bytes: u32,
}

/// The largest `max_record_bytes`: `u32::MAX` marks a snapshot's footer.
const MAX_RECORD_LIMIT: u32 = u32::MAX - 1;

impl JournalOptions {
    /// [`SyncPolicy::Always`], 64 MiB segments, records up to 64 MiB.
    pub fn new() -> Self {
        JournalOptions {
            sync: SyncPolicy::Always,
            segment_bytes: 64 << 20,
            max_record_bytes: 64 << 20,
        }
    }

    /// When appends are acknowledged; see [`SyncPolicy`].
    pub fn sync(mut self, policy: SyncPolicy) -> Self {
        self.sync = policy;
        self
    }

    /// Start a new segment once the current one has reached this size.
    ///
    /// The check runs before each write, so a segment can exceed the size by
    /// one group of records. Smaller segments let snapshots free space
    /// sooner; each costs one file and a directory `fsync` to create.
    pub fn segment_bytes(mut self, bytes: u64) -> Self {
        self.segment_bytes = bytes;
        self
    }

    /// The largest payload [`append`](super::Journal::append) and
    /// [`write_snapshot`](super::Journal::write_snapshot) accept; larger ones
    /// are refused with [`JournalError::TooLarge`](super::JournalError::TooLarge).
    ///
    /// Values above `u32::MAX - 1` are lowered to it (`u32::MAX` marks the end
    /// of a snapshot). Recovery does not use this limit: it accepts any
    /// record that fits in its file, so lowering the limit never turns
    /// records already written into corruption.
    pub fn max_record_bytes(mut self, bytes: u32) -> Self {
        self.max_record_bytes = bytes.min(MAX_RECORD_LIMIT);
        self
    }
}

impl Default for JournalOptions {
    fn default() -> Self {
        Self::new()
    }
}
