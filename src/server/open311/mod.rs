//! Open311 GeoReport v2 under `/open311/v2/`, in JSON and XML
//! (<http://wiki.open311.org/GeoReport_v2>).
//!
//! | Method and path                          | What                                    |
//! |------------------------------------------|-----------------------------------------|
//! | `GET  /open311/v2/services.{json,xml}`   | one service per category                |
//! | `GET  /open311/v2/services/{code}.{fmt}` | its definition (no attributes)          |
//! | `POST /open311/v2/requests.{fmt}`        | report a problem (form-encoded)         |
//! | `GET  /open311/v2/requests.{fmt}`        | requests by ids, window, code, status   |
//! | `GET  /open311/v2/requests/{id}.{fmt}`   | one request                             |
//!
//! # Reporting a problem
//!
//! ```text
//! curl -s http://127.0.0.1:8311/open311/v2/requests.json \
//!   --data-urlencode api_key=city-intake-key \
//!   --data-urlencode description=楼道灯坏了一个星期了 \
//!   --data-urlencode address_string=朝阳区呼家楼街道 \
//!   --data-urlencode lat=39.9230 --data-urlencode long=116.4510
//! [{"service_request_id":"20261130-000001","service_notice":"派至朝阳区呼家楼街道办事处，…前办理 (…)","account_id":null}]
//! ```
//!
//! The answer comes once the ticket is durable (see [the server](super)).
//! `api_key` is checked when the server has keys
//! ([`ServerConfig::api_key`](super::ServerConfig::api_key)): missing or
//! wrong is 403. `lat`/`long` are WGS-84, as the spec says. `address_id`
//! is a building code of the router's registry (一楼一码), which locates the
//! ticket exactly. `email`, names, `phone`, `device_id`, `media_url` and
//! `attribute[…]` are accepted and not stored: a ticket carries no contact
//! details, and no service has attributes; `account_id` is echoed back.
//!
//! # Services are categories
//!
//! Each category of the router's taxonomy is a service: `service_code` is
//! the category code (`heating`, `housing.repair`), `service_name` its
//! Chinese name, `description` the name with the English one, `group` the
//! name of its domain (`城乡建设`), `keywords` its strongest keywords;
//! `metadata` is false and `type` realtime for all.
//!
//! **Extension: `service_code` is optional.** The spec requires it; our
//! callers describe rather than choose, so without it the router
//! classifies the description. A known code is honoured (the ticket is
//! routed in that category, see [`Ticket::category`](crate::Ticket::category));
//! an unknown one is 404, as the spec's "service_code not found". A
//! request then needs a description or a location: with a service code
//! and a place but no words, the service's name stands for them.
//!
//! # Statuses
//!
//! `open` while the ticket is being handled (dispatched, claimed,
//! responded, linked to an incident), `closed` once resolved or evaluated.
//! `status_notes` is the resolution's outcome when closed, and why it was
//! returned while open. `agency_responsible` is the agency holding it,
//! name and code (`朝阳区呼家楼街道办事处 (street:110105001)`);
//! `expected_datetime` its deadline; times are W3C date-times in the
//! router's time zone. `lat`/`long` are the ticket's point in WGS-84, else
//! its building's.
//!
//! `GET requests` follows the spec: `service_request_id` (comma-separated)
//! overrides every other filter; otherwise `start_date`/`end_date` (W3C;
//! a bare date is its start in the router's time zone; at most 90 days
//! apart, the most recent 90 days by default), `service_code` and
//! `status` (comma-separated), newest first, at most 1,000.
//!
//! # Errors
//!
//! Every refusal is the spec's body with the HTTP status as its code:
//! `[{"code":400,"description":"…"}]`, or in XML
//! `<errors><error><code>400</code><description>…</description></error></errors>`.
//! A path with an unknown extension is 404 in JSON.

mod error;
mod index;
mod requests;
mod services;
mod wire;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Form;

pub(crate) use error::response as error_response;
pub(crate) use index::Open311State;
pub(crate) use wire::Format;

use super::state::AppState;
use error::ApiError;
use requests::Pairs;

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/open311/v2/{file}", get(get_top).post(post_top))
        .route("/open311/v2/services/{file}", get(get_service))
        .route("/open311/v2/requests/{file}", get(get_request))
}

/// The resource and format of a path segment, or the 404 for it.
fn resource(file: &str) -> Result<(&str, Format), ApiError> {
    Format::split(file).map_err(|stem| {
        ApiError::not_found(
            Format::Json,
            format!("{stem:?}: no such resource format (use .json or .xml)"),
        )
    })
}

fn not_found(format: Format, file: &str) -> Response {
    ApiError::not_found(format, format!("no resource {file:?}")).into_response()
}

fn query_pairs(
    format: Format,
    query: Result<Query<Pairs>, QueryRejection>,
) -> Result<Pairs, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request(format, e.body_text()))
}

async fn get_top(
    State(state): State<AppState>,
    Path(file): Path<String>,
    query: Result<Query<Pairs>, QueryRejection>,
) -> Response {
    let (stem, format) = match resource(&file) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let pairs = match query_pairs(format, query) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    match stem {
        "services" => {
            let router = state.dispatcher().router();
            let list = state.open311().services.services(&router);
            services::list(format, &list)
        }
        "requests" => requests::get_list(state, format, pairs).await,
        _ => not_found(format, &file),
    }
}

async fn post_top(
    State(state): State<AppState>,
    Path(file): Path<String>,
    query: Result<Query<Pairs>, QueryRejection>,
    form: Result<Form<Pairs>, FormRejection>,
) -> Response {
    let (stem, format) = match resource(&file) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if stem != "requests" {
        return not_found(format, &file);
    }
    let mut pairs = match form {
        Ok(Form(p)) => p,
        Err(e) => {
            return ApiError::new(e.status(), format, e.body_text()).into_response();
        }
    };
    // Some clients put api_key (or more) in the query string of a POST.
    if let Ok(extra) = query_pairs(format, query) {
        pairs.extend(extra);
    }
    requests::post(state, format, pairs).await
}

async fn get_service(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    match resource(&file) {
        Ok((code, format)) => services::definition(format, &state.dispatcher().router(), code),
        Err(e) => e.into_response(),
    }
}

async fn get_request(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    match resource(&file) {
        Ok((id, format)) => requests::get_one(state, format, id.to_string()).await,
        Err(e) => e.into_response(),
    }
}
