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

use serde::{Deserialize, Serialize};

use crate::classify::{CategoryId, Classifier};
use crate::config::{RoutingConfig, RuleConfig, Sla};
use crate::error::{BuildError, BuildErrorKind};
use crate::locate::jurisdictions::{DistrictId, Jurisdictions, StreetId};

/// How urgent a ticket is.
///
/// # Examples
///
/// ```
/// use hotline_router::Priority;
///
/// assert_eq!(serde_json::to_string(&Priority::Urgent).unwrap(), "\"urgent\"");
/// assert!(Priority::Urgent > Priority::Normal);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Handled in order of arrival.
    Normal,
    /// Jumps the queue; deadlines in hours.
    Urgent,
}

impl Priority {
    /// The wire name: "urgent" or "normal".
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::Normal => "normal",
        }
    }
}

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
    code: String,
    name: String,
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
    agency: AgencyId,
    co: (u32, u32),
    urgent: bool,
    sla: Sla,
    source: RuleSource,
    fallback: Option<Fallback>,
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

/// A handler spec, parsed and checked.
#[derive(Clone, Copy, Debug)]
enum Spec {
    Street,
    DistrictDept(usize),
    Fixed(AgencyId),
}

/// Refuses a department name that would make an agency code without a
/// name part (`city:`) or one that cannot be written in a rule.
fn check_dept(agency: &str, dept: &str) -> Result<(), BuildError> {
    if dept.is_empty()
        || dept
            .chars()
            .any(|c| c == ':' || c.is_whitespace() || c.is_control())
    {
        return Err(BuildErrorKind::InvalidCode {
            what: "agency",
            code: agency.to_string(),
            expected: "a non-empty department name without ':' or white space",
        }
        .into());
    }
    Ok(())
}

fn check_sla(sla: &Sla, context: &str) -> Result<(), BuildError> {
    if sla.normal_hours.is_some() == sla.normal_working_days.is_some() {
        return Err(BuildErrorKind::InvalidSla {
            context: context.to_string(),
        }
        .into());
    }
    Ok(())
}

/// A rule's lead and co-handler specs; `None` keeps the category's.
type ParsedRule = (Option<Spec>, Option<Vec<Spec>>);

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
    /// The agency list implied by the configuration, and the compiled table.
    ///
    /// # Errors
    ///
    /// An unknown or malformed handler, agency, category, district or street;
    /// a category without handler; two rules for the same place; a street
    /// matter with no `gov` department to fall back to — each naming the
    /// rule or category.
    pub fn new(
        routing: &RoutingConfig,
        classifier: &Classifier,
        jurisdictions: &Jurisdictions,
    ) -> Result<RuleSet, BuildError> {
        let mut rs = RuleSet {
            agencies: Vec::new(),
            by_code: HashMap::new(),
            rule_notes: routing.rules.iter().map(|r| r.note.clone()).collect(),
            cells: Vec::new(),
            co: Vec::new(),
            levels: 1 + jurisdictions.districts().len() + jurisdictions.streets().len(),
            districts: jurisdictions.districts().len(),
            district_base: 0,
            dept_count: routing.district_departments.len(),
            street_base: 0,
            gov: None,
        };
        rs.add_agency("center:triage".into(), routing.triage_name.clone())?;
        for dept in routing.district_departments.keys() {
            check_dept(&format!("district:<code>:{dept}"), dept)?;
        }
        for (dept, name) in &routing.city_agencies {
            check_dept(&format!("city:{dept}"), dept)?;
            rs.add_agency(format!("city:{dept}"), name.clone())?;
        }
        let depts: Vec<&String> = routing.district_departments.keys().collect();
        rs.district_base = rs.agencies.len();
        for (_, d) in jurisdictions.districts() {
            for (dept, name) in &routing.district_departments {
                rs.add_agency(
                    format!("district:{}:{dept}", d.code()),
                    format!("{}{name}", d.name()),
                )?;
            }
        }
        rs.street_base = rs.agencies.len();
        for (_, s) in jurisdictions.streets() {
            rs.add_agency(format!("street:{}", s.code()), s.name().to_string())?;
        }
        let gov = depts.iter().position(|d| d.as_str() == "gov");
        rs.gov = gov;
        check_sla(&routing.default_sla, "default_sla")?;

        // Category handlers.
        let mut handlers: Vec<(Spec, Vec<Spec>, Sla)> = Vec::new();
        for (code, _) in routing.handlers.iter() {
            if classifier.category_id(code).is_none() {
                return Err(BuildErrorKind::UnknownCategory {
                    context: format!("[handler.\"{code}\"]"),
                    category: code.clone(),
                }
                .into());
            }
        }
        for (_, category) in classifier.categories() {
            let h = routing.handlers.get(category.code()).ok_or_else(|| {
                BuildError::from(BuildErrorKind::MissingHandler {
                    category: category.code().to_string(),
                })
            })?;
            let context = format!("[handler.\"{}\"]", category.code());
            let lead = rs.parse_spec(&h.handler, &context, &depts)?;
            let co =
                h.co.iter()
                    .map(|c| rs.parse_spec(c, &context, &depts))
                    .collect::<Result<Vec<_>, _>>()?;
            if let Some(sla) = &h.sla {
                check_sla(sla, &context)?;
            }
            handlers.push((lead, co, h.sla.unwrap_or(routing.default_sla)));
        }

        // Rules, indexed by (category, place).
        let mut district_rules: HashMap<(CategoryId, DistrictId), usize> = HashMap::new();
        let mut street_rules: HashMap<(CategoryId, StreetId), usize> = HashMap::new();
        let mut parsed: Vec<ParsedRule> = Vec::new();
        for (i, rule) in routing.rules.iter().enumerate() {
            let context = format!("rule {i}");
            parsed.push(rs.parse_rule(rule, &context, &depts)?);
            if let Some(sla) = &rule.sla {
                check_sla(sla, &context)?;
            }
            if rule.categories.is_empty() {
                return Err(BuildErrorKind::UnknownCategory {
                    context,
                    category: String::new(),
                }
                .into());
            }
            let place = match (&rule.district, &rule.street) {
                (Some(d), None) => jurisdictions.district_id(d).map(Ok).ok_or(d),
                (None, Some(s)) => jurisdictions.street_id(s).map(Err).ok_or(s),
                _ => {
                    return Err(BuildErrorKind::InvalidHandler {
                        context,
                        handler: "a rule needs exactly one of `district` and `street`".into(),
                    }
                    .into())
                }
            }
            .map_err(|code| {
                BuildError::from(BuildErrorKind::UnknownJurisdiction {
                    context: context.clone(),
                    code: code.clone(),
                })
            })?;
            for code in &rule.categories {
                let c = classifier.category_id(code).ok_or_else(|| {
                    BuildError::from(BuildErrorKind::UnknownCategory {
                        context: context.clone(),
                        category: code.clone(),
                    })
                })?;
                let (previous, target) = match place {
                    Ok(d) => (
                        district_rules.insert((c, d), i),
                        format!("{code} @ district {}", jurisdictions.district(d).code()),
                    ),
                    Err(s) => (
                        street_rules.insert((c, s), i),
                        format!("{code} @ street {}", jurisdictions.street(s).code()),
                    ),
                };
                // A category listed twice in one rule is the same rule, not a conflict.
                if let Some(p) = previous.filter(|p| *p != i) {
                    return Err(BuildErrorKind::ConflictingRules {
                        first: format!("rule {p}"),
                        second: context,
                        target,
                    }
                    .into());
                }
            }
        }

        // Compile every cell.
        let street_district: Vec<DistrictId> =
            jurisdictions.streets().map(|(_, s)| s.district()).collect();
        for (c, _) in classifier.categories() {
            let (lead, co, sla) = &handlers[c.as_usize()];
            for level in 0..rs.levels {
                let (district, street) = rs.level_place(level, &street_district);
                let rule = street
                    .and_then(|s| street_rules.get(&(c, s)))
                    .or_else(|| district.and_then(|d| district_rules.get(&(c, d))))
                    .copied();
                let (lead, co, sla, urgent, source) = match rule {
                    None => (*lead, co.as_slice(), *sla, false, RuleSource::Handler),
                    Some(i) => {
                        let r = &routing.rules[i];
                        (
                            parsed[i].0.unwrap_or(*lead),
                            parsed[i].1.as_deref().unwrap_or(co),
                            r.sla.unwrap_or(*sla),
                            r.priority == Some(Priority::Urgent),
                            RuleSource::Rule(i as u32),
                        )
                    }
                };
                let context = || match source {
                    RuleSource::Handler => {
                        format!("[handler.\"{}\"]", classifier.category(c).code())
                    }
                    RuleSource::Rule(i) => format!("rule {i}"),
                };
                let (agency, fallback) = rs.resolve(lead, district, street, gov, &context)?;
                let start = rs.co.len() as u32;
                for spec in co {
                    let (a, _) = rs.resolve(*spec, district, street, gov, &context)?;
                    // A co-handler that fell back onto the lead (or repeats) adds nothing.
                    if a != agency && !rs.co[start as usize..].contains(&a) {
                        rs.co.push(a);
                    }
                }
                rs.cells.push(Assignment {
                    agency,
                    co: (start, rs.co.len() as u32),
                    urgent,
                    sla,
                    source,
                    fallback,
                });
            }
        }
        Ok(rs)
    }

    fn add_agency(&mut self, code: String, name: String) -> Result<(), BuildError> {
        let id = AgencyId(self.agencies.len() as u32);
        if self.by_code.insert(code.clone(), id).is_some() {
            return Err(BuildErrorKind::DuplicateCode {
                what: "agency",
                code,
            }
            .into());
        }
        self.agencies.push(Agency { code, name });
        Ok(())
    }

    fn parse_spec(&self, spec: &str, context: &str, depts: &[&String]) -> Result<Spec, BuildError> {
        if spec == "street" {
            return Ok(Spec::Street);
        }
        if let Some(dept) = spec.strip_prefix("district:").filter(|d| !d.contains(':')) {
            return depts
                .iter()
                .position(|d| d.as_str() == dept)
                .map(Spec::DistrictDept)
                .ok_or_else(|| {
                    BuildErrorKind::UnknownAgency {
                        context: context.to_string(),
                        agency: spec.to_string(),
                    }
                    .into()
                });
        }
        if !["street:", "district:", "city:", "center:"]
            .iter()
            .any(|p| spec.starts_with(p))
        {
            return Err(BuildErrorKind::InvalidHandler {
                context: context.to_string(),
                handler: spec.to_string(),
            }
            .into());
        }
        self.agency_id(spec).map(Spec::Fixed).ok_or_else(|| {
            BuildErrorKind::UnknownAgency {
                context: context.to_string(),
                agency: spec.to_string(),
            }
            .into()
        })
    }

    fn parse_rule(
        &self,
        rule: &RuleConfig,
        context: &str,
        depts: &[&String],
    ) -> Result<ParsedRule, BuildError> {
        let lead = rule
            .agency
            .as_deref()
            .map(|a| self.parse_spec(a, context, depts))
            .transpose()?;
        let co = rule
            .co_agencies
            .as_ref()
            .map(|list| {
                list.iter()
                    .map(|a| self.parse_spec(a, context, depts))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok((lead, co))
    }

    fn level_place(
        &self,
        level: usize,
        street_district: &[DistrictId],
    ) -> (Option<DistrictId>, Option<StreetId>) {
        if level == 0 {
            (None, None)
        } else if level <= self.districts {
            (Some(DistrictId(level as u32 - 1)), None)
        } else {
            let s = (level - 1 - self.districts) as u32;
            (Some(street_district[s as usize]), Some(StreetId(s)))
        }
    }

    fn resolve(
        &self,
        spec: Spec,
        district: Option<DistrictId>,
        street: Option<StreetId>,
        gov: Option<usize>,
        context: &dyn Fn() -> String,
    ) -> Result<(AgencyId, Option<Fallback>), BuildError> {
        let district_dept = |d: DistrictId, k: usize| {
            AgencyId((self.district_base + d.as_usize() * self.dept_count + k) as u32)
        };
        let triage = (AgencyId(0), Some(Fallback::DistrictUnknown));
        Ok(match spec {
            Spec::Fixed(a) => (a, None),
            Spec::Street => match (street, district) {
                (Some(s), _) => (self.street_agency(s), None),
                (None, Some(d)) => {
                    let gov = gov.ok_or_else(|| {
                        BuildError::from(BuildErrorKind::UnknownAgency {
                            context: format!(
                                "{}: a street matter whose street is unknown falls back to the district gov office, so",
                                context()
                            ),
                            agency: "district:<code>:gov".into(),
                        })
                    })?;
                    (district_dept(d, gov), Some(Fallback::StreetUnknown))
                }
                (None, None) => triage,
            },
            Spec::DistrictDept(k) => match district {
                Some(d) => (district_dept(d, k), None),
                None => triage,
            },
        })
    }

    fn street_agency(&self, s: StreetId) -> AgencyId {
        AgencyId((self.street_base + s.as_usize()) as u32)
    }

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
