//! The worker API: claim, respond, resolve, return, reassign, evaluate; 三率; events.

use super::state::AppState;

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
}
