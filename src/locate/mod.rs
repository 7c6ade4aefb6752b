//! Locate: where a ticket is — district, street, community — from its
//! coordinates and its words.
//!
//! * Coordinates are converted to WGS-84 ([`crs`]) and looked up in a
//!   [`PolygonIndex`] of district polygons: exact, allocation-free.
//! * The address (or, without one, the ticket text) is read with a
//!   gazetteer of every district, street and community name, with and
//!   without suffixes.
//! * The clues vote. Each name found, and the coordinates, is one vote for
//!   every district it can stand for; the district with the most votes wins,
//!   and then the street with the most votes within it. **A tie is never
//!   broken by guessing**: the location stops at the last level that is
//!   certain (a name repeated in two streets of one district gives the
//!   district only; in two districts, nothing), and the decision says why.
//! * Clues that disagree with the winner are reported as conflicts.
//! * A ticket carrying a building code of the registry ([`buildings`],
//!   一楼一码) is located exactly by its building, without a vote: the code
//!   wins over the other clues. An unknown code is noted and the ticket
//!   located from its other clues.

pub mod buildings;
pub(crate) mod config;
pub mod crs;
pub(crate) mod gazetteer;
pub mod geojson;
pub mod jurisdictions;
pub mod polygon_index;
pub mod region;

pub use crs::ParseCrsError;
pub use geojson::{parse_feature_collection, FeatureSet, GeoFeature, SkippedFeature, Untidy};
pub use region::{Polygon, Region};

use serde::Serialize;
use smallvec::SmallVec;

use crate::error::{BuildError, BuildErrorKind};
use crate::ticket::Ticket;
use buildings::{BuildingId, Buildings};
use gazetteer::{Gazetteer, Place, Token};
use jurisdictions::{CommunityId, DistrictId, Jurisdictions, StreetId};
use polygon_index::PolygonIndex;

/// Which clue gave a ticket its most specific jurisdiction.
///
/// # Examples
///
/// ```
/// use hotline_router::LocatedBy;
///
/// assert_eq!(serde_json::to_string(&LocatedBy::Coordinates).unwrap(), "\"coordinates\"");
/// assert_eq!(LocatedBy::None.as_str(), "none");
/// assert_eq!(LocatedBy::Building.as_str(), "building");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LocatedBy {
    /// The coordinates (a district from the polygons).
    Coordinates,
    /// Place names in the address or the text.
    Address,
    /// Nothing: the ticket's jurisdiction is unknown.
    None,
    /// The ticket's building code, found in the registry (一楼一码): its
    /// community, street and district exactly.
    Building,
}

impl LocatedBy {
    /// The wire name: "coordinates", "address", "none" or "building".
    pub fn as_str(self) -> &'static str {
        match self {
            LocatedBy::Coordinates => "coordinates",
            LocatedBy::Address => "address",
            LocatedBy::None => "none",
            LocatedBy::Building => "building",
        }
    }
}

/// A fact the locator wants the decision to carry.
///
/// # Examples
///
/// ```
/// use hotline_router::{LocationNote, Router, Ticket};
///
/// let router = Router::beijing();
/// let loc = router.locator().locate(&Ticket::new("T", "垃圾没人清").with_address("太平庄"));
/// assert!(loc.notes().contains(&LocationNote::AmbiguousDistrict { candidates: 7 }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum LocationNote {
    /// The coordinates fall in this district (WGS-84 after conversion).
    PointIn {
        /// The district the point falls in.
        district: DistrictId,
    },
    /// The coordinates fall outside every district polygon.
    PointOutside,
    /// A place name was found (gazetteer name index, byte span in the text).
    Name {
        /// Internal name index, for [`crate::Router`] to render.
        name: u32,
        /// How many places the name can stand for.
        places: u32,
    },
    /// Clues tie between districts: no district is chosen.
    AmbiguousDistrict {
        /// How many districts tie.
        candidates: u32,
    },
    /// Clues tie between streets of the chosen district: street unknown.
    AmbiguousStreet {
        /// How many streets tie.
        candidates: u32,
    },
    /// A name points outside the chosen district.
    NameConflict {
        /// Internal name index.
        name: u32,
    },
    /// The coordinates point to another district than the one chosen (by
    /// the address, or by the building code, which wins over them).
    PointConflict {
        /// The district the point falls in.
        district: DistrictId,
    },
    /// The place names came from the ticket text, as there was no address.
    FromText,
    /// The ticket's building code is in the registry: located by it.
    Building {
        /// The building.
        building: BuildingId,
    },
    /// The ticket's building code is not in the registry (a stale sticker,
    /// a typo): located from its other clues. The code is
    /// [`Location::unknown_building`].
    UnknownBuilding,
}

/// Where a ticket is, as far as is certain, and how that was found.
///
/// # Examples
///
/// ```
/// use hotline_router::{LocatedBy, Router, Ticket};
///
/// let router = Router::beijing();
/// let ticket = Ticket::new("T1", "楼道堆满杂物").with_address("朝阳区呼家楼街道东大桥社区");
/// let loc = router.locator().locate(&ticket);
/// let j = router.jurisdictions();
/// assert_eq!(j.street(loc.street().unwrap()).code(), "110105003");
/// assert_eq!(loc.located_by(), LocatedBy::Address);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    district: Option<DistrictId>,
    street: Option<StreetId>,
    community: Option<CommunityId>,
    building: Option<BuildingId>,
    located_by: LocatedBy,
    notes: SmallVec<[LocationNote; 6]>,
    /// A building code the registry does not know; boxed, as it is rare.
    unknown_building: Option<Box<str>>,
}

impl Location {
    /// The district, if certain.
    pub fn district(&self) -> Option<DistrictId> {
        self.district
    }
    /// The street or township, if certain.
    pub fn street(&self) -> Option<StreetId> {
        self.street
    }
    /// The community, if certain.
    pub fn community(&self) -> Option<CommunityId> {
        self.community
    }
    /// The building, when the ticket's building code is in the registry.
    pub fn building(&self) -> Option<BuildingId> {
        self.building
    }
    /// The ticket's building code, when the registry does not know it.
    pub fn unknown_building(&self) -> Option<&str> {
        self.unknown_building.as_deref()
    }
    /// Which clue gave the most specific level.
    pub fn located_by(&self) -> LocatedBy {
        self.located_by
    }
    /// What the locator saw: names, the point, ties and conflicts.
    pub fn notes(&self) -> &[LocationNote] {
        &self.notes
    }
}

/// Finds a ticket's jurisdiction from its coordinates and words.
///
/// # Examples
///
/// ```
/// use hotline_router::{Crs, Router, Ticket};
///
/// let router = Router::beijing();
/// // Tiananmen, WGS-84: 东城区.
/// let ticket = Ticket::new("T2", "路灯不亮").with_coordinates(116.3975, 39.9087, Crs::Wgs84);
/// let loc = router.locator().locate(&ticket);
/// assert_eq!(router.jurisdictions().district(loc.district().unwrap()).name(), "东城区");
/// ```
#[derive(Debug)]
pub struct Locator {
    index: PolygonIndex,
    /// Region i of the index is district `region_district[i]`.
    region_district: Vec<DistrictId>,
    /// Dense parent links, so voting never touches the code tables.
    street_district: Vec<DistrictId>,
    community_street: Vec<StreetId>,
    gazetteer: Gazetteer,
    buildings: Buildings,
}

impl Locator {
    /// Builds the polygon index over the districts that have a region
    /// (`regions[i]` is the area of district `districts[i]`), and the
    /// gazetteer over all names.
    ///
    /// # Errors
    ///
    /// A polygon the index cannot take, a gazetteer automaton that cannot be
    /// built, or `districts` and `regions` of different lengths.
    pub fn new(
        jurisdictions: &Jurisdictions,
        districts: &[DistrictId],
        regions: &[Region],
    ) -> Result<Locator, BuildError> {
        if districts.len() != regions.len() {
            return Err(BuildErrorKind::IndexLimit {
                reason: format!(
                    "{} regions given for {} districts: one region per district",
                    regions.len(),
                    districts.len()
                ),
            }
            .into());
        }
        Ok(Locator {
            index: PolygonIndex::bulk_load(regions)?,
            region_district: districts.to_vec(),
            street_district: jurisdictions.streets().map(|(_, s)| s.district()).collect(),
            community_street: jurisdictions
                .communities()
                .map(|(_, c)| c.street())
                .collect(),
            gazetteer: Gazetteer::new(jurisdictions)?,
            buildings: Buildings::default(),
        })
    }

    /// The building registry (empty unless the router was built with one).
    pub fn buildings(&self) -> &Buildings {
        &self.buildings
    }

    /// Sets the registry, validated against this locator by the router.
    pub(crate) fn set_buildings(&mut self, buildings: Buildings) {
        self.buildings = buildings;
    }

    /// The district a WGS-84 point falls in.
    pub fn district_at(&self, lon: f64, lat: f64) -> Option<DistrictId> {
        self.index
            .locate(lon, lat)
            .map(|i| self.region_district[i as usize])
    }

    /// The polygon index.
    pub fn polygon_index(&self) -> &PolygonIndex {
        &self.index
    }

    /// How many distinct name spellings the gazetteer holds.
    pub fn name_count(&self) -> usize {
        self.gazetteer.name_count()
    }

    /// A gazetteer name's text, for rendering [`LocationNote`]s.
    pub fn name_text(&self, name: u32) -> &str {
        self.gazetteer.name(name)
    }

    /// Locates a ticket. Invalid coordinates are ignored here (the router
    /// rejects them before calling this).
    ///
    /// A building code in the registry locates the ticket by its building
    /// (see [`buildings`]); an unknown one is noted, and the ticket located
    /// from its other clues; a blank one is ignored.
    pub fn locate(&self, ticket: &Ticket) -> Location {
        let Some(code) = ticket
            .building
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        else {
            return self.locate_by_clues(ticket);
        };
        match self.buildings.id(code) {
            Some(id) => self.locate_building(id, ticket),
            None => {
                let mut location = self.locate_by_clues(ticket);
                location.notes.insert(0, LocationNote::UnknownBuilding);
                location.unknown_building = Some(code.into());
                location
            }
        }
    }

    /// The building's jurisdictions; the coordinates, if any, only checked.
    fn locate_building(&self, id: BuildingId, ticket: &Ticket) -> Location {
        let b = self.buildings.building(id);
        let mut notes: SmallVec<[LocationNote; 6]> = SmallVec::new();
        notes.push(LocationNote::Building { building: id });
        if let Some(c) = ticket.coordinates.filter(|c| c.is_valid()) {
            let (lon, lat) = c.to_wgs84();
            notes.push(match self.district_at(lon, lat) {
                Some(d) if d == b.district() => LocationNote::PointIn { district: d },
                Some(d) => LocationNote::PointConflict { district: d },
                None => LocationNote::PointOutside,
            });
        }
        Location {
            district: Some(b.district()),
            street: Some(b.street()),
            community: Some(b.community()),
            building: Some(id),
            located_by: LocatedBy::Building,
            notes,
            unknown_building: None,
        }
    }

    fn locate_by_clues(&self, ticket: &Ticket) -> Location {
        let mut notes: SmallVec<[LocationNote; 6]> = SmallVec::new();
        let point = ticket.coordinates.filter(|c| c.is_valid()).map(|c| {
            let (lon, lat) = c.to_wgs84();
            let d = self.district_at(lon, lat);
            notes.push(match d {
                Some(district) => LocationNote::PointIn { district },
                None => LocationNote::PointOutside,
            });
            d
        });
        let point_district = point.flatten();
        let (text, is_address) = match ticket.address.as_deref() {
            Some(a) if !a.trim().is_empty() => (a, true),
            _ => (ticket.text.as_str(), false),
        };
        let tokens = self.gazetteer.tokens(text, is_address);
        if !is_address && !tokens.is_empty() {
            notes.push(LocationNote::FromText);
        }
        for t in &tokens {
            notes.push(LocationNote::Name {
                name: t.name,
                places: self.gazetteer.places(t).len() as u32,
            });
        }
        self.resolve(&tokens, point_district, notes)
    }

    fn resolve(
        &self,
        tokens: &[Token],
        point: Option<DistrictId>,
        mut notes: SmallVec<[LocationNote; 6]>,
    ) -> Location {
        let j = &self.gazetteer;
        let district_of = |p: &Place| -> DistrictId {
            match *p {
                Place::District(d) => d,
                Place::Street(s) => self.street_district(s),
                Place::Community(c) => self.street_district(self.community_street(c)),
            }
        };
        // District votes: one per token per district it can stand for, one for the point.
        let mut votes: SmallVec<[(DistrictId, u32); 8]> = SmallVec::new();
        let vote = |d: DistrictId, votes: &mut SmallVec<[(DistrictId, u32); 8]>| match votes
            .iter_mut()
            .find(|(x, _)| *x == d)
        {
            Some((_, n)) => *n += 1,
            None => votes.push((d, 1)),
        };
        for t in tokens {
            let places = j.places(t);
            for (i, p) in places.iter().enumerate() {
                let d = district_of(p);
                if !places[..i].iter().any(|q| district_of(q) == d) {
                    vote(d, &mut votes);
                }
            }
        }
        if let Some(d) = point {
            vote(d, &mut votes);
        }
        let Some(district) = unique_best(&votes, &mut notes, |n| LocationNote::AmbiguousDistrict {
            candidates: n,
        }) else {
            return Location {
                district: None,
                street: None,
                community: None,
                building: None,
                located_by: LocatedBy::None,
                notes,
                unknown_building: None,
            };
        };

        // Street votes within the district, and the community if one is certain.
        let mut street_votes: SmallVec<[(StreetId, u32); 8]> = SmallVec::new();
        for t in tokens {
            let places = j.places(t);
            if !places.iter().any(|p| district_of(p) == district) {
                notes.push(LocationNote::NameConflict { name: t.name });
                continue;
            }
            let mut seen: SmallVec<[StreetId; 4]> = SmallVec::new();
            for p in places {
                let s = match *p {
                    Place::Street(s) => s,
                    Place::Community(c) => self.community_street(c),
                    Place::District(_) => continue,
                };
                if self.street_district(s) == district && !seen.contains(&s) {
                    seen.push(s);
                    match street_votes.iter_mut().find(|(x, _)| *x == s) {
                        Some((_, n)) => *n += 1,
                        None => street_votes.push((s, 1)),
                    }
                }
            }
        }
        if let Some(d) = point.filter(|d| *d != district) {
            notes.push(LocationNote::PointConflict { district: d });
        }
        let street = unique_best(&street_votes, &mut notes, |n| {
            LocationNote::AmbiguousStreet { candidates: n }
        });
        let community = street.and_then(|s| {
            let mut found = None;
            for t in tokens {
                for p in j.places(t) {
                    if let Place::Community(c) = *p {
                        if self.community_street(c) == s {
                            if found.is_some_and(|f| f != c) {
                                return None;
                            }
                            found = Some(c);
                        }
                    }
                }
            }
            found
        });
        let located_by = if street.is_none() && point == Some(district) {
            LocatedBy::Coordinates
        } else {
            LocatedBy::Address
        };
        Location {
            district: Some(district),
            street,
            community,
            building: None,
            located_by,
            notes,
            unknown_building: None,
        }
    }

    fn street_district(&self, s: StreetId) -> DistrictId {
        self.street_district[s.as_usize()]
    }

    fn community_street(&self, c: CommunityId) -> StreetId {
        self.community_street[c.as_usize()]
    }
}

/// The id with the most votes, if exactly one has it; a tie is noted.
fn unique_best<I: Copy>(
    votes: &[(I, u32)],
    notes: &mut SmallVec<[LocationNote; 6]>,
    tie: impl Fn(u32) -> LocationNote,
) -> Option<I> {
    let best = votes.iter().map(|(_, n)| *n).max()?;
    let mut top = votes.iter().filter(|(_, n)| *n == best);
    let first = top.next()?.0;
    let more = top.count() as u32;
    if more > 0 {
        notes.push(tie(more + 1));
        return None;
    }
    Some(first)
}
