//! The ticket: what a caller reported, as received (接).
//!
//! A [`Ticket`] carries the caller's words, optionally coordinates (in
//! whichever coordinate system the device sent) and an address in words, the
//! channel it came in on and, if known, when it was received. Its serde form
//! is the flat JSON object of the `examples/route` contract:
//!
//! ```json
//! {"id": "T1", "text": "暖气片不热", "address": "朝阳区呼家楼街道", "lon": 116.46, "lat": 39.92,
//!  "crs": "gcj02", "channel": "app", "received_at": "2024-11-20T08:30:00+08:00"}
//! ```
//!
//! A ticket filed by scanning a building's QR code (一楼一码) also carries
//! `"building": "<code>"`, and is located by it (see
//! [`locate::buildings`](crate::locate::buildings)); the field is left out
//! of the JSON when there is none.
//!
//! Every field but `id` may be left out; a ticket without `received_at` has
//! none (nothing reads the clock while parsing), and is given one when it is
//! routed or submitted: see [`Ticket::received_at`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crate::crs::Crs;

/// A point as the caller's device reported it, with its coordinate system.
///
/// Mobile apps in China send GCJ-02 (most map SDKs) or BD-09 (Baidu); GPS
/// devices send WGS-84. The router converts to WGS-84 before any lookup.
///
/// # Examples
///
/// ```
/// use hotline_router::{Coordinates, Crs};
///
/// let p = Coordinates::new(116.4074, 39.9042, Crs::Gcj02);
/// let (lon, lat) = p.to_wgs84();
/// assert!((lon - 116.4074).abs() < 0.01 && (lat - 39.9042).abs() < 0.01);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    /// Longitude in degrees.
    pub lon: f64,
    /// Latitude in degrees.
    pub lat: f64,
    /// The coordinate system `lon` and `lat` are given in.
    pub crs: Crs,
}

impl Coordinates {
    /// Coordinates in the given system.
    pub fn new(lon: f64, lat: f64, crs: Crs) -> Self {
        Coordinates { lon, lat, crs }
    }

    /// Whether both values are finite and in range (longitude −180..=180,
    /// latitude −90..=90).
    pub fn is_valid(&self) -> bool {
        self.lon.is_finite()
            && self.lat.is_finite()
            && (-180.0..=180.0).contains(&self.lon)
            && (-90.0..=90.0).contains(&self.lat)
    }

    // `to_wgs84` is implemented in `locate::crs`, beside the formulas, so
    // that this module does not import the locator.
}

/// The channel a ticket came in on.
///
/// # Examples
///
/// ```
/// use hotline_router::Channel;
///
/// let c: Channel = serde_json::from_str("\"qr\"").unwrap();
/// assert_eq!(c, Channel::Qr);
/// assert_eq!(c.as_str(), "qr");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A phone call to 12345 (the default).
    #[default]
    Phone,
    /// The mobile app.
    App,
    /// The web portal.
    Web,
    /// A per-building QR code (一楼一码).
    Qr,
    /// The enterprise line.
    Enterprise,
}

impl Channel {
    /// The channel's wire name: "phone", "app", "web", "qr" or "enterprise".
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::App => "app",
            Channel::Web => "web",
            Channel::Qr => "qr",
            Channel::Enterprise => "enterprise",
        }
    }
}

/// One citizen ticket (诉求) as received.
///
/// # Examples
///
/// ```
/// use hotline_router::{Channel, Crs, Ticket};
///
/// let ticket = Ticket::new("2024-000001", "楼上装修噪音太大，晚上十点还在砸墙")
///     .with_address("朝阳区呼家楼街道东大桥社区")
///     .with_coordinates(116.4510, 39.9230, Crs::Gcj02)
///     .with_channel(Channel::App)
///     .with_received_at("2024-11-20T22:05:00+08:00".parse().unwrap());
/// assert_eq!(ticket.channel, Channel::App);
///
/// // The serde form is the flat JSON object of the examples/route contract.
/// let json = serde_json::to_string(&ticket).unwrap();
/// let back: Ticket = serde_json::from_str(&json).unwrap();
/// assert_eq!(back, ticket);
///
/// // Without a time, a ticket has none until it is routed or submitted.
/// let untimed: Ticket = serde_json::from_str(r#"{"id":"T2","text":"路灯不亮"}"#).unwrap();
/// assert_eq!(untimed.received_at, None);
/// assert_eq!(serde_json::to_string(&untimed).unwrap(), r#"{"id":"T2","text":"路灯不亮","channel":"phone"}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TicketWire", into = "TicketWire")]
pub struct Ticket {
    /// The caller-side identifier; must not be empty.
    pub id: String,
    /// The caller's words.
    pub text: String,
    /// The address in words, if the caller or the channel gave one.
    pub address: Option<String>,
    /// Where the device says the caller is.
    pub coordinates: Option<Coordinates>,
    /// The channel the ticket came in on.
    pub channel: Channel,
    /// The code of the building the ticket is about, when it was filed by
    /// scanning the building's QR code (一楼一码). Honoured on any channel:
    /// a code in the router's registry locates the ticket exactly; an
    /// unknown one is noted and the other clues locate it.
    pub building: Option<String>,
    /// When the ticket was received; deadlines run from here.
    ///
    /// `None` when the caller did not say (as [`Ticket::new`] leaves it and
    /// the JSON form without `received_at`). [`Router::route`](crate::Router::route)
    /// then counts the deadline from the wall clock's *now* at routing time;
    /// a [`Dispatcher`](crate::dispatch::Dispatcher) stamps it with its own
    /// clock before routing, so its records always hold a time.
    pub received_at: Option<Timestamp>,
    /// The category the caller chose, by code (e.g. an Open311
    /// `service_code`): the router then routes the ticket in it instead of
    /// classifying its text, and refuses a code it does not know
    /// ([`TicketError::UnknownCategory`](crate::TicketError::UnknownCategory)).
    /// `None` (the usual case: callers describe, the router classifies).
    pub category: Option<String>,
}

impl Ticket {
    /// A phone ticket with only an id and text, and no time of receipt
    /// (see [`received_at`](Ticket::received_at)).
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Ticket {
            id: id.into(),
            text: text.into(),
            address: None,
            coordinates: None,
            channel: Channel::Phone,
            building: None,
            received_at: None,
            category: None,
        }
    }

    /// Sets the address in words.
    pub fn with_address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }

    /// Sets the coordinates.
    pub fn with_coordinates(mut self, lon: f64, lat: f64, crs: Crs) -> Self {
        self.coordinates = Some(Coordinates::new(lon, lat, crs));
        self
    }

    /// Sets the channel.
    pub fn with_channel(mut self, channel: Channel) -> Self {
        self.channel = channel;
        self
    }

    /// Sets the building code (一楼一码).
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::{Channel, Ticket};
    ///
    /// let scan = Ticket::new("Q1", "楼道灯不亮").with_channel(Channel::Qr).with_building("110105003050-03");
    /// let json = serde_json::to_string(&scan).unwrap();
    /// assert_eq!(json, r#"{"id":"Q1","text":"楼道灯不亮","channel":"qr","building":"110105003050-03"}"#);
    /// assert_eq!(serde_json::from_str::<Ticket>(&json).unwrap(), scan);
    /// ```
    pub fn with_building(mut self, code: impl Into<String>) -> Self {
        self.building = Some(code.into());
        self
    }

    /// Sets the time the ticket was received.
    pub fn with_received_at(mut self, at: Timestamp) -> Self {
        self.received_at = Some(at);
        self
    }

    /// Sets the category the caller chose (see [`category`](Ticket::category)).
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::{Router, Ticket, TicketError};
    ///
    /// let router = Router::beijing();
    /// // The words say heating; the caller chose electricity, and is honoured.
    /// let chosen = Ticket::new("T1", "暖气片不热").with_address("朝阳区呼家楼街道").with_category("utilities.power");
    /// assert_eq!(router.route(&chosen).unwrap().category().code(), "utilities.power");
    /// let unknown = Ticket::new("T2", "暖气片不热").with_category("no.such");
    /// assert!(matches!(router.route(&unknown), Err(TicketError::UnknownCategory { .. })));
    /// ```
    pub fn with_category(mut self, code: impl Into<String>) -> Self {
        self.category = Some(code.into());
        self
    }

    /// The time the ticket was received, or `now` if it does not say.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::Ticket;
    /// use jiff::Timestamp;
    ///
    /// let now: Timestamp = "2024-11-20T08:00:00+08:00".parse().unwrap();
    /// let earlier: Timestamp = "2024-11-19T17:30:00+08:00".parse().unwrap();
    /// assert_eq!(Ticket::new("T1", "路灯不亮").received_at_or(now), now);
    /// let timed = Ticket::new("T1", "路灯不亮").with_received_at(earlier);
    /// assert_eq!(timed.received_at_or(now), earlier);
    /// ```
    pub fn received_at_or(&self, now: Timestamp) -> Timestamp {
        self.received_at.unwrap_or(now)
    }
}

/// The flat wire form shared by serde and the JSON Lines contract.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketWire {
    id: String,
    #[serde(default)]
    text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lon: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crs: Option<Crs>,
    #[serde(default)]
    channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    building: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    received_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    category: Option<String>,
}

impl TryFrom<TicketWire> for Ticket {
    type Error = String;

    fn try_from(w: TicketWire) -> Result<Self, String> {
        let coordinates = match (w.lon, w.lat) {
            (Some(lon), Some(lat)) => Some(Coordinates::new(lon, lat, w.crs.unwrap_or_default())),
            (None, None) if w.crs.is_none() => None,
            (None, None) => return Err("crs given without lon and lat".into()),
            _ => return Err("lon and lat must be given together".into()),
        };
        Ok(Ticket {
            id: w.id,
            text: w.text,
            address: w.address,
            coordinates,
            channel: w.channel,
            building: w.building,
            // No time stays no time: whoever routes or submits the ticket
            // knows which clock to read (a dispatcher's may be simulated).
            received_at: w.received_at,
            category: w.category,
        })
    }
}

impl From<Ticket> for TicketWire {
    fn from(t: Ticket) -> Self {
        TicketWire {
            id: t.id,
            text: t.text,
            address: t.address,
            lon: t.coordinates.map(|c| c.lon),
            lat: t.coordinates.map(|c| c.lat),
            crs: t.coordinates.map(|c| c.crs),
            channel: t.channel,
            building: t.building,
            received_at: t.received_at,
            category: t.category,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_requires_lon_and_lat_together() {
        let err = serde_json::from_str::<Ticket>(r#"{"id":"a","text":"x","lon":116.0}"#);
        assert!(err.unwrap_err().to_string().contains("together"));
        let err = serde_json::from_str::<Ticket>(r#"{"id":"a","text":"x","crs":"bd09"}"#);
        assert!(err.unwrap_err().to_string().contains("crs given"));
    }

    #[test]
    fn wire_form_defaults() {
        let t: Ticket =
            serde_json::from_str(r#"{"id":"a","text":"x","lon":116.0,"lat":40.0}"#).unwrap();
        assert_eq!(t.channel, Channel::Phone);
        assert_eq!(t.coordinates.unwrap().crs, Crs::Wgs84);
    }

    #[test]
    fn regression_no_time_is_not_read_from_the_clock() {
        assert_eq!(Ticket::new("a", "x").received_at, None);
        let t: Ticket = serde_json::from_str(r#"{"id":"a","text":"x"}"#).unwrap();
        assert_eq!(t.received_at, None);
        let json = serde_json::to_string(&t).unwrap();
        assert!(!json.contains("received_at"), "{json}");
        assert_eq!(serde_json::from_str::<Ticket>(&json).unwrap(), t);

        let at: Timestamp = "2024-11-20T08:00:00+08:00".parse().unwrap();
        let t = t.with_received_at(at);
        assert_eq!(t.received_at, Some(at));
        let json = serde_json::to_string(&t).unwrap();
        assert!(
            json.contains(r#""received_at":"2024-11-20T00:00:00Z""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Ticket>(&json).unwrap(), t);
    }

    #[test]
    fn a_chosen_category_round_trips_and_is_absent_otherwise() {
        let t = Ticket::new("a", "x").with_category("heating");
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(
            json,
            r#"{"id":"a","text":"x","channel":"phone","category":"heating"}"#
        );
        assert_eq!(serde_json::from_str::<Ticket>(&json).unwrap(), t);
        let plain = serde_json::to_string(&Ticket::new("a", "x")).unwrap();
        assert!(!plain.contains("category"), "{plain}");
    }

    #[test]
    fn the_router_routes_in_the_chosen_category() {
        use crate::{ClassifiedBy, Router};
        let router = Router::beijing();
        let words = Ticket::new("a", "家里暖气片一直不热").with_address("朝阳区呼家楼街道");
        let classified = router.route(&words).unwrap();
        assert_eq!(classified.category().code(), "heating");
        let chosen = router
            .route(&words.clone().with_category("utilities.water"))
            .unwrap();
        assert_eq!(chosen.category().code(), "utilities.water");
        assert_eq!(chosen.classified_by(), ClassifiedBy::Caller);
        assert_eq!(chosen.confidence(), None);
        assert!(chosen
            .explain()
            .iter()
            .any(|l| l.contains("chosen by the caller")));
        // The words' category stays a secondary one.
        assert_eq!(chosen.to_record("a").categories[0], "utilities.water");
        assert!(chosen
            .to_record("a")
            .categories
            .iter()
            .any(|c| c == "heating"));
    }

    #[test]
    fn wire_form_rejects_unknown_fields_and_channels() {
        assert!(serde_json::from_str::<Ticket>(r#"{"id":"a","txt":"x"}"#).is_err());
        assert!(serde_json::from_str::<Ticket>(r#"{"id":"a","channel":"fax"}"#).is_err());
    }

    #[test]
    fn coordinates_validity() {
        assert!(Coordinates::new(116.0, 40.0, Crs::Wgs84).is_valid());
        assert!(!Coordinates::new(f64::INFINITY, 40.0, Crs::Wgs84).is_valid());
        assert!(!Coordinates::new(116.0, 91.0, Crs::Wgs84).is_valid());
    }
}
