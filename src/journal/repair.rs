//! [`Journal::repair`](super::Journal::repair): cut the log where open
//! would complain, so that it opens again.

use std::fs;
use std::path::Path;

use super::error::JournalError;
use super::format::{self, FileKind, FILE_HEADER, SEGMENT_MAGIC};
use super::recover::{self, Listing};
use super::{storage, RepairReport};

pub(crate) fn repair(dir: &Path) -> Result<RepairReport, JournalError> {
    let _lock = storage::lock_dir(dir)?;
    let mut report = RepairReport {
        file: None,
        offset: 0,
        bytes_dropped: 0,
        segments_removed: Vec::new(),
    };
    // Every cut removes the rest of the log after it, so each round leaves
    // fewer segments: this many rounds always reach a clean scan.
    let rounds = recover::list(dir)?.segments.len() + 1;
    for _ in 0..rounds {
        let (file, offset) = match recover::scan(dir, &mut |_| Ok(())) {
            Ok(plan) => {
                if let Some(torn) = plan.recovery.torn_tail {
                    recover::cut(&torn.file, torn.offset, plan.torn_whole_file)?;
                    if plan.torn_whole_file {
                        report.segments_removed.push(torn.file.clone());
                        sync_dir(dir)?;
                    }
                    report.bytes_dropped += torn.bytes;
                    note_cut(&mut report, &torn.file, torn.offset);
                }
                return Ok(report);
            }
            Err(JournalError::Corrupt { file, offset, .. }) if is_segment(&file) => (file, offset),
            Err(JournalError::Gap { file, .. }) if is_segment(&file) => (file, 0),
            // A version this build does not know in *every* segment is a
            // journal written by another build, not damage: leave it.
            Err(JournalError::Version { file, found }) => {
                if !any_readable_segment(&recover::list(dir)?) {
                    return Err(JournalError::Version { file, found });
                }
                (file, 0)
            }
            // Snapshots cannot be cut, and I/O errors are not damage.
            Err(e) => return Err(e),
        };
        cut_from(dir, &file, offset, &mut report)?;
    }
    // Unreachable in theory; if it happens, say what is still wrong.
    recover::scan(dir, &mut |_| Ok(()))?;
    Ok(report)
}

/// Cuts segment `file` at `offset` (removing it if the cut is inside its
/// header) and removes every later segment.
fn cut_from(
    dir: &Path,
    file: &Path,
    offset: u64,
    report: &mut RepairReport,
) -> Result<(), JournalError> {
    let listing = recover::list(dir)?;
    let Some(&(first, _)) = listing.segments.iter().find(|(_, p)| p == file) else {
        return Err(JournalError::corrupt(
            file,
            offset,
            "the segment vanished during repair",
        ));
    };
    let len = file_len(file)?;
    let whole = offset < FILE_HEADER as u64;
    let offset = if whole { 0 } else { offset.min(len) };
    recover::cut(file, offset, whole)?;
    report.bytes_dropped += len - offset;
    if whole {
        report.segments_removed.push(file.to_path_buf());
    }
    note_cut(report, file, offset);
    for (_, later) in listing.segments.iter().filter(|(lsn, _)| *lsn > first) {
        report.bytes_dropped += file_len(later)?;
        fs::remove_file(later).map_err(|e| JournalError::io(later, "remove", e))?;
        report.segments_removed.push(later.clone());
    }
    sync_dir(dir)
}

/// The report names the first cut; later rounds only add bytes.
fn note_cut(report: &mut RepairReport, file: &Path, offset: u64) {
    if report.file.is_none() {
        report.file = Some(file.to_path_buf());
        report.offset = offset;
    }
}

fn is_segment(file: &Path) -> bool {
    let name = file.file_name().and_then(|n| n.to_str());
    matches!(name.and_then(format::classify), Some(FileKind::Segment(_)))
}

/// Whether some segment has a header this build reads.
fn any_readable_segment(listing: &Listing) -> bool {
    listing.segments.iter().any(|(_, path)| {
        let mut header = [0; FILE_HEADER];
        fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
            .is_ok_and(|()| format::parse_file_header(&header, SEGMENT_MAGIC).is_ok())
    })
}

fn file_len(path: &Path) -> Result<u64, JournalError> {
    Ok(fs::metadata(path)
        .map_err(|e| JournalError::io(path, "stat", e))?
        .len())
}

fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    storage::sync_dir(dir).map_err(|e| JournalError::io(dir, "fsync directory", e))
}
