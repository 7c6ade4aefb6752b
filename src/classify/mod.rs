//! Classify: what a ticket is about, how urgent it is, and in what language.
//!
//! The whole taxonomy (every category's keywords, negative keywords and
//! urgency words) is compiled into **one** Aho-Corasick automaton, so a
//! ticket's text is scanned once whatever the number of categories. The
//! automaton is `daachorse`'s character-wise double array: on Chinese
//! tickets its overlapping search measured ~3.5× faster than
//! `aho-corasick`'s DFA (90 ns against 330 ns for a 30-character ticket).
//!
//! # Match semantics
//!
//! * Keywords match as substrings (Chinese has no spaces), and overlapping
//!   matches all count: "暖气片不热" matches both `暖气` and `暖气片不热`.
//! * A keyword containing ASCII letters matches ASCII-case-insensitively and
//!   only at word boundaries, so `visa` does not match "advisable".
//! * Each distinct keyword counts once per ticket, however often it occurs: a
//!   caller repeating a word is not more certain.
//! * A category's score is the sum of its matched keywords' weights; negative
//!   weights are evidence against it. The primary category has the highest
//!   score, ties going to the category listed first. With no positive score
//!   the ticket falls into the fallback category (`other`).
//! * Secondary categories score positive and at least half the primary's
//!   (at most three, best first).
//! * Any urgency word, or a category's own urgent word when that category is
//!   primary, makes the ticket urgent.
//!
//! # Channels
//!
//! [`Classifier::classify`] reads the text alone, over every category.
//! [`Classifier::classify_on`] also knows the ticket's [`Channel`]: a
//! category that names its channels (the enterprise line's categories name
//! `enterprise`) is preferred on them — its score gets the taxonomy's
//! `channel_bonus` more whenever its keywords already score at least that
//! much, so one stray generic word earns nothing — and set aside on the
//! others unless it is open to them (`other_channels`); on its channels it
//! can also replace a citizen category (`replaces`: `enterprise.tax` takes
//! `tax`'s place on the enterprise line). The router classifies on the
//! ticket's channel.

mod channels;
mod classification;
pub(crate) mod config;
pub mod domain;
mod keyword_table;
pub mod language;
pub mod model;
pub mod normalize;

pub use classification::Classification;

use std::collections::HashMap;
use std::sync::Arc;

use std::borrow::Cow;

use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder};
use smallvec::SmallVec;

pub use domain::Domain;

use self::config::TaxonomyConfig;
use crate::error::{BuildError, BuildErrorKind};
use crate::ticket::Channel;
use channels::{ChannelPolicy, Scope};
use keyword_table::{at_word_boundaries, KeywordEntry, KeywordTable, MAX_CODE_LEN};

/// Index of a category in a [`Classifier`] (and so in a router).
///
/// # Examples
///
/// ```
/// use hotline_router::Router;
///
/// let router = Router::beijing();
/// let id = router.category_id("heating").unwrap();
/// assert_eq!(router.category(id).code(), "heating");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct CategoryId(pub(crate) u16);

impl CategoryId {
    /// The index as a `usize`, for dense tables.
    pub fn as_usize(self) -> usize {
        self.0 as usize
    }
}

/// A category as compiled: its code and names.
///
/// # Examples
///
/// ```
/// use hotline_router::Router;
///
/// let router = Router::beijing();
/// let heating = router.category(router.category_id("heating").unwrap());
/// assert_eq!((heating.code(), heating.name()), ("heating", "供暖"));
/// ```
#[derive(Clone, Debug)]
pub struct Category {
    code: String,
    domain: Domain,
    name: String,
    name_en: String,
    urgent_patterns: Vec<u32>,
    channels: Vec<Channel>,
    scope: Scope,
}

impl Category {
    /// The stable code, e.g. `housing.old_renovation`.
    pub fn code(&self) -> &str {
        &self.code
    }
    /// The first-level domain it belongs to.
    pub fn domain(&self) -> Domain {
        self.domain
    }
    /// The Chinese name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The English name (may be empty).
    pub fn name_en(&self) -> &str {
        &self.name_en
    }
    /// The channels the category belongs to (preferred on them); empty for
    /// a category of every channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::{Channel, Router};
    ///
    /// let router = Router::beijing();
    /// let tax = router.category(router.category_id("enterprise.tax").unwrap());
    /// assert_eq!(tax.channels(), [Channel::Enterprise]);
    /// assert!(tax.allows(Channel::Enterprise) && !tax.allows(Channel::Phone));
    /// ```
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }
    /// Whether a ticket of `channel` may fall into the category.
    pub fn allows(&self, channel: Channel) -> bool {
        self.scope.allows(channel)
    }
    /// Whether some channel's tickets cannot fall into the category.
    pub(crate) fn is_restricted(&self) -> bool {
        self.scope.is_restricted()
    }
}

/// What one keyword contributes.
#[derive(Clone, Debug)]
struct Pattern {
    text: String,
    /// Keywords with ASCII letters only match between word boundaries.
    ascii_word: bool,
    /// Range into `Classifier::weights`.
    weights: (u32, u32),
    urgent_anywhere: bool,
}

/// A matched keyword, as a reason for a classification.
///
/// # Examples
///
/// ```
/// use hotline_router::Router;
///
/// let router = Router::beijing();
/// let c = router.classifier().classify("暖气片不热");
/// let words: Vec<&str> = c.matched().iter().map(|m| router.classifier().keyword(*m)).collect();
/// assert!(words.contains(&"暖气片不热"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct KeywordId(u32);

/// A compiled keyword classifier over a whole taxonomy.
///
/// Built once from a [`TaxonomyConfig`]; classifying allocates nothing for
/// ordinary tickets (up to 8 matched keywords and 8 scored categories live on
/// the stack).
///
/// # Cloning
///
/// Cheap: the compiled automaton is behind an `Arc`.
///
/// # Examples
///
/// ```
/// use hotline_router::{Classifier, TaxonomyConfig};
///
/// let taxonomy = TaxonomyConfig::from_toml(r#"
///     [urgency]
///     keywords = ["trapped"]
///     [[category]]
///     code = "housing.elevator"
///     name = "电梯"
///     keywords = { "电梯" = 5, "elevator" = 5, "lift" = 4 }
///     [[category]]
///     code = "other"
///     name = "其他"
/// "#, "inline").unwrap();
/// let classifier = Classifier::new(&taxonomy, "other").unwrap();
/// let c = classifier.classify("We are TRAPPED in the elevator!");
/// assert_eq!(classifier.category(c.primary()).code(), "housing.elevator");
/// assert!(c.is_urgent());
/// // Word boundaries for Latin keywords: "lifted" is not "lift".
/// let c = classifier.classify("the ban was lifted");
/// assert_eq!(classifier.category(c.primary()).code(), "other");
/// ```
#[derive(Clone, Debug)]
pub struct Classifier {
    inner: Arc<Inner>,
}

struct Inner {
    automaton: CharwiseDoubleArrayAhoCorasick<u32>,
    patterns: Vec<Pattern>,
    /// (category, weight) pairs, grouped per pattern.
    weights: Vec<(CategoryId, i32)>,
    categories: Vec<Category>,
    fallback: CategoryId,
    channels: ChannelPolicy,
}

impl Classifier {
    /// Compiles a taxonomy; `fallback` is the code of the category for
    /// tickets no keyword matches.
    ///
    /// # Errors
    ///
    /// An empty or malformed category code (white space, more than 64
    /// bytes), a duplicate category code, an empty keyword, an unknown fallback,
    /// contradictory channels ([`BuildErrorKind::InvalidChannels`], also for
    /// a fallback closed to some channel), or an automaton that cannot be
    /// built.
    pub fn new(taxonomy: &TaxonomyConfig, fallback: &str) -> Result<Classifier, BuildError> {
        let mut categories: Vec<Category> = Vec::new();
        let mut by_code: HashMap<&str, CategoryId> = HashMap::new();
        let mut table = KeywordTable::default();
        for (i, c) in taxonomy.categories.iter().enumerate() {
            let id = CategoryId(u16::try_from(i).map_err(|_| BuildErrorKind::IndexLimit {
                reason: format!("more than {} categories", u16::MAX),
            })?);
            if c.code.is_empty()
                || c.code.len() > MAX_CODE_LEN
                || c.code
                    .chars()
                    .any(|ch| ch.is_whitespace() || ch.is_control())
            {
                return Err(BuildErrorKind::InvalidCode {
                    what: "category",
                    code: c.code.clone(),
                    expected: "a non-empty code of at most 64 bytes without white space",
                }
                .into());
            }
            if by_code.insert(&c.code, id).is_some() {
                return Err(BuildErrorKind::DuplicateCode {
                    what: "category",
                    code: c.code.clone(),
                }
                .into());
            }
            let mut urgent_patterns = Vec::new();
            for (word, &weight) in &c.keywords {
                if weight.unsigned_abs() > MAX_WEIGHT {
                    return Err(BuildErrorKind::InvalidWeight {
                        category: c.code.clone(),
                        keyword: word.clone(),
                        weight,
                        limit: MAX_WEIGHT,
                    }
                    .into());
                }
                let k = table.slot(word, &c.code)?;
                table.list[k].weights.push((id, weight));
            }
            for word in &c.urgent {
                urgent_patterns.push(table.slot(word, &c.code)? as u32);
            }
            categories.push(Category {
                code: c.code.clone(),
                domain: c.domain,
                name: c.name.clone(),
                name_en: c.name_en.clone(),
                urgent_patterns,
                channels: c.channels.clone(),
                scope: Scope::default(),
            });
        }
        for word in &taxonomy.urgency.keywords {
            let k = table.slot(word, "[urgency]")?;
            table.list[k].urgent_anywhere = true;
        }
        let fallback = *by_code
            .get(fallback)
            .ok_or_else(|| BuildErrorKind::UnknownCategory {
                context: "the fallback category".into(),
                category: fallback.to_string(),
            })?;
        let channels = ChannelPolicy::new(taxonomy, &by_code, fallback)?;
        for (c, scope) in categories.iter_mut().zip(&channels.scopes) {
            c.scope = *scope;
        }

        let mut weights = Vec::new();
        let mut patterns = Vec::with_capacity(table.list.len());
        for KeywordEntry {
            text,
            weights: ws,
            urgent_anywhere,
        } in table.list
        {
            let start = weights.len() as u32;
            weights.extend(ws);
            patterns.push(Pattern {
                ascii_word: text.bytes().any(|b| b.is_ascii_alphabetic()),
                text,
                weights: (start, weights.len() as u32),
                urgent_anywhere,
            });
        }
        // Keywords are stored ASCII-lower-cased and so is the text before the
        // search, which makes Latin keywords case-insensitive.
        let automaton = CharwiseDoubleArrayAhoCorasickBuilder::new()
            .build_with_values(
                patterns
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.text.as_str(), i as u32)),
            )
            .map_err(|e| BuildErrorKind::Automaton {
                message: e.to_string(),
            })?;
        Ok(Classifier {
            inner: Arc::new(Inner {
                automaton,
                patterns,
                weights,
                categories,
                fallback,
                channels,
            }),
        })
    }

    /// Classifies a text alone, over every category whatever its channels.
    pub fn classify(&self, text: &str) -> Classification {
        self.classify_with(text, None)
    }

    /// Classifies a ticket's text on its channel: categories of other
    /// channels are set aside, categories the channel's own replace hand
    /// them their score, and the channel's own categories get the
    /// taxonomy's `channel_bonus` more when their keywords already score at
    /// least that much (see
    /// [`CategoryConfig::channels`](crate::CategoryConfig::channels) and
    /// [`CategoryConfig::replaces`](crate::CategoryConfig::replaces)).
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::{Channel, Router};
    ///
    /// let router = Router::beijing();
    /// let c = router.classifier();
    /// let text = "我们公司的出口退税申请三个月了还没退下来";
    /// let on = |channel| router.category(c.classify_on(text, channel).primary()).code();
    /// assert_eq!(on(Channel::Enterprise), "enterprise.tax");
    /// assert_eq!(on(Channel::Phone), "tax"); // enterprise.tax is the enterprise line's alone
    /// ```
    pub fn classify_on(&self, text: &str, channel: Channel) -> Classification {
        self.classify_with(text, Some(channel))
    }

    fn classify_with(&self, text: &str, channel: Option<Channel>) -> Classification {
        let inner = &*self.inner;
        let mut matched: SmallVec<[KeywordId; 8]> = SmallVec::new();
        let mut scores: SmallVec<[(CategoryId, i32); 8]> = SmallVec::new();
        let mut urgent_by = None;
        // Lower-casing ASCII keeps every byte offset, so boundaries checked on
        // the folded text hold for the original.
        let text: Cow<'_, str> = if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        };
        let bytes = text.as_bytes();
        for m in inner.automaton.find_overlapping_iter(&*text) {
            let pid = m.value();
            let pattern = &inner.patterns[pid as usize];
            if pattern.ascii_word && !at_word_boundaries(bytes, m.start(), m.end()) {
                continue;
            }
            let id = KeywordId(pid);
            if matched.contains(&id) {
                continue;
            }
            matched.push(id);
            if pattern.urgent_anywhere && urgent_by.is_none() {
                urgent_by = Some(id);
            }
            for &(cat, w) in &inner.weights[pattern.weights.0 as usize..pattern.weights.1 as usize]
            {
                match scores.iter_mut().find(|(c, _)| *c == cat) {
                    // Weights are at most MAX_WEIGHT and a keyword counts
                    // once, but a text can match very many keywords.
                    Some((_, s)) => *s = s.saturating_add(w),
                    None => scores.push((cat, w)),
                }
            }
        }
        let bonus = match channel {
            Some(ch) => {
                inner.channels.apply(&mut scores, ch);
                inner.channels.bonus()
            }
            None => 0,
        };
        // Best score first; on ties the category listed first in the taxonomy.
        scores.retain(|(_, s)| *s > 0);
        scores.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let (primary, primary_score) = scores.first().copied().unwrap_or((inner.fallback, 0));
        let secondary = scores
            .iter()
            .skip(1)
            .filter(|(_, s)| 2 * s >= primary_score)
            .take(3)
            .map(|(c, _)| *c)
            .collect();
        if urgent_by.is_none() {
            urgent_by = self.own_urgent_word(primary, &matched);
        }
        scores.truncate(4);
        Classification {
            primary,
            primary_score,
            scores: SmallVec::from_slice(&scores),
            secondary,
            matched,
            urgent_by,
            channel,
            bonus,
        }
    }

    /// The replacements in force on `channel`, as (replaced, replacement).
    pub(crate) fn replacements_on(
        &self,
        channel: Channel,
    ) -> impl Iterator<Item = (CategoryId, CategoryId)> + '_ {
        self.inner
            .channels
            .replacements_on(channel)
            .map(|r| (r.replaced, r.by))
    }

    /// The keyword points `category` got in `c` for being one of the
    /// channel's own (0 when none).
    pub fn channel_bonus(&self, c: &Classification, category: CategoryId) -> i32 {
        // A bonused score is at least twice the bonus, any other below it.
        match c.channel {
            Some(ch)
                if c.bonus > 0
                    && c.score_of(category) >= c.bonus
                    && self.category(category).scope.prefers(ch) =>
            {
                c.bonus
            }
            _ => 0,
        }
    }

    /// The first matched keyword that is one of `category`'s own urgent
    /// words.
    fn own_urgent_word(&self, category: CategoryId, matched: &[KeywordId]) -> Option<KeywordId> {
        let own = &self.inner.categories[category.as_usize()].urgent_patterns;
        matched.iter().copied().find(|k| own.contains(&k.0))
    }

    /// Makes `primary` the primary category of `c` (the router's choice when
    /// a model outweighs the keywords), with `secondary` as the secondary
    /// categories; a category's own urgent words now follow the new primary.
    pub(crate) fn set_primary(
        &self,
        c: &mut Classification,
        primary: CategoryId,
        secondary: SmallVec<[CategoryId; 3]>,
    ) {
        let inner = &*self.inner;
        let old_own = &inner.categories[c.primary.as_usize()].urgent_patterns;
        if c.urgent_by.is_some_and(|k| {
            old_own.contains(&k.0) && !inner.patterns[k.0 as usize].urgent_anywhere
        }) {
            c.urgent_by = None;
        }
        if c.urgent_by.is_none() {
            c.urgent_by = self.own_urgent_word(primary, &c.matched);
        }
        c.primary_score = c.score_of(primary);
        c.primary = primary;
        c.secondary = secondary;
    }

    /// The keyword's text (lower-cased where it has ASCII letters).
    pub fn keyword(&self, id: KeywordId) -> &str {
        &self.inner.patterns[id.0 as usize].text
    }

    /// What the keyword contributed to `category` (0 when nothing).
    pub fn weight(&self, id: KeywordId, category: CategoryId) -> i32 {
        let p = &self.inner.patterns[id.0 as usize];
        self.inner.weights[p.weights.0 as usize..p.weights.1 as usize]
            .iter()
            .filter(|(c, _)| *c == category)
            .map(|(_, w)| w)
            .sum()
    }

    /// The category with this id.
    ///
    /// # Panics
    ///
    /// If the id is not from this classifier.
    pub fn category(&self, id: CategoryId) -> &Category {
        &self.inner.categories[id.as_usize()]
    }

    /// The id of the category with this code.
    pub fn category_id(&self, code: &str) -> Option<CategoryId> {
        self.inner
            .categories
            .iter()
            .position(|c| c.code == code)
            .map(|i| CategoryId(i as u16))
    }

    /// Every category, in taxonomy order.
    pub fn categories(&self) -> impl ExactSizeIterator<Item = (CategoryId, &Category)> {
        self.inner
            .categories
            .iter()
            .enumerate()
            .map(|(i, c)| (CategoryId(i as u16), c))
    }

    /// The fallback category.
    pub fn fallback(&self) -> CategoryId {
        self.inner.fallback
    }

    /// The keywords that count for `category`, strongest first (ties in
    /// keyword order): what a person would type to find it, e.g. an Open311
    /// service's `keywords`. Scans every keyword: call it once per listing,
    /// not per ticket.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::Router;
    ///
    /// let router = Router::beijing();
    /// let heating = router.category_id("heating").unwrap();
    /// let words = router.classifier().keywords(heating);
    /// assert!(words.contains(&"暖气片不热"));
    /// ```
    pub fn keywords(&self, category: CategoryId) -> Vec<&str> {
        let inner = &*self.inner;
        let mut found: Vec<(i32, &str)> = inner
            .patterns
            .iter()
            .filter_map(|p| {
                let w: i32 = inner.weights[p.weights.0 as usize..p.weights.1 as usize]
                    .iter()
                    .filter(|(c, _)| *c == category)
                    .fold(0i32, |sum, (_, w)| sum.saturating_add(*w));
                (w > 0).then_some((w, p.text.as_str()))
            })
            .collect();
        found.sort_by_key(|(w, _)| std::cmp::Reverse(*w));
        found.into_iter().map(|(_, t)| t).collect()
    }

    /// How many distinct keywords the automaton holds.
    pub fn keyword_count(&self) -> usize {
        self.inner.patterns.len()
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("keywords", &self.patterns.len())
            .field("categories", &self.categories.len())
            .finish_non_exhaustive()
    }
}

/// The largest keyword weight, positive or negative: far above any useful
/// weight, and small enough that no score can overflow.
pub const MAX_WEIGHT: u32 = 1_000_000;

#[cfg(test)]
mod tests;
