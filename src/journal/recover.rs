//! Reading a journal directory on open: the latest snapshot, then the
//! segments from the snapshot's LSN on, telling a torn tail from corruption.
//!
//! [`scan`] only reads (and calls the replay callback); [`apply`] then
//! makes the few changes recovery decided on. [`Journal::repair`] runs the
//! same scan, so it cuts exactly where open would complain.
//!
//! [`Journal::repair`]: super::Journal::repair

use std::error::Error;
use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use super::error::JournalError;
use super::format::{self, FileKind, FILE_HEADER, SEGMENT_MAGIC};
use super::{snapshot, storage, Lsn, Recovery, Replayed, TornTail};

/// The callback's error, boxed.
pub(crate) type BoxError = Box<dyn Error + Send + Sync>;

/// The replay callback, type-erased.
pub(crate) type ReplayFn<'a> = dyn FnMut(Replayed) -> Result<(), BoxError> + 'a;

/// The journal's files in a directory, each kind sorted by LSN.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) segments: Vec<(Lsn, PathBuf)>,
    pub(crate) snapshots: Vec<(Lsn, PathBuf)>,
    pub(crate) tmps: Vec<PathBuf>,
}

/// Lists `dir`. Files the journal does not own are ignored.
pub(crate) fn list(dir: &Path) -> Result<Listing, JournalError> {
    let io = |e| JournalError::io(dir, "list directory", e);
    let mut listing = Listing::default();
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let Some(name) = entry.file_name().to_str().and_then(format::classify) else {
            continue;
        };
        match name {
            FileKind::Segment(lsn) => listing.segments.push((lsn, entry.path())),
            FileKind::Snapshot(lsn) => listing.snapshots.push((lsn, entry.path())),
            FileKind::SnapshotTmp => listing.tmps.push(entry.path()),
        }
    }
    listing.segments.sort();
    listing.snapshots.sort();
    Ok(listing)
}

/// What recovery found, and what [`apply`] must change.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Reported to the caller; `torn_tail` is what `apply` cuts.
    pub(crate) recovery: Recovery,
    /// The torn tail is the whole file (its header was incomplete):
    /// delete it rather than truncate it.
    pub(crate) torn_whole_file: bool,
    /// The segment to keep appending to, with its length after the cut.
    pub(crate) tail: Option<(PathBuf, Lsn, u64)>,
    /// Leftovers of an interrupted snapshot: segments it covers, older
    /// snapshots, `.tmp` files.
    pub(crate) obsolete: Vec<PathBuf>,
    /// Bytes of records replayed from the log.
    pub(crate) log_bytes: u64,
}

/// Reads the latest snapshot and the log, calling `replay` for every item
/// and record in order. Changes nothing on disk.
pub(crate) fn scan(dir: &Path, replay: &mut ReplayFn<'_>) -> Result<Plan, JournalError> {
    let listing = list(dir)?;
    let mut obsolete = listing.tmps.clone();
    let (snapshot_lsn, snapshot_items) = match listing.snapshots.split_last() {
        Some(((lsn, path), older)) => {
            obsolete.extend(older.iter().map(|(_, p)| p.clone()));
            (Some(*lsn), snapshot::read(path, *lsn, replay)?)
        }
        None => (None, 0),
    };
    let start = snapshot_lsn.unwrap_or(0);

    // Segments whose successor starts at or below the snapshot hold only
    // records the snapshot covers: a crash came between the snapshot's
    // rename and their deletion. They are not even read.
    let segs = &listing.segments;
    let skip = segs.windows(2).take_while(|w| w[1].0 <= start).count();
    obsolete.extend(segs[..skip].iter().map(|(_, p)| p.clone()));
    let live = &segs[skip..];

    let mut expected = match live.first() {
        Some((first, path)) if *first > start => return Err(gap(path, start, *first)),
        Some((first, _)) => *first,
        None => start,
    };
    let mut scan = SegmentScan {
        start,
        records: 0,
        bytes: 0,
        replay,
    };
    let mut torn = None;
    let mut torn_whole_file = false;
    let mut tail = None;
    for (k, (name_lsn, path)) in live.iter().enumerate() {
        if *name_lsn != expected {
            return Err(gap(path, expected, *name_lsn));
        }
        let is_last = k + 1 == live.len();
        match scan.segment(path, *name_lsn, is_last, &mut expected)? {
            End::Clean { len } => tail = Some((path.clone(), *name_lsn, len)),
            End::Torn {
                offset,
                bytes,
                whole_file,
            } => {
                torn = Some(TornTail {
                    file: path.clone(),
                    offset,
                    bytes,
                });
                torn_whole_file = whole_file;
                if !whole_file {
                    tail = Some((path.clone(), *name_lsn, offset));
                }
            }
        }
    }
    if expected < start {
        // The log ends before the snapshot begins: records are missing.
        let file = live
            .last()
            .map_or_else(|| dir.to_path_buf(), |(_, p)| p.clone());
        return Err(gap(&file, start, expected));
    }
    Ok(Plan {
        recovery: Recovery {
            snapshot_lsn,
            snapshot_items,
            log_records: scan.records,
            next_lsn: expected,
            torn_tail: torn,
        },
        torn_whole_file,
        tail,
        obsolete,
        log_bytes: scan.bytes,
    })
}

fn gap(file: &Path, expected: Lsn, found: Lsn) -> JournalError {
    JournalError::Gap {
        file: file.to_path_buf(),
        expected,
        found,
    }
}

/// How a segment ended.
enum End {
    /// Every byte belongs to a valid record.
    Clean { len: u64 },
    /// The bytes from `offset` on are an incomplete write.
    Torn {
        offset: u64,
        bytes: u64,
        whole_file: bool,
    },
}

/// State carried across the segments of one scan.
struct SegmentScan<'r, 'a> {
    /// Records below this are covered by the snapshot: checked, not replayed.
    start: Lsn,
    records: u64,
    bytes: u64,
    replay: &'r mut ReplayFn<'a>,
}

impl SegmentScan<'_, '_> {
    /// Checks and replays one segment. `expected` is the LSN its first
    /// record must have; on return, the LSN after its last valid record.
    fn segment(
        &mut self,
        path: &Path,
        name_lsn: Lsn,
        is_last: bool,
        expected: &mut Lsn,
    ) -> Result<End, JournalError> {
        // Whole-file read: segments are bounded by `segment_bytes` plus one
        // group commit, and decoding from a slice needs no copies.
        let data = fs::read(path).map_err(|e| JournalError::io(path, "read segment", e))?;
        let len = data.len() as u64;
        match format::parse_file_header(&data, SEGMENT_MAGIC) {
            Ok(first) if first == name_lsn => {}
            Ok(first) => {
                let reason = format!(
                    "the header says the segment starts at LSN {first}, its name says {name_lsn}"
                );
                return Err(JournalError::corrupt(path, 0, reason));
            }
            Err(format::HeaderError::Version(found)) => {
                return Err(JournalError::Version {
                    file: path.to_path_buf(),
                    found,
                })
            }
            // A crash right after the segment was created: nothing in it
            // was ever acknowledged, since its header is synced first.
            Err(format::HeaderError::Short(_) | format::HeaderError::Magic)
                if is_last && format::find_frame(&data).is_none() =>
            {
                return Ok(End::Torn {
                    offset: 0,
                    bytes: len,
                    whole_file: true,
                });
            }
            Err(e) => return Err(JournalError::corrupt(path, 0, e.to_string())),
        }

        let mut pos = FILE_HEADER;
        while pos < data.len() {
            let offset = pos as u64;
            let frame = match format::decode(&data[pos..]) {
                Ok(frame) => frame,
                Err(bad) => {
                    // A torn write leaves nothing valid after it; a damaged
                    // byte in the middle of the log does.
                    return match format::find_frame(&data[pos + 1..]) {
                        None if is_last => Ok(End::Torn {
                            offset,
                            bytes: len - offset,
                            whole_file: false,
                        }),
                        None => Err(JournalError::corrupt(path, offset, bad.to_string())),
                        Some(at) => {
                            let reason = format!(
                                "{bad}, yet a valid record follows at byte {}, so this is not a torn write",
                                pos + 1 + at
                            );
                            Err(JournalError::corrupt(path, offset, reason))
                        }
                    };
                }
            };
            if frame.lsn != *expected {
                // The CRC holds, so this is no torn write: never cut it.
                let reason = format!("the record has LSN {}, expected {}", frame.lsn, expected);
                return Err(JournalError::corrupt(path, offset, reason));
            }
            if frame.lsn >= self.start {
                let payload = frame.payload.to_vec();
                (self.replay)(Replayed::Log {
                    lsn: frame.lsn,
                    payload,
                })
                .map_err(|source| JournalError::Replay {
                    file: path.to_path_buf(),
                    offset,
                    source,
                })?;
                self.records += 1;
                self.bytes += frame.size() as u64;
            }
            *expected += 1;
            pos += frame.size();
        }
        Ok(End::Clean { len })
    }
}

/// Makes recovery's changes: cuts the torn tail, deletes obsolete files.
pub(crate) fn apply(dir: &Path, plan: &Plan) -> Result<(), JournalError> {
    let mut removed = false;
    if let Some(torn) = &plan.recovery.torn_tail {
        cut(&torn.file, torn.offset, plan.torn_whole_file)?;
        removed |= plan.torn_whole_file;
    }
    for path in &plan.obsolete {
        match fs::remove_file(path) {
            Ok(()) => removed = true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(JournalError::io(path, "remove", e)),
        }
    }
    if removed {
        storage::sync_dir(dir).map_err(|e| JournalError::io(dir, "fsync directory", e))?;
    }
    Ok(())
}

/// Truncates `file` to `offset` and syncs it, or removes it. The caller
/// syncs the directory after a removal.
pub(crate) fn cut(file: &Path, offset: u64, remove: bool) -> Result<(), JournalError> {
    if remove {
        return fs::remove_file(file).map_err(|e| JournalError::io(file, "remove", e));
    }
    let io = |e| JournalError::io(file, "truncate", e);
    let f = OpenOptions::new().write(true).open(file).map_err(io)?;
    f.set_len(offset).map_err(io)?;
    f.sync_all().map_err(io)
}
