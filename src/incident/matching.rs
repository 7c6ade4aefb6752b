//! The four tests: which open incidents a sighting may join, and why.

use jiff::SignedDuration;
use smallvec::SmallVec;

use super::config::Reach;
use super::index::State;
use super::keys::{cell_key, cell_m, cell_of, combine, fingerprint, key, metres, Kind};
use super::link::{CategoryMatch, Evidence, PlaceMatch};
use super::place;
use super::sighting::Sighting;
use super::slots::Incident;
use super::text::{PlaceGrams, Words};
use crate::classify::normalize::normalize;
use crate::{CategoryId, CommunityId, DistrictId};

/// Positions further apart than this (or than the category's radius, if
/// larger) are never one place.
const FAR_APART_M: f64 = 1_500.0;

/// Where a sighting is, its keys computed once.
#[derive(Debug, Default)]
pub(super) struct Spot {
    pub(super) district: Option<DistrictId>,
    pub(super) community: Option<CommunityId>,
    pub(super) point: Option<(f64, f64)>,
    /// Hashes of the building code, compound+building and compound (0: none).
    pub(super) code: u64,
    pub(super) building: u64,
    pub(super) compound: u64,
    /// For explanations: the compound and building as read, and the code.
    pub(super) names: place::Spot,
    pub(super) code_text: Option<String>,
}

/// An incident lasts at most this many windows from its first ticket to
/// its last.
pub(super) const MAX_SPAN_WINDOWS: i64 = 3;

/// How a candidate's place matched, strongest first.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Tier {
    Code,
    Building,
    Near(f64),
    Compound,
    Community,
}

/// A candidate that passed the four tests.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pass {
    pub(super) slot: u32,
    tier: Tier,
    same_category: bool,
    similarity: f32,
    threshold: f32,
}

impl Pass {
    /// Lower is better: the place's strength, a related category after the
    /// same one, then the words.
    fn rank(&self) -> (u8, f32) {
        let tier = match self.tier {
            Tier::Code => 0,
            Tier::Building => 1,
            Tier::Near(_) => 2,
            Tier::Compound => 3,
            Tier::Community => 4,
        };
        (tier + 5 * u8::from(!self.same_category), -self.similarity)
    }
}

impl State {
    /// The sighting's place and words, its text and address normalised
    /// once for both.
    pub(super) fn read(&self, s: &Sighting<'_>) -> (Spot, Words) {
        let text = normalize(s.text);
        let address = s
            .address
            .map(|a| normalize(a.trim()))
            .filter(|a| !a.is_empty());
        let spot = self.spot(s, &text, address.as_deref());
        let words = self.words(s, &text, address.as_deref());
        (spot, words)
    }

    /// The sighting's place: jurisdiction, point, and compound and building
    /// from its address (or, without one, from the start of its text).
    fn spot(&self, s: &Sighting<'_>, text: &str, address: Option<&str>) -> Spot {
        let j = self.router.jurisdictions();
        let district = s.district.filter(|d| d.as_usize() < j.districts().len());
        let community = s.community.filter(|c| c.as_usize() < j.communities().len());
        let names = match (district, address) {
            (None, _) => place::Spot::default(),
            (Some(_), Some(a)) => place::parse(a, self.prefixes.end(a)),
            (Some(_), None) => {
                // The place a text names is at its start: read no further.
                let text = text.trim();
                let head = text
                    .char_indices()
                    .nth(30)
                    .map_or(text, |(i, _)| &text[..i]);
                place::parse_text(head, self.prefixes.end(head))
            }
        };
        // Compound keys include the district: 小黄庄 in 东城区 and in 朝阳区
        // are two places.
        let scope = district.map_or(0, |d| d.as_usize() as u64 + 1);
        let compound = names
            .compound
            .as_deref()
            .map_or(0, |c| combine(scope, fingerprint(c)));
        let building = match &names.building {
            Some(b) if compound != 0 => combine(compound, fingerprint(b)),
            _ => 0,
        };
        let code_text = s.building.map(str::trim).filter(|c| !c.is_empty());
        Spot {
            district,
            community,
            point: s
                .point
                .filter(|(lon, lat)| lon.is_finite() && lat.is_finite() && lat.abs() <= 90.0),
            code: code_text.map_or(0, |c| fingerprint(c).max(1)),
            building,
            compound,
            names,
            code_text: code_text.map(str::to_string),
        }
    }

    /// The sighting's content words, without its place.
    fn words(&self, s: &Sighting<'_>, text: &str, address: Option<&str>) -> Words {
        let mut place = PlaceGrams::default();
        if let Some(a) = address {
            place.add(a);
        }
        place.add_leading_place(text);
        let names = &self.names;
        for grams in [
            s.district.and_then(|d| names.district(d)),
            s.street.and_then(|x| names.street(x)),
            s.community.and_then(|c| names.community(c)),
        ]
        .into_iter()
        .flatten()
        {
            place.add_grams(grams);
        }
        Words::of(text, &place)
    }

    /// Every open incident the sighting passes the four tests for, best
    /// first.
    pub(super) fn matches(
        &self,
        s: &Sighting<'_>,
        at: i64,
        spot: &Spot,
        words: &Words,
    ) -> SmallVec<[Pass; 2]> {
        let mut candidates: SmallVec<[u32; 16]> = SmallVec::new();
        let mut keys: SmallVec<[u64; 6]> = SmallVec::new();
        if let Some(p) = spot.point {
            // One cell per radius class among the categories that may join.
            for &class in self.classes_for(s.category) {
                keys.push(cell_key(class, cell_of(cell_m(class), p)));
            }
        }
        for (kind, value) in [(Kind::Compound, spot.compound), (Kind::Code, spot.code)] {
            if value != 0 {
                keys.push(key(kind, value));
            }
        }
        for k in keys {
            for e in self.keys.get(&k).into_iter().flatten() {
                if self.relates(s.category, e.category)
                    && self.live(e)
                    && !candidates.contains(&e.slot)
                {
                    candidates.push(e.slot);
                }
            }
        }
        let mut passes: SmallVec<[Pass; 2]> = candidates
            .into_iter()
            .filter_map(|slot| self.judge(s.category, at, spot, words, slot))
            .collect();
        passes.sort_by(|a, b| {
            a.rank()
                .partial_cmp(&b.rank())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        passes
    }

    /// Whether a sighting may join the incident in `slot`.
    fn judge(
        &self,
        category: CategoryId,
        at: i64,
        spot: &Spot,
        words: &Words,
        slot: u32,
    ) -> Option<Pass> {
        let i = self.incident(slot)?;
        let rule = self.rule(i.category);
        // What: the same category or a related one.
        let same_category = i.category == category;
        if !self.relates(category, i.category.as_usize() as u16) {
            return None;
        }
        // When: within the window of the latest ticket (or, out of order,
        // of the first), and no more than three windows from end to end, so
        // that a problem reported every day does not make one endless
        // incident.
        let window = rule.window.as_secs();
        if at < i.first.saturating_sub(window) || at > i.last.saturating_add(window) {
            return None;
        }
        let span = i.last.max(at).saturating_sub(i.first.min(at));
        if span > window.saturating_mul(MAX_SPAN_WINDOWS) {
            return None;
        }
        // Where.
        if i.district.is_some() && spot.district.is_some() && i.district != spot.district {
            return None;
        }
        // Two positions far apart are two places, whatever names the texts
        // share (a compound read from the words can be wrong; the phone's
        // position is measured). The margin allows for a caller at the
        // compound's far side.
        if let (Some(p), Some(q)) = (spot.point, i.point()) {
            if spot.code == 0 && metres(p, q) > rule.radius_m.max(FAR_APART_M) {
                return None;
            }
        }
        let other_building = (spot.code != 0 && i.code != 0 && spot.code != i.code)
            || (spot.building != 0 && i.building != 0 && spot.building != i.building);
        if other_building && rule.reach == Reach::Building {
            return None;
        }
        let tier = self.place_tier(spot, i, rule.radius_m, other_building)?;
        // Words: the less certain the place, the more alike. The words
        // weight lowers the bar where the place is certain; another
        // building, or a mere community, always needs the words to agree.
        let t = &self.thresholds;
        let mut threshold = match tier {
            Tier::Code | Tier::Building => rule.words * t.building,
            Tier::Near(_) => rule.words * t.near,
            Tier::Compound if other_building => t.compound,
            Tier::Compound => rule.words * t.compound,
            Tier::Community => t.community,
        };
        if !same_category {
            threshold = threshold.max(t.related);
        }
        let similarity = if same_category {
            words.similarity(&i.text)
        } else {
            words.containment(&i.text)
        };
        (similarity >= threshold).then_some(Pass {
            slot,
            tier,
            same_category,
            similarity,
            threshold,
        })
    }

    /// The strongest way the places match, if any.
    fn place_tier(
        &self,
        spot: &Spot,
        i: &Incident,
        radius_m: f64,
        other_building: bool,
    ) -> Option<Tier> {
        let mut tier = if spot.code != 0 && spot.code == i.code {
            Some(Tier::Code)
        } else if spot.building != 0 && spot.building == i.building {
            Some(Tier::Building)
        } else {
            match (spot.point, i.point()) {
                (Some(p), Some(q)) if metres(p, q) <= radius_m => Some(Tier::Near(metres(p, q))),
                _ => None,
            }
        };
        if other_building {
            // An area problem in another building: the compound's test.
            tier = tier.map(|_| Tier::Compound);
        }
        if tier.is_none() && spot.compound != 0 && spot.compound == i.compound {
            tier = Some(Tier::Compound);
        }
        let other_compound = spot.compound != 0 && i.compound != 0 && spot.compound != i.compound;
        if tier.is_none()
            && !other_compound
            && spot.community.is_some()
            && spot.community == i.community
        {
            tier = Some(Tier::Community);
        }
        tier
    }

    /// Why a sighting joined the incident in `pass.slot`.
    pub(super) fn evidence(
        &self,
        category: CategoryId,
        at: i64,
        spot: &Spot,
        pass: &Pass,
    ) -> Evidence {
        let i = self.incident(pass.slot).expect("a live slot");
        let rule = self.rule(i.category);
        let code = |c: CategoryId| self.router.category(c).code().to_string();
        let compound = spot.names.compound.clone().unwrap_or_default();
        let place = match pass.tier {
            Tier::Code => PlaceMatch::BuildingCode(spot.code_text.clone().unwrap_or_default()),
            Tier::Building => PlaceMatch::Building(format!(
                "{compound} {}号楼",
                spot.names.building.as_deref().unwrap_or("")
            )),
            Tier::Near(metres) => PlaceMatch::Near {
                metres,
                radius_m: rule.radius_m,
            },
            Tier::Compound => PlaceMatch::Compound(compound),
            Tier::Community => PlaceMatch::Community(
                spot.community
                    .map(|c| self.router.jurisdictions().community(c).name().to_string())
                    .unwrap_or_default(),
            ),
        };
        Evidence {
            category: if pass.same_category {
                CategoryMatch::Same(code(category))
            } else {
                CategoryMatch::Related {
                    ticket: code(category),
                    incident: code(i.category),
                }
            },
            place,
            since_first: SignedDuration::from_secs(at - i.first),
            window: rule.window,
            similarity: pass.similarity,
            threshold: pass.threshold,
        }
    }
}
