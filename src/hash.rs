//! Small fixed hashes shared across the crate: the same in every process
//! and every release. Not for hash tables over outside input, and not
//! against an adversary.

/// FNV-1a, 64 bits, for what is written to disk (the model file's
/// checksum, purged ticket ids in journal snapshots).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The 64-bit finaliser of MurmurHash3 (Appleby, public domain): a fixed,
/// well-mixed permutation of the key (every input bit moves every output
/// bit), for n-gram buckets and text signatures.
#[inline]
pub(crate) fn mix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_values() {
        // The reference values of the FNV-1a specification.
        assert_eq!(super::fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
