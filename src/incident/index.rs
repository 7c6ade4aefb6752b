//! The index's state: open incidents, the keys that find them, expiry.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use foldhash::fast::FixedState;
use smallvec::SmallVec;

use super::config::{CategoryRule, Thresholds};
use super::keys::{cell_key, disk_cells, fingerprint, key, Kind};
use super::link::Link;
use super::matching::{community_value, Spot};
use super::sighting::Sighting;
use super::text::{Signature, Words};
use crate::{CategoryId, CommunityId, DistrictId, Router};

/// An open incident. Small on purpose: memory is bounded by open incidents,
/// and most are a single ticket.
#[derive(Debug)]
pub(super) struct Incident {
    /// The incident's id: its first ticket's (unless that one was split off).
    pub(super) id: Box<str>,
    /// Whether the ticket named `id` is a member.
    pub(super) founder_member: bool,
    /// The other member tickets, in order of joining.
    pub(super) members: Vec<Box<str>>,
    pub(super) category: CategoryId,
    /// Seconds since the epoch of the earliest and latest tickets.
    pub(super) first: i64,
    pub(super) last: i64,
    /// Where: each clue is the first one any member gave.
    pub(super) district: Option<DistrictId>,
    pub(super) community: Option<CommunityId>,
    pub(super) point: Option<(f64, f64)>,
    /// Hashes of the building code, compound+building and compound (0: none).
    pub(super) code: u64,
    pub(super) building: u64,
    pub(super) compound: u64,
    /// What the members said.
    pub(super) text: Signature,
    /// Whether the incident is filed under place keys (its category merges).
    pub(super) indexed: bool,
}

impl Incident {
    pub(super) fn size(&self) -> u32 {
        self.members.len() as u32 + u32::from(self.founder_member)
    }
}

#[derive(Debug)]
pub(super) struct Slot {
    /// Bumped whenever the slot is freed, so stale expiry entries are known.
    pub(super) generation: u32,
    pub(super) incident: Option<Incident>,
}

type Map<V> = HashMap<u64, V, FixedState>;

/// The mutable state of an [`IncidentIndex`](super::IncidentIndex).
#[derive(Debug)]
pub(super) struct State {
    pub(super) router: Router,
    pub(super) rules: Vec<CategoryRule>,
    pub(super) related: Vec<Vec<CategoryId>>,
    pub(super) thresholds: Thresholds,
    pub(super) slots: Vec<Slot>,
    free: Vec<u32>,
    /// Fingerprint of an incident id → slot.
    incidents: Map<u32>,
    /// Fingerprint of a member ticket id (other than the founder) → slot.
    pub(super) members: Map<u32>,
    /// Place key → slots.
    pub(super) keys: Map<SmallVec<[u32; 2]>>,
    /// (deadline, slot, generation), earliest first; an entry is checked
    /// when popped, and re-pushed if its incident grew since.
    pub(super) expiries: BinaryHeap<Reverse<(i64, u32, u32)>>,
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
        State {
            router: router.clone(),
            rules,
            related,
            thresholds,
            slots: Vec::new(),
            free: Vec::new(),
            incidents: Map::default(),
            members: Map::default(),
            keys: Map::default(),
            expiries: BinaryHeap::new(),
            watermark: i64::MIN,
            open: 0,
        }
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
        let fp = fingerprint(ticket);
        if let Some(&slot) = self.incidents.get(&fp) {
            let i = self.incident(slot)?;
            if i.founder_member && &*i.id == ticket {
                return Some(slot);
            }
        }
        let &slot = self.members.get(&fp)?;
        let i = self.incident(slot)?;
        i.members.iter().any(|m| &**m == ticket).then_some(slot)
    }

    pub(super) fn slot_of_incident(&self, id: &str) -> Option<u32> {
        let &slot = self.incidents.get(&fingerprint(id))?;
        (&*self.incident(slot)?.id == id).then_some(slot)
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
        let spot = self.spot(s);
        let words = self.words(s);
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
        let spot = self.spot(s);
        let words = self.words(s);
        match self.slot_of_incident(id) {
            Some(slot) => self.join(slot, s.id, at, &spot, &words),
            None => {
                let merge = self.rule(s.category).merge;
                let slot = self.open_incident(id, s.category, at, &spot, &words, merge);
                if id != s.id {
                    let i = self.slots[slot as usize].incident.as_mut().expect("live");
                    i.founder_member = false;
                    i.members.push(s.id.into());
                    self.members.insert(fingerprint(s.id), slot);
                }
            }
        }
    }

    fn join(&mut self, slot: u32, ticket: &str, at: i64, spot: &Spot, words: &Words) {
        self.members.insert(fingerprint(ticket), slot);
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
        let gone = self.remove(from)?;
        let moved = gone
            .founder_member
            .then(|| gone.id.clone())
            .into_iter()
            .chain(gone.members);
        let i = self.slots[into as usize].incident.as_mut()?;
        for t in moved {
            self.members.insert(fingerprint(&t), into);
            i.members.push(t);
        }
        i.first = i.first.min(gone.first);
        i.last = i.last.max(gone.last);
        i.text.absorb_signature(&gone.text);
        let clues = Clues {
            district: gone.district,
            community: gone.community,
            point: gone.point,
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
        if !i.indexed {
            return;
        }
        let category = i.category;
        let rule = self
            .rules
            .get(category.as_usize())
            .unwrap_or(&self.rules[0]);
        let mut added: SmallVec<[u64; 8]> = SmallVec::new();
        if let (None, Some(p)) = (i.point, c.point) {
            i.point = Some(p);
            added.extend(
                disk_cells(rule, p)
                    .into_iter()
                    .map(|x| cell_key(category, x)),
            );
        }
        for (kind, mine, theirs) in [
            (Kind::Code, &mut i.code, c.code),
            (Kind::Building, &mut i.building, c.building),
            (Kind::Compound, &mut i.compound, c.compound),
        ] {
            if *mine == 0 && theirs != 0 {
                *mine = theirs;
                added.push(key(kind, category, theirs));
            }
        }
        if let (None, Some(x)) = (i.community, c.community) {
            i.community = Some(x);
            added.push(key(Kind::Community, category, community_value(Some(x))));
        }
        for k in added {
            self.keys.entry(k).or_default().push(slot);
        }
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
            point: spot.point,
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
        self.incidents.insert(fingerprint(id), slot);
        for k in self.keys_of(slot) {
            self.keys.entry(k).or_default().push(slot);
        }
        let deadline = at.saturating_add(self.rule(category).window.as_secs());
        let generation = self.slots[slot as usize].generation;
        self.expiries.push(Reverse((deadline, slot, generation)));
        self.open += 1;
        slot
    }

    /// Every place key the incident in `slot` is filed under.
    fn keys_of(&self, slot: u32) -> SmallVec<[u64; 8]> {
        let mut out = SmallVec::new();
        let Some(i) = self.incident(slot).filter(|i| i.indexed) else {
            return out;
        };
        let c = i.category;
        if let Some(p) = i.point {
            out.extend(
                disk_cells(self.rule(c), p)
                    .into_iter()
                    .map(|x| cell_key(c, x)),
            );
        }
        for (kind, value) in [
            (Kind::Code, i.code),
            (Kind::Building, i.building),
            (Kind::Compound, i.compound),
            (Kind::Community, community_value(i.community)),
        ] {
            if value != 0 {
                out.push(key(kind, c, value));
            }
        }
        out
    }

    /// Removes the incident in `slot` from every map and frees the slot.
    pub(super) fn remove(&mut self, slot: u32) -> Option<Incident> {
        for k in self.keys_of(slot) {
            if let Some(list) = self.keys.get_mut(&k) {
                list.retain(|s| *s != slot);
                if list.is_empty() {
                    self.keys.remove(&k);
                }
            }
        }
        let s = self.slots.get_mut(slot as usize)?;
        let incident = s.incident.take()?;
        s.generation = s.generation.wrapping_add(1);
        self.free.push(slot);
        self.open -= 1;
        self.incidents.remove(&fingerprint(&incident.id));
        for m in &incident.members {
            self.members.remove(&fingerprint(m));
        }
        Some(incident)
    }

    /// Drops every incident whose window ended before `now`; returns how many.
    pub(super) fn expire(&mut self, now: i64) -> usize {
        self.watermark = self.watermark.max(now);
        let mut dropped = 0;
        while let Some(&Reverse((deadline, slot, generation))) = self.expiries.peek() {
            if deadline >= self.watermark {
                break;
            }
            self.expiries.pop();
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
                self.expiries.push(Reverse((actual, slot, generation)));
            } else {
                self.remove(slot);
                dropped += 1;
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
            let old = std::mem::replace(&mut i.id, next);
            self.incidents.remove(&fingerprint(&old));
            self.incidents.insert(fingerprint(&i.id), slot);
            self.members.remove(&fingerprint(&i.id));
        } else {
            i.members.retain(|m| &**m != ticket);
            self.members.remove(&fingerprint(ticket));
        }
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

/// Place clues, from a sighting or from a merged incident.
struct Clues {
    district: Option<DistrictId>,
    community: Option<CommunityId>,
    point: Option<(f64, f64)>,
    code: u64,
    building: u64,
    compound: u64,
}
