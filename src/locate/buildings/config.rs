//! The registry as plain data: [`BuildingsConfig`], read from CSV.

use serde::Deserialize;

use crate::error::BuildError;
use crate::locate::crs::Crs;

/// The building registry (一楼一码) as plain data, before it is validated
/// against a router's jurisdictions.
///
/// Part of [`JurisdictionsConfig`](crate::JurisdictionsConfig) (its
/// `buildings` field); validated when the router is built (see
/// [`Buildings`](super::Buildings) for what is checked). Its CSV form has the
/// header `code,name,address,community_code,lon,lat` and an optional `crs`
/// column (see [`BuildingsConfig::from_csv`]).
///
/// # Examples
///
/// ```
/// use hotline_router::{BuildingsConfig, Router, RouterConfig, Ticket};
///
/// let mut config = RouterConfig::beijing();
/// config.jurisdictions.buildings = BuildingsConfig::from_csv(
///     "code,name,address,community_code,lon,lat\n\
///      HJL-7,呼家楼北里7号楼,朝阳区呼家楼北里7号楼,110105003047,116.4497,39.9262\n",
///     "buildings.csv",
/// )?;
/// let router = Router::from_config(config)?;
/// let d = router.route(&Ticket::new("T1", "电梯坏了").with_building("HJL-7")).unwrap();
/// assert_eq!(d.community_code(), Some("110105003047"));
/// # Ok::<(), hotline_router::BuildError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BuildingsConfig {
    /// Where the registry was read from (`buildings.csv`): errors name it.
    pub source_name: String,
    /// The buildings, in file order.
    pub buildings: Vec<BuildingConfig>,
    /// How far outside its district's polygon a building's point may lie, in
    /// metres, before the build refuses it: 300 by default, as the embedded
    /// Beijing polygons are simplified (boundaries right to a few hundred
    /// metres). Set 0 with exact polygons.
    pub tolerance_m: u32,
}

impl Default for BuildingsConfig {
    /// No buildings, a tolerance of 300 m.
    fn default() -> Self {
        BuildingsConfig {
            source_name: "buildings".into(),
            buildings: Vec::new(),
            tolerance_m: 300,
        }
    }
}

/// One building of the registry: a code (the QR code's), a name and an
/// address, the community it belongs to, and its point.
///
/// # Examples
///
/// ```
/// use hotline_router::{BuildingConfig, Crs, LocatedBy, Router, RouterConfig, Ticket};
///
/// let b = BuildingConfig {
///     code: "HJL-7".into(),
///     name: "呼家楼北里7号楼".into(),
///     address: "朝阳区呼家楼北里7号楼".into(),
///     community: "110105003047".into(),
///     lon: 116.4497,
///     lat: 39.9262,
///     crs: Crs::Wgs84,
///     line: None, // made in code, not read from a file
/// };
/// let mut config = RouterConfig::beijing();
/// config.jurisdictions.buildings.buildings.push(b);
/// let router = Router::from_config(config)?;
/// // A ticket carrying the code from the building's QR code is located there.
/// let d = router.route(&Ticket::new("T1", "电梯坏了").with_building("HJL-7")).unwrap();
/// assert_eq!(d.located_by(), LocatedBy::Building);
/// assert_eq!((d.community_code(), d.street_code()), (Some("110105003047"), Some("110105003")));
/// # Ok::<(), hotline_router::BuildError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BuildingConfig {
    /// The code printed in the building's QR code: ASCII letters, digits,
    /// `-`, `_` and `.`, at most 64 bytes, unique. Its structure is not
    /// read: the community comes from `community`.
    pub code: String,
    /// The building's name (东大桥路8号院3号楼).
    pub name: String,
    /// Its address in words (may be empty).
    pub address: String,
    /// The code of the community (社区/村) it belongs to.
    pub community: String,
    /// Longitude in `crs`.
    pub lon: f64,
    /// Latitude in `crs`.
    pub lat: f64,
    /// The system `lon` and `lat` are in; stored as WGS-84 once built.
    pub crs: Crs,
    /// The line of the CSV file it was read from, for error messages;
    /// `None` for a building made in code.
    pub line: Option<u64>,
}

#[derive(Deserialize)]
struct Row {
    code: String,
    name: String,
    #[serde(default)]
    address: String,
    #[serde(alias = "community_code")]
    community: String,
    lon: f64,
    lat: f64,
    #[serde(default)]
    crs: Option<String>,
}

const BEIJING_SAMPLE: &str = include_str!("../../../data/beijing/buildings.sample.csv");

impl BuildingsConfig {
    /// Reads the CSV form: a header row naming the columns `code`, `name`,
    /// `address` (optional), `community_code` (or `community`), `lon`,
    /// `lat`, and optionally `crs` (`wgs84`, `gcj02` or `bd09`, any case;
    /// WGS-84 when the column or the value is absent). Fields are trimmed;
    /// lines starting with `#` are comments. The tolerance is the default.
    ///
    /// Nothing is validated here but the shape: codes, communities and
    /// points are checked when the router is built.
    ///
    /// # Errors
    ///
    /// A [`BuildErrorKind::Parse`](crate::BuildErrorKind::Parse) naming
    /// `source_name` and the line: a missing column, a number that is not
    /// one, an unknown coordinate system.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::{BuildingsConfig, Crs};
    ///
    /// let csv = "# surveyed with AMap\n\
    ///            code,name,address,community_code,lon,lat,crs\n\
    ///            HJL-7,呼家楼北里7号楼,,110105003047,116.4558,39.9275,gcj02\n";
    /// let registry = BuildingsConfig::from_csv(csv, "survey.csv").unwrap();
    /// let b = &registry.buildings[0];
    /// assert_eq!((b.crs, b.line), (Crs::Gcj02, Some(3)));
    ///
    /// let err = BuildingsConfig::from_csv("code,name,community_code,lon,lat\nA,a,1,east,40\n", "x.csv");
    /// assert!(err.unwrap_err().to_string().starts_with("cannot parse x.csv: line 2:"));
    /// ```
    pub fn from_csv(text: &str, source_name: &str) -> Result<BuildingsConfig, BuildError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            // A short row is then a missing field on the line counted below.
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| BuildError::parse(source_name, e))?
            .clone();
        let mut buildings = Vec::new();
        // Lines counted from byte offsets: the csv reader's own count skips
        // blank lines.
        let (mut counted_to, mut line) = (0usize, 1u64);
        for record in reader.records() {
            let record = record.map_err(|e| BuildError::parse(source_name, e))?;
            let mut byte = record.position().map_or(counted_to, |p| p.byte() as usize);
            byte = byte.clamp(counted_to, text.len());
            // The position is where the reader stood: before any blank or
            // comment lines it skipped to reach the record.
            while let Some(&c) = text.as_bytes().get(byte) {
                match c {
                    b'\n' | b'\r' => byte += 1,
                    b'#' => byte += text[byte..].find('\n').map_or(text.len() - byte, |n| n + 1),
                    _ => break,
                }
            }
            line += text.as_bytes()[counted_to..byte]
                .iter()
                .filter(|&&c| c == b'\n')
                .count() as u64;
            counted_to = byte;
            let at =
                |message: String| BuildError::parse(source_name, format!("line {line}: {message}"));
            let row: Row = record
                .deserialize(Some(&headers))
                .map_err(|e| at(deserialize_message(&e, &headers)))?;
            let crs = match row.crs.as_deref() {
                None | Some("") => Crs::Wgs84,
                Some(name) => name
                    .parse()
                    .map_err(|e: crate::locate::ParseCrsError| at(e.to_string()))?,
            };
            buildings.push(BuildingConfig {
                code: row.code,
                name: row.name,
                address: row.address,
                community: row.community,
                lon: row.lon,
                lat: row.lat,
                crs,
                line: Some(line),
            });
        }
        Ok(BuildingsConfig {
            source_name: source_name.to_string(),
            buildings,
            ..BuildingsConfig::default()
        })
    }

    /// The sample registry embedded in the crate
    /// (`data/beijing/buildings.sample.csv`), part of
    /// [`JurisdictionsConfig::beijing`](crate::JurisdictionsConfig::beijing).
    ///
    /// **Sample data**: the community codes are real, the buildings are
    /// not — 49 plausible buildings written for this crate in 14 districts,
    /// each inside its community's district, to show and test 一楼一码. It
    /// is not an official registry: replace it with the city's
    /// ([`BuildingsConfig::from_csv`], or `hotline route --buildings FILE`).
    ///
    /// # Panics
    ///
    /// Never in a released crate: the embedded file is parsed by the
    /// crate's own tests.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::BuildingsConfig;
    ///
    /// let sample = BuildingsConfig::beijing_sample();
    /// assert!(sample.buildings.iter().all(|b| b.community.starts_with("11")));
    /// ```
    pub fn beijing_sample() -> BuildingsConfig {
        BuildingsConfig::from_csv(BEIJING_SAMPLE, "embedded buildings.sample.csv")
            .expect("the embedded sample registry parses (tested)")
    }

    /// Where building `i` was defined, for error messages.
    pub(crate) fn at(&self, i: usize) -> String {
        match self.buildings[i].line {
            Some(line) => format!("{} line {line}", self.source_name),
            None => format!("{} #{i}", self.source_name),
        }
    }
}

/// The message of a row that does not deserialize, without the position
/// (the caller names the line).
fn deserialize_message(e: &csv::Error, headers: &csv::StringRecord) -> String {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => match err.field() {
            Some(field) => format!(
                "column '{}': {}",
                headers.get(field as usize).unwrap_or("?"),
                err.kind()
            ),
            None => err.kind().to_string(),
        },
        _ => e.to_string(),
    }
}
