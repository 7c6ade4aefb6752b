//! Who is asking: the agency a bearer token admits, and what it may see
//! and do.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::dispatch::{EventKind, TicketRecord};
use crate::server::state::AppState;

/// The agency behind a request's `Authorization: Bearer TOKEN`.
#[derive(Clone, Debug)]
pub(crate) struct Agent {
    agency: String,
}

impl Agent {
    pub(crate) fn agency(&self) -> &str {
        &self.agency
    }

    /// The hotline center's tokens (agency codes `center:…`) admit every
    /// ticket and the center's own operations.
    pub(crate) fn is_center(&self) -> bool {
        self.agency.starts_with("center:")
    }

    /// Whether the token may act on a ticket: the center on any, an agency
    /// on the tickets it holds now.
    pub(crate) fn may_act_on(&self, record: &TicketRecord) -> bool {
        self.is_center() || record.agency() == self.agency
    }

    /// Whether the token may read a ticket: the center any, an agency the
    /// tickets it holds or held (a returned ticket's history stays its
    /// business).
    pub(crate) fn may_read(&self, record: &TicketRecord) -> bool {
        self.is_center() || held_by(record, &self.agency)
    }

    /// Which agency's tickets a request means: `asked` if the token admits
    /// it, else its own.
    pub(crate) fn scope(&self, asked: Option<String>) -> Result<String, ApiError> {
        match asked {
            Some(agency) if agency != self.agency && !self.is_center() => {
                Err(ApiError::forbidden(format!(
                    "this token admits {}'s tickets, not {agency}'s",
                    self.agency
                )))
            }
            Some(agency) => Ok(agency),
            None => Ok(self.agency.clone()),
        }
    }

    /// Refuses an agency's token an operation that is the center's.
    pub(crate) fn center_only(&self, what: &str) -> Result<(), ApiError> {
        if self.is_center() {
            return Ok(());
        }
        Err(ApiError::forbidden(format!(
            "{what} is the hotline center's, not {}'s",
            self.agency
        )))
    }
}

/// Whether `agency` holds or held the ticket: its current agency, or one
/// an event dispatched it (or its incident) to.
pub(crate) fn held_by(record: &TicketRecord, agency: &str) -> bool {
    record.agency() == agency || record.history().iter().any(|(_, kind)| names(kind, agency))
}

/// Whether an event puts the ticket with `agency`.
pub(crate) fn names(kind: &EventKind, agency: &str) -> bool {
    match kind {
        EventKind::Dispatched { agency: to, .. } => to == agency,
        EventKind::Linked(link) => link.agency == agency,
        _ => false,
    }
}

impl FromRequestParts<AppState> for Agent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "no token: send Authorization: Bearer TOKEN",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer TOKEN"))?;
        match state.config().agency_of(token) {
            Some(agency) => Ok(Agent {
                agency: agency.to_string(),
            }),
            None => Err(ApiError::unauthorized("unknown token")),
        }
    }
}
