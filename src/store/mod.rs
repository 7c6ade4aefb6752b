//! Stores for the dispatcher's events beyond the crate's own journal
//! (feature `postgres`).
