//! A linear text classifier trained from a city's own labelled history.
//!
//! The keyword classifier knows what its authors wrote down; a hotline's
//! history knows how citizens actually write. [`Trainer`] fits a linear model
//! over hashed character n-grams (see below) to any labelled tickets — a
//! city's own category codes, this crate's, or first-level domains — and
//! [`Model`] predicts a label with a probability for each.
//!
//! # The model
//!
//! * **Features:** character unigrams, bigrams and (by default) trigrams of
//!   the [normalised](crate::classify::normalize) text, hashed into `2^bits`
//!   buckets, so memory is bounded whatever the size of the training set.
//!   Each feature is weighted by its inverse document frequency and the
//!   vector is scaled to unit length over its occurrences (TF-IDF).
//! * **Learner:** one-vs-rest linear support vector machines with the squared
//!   hinge loss, solved by dual coordinate descent (Hsieh et al., ICML 2008;
//!   the LIBLINEAR solver behind scikit-learn's `LinearSVC`). Training is
//!   deterministic: the same examples, options and seed give a byte-identical
//!   model file, on any number of threads.
//! * **Confidence:** the labels' decision values go through a softmax whose
//!   temperature is fitted on a held-out slice of the training data (then the
//!   model is retrained on all of it), so a confidence of 0.8 is right about
//!   80% of the time on data like the training data.
//! * **File:** a compact, versioned, checksummed binary (weights quantized to
//!   16 bits per label); [`Model::from_bytes`] validates everything and
//!   returns a [`ModelError`] rather than panicking on a corrupt or truncated
//!   file.
//!
//! # Examples
//!
//! ```
//! use hotline_router::classify::model::Trainer;
//!
//! let examples = [
//!     ("家里暖气片一直不热", "heating"),
//!     ("暖气不热屋里太冷了", "heating"),
//!     ("今年供暖温度不达标", "heating"),
//!     ("楼上装修噪音太大", "noise"),
//!     ("晚上广场舞噪音扰民", "noise"),
//!     ("工地夜间施工噪音", "noise"),
//! ];
//! let model = Trainer::new().train(examples).unwrap();
//! let p = model.predict("暖气片冰凉");
//! assert_eq!(model.label(p.label()), "heating");
//! assert!((p.probabilities().iter().sum::<f32>() - 1.0).abs() < 1e-4);
//!
//! let bytes = model.to_bytes();
//! let again = hotline_router::classify::model::Model::from_bytes(&bytes).unwrap();
//! assert_eq!(again.predict("暖气片冰凉").label(), p.label());
//! ```

mod error;
mod evaluate;
pub(crate) mod features;
mod format;
mod train;

use std::sync::Arc;

use smallvec::SmallVec;

pub use error::{ModelError, TrainError};
pub use evaluate::{cross_validate, Evaluation, LabelScores};
pub use train::Trainer;

use crate::classify::normalize::normalize;

/// Per-label numbers, on the stack for up to 128 labels.
pub(crate) type Scores = SmallVec<[f32; 128]>;

/// The distinct feature buckets of a text the model knows: (key of the
/// first n-gram in the bucket, lookup word, count).
pub(crate) type Seen = SmallVec<[(u64, u64, u32); 256]>;

/// The most labels a model holds.
pub const MAX_LABELS: usize = 4096;

/// The most hash bits: a loaded model's lookup table takes `8 × 2^bits`
/// bytes (32 MiB at 22 bits).
pub const MAX_BITS: u8 = 22;

/// One weight of a row: a label and its quantized weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Entry {
    pub(crate) label: u16,
    pub(crate) q: i16,
}

/// One feature bucket present in the model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Row {
    pub(crate) bucket: u32,
    pub(crate) idf: f32,
    /// Start of this row's entries; the next row's start ends them.
    pub(crate) start: u32,
}

/// A trained text classifier: labels, weights and calibration.
///
/// Load one with [`Model::load`] or [`Model::from_bytes`], train one with
/// [`Trainer`], or use the crate's default with [`Model::beijing`]. Plug it
/// into a router with [`RouterBuilder::model`](crate::RouterBuilder::model).
///
/// # Cloning
///
/// Cheap: the weights are behind an `Arc`.
///
/// # Resource usage
///
/// Prediction allocates nothing for up to 64 labels and costs one hash and
/// two memory reads per n-gram; see `benches/model.rs` for measured times.
/// A loaded model takes `8 × 2^bits` bytes for its lookup table (1 MiB for
/// the default model's 17 bits), plus about 4 bytes per weight.
///
/// # Examples
///
/// ```
/// use hotline_router::classify::model::Model;
///
/// let model = Model::beijing();
/// let p = model.predict("尊敬的领导：我在公司干了三年，老板拖欠工资半年不发，人社局也不管");
/// assert_eq!(model.label(p.label()), "labor.wages");
/// ```
#[derive(Clone)]
pub struct Model {
    inner: Arc<Inner>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Inner {
    pub(crate) labels: Vec<String>,
    pub(crate) max_n: u8,
    pub(crate) bits: u8,
    pub(crate) temperature: f32,
    pub(crate) bias: Vec<f32>,
    pub(crate) scale: Vec<f32>,
    /// Sorted by bucket, followed by one sentinel row holding the end.
    pub(crate) rows: Vec<Row>,
    pub(crate) entries: Vec<Entry>,
    /// Built from the rows when the model is made (not in the file).
    pub(crate) lookup: Lookup,
}

/// The predictor's view of the rows, built by [`Model::from_inner`].
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Lookup {
    /// One word per bucket (`2^bits`), so finding a feature is one memory
    /// access: 0 for a bucket without a feature, else `idf² (f32 bits) << 32
    /// | dense flag << 31 | offset` into `sparse` or `dense`.
    index: Vec<u64>,
    /// Rows with few weights: a length, then `label | q << 16` words.
    sparse: Vec<u32>,
    /// Rows with many weights, whole (`labels.len()` values each): adding a
    /// dense row vectorises, scattering many entries does not.
    dense: Vec<i16>,
}

const DENSE: u64 = 1 << 31;

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("labels", &self.inner.labels.len())
            .field("ngrams", &self.inner.max_n)
            .field("features", &(self.inner.rows.len() - 1))
            .field("weights", &self.inner.entries.len())
            .finish_non_exhaustive()
    }
}

impl PartialEq for Model {
    fn eq(&self, other: &Model) -> bool {
        self.inner == other.inner
    }
}

/// A model's answer for one text: a probability for every label.
///
/// # Examples
///
/// ```
/// use hotline_router::classify::model::Model;
///
/// let model = Model::beijing();
/// let p = model.predict("小区门口的路灯坏了一个月");
/// let (best, confidence) = p.top(1)[0];
/// assert_eq!(best, p.label());
/// assert_eq!(confidence, p.confidence());
/// ```
#[derive(Clone, Debug)]
pub struct Prediction {
    probabilities: Scores,
    label: usize,
}

impl Prediction {
    /// The most probable label's index (see [`Model::label`]).
    pub fn label(&self) -> usize {
        self.label
    }
    /// The most probable label's probability.
    pub fn confidence(&self) -> f32 {
        self.probabilities[self.label]
    }
    /// Every label's probability, in the model's label order; they sum to 1.
    pub fn probabilities(&self) -> &[f32] {
        &self.probabilities
    }
    /// The `k` most probable labels with their probabilities, best first
    /// (ties to the earlier label).
    pub fn top(&self, k: usize) -> Vec<(usize, f32)> {
        let mut all: Vec<(usize, f32)> = self.probabilities.iter().copied().enumerate().collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(k);
        all
    }
}

/// An n-gram that pushed the text towards a label, for explanations.
///
/// # Examples
///
/// ```
/// use hotline_router::classify::model::Model;
///
/// let model = Model::beijing();
/// let text = "公积金中心说我的公积金提取材料不全";
/// let label = model.predict(text).label();
/// let evidence = model.evidence(text, label, 3);
/// assert!(!evidence.is_empty() && evidence[0].weight > 0.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// The n-gram (a boundary shown as `␣`).
    pub gram: String,
    /// Its summed contribution to the label's decision value.
    pub weight: f32,
}

impl Model {
    /// The crate's default model for the Beijing taxonomy, trained on the
    /// labelled examples in `data/corpus/` (written for this crate) with
    /// `hotline train` and embedded in the binary.
    ///
    /// # Panics
    ///
    /// Never in a released crate: the embedded file is loaded by the tests.
    pub fn beijing() -> Model {
        static BYTES: &[u8] = include_bytes!("../../../data/beijing/model.bin");
        static MODEL: std::sync::OnceLock<Model> = std::sync::OnceLock::new();
        MODEL
            .get_or_init(|| Model::from_bytes(BYTES).expect("embedded model loads (tested)"))
            .clone()
    }

    /// Reads a model file.
    ///
    /// # Errors
    ///
    /// [`ModelError::Io`] when the file cannot be read, or any error of
    /// [`Model::from_bytes`].
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Model, ModelError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Model::from_bytes(&bytes)
    }

    /// Writes the model file.
    ///
    /// # Errors
    ///
    /// [`ModelError::Io`] when the file cannot be written.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<(), ModelError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_bytes()).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Decodes and validates a model file's bytes.
    ///
    /// # Errors
    ///
    /// A [`ModelError`] saying what is wrong: not a model, a newer version,
    /// truncated, corrupt (checksum) or inconsistent.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        format::decode(bytes).map(Model::from_inner)
    }

    /// Encodes the model file: the same model always gives the same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        format::encode(&self.inner)
    }

    pub(crate) fn from_inner(mut inner: Inner) -> Model {
        let n_labels = inner.labels.len();
        let mut index = vec![0u64; 1usize << inner.bits];
        let (mut sparse, mut dense) = (Vec::new(), Vec::new());
        for (r, row) in inner.rows[..inner.rows.len() - 1].iter().enumerate() {
            let entries = &inner.entries[row.start as usize..inner.rows[r + 1].start as usize];
            let idf2 = u64::from((row.idf * row.idf).to_bits()) << 32;
            // Measured on the default model (76 labels): rows with at least
            // an eighth of the labels are faster added whole than scattered.
            index[row.bucket as usize] = if entries.len() * 8 >= n_labels {
                let at = dense.len() as u64;
                dense.resize(dense.len() + n_labels, 0i16);
                for e in entries {
                    dense[at as usize + e.label as usize] = e.q;
                }
                idf2 | DENSE | at
            } else {
                let at = sparse.len() as u64;
                sparse.push(entries.len() as u32);
                sparse.extend(
                    entries
                        .iter()
                        .map(|e| u32::from(e.label) | u32::from(e.q as u16) << 16),
                );
                idf2 | at
            };
        }
        inner.lookup = Lookup {
            index,
            sparse,
            dense,
        };
        Model {
            inner: Arc::new(inner),
        }
    }

    /// The labels, in the model's order (sorted).
    pub fn labels(&self) -> &[String] {
        &self.inner.labels
    }

    /// The label with this index.
    ///
    /// # Panics
    ///
    /// If the index is not below `labels().len()`.
    pub fn label(&self, index: usize) -> &str {
        &self.inner.labels[index]
    }

    /// The softmax temperature fitted when the model was trained.
    pub fn temperature(&self) -> f32 {
        self.inner.temperature
    }

    /// The longest n-gram the model reads (1 to 3).
    pub fn ngrams(&self) -> u8 {
        self.inner.max_n
    }

    /// How many feature buckets the model stores.
    pub fn feature_count(&self) -> usize {
        self.inner.rows.len() - 1
    }

    /// How many non-zero weights the model stores.
    pub fn weight_count(&self) -> usize {
        self.inner.entries.len()
    }

    /// Predicts the label of a text (normalised first).
    pub fn predict(&self, text: &str) -> Prediction {
        self.predict_normalized(&normalize(text))
    }

    /// Predicts the label of a text already passed through
    /// [`normalize`].
    pub fn predict_normalized(&self, text: &str) -> Prediction {
        let probabilities = softmax(&self.decision_values(text), self.inner.temperature);
        let label = argmax(&probabilities);
        Prediction {
            probabilities,
            label,
        }
    }

    /// The raw decision value of every label (before calibration).
    pub(crate) fn decision_values(&self, text: &str) -> Scores {
        self.decision_values_seen(text, &mut Seen::new())
    }

    /// Decision values, with the text's distinct known features in `seen`
    /// (for [`Model::evidence_in`] without hashing again).
    pub(crate) fn decision_values_seen(&self, text: &str, seen: &mut Seen) -> Scores {
        let inner = &*self.inner;
        self.count(text, seen);
        let mut acc: Scores = SmallVec::from_elem(0.0, inner.labels.len());
        let mut norm2 = 0.0f32;
        for &(_, v, tf) in seen.iter() {
            let s = sublinear(tf);
            norm2 += s * s * f32::from_bits((v >> 32) as u32);
            let at = (v & (DENSE - 1)) as usize;
            if v & DENSE != 0 {
                let row = &inner.lookup.dense[at..at + acc.len()];
                if tf == 1 {
                    for (a, w) in acc.iter_mut().zip(row) {
                        *a += f32::from(*w);
                    }
                } else {
                    for (a, w) in acc.iter_mut().zip(row) {
                        *a += s * f32::from(*w);
                    }
                }
            } else {
                let len = inner.lookup.sparse[at] as usize;
                for e in &inner.lookup.sparse[at + 1..at + 1 + len] {
                    acc[(e & 0xFFFF) as usize] += s * f32::from((e >> 16) as u16 as i16);
                }
            }
        }
        let inv = inv_norm(norm2);
        for (l, a) in acc.iter_mut().enumerate() {
            *a = inner.bias[l] + inner.scale[l] * *a * inv;
        }
        acc
    }

    /// The distinct features of `text` the model knows, with their counts,
    /// in order of first occurrence (an open-addressing table on the stack
    /// for ordinary tickets).
    fn count(&self, text: &str, seen: &mut Seen) {
        let inner = &*self.inner;
        seen.clear();
        // At most max_n n-grams per character, so the table is at most half
        // full and a probe always ends at an empty slot.
        let grams = text.chars().count() * usize::from(inner.max_n);
        let cap = (2 * grams).next_power_of_two().max(16);
        seen.reserve(grams.min(inner.rows.len()));
        let mut table: SmallVec<[u32; 1024]> = SmallVec::from_elem(u32::MAX, cap);
        features::for_each_gram(text, inner.max_n, |key| {
            let b = features::bucket(key, inner.bits);
            let v = inner.lookup.index[b as usize];
            if v == 0 {
                return;
            }
            let mut i = b as usize & (cap - 1);
            loop {
                let slot = table[i];
                if slot == u32::MAX {
                    table[i] = seen.len() as u32;
                    seen.push((key, v, 1));
                    return;
                }
                let e = &mut seen[slot as usize];
                if e.1 == v {
                    e.2 += 1;
                    return;
                }
                i = (i + 1) & (cap - 1);
            }
        });
    }

    /// The quantized weight of `label` in a lookup word's row.
    #[inline]
    fn weight_in(&self, v: u64, label: usize) -> i16 {
        let inner = &*self.inner;
        let at = (v & (DENSE - 1)) as usize;
        if v & DENSE != 0 {
            inner.lookup.dense[at + label]
        } else {
            let len = inner.lookup.sparse[at] as usize;
            inner.lookup.sparse[at + 1..at + 1 + len]
                .iter()
                .find(|e| (*e & 0xFFFF) as usize == label)
                .map_or(0, |e| (e >> 16) as u16 as i16)
        }
    }

    /// Each distinct n-gram of `seen` with its contribution to `label`'s
    /// decision value (its share of the dot product, normalised).
    fn contributions<'a>(
        &'a self,
        seen: &'a Seen,
        label: usize,
    ) -> impl Iterator<Item = (u64, f32)> + 'a {
        let norm2 = seen
            .iter()
            .map(|&(_, v, tf)| sublinear(tf).powi(2) * f32::from_bits((v >> 32) as u32))
            .sum();
        let inv = inv_norm(norm2);
        let scale = self.inner.scale[label];
        seen.iter().map(move |&(key, v, tf)| {
            let w = sublinear(tf) * f32::from(self.weight_in(v, label)) * scale;
            (key, w * inv)
        })
    }

    /// The three n-grams of `seen` that weigh most for `label`, as (key,
    /// contribution) pairs, strongest first, without allocating.
    pub(crate) fn evidence_in(&self, seen: &Seen, label: usize) -> SmallVec<[(u64, f32); 3]> {
        let mut top: SmallVec<[(u64, f32); 3]> = SmallVec::new();
        for (key, w) in self.contributions(seen, label) {
            if w <= 0.0 {
                continue;
            }
            if top.len() < 3 {
                top.push((key, w));
            } else if let Some(min) = top.iter_mut().min_by(|a, b| a.1.total_cmp(&b.1)) {
                if w > min.1 {
                    *min = (key, w);
                }
            }
        }
        top.sort_by(|a, b| b.1.total_cmp(&a.1));
        top
    }

    /// The `k` n-grams of `text` that contributed most to `label`'s decision
    /// value, strongest first (only positive contributions).
    ///
    /// # Panics
    ///
    /// If `label` is not below `labels().len()`.
    pub fn evidence(&self, text: &str, label: usize, k: usize) -> Vec<Evidence> {
        let mut seen = Seen::new();
        self.decision_values_seen(&normalize(text), &mut seen);
        let mut by_gram: Vec<(u64, f32)> = self
            .contributions(&seen, label)
            .filter(|(_, w)| *w > 0.0)
            .collect();
        by_gram.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        by_gram
            .into_iter()
            .take(k)
            .map(|(key, weight)| Evidence {
                gram: features::gram_text(key),
                weight,
            })
            .collect()
    }
}

/// The sublinear term frequency `1 + ln(tf)`: a word said five times is
/// not five times the evidence.
#[inline]
pub(crate) fn sublinear(tf: u32) -> f32 {
    if tf <= 1 {
        1.0
    } else {
        1.0 + (tf as f32).ln()
    }
}

/// `1 / √norm2`, or 0 for an empty vector.
#[inline]
pub(crate) fn inv_norm(norm2: f32) -> f32 {
    if norm2 > 0.0 {
        norm2.sqrt().recip()
    } else {
        0.0
    }
}

/// The index of the largest value, the first on ties (0 when empty).
pub(crate) fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

/// `softmax(values / temperature)`, stable for any finite input.
pub(crate) fn softmax(values: &[f32], temperature: f32) -> Scores {
    let t = temperature.max(1e-6);
    let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut out: Scores = values.iter().map(|v| ((v - max) / t).exp()).collect();
    let sum: f32 = out.iter().sum();
    if sum.is_finite() && sum > 0.0 {
        out.iter_mut().for_each(|p| *p /= sum);
    } else {
        let n = out.len() as f32;
        out.iter_mut().for_each(|p| *p = 1.0 / n);
    }
    out
}
