//! Configuration of an [`IncidentIndex`]: per-category windows, radii and
//! reach, which categories are related, and the text-similarity thresholds.

use jiff::SignedDuration;

use super::IncidentIndex;
use crate::{CategoryId, Router};

/// How far one problem reaches, which decides whether two buildings can
/// share an incident.
///
/// # Examples
///
/// ```
/// use hotline_router::incident::{IncidentIndex, Reach};
/// use hotline_router::Router;
///
/// // Treat heating failures as per building: a cold 5号楼 and a cold 7号楼
/// // are then never one incident.
/// let index = IncidentIndex::builder()
///     .reach("heating", Reach::Building)
///     .build(&Router::beijing())?;
/// assert_eq!(index.open_incidents(), 0);
/// # Ok::<(), hotline_router::incident::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// One building: reports naming two different buildings are two
    /// incidents (a lift, a leaking roof, a gas smell in a stairwell).
    Building,
    /// An area: reports from different buildings of one compound may be one
    /// incident (a power cut, a burst main, a heat-exchange station down),
    /// but need the compound's text-similarity threshold to join.
    Area,
}

/// The rule for one category: its time window, radius and reach, and
/// whether its tickets are merged at all.
///
/// # Examples
///
/// ```
/// use hotline_router::incident::{IncidentIndex, Reach};
/// use hotline_router::Router;
///
/// let router = Router::beijing();
/// let index = IncidentIndex::new(&router);
/// let water = index.rule(router.category_id("utilities.water").unwrap());
/// assert_eq!(water.window.as_hours(), 12);
/// assert_eq!((water.radius_m, water.reach, water.merge), (400.0, Reach::Area, true));
/// assert_eq!(water.words, 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CategoryRule {
    /// How long an incident stays open after its latest ticket.
    pub window: SignedDuration,
    /// How far apart (metres, WGS-84) two reports of one incident can be.
    pub radius_m: f64,
    /// Whether different buildings can share an incident.
    pub reach: Reach,
    /// Whether tickets of this category are linked at all; personal matters
    /// (a visa, a pension, a lost bag) are not.
    pub merge: bool,
    /// How much the words count, 0..=1: the [`Thresholds`] are multiplied
    /// by it. Outages are 0 — at one place and time there is one power
    /// cut, however callers describe it — while noise is 1: a renovation
    /// and a karaoke bar in one building are two problems.
    pub words: f32,
}

/// Minimum text similarity for a ticket to join an incident, by how well
/// the place matches: the less certain the place, the more alike the words
/// must be. Similarity is the overlap of the two texts' content bigrams,
/// from 0 (nothing shared) to 1 (one text's content is inside the other's).
///
/// # Examples
///
/// ```
/// use hotline_router::incident::{IncidentIndex, Thresholds};
/// use hotline_router::Router;
///
/// // Only ever merge reports from the same building.
/// let strict = Thresholds { near: 2.0, compound: 2.0, community: 2.0, ..Thresholds::default() };
/// let err = IncidentIndex::builder().thresholds(strict).build(&Router::beijing()).unwrap_err();
/// assert!(err.to_string().contains("between 0 and 1"));
/// let strict = Thresholds { near: 1.0, compound: 1.0, community: 1.0, ..Thresholds::default() };
/// assert!(IncidentIndex::builder().thresholds(strict).build(&Router::beijing()).is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// Same building (the same 一楼一码 code, or the same compound and
    /// building number in the addresses).
    pub building: f32,
    /// Points within the category's radius.
    pub near: f32,
    /// The same compound, buildings unknown or (for an [`Reach::Area`]
    /// category) different.
    pub compound: f32,
    /// The same community, with no finer place in common.
    pub community: f32,
    /// The least share of a *related* category's ticket that the
    /// incident's words must cover, whatever the place (different
    /// categories, so the words must say it is the same problem).
    pub related: f32,
}

impl Default for Thresholds {
    /// The defaults, chosen on `tests/data/incidents/dev.jsonl` (see the
    /// module documentation).
    fn default() -> Self {
        Thresholds {
            building: 0.1,
            near: 0.1,
            compound: 0.2,
            community: 0.4,
            related: 0.2,
        }
    }
}

/// What is wrong with an incident index's configuration.
///
/// # Examples
///
/// ```
/// use hotline_router::incident::{ConfigError, IncidentIndex};
/// use hotline_router::Router;
///
/// let err = IncidentIndex::builder().relate("heating", "no.such").build(&Router::beijing());
/// assert!(matches!(err, Err(ConfigError::UnknownCategory { ref code, .. }) if code == "no.such"));
/// ```
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A category code that the router's taxonomy does not have.
    #[error("unknown category '{code}' in {context}")]
    UnknownCategory {
        /// The code.
        code: String,
        /// The setting that named it ("window", "relate" …).
        context: &'static str,
    },
    /// A window that is not positive or longer than 90 days.
    #[error("window of {category} must be more than 0 and at most 90 days, not {window}")]
    InvalidWindow {
        /// The category ("default" for the default rule).
        category: String,
        /// The window given.
        window: SignedDuration,
    },
    /// A radius that is not a finite number of metres in 1..=5000.
    #[error("radius of {category} must be 1 to 5000 m, not {radius_m}")]
    InvalidRadius {
        /// The category ("default" for the default rule).
        category: String,
        /// The radius given, in metres.
        radius_m: f64,
    },
    /// A words weight outside 0..=1.
    #[error("words weight of {category} must be between 0 and 1, not {weight}")]
    InvalidWords {
        /// The category.
        category: String,
        /// The weight given.
        weight: f32,
    },
    /// A similarity threshold outside 0..=1.
    #[error("threshold '{name}' must be between 0 and 1, not {value}")]
    InvalidThreshold {
        /// Which threshold.
        name: &'static str,
        /// The value given.
        value: f32,
    },
    /// A category related to itself.
    #[error("category '{code}' cannot be related to itself")]
    RelatedToItself {
        /// The code.
        code: String,
    },
}

/// Builds an [`IncidentIndex`] with non-default windows, radii, related
/// categories or thresholds. Settings name categories by code; every code is
/// checked against the router's taxonomy in [`build`](Self::build).
///
/// # Examples
///
/// ```
/// use hotline_router::incident::IncidentIndex;
/// use hotline_router::Router;
/// use jiff::SignedDuration;
///
/// let router = Router::beijing();
/// let index = IncidentIndex::builder()
///     .window("env.noise", SignedDuration::from_hours(24 * 7)) // a week of nights
///     .radius("utilities.water", 600.0)
///     .relate("env.noise", "transport.parking")                 // car alarms
///     .build(&router)?;
/// let noise = index.rule(router.category_id("env.noise").unwrap());
/// assert_eq!(noise.window.as_hours(), 168);
/// # Ok::<(), hotline_router::incident::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct IncidentIndexBuilder {
    default_rule: CategoryRule,
    edits: Vec<(String, Edit)>,
    related: Vec<(String, String, bool)>,
    default_related: bool,
    thresholds: Thresholds,
}

#[derive(Clone, Copy, Debug)]
enum Edit {
    Window(SignedDuration),
    Radius(f64),
    Reach(Reach),
    Merge(bool),
    Words(f32),
}

/// The defaults: (code, window in hours, radius in metres, reach, words).
///
/// Outages (power, water, gas) are hours: the utility fixes them the same
/// day, and a cut the next day is a new one. Heating failures last days.
/// Night-time noise and cooking fumes recur night after night, so their
/// window spans four days. Radii follow how far one problem is heard
/// about: a burst main or a power cut across blocks, a bar's music in the
/// buildings around it, a lift only in its building.
const RULES: &[(&str, i64, f64, Reach, f32)] = &[
    ("utilities.power", 12, 500.0, Reach::Area, 0.0),
    ("utilities.water", 12, 400.0, Reach::Area, 0.0),
    ("utilities.gas", 12, 150.0, Reach::Building, 0.0),
    ("heating", 48, 300.0, Reach::Area, 0.0),
    ("env.noise", 96, 150.0, Reach::Area, 1.0),
    ("env.pollution", 96, 200.0, Reach::Area, 1.0),
    ("env.sanitation", 48, 150.0, Reach::Area, 1.0),
    ("municipal.facilities", 72, 150.0, Reach::Area, 1.0),
    ("transport.roads", 48, 200.0, Reach::Area, 1.0),
    ("parks.greening", 48, 150.0, Reach::Area, 1.0),
    ("fire.safety", 12, 100.0, Reach::Building, 0.0),
    ("housing.elevator", 48, 100.0, Reach::Building, 0.5),
    ("housing.repair", 72, 100.0, Reach::Building, 1.0),
    ("transport.parking", 24, 100.0, Reach::Area, 1.0),
    ("construction.illegal", 168, 100.0, Reach::Building, 1.0),
    ("city.order", 72, 150.0, Reach::Area, 1.0),
];

/// Personal matters: one caller's visa, pension or lost bag is never the
/// same incident as another's, wherever they live.
const PERSONAL: &[&str] = &[
    "immigration.visa",
    "immigration.work_permit",
    "travel.lost_property",
    "housing.provident_fund",
    "housing.property_certificate",
    "housing.affordable",
    "social.insurance",
    "social.medical_insurance",
    "police.hukou",
    "education",
    "education.exams",
    "labor.employment",
    "civil.assistance",
    "civil.veterans",
    "tax",
    "legal.services",
    "gov.services",
    "traffic.violations",
    "transport.taxi",
    "transport.delivery",
    "enterprise.policy",
    "enterprise.tech_resources",
    "science.ip",
];

/// Related categories: one problem the classifier may file under either.
const RELATED: &[(&str, &str)] = &[
    // A burst main floods the road: callers describe the water on the road.
    ("utilities.water", "municipal.facilities"),
    ("utilities.water", "transport.roads"),
    ("municipal.facilities", "transport.roads"),
    // A power cut stops the heating pumps and the lifts (people trapped)
    // and puts the street lights out.
    ("utilities.power", "heating"),
    ("utilities.power", "housing.elevator"),
    ("utilities.power", "municipal.facilities"),
    // A leaking radiator floods the flat below.
    ("heating", "housing.repair"),
    // Market loudspeakers and street stalls; drunks outside a bar.
    ("env.noise", "city.order"),
    ("env.noise", "police.public_order"),
    // Burning rubbish, a stinking drain, sewage in the street.
    ("env.pollution", "env.sanitation"),
    ("env.sanitation", "municipal.facilities"),
    ("env.pollution", "municipal.facilities"),
    // Smoke, a gas smell, a blocked fire lane.
    ("env.pollution", "fire.safety"),
    ("utilities.gas", "fire.safety"),
    ("fire.safety", "transport.parking"),
];

impl Default for IncidentIndexBuilder {
    fn default() -> Self {
        IncidentIndexBuilder {
            default_rule: CategoryRule {
                window: SignedDuration::from_hours(72),
                radius_m: 200.0,
                reach: Reach::Area,
                merge: true,
                words: 1.0,
            },
            edits: Vec::new(),
            related: Vec::new(),
            default_related: true,
            thresholds: Thresholds::default(),
        }
    }
}

impl IncidentIndexBuilder {
    /// A builder with the defaults (the module documentation lists them).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how long an incident of `category` stays open after its latest
    /// ticket.
    pub fn window(mut self, category: &str, window: SignedDuration) -> Self {
        self.edits
            .push((category.to_string(), Edit::Window(window)));
        self
    }

    /// Sets how far apart, in metres, two reports of one `category`
    /// incident can be.
    pub fn radius(mut self, category: &str, metres: f64) -> Self {
        self.edits
            .push((category.to_string(), Edit::Radius(metres)));
        self
    }

    /// Sets whether different buildings can share a `category` incident.
    pub fn reach(mut self, category: &str, reach: Reach) -> Self {
        self.edits.push((category.to_string(), Edit::Reach(reach)));
        self
    }

    /// Sets whether tickets of `category` are linked at all.
    pub fn merge(mut self, category: &str, merge: bool) -> Self {
        self.edits.push((category.to_string(), Edit::Merge(merge)));
        self
    }

    /// Sets how much the words count for `category`, 0..=1 (see
    /// [`CategoryRule::words`]).
    pub fn words(mut self, category: &str, weight: f32) -> Self {
        self.edits.push((category.to_string(), Edit::Words(weight)));
        self
    }

    /// Sets the window of categories without a rule of their own.
    pub fn default_window(mut self, window: SignedDuration) -> Self {
        self.default_rule.window = window;
        self
    }

    /// Sets the radius of categories without a rule of their own.
    pub fn default_radius(mut self, metres: f64) -> Self {
        self.default_rule.radius_m = metres;
        self
    }

    /// Relates two categories (both ways): a ticket of one can join an
    /// incident of the other when its words are alike enough
    /// ([`Thresholds::related`]).
    pub fn relate(mut self, a: &str, b: &str) -> Self {
        self.related.push((a.to_string(), b.to_string(), true));
        self
    }

    /// Removes a relation (default or added).
    pub fn unrelate(mut self, a: &str, b: &str) -> Self {
        self.related.push((a.to_string(), b.to_string(), false));
        self
    }

    /// Drops the default relations; only those added with
    /// [`relate`](Self::relate) remain.
    pub fn no_default_relations(mut self) -> Self {
        self.default_related = false;
        self
    }

    /// Sets the text-similarity thresholds.
    pub fn thresholds(mut self, thresholds: Thresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    /// Builds the index for tickets routed by `router`.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for a code the taxonomy does not have, a window,
    /// radius or threshold out of range, or a category related to itself.
    /// Default rules for codes a custom taxonomy lacks are skipped.
    pub fn build(&self, router: &Router) -> Result<IncidentIndex, ConfigError> {
        let n = router.categories().len();
        let mut rules = vec![self.default_rule; n];
        check_rule("default", &self.default_rule)?;
        for &(code, hours, radius_m, reach, words) in RULES {
            if let Some(id) = router.category_id(code) {
                rules[id.as_usize()] = CategoryRule {
                    window: SignedDuration::from_hours(hours),
                    radius_m,
                    reach,
                    merge: true,
                    words,
                };
            }
        }
        for code in PERSONAL {
            if let Some(id) = router.category_id(code) {
                rules[id.as_usize()].merge = false;
            }
        }
        for (code, edit) in &self.edits {
            let id = category(router, code, "a category rule")?;
            let rule = &mut rules[id.as_usize()];
            match *edit {
                Edit::Window(w) => rule.window = w,
                Edit::Radius(r) => rule.radius_m = r,
                Edit::Reach(r) => rule.reach = r,
                Edit::Merge(m) => rule.merge = m,
                Edit::Words(w) => rule.words = w,
            }
            check_rule(code, rule)?;
        }
        let mut related = vec![Vec::<CategoryId>::new(); n];
        let mut set = |a: CategoryId, b: CategoryId, on: bool| {
            for (x, y) in [(a, b), (b, a)] {
                let list = &mut related[x.as_usize()];
                list.retain(|c| *c != y);
                if on {
                    list.push(y);
                }
            }
        };
        if self.default_related {
            for (a, b) in RELATED {
                if let (Some(a), Some(b)) = (router.category_id(a), router.category_id(b)) {
                    set(a, b, true);
                }
            }
        }
        for (a, b, on) in &self.related {
            let (x, y) = (
                category(router, a, "relate")?,
                category(router, b, "relate")?,
            );
            if x == y {
                return Err(ConfigError::RelatedToItself { code: a.clone() });
            }
            set(x, y, *on);
        }
        let t = &self.thresholds;
        for (name, value) in [
            ("building", t.building),
            ("near", t.near),
            ("compound", t.compound),
            ("community", t.community),
            ("related", t.related),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ConfigError::InvalidThreshold { name, value });
            }
        }
        Ok(IncidentIndex::with_config(router, rules, related, *t))
    }
}

fn category(router: &Router, code: &str, context: &'static str) -> Result<CategoryId, ConfigError> {
    router
        .category_id(code)
        .ok_or_else(|| ConfigError::UnknownCategory {
            code: code.to_string(),
            context,
        })
}

fn check_rule(category: &str, rule: &CategoryRule) -> Result<(), ConfigError> {
    if rule.window <= SignedDuration::ZERO || rule.window > SignedDuration::from_hours(90 * 24) {
        return Err(ConfigError::InvalidWindow {
            category: category.to_string(),
            window: rule.window,
        });
    }
    if !(1.0..=5000.0).contains(&rule.radius_m) {
        return Err(ConfigError::InvalidRadius {
            category: category.to_string(),
            radius_m: rule.radius_m,
        });
    }
    if !(0.0..=1.0).contains(&rule.words) {
        return Err(ConfigError::InvalidWords {
            category: category.to_string(),
            weight: rule.words,
        });
    }
    Ok(())
}
