//! The compiled jurisdiction tables: districts → streets → communities.

use std::collections::HashMap;

use super::config::JurisdictionsConfig;
use crate::error::{BuildError, BuildErrorKind};
use crate::locate::gazetteer::{COMMUNITY_SUFFIXES, DISTRICT_SUFFIXES, STREET_SUFFIXES};

/// Index of a district in a router's jurisdiction tables.
///
/// # Examples
///
/// ```
/// use hotline_router::Router;
///
/// let router = Router::beijing();
/// let id = router.jurisdictions().district_id("110105").unwrap();
/// assert_eq!(router.jurisdictions().district(id).name(), "朝阳区");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct DistrictId(pub(crate) u32);

/// Index of a street or township office in a router's jurisdiction tables.
///
/// # Examples
///
/// ```
/// use hotline_router::Router;
///
/// let j = Router::beijing().jurisdictions().clone();
/// let id = j.street_id("110105003").unwrap();
/// assert_eq!(j.street(id).name(), "呼家楼街道");
/// assert_eq!(j.district(j.street(id).district()).code(), "110105");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct StreetId(pub(crate) u32);

/// Index of a community or village in a router's jurisdiction tables.
///
/// # Examples
///
/// ```
/// use hotline_router::Router;
///
/// let j = Router::beijing().jurisdictions().clone();
/// let id = j.community_id("110101001001").unwrap();
/// assert_eq!(j.community(id).name(), "多福巷社区居委会");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct CommunityId(pub(crate) u32);

macro_rules! id_usize {
    ($($t:ty),*) => {$(
        impl $t {
            /// The index as a `usize`, for dense tables.
            pub fn as_usize(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}
id_usize!(DistrictId, StreetId, CommunityId);

/// A district: code and name.
///
/// # Examples
///
/// ```
/// let j = hotline_router::Router::beijing().jurisdictions().clone();
/// assert_eq!(j.districts().count(), 16);
/// ```
#[derive(Clone, Debug)]
pub struct District {
    code: String,
    name: String,
}

/// A street or township office: code, name and district.
///
/// # Examples
///
/// ```
/// let j = hotline_router::Router::beijing().jurisdictions().clone();
/// assert_eq!(j.streets().count(), 349);
/// ```
#[derive(Clone, Debug)]
pub struct Street {
    code: String,
    name: String,
    district: DistrictId,
}

/// A community or village: code, name and street.
///
/// # Examples
///
/// ```
/// let j = hotline_router::Router::beijing().jurisdictions().clone();
/// assert_eq!(j.communities().count(), 7535);
/// ```
#[derive(Clone, Debug)]
pub struct Community {
    code: String,
    name: String,
    street: StreetId,
}

impl District {
    /// The code (6 digits in China).
    pub fn code(&self) -> &str {
        &self.code
    }
    /// The official name (朝阳区).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Street {
    /// The code (9 digits in China).
    pub fn code(&self) -> &str {
        &self.code
    }
    /// The official name (呼家楼街道).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The district the street belongs to.
    pub fn district(&self) -> DistrictId {
        self.district
    }
}

impl Community {
    /// The code (12 digits in China).
    pub fn code(&self) -> &str {
        &self.code
    }
    /// The official name (东大桥社区居委会).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The street the community belongs to.
    pub fn street(&self) -> StreetId {
        self.street
    }
}

/// The validated jurisdiction hierarchy of a router.
///
/// # Examples
///
/// ```
/// use hotline_router::{Jurisdictions, JurisdictionsConfig};
///
/// let j = Jurisdictions::new(&JurisdictionsConfig::beijing()).unwrap();
/// let s = j.street_id("110108001").unwrap();
/// assert_eq!(j.district(j.street(s).district()).name(), "海淀区");
/// ```
#[derive(Clone, Debug)]
pub struct Jurisdictions {
    districts: Vec<District>,
    streets: Vec<Street>,
    communities: Vec<Community>,
    district_by_code: HashMap<String, DistrictId>,
    street_by_code: HashMap<String, StreetId>,
    community_by_code: HashMap<String, CommunityId>,
}

fn check_code(what: &'static str, code: &str) -> Result<(), BuildError> {
    if code.is_empty() || code.chars().any(|c| c == ':' || c.is_whitespace()) {
        return Err(BuildErrorKind::InvalidCode {
            what,
            code: code.to_string(),
            expected: "a non-empty code without ':' or white space",
        }
        .into());
    }
    Ok(())
}

/// Refuses a name that is empty or nothing but one of its level's suffixes
/// (a street named 街道 would be read in every address).
fn check_name(
    what: &'static str,
    code: &str,
    name: &str,
    suffixes: &[&str],
) -> Result<(), BuildError> {
    let trimmed = name.trim();
    let bare = suffixes
        .iter()
        .find_map(|s| trimmed.strip_suffix(s))
        .unwrap_or(trimmed);
    if bare.trim().is_empty() {
        return Err(BuildErrorKind::InvalidName {
            what,
            code: code.to_string(),
            name: name.to_string(),
        }
        .into());
    }
    Ok(())
}

fn insert_unique<I: Copy>(
    map: &mut HashMap<String, I>,
    what: &'static str,
    code: &str,
    id: I,
) -> Result<(), BuildError> {
    check_code(what, code)?;
    if map.insert(code.to_string(), id).is_some() {
        return Err(BuildErrorKind::DuplicateCode {
            what,
            code: code.to_string(),
        }
        .into());
    }
    Ok(())
}

impl Jurisdictions {
    /// Validates and indexes a jurisdiction configuration.
    ///
    /// # Errors
    ///
    /// Duplicate or malformed codes, an empty name or one that is only a
    /// suffix (街道), a street whose district is unknown, a
    /// community whose street is unknown — each named in the error.
    pub fn new(config: &JurisdictionsConfig) -> Result<Jurisdictions, BuildError> {
        let mut j = Jurisdictions {
            districts: Vec::with_capacity(config.districts.len()),
            streets: Vec::with_capacity(config.streets.len()),
            communities: Vec::with_capacity(config.communities.len()),
            district_by_code: HashMap::new(),
            street_by_code: HashMap::new(),
            community_by_code: HashMap::new(),
        };
        for (i, d) in config.districts.iter().enumerate() {
            insert_unique(
                &mut j.district_by_code,
                "district",
                &d.code,
                DistrictId(i as u32),
            )?;
            check_name("district", &d.code, &d.name, DISTRICT_SUFFIXES)?;
            j.districts.push(District {
                code: d.code.clone(),
                name: d.name.clone(),
            });
        }
        for (i, s) in config.streets.iter().enumerate() {
            insert_unique(&mut j.street_by_code, "street", &s.code, StreetId(i as u32))?;
            check_name("street", &s.code, &s.name, STREET_SUFFIXES)?;
            let district = j.district_id(&s.district).ok_or_else(|| {
                BuildError::from(BuildErrorKind::UnknownJurisdiction {
                    context: format!("street {} ({})", s.code, s.name),
                    code: s.district.clone(),
                })
            })?;
            j.streets.push(Street {
                code: s.code.clone(),
                name: s.name.clone(),
                district,
            });
        }
        for (i, c) in config.communities.iter().enumerate() {
            insert_unique(
                &mut j.community_by_code,
                "community",
                &c.code,
                CommunityId(i as u32),
            )?;
            let suffixes: Vec<&str> = COMMUNITY_SUFFIXES.iter().map(|(s, _)| *s).collect();
            check_name("community", &c.code, &c.name, &suffixes)?;
            let street = j.street_id(&c.street).ok_or_else(|| {
                BuildError::from(BuildErrorKind::UnknownJurisdiction {
                    context: format!("community {} ({})", c.code, c.name),
                    code: c.street.clone(),
                })
            })?;
            j.communities.push(Community {
                code: c.code.clone(),
                name: c.name.clone(),
                street,
            });
        }
        Ok(j)
    }

    /// The district with this id.
    ///
    /// # Panics
    ///
    /// If the id is not from these tables.
    pub fn district(&self, id: DistrictId) -> &District {
        &self.districts[id.as_usize()]
    }
    /// The street with this id.
    ///
    /// # Panics
    ///
    /// If the id is not from these tables.
    pub fn street(&self, id: StreetId) -> &Street {
        &self.streets[id.as_usize()]
    }
    /// The community with this id.
    ///
    /// # Panics
    ///
    /// If the id is not from these tables.
    pub fn community(&self, id: CommunityId) -> &Community {
        &self.communities[id.as_usize()]
    }
    /// The district with this code.
    pub fn district_id(&self, code: &str) -> Option<DistrictId> {
        self.district_by_code.get(code).copied()
    }
    /// The street with this code.
    pub fn street_id(&self, code: &str) -> Option<StreetId> {
        self.street_by_code.get(code).copied()
    }
    /// The community with this code.
    pub fn community_id(&self, code: &str) -> Option<CommunityId> {
        self.community_by_code.get(code).copied()
    }
    /// Every district, in input order.
    pub fn districts(&self) -> impl ExactSizeIterator<Item = (DistrictId, &District)> {
        self.districts
            .iter()
            .enumerate()
            .map(|(i, d)| (DistrictId(i as u32), d))
    }
    /// Every street, in input order.
    pub fn streets(&self) -> impl ExactSizeIterator<Item = (StreetId, &Street)> {
        self.streets
            .iter()
            .enumerate()
            .map(|(i, s)| (StreetId(i as u32), s))
    }
    /// Every community, in input order.
    pub fn communities(&self) -> impl ExactSizeIterator<Item = (CommunityId, &Community)> {
        self.communities
            .iter()
            .enumerate()
            .map(|(i, c)| (CommunityId(i as u32), c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> JurisdictionsConfig {
        JurisdictionsConfig::from_csv(
            "code,name\n1,A区\n2,B区\n",
            "code,name,district_code\n11,甲街道,1\n21,乙街道,2\n",
            "code,name,street_code\n111,丙社区,11\n",
        )
        .unwrap()
    }

    #[test]
    fn builds_and_links() {
        let j = Jurisdictions::new(&config()).unwrap();
        let c = j.community_id("111").unwrap();
        assert_eq!(j.street(j.community(c).street()).code(), "11");
    }

    #[test]
    fn errors_name_the_item() {
        let mut c = config();
        c.streets[1].code = "11".into();
        assert_eq!(
            Jurisdictions::new(&c).unwrap_err().to_string(),
            "duplicate street code '11'"
        );
        let mut c = config();
        c.communities[0].street = "99".into();
        let err = Jurisdictions::new(&c).unwrap_err().to_string();
        assert!(
            err.contains("community 111") && err.contains("'99'"),
            "{err}"
        );
        let mut c = config();
        c.districts[0].code = "1:2".into();
        assert!(Jurisdictions::new(&c).is_err());
    }
}
