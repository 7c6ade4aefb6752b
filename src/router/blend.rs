//! The blend of the keyword classification with the trained model.

use smallvec::SmallVec;

use crate::classify::model::{argmax, softmax, Model, Seen};
use crate::classify::{CategoryId, Classification, Classifier, Domain};
use crate::error::{BuildError, BuildErrorKind};

use super::{ClassifiedBy, Router};

impl Router {
    /// Combines the keyword classification with the model, if any (see
    /// [`Router::route`]).
    pub(super) fn blend(&self, c: &mut Classification, text: &str) -> Verdict {
        let inner = &*self.inner;
        let Some(blend) = &inner.model else {
            return Verdict::default();
        };
        if text.trim().is_empty() {
            return Verdict::default();
        }
        let model = &blend.model;
        let t = model.temperature();
        let mut seen = Seen::new();
        let mut z = model.decision_values_seen(text, &mut seen);
        if seen.len() < MIN_MODEL_GRAMS {
            // A word or two: the model's scores mean little (one n-gram is
            // the whole unit vector), so keywords alone decide.
            return Verdict::default();
        }
        z.iter_mut().for_each(|v| *v /= t);
        if let Some(channel) = c.channel() {
            // A replaced category's probability goes to its replacement.
            for (replaced, by) in inner.classifier.replacements_on(channel) {
                if let Some(lx) = blend.label_of[replaced.as_usize()] {
                    let x = std::mem::replace(&mut z[lx as usize], f32::NEG_INFINITY);
                    if let Some(lr) = blend.label_of[by.as_usize()] {
                        z[lr as usize] = log_add_exp(z[lr as usize], x);
                    }
                }
            }
            // Categories of other channels are out of the question.
            for &(l, cat) in &blend.restricted {
                if !inner.classifier.category(cat).allows(channel) {
                    z[l as usize] = f32::NEG_INFINITY;
                }
            }
            if z.iter().all(|v| *v == f32::NEG_INFINITY) {
                return Verdict::default();
            }
        }
        for &(cat, score) in c.scores() {
            if let Some(l) = blend.label_of[cat.as_usize()] {
                // The cap bounds what the words say; the channel's
                // preference is other evidence, added beyond it.
                let bonus = inner.classifier.channel_bonus(c, cat);
                z[l as usize] += inner.keyword_weight * ((score - bonus).min(20) + bonus) as f32;
            }
        }
        let p = softmax(&z, 1.0);
        let mut best = argmax(&p);
        // The domain first, by its categories' summed probability, then the
        // best category within it: neighbours in one domain split their
        // probability, and splitting must not hand the ticket to another
        // domain (measured on the dev set: +0.5 to +0.7 points of domain
        // agreement).
        let mut mass = [0.0f32; Domain::ALL.len()];
        for (i, v) in p.iter().enumerate() {
            mass[blend.domain_of[i] as usize] += v;
        }
        let mut domain = blend.domain_of[best] as usize;
        for (d, m) in mass.iter().enumerate() {
            if *m > mass[domain] {
                domain = d;
            }
        }
        if domain != blend.domain_of[best] as usize {
            let in_domain = (0..p.len()).filter(|&i| blend.domain_of[i] as usize == domain);
            if let Some(b) = in_domain.max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a))) {
                best = b;
            }
        }
        if c.score() == 0 && mass[domain] < MODEL_ALONE_DOMAIN {
            // Nothing the keywords know and the model not sure of the
            // domain: the fallback category, as without a model.
            return Verdict {
                confidence: Some(p[best]),
                by: ClassifiedBy::Model,
                domain_confidence: mass[domain],
                overruled: None,
                evidence: SmallVec::new(),
                unsure: true,
            };
        }
        let primary = blend.category_of[best];
        let by = if c.score() > 0 && primary == c.primary() {
            ClassifiedBy::Both
        } else {
            ClassifiedBy::Model
        };
        let keyword_choice = (c.score() > 0 && primary != c.primary()).then_some(c.primary());
        if primary != c.primary() {
            let mut secondary: SmallVec<[CategoryId; 3]> = SmallVec::new();
            if let Some(k) = keyword_choice {
                secondary.push(k);
            }
            for s in c.secondary() {
                if *s != primary && secondary.len() < 3 {
                    secondary.push(*s);
                }
            }
            inner.classifier.set_primary(c, primary, secondary);
        }
        Verdict {
            confidence: Some(p[best]),
            domain_confidence: mass[domain],
            by,
            overruled: keyword_choice,
            evidence: model.evidence_in(&seen, best),
            unsure: false,
        }
    }
}

/// ln(e^a + e^b), without overflow.
fn log_add_exp(a: f32, b: f32) -> f32 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if lo == f32::NEG_INFINITY {
        hi
    } else {
        hi + (lo - hi).exp().ln_1p()
    }
}

/// Fewer n-grams known to the model than this, and it abstains.
const MIN_MODEL_GRAMS: usize = 6;

/// With no keyword match, the model decides only when its domain holds at
/// least this much probability: place names alone ("朝阳区呼家楼街道") give
/// 0.44–0.48 to `urban_rural`, a real demand 0.6 and more.
const MODEL_ALONE_DOMAIN: f32 = 0.5;

/// The model's part in one decision.
#[derive(Clone, Debug, Default)]
pub(super) struct Verdict {
    pub(super) confidence: Option<f32>,
    /// The summed probability of the chosen category's domain.
    pub(super) domain_confidence: f32,
    pub(super) by: ClassifiedBy,
    /// The keywords' choice when the model outweighed it.
    pub(super) overruled: Option<CategoryId>,
    pub(super) evidence: SmallVec<[(u64, f32); 3]>,
    /// No keyword matched and the model is below the minimum confidence:
    /// the category stayed the fallback.
    pub(super) unsure: bool,
}

/// A model bound to a taxonomy: label ↔ category maps.
#[derive(Clone, Debug)]
pub(super) struct Blend {
    pub(super) model: Model,
    pub(super) domain_of: Vec<Domain>,
    pub(super) category_of: Vec<CategoryId>,
    pub(super) label_of: Vec<Option<u16>>,
    /// (label, category) of the labels some channel cannot fall into.
    pub(super) restricted: Vec<(u16, CategoryId)>,
}

impl Blend {
    pub(super) fn new(model: Model, classifier: &Classifier) -> Result<Blend, BuildError> {
        let mut category_of = Vec::with_capacity(model.labels().len());
        let mut label_of = vec![None; classifier.categories().len()];
        for (i, label) in model.labels().iter().enumerate() {
            let id = classifier
                .category_id(label)
                .ok_or_else(|| BuildErrorKind::Model {
                    reason: format!("label '{label}' is not a category code of the taxonomy"),
                })?;
            category_of.push(id);
            label_of[id.as_usize()] = Some(i as u16);
        }
        let restricted = category_of
            .iter()
            .enumerate()
            .filter(|(_, c)| classifier.category(**c).is_restricted())
            .map(|(l, c)| (l as u16, *c))
            .collect();
        Ok(Blend {
            model,
            domain_of: category_of
                .iter()
                .map(|c| classifier.category(*c).domain())
                .collect(),
            category_of,
            label_of,
            restricted,
        })
    }
}
