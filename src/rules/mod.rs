//! Rules: category × jurisdiction → agency, co-handlers, priority, SLA.
//!
//! Rules are compiled once into a dense table with one cell per category
//! and per *location level*: nothing known, each district (street unknown),
//! each street. Routing a ticket is then one array index; every cell was
//! resolved, fallbacks included, and checked against the agency list when
//! the rule set was built — so a ticket can never reach an agency that does
//! not exist, and a configuration error never waits for a ticket to hit it.
//!
//! Precedence: a street rule beats a district rule, which beats the
//! category's handler. Two rules for the same category at the same place
//! are a build error: which one wins would otherwise depend on file order.
//!
//! Fallbacks, from the domain brief: a street-office matter whose street is
//! unknown goes to the district's `gov` office; a street or district matter
//! whose district is unknown goes to `center:triage`; municipal (`city:`)
//! matters need no location.

use std::collections::HashMap;

use crate::classify::CategoryId;
use crate::locate::jurisdictions::{DistrictId, StreetId};

mod build;
pub(crate) mod config;
mod types;

pub use self::types::{Agency, AgencyId, Assignment, Fallback, RuleSource};
pub use crate::priority::Priority;

/// The compiled rule table and the agency list.
///
/// # Examples
///
/// ```
/// use hotline_router::{Classifier, Jurisdictions, RouterConfig, RuleSet};
///
/// let config = RouterConfig::beijing();
/// let classifier = Classifier::new(&config.taxonomy, "other").unwrap();
/// let j = Jurisdictions::new(&config.jurisdictions).unwrap();
/// let rules = RuleSet::new(&config.routing, &classifier, &j).unwrap();
/// // 349 streets + 16 districts × 25 departments + 12 municipal bodies + triage.
/// assert_eq!(rules.agencies().count(), 349 + 16 * 26 + 13 + 1);
/// ```
#[derive(Clone, Debug)]
pub struct RuleSet {
    agencies: Vec<Agency>,
    by_code: HashMap<String, AgencyId>,
    rule_notes: Vec<Option<String>>,
    /// cells[category * levels + level]; level 0 = nowhere, 1 + d = district d,
    /// 1 + districts + s = street s.
    cells: Vec<Assignment>,
    co: Vec<AgencyId>,
    levels: usize,
    districts: usize,
    /// Agencies are laid out as: triage, city bodies, district × department
    /// (district-major), streets — so a place's agency is arithmetic.
    district_base: usize,
    dept_count: usize,
    street_base: usize,
    /// The `gov` department's index, where unplaced street matters and
    /// returned tickets fall back to.
    gov: Option<usize>,
}

impl RuleSet {
    /// The assignment for a category at a place. `street`, when given, must
    /// lie in `district` (the locator guarantees it); the street decides.
    pub fn assignment(
        &self,
        category: CategoryId,
        district: Option<DistrictId>,
        street: Option<StreetId>,
    ) -> &Assignment {
        let level = match (street, district) {
            (Some(s), _) => 1 + self.districts + s.as_usize(),
            (None, Some(d)) => 1 + d.as_usize(),
            (None, None) => 0,
        };
        &self.cells[category.as_usize() * self.levels + level]
    }

    /// The co-handlers of an assignment.
    pub fn co_agencies(&self, a: &Assignment) -> &[AgencyId] {
        &self.co[a.co.0 as usize..a.co.1 as usize]
    }

    /// The agency with this id.
    ///
    /// # Panics
    ///
    /// If the id is not from this rule set.
    pub fn agency(&self, id: AgencyId) -> &Agency {
        &self.agencies[id.as_usize()]
    }

    /// The agency with this code.
    pub fn agency_id(&self, code: &str) -> Option<AgencyId> {
        self.by_code.get(code).copied()
    }

    /// Every agency.
    pub fn agencies(&self) -> impl ExactSizeIterator<Item = (AgencyId, &Agency)> {
        self.agencies
            .iter()
            .enumerate()
            .map(|(i, a)| (AgencyId(i as u32), a))
    }

    /// Human triage (`center:triage`): where a ticket goes when nothing
    /// else takes it.
    pub fn triage(&self) -> AgencyId {
        AgencyId(0)
    }

    /// The agencies a ticket falls back to, in order, once its handlers
    /// (lead and co-handlers) have refused it: the district's `gov` office
    /// when the district is known and the rules have a `gov` department,
    /// then [`triage`](Self::triage).
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::Router;
    ///
    /// let router = Router::beijing();
    /// let (rules, j) = (router.rules(), router.jurisdictions());
    /// let (chaoyang, _) = j.districts().find(|(_, d)| d.code() == "110105").unwrap();
    /// let codes: Vec<&str> = rules.fallbacks_for(Some(chaoyang)).map(|a| rules.agency(a).code()).collect();
    /// assert_eq!(codes, ["district:110105:gov", "center:triage"]);
    /// let codes: Vec<&str> = rules.fallbacks_for(None).map(|a| rules.agency(a).code()).collect();
    /// assert_eq!(codes, ["center:triage"]);
    /// ```
    pub fn fallbacks_for(
        &self,
        district: Option<DistrictId>,
    ) -> impl Iterator<Item = AgencyId> + '_ {
        let gov = district
            .zip(self.gov)
            .filter(|(d, _)| d.as_usize() < self.districts)
            .map(|(d, k)| {
                AgencyId((self.district_base + d.as_usize() * self.dept_count + k) as u32)
            });
        gov.into_iter().chain(std::iter::once(self.triage()))
    }

    /// The note of override rule `i`, if it has one.
    pub fn rule_note(&self, i: u32) -> Option<&str> {
        self.rule_notes.get(i as usize).and_then(|n| n.as_deref())
    }
}

#[cfg(test)]
mod tests;
