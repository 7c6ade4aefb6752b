//! How items are drawn: the daily rhythm, the season's category weights,
//! broken lines, and sampling from cumulative weights.

use jiff::Timestamp;

use super::tables::Kind;
use crate::rng::SplitMix64;

/// Calls per minute of the day, relative: a low night, a morning peak
/// around 10:00 and an evening one around 20:00.
pub(super) fn minute_weight(m: usize) -> f64 {
    let h = m as f64 / 60.0;
    let bump = |centre: f64, width: f64| (-((h - centre) / width).powi(2)).exp();
    0.04 + 0.35 * bump(14.5, 4.0) + bump(10.0, 1.2) + 0.8 * bump(20.0, 1.1)
}

pub(super) fn kind_weight(k: &Kind, winter: bool, cold: bool) -> f64 {
    match k.code {
        "heating" if cold => 20.0 * if winter { 150.0 } else { 4.0 },
        "heating" if winter => 150.0,
        "heating" => 4.0,
        _ => f64::from(k.weight),
    }
}

/// A broken JSON line of one of several kinds.
pub(super) fn malformed(rng: &mut SplitMix64, id: &str, at: Timestamp) -> String {
    match rng.below(5) {
        0 => {
            let full = format!(
                r#"{{"id":"{id}","text":"楼道灯坏了好几天了","channel":"phone","received_at":"{at}"}}"#
            );
            let mut cut = 1 + rng.below(full.len() - 2);
            while !full.is_char_boundary(cut) {
                cut -= 1;
            }
            full[..cut].to_string()
        }
        1 => format!(r#"{{"id":"{id}","text":"暖气不热","lon":"116.40","lat":"39.91"}}"#),
        2 => format!(r#"{{"id":{},"text":"垃圾没人清运"}}"#, rng.below(1_000_000)),
        3 => format!(r#"{{"id":"{id}","txt":"小区停水了","channel":"fax"}}"#),
        _ => ["", " ", "{}", "null", "[]"][rng.below(5)].to_string(),
    }
}

/// Cumulative weights, sampled by binary search.
#[derive(Clone, Debug)]
pub(super) struct Cumulative(Vec<f64>);

impl Cumulative {
    pub(super) fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut sum = 0.0;
        Cumulative(
            weights
                .into_iter()
                .map(|w| {
                    sum += w.max(0.0);
                    sum
                })
                .collect(),
        )
    }

    pub(super) fn sample(&self, rng: &mut SplitMix64) -> usize {
        let total = self.0.last().copied().unwrap_or(0.0);
        let x = rng.next_f64() * total;
        self.0.partition_point(|&c| c <= x).min(self.0.len() - 1)
    }

    /// The continuous inverse CDF: `q` in [0, 1) → a position in
    /// [0, len), linear within each bucket.
    pub(super) fn inverse(&self, q: f64) -> f64 {
        let total = self.0.last().copied().unwrap_or(0.0);
        let x = q * total;
        let i = self.0.partition_point(|&c| c <= x).min(self.0.len() - 1);
        let lo = if i == 0 { 0.0 } else { self.0[i - 1] };
        let width = self.0[i] - lo;
        let frac = if width > 0.0 { (x - lo) / width } else { 0.0 };
        i as f64 + frac.clamp(0.0, 0.999_999)
    }
}
