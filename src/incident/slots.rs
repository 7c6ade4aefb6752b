//! Open incidents and the slots that hold them, and the entries that file
//! them under place keys.

use super::text::Signature;
use crate::{CategoryId, CommunityId, DistrictId};

/// An open incident. Small on purpose: memory is bounded by open incidents,
/// and most are a single ticket. The fields the tests read first come first,
/// in one cache line.
#[derive(Clone, Debug)]
#[repr(C)]
pub(super) struct Incident {
    /// Seconds since the epoch of the earliest and latest tickets.
    pub(super) first: i64,
    pub(super) last: i64,
    /// Hashes of the building code, compound+building and compound (0: none).
    pub(super) code: u64,
    pub(super) building: u64,
    pub(super) compound: u64,
    /// Where: each clue is the first one any member gave.
    pub(super) point: Option<(f32, f32)>,
    pub(super) district: Option<DistrictId>,
    pub(super) community: Option<CommunityId>,
    pub(super) category: CategoryId,
    /// Whether the incident is filed under place keys (its category merges).
    pub(super) indexed: bool,
    /// Whether the ticket named `id` is a member.
    pub(super) founder_member: bool,
    /// What the members said.
    pub(super) text: Signature,
    /// The incident's id: its first ticket's (unless that one was split off).
    pub(super) id: Box<str>,
    /// The other member tickets, in order of joining.
    pub(super) members: Vec<Box<str>>,
}

impl Incident {
    pub(super) fn size(&self) -> u32 {
        self.members.len() as u32 + u32::from(self.founder_member)
    }

    /// The point, in WGS-84 degrees. Stored as `f32`: 0.7 m at Beijing's
    /// longitude, far below any radius.
    pub(super) fn point(&self) -> Option<(f64, f64)> {
        self.point.map(|(x, y)| (f64::from(x), f64::from(y)))
    }

    /// Every member ticket, the founder first if a member.
    pub(super) fn tickets(&self) -> impl Iterator<Item = &str> {
        let founder = self.founder_member.then_some(&*self.id);
        founder.into_iter().chain(self.members.iter().map(|m| &**m))
    }
}

/// An incident filed under a place key, with its category so that a
/// lookup can skip other categories without touching the incident, and
/// the slot's generation: entries of incidents that are gone are not
/// removed one by one (that would cost a lookup per key per incident) but
/// skipped, pruned when their bucket is written, and swept when they are
/// half of all entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) slot: u32,
    pub(super) category: u16,
    pub(super) generation: u16,
}

#[derive(Clone, Debug)]
pub(super) struct Slot {
    /// Bumped whenever the slot is freed, so stale expiry entries are known.
    pub(super) generation: u32,
    pub(super) incident: Option<Incident>,
}
