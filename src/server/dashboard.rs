//! The live dashboard at `/`.

use super::state::AppState;

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
}
