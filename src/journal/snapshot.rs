//! Snapshot files: written to a `.tmp`, synced, renamed; read streaming.
//!
//! A snapshot is complete only if it ends with its footer, and it only gets
//! its `.snap` name after it was synced, so an incomplete `.snap` means the
//! disk lost data: recovery reports it instead of falling back to an older
//! state that the log no longer extends.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use super::error::JournalError;
use super::format::{self, FILE_HEADER, FOOTER_LEN, FRAME_HEADER, SNAPSHOT_MAGIC};
use super::recover::ReplayFn;
use super::{Lsn, Replayed};

const BUFFER: usize = 256 << 10;

/// Writes `snapshot-{lsn}.snap` atomically from `items`; returns the item
/// count and the file's size. On error the `.tmp` is removed and no
/// `.snap` appears.
pub(crate) fn write<I>(
    dir: &Path,
    lsn: Lsn,
    items: I,
    limit: u32,
) -> Result<(u64, u64), JournalError>
where
    I: IntoIterator<Item = Vec<u8>>,
{
    let tmp = dir.join(format::snapshot_tmp_name(lsn));
    let path = dir.join(format::snapshot_name(lsn));
    let result = write_tmp(&tmp, lsn, items, limit).and_then(|written| {
        fs::rename(&tmp, &path).map_err(|e| JournalError::io(&path, "rename a snapshot to", e))?;
        super::storage::sync_dir(dir).map_err(|e| JournalError::io(dir, "fsync directory", e))?;
        Ok(written)
    });
    if result.is_err() {
        // Best effort: a leftover `.tmp` is deleted at the next open anyway.
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_tmp<I>(tmp: &Path, lsn: Lsn, items: I, limit: u32) -> Result<(u64, u64), JournalError>
where
    I: IntoIterator<Item = Vec<u8>>,
{
    let io = |e| JournalError::io(tmp, "write snapshot", e);
    let file = File::create(tmp).map_err(io)?;
    let mut out = BufWriter::with_capacity(BUFFER, file);
    out.write_all(&format::file_header(SNAPSHOT_MAGIC, lsn))
        .map_err(io)?;
    let mut count = 0u64;
    let mut bytes = (FILE_HEADER + FRAME_HEADER) as u64; // header and footer
    for item in items {
        if item.len() > limit as usize {
            return Err(JournalError::TooLarge {
                bytes: item.len() as u64,
                limit,
            });
        }
        // Fits: `limit < u32::MAX`.
        let header =
            format::frame_header(item.len() as u32, format::frame_crc(count, &item), count);
        out.write_all(&header).map_err(io)?;
        out.write_all(&item).map_err(io)?;
        bytes += (FRAME_HEADER + item.len()) as u64;
        count += 1;
    }
    let footer = format::frame_header(FOOTER_LEN, format::footer_crc(count, lsn), count);
    out.write_all(&footer).map_err(io)?;
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all()
        .map_err(|e| JournalError::io(tmp, "fsync snapshot", e))?;
    Ok((count, bytes))
}

/// Replays every item of the snapshot at `path`, whose name says `lsn`;
/// returns the item count. Any defect, including a missing footer, is
/// [`JournalError::Corrupt`] at the offset of the frame where it shows.
pub(crate) fn read(path: &Path, lsn: Lsn, replay: &mut ReplayFn<'_>) -> Result<u64, JournalError> {
    let io = |e| JournalError::io(path, "read snapshot", e);
    let corrupt = |offset: u64, reason: String| JournalError::corrupt(path, offset, reason);
    let file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let mut input = BufReader::with_capacity(BUFFER, file);

    let mut header = [0; FILE_HEADER];
    let got = read_full(&mut input, &mut header).map_err(io)?;
    match format::parse_file_header(&header[..got], SNAPSHOT_MAGIC) {
        Ok(found) if found == lsn => {}
        Ok(found) => {
            return Err(corrupt(
                0,
                format!("header says LSN {found}, file name says {lsn}"),
            ))
        }
        Err(format::HeaderError::Version(found)) => {
            return Err(JournalError::Version {
                file: path.to_path_buf(),
                found,
            })
        }
        Err(e) => return Err(corrupt(0, e.to_string())),
    }

    let mut pos = FILE_HEADER as u64;
    let mut index = 0u64;
    loop {
        let mut frame = [0; FRAME_HEADER];
        let got = read_full(&mut input, &mut frame).map_err(io)?;
        if got < FRAME_HEADER {
            let reason =
                format!("the snapshot ends without its footer ({got} bytes of a frame header)");
            return Err(corrupt(pos, reason));
        }
        let len = format::frame_len(&frame);
        let stored = format::frame_stored_crc(&frame);
        let field = format::frame_lsn(&frame);
        if len == FOOTER_LEN {
            if stored != format::footer_crc(field, lsn) {
                return Err(corrupt(pos, "footer CRC mismatch".into()));
            }
            if field != index {
                return Err(corrupt(
                    pos,
                    format!("footer counts {field} items, the file holds {index}"),
                ));
            }
            let end = pos + FRAME_HEADER as u64;
            if end != size {
                return Err(corrupt(
                    end,
                    format!("{} bytes after the footer", size - end.min(size)),
                ));
            }
            return Ok(index);
        }
        // Checked against the file's size before allocating.
        let left = size.saturating_sub(pos + FRAME_HEADER as u64);
        if u64::from(len) > left {
            return Err(corrupt(
                pos,
                format!("item length {len} runs past the end of the file"),
            ));
        }
        let mut item = vec![0; len as usize];
        let got = read_full(&mut input, &mut item).map_err(io)?;
        if got < item.len() {
            return Err(corrupt(pos, "the file shrank while it was read".into()));
        }
        let computed = format::frame_crc(field, &item);
        if stored != computed {
            let reason = format!("CRC mismatch: stored {stored:#010x}, computed {computed:#010x}");
            return Err(corrupt(pos, reason));
        }
        if field != index {
            return Err(corrupt(
                pos,
                format!("item index {field}, expected {index}"),
            ));
        }
        replay(Replayed::Snapshot(item)).map_err(|source| JournalError::Replay {
            file: path.to_path_buf(),
            offset: pos,
            source,
        })?;
        pos += FRAME_HEADER as u64 + u64::from(len);
        index += 1;
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
