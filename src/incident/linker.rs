//! The index as the dispatcher's [`Linker`]: with it, a dispatcher keeps one
//! work item per incident.

use jiff::Timestamp;

use super::{IncidentIndex, Sighting};
use crate::dispatch::Linker;
use crate::router::Decision;
use crate::ticket::Ticket;

/// Plugs the incident index into a [`Dispatcher`](crate::dispatch::Dispatcher):
/// a ticket the index links to an open incident joins that incident's work
/// item, with the index's explanation kept in its `Linked` event.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use hotline_router::dispatch::{Dispatcher, ManualClock, State};
/// use hotline_router::incident::IncidentIndex;
/// use hotline_router::{Router, Ticket};
/// use jiff::SignedDuration;
///
/// let router = Router::beijing();
/// let clock = Arc::new(ManualClock::new("2024-11-20T07:00:00+08:00".parse().unwrap()));
/// let d = Dispatcher::builder(router.clone())
///     .clock(clock.clone())
///     .linker(IncidentIndex::new(&router))
///     .build();
/// let at = "朝阳区呼家楼街道东大桥社区东大桥路8号院";
/// let first = d.submit(Ticket::new("T1", "东大桥路8号院门口自来水管爆了，水漫到马路上").with_address(at)).unwrap();
/// clock.advance(SignedDuration::from_mins(25));
/// let second = d.submit(Ticket::new("T2", "8号院外面水管破裂，哗哗往外冒水，路面全是水").with_address(at)).unwrap();
/// assert_eq!(second.incident.as_deref(), Some("T1"));
/// assert_eq!(d.record("T2").unwrap().state(), State::Linked);
///
/// // The agency sees one work item with two callers.
/// let claim = d.claim(&first.agency, "w1").unwrap().unwrap();
/// assert_eq!((claim.id.as_str(), claim.callers), ("T1", 2));
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "dispatch")))]
impl Linker for IncidentIndex {
    fn link(
        &mut self,
        ticket: &Ticket,
        decision: &Decision,
        at: Timestamp,
    ) -> Option<(String, Vec<String>)> {
        let link = self.observe(&Sighting::new(ticket, decision, at));
        if !link.joined {
            return None;
        }
        let reasons = link.explain();
        Some((link.incident, reasons))
    }

    fn closed(&mut self, head: &str) {
        self.close(head);
    }

    fn split(&mut self, ticket: &str) {
        IncidentIndex::split(self, ticket);
    }

    fn restore(&mut self, ticket: &Ticket, decision: &Decision, at: Timestamp, head: Option<&str>) {
        let sighting = Sighting::new(ticket, decision, at);
        self.restore_link(&sighting, head.unwrap_or(&ticket.id));
    }
}
