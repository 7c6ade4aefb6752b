//! Typed ids for the dispatch API: a ticket, a worker, an agency code. Each
//! is a shared string (`Arc<str>`: a clone is a reference count), so that a
//! call cannot take a worker for a ticket, while the JSON they appear in
//! (journal records, JSON Lines, the server's answers) stays a plain string.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The shared text, without copying it.
            pub fn as_arc(&self) -> &Arc<str> {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(Arc::from(s))
            }
        }

        impl From<&&str> for $name {
            fn from(s: &&str) -> Self {
                $name(Arc::from(*s))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(Arc::from(s))
            }
        }

        impl From<&String> for $name {
            fn from(s: &String) -> Self {
                $name(Arc::from(s.as_str()))
            }
        }

        impl From<Arc<str>> for $name {
            fn from(s: Arc<str>) -> Self {
                $name(s)
            }
        }

        impl From<&Arc<str>> for $name {
            fn from(s: &Arc<str>) -> Self {
                $name(s.clone())
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                id.clone()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.to_string()
            }
        }

        impl From<$name> for Arc<str> {
            fn from(id: $name) -> Arc<str> {
                id.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                &*self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                &*self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                *self.0 == **other
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == &*other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == &*other.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                **self == *other.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Arc::<str>::deserialize(deserializer).map($name)
            }
        }
    };
}

string_id! {
    /// A ticket's id, as the caller gave it (`Ticket::id`).
    ///
    /// Cheap to clone; compares, hashes and serialises as its text, so it
    /// can look up maps keyed by `str` and write the same JSON as a string.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::dispatch::{Dispatcher, TicketId, WorkerId};
    /// use hotline_router::{Router, Ticket};
    ///
    /// let d = Dispatcher::builder(Router::beijing()).build();
    /// d.submit(Ticket::new("T1", "楼道里燃气泄漏")).unwrap();
    /// let claim = d.claim("city:gas", "w1").unwrap().unwrap();
    /// let (id, worker): (TicketId, WorkerId) = (claim.id, "w1".into());
    /// assert_eq!(id, "T1");
    /// d.respond(&id, &worker).unwrap();
    /// // Typed values cannot be swapped: `d.respond(&worker, &id)` does not compile.
    /// assert_eq!(serde_json::to_string(&id).unwrap(), r#""T1""#);
    /// ```
    ///
    /// A worker where a ticket is meant does not compile:
    ///
    /// ```compile_fail
    /// use hotline_router::dispatch::{Dispatcher, TicketId, WorkerId};
    /// use hotline_router::Router;
    ///
    /// let d = Dispatcher::builder(Router::beijing()).build();
    /// let (id, worker) = (TicketId::from("T1"), WorkerId::from("w1"));
    /// d.respond(&worker, &id).unwrap();
    /// ```
    TicketId
}

string_id! {
    /// A worker's id: whoever claims, responds to and resolves a ticket.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::dispatch::WorkerId;
    ///
    /// let w = WorkerId::from("w1");
    /// assert_eq!(w.to_string(), "w1");
    /// let back: WorkerId = serde_json::from_str(r#""w1""#).unwrap();
    /// assert_eq!(back, w);
    /// ```
    WorkerId
}

string_id! {
    /// An agency's code (`city:gas`, `district:110105:gov`,
    /// `center:triage`): stable across router reloads, unlike a rule set's
    /// [`AgencyId`](crate::rules::AgencyId) index.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::dispatch::Dispatcher;
    /// use hotline_router::{Router, Ticket};
    ///
    /// let d = Dispatcher::builder(Router::beijing()).build();
    /// let receipt = d.submit(Ticket::new("T1", "楼道里燃气泄漏")).unwrap();
    /// assert_eq!(receipt.agency, "city:gas");
    /// assert_eq!(d.open_at(&receipt.agency), 1);
    /// ```
    AgencyCode
}
