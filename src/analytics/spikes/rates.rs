//! What the detector has learned: how many tickets each category, place
//! and hour slot had, exponentially forgotten day by day, and from that
//! the expected shares the test compares against.
//!
//! Counts of the current day accumulate apart and are folded in when the
//! day ends, so an ongoing burst is never part of its own baseline.

/// Learned-rate slots: working day or not (the calendar's, so holidays
/// count as rest days and make-up Saturdays as working days) × local hour.
pub(super) const SLOTS: usize = 48;

/// The slot of `hour` (0–23) on a working day or a rest day.
pub(super) fn slot(working: bool, hour: u32) -> u8 {
    (u32::from(working) * 24 + hour.min(23)) as u8
}

/// Counts by slot: today's by hour, the learned ones by slot.
#[derive(Clone, Debug)]
pub(super) struct SlotCounts {
    today: [u32; 24],
    learned: [f64; SLOTS],
}

impl Default for SlotCounts {
    fn default() -> Self {
        SlotCounts {
            today: [0; 24],
            learned: [0.0; SLOTS],
        }
    }
}

impl SlotCounts {
    fn total(&self) -> f64 {
        self.learned.iter().sum()
    }

    fn fold(&mut self, working: bool, decay: f64, extra_decay: f64) -> u32 {
        let mut today = 0;
        for x in &mut self.learned {
            *x *= decay;
        }
        for (h, n) in self.today.iter_mut().enumerate() {
            self.learned[usize::from(slot(working, h as u32))] += f64::from(*n);
            today += *n;
            *n = 0;
        }
        for x in &mut self.learned {
            *x *= extra_decay;
        }
        today
    }
}

/// A category's counts and its odds against all other tickets per slot.
#[derive(Clone, Debug)]
pub(super) struct CategoryRates {
    counts: SlotCounts,
    /// Learned total (the sum of `counts.learned`).
    pub(super) learned: f64,
    /// `p / (1 − p)` per slot, `p` the category's share of the slot's
    /// tickets, shrunk towards its share overall. 0 until learned.
    pub(super) odds: [f32; SLOTS],
}

/// A place's learned ticket count (all categories).
#[derive(Clone, Debug, Default)]
pub(super) struct PlaceRates {
    today: u32,
    pub(super) learned: f64,
}

/// Everything learned.
#[derive(Clone, Debug, Default)]
pub(super) struct Rates {
    all: SlotCounts,
    all_learned: f64,
    pub(super) categories: Vec<CategoryRates>,
    pub(super) places: Vec<PlaceRates>,
    /// Days folded in that had tickets.
    pub(super) days: u32,
}

/// Where a ticket's learning goes: into today's counts, or (late for a
/// day already folded) straight into the learned ones.
#[derive(Clone, Copy, Debug)]
pub(super) enum Learn {
    Today { hour: u32 },
    Late { slot: u8 },
}

impl Rates {
    fn ensure(&mut self, k: u16, places: &[u32]) {
        let k = usize::from(k);
        if self.categories.len() <= k {
            self.categories.resize(
                k + 1,
                CategoryRates {
                    counts: SlotCounts::default(),
                    learned: 0.0,
                    odds: [0.0; SLOTS],
                },
            );
        }
        if let Some(&max) = places.iter().max() {
            if self.places.len() <= max as usize {
                self.places.resize(max as usize + 1, PlaceRates::default());
            }
        }
    }

    /// Learns one ticket of category `k` at `places` (its district and
    /// street ids, if known).
    pub(super) fn learn(&mut self, how: Learn, k: u16, places: &[u32]) {
        self.ensure(k, places);
        let c = &mut self.categories[usize::from(k)];
        match how {
            Learn::Today { hour } => {
                let h = hour.min(23) as usize;
                c.counts.today[h] += 1;
                self.all.today[h] += 1;
                for &p in places {
                    self.places[p as usize].today += 1;
                }
            }
            Learn::Late { slot } => {
                c.counts.learned[usize::from(slot)] += 1.0;
                c.learned += 1.0;
                self.all.learned[usize::from(slot)] += 1.0;
                self.all_learned += 1.0;
                for &p in places {
                    self.places[p as usize].learned += 1.0;
                }
            }
        }
    }

    /// Ends a day: today's counts (of a working day or not) join the
    /// learned ones, everything forgotten by `decay` per day over `days`
    /// days (more than 1 when the stream skipped days).
    pub(super) fn fold(&mut self, working: bool, days: u32, decay: f64, prior: f64) {
        let extra = decay.powi(days.saturating_sub(1).min(10_000) as i32);
        if self.all.fold(working, decay, extra) > 0 {
            self.days += 1;
        }
        self.all_learned = self.all.total();
        for c in &mut self.categories {
            c.counts.fold(working, decay, extra);
            c.learned = c.counts.total();
        }
        for p in &mut self.places {
            p.learned = (p.learned * decay + f64::from(p.today)) * extra;
            p.today = 0;
        }
        self.recompute_odds(prior);
    }

    /// Category `k`'s expected count today, city-wide, from today's
    /// tickets of other categories and the learned odds (as the test
    /// computes it for a window).
    pub(super) fn expected_today(&self, k: u16, working: bool) -> f64 {
        let Some(c) = self.categories.get(usize::from(k)) else {
            return 0.0;
        };
        (0..24)
            .map(|h| {
                let others = self.all.today[h] - c.counts.today[h];
                f64::from(others) * f64::from(c.odds[usize::from(slot(working, h as u32))])
            })
            .sum()
    }

    /// Heap bytes, roughly.
    pub(super) fn bytes(&self) -> usize {
        self.categories.capacity() * std::mem::size_of::<CategoryRates>()
            + self.places.capacity() * std::mem::size_of::<PlaceRates>()
    }

    fn recompute_odds(&mut self, prior: f64) {
        let total = self.all_learned;
        for c in &mut self.categories {
            if c.learned <= 0.0 || total <= 0.0 {
                c.odds = [0.0; SLOTS];
                continue;
            }
            let overall = c.learned / total;
            for s in 0..SLOTS {
                // Shrunk towards the overall share: a slot seen rarely
                // (the holiday hours of a short history) says little.
                let p = (c.counts.learned[s] + prior * overall) / (self.all.learned[s] + prior);
                // Capped: a category that is nearly all tickets has no
                // "other" tickets to be measured against.
                let p = p.min(0.9);
                c.odds[s] = (p / (1.0 - p)) as f32;
            }
        }
    }

    /// The expected share of category `k`'s tickets that fall in district
    /// `d`, from the cell's learned count, shrunk towards the district's
    /// share of all tickets; 0 if the district or category is unknown.
    pub(super) fn district_share(&self, k: u16, d: u32, cell: f64, prior: f64) -> f32 {
        let (Some(c), Some(p)) = (
            self.categories.get(usize::from(k)),
            self.places.get(d as usize),
        ) else {
            return 0.0;
        };
        if c.learned <= 0.0 || p.learned <= 0.0 || self.all_learned <= 0.0 {
            return 0.0;
        }
        let general = p.learned / self.all_learned;
        ((cell + prior * general) / (c.learned + prior)) as f32
    }

    /// The expected share of category `k`'s tickets in district `d` that
    /// fall in its street `s`, from the cell's and the district cell's
    /// learned counts, shrunk towards the street's share of the district's
    /// tickets; 0 if the street or district is unknown.
    pub(super) fn street_share(&self, s: u32, d: u32, cell: f64, parent: f64, prior: f64) -> f32 {
        let (Some(ps), Some(pd)) = (self.places.get(s as usize), self.places.get(d as usize))
        else {
            return 0.0;
        };
        if ps.learned <= 0.0 || pd.learned <= 0.0 {
            return 0.0;
        }
        let general = (ps.learned / pd.learned).min(1.0);
        ((cell + prior * general) / (parent + prior)) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_learns_by_slot_and_forgets() {
        let mut r = Rates::default();
        // Day 1 (working): category 0 at 10:00 ×3, category 1 at 10:00 ×1.
        for _ in 0..3 {
            r.learn(Learn::Today { hour: 10 }, 0, &[0]);
        }
        r.learn(Learn::Today { hour: 10 }, 1, &[0, 1]);
        r.fold(true, 1, 0.5, 0.0);
        assert_eq!(r.days, 1);
        assert_eq!(r.categories[0].learned, 3.0);
        // Share 3/4 at working 10:00: odds 3.
        assert!((r.categories[0].odds[usize::from(slot(true, 10))] - 3.0).abs() < 1e-6);
        // Two days later, nothing new: halved twice, and the empty day is
        // not a day learned.
        r.fold(true, 2, 0.5, 0.0);
        assert_eq!(r.days, 1);
        assert_eq!(r.categories[0].learned, 0.75);
        assert_eq!(r.places[0].learned, 1.0);
        // A late ticket goes straight into the learned counts.
        r.learn(Learn::Late { slot: 3 }, 1, &[1]);
        assert_eq!(r.categories[1].learned, 1.25);
    }

    #[test]
    fn shares_shrink_towards_the_place() {
        let mut r = Rates::default();
        // 100 tickets: district 0 has 80, district 1 has 20; category 0
        // has 10, all in district 1.
        for i in 0..100 {
            let (k, d) = (u16::from(i < 10), if (10..90).contains(&i) { 0 } else { 1 });
            r.learn(Learn::Today { hour: 9 }, 1 - k, &[d]);
        }
        r.fold(false, 1, 1.0, 10.0);
        // No prior: the cell's own share.
        assert!((r.district_share(0, 1, 10.0, 0.0) - 1.0).abs() < 1e-6);
        // Prior 10: (10 + 10·0.2) / (10 + 10) = 0.6.
        assert!((r.district_share(0, 1, 10.0, 10.0) - 0.6).abs() < 1e-6);
        // Unknown place or category: not tested.
        assert_eq!(r.district_share(0, 7, 0.0, 10.0), 0.0);
        assert_eq!(r.district_share(5, 0, 0.0, 10.0), 0.0);
        // The odds of category 0 (rest-day 09:00): 10 of 100, shrunk
        // towards 10% overall, so 1/9.
        let odds = r.categories[0].odds[usize::from(slot(false, 9))];
        assert!((odds - 1.0 / 9.0).abs() < 1e-6, "{odds}");
        assert_eq!(r.categories[0].odds[usize::from(slot(true, 9))], odds);
    }
}
