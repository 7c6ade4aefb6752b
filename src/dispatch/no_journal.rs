//! Without the `journal` feature: an uninhabited stand-in for the journal,
//! so that the runtime's `Option<Journal>` is always `None` and the code
//! that snapshots a journal compiles to nothing.

use std::convert::Infallible;
use std::path::Path;

use super::Dispatcher;

/// No value exists: a dispatcher without the `journal` feature has none.
pub(crate) enum Journal {}

/// What the background snapshot reads of a journal.
pub(crate) struct Stats {
    pub(crate) bytes_since_snapshot: u64,
}

impl Journal {
    pub(crate) fn dir(&self) -> &Path {
        match *self {}
    }

    pub(crate) fn stats(&self) -> Stats {
        match *self {}
    }
}

impl Dispatcher {
    /// Never called: it is reached only through a journal.
    pub(crate) fn checkpoint(&self) -> Result<(), Infallible> {
        Ok(())
    }
}
