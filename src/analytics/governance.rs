//! 治理类街乡镇: the streets and townships that need systematic governance.
//!
//! Each month Beijing names the streets where citizens call most, and
//! where calls are handled worst, for a focused clean-up. [`Governance`]
//! counts a month's tickets per street and, given the dispatcher's
//! records, their 三率 (response, resolution, satisfaction: see
//! [`Rates`]), and lists the streets by these rules:
//!
//! 1. **Ranked by volume per 10,000 residents** when a [`Population`]
//!    table is given (`street_code,population`): a street of 150,000
//!    people should not head the list for having more residents. Streets
//!    missing from the table are left out of that ranking and counted.
//!    Without a table, by **volume**. The crate ships no per-street
//!    population (the census publishes districts only, and splitting a
//!    district evenly over its streets would rank the wrong streets), so
//!    the default is volume. Ties: more tickets, then the street code.
//! 2. **The list is the first [`top`](GovernanceConfig::top)** (10).
//! 3. **Flags**: a street with at least
//!    [`min_evaluated`](GovernanceConfig::min_evaluated) call-backs whose
//!    response, resolution or satisfaction rate is below its threshold
//!    (95%, 80%, 80%) is flagged for it; flagged streets outside the list
//!    are listed separately, busiest first, so a small street handled
//!    badly is not missed.
//! 4. **Last month's rank** is shown beside each street: a street that
//!    stays on the list month after month is the one to act on.
//!
//! Memory: one counter per street per month, and the [`RateTable`]s.
//!
//! # Examples
//!
//! ```
//! use hotline_router::analytics::governance::{Governance, Population, RankedBy};
//! use hotline_router::{Router, Ticket};
//!
//! let router = Router::beijing();
//! // 学院路 has twice the residents of 德胜 (illustrative numbers).
//! let population = Population::from_csv("street_code,population\n110108010,200000\n110102010,100000\n", &router)?;
//! let mut g = Governance::new(&router).population(population);
//! for (i, address) in ["海淀区学院路街道", "海淀区学院路街道", "海淀区学院路街道", "西城区德胜街道", "西城区德胜街道"].iter().enumerate() {
//!     let t = Ticket::new(format!("T{i}"), "垃圾没人清运")
//!         .with_address(*address)
//!         .with_received_at("2024-11-05T09:00:00+08:00".parse()?);
//!     g.add(&t, &router.route(&t)?);
//! }
//! let list = g.list("2024-11".parse()?);
//! assert_eq!(list.ranked_by, RankedBy::PerCapita);
//! // 德胜: 2 per 100,000 = 0.2 per 10,000; 学院路: 3 per 200,000 = 0.15.
//! assert_eq!(list.rows[0].name, "德胜街道");
//! assert_eq!(list.rows[0].per_10k, Some(0.2));
//! assert_eq!(list.rows[1].volume, 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use super::Month;
use crate::dispatch::TicketRecord;
use crate::evaluate::{GroupBy, RateTable, Rates};
use crate::{Decision, Router, Ticket};

/// Residents per street: the optional table that turns volume into volume
/// per 10,000 residents.
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::governance::Population;
/// use hotline_router::Router;
///
/// let router = Router::beijing();
/// let p = Population::from_csv("street_code,population\n110105003,52000\n", &router)?;
/// assert_eq!(p.get("110105003"), Some(52_000));
/// let err = Population::from_csv("street_code,population\n110105999,5\n", &router).unwrap_err();
/// assert_eq!(err.to_string(), "population table line 2: 110105999 is not a street code of the router");
/// # Ok::<(), hotline_router::analytics::governance::PopulationError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Population {
    by_street: foldhash::HashMap<String, u32>,
}

/// Why a population table was refused.
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::governance::Population;
///
/// let err = Population::from_csv("street_code,population\n110105003,many\n", &hotline_router::Router::beijing()).unwrap_err();
/// assert_eq!(err.line, 2);
/// assert!(err.to_string().contains("'many' is not a whole number"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("population table line {line}: {reason}")]
pub struct PopulationError {
    /// The line, from 1 (the header).
    pub line: u64,
    /// What is wrong with it.
    pub reason: String,
}

impl Population {
    /// Reads a CSV table `street_code,population` with a header line,
    /// checking every code against the router's streets.
    ///
    /// # Errors
    ///
    /// A [`PopulationError`] naming the line: a malformed row, a population
    /// that is not a positive whole number, a code that is not a street of
    /// the router, or a street listed twice.
    pub fn from_csv(text: &str, router: &Router) -> Result<Population, PopulationError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut by_street = foldhash::HashMap::default();
        for row in reader.records() {
            let row = row.map_err(|e| PopulationError {
                line: e.position().map_or(0, |p| p.line()),
                reason: e.to_string(),
            })?;
            let line = row.position().map_or(0, |p| p.line());
            let fail = |reason: String| PopulationError { line, reason };
            let (Some(code), Some(value), None) = (row.get(0), row.get(1), row.get(2)) else {
                return Err(fail(format!(
                    "expected 2 fields street_code,population, found {}",
                    row.len()
                )));
            };
            let people: u32 = value.parse().ok().filter(|&p| p > 0).ok_or_else(|| {
                fail(format!(
                    "'{value}' is not a whole number of residents above 0"
                ))
            })?;
            if router.jurisdictions().street_id(code).is_none() {
                return Err(fail(format!("{code} is not a street code of the router")));
            }
            if by_street.insert(code.to_string(), people).is_some() {
                return Err(fail(format!("street {code} is listed twice")));
            }
        }
        Ok(Population { by_street })
    }

    /// The residents of a street, if listed.
    pub fn get(&self, street_code: &str) -> Option<u32> {
        self.by_street.get(street_code).copied()
    }

    /// How many streets are listed.
    pub fn len(&self) -> usize {
        self.by_street.len()
    }

    /// Whether no street is listed.
    pub fn is_empty(&self) -> bool {
        self.by_street.is_empty()
    }
}

/// The thresholds of the 治理类 list.
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::governance::{Governance, GovernanceConfig};
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// // A list of one: only the busiest street.
/// let config = GovernanceConfig { top: 1, ..GovernanceConfig::default() };
/// let mut g = Governance::with_config(&router, config);
/// for (id, address) in [("T1", "朝阳区呼家楼街道"), ("T2", "朝阳区呼家楼街道"), ("T3", "西城区德胜街道")] {
///     let t = Ticket::new(id, "垃圾没人清运")
///         .with_address(address)
///         .with_received_at("2024-11-05T09:00:00+08:00".parse()?);
///     g.add(&t, &router.route(&t)?);
/// }
/// let list = g.list("2024-11".parse()?);
/// assert_eq!(list.streets_with_tickets, 2);
/// assert_eq!(list.rows.len(), 1);
/// assert_eq!(list.rows[0].name, "呼家楼街道");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GovernanceConfig {
    /// Streets on the list (10).
    pub top: usize,
    /// Call-backs a street needs before its rates can flag it (10).
    pub min_evaluated: u64,
    /// Response rate below which a street is flagged (0.95).
    pub response: f64,
    /// Resolution rate below which a street is flagged (0.80).
    pub resolution: f64,
    /// Satisfaction rate below which a street is flagged (0.80).
    pub satisfaction: f64,
}

impl Default for GovernanceConfig {
    fn default() -> Self {
        GovernanceConfig {
            top: 10,
            min_evaluated: 10,
            response: 0.95,
            resolution: 0.80,
            satisfaction: 0.80,
        }
    }
}

/// Why a street is flagged.
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::governance::Flag;
///
/// assert_eq!(Flag::LowSatisfaction.label(), "满意率低");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Flag {
    /// Response rate below the threshold.
    LowResponse,
    /// Resolution rate below the threshold.
    LowResolution,
    /// Satisfaction rate below the threshold.
    LowSatisfaction,
}

impl Flag {
    /// The flag as the report shows it.
    pub fn label(self) -> &'static str {
        match self {
            Flag::LowResponse => "响应率低",
            Flag::LowResolution => "解决率低",
            Flag::LowSatisfaction => "满意率低",
        }
    }
}

/// What the list is ranked by.
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::governance::RankedBy;
///
/// assert_ne!(RankedBy::PerCapita, RankedBy::Volume);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankedBy {
    /// Tickets per 10,000 residents (a population table was given).
    PerCapita,
    /// Tickets.
    Volume,
}

/// One street of the list.
///
/// # Examples
///
/// ```
/// use hotline_router::analytics::governance::Governance;
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let mut g = Governance::new(&router);
/// for (id, month) in [("T1", "2024-10"), ("T2", "2024-11"), ("T3", "2024-11")] {
///     let t = Ticket::new(id, "垃圾没人清运")
///         .with_address("朝阳区呼家楼街道")
///         .with_received_at(format!("{month}-05T09:00:00+08:00").parse()?);
///     g.add(&t, &router.route(&t)?);
/// }
/// let row = &g.list("2024-11".parse()?).rows[0];
/// assert_eq!((row.rank, row.name.as_str(), row.district.as_str()), (1, "呼家楼街道", "朝阳区"));
/// assert_eq!((row.volume, row.previous_rank), (2, Some(1)));
/// assert!(row.rates.is_none() && row.flags.is_empty()); // no records given
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct StreetRow {
    /// Its rank this month (1 = first), by the list's order.
    pub rank: usize,
    /// The street code.
    pub code: String,
    /// The street's name.
    pub name: String,
    /// Its district's name.
    pub district: String,
    /// Tickets this month.
    pub volume: u32,
    /// Residents, from the population table.
    pub population: Option<u32>,
    /// Tickets per 10,000 residents.
    pub per_10k: Option<f64>,
    /// Its rank the month before, if it had tickets then.
    pub previous_rank: Option<usize>,
    /// Its 三率 this month, when records were given.
    pub rates: Option<Rates>,
    /// Rates below their thresholds.
    pub flags: Vec<Flag>,
}

/// A month's 治理类 list; see the [module documentation](self) for the rules.
///
/// # Examples
///
/// See [`Governance`].
///
/// ```
/// use hotline_router::analytics::governance::{Governance, RankedBy};
///
/// let list = Governance::new(&hotline_router::Router::beijing()).list("2024-11".parse().unwrap());
/// assert_eq!(list.ranked_by, RankedBy::Volume);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GovernanceList {
    /// The month.
    pub month: Month,
    /// What the rows are ranked by.
    pub ranked_by: RankedBy,
    /// The list, first to last.
    pub rows: Vec<StreetRow>,
    /// Flagged streets not on the list, busiest first.
    pub also_flagged: Vec<StreetRow>,
    /// Streets with tickets this month.
    pub streets_with_tickets: usize,
    /// Streets with tickets but no population entry (not ranked per capita).
    pub without_population: usize,
}

/// Counts tickets and 三率 per street and month, and lists a month's
/// 治理类街乡镇; see the [module documentation](self).
///
/// # Examples
///
/// See the [module documentation](self).
///
/// ```
/// use hotline_router::analytics::governance::Governance;
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let mut g = Governance::new(&router);
/// let t = Ticket::new("T1", "挪车").with_address("海淀区学院路街道");
/// assert!(!g.add(&t, &router.route(&t).unwrap())); // no received_at: not counted
/// ```
#[derive(Clone, Debug)]
pub struct Governance {
    router: Router,
    config: GovernanceConfig,
    population: Option<Population>,
    volume: BTreeMap<Month, Vec<u32>>,
    rates: BTreeMap<Month, RateTable>,
}

impl Governance {
    /// An empty accumulator with the default [`GovernanceConfig`].
    pub fn new(router: &Router) -> Governance {
        Governance::with_config(router, GovernanceConfig::default())
    }

    /// An empty accumulator with `config`.
    pub fn with_config(router: &Router, config: GovernanceConfig) -> Governance {
        Governance {
            router: router.clone(),
            config,
            population: None,
            volume: BTreeMap::new(),
            rates: BTreeMap::new(),
        }
    }

    /// Ranks per 10,000 residents of this table.
    pub fn population(mut self, population: Population) -> Governance {
        self.population = Some(population);
        self
    }

    /// Counts a routed ticket; returns whether it was counted (it needs a
    /// `received_at` and a street).
    pub fn add(&mut self, ticket: &Ticket, decision: &Decision) -> bool {
        let (Some(at), Some(street)) = (ticket.received_at, decision.location().street()) else {
            return false;
        };
        let month = Month::of(at, self.router.time_zone());
        let streets = self.router.jurisdictions().streets().len();
        let counts = self.volume.entry(month).or_insert_with(|| vec![0; streets]);
        counts[street.as_usize()] += 1;
        true
    }

    /// Counts a dispatcher record into its month's 三率; returns whether it
    /// was counted (see [`RateTable::add`]: a record still being received
    /// is not).
    pub fn add_record(&mut self, record: &TicketRecord) -> bool {
        let tz = self.router.time_zone();
        let month = Month::of(record.received_at(), tz);
        let table = match self.rates.entry(month) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let Ok((from, to)) = month.window(tz) else {
                    return false;
                };
                e.insert(RateTable::new(GroupBy::Street, from, to))
            }
        };
        table.add(record);
        true
    }

    /// The 三率 of every street with records in `month`, by street code.
    pub fn rates(&self, month: Month) -> Vec<Rates> {
        self.rates
            .get(&month)
            .cloned()
            .map(RateTable::finish)
            .unwrap_or_default()
    }

    /// The month's list.
    pub fn list(&self, month: Month) -> GovernanceList {
        let ranked_by = match &self.population {
            Some(_) => RankedBy::PerCapita,
            None => RankedBy::Volume,
        };
        let rates: BTreeMap<String, Rates> = self
            .rates(month)
            .into_iter()
            .map(|r| (r.key.clone(), r))
            .collect();
        let (ranked, without_population, with_tickets) = self.ranking(month);
        let previous: BTreeMap<usize, usize> = self
            .ranking(month.back(1))
            .0
            .iter()
            .enumerate()
            .map(|(i, (s, ..))| (*s, i + 1))
            .collect();
        let j = self.router.jurisdictions();
        let row = |rank: usize, &(street, volume, per_10k): &(usize, u32, Option<f64>)| {
            let s = j.street(crate::StreetId(street as u32));
            let rates = rates.get(s.code()).cloned();
            let flags = rates.as_ref().map(|r| self.flags(r)).unwrap_or_default();
            StreetRow {
                rank,
                code: s.code().to_string(),
                name: s.name().to_string(),
                district: j.district(s.district()).name().to_string(),
                volume,
                population: self.population.as_ref().and_then(|p| p.get(s.code())),
                per_10k,
                previous_rank: previous.get(&street).copied(),
                rates,
                flags,
            }
        };
        let rows: Vec<StreetRow> = ranked
            .iter()
            .take(self.config.top)
            .enumerate()
            .map(|(i, r)| row(i + 1, r))
            .collect();
        let mut also: Vec<StreetRow> = ranked
            .iter()
            .enumerate()
            .skip(self.config.top)
            .map(|(i, r)| row(i + 1, r))
            .filter(|r| !r.flags.is_empty())
            .collect();
        also.sort_by(|a, b| b.volume.cmp(&a.volume).then(a.rank.cmp(&b.rank)));
        also.truncate(self.config.top);
        GovernanceList {
            month,
            ranked_by,
            rows,
            also_flagged: also,
            streets_with_tickets: with_tickets,
            without_population,
        }
    }

    /// The month's ranked streets `(street index, volume, per 10k)`, the
    /// streets left out for want of a population, and the streets with
    /// tickets.
    #[allow(clippy::type_complexity)]
    fn ranking(&self, month: Month) -> (Vec<(usize, u32, Option<f64>)>, usize, usize) {
        let Some(counts) = self.volume.get(&month) else {
            return (Vec::new(), 0, 0);
        };
        let j = self.router.jurisdictions();
        let mut ranked = Vec::new();
        let (mut without, mut with_tickets) = (0, 0);
        for (i, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
            with_tickets += 1;
            match &self.population {
                None => ranked.push((i, n, None)),
                Some(p) => match p.get(j.street(crate::StreetId(i as u32)).code()) {
                    Some(people) => {
                        ranked.push((i, n, Some(f64::from(n) * 10_000.0 / f64::from(people))))
                    }
                    None => without += 1,
                },
            }
        }
        ranked.sort_by(|a, b| {
            b.2.unwrap_or(0.0)
                .total_cmp(&a.2.unwrap_or(0.0))
                .then(b.1.cmp(&a.1))
                .then(a.0.cmp(&b.0))
        });
        (ranked, without, with_tickets)
    }

    fn flags(&self, r: &Rates) -> Vec<Flag> {
        if r.evaluated < self.config.min_evaluated.max(1) {
            return Vec::new();
        }
        let c = &self.config;
        [
            (r.response_rate(), c.response, Flag::LowResponse),
            (r.resolution_rate(), c.resolution, Flag::LowResolution),
            (r.satisfaction_rate(), c.satisfaction, Flag::LowSatisfaction),
        ]
        .into_iter()
        .filter(|(rate, threshold, _)| rate.is_some_and(|v| v < *threshold))
        .map(|(_, _, f)| f)
        .collect()
    }
}
