//! A [`Link`]: which incident a ticket belongs to, and why.

use jiff::SignedDuration;

/// The incident a ticket was linked to.
///
/// # Examples
///
/// ```
/// use hotline_router::incident::{IncidentIndex, Sighting};
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let mut index = IncidentIndex::new(&router);
/// let mut link = None;
/// for (id, minute, text) in [("A", 0, "3号楼停电了，整栋楼都没电"), ("B", 9, "家里停电了，邻居也没电")] {
///     let t = Ticket::new(id, text).with_address("朝阳区呼家楼街道金台里社区3号楼");
///     let d = router.route(&t).unwrap();
///     let at = format!("2024-11-20T18:{minute:02}:00+08:00").parse().unwrap();
///     link = Some(index.observe(&Sighting::new(&t, &d, at)));
/// }
/// let link = link.unwrap();
/// assert_eq!((link.incident.as_str(), link.size, link.joined), ("A", 2, true));
/// let why = link.explain();
/// assert_eq!(why[..3], [
///     "same category utilities.power",
///     "same building 金台里 3号楼",
///     "9 min after the first report (window 12 h from the latest)",
/// ]);
/// // Outages need no words in common in one building: the bar is 0.
/// assert!(why[3].starts_with("text similarity 0.") && why[3].ends_with("≥ 0.00"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The incident's id: the id of its first ticket. A ticket alone is an
    /// incident of its own, with its own id.
    pub incident: String,
    /// Tickets in the incident so far, this one included.
    pub size: u32,
    /// Whether the ticket joined an incident that was already open (false
    /// for the first ticket of an incident).
    pub joined: bool,
    /// Why it joined; `None` when it did not.
    pub evidence: Option<Evidence>,
    /// Open incidents this ticket showed to be the same problem as
    /// `incident`, merged into it: their tickets now belong to `incident`
    /// (typically one incident opened from coordinates and one from an
    /// address, joined by a ticket that has both). Empty almost always.
    pub merged: Vec<String>,
}

/// Why a ticket joined an incident: the four tests it passed.
///
/// # Examples
///
/// ```
/// use hotline_router::incident::{CategoryMatch, Evidence, PlaceMatch};
/// use jiff::SignedDuration;
///
/// let e = Evidence {
///     category: CategoryMatch::Related { ticket: "housing.elevator".into(), incident: "utilities.power".into() },
///     place: PlaceMatch::Near { metres: 48.0, radius_m: 500.0 },
///     since_first: SignedDuration::from_mins(125),
///     window: SignedDuration::from_hours(12),
///     similarity: 0.62,
///     threshold: 0.25,
/// };
/// assert_eq!(e.explain()[0], "related categories: housing.elevator joins utilities.power");
/// assert_eq!(e.explain()[1], "48 m apart (radius 500 m)");
/// assert_eq!(e.explain()[2], "2 h 5 min after the first report (window 12 h from the latest)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// How the categories matched.
    pub category: CategoryMatch,
    /// How the places matched.
    pub place: PlaceMatch,
    /// Time from the incident's first report to this ticket (negative for a
    /// ticket received before it, out of order).
    pub since_first: SignedDuration,
    /// The incident category's window, counted from its latest ticket.
    pub window: SignedDuration,
    /// The text similarity found.
    pub similarity: f32,
    /// The threshold it had to reach.
    pub threshold: f32,
}

/// How a ticket's category matched its incident's.
///
/// # Examples
///
/// ```
/// use hotline_router::incident::CategoryMatch;
///
/// let same = CategoryMatch::Same("heating".into());
/// assert_eq!(same.to_string(), "same category heating");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CategoryMatch {
    /// The same category (its code).
    Same(String),
    /// Related categories.
    Related {
        /// The ticket's category code.
        ticket: String,
        /// The incident's category code.
        incident: String,
    },
}

/// How a ticket's place matched its incident's.
///
/// # Examples
///
/// ```
/// use hotline_router::incident::PlaceMatch;
///
/// assert_eq!(PlaceMatch::Building("金台里 3号楼".into()).to_string(), "same building 金台里 3号楼");
/// assert_eq!(PlaceMatch::Compound("金台里".into()).to_string(), "same compound 金台里");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum PlaceMatch {
    /// The same building code (一楼一码).
    BuildingCode(String),
    /// The same compound and building number in the addresses.
    Building(String),
    /// Points within the category's radius.
    Near {
        /// The distance, in metres.
        metres: f64,
        /// The radius, in metres.
        radius_m: f64,
    },
    /// The same compound (buildings unknown, or different in an area).
    Compound(String),
    /// The same community.
    Community(String),
}

impl std::fmt::Display for CategoryMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CategoryMatch::Same(code) => write!(f, "same category {code}"),
            CategoryMatch::Related { ticket, incident } => {
                write!(f, "related categories: {ticket} joins {incident}")
            }
        }
    }
}

impl std::fmt::Display for PlaceMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlaceMatch::BuildingCode(code) => write!(f, "same building code {code}"),
            PlaceMatch::Building(name) => write!(f, "same building {name}"),
            PlaceMatch::Near { metres, radius_m } => {
                write!(f, "{metres:.0} m apart (radius {radius_m:.0} m)")
            }
            PlaceMatch::Compound(name) => write!(f, "same compound {name}"),
            PlaceMatch::Community(name) => write!(f, "same community {name}"),
        }
    }
}

impl Evidence {
    /// The four reasons, one line each: category, place, time, words.
    pub fn explain(&self) -> Vec<String> {
        let when = if self.since_first.is_negative() {
            format!("{} before the first report", human(-self.since_first))
        } else {
            format!("{} after the first report", human(self.since_first))
        };
        vec![
            self.category.to_string(),
            self.place.to_string(),
            format!("{when} (window {} from the latest)", human(self.window)),
            format!(
                "text similarity {:.2} ≥ {:.2}",
                self.similarity, self.threshold
            ),
        ]
    }
}

impl Link {
    /// Why the ticket is where it is: the four reasons it joined its
    /// incident, or one line saying it opened an incident of its own.
    pub fn explain(&self) -> Vec<String> {
        match &self.evidence {
            Some(e) => {
                let mut lines = e.explain();
                if !self.merged.is_empty() {
                    lines.push(format!(
                        "also matches incident {}: merged into {}",
                        self.merged.join(", "),
                        self.incident
                    ));
                }
                lines
            }
            None if self.size > 1 => vec![format!(
                "first report of incident {} ({} tickets so far)",
                self.incident, self.size
            )],
            None => vec!["no open incident matched: an incident of its own".to_string()],
        }
    }
}

/// A duration as people say it: "40 min", "2 h 5 min", "3 d 4 h".
fn human(d: SignedDuration) -> String {
    let mins = d.as_secs().max(0) / 60;
    let (days, hours, mins) = (mins / 1440, mins / 60 % 24, mins % 60);
    match (days, hours, mins) {
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        let m = SignedDuration::from_mins;
        assert_eq!(human(m(0)), "0 min");
        assert_eq!(human(m(40)), "40 min");
        assert_eq!(human(m(120)), "2 h");
        assert_eq!(human(m(125)), "2 h 5 min");
        assert_eq!(human(m(72 * 60)), "3 d");
        assert_eq!(human(m(76 * 60 + 5)), "3 d 4 h");
    }

    #[test]
    fn a_ticket_alone_says_so() {
        let link = Link {
            incident: "T1".into(),
            size: 1,
            joined: false,
            evidence: None,
            merged: Vec::new(),
        };
        assert_eq!(
            link.explain(),
            ["no open incident matched: an incident of its own"]
        );
    }
}
