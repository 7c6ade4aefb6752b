//! 一楼一码: the building registry, and tickets that name their building.
//!
//! Beijing puts a QR code on every residential building; scanning it opens a
//! form that files a ticket already carrying the building's code
//! ([`Ticket::building`](crate::Ticket::building), usually on
//! [`Channel::Qr`](crate::Channel::Qr)). The registry maps each code to its
//! building: name, address, community — and so street and district — and its
//! point.
//!
//! * **Configuration.** [`BuildingsConfig`] is plain data, read from CSV
//!   (`code,name,address,community_code,lon,lat`, optional `crs`) and held
//!   in [`JurisdictionsConfig::buildings`](crate::JurisdictionsConfig::buildings).
//! * **Validation, when the router is built.** Every building needs a
//!   non-empty, unique, URL-safe code, a known community, valid coordinates,
//!   and a point inside the polygon of its community's district (within
//!   [`tolerance_m`](BuildingsConfig::tolerance_m), checked with the
//!   router's polygon index): a typo in the registry would otherwise
//!   misroute every scan of that sticker. Each problem is a
//!   [`BuildErrorKind::InvalidBuilding`]
//!   naming the file and line. A district without a polygon cannot be
//!   checked, and is not.
//! * **Locating.** A ticket whose code is in the registry is located
//!   exactly: its community, street and district are the building's, and
//!   [`LocatedBy::Building`](crate::LocatedBy::Building) says so. The code
//!   wins over the ticket's other clues, which are not read, except the
//!   coordinates: when they fall in another district the decision carries a
//!   [`PointConflict`](crate::LocationNote::PointConflict) note (a phone's
//!   position is where the caller is, the sticker where the building is).
//!   A code that is not in the registry (a stale sticker, a typo) loses
//!   nothing: the ticket is located from its coordinates, address and text
//!   as any other, with an
//!   [`UnknownBuilding`](crate::LocationNote::UnknownBuilding) note. A blank
//!   code is no code.
//!
//! The embedded Beijing configuration carries a **sample** registry
//! ([`BuildingsConfig::beijing_sample`]): real community codes, buildings
//! written for this crate. It is not an official registry.
//!
//! # Examples
//!
//! ```
//! use hotline_router::{Channel, LocatedBy, Router, Ticket};
//!
//! let router = Router::beijing();
//! let scan = Ticket::new("Q1", "电梯坏了两天了，老人上不了楼")
//!     .with_channel(Channel::Qr)
//!     .with_building("110105003050-03");
//! let d = router.route(&scan).unwrap();
//! assert_eq!(d.located_by(), LocatedBy::Building);
//! assert_eq!(d.building().unwrap().name(), "东大桥路8号院3号楼");
//! assert_eq!(d.community_code(), Some("110105003050")); // 东大桥社区
//! assert_eq!(d.agency_code(), "street:110105003");     // 呼家楼街道
//!
//! // A stale sticker: located from the other clues, and said so.
//! let stale = scan.clone().with_building("NO-SUCH-CODE").with_address("海淀区学院路街道");
//! let d = router.route(&stale).unwrap();
//! assert_eq!(d.street_code(), Some("110108010"));
//! assert!(d.explain().iter().any(|r| r.contains("'NO-SUCH-CODE' is not in the registry")));
//! ```

mod config;

pub use config::{BuildingConfig, BuildingsConfig};

use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::error::{BuildError, BuildErrorKind, BuildingProblem};
use crate::locate::jurisdictions::{CommunityId, DistrictId, Jurisdictions, StreetId};
use crate::locate::region::Region;
use crate::locate::Locator;

/// The longest building code accepted, in bytes.
pub const MAX_CODE_LEN: usize = 64;

/// The longest name or address accepted, in bytes: longer is a broken file
/// (an unclosed quote swallows the lines after it), not a building.
pub const MAX_TEXT_LEN: usize = 1024;

/// Index of a building in a router's registry.
///
/// # Examples
///
/// ```
/// let router = hotline_router::Router::beijing();
/// let id = router.buildings().id("110105003050-03").unwrap();
/// assert_eq!(router.buildings().building(id).code(), "110105003050-03");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct BuildingId(pub(crate) u32);

impl BuildingId {
    /// The index as a `usize`, for dense tables.
    pub fn as_usize(self) -> usize {
        self.0 as usize
    }
}

/// One validated building: code, name, address, its jurisdictions and its
/// WGS-84 point.
///
/// # Examples
///
/// ```
/// let router = hotline_router::Router::beijing();
/// let b = router.buildings().get("110105003050-03").unwrap();
/// let j = router.jurisdictions();
/// assert_eq!(j.community(b.community()).name(), "东大桥社区居委会");
/// assert_eq!(j.street(b.street()).name(), "呼家楼街道");
/// assert_eq!(router.locator().district_at(b.lon(), b.lat()), Some(b.district()));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Building {
    /// Code, name and address in one allocation: `text[..name_at]`,
    /// `text[name_at..address_at]`, `text[address_at..]`.
    text: Box<str>,
    name_at: u32,
    address_at: u32,
    community: CommunityId,
    street: StreetId,
    district: DistrictId,
    lon: f64,
    lat: f64,
}

impl Building {
    /// The code in its QR code.
    pub fn code(&self) -> &str {
        &self.text[..self.name_at as usize]
    }
    /// The name (东大桥路8号院3号楼).
    pub fn name(&self) -> &str {
        &self.text[self.name_at as usize..self.address_at as usize]
    }
    /// The address in words (may be empty).
    pub fn address(&self) -> &str {
        &self.text[self.address_at as usize..]
    }
    /// The community it belongs to.
    pub fn community(&self) -> CommunityId {
        self.community
    }
    /// The community's street.
    pub fn street(&self) -> StreetId {
        self.street
    }
    /// The street's district.
    pub fn district(&self) -> DistrictId {
        self.district
    }
    /// WGS-84 longitude.
    pub fn lon(&self) -> f64 {
        self.lon
    }
    /// WGS-84 latitude.
    pub fn lat(&self) -> f64 {
        self.lat
    }
}

/// The validated building registry of a router: code → building.
///
/// Built with the router from [`JurisdictionsConfig::buildings`](crate::JurisdictionsConfig::buildings)
/// (see the [module documentation](self) for what is checked); reached with
/// [`Router::buildings`](crate::Router::buildings).
///
/// # Resource usage
///
/// The buildings sit in one vector, in file order: a 56-byte record each
/// (three jurisdiction ids, two `f64`, and one allocation holding code, name
/// and address). The code index is a hash table of 4-byte positions into
/// the vector, so a code is stored once. Measured with
/// [`heap_bytes`](Buildings::heap_bytes): a million buildings with 16-byte
/// codes, 45-byte names and 51-byte addresses take 178 MB, 178.5 bytes a
/// building (56 + 112 of text + 10.5 of index); the router then builds in
/// 1.9 s more (release build), most of it checking each point against the
/// polygons. A lookup hashes the code once (foldhash) and compares it with
/// one or two candidates.
///
/// # Examples
///
/// ```
/// let router = hotline_router::Router::beijing();
/// let registry = router.buildings();
/// assert!(!registry.is_empty());
/// for (_, b) in registry.iter().take(3) {
///     assert_eq!(registry.get(b.code()), Some(b));
/// }
/// assert!(registry.get("NO-SUCH-CODE").is_none());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Buildings {
    buildings: Vec<Building>,
    /// Positions in `buildings`, hashed by code with `hasher`.
    index: HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

impl Buildings {
    /// How many buildings the registry holds.
    pub fn len(&self) -> usize {
        self.buildings.len()
    }

    /// Whether the registry is empty.
    pub fn is_empty(&self) -> bool {
        self.buildings.is_empty()
    }

    /// The building with this code.
    pub fn get(&self, code: &str) -> Option<&Building> {
        self.id(code).map(|id| self.building(id))
    }

    /// The id of the building with this code.
    pub fn id(&self, code: &str) -> Option<BuildingId> {
        let hash = self.hasher.hash_one(code);
        self.index
            .find(hash, |&i| self.buildings[i as usize].code() == code)
            .map(|&i| BuildingId(i))
    }

    /// The building with this id.
    ///
    /// # Panics
    ///
    /// If the id is not from this registry.
    pub fn building(&self, id: BuildingId) -> &Building {
        &self.buildings[id.as_usize()]
    }

    /// Heap memory held by the registry, in bytes: the records, their
    /// text, and the index (not the allocator's own overhead).
    pub fn heap_bytes(&self) -> usize {
        self.buildings.capacity() * std::mem::size_of::<Building>()
            + self.buildings.iter().map(|b| b.text.len()).sum::<usize>()
            + self.index.allocation_size()
    }

    /// Every building, in file order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (BuildingId, &Building)> {
        self.buildings
            .iter()
            .enumerate()
            .map(|(i, b)| (BuildingId(i as u32), b))
    }

    /// Validates a registry against a router's jurisdictions and polygons.
    /// `regions[d]` is district `d`'s polygon, if it has one.
    pub(crate) fn new(
        config: &BuildingsConfig,
        jurisdictions: &Jurisdictions,
        locator: &Locator,
        regions: &[Option<&Region>],
    ) -> Result<Buildings, BuildError> {
        let mut registry = Buildings {
            buildings: Vec::with_capacity(config.buildings.len()),
            index: HashTable::with_capacity(config.buildings.len()),
            hasher: foldhash::fast::FixedState::default(),
        };
        let j = jurisdictions;
        let dname = |d: DistrictId| format!("{} {}", j.district(d).name(), j.district(d).code());
        for (i, b) in config.buildings.iter().enumerate() {
            let fail = |problem: BuildingProblem| -> BuildError {
                BuildErrorKind::InvalidBuilding {
                    at: config.at(i),
                    code: b.code.clone(),
                    problem,
                }
                .into()
            };
            check_code(&b.code).map_err(fail)?;
            for (field, text) in [("name", &b.name), ("address", &b.address)] {
                if text.len() > MAX_TEXT_LEN {
                    return Err(fail(BuildingProblem::TooLong {
                        field,
                        len: text.len(),
                        limit: MAX_TEXT_LEN,
                    }));
                }
            }
            if let Some(first) = registry.id(&b.code) {
                return Err(fail(BuildingProblem::DuplicateCode {
                    first: config.at(first.as_usize()),
                }));
            }
            let community = j.community_id(&b.community).ok_or_else(|| {
                fail(BuildingProblem::UnknownCommunity {
                    community: b.community.clone(),
                })
            })?;
            let street = j.community(community).street();
            let district = j.street(street).district();
            let valid = b.lon.is_finite()
                && b.lat.is_finite()
                && (-180.0..=180.0).contains(&b.lon)
                && (-90.0..=90.0).contains(&b.lat);
            if !valid {
                return Err(fail(BuildingProblem::InvalidCoordinates {
                    lon: b.lon.to_string(),
                    lat: b.lat.to_string(),
                }));
            }
            let (lon, lat) = b.crs.to_wgs84(b.lon, b.lat);
            let falls_in = locator.district_at(lon, lat);
            if let (Some(region), true) = (regions[district.as_usize()], falls_in != Some(district))
            {
                let metres = metres_outside(region, lon, lat);
                if metres > f64::from(config.tolerance_m) {
                    return Err(fail(BuildingProblem::OutsideDistrict {
                        district: dname(district),
                        metres: metres.round() as u64,
                        tolerance: config.tolerance_m,
                        falls_in: falls_in.map(dname),
                    }));
                }
            }
            let position = registry.buildings.len() as u32;
            let hash = registry.hasher.hash_one(b.code.as_str());
            let (buildings, hasher) = (&registry.buildings, &registry.hasher);
            registry.index.insert_unique(hash, position, |&k| {
                hasher.hash_one(buildings[k as usize].code())
            });
            registry.buildings.push(Building {
                // At most 64 + 1024 bytes in: checked above.
                name_at: b.code.len() as u32,
                address_at: (b.code.len() + b.name.len()) as u32,
                text: [b.code.as_str(), &b.name, &b.address].concat().into(),
                community,
                street,
                district,
                lon,
                lat,
            });
        }
        Ok(registry)
    }
}

fn check_code(code: &str) -> Result<(), BuildingProblem> {
    if code.is_empty() {
        return Err(BuildingProblem::EmptyCode);
    }
    let url_safe = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
    if code.len() > MAX_CODE_LEN || !code.bytes().all(url_safe) {
        return Err(BuildingProblem::InvalidCode {
            limit: MAX_CODE_LEN,
        });
    }
    Ok(())
}

/// How far a point outside `region` is from its boundary, in metres, on a
/// local equirectangular projection (right to a fraction of a percent over
/// the few kilometres that matter here).
fn metres_outside(region: &Region, lon: f64, lat: f64) -> f64 {
    const METRES_PER_DEGREE: f64 = 111_320.0;
    let kx = METRES_PER_DEGREE * lat.to_radians().cos();
    let ky = METRES_PER_DEGREE;
    let project = |p: [f64; 2]| ((p[0] - lon) * kx, (p[1] - lat) * ky);
    region
        .edges()
        .map(|(a, b)| {
            let (ax, ay) = project(a);
            let (bx, by) = project(b);
            let (dx, dy) = (bx - ax, by - ay);
            let len2 = dx * dx + dy * dy;
            // The point is the origin: its projection on the segment.
            let t = if len2 > 0.0 {
                (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (x, y) = (ax + t * dx, ay + t * dy);
            (x * x + y * y).sqrt()
        })
        .fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests;
