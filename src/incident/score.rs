//! B-cubed precision, recall and F1: how well a clustering of tickets into
//! incidents agrees with a gold one.
//!
//! For each ticket, precision is the share of its predicted incident that
//! truly belongs with it, and recall the share of its true incident that was
//! put with it; both are averaged over tickets (Bagga and Baldwin 1998;
//! Amigó et al. 2009 show B-cubed is the one common cluster metric that
//! satisfies all four of their formal constraints). A ticket alone in both
//! clusterings scores 1 on both, so a stream of mostly single reports is
//! easy to score well on: compare against a baseline, as `tests/incidents.rs`
//! does.

use std::collections::HashMap;
use std::hash::Hash;

/// B-cubed scores, each in 0..=1.
///
/// # Examples
///
/// ```
/// use hotline_router::incident::score::bcubed;
///
/// // Gold: {a, b, c} {d, e}. Predicted: {a, b} {c, d, e}.
/// let gold = [1, 1, 1, 2, 2];
/// let predicted = ["x", "x", "y", "y", "y"];
/// let s = bcubed(&gold, &predicted)?;
/// assert!((s.precision - 11.0 / 15.0).abs() < 1e-12);
/// assert!((s.recall - 11.0 / 15.0).abs() < 1e-12);
/// assert!((s.f1 - 11.0 / 15.0).abs() < 1e-12);
/// # Ok::<(), hotline_router::incident::score::ScoreError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BCubed {
    /// Mean over items of |predicted cluster ∩ gold cluster| / |predicted cluster|.
    pub precision: f64,
    /// Mean over items of |predicted cluster ∩ gold cluster| / |gold cluster|.
    pub recall: f64,
    /// The harmonic mean of precision and recall.
    pub f1: f64,
}

/// Why two labelings could not be scored.
///
/// # Examples
///
/// ```
/// use hotline_router::incident::score::{bcubed, ScoreError};
///
/// let err = bcubed(&[1, 2], &[1]).unwrap_err();
/// assert_eq!(err, ScoreError::Lengths { gold: 2, predicted: 1 });
/// assert_eq!(bcubed::<u8, u8>(&[], &[]).unwrap_err(), ScoreError::Empty);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScoreError {
    /// The labelings are of different lengths.
    #[error("{gold} gold labels but {predicted} predicted ones: one per item in each")]
    Lengths {
        /// Gold labels given.
        gold: usize,
        /// Predicted labels given.
        predicted: usize,
    },
    /// There is nothing to score.
    #[error("no items to score")]
    Empty,
}

/// Scores `predicted` against `gold`: item `i` is in the cluster named
/// `gold[i]` and was put in the cluster named `predicted[i]`. Labels are
/// only compared for equality.
///
/// Runs in O(n) expected time.
///
/// # Errors
///
/// [`ScoreError`] when the slices differ in length or are empty.
pub fn bcubed<G: Eq + Hash, P: Eq + Hash>(
    gold: &[G],
    predicted: &[P],
) -> Result<BCubed, ScoreError> {
    if gold.len() != predicted.len() {
        return Err(ScoreError::Lengths {
            gold: gold.len(),
            predicted: predicted.len(),
        });
    }
    if gold.is_empty() {
        return Err(ScoreError::Empty);
    }
    let mut gold_size: HashMap<&G, f64> = HashMap::new();
    let mut predicted_size: HashMap<&P, f64> = HashMap::new();
    let mut both: HashMap<(&G, &P), f64> = HashMap::new();
    for (g, p) in gold.iter().zip(predicted) {
        *gold_size.entry(g).or_default() += 1.0;
        *predicted_size.entry(p).or_default() += 1.0;
        *both.entry((g, p)).or_default() += 1.0;
    }
    // Every item in cell (g, p) scores n(g, p) / |p| for precision, so the
    // cell adds n(g, p)² / |p|; likewise for recall.
    let (mut precision, mut recall) = (0.0, 0.0);
    for ((g, p), n) in &both {
        precision += n * n / predicted_size[p];
        recall += n * n / gold_size[g];
    }
    let n = gold.len() as f64;
    let (precision, recall) = (precision / n, recall / n);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Ok(BCubed {
        precision,
        recall,
        f1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn identical_clusterings_score_one() {
        let s = bcubed(&[1, 1, 2, 3, 3, 3], &["a", "a", "b", "c", "c", "c"]).unwrap();
        assert_eq!((s.precision, s.recall, s.f1), (1.0, 1.0, 1.0));
    }

    #[test]
    fn all_singletons_are_precise_and_miss_what_belongs_together() {
        // Gold: {1,2,3} {4}; each item alone.
        let s = bcubed(&[1, 1, 1, 2], &[1, 2, 3, 4]).unwrap();
        assert_eq!(s.precision, 1.0);
        assert!(close(s.recall, (1.0 / 3.0 * 3.0 + 1.0) / 4.0));
    }

    #[test]
    fn one_big_cluster_recalls_everything_and_is_imprecise() {
        // Gold sizes 3 and 1: precision = (3² + 1²) / 4².
        let s = bcubed(&[1, 1, 1, 2], &[0, 0, 0, 0]).unwrap();
        assert_eq!(s.recall, 1.0);
        assert!(close(s.precision, 10.0 / 16.0));
        assert!(close(s.f1, 2.0 * 0.625 / 1.625));
    }

    #[test]
    fn the_amigo_example() {
        // Amigó et al. (2009), figure 5 style: gold {a,b,c,d} {e,f,g};
        // predicted {a,b,c} {d,e,f,g}.
        let gold = [1, 1, 1, 1, 2, 2, 2];
        let predicted = [1, 1, 1, 2, 2, 2, 2];
        let s = bcubed(&gold, &predicted).unwrap();
        // Precision: a,b,c 1 each; d 1/4; e,f,g 3/4 each → (3 + 0.25 + 2.25) / 7.
        assert!(close(s.precision, 5.5 / 7.0));
        // Recall: a,b,c 3/4 each; d 1/4; e,f,g 1 each → (2.25 + 0.25 + 3) / 7.
        assert!(close(s.recall, 5.5 / 7.0));
    }

    #[test]
    fn labels_are_only_names() {
        let a = bcubed(&[1, 1, 2], &[5, 5, 9]).unwrap();
        let b = bcubed(&["x", "x", "y"], &["q", "q", "r"]).unwrap();
        assert_eq!(a, b);
    }
}
