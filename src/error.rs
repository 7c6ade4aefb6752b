//! Errors: configuration problems found when a router is built, and ticket
//! problems found when a ticket is routed.
//!
//! A [`BuildError`] always names the offending item (a category code, an
//! agency code, a jurisdiction, a file and line), so that a broken rule table
//! is fixed from the message alone. A [`TicketError`] says what was wrong with
//! one ticket; the router never panics on bad input and never drops a ticket
//! silently.

use std::fmt;

/// A configuration error found while building a classifier, a locator, a
/// rule set or a router.
///
/// The error is opaque; [`BuildError::kind`] tells what went wrong in a form a
/// program can match on.
///
/// # Examples
///
/// ```
/// use hotline_router::{BuildErrorKind, RouterConfig};
///
/// // A rule that sends heating to an agency nobody defined.
/// let mut config = RouterConfig::beijing();
/// config.routing.rules[0].agency = Some("district:999999:housing".into());
/// let err = hotline_router::Router::from_config(config).unwrap_err();
/// assert!(matches!(err.kind(), BuildErrorKind::UnknownAgency { .. }));
/// assert!(err.to_string().contains("district:999999:housing"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    kind: BuildErrorKind,
}

/// What kind of configuration error a [`BuildError`] is.
///
/// # Examples
///
/// ```
/// use hotline_router::{BuildError, BuildErrorKind};
///
/// let err = BuildError::from(BuildErrorKind::DuplicateCode {
///     what: "category",
///     code: "heating".into(),
/// });
/// assert_eq!(err.to_string(), "duplicate category code 'heating'");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildErrorKind {
    /// The same code was defined twice (`what` is "category", "agency",
    /// "district", "street", "community" or "jurisdiction").
    DuplicateCode {
        /// What kind of item carries the code.
        what: &'static str,
        /// The repeated code.
        code: String,
    },
    /// A code does not have the shape its kind requires.
    InvalidCode {
        /// What kind of item carries the code.
        what: &'static str,
        /// The offending code.
        code: String,
        /// What the code should look like.
        expected: &'static str,
    },
    /// A district, street or community name that is empty, or only a
    /// suffix (`街道`, `区`, `社区居委会`): the gazetteer would find it in
    /// every address.
    InvalidName {
        /// "district", "street" or "community".
        what: &'static str,
        /// The jurisdiction's code.
        code: String,
        /// The name given.
        name: String,
    },
    /// Something refers to an agency that is not defined.
    UnknownAgency {
        /// Where the reference was found, e.g. "rule 3 (heating @ 110105)".
        context: String,
        /// The agency code that is not defined.
        agency: String,
    },
    /// Something refers to a category that is not in the taxonomy.
    UnknownCategory {
        /// Where the reference was found.
        context: String,
        /// The unknown category code.
        category: String,
    },
    /// Something refers to a district, street or community that is not defined.
    UnknownJurisdiction {
        /// Where the reference was found.
        context: String,
        /// The unknown jurisdiction code.
        code: String,
    },
    /// A category has no handler, so tickets of that category could not be routed.
    MissingHandler {
        /// The category without a handler.
        category: String,
    },
    /// Two rules set the same category at the same district or street.
    ConflictingRules {
        /// The earlier rule, e.g. "rule 3".
        first: String,
        /// The later rule.
        second: String,
        /// What they both set, e.g. "heating @ street 110105003".
        target: String,
    },
    /// An SLA that does not say how long a normal ticket may take, or says it twice.
    InvalidSla {
        /// Where the SLA was found.
        context: String,
    },
    /// A handler specification could not be understood.
    InvalidHandler {
        /// Where the handler was found.
        context: String,
        /// The handler text.
        handler: String,
    },
    /// A polygon is unusable (too few vertices, non-finite coordinates …).
    InvalidPolygon {
        /// The jurisdiction the polygon belongs to.
        jurisdiction: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A keyword is unusable (empty, or only white space).
    InvalidKeyword {
        /// The category the keyword belongs to.
        category: String,
        /// The keyword.
        keyword: String,
    },
    /// A keyword weight beyond the limit (which keeps scores from
    /// overflowing).
    InvalidWeight {
        /// The category the keyword belongs to.
        category: String,
        /// The keyword.
        keyword: String,
        /// The weight given.
        weight: i32,
        /// The largest magnitude allowed.
        limit: u32,
    },
    /// A category's channels are contradictory or meaningless (a channel
    /// listed twice, `other_channels` without channels), or the fallback
    /// category is closed to some channel.
    InvalidChannels {
        /// The category.
        category: String,
        /// What is wrong.
        reason: String,
    },
    /// A trained model does not fit the taxonomy (a label that is not a
    /// category code).
    Model {
        /// What does not fit.
        reason: String,
    },
    /// The spatial index could not meet one of its limits.
    IndexLimit {
        /// Which limit was exceeded and by what.
        reason: String,
    },
    /// A configuration file could not be parsed.
    Parse {
        /// Which file (or "embedded …") it was.
        source_name: String,
        /// The parser's message, with line and column where known.
        message: String,
    },
    /// The keyword automaton could not be built.
    Automaton {
        /// The automaton builder's message.
        message: String,
    },
    /// A building of the registry (一楼一码) is unusable.
    InvalidBuilding {
        /// Where it was defined: `buildings.csv line 12`, or `buildings
        /// #3` (0-based) for one made in code.
        at: String,
        /// Its code, as given (possibly empty).
        code: String,
        /// What is wrong with it.
        problem: BuildingProblem,
    },
}

/// What is wrong with one building of the registry: the detail of
/// [`BuildErrorKind::InvalidBuilding`].
///
/// # Examples
///
/// ```
/// use hotline_router::{BuildErrorKind, BuildingsConfig, BuildingProblem, Router, RouterConfig};
///
/// let mut config = RouterConfig::beijing();
/// config.jurisdictions.buildings = BuildingsConfig::from_csv(
///     "code,name,address,community_code,lon,lat\n\
///      B1,3号楼,东大桥路8号院3号楼,110105999999,116.445,39.921\n",
///     "my-buildings.csv",
/// ).unwrap();
/// let err = Router::from_config(config).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "my-buildings.csv line 2: building 'B1': unknown community code '110105999999'"
/// );
/// assert!(matches!(
///     err.kind(),
///     BuildErrorKind::InvalidBuilding { problem: BuildingProblem::UnknownCommunity { .. }, .. }
/// ));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildingProblem {
    /// The code is empty.
    EmptyCode,
    /// The code has characters other than ASCII letters, digits, `-`, `_`
    /// and `.`, or is longer than the limit (it goes into a QR code's URL
    /// as it is).
    InvalidCode {
        /// The longest code allowed, in bytes.
        limit: usize,
    },
    /// The name or the address is longer than the limit (in a CSV file,
    /// often an unclosed quote that swallowed the lines after it).
    TooLong {
        /// `name` or `address`.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// Another building has the same code.
    DuplicateCode {
        /// Where the first one was defined.
        first: String,
    },
    /// The community code is not one of the router's communities.
    UnknownCommunity {
        /// The community code given.
        community: String,
    },
    /// Longitude or latitude is not a finite number in range.
    InvalidCoordinates {
        /// The longitude, as given.
        lon: String,
        /// The latitude, as given.
        lat: String,
    },
    /// The point is outside the polygon of the community's district, by
    /// more than the registry's tolerance.
    OutsideDistrict {
        /// The community's district: name and code.
        district: String,
        /// How far outside its boundary the point is, in metres.
        metres: u64,
        /// The tolerance, in metres.
        tolerance: u32,
        /// The district the point falls in (name and code), if any.
        falls_in: Option<String>,
    },
}

impl fmt::Display for BuildingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use BuildingProblem::*;
        match self {
            EmptyCode => f.write_str("empty building code"),
            InvalidCode { limit } => write!(
                f,
                "invalid code: expected at most {limit} ASCII letters, digits, '-', '_' or '.'"
            ),
            TooLong { field, len, limit } => write!(
                f,
                "the {field} is {len} bytes, more than the limit of {limit} \
                 (an unclosed quote in the file?)"
            ),
            DuplicateCode { first } => write!(f, "duplicate code, first defined at {first}"),
            UnknownCommunity { community } => write!(f, "unknown community code '{community}'"),
            InvalidCoordinates { lon, lat } => write!(
                f,
                "invalid coordinates ({lon}, {lat}): longitude must be in -180..=180 \
                 and latitude in -90..=90"
            ),
            OutsideDistrict {
                district,
                metres,
                tolerance,
                falls_in,
            } => {
                write!(
                    f,
                    "the point is {metres} m outside {district}, the community's district \
                     (tolerance {tolerance} m)"
                )?;
                match falls_in {
                    Some(other) => write!(f, ", in {other}"),
                    None => f.write_str(", in no district"),
                }
            }
        }
    }
}

impl BuildError {
    /// What went wrong, in a form a program can match on.
    pub fn kind(&self) -> &BuildErrorKind {
        &self.kind
    }

    pub(crate) fn parse(source_name: impl Into<String>, message: impl fmt::Display) -> Self {
        BuildErrorKind::Parse {
            source_name: source_name.into(),
            message: message.to_string(),
        }
        .into()
    }
}

impl From<BuildErrorKind> for BuildError {
    fn from(kind: BuildErrorKind) -> Self {
        BuildError { kind }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use BuildErrorKind::*;
        match &self.kind {
            DuplicateCode { what, code } => write!(f, "duplicate {what} code '{code}'"),
            InvalidCode {
                what,
                code,
                expected,
            } => write!(f, "invalid {what} code '{code}': expected {expected}"),
            InvalidName { what, code, name } => write!(
                f,
                "invalid {what} name {name:?} for '{code}': expected a proper name, \
                 not empty and not only a suffix such as 街道, 区 or 社区"
            ),
            UnknownAgency { context, agency } => {
                write!(f, "{context} refers to unknown agency '{agency}'")
            }
            UnknownCategory { context, category } => {
                write!(f, "{context} refers to unknown category '{category}'")
            }
            UnknownJurisdiction { context, code } => {
                write!(f, "{context} refers to unknown jurisdiction '{code}'")
            }
            MissingHandler { category } => write!(
                f,
                "category '{category}' has no handler: every category needs one"
            ),
            ConflictingRules {
                first,
                second,
                target,
            } => write!(f, "{first} and {second} both set {target}: keep one"),
            InvalidSla { context } => write!(
                f,
                "{context}: an SLA needs exactly one of normal_hours and normal_working_days"
            ),
            InvalidHandler { context, handler } => write!(
                f,
                "{context}: cannot understand handler '{handler}' (expected street, \
                 district:<dept>, city:<dept>, center:triage or an agency code)"
            ),
            InvalidPolygon {
                jurisdiction,
                reason,
            } => write!(f, "invalid polygon for '{jurisdiction}': {reason}"),
            InvalidKeyword { category, keyword } => {
                write!(f, "invalid keyword {keyword:?} in category '{category}'")
            }
            InvalidWeight {
                category,
                keyword,
                weight,
                limit,
            } => write!(
                f,
                "keyword {keyword:?} in category '{category}' has weight {weight}, \
                 beyond the limit of ±{limit}"
            ),
            InvalidChannels { category, reason } => write!(f, "category '{category}': {reason}"),
            Model { reason } => write!(f, "the model does not fit the taxonomy: {reason}"),
            IndexLimit { reason } => write!(f, "spatial index limit exceeded: {reason}"),
            Parse {
                source_name,
                message,
            } => write!(f, "cannot parse {source_name}: {message}"),
            Automaton { message } => write!(f, "cannot build keyword automaton: {message}"),
            InvalidBuilding { at, code, problem } => {
                write!(f, "{at}: building '{code}': {problem}")
            }
        }
    }
}

impl std::error::Error for BuildError {}

/// Why one ticket could not be routed.
///
/// Returned by [`Router::route`](crate::Router::route); the ticket itself is
/// untouched, so the caller can hand it back to whoever submitted it.
///
/// # Examples
///
/// ```
/// use hotline_router::{Coordinates, Crs, Router, Ticket, TicketError};
///
/// let router = Router::beijing();
/// let mut ticket = Ticket::new("T1", "小区门口垃圾堆了三天没人清");
/// ticket.coordinates = Some(Coordinates::new(f64::NAN, 39.9, Crs::Wgs84));
/// assert!(matches!(router.route(&ticket), Err(TicketError::InvalidCoordinates { .. })));
/// ```
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TicketError {
    /// The ticket id is empty.
    #[error("ticket id is empty")]
    EmptyId,
    /// The ticket has neither text nor address: there is nothing to route on.
    #[error("ticket has no text and no address")]
    Empty,
    /// Longitude or latitude is not a finite number in range.
    #[error("invalid coordinates ({lon}, {lat}): longitude must be in -180..=180 and latitude in -90..=90")]
    InvalidCoordinates {
        /// The longitude given.
        lon: f64,
        /// The latitude given.
        lat: f64,
    },
    /// The ticket text is longer than the router accepts.
    #[error("ticket text is {len} bytes, more than the limit of {limit}")]
    TooLong {
        /// The text length in bytes.
        len: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The caller chose a category ([`Ticket::category`](crate::Ticket::category))
    /// the router's taxonomy does not have.
    #[error("unknown category {code:?}")]
    UnknownCategory {
        /// The code given.
        code: String,
    },
}
