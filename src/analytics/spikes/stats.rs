//! Upper-tail p-values of the Poisson and negative-binomial distributions,
//! summed term by term in log space.
//!
//! No statistics crate: the detector needs one function, `P(X ≥ x)` for an
//! integer `x`, accurate far into the tail (p-values of 1e-10 decide
//! alerts), and summing the probability mass function from `x` outwards
//! gives that directly, where `1 − CDF` would lose every digit. The only
//! special function is `ln Γ` (Lanczos).

/// `ln Γ(x)` for `x > 0`: the Lanczos approximation with g = 7, n = 9
/// (relative error below 1e-14 over the range the tails use).
pub(crate) fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    #[allow(clippy::excessive_precision)]
    const C: [f64; 9] = [
        0.999_999_999_999_809_93,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_13,
        -176.615_029_162_140_59,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_571_6e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// A count distribution with mean `mean`: Poisson when `dispersion` is 0,
/// otherwise negative binomial with variance `mean + dispersion · mean²`
/// (size `1 / dispersion`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Counts {
    mean: f64,
    dispersion: f64,
}

impl Counts {
    /// `mean` ≥ 0 and `dispersion` ≥ 0, both finite (the detector's
    /// settings are checked when it is built).
    pub(crate) fn new(mean: f64, dispersion: f64) -> Counts {
        Counts {
            mean: mean.max(0.0),
            dispersion: dispersion.max(0.0),
        }
    }

    /// The variance.
    pub(crate) fn variance(&self) -> f64 {
        self.mean + self.dispersion * self.mean * self.mean
    }

    /// `ln P(X = k)`.
    fn ln_pmf(&self, k: f64) -> f64 {
        let m = self.mean;
        if self.dispersion == 0.0 {
            -m + k * m.ln() - ln_gamma(k + 1.0)
        } else {
            let r = 1.0 / self.dispersion;
            let (lp, lq) = ((r / (r + m)).ln(), (m / (r + m)).ln());
            ln_gamma(k + r) - ln_gamma(r) - ln_gamma(k + 1.0) + r * lp + k * lq
        }
    }

    /// `P(X = k + 1) / P(X = k)`.
    fn ratio_up(&self, k: f64) -> f64 {
        let m = self.mean;
        if self.dispersion == 0.0 {
            m / (k + 1.0)
        } else {
            let r = 1.0 / self.dispersion;
            (k + r) / (k + 1.0) * (m / (r + m))
        }
    }

    /// `P(X ≥ x)`, the upper-tail p-value of observing `x`.
    pub(crate) fn upper_tail(&self, x: u32) -> f64 {
        if x == 0 {
            return 1.0;
        }
        if self.mean <= 0.0 {
            return 0.0;
        }
        let xf = f64::from(x);
        if xf > self.mean {
            (self.ln_pmf(xf).exp() * self.sum_up(xf)).min(1.0)
        } else {
            (1.0 - self.ln_pmf(xf - 1.0).exp() * self.sum_down(xf - 1.0)).clamp(0.0, 1.0)
        }
    }

    /// `Σ_{k ≥ from} P(X = k) / P(X = from)`. Past the mean every ratio is
    /// below 1 and, for the negative binomial, falls towards `m / (r + m)`,
    /// so the rest after a term is at most that term × ratio / (1 − ratio).
    fn sum_up(&self, from: f64) -> f64 {
        let (mut sum, mut term, mut k) = (1.0, 1.0, from);
        for _ in 0..1_000_000 {
            let ratio = self.ratio_up(k);
            term *= ratio;
            sum += term;
            k += 1.0;
            let limit = if self.dispersion == 0.0 {
                ratio
            } else {
                let r = 1.0 / self.dispersion;
                ratio.max(self.mean / (r + self.mean))
            };
            if limit < 1.0 && term * limit / (1.0 - limit) < sum * 1e-16 {
                break;
            }
        }
        sum
    }

    /// `Σ_{0 ≤ k ≤ from} P(X = k) / P(X = from)`.
    fn sum_down(&self, from: f64) -> f64 {
        let (mut sum, mut term, mut k) = (1.0, 1.0, from);
        while k >= 1.0 {
            // P(X = k − 1) / P(X = k).
            term /= self.ratio_up(k - 1.0);
            sum += term;
            k -= 1.0;
            if term < sum * 1e-17 && k < self.mean {
                break;
            }
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE)
    }

    #[test]
    fn ln_gamma_matches_factorials_and_half_integers() {
        let mut fact = 1.0f64;
        for n in 1..30u32 {
            // Γ(n + 1) = n!
            fact *= f64::from(n);
            let got = ln_gamma(f64::from(n) + 1.0);
            assert!(close(got, fact.ln(), 1e-13), "{n}: {got} vs {}", fact.ln());
        }
        // Γ(1/2) = √π
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-13
        ));
        assert!(close(ln_gamma(0.1), 2.252_712_651_734_206, 1e-13));
    }

    /// Reference values from SciPy 1.17 (`poisson.sf(x - 1, mu)`).
    #[test]
    fn poisson_tail_matches_scipy() {
        let cases: [(u32, f64, f64); 10] = [
            (0, 3.0, 1.0),
            (1, 0.1, 0.095_162_581_964_040_44),
            (3, 0.1, 1.546_530_702_646_717_2e-4),
            (8, 0.1, 2.269_326_950_071_471e-13),
            (20, 1.0, 1.587_527_601_073_261_6e-19),
            (11, 1.0, 1.004_776_637_569_095e-8),
            (5, 5.0, 0.559_506_714_934_787_9),
            (150, 100.0, 1.884_210_466_038_684_4e-6),
            (130, 100.0, 2.282_093_054_316_954_4e-3),
            (1_001_000, 1e6, 0.158_776_219_137_773_6),
        ];
        for (x, mu, want) in cases {
            let got = Counts::new(mu, 0.0).upper_tail(x);
            // ln P(X = x) at a mean of 1e6 cancels terms of 1e7: 1e-8 is
            // what f64 leaves there.
            let tolerance = if mu > 1e4 { 1e-6 } else { 1e-9 };
            assert!(
                close(got, want, tolerance),
                "P(X ≥ {x} | {mu}) = {got}, want {want}"
            );
        }
    }

    /// Reference values from SciPy 1.17 (`nbinom.sf(x - 1, n, p)` with
    /// `n = 1 / dispersion`, `p = n / (n + mu)`).
    #[test]
    fn negative_binomial_tail_matches_scipy() {
        let cases: [(u32, f64, f64, f64); 6] = [
            (20, 1.0, 0.1, 6.594_120_361_871_726e-15),
            (5, 5.0, 0.1, 0.524_499_531_567_108_5),
            (150, 100.0, 0.1, 0.079_469_254_282_259_48),
            (400, 100.0, 0.05, 1.640_270_113_418_452_2e-14),
            (3, 0.1, 1.0, 7.513_148_009_015_786e-4),
            (12, 1.5, 0.1, 2.255_995_942_547_401e-6),
        ];
        for (x, mu, phi, want) in cases {
            let got = Counts::new(mu, phi).upper_tail(x);
            assert!(
                close(got, want, 1e-9),
                "NB P(X ≥ {x} | {mu}, {phi}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn tails_are_monotone_and_over_dispersion_widens_them() {
        for mu in [0.05, 0.7, 3.0, 40.0, 900.0] {
            let (p, nb) = (Counts::new(mu, 0.0), Counts::new(mu, 0.1));
            let mut last = (1.0, 1.0);
            for x in 0..(mu as u32 * 3 + 30) {
                let now = (p.upper_tail(x), nb.upper_tail(x));
                assert!(
                    now.0 <= last.0 + 1e-12 && now.1 <= last.1 + 1e-12,
                    "{mu} {x}"
                );
                if f64::from(x) > mu * 1.5 + 5.0 {
                    assert!(now.1 >= now.0, "NB tail thinner at {mu} {x}");
                }
                last = now;
            }
        }
    }

    #[test]
    fn zero_mean_and_far_tails_do_not_misbehave() {
        assert_eq!(Counts::new(0.0, 0.0).upper_tail(3), 0.0);
        assert_eq!(Counts::new(0.0, 0.0).upper_tail(0), 1.0);
        let far = Counts::new(1.0, 0.0).upper_tail(5_000);
        assert!((0.0..1e-300).contains(&far));
    }
}
