//! The rule set's value types: agencies and their ids, and the compiled
//! assignment of one cell with where it came from.

use super::config::Sla;

/// Index of an agency in a router's agency list.
///
/// # Examples
///
/// ```
/// use hotline_router::Router;
///
/// let router = Router::beijing();
/// let id = router.rules().agency_id("city:exit_entry").unwrap();
/// assert_eq!(router.rules().agency(id).code(), "city:exit_entry");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct AgencyId(pub(crate) u32);

impl AgencyId {
    /// The index as a `usize`, for dense tables.
    pub fn as_usize(self) -> usize {
        self.0 as usize
    }
}

/// An agency that handles tickets.
///
/// # Examples
///
/// ```
/// use hotline_router::Router;
///
/// let router = Router::beijing();
/// let a = router.rules().agency(router.rules().agency_id("district:110105:housing").unwrap());
/// assert_eq!(a.name(), "朝阳区住房和城乡建设委员会");
/// ```
#[derive(Clone, Debug)]
pub struct Agency {
    pub(super) code: String,
    pub(super) name: String,
}

impl Agency {
    /// The stable code (`street:110105003`, `district:110105:housing`,
    /// `city:exit_entry`, `center:triage`).
    pub fn code(&self) -> &str {
        &self.code
    }
    /// A human-readable name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Where an assignment came from.
///
/// # Examples
///
/// ```
/// use hotline_router::{RuleSource, Router};
///
/// let router = Router::beijing();
/// let heating = router.category_id("heating").unwrap();
/// let a = router.rules().assignment(heating, None, None);
/// assert_eq!(a.source(), RuleSource::Handler);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleSource {
    /// The category's default handler.
    Handler,
    /// An override rule, by its index in the configuration.
    Rule(u32),
}

/// Why a ticket went to a fallback agency.
///
/// # Examples
///
/// ```
/// use hotline_router::{Fallback, Router};
///
/// let router = Router::beijing();
/// let noise = router.category_id("env.noise").unwrap();
/// let a = router.rules().assignment(noise, None, None);
/// assert_eq!(a.fallback(), Some(Fallback::DistrictUnknown));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fallback {
    /// A street-office matter with no known street: the district `gov` office.
    StreetUnknown,
    /// A local matter with no known district: human triage.
    DistrictUnknown,
}

/// The compiled outcome for one category at one location level.
///
/// # Examples
///
/// ```
/// use hotline_router::Router;
///
/// let router = Router::beijing();
/// let j = router.jurisdictions();
/// let noise = router.category_id("env.noise").unwrap();
/// let street = j.street_id("110105003").unwrap();
/// let a = router.rules().assignment(noise, Some(j.street(street).district()), Some(street));
/// assert_eq!(router.rules().agency(a.agency()).code(), "street:110105003");
/// ```
#[derive(Clone, Debug)]
pub struct Assignment {
    pub(super) agency: AgencyId,
    pub(super) co: (u32, u32),
    pub(super) urgent: bool,
    pub(super) sla: Sla,
    pub(super) source: RuleSource,
    pub(super) fallback: Option<Fallback>,
}

impl Assignment {
    /// The lead agency.
    pub fn agency(&self) -> AgencyId {
        self.agency
    }
    /// Whether the rule raises every ticket to urgent.
    pub fn forces_urgent(&self) -> bool {
        self.urgent
    }
    /// The SLA that applies.
    pub fn sla(&self) -> Sla {
        self.sla
    }
    /// The handler or rule it came from.
    pub fn source(&self) -> RuleSource {
        self.source
    }
    /// The fallback taken, if any.
    pub fn fallback(&self) -> Option<Fallback> {
        self.fallback
    }
}
