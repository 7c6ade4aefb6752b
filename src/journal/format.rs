//! The bytes on disk: file names, file headers and record frames.
//!
//! Everything here is pure: no I/O, no allocation driven by a length read
//! from disk. The layout is described in the module docs of
//! [`journal`](super); this file is its single definition.

use super::Lsn;

/// Length of a segment or snapshot file header.
pub(crate) const FILE_HEADER: usize = 24;
/// Length of a record (or snapshot item) frame header.
pub(crate) const FRAME_HEADER: usize = 16;
/// Magic at the start of every segment.
pub(crate) const SEGMENT_MAGIC: [u8; 8] = *b"HLRJRNL\0";
/// Magic at the start of every snapshot.
pub(crate) const SNAPSHOT_MAGIC: [u8; 8] = *b"HLRSNAP\0";
/// The only format version this build reads and writes.
pub(crate) const VERSION: u32 = 1;
/// The `len` of a snapshot's footer frame. No item can have it, because
/// `JournalOptions::max_record_bytes` is capped one below.
pub(crate) const FOOTER_LEN: u32 = u32::MAX;

/// `journal-{first_lsn:020}.log`
pub(crate) fn segment_name(first: Lsn) -> String {
    format!("journal-{first:020}.log")
}

/// `snapshot-{lsn:020}.snap`
pub(crate) fn snapshot_name(lsn: Lsn) -> String {
    format!("snapshot-{lsn:020}.snap")
}

/// `snapshot-{lsn:020}.tmp`: a snapshot being written.
pub(crate) fn snapshot_tmp_name(lsn: Lsn) -> String {
    format!("snapshot-{lsn:020}.tmp")
}

/// What a file in a journal directory is, judged by its name alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileKind {
    Segment(Lsn),
    Snapshot(Lsn),
    SnapshotTmp,
}

/// Classifies a file name; `None` for names the journal does not own (such
/// as `LOCK`), which it leaves alone.
pub(crate) fn classify(name: &str) -> Option<FileKind> {
    if let Some(lsn) = lsn_between(name, "journal-", ".log") {
        return Some(FileKind::Segment(lsn));
    }
    if let Some(lsn) = lsn_between(name, "snapshot-", ".snap") {
        return Some(FileKind::Snapshot(lsn));
    }
    lsn_between(name, "snapshot-", ".tmp").map(|_| FileKind::SnapshotTmp)
}

/// Exactly 20 ASCII digits between `prefix` and `suffix`, as we write them.
fn lsn_between(name: &str, prefix: &str, suffix: &str) -> Option<Lsn> {
    let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The 24-byte header of a segment or snapshot.
pub(crate) fn file_header(magic: [u8; 8], lsn: Lsn) -> [u8; FILE_HEADER] {
    let mut h = [0; FILE_HEADER];
    h[..8].copy_from_slice(&magic);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    // 12..16: reserved, zero.
    h[16..].copy_from_slice(&lsn.to_le_bytes());
    h
}

/// Why a file header was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// Fewer than 24 bytes.
    Short(usize),
    Magic,
    Version(u32),
    Reserved(u32),
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Short(n) => write!(
                f,
                "the file header is cut short: {n} of {FILE_HEADER} bytes"
            ),
            Self::Magic => f.write_str("the file does not start with the expected magic bytes"),
            Self::Version(v) => write!(f, "unknown format version {v}"),
            Self::Reserved(r) => write!(f, "the reserved header field is {r:#x}, expected 0"),
        }
    }
}

/// Parses a file header, returning its LSN (a segment's first LSN, a
/// snapshot's LSN).
pub(crate) fn parse_file_header(bytes: &[u8], magic: [u8; 8]) -> Result<Lsn, HeaderError> {
    let Some(h) = bytes.get(..FILE_HEADER) else {
        return Err(HeaderError::Short(bytes.len()));
    };
    if h[..8] != magic {
        return Err(HeaderError::Magic);
    }
    let version = u32_at(h, 8);
    if version != VERSION {
        return Err(HeaderError::Version(version));
    }
    let reserved = u32_at(h, 12);
    if reserved != 0 {
        return Err(HeaderError::Reserved(reserved));
    }
    Ok(u64_at(h, 16))
}

/// A frame header: payload length, CRC, and LSN (or item index).
pub(crate) fn frame_header(len: u32, crc: u32, lsn: u64) -> [u8; FRAME_HEADER] {
    let mut h = [0; FRAME_HEADER];
    h[..4].copy_from_slice(&len.to_le_bytes());
    h[4..8].copy_from_slice(&crc.to_le_bytes());
    h[8..].copy_from_slice(&lsn.to_le_bytes());
    h
}

/// The CRC of a frame: over the 8 LSN bytes, then the payload. Covering
/// the LSN means a frame copied to the wrong place does not verify.
pub(crate) fn frame_crc(lsn: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&lsn.to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// The CRC of a snapshot footer: over the item count, then the snapshot
/// LSN, so a footer copied from another snapshot does not verify.
pub(crate) fn footer_crc(count: u64, snapshot_lsn: Lsn) -> u32 {
    frame_crc(count, &snapshot_lsn.to_le_bytes())
}

/// A valid frame found in a buffer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    pub(crate) lsn: u64,
    pub(crate) payload: &'a [u8],
}

impl Frame<'_> {
    /// Bytes the frame takes on disk, header included.
    pub(crate) fn size(&self) -> usize {
        FRAME_HEADER + self.payload.len()
    }
}

/// Why the bytes at some offset are not a valid record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BadFrame {
    /// Fewer than 16 bytes left.
    ShortHeader(usize),
    /// `len` is 0: never written by `append`, typical of a zero-filled tail.
    Empty,
    /// `len` runs past the end of the file.
    PastEnd {
        len: u32,
        left: usize,
    },
    Crc {
        stored: u32,
        computed: u32,
    },
}

impl std::fmt::Display for BadFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::ShortHeader(n) => {
                write!(f, "record header cut short: {n} of {FRAME_HEADER} bytes")
            }
            Self::Empty => f.write_str("record length is 0"),
            Self::PastEnd { len, left } => write!(
                f,
                "record length {len} runs past the end of the file ({left} payload bytes left)"
            ),
            Self::Crc { stored, computed } => {
                write!(
                    f,
                    "CRC mismatch: stored {stored:#010x}, computed {computed:#010x}"
                )
            }
        }
    }
}

/// Decodes the log record that starts at `buf[0]`.
///
/// The length is checked against what is left in `buf` before any use, so
/// a damaged length can never cause an allocation or an out-of-bounds read.
pub(crate) fn decode(buf: &[u8]) -> Result<Frame<'_>, BadFrame> {
    if buf.len() < FRAME_HEADER {
        return Err(BadFrame::ShortHeader(buf.len()));
    }
    let len = u32_at(buf, 0);
    let left = buf.len() - FRAME_HEADER;
    if len == 0 {
        return Err(BadFrame::Empty);
    }
    // `len as usize` is lossless on the 32- and 64-bit targets we build for.
    if len as usize > left {
        return Err(BadFrame::PastEnd { len, left });
    }
    let stored = u32_at(buf, 4);
    let lsn = u64_at(buf, 8);
    let payload = &buf[FRAME_HEADER..FRAME_HEADER + len as usize];
    let computed = frame_crc(lsn, payload);
    if stored != computed {
        return Err(BadFrame::Crc { stored, computed });
    }
    Ok(Frame { lsn, payload })
}

/// The first offset in `buf` at which a valid record starts, whatever its
/// LSN. Recovery uses it to tell a torn tail (nothing valid after the bad
/// bytes) from corruption (valid records after them).
///
/// Cost: one length check per byte, and a CRC only where the length fits.
pub(crate) fn find_frame(buf: &[u8]) -> Option<usize> {
    (0..buf.len().saturating_sub(FRAME_HEADER)).find(|&at| decode(&buf[at..]).is_ok())
}

/// One `append` call's records, encoded on the caller's thread.
///
/// The LSNs are not known until the journal's lock is taken, yet the CRC
/// covers them. So the payload's CRC and the factor that shifts a CRC past
/// the payload are computed here, outside the lock; [`Batch::stamp`] then
/// needs only the 8 LSN bytes' CRC and one carry-less multiply per record.
#[derive(Debug)]
pub(crate) struct Batch {
    bytes: Vec<u8>,
    records: Vec<PendingCrc>,
}

#[derive(Debug)]
struct PendingCrc {
    /// Offset of the frame header in `bytes`.
    at: usize,
    payload_crc: u32,
    /// x^(8·len) mod P: multiplying a CRC by it appends `len` zero bytes.
    shift: u32,
}

impl Batch {
    /// Frames `payloads`. The caller has checked that each is non-empty and
    /// at most `u32::MAX - 1` bytes.
    pub(crate) fn encode(payloads: &[&[u8]]) -> Batch {
        let total = payloads.iter().map(|p| FRAME_HEADER + p.len()).sum();
        let mut bytes = Vec::with_capacity(total);
        let mut records = Vec::with_capacity(payloads.len());
        for p in payloads {
            records.push(PendingCrc {
                at: bytes.len(),
                payload_crc: crc32fast::hash(p),
                shift: x8n(p.len() as u64),
            });
            // `p.len()` fits: checked by the caller.
            bytes.extend_from_slice(&frame_header(p.len() as u32, 0, 0));
            bytes.extend_from_slice(p);
        }
        Batch { bytes, records }
    }

    /// Number of records.
    pub(crate) fn len(&self) -> u64 {
        self.records.len() as u64
    }

    /// Writes LSNs `first..` and the CRCs that cover them into the frames.
    pub(crate) fn stamp(&mut self, first: Lsn) {
        for (i, r) in self.records.iter().enumerate() {
            let lsn = first + i as u64;
            let lsn_bytes = lsn.to_le_bytes();
            // crc(A ++ B) = crc(A)·x^(8|B|) xor crc(B): zlib's crc32_combine.
            let crc = multiply(r.shift, crc32fast::hash(&lsn_bytes)) ^ r.payload_crc;
            self.bytes[r.at + 4..r.at + 8].copy_from_slice(&crc.to_le_bytes());
            self.bytes[r.at + 8..r.at + 16].copy_from_slice(&lsn_bytes);
        }
    }

    /// Moves the encoded frames onto the end of `pending`: without a copy
    /// when `pending` is empty, as it is whenever the writer keeps up.
    pub(crate) fn append_to(mut self, pending: &mut Vec<u8>) {
        if pending.is_empty() {
            std::mem::swap(pending, &mut self.bytes);
        } else {
            pending.extend_from_slice(&self.bytes);
        }
    }

    /// The encoded frames.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The reflected CRC-32 (IEEE) polynomial.
const POLY: u32 = 0xedb8_8320;

/// a(x)·b(x) mod P(x), bit-reflected (zlib's `multmodp`).
const fn multiply(a: u32, mut b: u32) -> u32 {
    let mut p = 0u32;
    let mut i = 0;
    while i < 32 {
        p ^= b & ((a >> (31 - i)) & 1).wrapping_neg();
        b = (b >> 1) ^ ((b & 1).wrapping_neg() & POLY);
        i += 1;
    }
    p
}

/// `X8N_POW2[k]` = x^(8·2^k) mod P.
const X8N_POW2: [u32; 64] = {
    let mut t = [0u32; 64];
    t[0] = 0x0080_0000; // x^8, reflected
    let mut k = 1;
    while k < 64 {
        t[k] = multiply(t[k - 1], t[k - 1]);
        k += 1;
    }
    t
};

/// Payloads shorter than this find their shift factor in [`X8N_SMALL`].
const SMALL: usize = 4096;

/// `X8N_SMALL[n]` = x^(8·n) mod P: a lookup instead of several multiplies
/// per record for the common, small payload (16 KiB, built at compile time).
static X8N_SMALL: [u32; SMALL] = {
    let mut t = [0u32; SMALL];
    t[0] = 0x8000_0000; // x^0, reflected
    let mut n = 1;
    while n < SMALL {
        t[n] = multiply(t[n - 1], 0x0080_0000);
        n += 1;
    }
    t
};

/// x^(8·len) mod P, reflected: the table for the low 12 bits of `len`, one
/// multiply per set bit above them.
fn x8n(len: u64) -> u32 {
    let mut p = X8N_SMALL[(len % SMALL as u64) as usize];
    let high = len >> SMALL.trailing_zeros();
    for (k, &pow) in X8N_POW2
        .iter()
        .enumerate()
        .skip(SMALL.trailing_zeros() as usize)
    {
        if high >> (k - SMALL.trailing_zeros() as usize) & 1 == 1 {
            p = multiply(pow, p);
        }
    }
    p
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Reads the `len` field of a frame header.
pub(crate) fn frame_len(h: &[u8; FRAME_HEADER]) -> u32 {
    u32_at(h, 0)
}

/// Reads the `crc` field of a frame header.
pub(crate) fn frame_stored_crc(h: &[u8; FRAME_HEADER]) -> u32 {
    u32_at(h, 4)
}

/// Reads the `lsn` field of a frame header.
pub(crate) fn frame_lsn(h: &[u8; FRAME_HEADER]) -> u64 {
    u64_at(h, 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(lsn: u64, payload: &[u8]) -> Vec<u8> {
        let mut b = frame_header(payload.len() as u32, frame_crc(lsn, payload), lsn).to_vec();
        b.extend_from_slice(payload);
        b
    }

    #[test]
    fn stamped_crc_equals_direct_crc() {
        // The combine arithmetic must agree with a plain CRC over
        // lsn ++ payload for every length class and LSN.
        let data: Vec<u8> = (0..70_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let lens = (1..300).chain([
            511, 512, 513, 4095, 4096, 4097, 8191, 8192, 65_535, 65_536, 69_999,
        ]);
        for (n, len) in lens.enumerate() {
            let payload = &data[..len];
            let mut batch = Batch::encode(&[payload, &data[1..=len]]);
            let first = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            batch.stamp(first);
            let mut want = frame(first, payload);
            want.extend(frame(first.wrapping_add(1), &data[1..=len]));
            assert_eq!(batch.bytes(), &want[..], "len {len}");
        }
    }

    #[test]
    fn decode_round_trip_and_rejections() {
        let f = frame(7, b"hello");
        assert_eq!(
            decode(&f),
            Ok(Frame {
                lsn: 7,
                payload: b"hello"
            })
        );
        assert_eq!(decode(&f[..10]), Err(BadFrame::ShortHeader(10)));
        assert!(matches!(
            decode(&f[..20]),
            Err(BadFrame::PastEnd { len: 5, left: 4 })
        ));
        assert_eq!(decode(&[0; 32]), Err(BadFrame::Empty));
        let mut flipped = f.clone();
        flipped[18] ^= 1;
        assert!(matches!(decode(&flipped), Err(BadFrame::Crc { .. })));
        // A huge length is rejected before anything is sized by it.
        let mut huge = f;
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode(&huge), Err(BadFrame::PastEnd { .. })));
    }

    #[test]
    fn find_frame_skips_garbage() {
        let mut buf = vec![0xAB; 5];
        buf.extend(frame(3, b"x"));
        assert_eq!(find_frame(&buf), Some(5));
        assert_eq!(find_frame(&[0; 100]), None);
        assert_eq!(find_frame(&[]), None);
    }

    #[test]
    fn headers_round_trip_and_reject() {
        let h = file_header(SEGMENT_MAGIC, 42);
        assert_eq!(parse_file_header(&h, SEGMENT_MAGIC), Ok(42));
        assert_eq!(
            parse_file_header(&h, SNAPSHOT_MAGIC),
            Err(HeaderError::Magic)
        );
        assert_eq!(
            parse_file_header(&h[..23], SEGMENT_MAGIC),
            Err(HeaderError::Short(23))
        );
        let mut v = h;
        v[8] = 2;
        assert_eq!(
            parse_file_header(&v, SEGMENT_MAGIC),
            Err(HeaderError::Version(2))
        );
        let mut r = h;
        r[13] = 1;
        assert_eq!(
            parse_file_header(&r, SEGMENT_MAGIC),
            Err(HeaderError::Reserved(0x100))
        );
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(segment_name(5), "journal-00000000000000000005.log");
        assert_eq!(
            classify(&segment_name(u64::MAX)),
            Some(FileKind::Segment(u64::MAX))
        );
        assert_eq!(classify(&snapshot_name(9)), Some(FileKind::Snapshot(9)));
        assert_eq!(classify(&snapshot_tmp_name(9)), Some(FileKind::SnapshotTmp));
        for other in [
            "LOCK",
            "journal-5.log",
            "journal-0000000000000000000x.log",
            "x.snap",
        ] {
            assert_eq!(classify(other), None, "{other}");
        }
    }
}
