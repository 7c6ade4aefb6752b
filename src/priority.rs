//! [`Priority`], a leaf value type: the rules set it, the router decides it,
//! dispatch and its records carry it. It depends on nothing in the crate, so
//! every one of them can use it without importing the others.

use serde::{Deserialize, Serialize};

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
