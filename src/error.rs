//! Errors: configuration problems found when a router is built, and ticket
//! problems found when a ticket is routed.
//!
//! A [`BuildError`] always names the offending item (a category code, an
//! agency code, a jurisdiction, a file and line), so that a broken rule table
//! is fixed from the message alone. A [`TicketError`] says what was wrong with
//! one ticket; the router never panics on bad input and never drops a ticket
//! silently.

use std::error::Error;
use std::sync::Arc;

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
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
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
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildErrorKind {
    /// The same code was defined twice (`what` is "category", "agency",
    /// "district", "street", "community" or "jurisdiction").
    #[error("duplicate {what} code '{code}'")]
    DuplicateCode {
        /// What kind of item carries the code.
        what: &'static str,
        /// The repeated code.
        code: String,
    },
    /// A code does not have the shape its kind requires.
    #[error("invalid {what} code '{code}': expected {expected}")]
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
    #[error("invalid {what} name {name:?} for '{code}': expected a proper name, not empty and not only a suffix such as 街道, 区 or 社区")]
    InvalidName {
        /// "district", "street" or "community".
        what: &'static str,
        /// The jurisdiction's code.
        code: String,
        /// The name given.
        name: String,
    },
    /// Something refers to an agency that is not defined.
    #[error("{context} refers to unknown agency '{agency}'")]
    UnknownAgency {
        /// Where the reference was found, e.g. "rule 3 (heating @ 110105)".
        context: String,
        /// The agency code that is not defined.
        agency: String,
    },
    /// Something refers to a category that is not in the taxonomy.
    #[error("{context} refers to unknown category '{category}'")]
    UnknownCategory {
        /// Where the reference was found.
        context: String,
        /// The unknown category code.
        category: String,
    },
    /// Something refers to a district, street or community that is not defined.
    #[error("{context} refers to unknown jurisdiction '{code}'")]
    UnknownJurisdiction {
        /// Where the reference was found.
        context: String,
        /// The unknown jurisdiction code.
        code: String,
    },
    /// A category has no handler, so tickets of that category could not be routed.
    #[error("category '{category}' has no handler: every category needs one")]
    MissingHandler {
        /// The category without a handler.
        category: String,
    },
    /// Two rules set the same category at the same district or street.
    #[error("{first} and {second} both set {target}: keep one")]
    ConflictingRules {
        /// The earlier rule, e.g. "rule 3".
        first: String,
        /// The later rule.
        second: String,
        /// What they both set, e.g. "heating @ street 110105003".
        target: String,
    },
    /// An SLA that does not say how long a normal ticket may take, or says it twice.
    #[error("{context}: an SLA needs exactly one of normal_hours and normal_working_days")]
    InvalidSla {
        /// Where the SLA was found.
        context: String,
    },
    /// A rule sets `priority = "normal"`: rules can raise a ticket to
    /// urgent, never lower one whose words are urgent (a gas leak stays
    /// urgent whatever the place), so the setting could only mislead.
    #[error(
        "{context}: priority = \"normal\" cannot be forced: a rule can raise a ticket to \
         urgent but never lower one whose words are urgent (leave priority out)"
    )]
    NormalPriorityRule {
        /// The rule (`rule <index>`).
        context: String,
    },
    /// A handler specification could not be understood.
    #[error("{context}: cannot understand handler '{handler}' (expected street, district:<dept>, city:<dept>, center:triage or an agency code)")]
    InvalidHandler {
        /// Where the handler was found.
        context: String,
        /// The handler text.
        handler: String,
    },
    /// A polygon is unusable (too few vertices, non-finite coordinates …).
    #[error("invalid polygon for '{jurisdiction}': {reason}")]
    InvalidPolygon {
        /// The jurisdiction the polygon belongs to.
        jurisdiction: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A keyword is unusable (empty, or only white space).
    #[error("invalid keyword {keyword:?} in category '{category}'")]
    InvalidKeyword {
        /// The category the keyword belongs to.
        category: String,
        /// The keyword.
        keyword: String,
    },
    /// A keyword weight beyond the limit (which keeps scores from
    /// overflowing).
    #[error("keyword {keyword:?} in category '{category}' has weight {weight}, beyond the limit of ±{limit}")]
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
    #[error("category '{category}': {reason}")]
    InvalidChannels {
        /// The category.
        category: String,
        /// What is wrong.
        reason: String,
    },
    /// A trained model does not fit the taxonomy (a label that is not a
    /// category code).
    #[error("the model does not fit the taxonomy: {reason}")]
    Model {
        /// What does not fit.
        reason: String,
    },
    /// The spatial index could not meet one of its limits.
    #[error("spatial index limit exceeded: {reason}")]
    IndexLimit {
        /// Which limit was exceeded and by what.
        reason: String,
    },
    /// A configuration file could not be parsed.
    #[error("cannot parse {source_name}: {message}")]
    Parse {
        /// Which file (or "embedded …") it was.
        source_name: String,
        /// The parser's message, with line and column where known.
        message: String,
        /// The parser's own error, when a parser (TOML, JSON, CSV, jiff)
        /// found the problem: [`std::error::Error::source`] of the
        /// [`BuildError`]. `None` for a problem found after parsing.
        source: Option<ParseSource>,
    },
    /// The keyword automaton could not be built.
    #[error("cannot build keyword automaton: {message}")]
    Automaton {
        /// The automaton builder's message.
        message: String,
    },
    /// A building of the registry (一楼一码) is unusable.
    #[error("{at}: building '{code}': {problem}")]
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
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildingProblem {
    /// The code is empty.
    #[error("empty building code")]
    EmptyCode,
    /// The code has characters other than ASCII letters, digits, `-`, `_`
    /// and `.`, or is longer than the limit (it goes into a QR code's URL
    /// as it is).
    #[error("invalid code: expected at most {limit} ASCII letters, digits, '-', '_' or '.'")]
    InvalidCode {
        /// The longest code allowed, in bytes.
        limit: usize,
    },
    /// The name or the address is longer than the limit (in a CSV file,
    /// often an unclosed quote that swallowed the lines after it).
    #[error("the {field} is {len} bytes, more than the limit of {limit} (an unclosed quote in the file?)")]
    TooLong {
        /// `name` or `address`.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// Another building has the same code.
    #[error("duplicate code, first defined at {first}")]
    DuplicateCode {
        /// Where the first one was defined.
        first: String,
    },
    /// The community code is not one of the router's communities.
    #[error("unknown community code '{community}'")]
    UnknownCommunity {
        /// The community code given.
        community: String,
    },
    /// Longitude or latitude is not a finite number in range.
    #[error("invalid coordinates ({lon}, {lat}): longitude must be in -180..=180 and latitude in -90..=90")]
    InvalidCoordinates {
        /// The longitude, as given.
        lon: String,
        /// The latitude, as given.
        lat: String,
    },
    /// The point is outside the polygon of the community's district, by
    /// more than the registry's tolerance.
    #[error("the point is {metres} m outside {district}, the community's district (tolerance {tolerance} m), in {}", .falls_in.as_deref().unwrap_or("no district"))]
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

impl BuildError {
    /// What went wrong, in a form a program can match on.
    pub fn kind(&self) -> &BuildErrorKind {
        &self.kind
    }

    /// A [`BuildErrorKind::Parse`] of `source_name`: `cause` is a parser's
    /// error (kept as the source) or a message.
    pub(crate) fn parse(source_name: impl Into<String>, cause: impl ParseCause) -> Self {
        let (message, source) = cause.into_parts();
        BuildErrorKind::Parse {
            source_name: source_name.into(),
            message,
            source,
        }
        .into()
    }
}

impl From<BuildErrorKind> for BuildError {
    fn from(kind: BuildErrorKind) -> Self {
        BuildError { kind }
    }
}

/// A parser's own error (TOML, JSON, CSV, jiff), kept whole as the source
/// of a [`BuildErrorKind::Parse`].
///
/// It displays as the parser's error and passes its source on; [`get`]
/// gives the parser's error itself, to downcast. Two are equal when their
/// messages are.
///
/// [`get`]: ParseSource::get
///
/// # Examples
///
/// ```
/// use std::error::Error;
/// use hotline_router::TaxonomyConfig;
///
/// let err = TaxonomyConfig::from_toml("[[category]]\ncode = 3", "t.toml").unwrap_err();
/// let source = err.source().expect("the TOML parser's error");
/// assert!(err.to_string().ends_with(&source.to_string()));
/// ```
#[derive(Clone, Debug, thiserror::Error)]
#[error(transparent)]
pub struct ParseSource(Arc<dyn Error + Send + Sync + 'static>);

impl ParseSource {
    /// Keeps a parser's error.
    pub fn new(error: impl Error + Send + Sync + 'static) -> Self {
        ParseSource(Arc::new(error))
    }

    /// The parser's error, e.g. to
    /// [`downcast_ref`](https://doc.rust-lang.org/std/error/trait.Error.html#method.downcast_ref)
    /// to `toml::de::Error`.
    pub fn get(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl PartialEq for ParseSource {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

impl Eq for ParseSource {}

/// What a [`BuildError::parse`] is made from: a parser's error, kept as the
/// source, or a message for a problem found after parsing.
pub(crate) trait ParseCause {
    /// The message, and the source if there is one.
    fn into_parts(self) -> (String, Option<ParseSource>);
}

impl ParseCause for String {
    fn into_parts(self) -> (String, Option<ParseSource>) {
        (self, None)
    }
}

impl ParseCause for &str {
    fn into_parts(self) -> (String, Option<ParseSource>) {
        (self.to_string(), None)
    }
}

macro_rules! parser_errors {
    ($($error:ty),*) => {$(
        impl ParseCause for $error {
            fn into_parts(self) -> (String, Option<ParseSource>) {
                (self.to_string(), Some(ParseSource::new(self)))
            }
        }
    )*};
}

parser_errors!(toml::de::Error, serde_json::Error, csv::Error, jiff::Error);

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
