//! A [`Sighting`]: what the index needs to know about one ticket.

use jiff::Timestamp;

use crate::{CategoryId, CommunityId, Decision, DistrictId, StreetId, Ticket};

/// One ticket as the incident index sees it: when, what (the category and
/// the words) and where (jurisdiction, point, building, address).
///
/// Build it from a routed ticket with [`Sighting::new`]; the fields are
/// public so that a stream without a router decision can fill them in.
///
/// # Examples
///
/// ```
/// use hotline_router::incident::{IncidentIndex, Sighting};
/// use hotline_router::{Crs, Router, Ticket};
///
/// let router = Router::beijing();
/// let at = "2024-11-18T07:10:00+08:00".parse().unwrap();
/// let ticket = Ticket::new("T1", "小区暖气不热，屋里才16度")
///     .with_address("朝阳区呼家楼街道金台里社区14号楼")
///     .with_coordinates(116.4662, 39.9229, Crs::Gcj02);
/// let decision = router.route(&ticket).unwrap();
/// let s = Sighting::new(&ticket, &decision, at).with_building("QR-110105-0042");
/// assert_eq!(router.category(s.category).code(), "heating");
/// assert!(s.community.is_some());
/// let (lon, lat) = s.point.unwrap(); // WGS-84, converted from GCJ-02
/// assert!((lon - 116.460).abs() < 0.001 && (lat - 39.9215).abs() < 0.001);
/// let mut index = IncidentIndex::new(&router);
/// assert_eq!(index.observe(&s).incident, "T1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sighting<'a> {
    /// The ticket id.
    pub id: &'a str,
    /// When the ticket was received.
    pub at: Timestamp,
    /// The ticket's category.
    pub category: CategoryId,
    /// The district, if located.
    pub district: Option<DistrictId>,
    /// The street or township, if located.
    pub street: Option<StreetId>,
    /// The community, if located.
    pub community: Option<CommunityId>,
    /// Where the device was, WGS-84 (longitude, latitude).
    pub point: Option<(f64, f64)>,
    /// The building's code (一楼一码), for tickets filed from a building's
    /// QR code.
    pub building: Option<&'a str>,
    /// The address in words.
    pub address: Option<&'a str>,
    /// The caller's words.
    pub text: &'a str,
}

impl<'a> Sighting<'a> {
    /// The sighting of a routed ticket received at `at`: the decision's
    /// category and jurisdiction, the ticket's point (converted to WGS-84;
    /// invalid coordinates are left out), building code (一楼一码), address
    /// and text.
    pub fn new(ticket: &'a Ticket, decision: &Decision, at: Timestamp) -> Self {
        let location = decision.location();
        Sighting {
            id: &ticket.id,
            at,
            category: decision.classification().primary(),
            district: location.district(),
            street: location.street(),
            community: location.community(),
            point: ticket
                .coordinates
                .filter(|c| c.is_valid())
                .map(|c| c.to_wgs84()),
            // The ticket's code even when the registry does not know it: two
            // scans of one stale sticker are still one building.
            building: ticket.building.as_deref().filter(|b| !b.trim().is_empty()),
            address: ticket.address.as_deref(),
            text: &ticket.text,
        }
    }

    /// Sets the building code (一楼一码): two tickets with the same code are
    /// in the same building, whatever their addresses say.
    pub fn with_building(mut self, code: &'a str) -> Self {
        self.building = Some(code);
        self
    }
}
