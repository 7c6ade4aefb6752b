//! The model file: versioned, little-endian, checksummed.
//!
//! ```text
//! magic     8 bytes  "HLRMODEL"
//! version   u32      1
//! max_n     u8       longest n-gram (1..=3)
//! bits      u8       hash bits (8..=22)
//! reserved  u16      0
//! labels    u32      L
//! rows      u32      R (feature buckets, ascending)
//! entries   u32      E (non-zero weights)
//! temp      f32      softmax temperature
//! L × (u16 length, UTF-8 bytes)   labels, sorted, distinct
//! L × f32  bias      L × f32  scale (weight = q × scale)
//! R × (u32 bucket, f32 idf, u32 count)
//! E × (u16 label, i16 q)          grouped by row, labels ascending
//! u64       FNV-1a of every byte before it
//! ```

use super::{Entry, Inner, ModelError, Row, MAX_BITS, MAX_LABELS};
// FNV-1a: enough to catch a corrupt file.
use crate::hash::fnv1a;

const MAGIC: &[u8; 8] = b"HLRMODEL";
const VERSION: u32 = 1;

pub(crate) fn encode(m: &Inner) -> Vec<u8> {
    let rows = &m.rows[..m.rows.len() - 1];
    let mut out = Vec::with_capacity(64 + rows.len() * 12 + m.entries.len() * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&[m.max_n, m.bits, 0, 0]);
    out.extend_from_slice(&(m.labels.len() as u32).to_le_bytes());
    out.extend_from_slice(&(rows.len() as u32).to_le_bytes());
    out.extend_from_slice(&(m.entries.len() as u32).to_le_bytes());
    out.extend_from_slice(&m.temperature.to_le_bytes());
    for l in &m.labels {
        out.extend_from_slice(&(l.len() as u16).to_le_bytes());
        out.extend_from_slice(l.as_bytes());
    }
    for v in m.bias.iter().chain(&m.scale) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (i, r) in rows.iter().enumerate() {
        let count = m.rows[i + 1].start - r.start;
        out.extend_from_slice(&r.bucket.to_le_bytes());
        out.extend_from_slice(&r.idf.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
    }
    for e in &m.entries {
        out.extend_from_slice(&e.label.to_le_bytes());
        out.extend_from_slice(&e.q.to_le_bytes());
    }
    let sum = fnv1a(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// A bounds-checked little-endian reader.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.at..end];
                self.at = end;
                Ok(s)
            }
            None => Err(ModelError::Truncated {
                offset: self.at,
                needed: n - (self.bytes.len() - self.at.min(self.bytes.len())),
            }),
        }
    }
    fn u8(&mut self) -> Result<u8, ModelError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, ModelError> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().unwrap_or_default(),
        ))
    }
    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().unwrap_or_default(),
        ))
    }
    fn f32(&mut self) -> Result<f32, ModelError> {
        let v = f32::from_bits(self.u32()?);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(self.invalid(4, "a weight or constant is not a finite number"))
        }
    }
    fn invalid(&self, back: usize, reason: impl Into<String>) -> ModelError {
        ModelError::Invalid {
            offset: self.at.saturating_sub(back),
            reason: reason.into(),
        }
    }
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Inner, ModelError> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(MAGIC.len())? != MAGIC {
        return Err(ModelError::BadMagic);
    }
    let version = r.u32()?;
    if version != VERSION {
        return Err(ModelError::UnsupportedVersion {
            found: version,
            supported: VERSION,
        });
    }
    // The checksum first: a corrupt file is reported as corrupt, not as
    // whatever inconsistency the corruption happens to cause.
    const HEADER_AND_SUM: usize = 40;
    if bytes.len() < HEADER_AND_SUM {
        r.take(HEADER_AND_SUM - r.at)?;
    }
    let (body, tail) = bytes.split_at(bytes.len() - 8);
    let stored = u64::from_le_bytes(tail.try_into().unwrap_or_default());
    let computed = fnv1a(body);
    if stored != computed {
        return Err(ModelError::Checksum { stored, computed });
    }
    let mut r = Reader {
        bytes: body,
        at: r.at,
    };
    let max_n = r.u8()?;
    let bits = r.u8()?;
    if !(1..=super::features::MAX_N).contains(&max_n) || !(8..=MAX_BITS).contains(&bits) {
        return Err(r.invalid(
            2,
            format!("n-gram length {max_n} or hash bits {bits} out of range"),
        ));
    }
    r.u16()?;
    let n_labels = r.u32()? as usize;
    let n_rows = r.u32()? as usize;
    let n_entries = r.u32()? as usize;
    if !(2..=MAX_LABELS).contains(&n_labels) {
        return Err(r.invalid(12, format!("{n_labels} labels (2 to {MAX_LABELS} allowed)")));
    }
    // Each row and entry needs bytes in the file: refuse counts the file
    // cannot hold before allocating for them.
    let remaining = body.len() - r.at;
    if n_rows
        .saturating_mul(12)
        .saturating_add(n_entries.saturating_mul(4))
        > remaining
    {
        return Err(ModelError::Truncated {
            offset: r.at,
            needed: n_rows
                .saturating_mul(12)
                .saturating_add(n_entries.saturating_mul(4))
                - remaining,
        });
    }
    let temperature = r.f32()?;
    if temperature <= 0.0 {
        return Err(r.invalid(4, "temperature must be positive"));
    }
    let mut labels: Vec<String> = Vec::with_capacity(n_labels);
    for _ in 0..n_labels {
        let len = r.u16()? as usize;
        let raw = r.take(len)?;
        let label = std::str::from_utf8(raw)
            .map_err(|_| r.invalid(len, "a label is not UTF-8"))?
            .to_string();
        if label.is_empty() || labels.last().is_some_and(|p| *p >= label) {
            return Err(r.invalid(len, "labels must be non-empty, sorted and distinct"));
        }
        labels.push(label);
    }
    let mut floats = |n: usize| (0..n).map(|_| r.f32()).collect::<Result<Vec<f32>, _>>();
    let bias = floats(n_labels)?;
    let scale = floats(n_labels)?;
    let mut rows = Vec::with_capacity(n_rows + 1);
    let mut start = 0u32;
    for _ in 0..n_rows {
        let bucket = r.u32()?;
        let idf = r.f32()?;
        let count = r.u32()?;
        if bucket >> bits != 0 || rows.last().is_some_and(|p: &Row| p.bucket >= bucket) {
            return Err(r.invalid(
                12,
                "feature buckets must be ascending and within the hash range",
            ));
        }
        rows.push(Row { bucket, idf, start });
        start = start
            .checked_add(count)
            .filter(|&s| s as usize <= n_entries)
            .ok_or_else(|| r.invalid(4, "row weights exceed the entry count"))?;
    }
    if start as usize != n_entries {
        return Err(r.invalid(0, "row weights do not add up to the entry count"));
    }
    rows.push(Row {
        bucket: u32::MAX,
        idf: 0.0,
        start,
    });
    let mut entries = Vec::with_capacity(n_entries);
    for _ in 0..n_entries {
        let label = r.u16()?;
        let q = r.u16()? as i16;
        if label as usize >= n_labels {
            return Err(r.invalid(4, format!("weight for label {label} of {n_labels}")));
        }
        entries.push(Entry { label, q });
    }
    if r.at != body.len() {
        return Err(r.invalid(0, format!("{} bytes after the model", body.len() - r.at)));
    }
    Ok(Inner {
        labels,
        max_n,
        bits,
        temperature,
        bias,
        scale,
        rows,
        entries,
        lookup: Default::default(),
    })
}
