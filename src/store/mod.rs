//! Stores for the dispatcher's events beyond the crate's own journal
//! (feature `postgres`).
//!
//! The [`journal`](crate::journal) keeps a city's events on one machine's
//! disk. [`postgres`] keeps them in a PostgreSQL database instead, so that
//! a second machine can follow them as a standby and take over, without
//! shared disks, when the first one dies.

pub mod postgres;
