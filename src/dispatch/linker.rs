//! The [`Linker`]: what decides that a new ticket is the same problem as an
//! open incident. The dispatcher owns the incidents (see
//! [`incidents`](super::incidents)); a linker only proposes.

use jiff::Timestamp;

use crate::router::Decision;
use crate::ticket::Ticket;

/// Decides whether a new ticket joins an open incident. The crate's
/// `incident::IncidentIndex` implements it; plug in your own with
/// [`DispatcherBuilder::linker`](super::DispatcherBuilder::linker).
///
/// The dispatcher calls it under a lock of its own, one call at a time, in
/// the order tickets are taken in. It checks every answer: the head named
/// must be a ticket here that is open, not linked to another incident, and
/// at least as urgent as the new ticket (an urgent report never waits
/// behind a normal work item). When it is not, the ticket stands alone and
/// the linker is told with [`split`](Linker::split) — and, when the head is
/// closed or not here at all, with [`closed`](Linker::closed).
///
/// # Examples
///
/// Same category in the same street within two hours is one incident:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Arc;
/// use hotline_router::dispatch::{Dispatcher, Linker, ManualClock, State};
/// use hotline_router::{Decision, Router, Ticket};
/// use jiff::{SignedDuration, Timestamp};
///
/// #[derive(Default)]
/// struct SameStreet(HashMap<(String, String), (String, Timestamp)>);
///
/// impl SameStreet {
///     fn key(d: &Decision) -> Option<(String, String)> {
///         Some((d.category().code().to_string(), d.street_code()?.to_string()))
///     }
/// }
///
/// impl Linker for SameStreet {
///     fn link(&mut self, t: &Ticket, d: &Decision, at: Timestamp) -> Option<(String, Vec<String>)> {
///         let key = Self::key(d)?;
///         match self.0.get(&key) {
///             Some((head, since)) if at.duration_since(*since) <= SignedDuration::from_hours(2) => {
///                 Some((head.clone(), vec![format!("{} in street {} within 2 h of {head}", key.0, key.1)]))
///             }
///             _ => {
///                 self.0.insert(key, (t.id.clone(), at));
///                 None
///             }
///         }
///     }
///     fn closed(&mut self, head: &str) {
///         self.0.retain(|_, (h, _)| h != head);
///     }
///     fn split(&mut self, _ticket: &str) {}
///     fn restore(&mut self, t: &Ticket, d: &Decision, at: Timestamp, head: Option<&str>) {
///         if let (None, Some(key)) = (head, Self::key(d)) {
///             self.0.entry(key).or_insert((t.id.clone(), at));
///         }
///     }
/// }
///
/// let clock = Arc::new(ManualClock::new("2024-11-20T07:00:00+08:00".parse().unwrap()));
/// let d = Dispatcher::builder(Router::beijing()).clock(clock.clone()).linker(SameStreet::default()).build();
/// let report = |id: &str| Ticket::new(id, "楼下马路上水管爆了，水漫出来了").with_address("朝阳区呼家楼街道");
/// let first = d.submit(report("T1")).unwrap();
/// clock.advance(SignedDuration::from_mins(20));
/// let second = d.submit(report("T2")).unwrap();
/// assert_eq!((first.incident, second.incident.as_deref()), (None, Some("T1")));
/// assert_eq!(d.record("T2").unwrap().state(), State::Linked);
///
/// let claim = d.claim(&first.agency, "w1").unwrap().unwrap();
/// assert_eq!((claim.id.as_str(), claim.callers), ("T1", 2));
/// d.resolve("T1", "w1", "main repaired").unwrap();
/// assert_eq!(d.record("T2").unwrap().state(), State::Resolved);
/// ```
pub trait Linker: Send {
    /// `Some((head_id, reasons))` to join the open incident whose first
    /// ticket is `head_id`, saying why; `None` to stand alone (the ticket
    /// then heads its own incident for later tickets).
    ///
    /// `at` is the ticket's time of receipt. Called only for a ticket that
    /// passed every check but the sink's; if the sink refuses it, the
    /// ticket is not here, and a later answer naming it is refused and
    /// reported with [`closed`](Linker::closed).
    fn link(
        &mut self,
        ticket: &Ticket,
        decision: &Decision,
        at: Timestamp,
    ) -> Option<(String, Vec<String>)>;

    /// The incident headed by `head` was resolved: never join it again.
    /// Called for every resolved ticket that was its own work item (a
    /// ticket alone heads an incident of one), and for a head named by
    /// [`link`](Linker::link) that is closed or not here.
    fn closed(&mut self, head: &str);

    /// `ticket` left its incident (split off by hand), or was not let into
    /// the one `link` named: it stands alone from now on, as if `link` had
    /// answered `None`.
    fn split(&mut self, ticket: &str);

    /// On restore: re-insert a ticket that is (still) open, standing alone
    /// (`head == None`) or linked to `head`, without matching. Tickets come
    /// in received order, a head before its members; `at` is the ticket's
    /// time of receipt and `decision` the current router's.
    fn restore(&mut self, ticket: &Ticket, decision: &Decision, at: Timestamp, head: Option<&str>);
}
