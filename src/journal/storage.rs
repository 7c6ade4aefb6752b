//! The writer's file operations, behind a trait so tests can make them fail.
//!
//! Only the writer thread's calls go through here: those are the ones whose
//! failure must poison the journal. Recovery and snapshots use `std::fs`
//! directly, since their errors are returned to the caller and change
//! nothing.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// An open segment the writer appends to.
pub(crate) trait SegmentFile: Send {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    fn sync_data(&mut self) -> io::Result<()>;
}

impl SegmentFile for File {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        Write::write_all(self, buf)
    }

    fn sync_data(&mut self) -> io::Result<()> {
        File::sync_data(self)
    }
}

/// Opens segments for the writer.
pub(crate) trait Storage: Send + Sync {
    /// Creates a new segment; fails if the file exists.
    fn create(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>>;
    /// Opens an existing segment to append to it.
    fn append(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>>;
}

/// The real file system.
pub(crate) struct Disk;

impl Storage for Disk {
    fn create(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        Ok(Box::new(
            OpenOptions::new().write(true).create_new(true).open(path)?,
        ))
    }

    fn append(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        Ok(Box::new(OpenOptions::new().append(true).open(path)?))
    }
}

/// `fsync` on a directory: makes file creations, renames and deletions in
/// it durable. Without it a crash can lose a new segment's directory entry
/// even though the segment's data was synced.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Opens `dir/LOCK` and takes an exclusive lock on it for as long as the
/// returned file lives. The lock (`flock` on Unix) is per open file, so a
/// second open in the same process is refused too, and the operating system
/// releases it if the process dies.
pub(crate) fn lock_dir(dir: &Path) -> Result<File, super::JournalError> {
    let path = dir.join("LOCK");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| super::JournalError::io(&path, "open the lock file", e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(super::JournalError::Locked {
            dir: dir.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(super::JournalError::io(&path, "lock", e)),
    }
}
