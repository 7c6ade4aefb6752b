//! The knobs of [`Topics`](super::Topics): thresholds and the score's weights.

/// The knobs of [`Topics`](super::Topics).
///
/// # Examples
///
/// A problem seen once a month counts as present in that month only when
/// `present_min` is 1; a candidate is suggested only if it recurred:
///
/// ```
/// use hotline_router::analytics::topics::{Topics, TopicsConfig};
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let one_a_month = |config: TopicsConfig| -> Result<bool, Box<dyn std::error::Error>> {
///     let mut topics = Topics::with_config(&router, config);
///     for month in ["2024-10", "2024-11"] {
///         let t = Ticket::new(month, "老楼想加装电梯，不知道找谁")
///             .with_address("朝阳区呼家楼街道")
///             .with_received_at(format!("{month}-15T10:00:00+08:00").parse()?);
///         topics.add(&t, &router.route(&t)?);
///     }
///     Ok(topics.rank("2024-11".parse()?)[0].suggested)
/// };
/// assert!(!one_a_month(TopicsConfig::default())?); // 2 a month to count
/// assert!(one_a_month(TopicsConfig { present_min: 1, ..TopicsConfig::default() })?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct TopicsConfig {
    /// Months before the ranked one that growth and persistence look at (3).
    pub lookback: u32,
    /// Tickets in a month for the problem to count as present in it (2).
    pub present_min: u32,
    /// Streets of one district at which a problem is ranked for the whole
    /// district rather than street by street (3).
    pub spread_streets: u32,
    /// Evidence ticket ids kept per candidate (3).
    pub evidence: usize,
    /// Candidates suggested as the month's problems (3).
    pub picks: usize,
    /// Most counters kept for one month (250,000).
    pub max_cells: usize,
    /// The weights of the score's parts.
    pub weights: Weights,
}

impl Default for TopicsConfig {
    fn default() -> Self {
        TopicsConfig {
            lookback: 3,
            present_min: 2,
            spread_streets: 3,
            evidence: 3,
            picks: 3,
            max_cells: 250_000,
            weights: Weights::default(),
        }
    }
}

/// How much each part counts in a candidate's score (any non-negative
/// numbers; the score divides by their sum).
///
/// # Examples
///
/// A burst of one month against a problem that lasts: ranked by volume
/// alone the burst comes first, by persistence alone the lasting one.
///
/// ```
/// use hotline_router::analytics::topics::{Topics, TopicsConfig, Weights};
/// use hotline_router::{Router, Ticket};
///
/// let router = Router::beijing();
/// let first = |weights: Weights| -> Result<String, Box<dyn std::error::Error>> {
///     let mut topics = Topics::with_config(&router, TopicsConfig { weights, ..TopicsConfig::default() });
///     let mut add = |id: String, text: &str, month: &str| -> Result<(), Box<dyn std::error::Error>> {
///         let t = Ticket::new(id, text)
///             .with_address("朝阳区呼家楼街道")
///             .with_received_at(format!("{month}-15T10:00:00+08:00").parse()?);
///         topics.add(&t, &router.route(&t)?);
///         Ok(())
///     };
///     for month in ["2024-09", "2024-10", "2024-11"] {
///         for i in 0..3 {
///             add(format!("{month}-e{i}"), "老楼想加装电梯，不知道找谁", month)?;
///         }
///     }
///     for i in 0..12 {
///         add(format!("burst-{i}"), "小区门口的垃圾好几天没人清理了", "2024-11")?;
///     }
///     Ok(topics.rank("2024-11".parse()?)[0].category.clone())
/// };
/// let only = |volume, persistence| Weights { volume, persistence, growth: 0.0, spread: 0.0, difficulty: 0.0 };
/// assert_eq!(first(only(1.0, 0.0))?, "env.sanitation");
/// assert_eq!(first(only(0.0, 1.0))?, "housing.elevator");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weights {
    /// This month's volume (0.30).
    pub volume: f64,
    /// Growth against the months before (0.15).
    pub growth: f64,
    /// Months present of those looked at (0.25).
    pub persistence: f64,
    /// Streets it is in (0.10).
    pub spread: f64,
    /// Low resolution and satisfaction, many returns (0.20).
    pub difficulty: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            volume: 0.30,
            growth: 0.15,
            persistence: 0.25,
            spread: 0.10,
            difficulty: 0.20,
        }
    }
}
