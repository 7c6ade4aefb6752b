//! The detector's memory: interned codes, the city-wide bucket ring and
//! one small ring of bucket counts per cell (category × place).
//!
//! Rings are indexed by absolute bucket number modulo the window length
//! `w`; a ring remembers the newest bucket it was advanced to and zeroes
//! the buckets it skips, so a cell untouched for hours costs nothing until
//! its next ticket.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use foldhash::fast::RandomState;

/// No place: the parent of a district.
pub(super) const NONE: u32 = u32::MAX;

/// Codes ↔ dense ids, for categories and for places (districts and
/// streets, one id space; a street remembers its district).
#[derive(Clone, Debug, Default)]
pub(super) struct Names {
    category_ids: HashMap<Box<str>, u16, RandomState>,
    pub(super) categories: Vec<Box<str>>,
    place_ids: HashMap<Box<str>, u32, RandomState>,
    pub(super) places: Vec<Box<str>>,
    /// The district of each street place; [`NONE`] for a district.
    pub(super) parents: Vec<u32>,
}

impl Names {
    /// The id of category `code`, interned on first sight; `None` once
    /// `max` categories are known.
    pub(super) fn category(&mut self, code: &str, max: usize) -> Option<u16> {
        if let Some(&id) = self.category_ids.get(code) {
            return Some(id);
        }
        if self.categories.len() >= max.min(usize::from(u16::MAX)) {
            return None;
        }
        let id = self.categories.len() as u16;
        self.categories.push(code.into());
        self.category_ids.insert(code.into(), id);
        Some(id)
    }

    /// The id of place `code` (a street when `parent` is a district id),
    /// interned on first sight; `None` once `max` places are known. A code
    /// keeps the parent it was first seen with.
    pub(super) fn place(&mut self, code: &str, parent: u32, max: usize) -> Option<u32> {
        if let Some(&id) = self.place_ids.get(code) {
            return Some(id);
        }
        if self.places.len() >= max.min(NONE as usize) {
            return None;
        }
        let id = self.places.len() as u32;
        self.places.push(code.into());
        self.parents.push(parent);
        self.place_ids.insert(code.into(), id);
        Some(id)
    }

    /// Heap bytes, roughly.
    pub(super) fn bytes(&self) -> usize {
        let strings: usize = self.categories.iter().map(|c| c.len()).sum::<usize>()
            + self.places.iter().map(|p| p.len()).sum::<usize>();
        2 * strings + (self.categories.len() + self.places.len()) * 48 + self.parents.len() * 4
    }
}

/// Tickets per bucket over the whole city: all of them, and per category.
/// Its newest bucket is the detector's clock.
#[derive(Clone, Debug)]
pub(super) struct CityRing {
    w: usize,
    pub(super) total: Vec<u32>,
    /// The learned-rate slot (day type × hour) of each bucket.
    pub(super) slot: Vec<u8>,
    /// `w` buckets per category, category-major.
    per_category: Vec<u32>,
}

impl CityRing {
    pub(super) fn new(w: usize) -> CityRing {
        CityRing {
            w,
            total: vec![0; w],
            slot: vec![0; w],
            per_category: Vec::new(),
        }
    }

    /// Empties the slot bucket `b` reuses and labels it `slot`.
    pub(super) fn reset(&mut self, b: i64, slot: u8) {
        let i = b.rem_euclid(self.w as i64) as usize;
        self.total[i] = 0;
        self.slot[i] = slot;
        for c in self.per_category.chunks_exact_mut(self.w) {
            c[i] = 0;
        }
    }

    /// Counts one ticket of category `k` in bucket `b` (within the window).
    pub(super) fn add(&mut self, b: i64, k: u16) {
        let i = b.rem_euclid(self.w as i64) as usize;
        let base = usize::from(k) * self.w;
        if base >= self.per_category.len() {
            self.per_category.resize(base + self.w, 0);
        }
        self.total[i] += 1;
        self.per_category[base + i] += 1;
    }

    /// The expected count of category `k` in the window, city-wide:
    /// `Σ (tickets of other categories) × odds of k in that bucket's slot`.
    pub(super) fn expected(&self, k: u16, odds: &[f32]) -> f64 {
        let base = usize::from(k) * self.w;
        let own = self.per_category.get(base..base + self.w);
        let mut sum = 0.0;
        for i in 0..self.w {
            let others = self.total[i] - own.map_or(0, |o| o[i]);
            sum += f64::from(others) * f64::from(odds[usize::from(self.slot[i])]);
        }
        sum
    }

    pub(super) fn bytes(&self) -> usize {
        (self.total.len() + self.per_category.len()) * 4 + self.slot.len()
    }
}

/// One cell: a category in a district or in a street.
#[derive(Clone, Debug)]
pub(super) struct Cell {
    pub(super) category: u16,
    /// Still watched for a new alert (false from an alert until the count
    /// falls back near the expected).
    pub(super) armed: bool,
    /// Alerted since the day began: its day is left out of the dispersion
    /// estimate (a spike is not noise).
    pub(super) alerted: bool,
    pub(super) place: u32,
    /// Tickets in the window.
    pub(super) sum: u32,
    /// The newest bucket the ring was advanced to.
    pub(super) head: i64,
    /// Tickets since the start of the current day, not yet learned.
    pub(super) today: u32,
    /// Learned tickets, exponentially decayed by day.
    pub(super) learned: f32,
    /// The cell's expected share of its parent (0: not tested yet).
    pub(super) share: f32,
    /// Counts below this cannot alert before the window slides: within a
    /// bucket the expected only grows. 0 after every slide.
    pub(super) quiet_below: u32,
}

/// The cells, their rings (`w` u16 buckets each, in one flat vector) and
/// the index from (category, place) to cell.
#[derive(Clone, Debug)]
pub(super) struct Cells {
    w: usize,
    index: HashMap<u64, u32, RandomState>,
    pub(super) cells: Vec<Cell>,
    rings: Vec<u16>,
}

fn key(category: u16, place: u32) -> u64 {
    (u64::from(category) << 32) | u64::from(place)
}

impl Cells {
    pub(super) fn new(w: usize) -> Cells {
        Cells {
            w,
            index: HashMap::default(),
            cells: Vec::new(),
            rings: Vec::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.cells.len()
    }

    /// The cell of `category` at `place`.
    pub(super) fn find(&self, category: u16, place: u32) -> Option<usize> {
        self.index.get(&key(category, place)).map(|&i| i as usize)
    }

    /// The cell of `category` at `place` and whether it is new: created
    /// (ring at `now`) if there is room; `None` when `max` cells exist.
    pub(super) fn find_or_insert(
        &mut self,
        category: u16,
        place: u32,
        now: i64,
        max: usize,
    ) -> Option<(usize, bool)> {
        let i = self.cells.len();
        match self.index.entry(key(category, place)) {
            Entry::Occupied(e) => return Some((*e.get() as usize, false)),
            Entry::Vacant(_) if i >= max => return None,
            Entry::Vacant(e) => e.insert(i as u32),
        };
        self.cells.push(Cell {
            category,
            armed: true,
            alerted: false,
            place,
            sum: 0,
            head: now,
            today: 0,
            learned: 0.0,
            share: 0.0,
            quiet_below: 0,
        });
        self.rings.resize(self.rings.len() + self.w, 0);
        Some((i, true))
    }

    /// Moves cell `i`'s ring forward to bucket `now`, dropping what left
    /// the window.
    pub(super) fn advance(&mut self, i: usize, now: i64) {
        let w = self.w as i64;
        let cell = &mut self.cells[i];
        let gap = now - cell.head;
        if gap <= 0 {
            return;
        }
        let ring = &mut self.rings[i * self.w..(i + 1) * self.w];
        if gap >= w {
            ring.fill(0);
            cell.sum = 0;
        } else {
            // One division, then a wrapping index: this runs on every ticket.
            let mut at = (cell.head + 1).rem_euclid(w) as usize;
            for _ in 0..gap {
                cell.sum -= u32::from(ring[at]);
                ring[at] = 0;
                at += 1;
                if at == ring.len() {
                    at = 0;
                }
            }
        }
        cell.head = now;
        cell.quiet_below = 0;
    }

    /// Counts a ticket in bucket `b` of cell `i` (advanced to at least `b`,
    /// and `b` within its window).
    pub(super) fn add(&mut self, i: usize, b: i64) {
        let slot = &mut self.rings[i * self.w + b.rem_euclid(self.w as i64) as usize];
        if *slot < u16::MAX {
            *slot += 1;
            self.cells[i].sum += 1;
        }
    }

    /// Drops the cells `idle` says are idle (their rings with them).
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&Cell) -> bool) {
        let w = self.w;
        let mut j = 0;
        for i in 0..self.cells.len() {
            if keep(&self.cells[i]) {
                if i != j {
                    self.cells.swap(i, j);
                    self.rings.copy_within(i * w..(i + 1) * w, j * w);
                }
                j += 1;
            }
        }
        self.cells.truncate(j);
        self.rings.truncate(j * w);
        self.index.clear();
        for (i, c) in self.cells.iter().enumerate() {
            self.index.insert(key(c.category, c.place), i as u32);
        }
        self.cells.shrink_to(j * 2);
        self.rings.shrink_to(j * 2 * w);
    }

    /// Heap bytes, roughly (a hash entry ~ 16 bytes plus its control byte).
    pub(super) fn bytes(&self) -> usize {
        self.cells.capacity() * std::mem::size_of::<Cell>()
            + self.rings.capacity() * 2
            + self.index.capacity() * 17
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_slide_and_forget() {
        let mut cells = Cells::new(4);
        let (i, new) = cells.find_or_insert(3, 7, 100, 10).unwrap();
        assert!(new);
        assert_eq!(cells.find_or_insert(3, 7, 100, 10), Some((i, false)));
        cells.add(i, 100);
        cells.add(i, 100);
        cells.advance(i, 102);
        cells.add(i, 102);
        cells.add(i, 101); // late, still inside
        assert_eq!(cells.cells[i].sum, 4);
        cells.advance(i, 104); // bucket 100 leaves (window 101..=104)
        assert_eq!(cells.cells[i].sum, 2);
        cells.advance(i, 1_000);
        assert_eq!(cells.cells[i].sum, 0);
        assert_eq!(cells.find(3, 7), Some(i));
        assert_eq!(cells.find(7, 3), None);
    }

    #[test]
    fn cells_are_capped_and_retained_by_predicate() {
        let mut cells = Cells::new(2);
        for p in 0..5 {
            assert!(cells.find_or_insert(1, p, 0, 5).is_some());
        }
        assert!(cells.find_or_insert(2, 0, 0, 5).is_none());
        let kept = cells.find(1, 3).unwrap();
        cells.add(kept, 0);
        cells.retain(|c| c.place % 2 == 1);
        assert_eq!(cells.len(), 2);
        let i = cells.find(1, 3).unwrap();
        assert_eq!(cells.cells[i].sum, 1);
        cells.advance(i, 1);
        cells.advance(i, 2);
        assert_eq!(cells.cells[i].sum, 0, "the ring moved with its cell");
        assert!(cells.find(1, 2).is_none());
    }

    #[test]
    fn city_ring_expectation_excludes_the_category_itself() {
        let mut city = CityRing::new(3);
        for b in 0..3 {
            city.reset(b, b as u8);
        }
        city.add(0, 0);
        city.add(0, 1);
        city.add(1, 1);
        city.add(2, 0);
        // odds 1.0 in slot 0, 2.0 in slot 1, 3.0 in slot 2.
        let odds = [1.0, 2.0, 3.0];
        // For category 0: others per bucket = [1, 1, 0].
        assert_eq!(city.expected(0, &odds), 1.0 + 2.0);
        // Category 9 was never seen: everything is "others".
        assert_eq!(city.expected(9, &odds), 2.0 + 2.0 + 3.0);
    }

    #[test]
    fn names_intern_and_cap() {
        let mut n = Names::default();
        assert_eq!(n.category("heating", 2), Some(0));
        assert_eq!(n.category("noise", 2), Some(1));
        assert_eq!(n.category("heating", 2), Some(0));
        assert_eq!(n.category("new", 2), None);
        let d = n.place("110105", NONE, 10).unwrap();
        let s = n.place("110105003", d, 10).unwrap();
        assert_eq!(n.parents[s as usize], d);
        assert_eq!(&*n.places[s as usize], "110105003");
    }
}
