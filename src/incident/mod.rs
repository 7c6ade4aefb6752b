//! Incidents: many callers, one problem (合并工单).
//!
//! When a water main bursts, the hotline hears about it from the people
//! whose road is flooded, whose taps are dry and whose garage fills up — a
//! dozen tickets in the first hour, each in its own words. An **incident**
//! is that one problem: the agency handles it once, while every caller is
//! still called back. An [`IncidentIndex`] links each new ticket, as it
//! arrives, to an open incident or opens a new one, and says why.
//!
//! # The four tests
//!
//! A ticket joins an open incident when all four hold:
//!
//! 1. **What**: the same category, or a *related* one — one problem that
//!    the classifier may file under either (a burst main as water supply
//!    or as a flooded road; a power cut as power, heating or a lift with
//!    people in it). The relations are a table
//!    ([`IncidentIndexBuilder::relate`]).
//! 2. **Where**, strongest first: the same building code (一楼一码); the
//!    same compound and building number in the addresses, however they are
//!    spelled (金台里14号楼, 金台里小区十四栋); points within the category's
//!    radius (coordinates in any [`Crs`](crate::Crs), compared in WGS-84);
//!    the same compound; the same community, when neither names a finer
//!    place in common. Reports naming two different buildings are never
//!    one incident for a [`Reach::Building`] category (a lift), and need the
//!    compound's test for a [`Reach::Area`] one (a power cut). The same
//!    community *name* in two districts is two places: keys include the
//!    district.
//! 3. **When**: within the category's window of the incident's latest
//!    ticket (or before its first, for tickets that arrive out of order).
//! 4. **Words**: the two texts' content overlap — character bigrams without
//!    filler (你好, 尽快处理 …), function characters, digits, or the place
//!    names — reaches a threshold that rises as the place gets vaguer
//!    ([`Thresholds`]): anything goes in the same building (two problems
//!    there have two categories), a third or so of shared content within a
//!    compound, nearly half for a mere community. That keeps a renovation
//!    and a karaoke bar in one building apart although both are noise.
//!
//! Among incidents that pass, the ticket joins the one with the strongest
//! place evidence, then the most similar words. A **resolved** incident
//! ([`IncidentIndex::close`]) is never joined again: a recurrence is a new
//! incident. A wrongly merged ticket can be taken out
//! ([`IncidentIndex::split`]).
//!
//! # Windows and radii
//!
//! | category | window | radius | reach |
//! |---|---|---|---|
//! | `utilities.power` | 12 h | 500 m | area |
//! | `utilities.water` | 12 h | 400 m | area |
//! | `utilities.gas` | 12 h | 150 m | building |
//! | `fire.safety` | 12 h | 100 m | building |
//! | `transport.parking` | 24 h | 100 m | area |
//! | `housing.elevator` | 48 h | 100 m | building |
//! | `env.sanitation`, `parks.greening` | 48 h | 150 m | area |
//! | `transport.roads` | 48 h | 200 m | area |
//! | `heating` | 72 h | 300 m | area |
//! | `municipal.facilities`, `city.order` | 72 h | 150 m | area |
//! | `housing.repair` | 72 h | 100 m | building |
//! | `env.noise` | 96 h | 150 m | area |
//! | `env.pollution` | 96 h | 200 m | area |
//! | `construction.illegal` | 7 d | 100 m | building |
//! | any other | 72 h | 200 m | area |
//!
//! Outages are fixed the same day, so a cut the next evening is a new one;
//! heating failures last days; night-time noise and cooking fumes recur
//! night after night. Radii follow how far a problem is heard about: a
//! burst main or a power cut across blocks, a bar in the buildings around
//! it, a lift only in its own. Personal matters — visas, pensions, lost
//! property, household registration and the like — are never merged.
//!
//! # Tuning
//!
//! Every setting above is a builder call: [`window`](IncidentIndexBuilder::window),
//! [`radius`](IncidentIndexBuilder::radius), [`reach`](IncidentIndexBuilder::reach),
//! [`merge`](IncidentIndexBuilder::merge), [`relate`](IncidentIndexBuilder::relate)
//! and [`thresholds`](IncidentIndexBuilder::thresholds). Score a change on
//! labelled history with [`score::bcubed`]; `tests/incidents.rs` shows how,
//! on hand-written streams in `tests/data/incidents/`. Lower thresholds
//! merge more (recall up, precision down); a longer window catches slow
//! recurrences and also merges what was fixed in between.
//!
//! # Memory
//!
//! The index holds open incidents only. An incident is dropped when its
//! window has passed (lazily on [`observe`](IncidentIndex::observe), or
//! with [`expire`](IncidentIndex::expire)) or when it is closed, and its
//! state is small and of fixed size but for its ticket ids: a 16-hash
//! text signature (not the texts), the first point and place keys seen.
//! [`IncidentIndex::footprint`] counts what is held.
//!
//! # Example
//!
//! ```
//! use hotline_router::incident::{IncidentIndex, Sighting};
//! use hotline_router::{Crs, Router, Ticket};
//!
//! let router = Router::beijing();
//! let mut index = IncidentIndex::new(&router);
//! let calls = [
//!     ("T1", "06:50", Ticket::new("T1", "小区东门外马路上水管爆了，水往上冒，路上全是水")
//!         .with_address("朝阳区呼家楼街道金台里小区东门")
//!         .with_coordinates(116.4661, 39.9228, Crs::Gcj02)),
//!     ("T2", "06:54", Ticket::new("T2", "金台路这边自来水管破了，水淹到马路牙子了")
//!         .with_coordinates(116.4675, 39.9225, Crs::Gcj02)),
//!     ("T3", "07:02", Ticket::new("T3", "金台里9号楼电梯坏了，停在5层不动")
//!         .with_address("朝阳区呼家楼街道金台里社区9号楼")),
//! ];
//! let mut links = Vec::new();
//! for (_, time, ticket) in &calls {
//!     let decision = router.route(ticket).unwrap();
//!     let at = format!("2025-07-14T{time}:00+08:00").parse().unwrap();
//!     links.push(index.observe(&Sighting::new(ticket, &decision, at)));
//! }
//! assert_eq!((links[1].incident.as_str(), links[1].size), ("T1", 2)); // the same burst main
//! assert_eq!((links[2].incident.as_str(), links[2].size), ("T3", 1)); // another problem
//! println!("{:#?}", links[1].explain());
//! ```

mod config;
mod index;
mod keys;
mod link;
mod linker;
mod matching;
mod place;
pub mod score;
mod sighting;
mod text;

pub use config::{CategoryRule, ConfigError, IncidentIndexBuilder, Reach, Thresholds};
pub use link::{CategoryMatch, Evidence, Link, PlaceMatch};
pub use score::bcubed;
pub use sighting::Sighting;

use jiff::Timestamp;

use crate::{CategoryId, Router};

/// A streaming index of open incidents: links each ticket to the incident
/// it belongs to (see the [module documentation](self)).
///
/// Methods take `&mut self`: one index serves one stream, and a shared one
/// goes behind a `Mutex` (it is `Send`). Its memory is bounded by the open
/// incidents.
///
/// # Examples
///
/// ```
/// use hotline_router::incident::{IncidentIndex, Sighting};
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let mut index = IncidentIndex::new(&router);
/// let observe = |index: &mut IncidentIndex, id: &str, text: &str, at: &str| {
///     let t = Ticket::new(id, text).with_address("海淀区学院路街道东王庄社区3号楼");
///     let d = router.route(&t).unwrap();
///     index.observe(&Sighting::new(&t, &d, at.parse().unwrap()))
/// };
/// let a = observe(&mut index, "A", "楼道里煤气味特别大", "2024-11-21T18:40:00+08:00");
/// let b = observe(&mut index, "B", "3号楼有燃气泄漏，大家都跑出来了", "2024-11-21T18:43:00+08:00");
/// assert_eq!((b.incident.as_str(), b.size, b.joined), ("A", 2, true));
///
/// index.close(&a.incident); // the gas company fixed it
/// let c = observe(&mut index, "C", "又闻到煤气味了", "2024-11-21T21:00:00+08:00");
/// assert_eq!((c.incident.as_str(), c.size), ("C", 1)); // a recurrence is a new incident
/// assert_eq!(index.open_incidents(), 1);
/// ```
#[derive(Debug)]
pub struct IncidentIndex {
    state: index::State,
}

/// What an [`IncidentIndex`] holds, to watch its memory.
///
/// # Examples
///
/// ```
/// use hotline_router::incident::IncidentIndex;
/// use hotline_router::Router;
///
/// let index = IncidentIndex::new(&Router::beijing());
/// let f = index.footprint();
/// assert_eq!((f.incidents, f.tickets, f.keys), (0, 0, 0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    /// Open incidents.
    pub incidents: usize,
    /// Tickets in open incidents.
    pub tickets: usize,
    /// Place keys (grid cells, buildings, compounds, communities) in use.
    pub keys: usize,
    /// Pending expiry entries (at most one per incident, plus those of
    /// incidents closed since).
    pub expiries: usize,
    /// Incident slots allocated (open ones plus free ones for reuse): the
    /// high-water mark of open incidents.
    pub slots: usize,
}

impl IncidentIndex {
    /// An index with the default rules for `router`'s taxonomy (see the
    /// [module documentation](self)).
    pub fn new(router: &Router) -> IncidentIndex {
        IncidentIndexBuilder::new()
            .build(router)
            .expect("the default incident rules are valid (tested)")
    }

    /// A builder for non-default rules.
    pub fn builder() -> IncidentIndexBuilder {
        IncidentIndexBuilder::new()
    }

    pub(crate) fn with_config(
        router: &Router,
        rules: Vec<CategoryRule>,
        related: Vec<Vec<CategoryId>>,
        thresholds: Thresholds,
    ) -> IncidentIndex {
        IncidentIndex {
            state: index::State::new(router, rules, related, thresholds),
        }
    }

    /// Links a ticket: it joins the open incident it matches best (see the
    /// four tests in the [module documentation](self)) or opens a new one.
    /// Incidents whose window ended before `s.at` are dropped first.
    ///
    /// A ticket id already in an open incident gets its current link back
    /// and changes nothing.
    pub fn observe(&mut self, s: &Sighting<'_>) -> Link {
        self.state.observe(s)
    }

    /// Marks an incident resolved: it is dropped, and a later report of the
    /// same problem opens a new incident. Returns whether it was open.
    pub fn close(&mut self, incident: &str) -> bool {
        match self.state.slot_of_incident(incident) {
            Some(slot) => self.state.remove(slot).is_some(),
            None => false,
        }
    }

    /// Takes a wrongly merged ticket out of its incident; it becomes an
    /// incident of its own, and its link is returned (`None` for a ticket
    /// not in an open incident).
    ///
    /// The incident it left keeps the place and words the ticket brought
    /// (they are merged, not kept per ticket), and nothing joins the split
    /// ticket's new incident. If the ticket was the incident's first, the
    /// incident is renamed after the next one: ask
    /// [`incident_of`](Self::incident_of) for the others' new id.
    pub fn split(&mut self, ticket: &str) -> Option<Link> {
        self.state.split(ticket)
    }

    /// Drops every incident whose window ended before `now`; returns how
    /// many. [`observe`](Self::observe) does this too, as time passes.
    pub fn expire(&mut self, now: Timestamp) -> usize {
        self.state.expire(now.as_second())
    }

    /// The number of open incidents.
    pub fn open_incidents(&self) -> usize {
        self.state.open
    }

    /// The id of the open incident `ticket` is in.
    pub fn incident_of(&self, ticket: &str) -> Option<&str> {
        let slot = self.state.slot_of_ticket(ticket)?;
        Some(&self.state.incident(slot)?.id)
    }

    /// Puts back a known link without matching, e.g. when rebuilding the
    /// index after a restart: the ticket joins the open incident `incident`,
    /// or opens it (under that id) if it is not open. Replay tickets in the
    /// order they were received.
    pub fn restore_link(&mut self, s: &Sighting<'_>, incident: &str) {
        self.state.restore(s, incident)
    }

    /// The rule the index applies to `category`.
    pub fn rule(&self, category: CategoryId) -> CategoryRule {
        *self.state.rule(category)
    }

    /// What the index holds now.
    pub fn footprint(&self) -> Footprint {
        let s = &self.state;
        Footprint {
            incidents: s.open,
            tickets: s
                .slots
                .iter()
                .filter_map(|x| x.incident.as_ref())
                .map(|i| i.size() as usize)
                .sum(),
            keys: s.keys.len(),
            expiries: s.expiries.len(),
            slots: s.slots.len(),
        }
    }
}
