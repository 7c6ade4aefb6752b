//! Open311 GeoReport v2 under `/open311/v2/` (JSON and XML).

use super::state::AppState;

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
}
