//! Channels and categories: which categories a ticket's channel may fall
//! into, which it prefers, and which stand in for others on it.
//!
//! A category of the taxonomy may name the channels it belongs to
//! ([`CategoryConfig::channels`]), as the enterprise line's categories name
//! `enterprise`. On one of its own channels the category is *preferred*:
//! whenever its keywords score at least the taxonomy's
//! [`channel_bonus`](crate::TaxonomyConfig::channel_bonus), they score that
//! much more (weaker evidence — one generic word — gets nothing). On other
//! channels a ticket cannot fall into it at all, unless the category is also
//! open to them ([`CategoryConfig::other_channels`]).
//!
//! On its own channels a category can also *replace* others
//! ([`CategoryConfig::replaces`]): on the enterprise line `enterprise.tax`
//! replaces `tax`, since a tax matter raised there is a company's. The
//! replaced category is set aside there and its evidence counts for the
//! replacement: its keyword score (the larger of the two) and, in the
//! router, its share of the model's probability. Replacing is for a
//! citizen category that means the same thing on the channel; a neighbour
//! that only overlaps (`market.regulation` holds counterfeits as well as
//! registration) is left to the bonus.
//!
//! The bonus is in keyword points because that is the one scale both
//! classifiers share: the keyword classifier adds it to the score, and the
//! router's blend turns keyword points into logits.

use std::collections::HashMap;

use smallvec::SmallVec;

use super::config::{CategoryConfig, TaxonomyConfig};
use super::CategoryId;
use crate::error::{BuildError, BuildErrorKind};
use crate::ticket::Channel;

/// A bit per channel (`Channel` has a handful of fieldless variants).
fn bit(channel: Channel) -> u32 {
    1 << (channel as u32)
}

/// One category's channels, compiled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Scope {
    /// The category's own channels, one bit each.
    own: u32,
    /// Whether tickets of other channels may fall into it.
    open: bool,
}

impl Scope {
    /// Checks and compiles a category's `channels` and `other_channels`.
    fn new(c: &CategoryConfig) -> Result<Scope, BuildError> {
        let mut own = 0;
        for &channel in &c.channels {
            if own & bit(channel) != 0 {
                return Err(invalid(
                    &c.code,
                    format!("channel '{}' is listed twice", channel.as_str()),
                ));
            }
            own |= bit(channel);
        }
        if c.other_channels && own == 0 {
            return Err(invalid(
                &c.code,
                "other_channels = true means nothing without channels: \
                 a category without channels is open to every channel",
            ));
        }
        Ok(Scope {
            own,
            open: own == 0 || c.other_channels,
        })
    }

    /// Whether a ticket of `channel` may fall into the category.
    pub(crate) fn allows(self, channel: Channel) -> bool {
        self.open || self.own & bit(channel) != 0
    }

    /// Whether `channel` is one of the category's own.
    pub(crate) fn prefers(self, channel: Channel) -> bool {
        self.own & bit(channel) != 0
    }

    /// Whether some channel's tickets cannot fall into the category.
    pub(crate) fn is_restricted(self) -> bool {
        !self.open
    }
}

fn invalid(category: &str, reason: impl Into<String>) -> BuildError {
    BuildErrorKind::InvalidChannels {
        category: category.to_string(),
        reason: reason.into(),
    }
    .into()
}

/// On the channels in `own`, `by` takes the place of `replaced`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Replacement {
    pub(crate) replaced: CategoryId,
    pub(crate) by: CategoryId,
    own: u32,
}

/// The taxonomy's channels, compiled: every category's scope, the
/// replacements and the bonus.
#[derive(Clone, Debug, Default)]
pub(crate) struct ChannelPolicy {
    pub(crate) scopes: Vec<Scope>,
    replacements: Vec<Replacement>,
    bonus: i32,
    /// Whether any category is closed to some channel or replaced on one:
    /// without either there is nothing to set aside.
    sets_aside: bool,
}

impl ChannelPolicy {
    /// Compiles and checks the taxonomy's channels; `by_code` maps codes to
    /// ids, `fallback` is the fallback category.
    pub(crate) fn new(
        taxonomy: &TaxonomyConfig,
        by_code: &HashMap<&str, CategoryId>,
        fallback: CategoryId,
    ) -> Result<ChannelPolicy, BuildError> {
        let scopes = taxonomy
            .categories
            .iter()
            .map(Scope::new)
            .collect::<Result<Vec<_>, _>>()?;
        let code = |id: CategoryId| taxonomy.categories[id.as_usize()].code.as_str();
        if scopes[fallback.as_usize()].is_restricted() {
            return Err(invalid(
                code(fallback),
                "the fallback category must be open to every channel: \
                 tickets no keyword matches fall into it",
            ));
        }
        let mut replacements: Vec<Replacement> = Vec::new();
        for (i, c) in taxonomy.categories.iter().enumerate() {
            let by = CategoryId(i as u16);
            for r in &c.replaces {
                let replaced =
                    *by_code
                        .get(r.as_str())
                        .ok_or_else(|| BuildErrorKind::UnknownCategory {
                            context: format!("category '{}' replaces", c.code),
                            category: r.clone(),
                        })?;
                let own = scopes[i].own;
                if own == 0 {
                    return Err(invalid(
                        &c.code,
                        "replaces needs channels: it applies on the category's own",
                    ));
                }
                if replaced == by || replaced == fallback {
                    return Err(invalid(
                        &c.code,
                        format!("cannot replace '{r}' (itself or the fallback)"),
                    ));
                }
                if scopes[replaced.as_usize()].own & own != 0
                    || !taxonomy.categories[replaced.as_usize()].replaces.is_empty()
                {
                    return Err(invalid(
                        &c.code,
                        format!(
                            "cannot replace '{r}', which is a category of the same channel \
                             or replaces others itself"
                        ),
                    ));
                }
                if let Some(other) = replacements
                    .iter()
                    .find(|x| x.replaced == replaced && x.own & own != 0)
                {
                    return Err(invalid(
                        &c.code,
                        format!(
                            "'{r}' is already replaced on the same channel by '{}'",
                            code(other.by)
                        ),
                    ));
                }
                replacements.push(Replacement { replaced, by, own });
            }
        }
        Ok(ChannelPolicy {
            sets_aside: !replacements.is_empty() || scopes.iter().any(|s| s.is_restricted()),
            scopes,
            replacements,
            bonus: i32::from(taxonomy.channel_bonus),
        })
    }

    /// The replacements in force on `channel`.
    pub(crate) fn replacements_on(
        &self,
        channel: Channel,
    ) -> impl Iterator<Item = &Replacement> + '_ {
        let b = bit(channel);
        self.replacements.iter().filter(move |r| r.own & b != 0)
    }

    /// The channel's bonus (in keyword points).
    pub(crate) fn bonus(&self) -> i32 {
        self.bonus
    }

    /// Applies the channel to keyword scores: replaced categories hand
    /// their score to their replacement (the larger of the two counts),
    /// categories closed to the channel are dropped, and the channel's own
    /// categories with a score of at least the bonus get the bonus.
    pub(crate) fn apply(&self, scores: &mut SmallVec<[(CategoryId, i32); 8]>, channel: Channel) {
        if self.sets_aside {
            for r in self.replacements_on(channel) {
                let Some(i) = scores.iter().position(|(c, _)| *c == r.replaced) else {
                    continue;
                };
                let (_, s) = scores.swap_remove(i);
                match scores.iter_mut().find(|(c, _)| *c == r.by) {
                    Some((_, t)) => *t = (*t).max(s),
                    None => scores.push((r.by, s)),
                }
            }
            scores.retain(|(c, _)| self.scopes[c.as_usize()].allows(channel));
        }
        let b = self.bonus;
        for (c, s) in scores.iter_mut() {
            // Weaker evidence gets nothing: one generic word (企业, 园区)
            // must not pull a pothole into the channel's own categories.
            if *s > 0 && *s >= b && self.scopes[c.as_usize()].prefers(channel) {
                *s = s.saturating_add(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taxonomy(categories: &[(&str, &[Channel], bool, &[&str])]) -> TaxonomyConfig {
        TaxonomyConfig {
            channel_bonus: 6,
            urgency: Default::default(),
            categories: categories
                .iter()
                .map(|(code, channels, other, replaces)| CategoryConfig {
                    code: code.to_string(),
                    domain: crate::Domain::Economy,
                    name: code.to_string(),
                    name_en: String::new(),
                    keywords: Default::default(),
                    urgent: Vec::new(),
                    channels: channels.to_vec(),
                    other_channels: *other,
                    replaces: replaces.iter().map(|r| r.to_string()).collect(),
                })
                .collect(),
        }
    }

    fn policy(t: &TaxonomyConfig) -> Result<ChannelPolicy, BuildError> {
        let by_code: HashMap<&str, CategoryId> = t
            .categories
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code.as_str(), CategoryId(i as u16)))
            .collect();
        ChannelPolicy::new(t, &by_code, by_code["other"])
    }

    const E: &[Channel] = &[Channel::Enterprise];

    #[test]
    fn scopes() {
        let t = taxonomy(&[
            ("tax", &[], false, &[]),
            ("enterprise.tax", E, false, &["tax"]),
            ("enterprise.policy", E, true, &[]),
            ("other", &[], false, &[]),
        ]);
        let p = policy(&t).unwrap();
        let [tax, etax, policy, _] = [0, 1, 2, 3].map(|i| p.scopes[i]);
        assert!(tax.allows(Channel::Phone) && !tax.prefers(Channel::Enterprise));
        assert!(etax.allows(Channel::Enterprise) && !etax.allows(Channel::Phone));
        assert!(etax.is_restricted() && !policy.is_restricted());
        assert!(policy.allows(Channel::Phone) && policy.prefers(Channel::Enterprise));
    }

    #[test]
    fn apply_replaces_drops_and_prefers() {
        let t = taxonomy(&[
            ("tax", &[], false, &[]),
            ("enterprise.tax", E, false, &["tax"]),
            ("enterprise.policy", E, true, &[]),
            ("other", &[], false, &[]),
        ]);
        let p = policy(&t).unwrap();
        let id = CategoryId;
        let scores = || SmallVec::from_slice(&[(id(0), 12), (id(1), 9), (id(2), 3)]);
        let mut on_phone = scores();
        p.apply(&mut on_phone, Channel::Phone);
        // enterprise.tax is closed to the phone; policy's 3 is below the bonus anyway.
        assert_eq!(on_phone.as_slice(), [(id(0), 12), (id(2), 3)]);
        let mut on_line = scores();
        p.apply(&mut on_line, Channel::Enterprise);
        // tax hands its 12 to enterprise.tax, which then gets the bonus; policy's 3 gets none.
        assert_eq!(on_line.as_slice(), [(id(2), 3), (id(1), 18)]);
    }

    #[test]
    fn meaningless_settings_are_build_errors() {
        let err = |cats: &[(&str, &[Channel], bool, &[&str])]| {
            policy(&taxonomy(cats)).unwrap_err().to_string()
        };
        assert_eq!(
            err(&[
                ("a", &[Channel::Web, Channel::Web], false, &[]),
                ("other", &[], false, &[])
            ]),
            "category 'a': channel 'web' is listed twice"
        );
        assert!(err(&[("a", &[], true, &[]), ("other", &[], false, &[])])
            .contains("other_channels = true means nothing"));
        assert!(err(&[("other", E, false, &[])]).contains("fallback"));
        assert!(
            err(&[("a", &[], false, &["other"]), ("other", &[], false, &[])])
                .contains("replaces needs channels")
        );
        assert!(
            err(&[("a", E, false, &["other"]), ("other", &[], false, &[])])
                .contains("cannot replace 'other'")
        );
        assert_eq!(
            err(&[("a", E, false, &["taxi"]), ("other", &[], false, &[])]),
            "category 'a' replaces refers to unknown category 'taxi'"
        );
        assert!(err(&[
            ("t", &[], false, &[]),
            ("a", E, false, &["t"]),
            ("b", E, false, &["t"]),
            ("other", &[], false, &[]),
        ])
        .contains("'t' is already replaced on the same channel by 'a'"));
        assert!(err(&[
            ("a", E, false, &[]),
            ("b", E, false, &["a"]),
            ("other", &[], false, &[]),
        ])
        .contains("same channel"));
    }
}
