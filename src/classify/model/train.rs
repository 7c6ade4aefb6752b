//! Training: TF-IDF over hashed n-grams, one-vs-rest linear SVMs by dual
//! coordinate descent, a temperature fitted on held-out data.

use std::collections::{BTreeSet, HashMap};

use super::features::{bucket, for_each_gram, MAX_N};
use super::{
    inv_norm, softmax, sublinear, Entry, Inner, Model, Row, TrainError, MAX_BITS, MAX_LABELS,
};
use crate::classify::normalize::normalize;
use crate::par::prelude::*;
use crate::rng::SplitMix64;

/// Trains a [`Model`] from labelled texts.
///
/// The defaults were chosen by cross-validation on the crate's labelled
/// corpus (see BENCHMARKS.md): n-grams up to 2 characters (trigrams did not
/// help), `2^18` buckets, `C = 3` (as a grid search chose for scikit-learn's
/// `LinearSVC` on the same data), at most 40 passes, 10% of the examples
/// held out to fit the confidence, weights below 1% of a label's largest
/// dropped.
///
/// # Examples
///
/// ```
/// use hotline_router::classify::model::Trainer;
///
/// let data = vec![
///     ("公积金提取需要什么材料".to_string(), "housing".to_string()),
///     ("物业费涨价没有公示".to_string(), "housing".to_string()),
///     ("孩子上学学位不够".to_string(), "education".to_string()),
///     ("幼儿园收费太高".to_string(), "education".to_string()),
/// ];
/// let model = Trainer::new().ngrams(2).seed(7).train(data.clone()).unwrap();
/// // Deterministic: the same data and seed give the same file.
/// let again = Trainer::new().ngrams(2).seed(7).train(data).unwrap();
/// assert_eq!(model.to_bytes(), again.to_bytes());
/// ```
#[derive(Clone, Debug)]
pub struct Trainer {
    max_n: u8,
    bits: u8,
    c: f64,
    max_passes: u32,
    seed: u64,
    holdout: f64,
    prune: f32,
}

impl Default for Trainer {
    fn default() -> Self {
        Trainer {
            max_n: 2,
            bits: 18,
            c: 3.0,
            max_passes: 40,
            seed: 0x5EED_1234,
            holdout: 0.1,
            prune: 0.01,
        }
    }
}

/// One example as features: (column, tf·idf / norm) pairs.
struct Doc {
    cols: Vec<u32>,
    vals: Vec<f32>,
    label: u16,
}

impl Trainer {
    /// A trainer with the default options.
    pub fn new() -> Trainer {
        Trainer::default()
    }

    /// The longest n-gram, 1 to 3 (default 2).
    pub fn ngrams(&mut self, max_n: u8) -> &mut Self {
        self.max_n = max_n;
        self
    }

    /// Hash bits: features fall into `2^bits` buckets, 8 to 22 (default 18; the loaded model takes `8 × 2^bits` bytes for its lookup table).
    pub fn hash_bits(&mut self, bits: u8) -> &mut Self {
        self.bits = bits;
        self
    }

    /// The SVM's cost of a margin violation: larger fits the training data
    /// more closely (default 3).
    pub fn c(&mut self, c: f64) -> &mut Self {
        self.c = c;
        self
    }

    /// The most passes over the data per label (default 40); training stops
    /// earlier once the solution is within LIBLINEAR's tolerance (0.1).
    pub fn max_passes(&mut self, passes: u32) -> &mut Self {
        self.max_passes = passes;
        self
    }

    /// The seed of the example order (default fixed).
    pub fn seed(&mut self, seed: u64) -> &mut Self {
        self.seed = seed;
        self
    }

    /// The share of examples held out to fit the confidence (default 0.1;
    /// 0 keeps a fixed temperature). The final model is trained on all.
    pub fn holdout(&mut self, fraction: f64) -> &mut Self {
        self.holdout = fraction;
        self
    }

    /// Weights smaller than this fraction of their label's largest are
    /// dropped from the file (default 0.01; 0 keeps every weight).
    pub fn prune(&mut self, fraction: f32) -> &mut Self {
        self.prune = fraction;
        self
    }

    /// Trains on `(text, label)` pairs.
    ///
    /// # Errors
    ///
    /// [`TrainError`] for fewer than two labels, an empty label, too many
    /// labels or an option out of range.
    pub fn train<I, T, L>(&self, examples: I) -> Result<Model, TrainError>
    where
        I: IntoIterator<Item = (T, L)>,
        T: AsRef<str>,
        L: AsRef<str>,
    {
        self.check()?;
        let examples: Vec<(T, L)> = examples.into_iter().collect();
        let mut label_set = BTreeSet::new();
        for (i, (_, l)) in examples.iter().enumerate() {
            let l = l.as_ref().trim();
            if l.is_empty() {
                return Err(TrainError::EmptyLabel { index: i });
            }
            label_set.insert(l.to_string());
        }
        if label_set.len() < 2 {
            return Err(TrainError::TooFewLabels {
                found: label_set.len(),
            });
        }
        if label_set.len() > MAX_LABELS {
            return Err(TrainError::TooManyLabels {
                found: label_set.len(),
                limit: MAX_LABELS,
            });
        }
        let labels: Vec<String> = label_set.into_iter().collect();
        let index: HashMap<&str, u16> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i as u16))
            .collect();

        // Term counts per example, in parallel; then the vocabulary (sorted
        // buckets) and document frequencies.
        let texts: Vec<(&str, u16)> = examples
            .iter()
            .map(|(t, l)| (t.as_ref(), index[l.as_ref().trim()]))
            .collect();
        let counted: Vec<(Vec<(u32, u32)>, u16)> = texts
            .par_iter()
            .map(|&(t, label)| {
                let mut b = Vec::new();
                for_each_gram(&normalize(t), self.max_n, |k| b.push(bucket(k, self.bits)));
                (counts(b), label)
            })
            .collect();
        let mut vocab: Vec<u32> = counted
            .iter()
            .flat_map(|(c, _)| c.iter().map(|(b, _)| *b))
            .collect();
        vocab.par_sort_unstable();
        vocab.dedup();
        let col: HashMap<u32, u32> = vocab
            .iter()
            .enumerate()
            .map(|(i, b)| (*b, i as u32))
            .collect();
        let mut df = vec![0u32; vocab.len()];
        for (c, _) in &counted {
            for (b, _) in c {
                df[col[b] as usize] += 1;
            }
        }
        let n = counted.len() as f32;
        let idf: Vec<f32> = df
            .iter()
            .map(|&d| ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0)
            .collect();
        let docs: Vec<Doc> = counted
            .into_iter()
            .map(|(c, label)| {
                let cols: Vec<u32> = c.iter().map(|(b, _)| col[b]).collect();
                // Sublinear TF-IDF of unit length, as the predictor
                // computes it.
                let raw: Vec<f32> = c
                    .iter()
                    .zip(&cols)
                    .map(|((_, tf), &j)| sublinear(*tf) * idf[j as usize])
                    .collect();
                let inv = inv_norm(raw.iter().map(|x| x * x).sum());
                Doc {
                    cols,
                    vals: raw.into_iter().map(|v| v * inv).collect(),
                    label,
                }
            })
            .collect();

        let temperature = self.fit_temperature(&docs, labels.len(), vocab.len());
        let order = self.order(docs.len());
        let weights = self.fit(&docs, &order, labels.len(), vocab.len());
        Ok(self.compile(labels, &vocab, &idf, &weights, temperature))
    }

    fn check(&self) -> Result<(), TrainError> {
        if !(1..=MAX_N).contains(&self.max_n) {
            return Err(TrainError::Option(format!(
                "n-grams up to {} (1 to {MAX_N} allowed)",
                self.max_n
            )));
        }
        if !(8..=MAX_BITS).contains(&self.bits) {
            return Err(TrainError::Option(format!(
                "{} hash bits (8 to {MAX_BITS} allowed)",
                self.bits
            )));
        }
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(TrainError::Option(format!(
                "C = {} must be positive",
                self.c
            )));
        }
        if !(0.0..0.9).contains(&self.holdout) {
            return Err(TrainError::Option(format!(
                "holdout {} must be in [0, 0.9)",
                self.holdout
            )));
        }
        if !(0.0..1.0).contains(&self.prune) {
            return Err(TrainError::Option(format!(
                "prune {} must be in [0, 1)",
                self.prune
            )));
        }
        Ok(())
    }

    /// A seeded permutation of `0..n`.
    fn order(&self, n: usize) -> Vec<u32> {
        let mut rng = SplitMix64::new(self.seed);
        let mut order: Vec<u32> = (0..n as u32).collect();
        rng.shuffle(&mut order);
        order
    }

    /// Fits the softmax temperature on a held-out slice; a fixed 0.25 when
    /// there is too little data to hold any out.
    fn fit_temperature(&self, docs: &[Doc], n_labels: usize, n_cols: usize) -> f32 {
        let held = (docs.len() as f64 * self.holdout) as usize;
        if held < 20 || docs.len() - held < 2 * n_labels {
            return 0.25;
        }
        let order = self.order(docs.len());
        let (test, train) = order.split_at(held);
        let weights = self.fit(docs, train, n_labels, n_cols);
        let values: Vec<(Vec<f32>, u16)> = test
            .iter()
            .map(|&i| {
                let d = &docs[i as usize];
                let v = weights
                    .iter()
                    .map(|(w, b)| {
                        b + d
                            .cols
                            .iter()
                            .zip(&d.vals)
                            .map(|(&j, &x)| w[j as usize] * x)
                            .sum::<f32>()
                    })
                    .collect();
                (v, d.label)
            })
            .collect();
        let nll = |log_t: f64| -> f64 {
            let t = log_t.exp() as f32;
            values
                .iter()
                .map(|(v, y)| -f64::from(softmax(v, t)[*y as usize].max(1e-9)).ln())
                .sum()
        };
        // Golden-section search for the temperature on a log scale.
        let (mut a, mut b) = ((0.005f64).ln(), (5.0f64).ln());
        let g = (5f64.sqrt() - 1.0) / 2.0;
        for _ in 0..60 {
            let (x1, x2) = (b - g * (b - a), a + g * (b - a));
            if nll(x1) < nll(x2) {
                b = x2;
            } else {
                a = x1;
            }
        }
        ((a + b) / 2.0).exp() as f32
    }

    /// One-vs-rest SVMs over the examples `subset` (in that order), one
    /// label per rayon task: deterministic whatever the thread count.
    fn fit(
        &self,
        docs: &[Doc],
        subset: &[u32],
        n_labels: usize,
        n_cols: usize,
    ) -> Vec<(Vec<f32>, f32)> {
        (0..n_labels)
            .into_par_iter()
            .map(|l| self.fit_binary(docs, subset, l as u16, n_cols))
            .collect()
    }

    /// The squared-hinge SVM for `label` against the rest, by dual coordinate
    /// descent (LIBLINEAR's `L2R_L2LOSS_SVC_DUAL`, without shrinking). The
    /// bias is a feature of constant value 1, regularised like the others.
    fn fit_binary(
        &self,
        docs: &[Doc],
        subset: &[u32],
        label: u16,
        n_cols: usize,
    ) -> (Vec<f32>, f32) {
        let diag = 0.5 / self.c;
        let mut w = vec![0f64; n_cols];
        let mut b = 0f64;
        let mut alpha = vec![0f64; subset.len()];
        let qd: Vec<f64> = subset
            .iter()
            .map(|&i| {
                let d = &docs[i as usize];
                diag + 1.0 + d.vals.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>()
            })
            .collect();
        let mut order: Vec<u32> = (0..subset.len() as u32).collect();
        let mut rng = SplitMix64::new(self.seed ^ u64::from(label).wrapping_mul(0x9E37_79B9));
        for _ in 0..self.max_passes {
            rng.shuffle(&mut order);
            let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
            for &k in &order {
                let k = k as usize;
                let d = &docs[subset[k] as usize];
                let y = if d.label == label { 1.0 } else { -1.0 };
                let wx: f64 = b + d
                    .cols
                    .iter()
                    .zip(&d.vals)
                    .map(|(&j, &x)| w[j as usize] * f64::from(x))
                    .sum::<f64>();
                let g = y * wx - 1.0 + diag * alpha[k];
                let pg = if alpha[k] == 0.0 { g.min(0.0) } else { g };
                pg_max = pg_max.max(pg);
                pg_min = pg_min.min(pg);
                if pg.abs() > 1e-12 {
                    let old = alpha[k];
                    alpha[k] = (old - g / qd[k]).max(0.0);
                    let step = (alpha[k] - old) * y;
                    for (&j, &x) in d.cols.iter().zip(&d.vals) {
                        w[j as usize] += step * f64::from(x);
                    }
                    b += step;
                }
            }
            if pg_max - pg_min <= 0.1 {
                break;
            }
        }
        (w.into_iter().map(|v| v as f32).collect(), b as f32)
    }

    /// Folds the IDF into the weights, quantizes them to 16 bits per label
    /// and drops the negligible ones.
    fn compile(
        &self,
        labels: Vec<String>,
        vocab: &[u32],
        idf: &[f32],
        weights: &[(Vec<f32>, f32)],
        temperature: f32,
    ) -> Model {
        let n_labels = labels.len();
        let folded = |l: usize, j: usize| weights[l].0[j] * idf[j];
        let max: Vec<f32> = (0..n_labels)
            .map(|l| {
                (0..vocab.len())
                    .map(|j| folded(l, j).abs())
                    .fold(0.0, f32::max)
            })
            .collect();
        let scale: Vec<f32> = max
            .iter()
            .map(|m| {
                if *m > 0.0 {
                    m / f32::from(i16::MAX)
                } else {
                    1.0
                }
            })
            .collect();
        let mut rows = Vec::with_capacity(vocab.len() + 1);
        let mut entries = Vec::new();
        for (j, &b) in vocab.iter().enumerate() {
            rows.push(Row {
                bucket: b,
                idf: idf[j],
                start: entries.len() as u32,
            });
            for l in 0..n_labels {
                let w = folded(l, j);
                if w.abs() < self.prune * max[l] {
                    continue;
                }
                let q = (w / scale[l]).round() as i16;
                if q != 0 {
                    entries.push(Entry { label: l as u16, q });
                }
            }
        }
        rows.push(Row {
            bucket: u32::MAX,
            idf: 0.0,
            start: entries.len() as u32,
        });
        Model::from_inner(Inner {
            labels,
            max_n: self.max_n,
            bits: self.bits,
            temperature,
            bias: weights.iter().map(|(_, b)| *b).collect(),
            scale,
            rows,
            entries,
            lookup: Default::default(),
        })
    }
}

/// Sorted (bucket, count) pairs of a list of buckets.
fn counts(mut buckets: Vec<u32>) -> Vec<(u32, u32)> {
    buckets.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(buckets.len());
    for b in buckets {
        match out.last_mut() {
            Some((p, c)) if *p == b => *c += 1,
            _ => out.push((b, 1)),
        }
    }
    out
}
