//! [`Classification`]: what the keyword classifier found in one text.

use smallvec::SmallVec;

use super::{CategoryId, KeywordId};
use crate::ticket::Channel;

/// The result of classifying one text.
///
/// # Examples
///
/// ```
/// use hotline_router::Router;
///
/// let router = Router::beijing();
/// let c = router.classifier().classify("小区门口燃气泄漏，味道很大");
/// assert_eq!(router.category(c.primary()).code(), "utilities.gas");
/// assert!(c.is_urgent());
/// ```
#[derive(Clone, Debug)]
pub struct Classification {
    pub(super) primary: CategoryId,
    pub(super) primary_score: i32,
    /// The best positive keyword scores, best first (at most 4).
    pub(super) scores: SmallVec<[(CategoryId, i32); 4]>,
    pub(super) secondary: SmallVec<[CategoryId; 3]>,
    pub(super) matched: SmallVec<[KeywordId; 8]>,
    pub(super) urgent_by: Option<KeywordId>,
    /// The channel classified on, if any.
    pub(super) channel: Option<Channel>,
    /// What a category preferred on `channel` got, when its keywords matched.
    pub(super) bonus: i32,
}

impl Classification {
    /// The primary category.
    pub fn primary(&self) -> CategoryId {
        self.primary
    }
    /// The primary category's score (0 when it is the fallback).
    pub fn score(&self) -> i32 {
        self.primary_score
    }
    /// The keyword score of a category (0 unless among the best four).
    pub fn score_of(&self, category: CategoryId) -> i32 {
        self.scores
            .iter()
            .find(|(c, _)| *c == category)
            .map_or(0, |(_, s)| *s)
    }
    /// The categories with a positive keyword score, best first (at most
    /// four), with their scores.
    pub fn scores(&self) -> &[(CategoryId, i32)] {
        &self.scores
    }
    /// Secondary categories, best first.
    pub fn secondary(&self) -> &[CategoryId] {
        &self.secondary
    }
    /// Every distinct keyword that matched, in order of first occurrence.
    pub fn matched(&self) -> &[KeywordId] {
        &self.matched
    }
    /// Whether an urgency word matched.
    pub fn is_urgent(&self) -> bool {
        self.urgent_by.is_some()
    }
    /// The urgency word that made the ticket urgent, if any.
    pub fn urgent_by(&self) -> Option<KeywordId> {
        self.urgent_by
    }
    /// The channel the text was classified on ([`Classifier::classify_on`](crate::Classifier::classify_on)),
    /// or `None` for the text alone.
    pub fn channel(&self) -> Option<Channel> {
        self.channel
    }
}
