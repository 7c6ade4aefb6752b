//! Measuring a classifier: accuracy, macro-F1, per-label precision and
//! recall, the confusion table; k-fold cross-validation of a trainer.

use std::collections::BTreeMap;

use super::{Model, TrainError, Trainer};
use crate::rng::SplitMix64;

/// Precision, recall and F1 of one label.
///
/// # Examples
///
/// ```
/// use hotline_router::classify::model::Evaluation;
///
/// let e = Evaluation::from_pairs([("a", "a"), ("a", "b"), ("b", "b")]);
/// let a = &e.labels["a"];
/// assert_eq!((a.support, a.precision, a.recall), (2, 1.0, 0.5));
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct LabelScores {
    /// How many examples have this label.
    pub support: usize,
    /// Of the examples predicted as this label, the share that have it.
    pub precision: f64,
    /// Of the examples that have this label, the share predicted as it.
    pub recall: f64,
    /// The harmonic mean of precision and recall.
    pub f1: f64,
}

/// How well predictions agree with the gold labels.
///
/// # Examples
///
/// ```
/// use hotline_router::classify::model::Evaluation;
///
/// let e = Evaluation::from_pairs([("heating", "heating"), ("noise", "heating")]);
/// assert_eq!(e.accuracy, 0.5);
/// assert_eq!(e.confusion[&("noise".to_string(), "heating".to_string())], 1);
/// println!("{e}");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Evaluation {
    /// How many examples were scored.
    pub total: usize,
    /// The share predicted right.
    pub accuracy: f64,
    /// The mean F1 over the gold labels.
    pub macro_f1: f64,
    /// Scores per gold or predicted label.
    pub labels: BTreeMap<String, LabelScores>,
    /// (gold, predicted) → count, for every pair that occurred.
    pub confusion: BTreeMap<(String, String), usize>,
}

impl Evaluation {
    /// Scores `(gold, predicted)` pairs.
    pub fn from_pairs<I, G, P>(pairs: I) -> Evaluation
    where
        I: IntoIterator<Item = (G, P)>,
        G: AsRef<str>,
        P: AsRef<str>,
    {
        let mut confusion: BTreeMap<(String, String), usize> = BTreeMap::new();
        for (g, p) in pairs {
            *confusion
                .entry((g.as_ref().to_string(), p.as_ref().to_string()))
                .or_default() += 1;
        }
        let total: usize = confusion.values().sum();
        let right: usize = confusion
            .iter()
            .filter(|((g, p), _)| g == p)
            .map(|(_, n)| n)
            .sum();
        let mut gold: BTreeMap<&str, usize> = BTreeMap::new();
        let mut predicted: BTreeMap<&str, usize> = BTreeMap::new();
        for ((g, p), n) in &confusion {
            *gold.entry(g).or_default() += n;
            *predicted.entry(p).or_default() += n;
        }
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let mut labels = BTreeMap::new();
        for l in gold.keys().chain(predicted.keys()) {
            let hit = confusion
                .get(&(l.to_string(), l.to_string()))
                .copied()
                .unwrap_or(0);
            let support = gold.get(l).copied().unwrap_or(0);
            let precision = ratio(hit, predicted.get(l).copied().unwrap_or(0));
            let recall = ratio(hit, support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            labels.insert(
                l.to_string(),
                LabelScores {
                    support,
                    precision,
                    recall,
                    f1,
                },
            );
        }
        let macro_f1 = labels
            .values()
            .filter(|s| s.support > 0)
            .map(|s| s.f1)
            .sum::<f64>()
            / gold.len().max(1) as f64;
        Evaluation {
            total,
            accuracy: ratio(right, total),
            macro_f1,
            labels,
            confusion,
        }
    }

    /// Scores a model on labelled texts.
    pub fn of_model<I, T, L>(model: &Model, examples: I) -> Evaluation
    where
        I: IntoIterator<Item = (T, L)>,
        T: AsRef<str>,
        L: AsRef<str>,
    {
        let pairs: Vec<(String, String)> = examples
            .into_iter()
            .map(|(t, l)| {
                let p = model.predict(t.as_ref()).label();
                (l.as_ref().to_string(), model.label(p).to_string())
            })
            .collect();
        Evaluation::from_pairs(pairs)
    }
}

impl std::fmt::Display for Evaluation {
    /// A plain-text report: totals, per-label scores, the largest confusions.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "examples {}  accuracy {:.4}  macro-F1 {:.4}",
            self.total, self.accuracy, self.macro_f1
        )?;
        writeln!(
            f,
            "{:<32} {:>7} {:>9} {:>7} {:>7}",
            "label", "support", "precision", "recall", "f1"
        )?;
        for (l, s) in &self.labels {
            writeln!(
                f,
                "{l:<32} {:>7} {:>9.3} {:>7.3} {:>7.3}",
                s.support, s.precision, s.recall, s.f1
            )?;
        }
        let mut errors: Vec<(&(String, String), &usize)> =
            self.confusion.iter().filter(|((g, p), _)| g != p).collect();
        errors.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        if !errors.is_empty() {
            writeln!(f, "most frequent confusions (gold → predicted):")?;
            for ((g, p), n) in errors.into_iter().take(20) {
                writeln!(f, "  {n:>5}  {g} → {p}")?;
            }
        }
        Ok(())
    }
}

/// K-fold cross-validation: the examples are shuffled with `seed`, split
/// into `folds` parts, and each part is predicted by a model trained on the
/// others; the pooled predictions are scored.
///
/// # Errors
///
/// A [`TrainError`] from any fold, or `folds` below 2 or above the number
/// of examples.
///
/// # Examples
///
/// ```
/// use hotline_router::classify::model::{cross_validate, Trainer};
///
/// let data: Vec<(String, String)> = (0..20)
///     .map(|i| if i % 2 == 0 {
///         (format!("暖气不热第{i}天"), "heating".to_string())
///     } else {
///         (format!("楼下噪音扰民第{i}天"), "noise".to_string())
///     })
///     .collect();
/// let e = cross_validate(Trainer::new().ngrams(2), &data, 5, 1).unwrap();
/// assert_eq!(e.total, 20);
/// assert!(e.accuracy > 0.9);
/// ```
pub fn cross_validate<T, L>(
    trainer: &Trainer,
    examples: &[(T, L)],
    folds: usize,
    seed: u64,
) -> Result<Evaluation, TrainError>
where
    T: AsRef<str> + Sync,
    L: AsRef<str> + Sync,
{
    if folds < 2 || folds > examples.len() {
        return Err(TrainError::Option(format!(
            "{folds} folds for {} examples",
            examples.len()
        )));
    }
    let mut rng = SplitMix64::new(seed);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    rng.shuffle(&mut order);
    let mut pairs = Vec::with_capacity(examples.len());
    for k in 0..folds {
        let (test, train): (Vec<_>, Vec<_>) = order
            .iter()
            .enumerate()
            .partition(|(pos, _)| pos % folds == k);
        let model = trainer.train(
            train
                .iter()
                .map(|(_, &i)| (examples[i].0.as_ref(), examples[i].1.as_ref())),
        )?;
        for (_, &i) in &test {
            let p = model.predict(examples[i].0.as_ref()).label();
            pairs.push((
                examples[i].1.as_ref().to_string(),
                model.label(p).to_string(),
            ));
        }
    }
    Ok(Evaluation::from_pairs(pairs))
}
