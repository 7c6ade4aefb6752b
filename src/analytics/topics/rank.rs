//! Ranking a month's counters into candidates.

use std::collections::BTreeMap;

use super::{Candidate, Cell, Key, Outcome, Place, Score, Topics, NO_STREET};
use crate::analytics::Month;
use crate::{CategoryId, DistrictId, StreetId};

/// Which counters of a month a candidate is made of.
#[derive(Clone, Copy)]
enum Scope {
    /// One street's counter.
    Street(Key),
    /// Every counter of the category, district and wording.
    District(Key),
    /// The counter of the district's tickets that named no street.
    Streetless(Key),
}

/// (category, district, wording): a problem in a district, all streets.
type Group = (u16, u16, u32);

/// Counts per [`Group`].
type DistrictSums = BTreeMap<Group, u32>;

fn group(key: &Key) -> Group {
    (key.category, key.district, key.wording)
}

fn district_sums(cells: Option<&foldhash::HashMap<Key, Cell>>) -> DistrictSums {
    let mut sums = DistrictSums::new();
    for (k, c) in cells.into_iter().flatten() {
        *sums.entry(group(k)).or_default() += c.tickets;
    }
    sums
}

impl Topics {
    /// The candidates of `month`, best first (ties: more tickets first,
    /// then by category, place and wording). The first
    /// [`picks`](super::TopicsConfig::picks) candidates present in at least
    /// two of the months looked at are marked
    /// [`suggested`](Candidate::suggested).
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::analytics::topics::Topics;
    /// use hotline_router::{Router, Ticket};
    ///
    /// let router = Router::beijing();
    /// let mut topics = Topics::new(&router);
    /// for (i, text) in ["楼上装修噪音太大", "楼上装修噪音太大", "暖气不热"].iter().enumerate() {
    ///     let t = Ticket::new(format!("T{i}"), *text)
    ///         .with_address("西城区德胜街道")
    ///         .with_received_at("2024-11-20T20:00:00+08:00".parse()?);
    ///     topics.add(&t, &router.route(&t)?);
    /// }
    /// let ranked = topics.rank("2024-11".parse()?);
    /// assert_eq!(ranked.len(), 2);
    /// assert_eq!((ranked[0].category.as_str(), ranked[0].volume), ("env.noise", 2));
    /// assert_eq!(ranked[0].evidence, ["T0", "T1"]);
    /// // One month seen: nothing has recurred yet, so nothing is suggested.
    /// assert!(ranked.iter().all(|c| !c.suggested));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rank(&self, month: Month) -> Vec<Candidate> {
        let Some(cells) = self.months.get(&month) else {
            return Vec::new();
        };
        let lookback = self.config.lookback;
        let earlier: Vec<Option<&foldhash::HashMap<Key, Cell>>> = (1..=lookback)
            .rev()
            .map(|k| self.months.get(&month.back(k)))
            .collect();
        let earlier_sums: Vec<DistrictSums> = earlier.iter().map(|m| district_sums(*m)).collect();
        let observed = earlier.iter().filter(|m| m.is_some()).count();

        let mut raw: Vec<(Scope, Candidate)> = Vec::new();
        for scope in self.scopes(cells) {
            let (volume, streets, outcome, evidence) = self.gather(cells, scope);
            if volume == 0 {
                continue;
            }
            let history: Vec<Option<u32>> = earlier
                .iter()
                .zip(&earlier_sums)
                .map(|(m, sums)| m.map(|m| count(m, sums, scope)))
                .collect();
            let months_present = std::iter::once(volume)
                .chain(history.iter().flatten().copied())
                .filter(|&v| v >= self.config.present_min.max(1))
                .count() as u32;
            let growth = if observed == 0 {
                0.0
            } else {
                let mean = f64::from(history.iter().flatten().sum::<u32>()) / observed as f64;
                (((f64::from(volume) + 1.0) / (mean + 1.0)).log2() / 2.0).clamp(0.0, 1.0)
            };
            let s = f64::from(streets);
            let score = Score {
                volume: f64::from(volume),
                growth,
                persistence: f64::from(months_present) / f64::from(lookback + 1),
                spread: s / (s + f64::from(self.config.spread_streets.max(1))),
                difficulty: (self.records > 0).then(|| outcome.difficulty()),
                total: 0.0,
            };
            raw.push((
                scope,
                self.candidate(
                    scope,
                    volume,
                    history,
                    months_present,
                    streets,
                    outcome,
                    score,
                    evidence,
                ),
            ));
        }

        let v_max = raw.iter().map(|(_, c)| c.volume).max().unwrap_or(1);
        let w = self.config.weights;
        for (_, c) in &mut raw {
            let s = &mut c.score;
            s.volume = (1.0 + s.volume).ln() / (1.0 + f64::from(v_max)).ln();
            let mut sum = w.volume * s.volume
                + w.growth * s.growth
                + w.persistence * s.persistence
                + w.spread * s.spread;
            let mut weights = w.volume + w.growth + w.persistence + w.spread;
            if let Some(d) = s.difficulty {
                sum += w.difficulty * d;
                weights += w.difficulty;
            }
            s.total = if weights > 0.0 { sum / weights } else { 0.0 };
        }
        let mut ranked: Vec<Candidate> = raw.into_iter().map(|(_, c)| c).collect();
        ranked.sort_by(|a, b| {
            b.score
                .total
                .total_cmp(&a.score.total)
                .then(b.volume.cmp(&a.volume))
                .then_with(|| a.category.cmp(&b.category))
                .then_with(|| a.place.code().cmp(b.place.code()))
                .then_with(|| a.wording.cmp(&b.wording))
        });
        let mut picks = 0;
        for c in &mut ranked {
            if picks < self.config.picks && c.months_present >= 2 {
                c.suggested = true;
                picks += 1;
            }
        }
        ranked
    }

    /// The month's candidates' scopes: a district where the problem is
    /// spread, its streets otherwise.
    fn scopes(&self, cells: &foldhash::HashMap<Key, Cell>) -> Vec<Scope> {
        let mut groups: BTreeMap<Group, Vec<(&Key, u32)>> = BTreeMap::new();
        for (k, c) in cells {
            groups.entry(group(k)).or_default().push((k, c.tickets));
        }
        let mut scopes = Vec::new();
        for (_, mut members) in groups {
            members.sort_by_key(|(k, _)| k.street);
            let total: u32 = members.iter().map(|(_, n)| n).sum();
            let streets: Vec<&(&Key, u32)> = members
                .iter()
                .filter(|(k, n)| k.street != NO_STREET && *n > 0)
                .collect();
            let busiest = streets.iter().map(|(_, n)| *n).max().unwrap_or(0);
            let spread =
                streets.len() as u32 >= self.config.spread_streets.max(1) && busiest * 2 <= total;
            if spread {
                scopes.push(Scope::District(*members[0].0));
                continue;
            }
            for (k, _) in &members {
                scopes.push(if k.street == NO_STREET {
                    Scope::Streetless(**k)
                } else {
                    Scope::Street(**k)
                });
            }
        }
        scopes
    }

    /// Volume, streets, outcome and evidence of a scope in the month.
    fn gather(
        &self,
        cells: &foldhash::HashMap<Key, Cell>,
        scope: Scope,
    ) -> (u32, u32, Outcome, Vec<String>) {
        let mut members: Vec<(&Key, &Cell)> = match scope {
            Scope::Street(k) | Scope::Streetless(k) => {
                cells.get_key_value(&k).into_iter().collect()
            }
            Scope::District(k) => cells
                .iter()
                .filter(|(m, _)| group(m) == group(&k))
                .collect(),
        };
        // Evidence from the busiest streets first.
        members.sort_by(|a, b| {
            b.1.tickets
                .cmp(&a.1.tickets)
                .then(a.0.street.cmp(&b.0.street))
        });
        let mut outcome = Outcome::default();
        let mut evidence = Vec::new();
        let (mut volume, mut streets) = (0, 0);
        for (k, c) in members {
            volume += c.tickets;
            streets += u32::from(k.street != NO_STREET && c.tickets > 0);
            outcome.add(&c.outcome);
            for id in &c.evidence {
                if evidence.len() < self.config.evidence {
                    evidence.push(id.to_string());
                }
            }
        }
        (volume, streets, outcome, evidence)
    }

    #[allow(clippy::too_many_arguments)]
    fn candidate(
        &self,
        scope: Scope,
        volume: u32,
        history: Vec<Option<u32>>,
        months_present: u32,
        streets: u32,
        outcome: Outcome,
        score: Score,
        evidence: Vec<String>,
    ) -> Candidate {
        let j = self.router.jurisdictions();
        let (Scope::Street(k) | Scope::District(k) | Scope::Streetless(k)) = scope;
        let district = j.district(DistrictId(u32::from(k.district)));
        let place = match scope {
            Scope::Street(k) => {
                let s = j.street(StreetId(k.street));
                Place::Street {
                    code: s.code().to_string(),
                    name: s.name().to_string(),
                    district: district.name().to_string(),
                }
            }
            Scope::District(_) | Scope::Streetless(_) => Place::District {
                code: district.code().to_string(),
                name: district.name().to_string(),
            },
        };
        let category = self.router.category(CategoryId(k.category));
        Candidate {
            category: category.code().to_string(),
            category_name: category.name().to_string(),
            place,
            wording: self.wordings[k.wording as usize].to_string(),
            volume,
            history,
            months_present,
            streets,
            outcome,
            score,
            evidence,
            suggested: false,
        }
    }
}

/// A scope's tickets in an earlier month.
fn count(cells: &foldhash::HashMap<Key, Cell>, sums: &DistrictSums, scope: Scope) -> u32 {
    match scope {
        Scope::Street(k) | Scope::Streetless(k) => cells.get(&k).map_or(0, |c| c.tickets),
        Scope::District(k) => sums.get(&group(&k)).copied().unwrap_or(0),
    }
}
