//! A small seeded random number generator for reproducible results.

/// SplitMix64 (Steele, Lea and Flood, 2014; the constants of Vigna's
/// reference `splitmix64.c`): a 64-bit state advanced by a Weyl sequence and
/// scrambled. Small, fast and statistically fine for test data — not
/// cryptographic. Shared by the workload generator and the
/// model trainer, so the crate needs no `rand` at run time.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        let mut s = SplitMix64(seed);
        s.next_u64();
        s
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 bits.
    #[cfg(any(test, feature = "workload"))]
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Shuffles `xs` in place (Fisher–Yates), the same way for a seed on
    /// every platform.
    pub(crate) fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            xs.swap(i, self.below(i + 1));
        }
    }

    /// Uniform in `0..n` (`n` > 0), by multiply-shift (bias below 2⁻³²
    /// for the small `n` used here).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}
