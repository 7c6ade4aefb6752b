//! What the stream of tickets says as a whole: sudden spikes, the month's
//! recurring problem (每月一题) and the streets that need systematic
//! governance (治理类街乡镇).
//!
//! Everything here reads tickets, decisions or [`TicketRecord`]s as they
//! come and keeps bounded state, so it runs beside routing on a live
//! stream or over a year of history alike.
//!
//! [`TicketRecord`]: crate::dispatch::TicketRecord

pub mod spikes;
