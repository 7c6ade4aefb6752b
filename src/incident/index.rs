//! The index's state: open incidents, the keys that find them, expiry.

use std::collections::HashMap;

use foldhash::fast::FixedState;
use smallvec::SmallVec;

use super::config::{CategoryRule, Thresholds};
use super::expiry::Expiries;
use super::keys::{cell_key, cell_m, class_of, disk_cells, fingerprint, key, Kind};
use super::link::Link;
use super::matching::Spot;
use super::place::Prefixes;
use super::sighting::Sighting;
use super::slots::{Entry, Incident, Slot};
use super::text::{NameGrams, Signature, Words};
use crate::{CategoryId, CommunityId, DistrictId, Router};

type Map<V> = HashMap<u64, V, FixedState>;

/// The mutable state of an [`IncidentIndex`](super::IncidentIndex).
#[derive(Clone, Debug)]
pub(super) struct State {
    pub(super) router: Router,
    pub(super) rules: Vec<CategoryRule>,
    /// Bit b of row a (`related[a * words + b / 64]`): whether a ticket of
    /// category a may join an incident of category b (a itself included).
    related: Vec<u64>,
    /// Per category, the radius classes of it and its related categories:
    /// the grid layers a ticket of it reads.
    classes: Vec<SmallVec<[u8; 3]>>,
    /// The district and street names, to find where an address's
    /// jurisdiction ends.
    pub(super) prefixes: std::sync::Arc<Prefixes>,
    pub(super) thresholds: Thresholds,
    /// Bigrams of every jurisdiction's name, left out of ticket words.
    pub(super) names: std::sync::Arc<NameGrams>,
    pub(super) slots: Vec<Slot>,
    free: Vec<u32>,
    /// Fingerprint of every ticket in an open incident → its slot.
    pub(super) tickets: Map<u32>,
    /// Fingerprint of an incident id that is not a member's (restored under
    /// another id) → slot.
    aliases: Map<u32>,
    /// Place key → the incidents filed under it.
    pub(super) keys: Map<SmallVec<[Entry; 2]>>,
    /// Entries in `keys`, and how many of them belong to incidents gone.
    entries: usize,
    stale: usize,
    /// When incidents may expire, one queue per window length.
    pub(super) expiries: Expiries,
    /// The latest time seen: incidents whose window ended before it are gone.
    watermark: i64,
    pub(super) open: usize,
}

impl State {
    pub(super) fn new(
        router: &Router,
        rules: Vec<CategoryRule>,
        related: Vec<Vec<CategoryId>>,
        thresholds: Thresholds,
    ) -> State {
        let n = rules.len();
        let words = n.div_ceil(64);
        let mut matrix = vec![0u64; n * words];
        let mut classes = Vec::with_capacity(n);
        for a in 0..n {
            let mut set: SmallVec<[u8; 3]> = SmallVec::new();
            let others = related.get(a).into_iter().flatten().map(|c| c.as_usize());
            for b in std::iter::once(a).chain(others).filter(|&b| b < n) {
                matrix[a * words + b / 64] |= 1 << (b % 64);
                let class = class_of(rules[b].radius_m);
                if !set.contains(&class) {
                    set.push(class);
                }
            }
            classes.push(set);
        }
        let j = router.jurisdictions();
        let prefixes = Prefixes::new(
            j.districts().map(|(_, d)| d.name()),
            j.streets().map(|(_, s)| s.name()),
            j.communities().map(|(_, c)| c.name()),
        );
        State {
            router: router.clone(),
            rules,
            related: matrix,
            classes,
            prefixes: std::sync::Arc::new(prefixes),
            thresholds,
            names: std::sync::Arc::new(NameGrams::new(router)),
            slots: Vec::new(),
            free: Vec::new(),
            tickets: Map::default(),
            aliases: Map::default(),
            keys: Map::default(),
            entries: 0,
            stale: 0,
            expiries: Expiries::default(),
            watermark: i64::MIN,
            open: 0,
        }
    }

    /// Whether a ticket of category `a` may join an incident of category `b`.
    pub(super) fn relates(&self, a: CategoryId, b: u16) -> bool {
        let words = self.rules.len().div_ceil(64);
        let b = usize::from(b);
        a.as_usize() == b
            || self
                .related
                .get(a.as_usize() * words + b / 64)
                .is_some_and(|w| w >> (b % 64) & 1 == 1)
    }

    /// Whether an entry belongs to the incident now in its slot.
    pub(super) fn live(&self, e: &Entry) -> bool {
        live(&self.slots, e)
    }

    /// Files the incident in `slot` under `keys`, pruning the entries of
    /// incidents gone from the buckets it writes.
    fn file(&mut self, slot: u32, keys: &[u64]) {
        let s = &self.slots[slot as usize];
        let Some(i) = &s.incident else {
            return;
        };
        let entry = Entry {
            slot,
            category: i.category.as_usize() as u16,
            generation: s.generation as u16,
        };
        let slots = &self.slots;
        for &k in keys {
            let bucket = self.keys.entry(k).or_default();
            let before = bucket.len();
            bucket.retain(|e| live(slots, e));
            let pruned = before - bucket.len();
            self.stale = self.stale.saturating_sub(pruned);
            self.entries = self.entries - pruned + 1;
            bucket.push(entry);
        }
    }

    /// Removes every entry of an incident that is gone, once they are half
    /// of all entries: amortised, a bucket visit per entry filed.
    fn sweep(&mut self) {
        if self.stale * 2 <= self.entries {
            return;
        }
        let slots = &self.slots;
        self.keys.retain(|_, bucket| {
            bucket.retain(|e| live(slots, e));
            !bucket.is_empty()
        });
        self.entries = self.keys.values().map(|b| b.len()).sum();
        self.stale = 0;
    }

    /// The grid layers a ticket of `category` reads.
    pub(super) fn classes_for(&self, category: CategoryId) -> &[u8] {
        self.classes.get(category.as_usize()).map_or(&[], |c| c)
    }

    /// The rule for a category; an id from another router gets the rule of
    /// category 0 rather than a panic.
    pub(super) fn rule(&self, c: CategoryId) -> &CategoryRule {
        self.rules
            .get(c.as_usize())
            .unwrap_or_else(|| &self.rules[0])
    }

    /// The slot of the open incident a ticket is in.
    pub(super) fn slot_of_ticket(&self, ticket: &str) -> Option<u32> {
        let &slot = self.tickets.get(&fingerprint(ticket))?;
        let i = self.incident(slot)?;
        i.tickets().any(|t| t == ticket).then_some(slot)
    }

    pub(super) fn slot_of_incident(&self, id: &str) -> Option<u32> {
        let fp = fingerprint(id);
        [self.tickets.get(&fp), self.aliases.get(&fp)]
            .into_iter()
            .flatten()
            .copied()
            .find(|&slot| self.incident(slot).is_some_and(|i| &*i.id == id))
    }

    pub(super) fn incident(&self, slot: u32) -> Option<&Incident> {
        self.slots.get(slot as usize)?.incident.as_ref()
    }

    fn link(&self, slot: u32, ticket: &str) -> Link {
        let i = self.incident(slot).expect("a live slot");
        Link {
            incident: i.id.to_string(),
            size: i.size(),
            joined: &*i.id != ticket,
            evidence: None,
            merged: Vec::new(),
        }
    }

    /// Links a sighting: joins the best matching open incident, merging any
    /// other incident it also matches, or opens one.
    pub(super) fn observe(&mut self, s: &Sighting<'_>) -> Link {
        let at = s.at.as_second();
        self.expire(at);
        if let Some(slot) = self.slot_of_ticket(s.id) {
            // Seen before: the same answer, and nothing changes.
            return self.link(slot, s.id);
        }
        let merge = self.rule(s.category).merge;
        let (spot, words) = self.read(s);
        let passes = if merge {
            self.matches(s, at, &spot, &words)
        } else {
            SmallVec::new()
        };
        let Some(best) = passes.first() else {
            self.open_incident(s.id, s.category, at, &spot, &words, merge);
            return Link {
                incident: s.id.to_string(),
                size: 1,
                joined: false,
                evidence: None,
                merged: Vec::new(),
            };
        };
        let evidence = self.evidence(s.category, at, &spot, best);
        self.join(best.slot, s.id, at, &spot, &words);
        // The ticket passed every test for each of these incidents: they
        // are one. The one reported first keeps its id.
        let mut survivor = best.slot;
        for p in &passes[1..] {
            let first = |slot| self.incident(slot).map_or(i64::MAX, |i| i.first);
            if first(p.slot) < first(survivor) {
                survivor = p.slot;
            }
        }
        let mut merged = Vec::new();
        for slot in passes.iter().map(|p| p.slot).filter(|&x| x != survivor) {
            if let Some(id) = self.merge(survivor, slot) {
                merged.push(id.into());
            }
        }
        let mut link = self.link(survivor, s.id);
        link.joined = true;
        link.evidence = Some(evidence);
        link.merged = merged;
        link
    }

    /// Adds a ticket to the incident `id` (opening it if it is not open),
    /// without matching.
    pub(super) fn restore(&mut self, s: &Sighting<'_>, id: &str) {
        let at = s.at.as_second();
        self.expire(at);
        if self.slot_of_ticket(s.id).is_some() {
            return;
        }
        let (spot, words) = self.read(s);
        match self.slot_of_incident(id) {
            Some(slot) => self.join(slot, s.id, at, &spot, &words),
            None => {
                let merge = self.rule(s.category).merge;
                let slot = self.open_incident(id, s.category, at, &spot, &words, merge);
                if id != s.id {
                    // Known under an id that is not a member's.
                    let i = self.slots[slot as usize].incident.as_mut().expect("live");
                    i.founder_member = false;
                    i.members.push(s.id.into());
                    self.tickets.remove(&fingerprint(id));
                    self.aliases.insert(fingerprint(id), slot);
                    self.tickets.insert(fingerprint(s.id), slot);
                }
            }
        }
    }

    fn join(&mut self, slot: u32, ticket: &str, at: i64, spot: &Spot, words: &Words) {
        self.tickets.insert(fingerprint(ticket), slot);
        let i = self.slots[slot as usize].incident.as_mut().expect("live");
        i.members.push(ticket.into());
        i.first = i.first.min(at);
        i.last = i.last.max(at);
        i.text.absorb(words);
        let clues = Clues {
            district: spot.district,
            community: spot.community,
            point: spot.point,
            code: spot.code,
            building: spot.building,
            compound: spot.compound,
        };
        self.adopt(slot, clues);
    }

    /// Merges the incident in `from` into the one in `into`; returns the id
    /// of the incident that is gone.
    fn merge(&mut self, into: u32, from: u32) -> Option<Box<str>> {
        let mut gone = self.remove(from)?;
        let point = gone.point();
        let members = std::mem::take(&mut gone.members);
        let moved = gone
            .founder_member
            .then(|| gone.id.clone())
            .into_iter()
            .chain(members);
        let i = self.slots[into as usize].incident.as_mut()?;
        for t in moved {
            self.tickets.insert(fingerprint(&t), into);
            i.members.push(t);
        }
        i.first = i.first.min(gone.first);
        i.last = i.last.max(gone.last);
        i.text.absorb_signature(&gone.text);
        let clues = Clues {
            district: gone.district,
            community: gone.community,
            point,
            code: gone.code,
            building: gone.building,
            compound: gone.compound,
        };
        self.adopt(into, clues);
        Some(gone.id)
    }

    /// Gives the incident the clues it lacks, and files it under them.
    fn adopt(&mut self, slot: u32, c: Clues) {
        let i = self.slots[slot as usize].incident.as_mut().expect("live");
        if i.district.is_none() {
            i.district = c.district;
        }
        if i.community.is_none() {
            i.community = c.community;
        }
        if i.building == 0 {
            i.building = c.building;
        }
        if !i.indexed {
            return;
        }
        let category = i.category;
        let mut added: SmallVec<[u64; 6]> = SmallVec::new();
        if let (None, Some(p)) = (i.point, c.point) {
            i.point = Some((p.0 as f32, p.1 as f32));
            let radius = self
                .rules
                .get(category.as_usize())
                .map_or(self.rules[0].radius_m, |r| r.radius_m);
            let p = i.point().expect("just set");
            let class = class_of(radius);
            added.extend(
                disk_cells(cell_m(class), radius, p)
                    .into_iter()
                    .map(|c| cell_key(class, c)),
            );
        }
        for (kind, mine, theirs) in [
            (Kind::Code, &mut i.code, c.code),
            (Kind::Compound, &mut i.compound, c.compound),
        ] {
            if *mine == 0 && theirs != 0 {
                *mine = theirs;
                added.push(key(kind, theirs));
            }
        }
        self.file(slot, &added);
    }

    fn open_incident(
        &mut self,
        id: &str,
        category: CategoryId,
        at: i64,
        spot: &Spot,
        words: &Words,
        merge: bool,
    ) -> u32 {
        let incident = Incident {
            id: id.into(),
            founder_member: true,
            members: Vec::new(),
            category,
            first: at,
            last: at,
            district: spot.district,
            community: spot.community,
            point: spot.point.map(|(x, y)| (x as f32, y as f32)),
            code: spot.code,
            building: spot.building,
            compound: spot.compound,
            // An incident nobody can join needs no words.
            text: if merge {
                Signature::of(words)
            } else {
                Signature::EMPTY
            },
            indexed: merge,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize].incident = Some(incident);
                slot
            }
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    incident: Some(incident),
                });
                (self.slots.len() - 1) as u32
            }
        };
        self.tickets.insert(fingerprint(id), slot);
        let keys = self.keys_of(slot);
        self.file(slot, &keys);
        let window = self.rule(category).window.as_secs();
        let generation = self.slots[slot as usize].generation;
        self.expiries
            .push(window, at.saturating_add(window), slot, generation);
        self.open += 1;
        slot
    }

    /// Every place key the incident in `slot` is filed under.
    fn keys_of(&self, slot: u32) -> SmallVec<[u64; 6]> {
        let mut out = SmallVec::new();
        let Some(i) = self.incident(slot).filter(|i| i.indexed) else {
            return out;
        };
        if let Some(p) = i.point() {
            let radius = self.rule(i.category).radius_m;
            let class = class_of(radius);
            out.extend(
                disk_cells(cell_m(class), radius, p)
                    .into_iter()
                    .map(|c| cell_key(class, c)),
            );
        }
        for (kind, value) in [(Kind::Code, i.code), (Kind::Compound, i.compound)] {
            if value != 0 {
                out.push(key(kind, value));
            }
        }
        out
    }

    /// Removes the incident in `slot` from every map and frees the slot.
    pub(super) fn remove(&mut self, slot: u32) -> Option<Incident> {
        // Its entries stay in their buckets, stale, until pruned or swept.
        self.stale += self.keys_of(slot).len();
        let s = self.slots.get_mut(slot as usize)?;
        let incident = s.incident.take()?;
        s.generation = s.generation.wrapping_add(1);
        self.free.push(slot);
        self.open -= 1;
        for t in incident.tickets() {
            self.tickets.remove(&fingerprint(t));
        }
        if !incident.founder_member {
            self.aliases.remove(&fingerprint(&incident.id));
        }
        self.sweep();
        Some(incident)
    }

    /// Drops every incident whose window ended before `now`; returns how many.
    pub(super) fn expire(&mut self, now: i64) -> usize {
        self.watermark = self.watermark.max(now);
        let mut dropped = 0;
        for q in 0..self.expiries.queues.len() {
            loop {
                let (window, queue) = &mut self.expiries.queues[q];
                let window = *window;
                let Some(&(deadline, slot, generation)) = queue.front() else {
                    break;
                };
                if deadline >= self.watermark {
                    break;
                }
                queue.pop_front();
                let Some(s) = self.slots.get(slot as usize) else {
                    continue;
                };
                let Some(i) = s.incident.as_ref().filter(|_| s.generation == generation) else {
                    continue; // closed or merged since
                };
                let actual = i
                    .last
                    .saturating_add(self.rule(i.category).window.as_secs());
                if actual >= self.watermark {
                    // It grew since: wait for its real deadline.
                    self.expiries.push(window, actual, slot, generation);
                } else {
                    self.remove(slot);
                    dropped += 1;
                }
            }
        }
        dropped
    }

    /// Takes `ticket` out of its incident into an incident of its own.
    pub(super) fn split(&mut self, ticket: &str) -> Option<Link> {
        let slot = self.slot_of_ticket(ticket)?;
        let i = self.incident(slot)?;
        if i.size() == 1 {
            return Some(self.link(slot, ticket));
        }
        let (category, last) = (i.category, i.last);
        let founder = i.founder_member && &*i.id == ticket;
        let i = self.slots[slot as usize].incident.as_mut()?;
        if founder {
            // The incident is named after its first ticket: now the next one.
            let next = i.members.remove(0);
            i.id = next;
        } else {
            i.members.retain(|m| &**m != ticket);
        }
        self.tickets.remove(&fingerprint(ticket));
        // Its own incident knows no place (the clues were merged into the
        // one it left), so nothing joins it; it expires with that one.
        let lone = Spot::default();
        self.open_incident(ticket, category, last, &lone, &Words::default(), false);
        Some(Link {
            incident: ticket.to_string(),
            size: 1,
            joined: false,
            evidence: None,
            merged: Vec::new(),
        })
    }
}

/// Whether an entry belongs to the incident now in its slot.
fn live(slots: &[Slot], e: &Entry) -> bool {
    slots
        .get(e.slot as usize)
        .is_some_and(|s| s.incident.is_some() && s.generation as u16 == e.generation)
}

/// Place clues, from a sighting or from a merged incident.
struct Clues {
    district: Option<DistrictId>,
    community: Option<CommunityId>,
    point: Option<(f64, f64)>,
    code: u64,
    building: u64,
    compound: u64,
}
