//! Compiling a [`RoutingConfig`] into a [`RuleSet`]: the agency list, the
//! handler specs, the override rules and every cell, each checked.

use std::collections::HashMap;

use super::config::{RoutingConfig, RuleConfig, Sla};
use super::{Agency, AgencyId, Assignment, Fallback, Priority, RuleSet, RuleSource};
use crate::classify::{CategoryId, Classifier};
use crate::error::{BuildError, BuildErrorKind};
use crate::locate::jurisdictions::{DistrictId, Jurisdictions, StreetId};

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
            if rule.priority == Some(Priority::Normal) {
                return Err(BuildErrorKind::NormalPriorityRule { context }.into());
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
}
