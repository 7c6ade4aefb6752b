//! A small seeded random number generator for reproducible results.

/// SplitMix64 (Steele, Lea and Flood, 2014; the constants of Vigna's
/// reference `splitmix64.c`): a 64-bit state advanced by a Weyl sequence and
/// scrambled. Small, fast and statistically fine for test data — not
/// cryptographic. Shared by the workload generator and the
/// model trainer, so the crate needs no `rand` at run time; public through
/// the `workload` module, so that simulations built on a workload draw from
/// the same generator.
///
/// # Examples
///
/// A roll that depends only on its inputs, the same on any thread and
/// platform:
///
/// ```
/// # #[cfg(feature = "workload")]
/// # fn main() {
/// use hotline_router::workload::SplitMix64;
///
/// let roll = |ticket: u64| SplitMix64::new(42 ^ ticket).next_f64();
/// assert_eq!(roll(7), roll(7));
/// assert!((0.0..1.0).contains(&roll(8)));
///
/// let mut rng = SplitMix64::new(1);
/// let die: Vec<usize> = (0..100).map(|_| rng.below(6)).collect();
/// assert!(die.iter().all(|&d| d < 6) && die.contains(&0) && die.contains(&5));
/// # }
/// # #[cfg(not(feature = "workload"))]
/// # fn main() {}
/// ```
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed` (one step is taken, so that nearby
    /// seeds start far apart).
    pub fn new(seed: u64) -> Self {
        let mut s = SplitMix64(seed);
        s.next_u64();
        s
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 bits.
    #[cfg(any(test, feature = "workload"))]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Shuffles `xs` in place (Fisher–Yates), the same way for a seed on
    /// every platform.
    pub(crate) fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            xs.swap(i, self.below(i + 1));
        }
    }

    /// Uniform in `0..n`, by multiply-shift (bias below 2⁻³² for `n` up to
    /// 2³²); 0 when `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}
