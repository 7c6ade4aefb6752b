//! What the stream of tickets says as a whole: sudden spikes, the month's
//! recurring problem (每月一题) and the streets that need systematic
//! governance (治理类街乡镇).
//!
//! Everything here reads tickets, decisions or [`TicketRecord`]s as they
//! come and keeps bounded state, so it runs beside routing on a live
//! stream or over a year of history alike.
//!
//! * [`topics`] — 每月一题 candidates: category × place × wording, ranked by
//!   volume, growth, persistence, spread and difficulty, with evidence.
//! * [`spikes`] — sudden rises of one category in one street or district,
//!   against the expected rate, as alerts.
//! * [`governance`] — 治理类街乡镇: streets by volume (per 10,000 residents
//!   with a population table) and 三率.
//!
//! [`TicketRecord`]: crate::dispatch::TicketRecord

#[cfg(feature = "dispatch")]
#[cfg_attr(docsrs, doc(cfg(feature = "dispatch")))]
pub mod governance;
#[cfg(feature = "dispatch")]
mod month;
pub mod spikes;
#[cfg(feature = "dispatch")]
#[cfg_attr(docsrs, doc(cfg(feature = "dispatch")))]
pub mod topics;

#[cfg(feature = "dispatch")]
#[cfg_attr(docsrs, doc(cfg(feature = "dispatch")))]
pub use month::{Month, ParseMonthError};
