//! The 三率 (response, resolution, satisfaction) by agency, street or
//! district over a window, and the monthly ranking. Public within the
//! city, as Beijing publishes them: any valid token reads every row.

use axum::extract::State;
use axum::Json;
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::auth::Agent;
use super::error::{ApiError, Params};
use crate::evaluate::{month_window, rank, GroupBy, Rates};
use crate::server::state::AppState;

/// Evaluations an agency needs in a month to be ranked, unless asked
/// otherwise: a handful of unhappy callers should not name it.
const MIN_EVALUATED: u64 = 5;
/// How many of the worst ranked are named, unless asked otherwise.
const BOTTOM: usize = 3;

#[derive(Deserialize)]
pub(crate) struct RatesParams {
    group: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RankingParams {
    group: Option<String>,
    month: Option<String>,
    min_evaluated: Option<u64>,
    bottom: Option<usize>,
}

/// One group's counts and rates (`null` where nothing was evaluated or
/// closed yet).
#[derive(Serialize)]
pub(crate) struct RatesRow {
    key: String,
    received: u64,
    closed: u64,
    on_time: u64,
    evaluated: u64,
    responded: u64,
    resolved: u64,
    satisfied: u64,
    escalated: u64,
    response_rate: Option<f64>,
    resolution_rate: Option<f64>,
    satisfaction_rate: Option<f64>,
    on_time_rate: Option<f64>,
    score: Option<f64>,
}

impl From<Rates> for RatesRow {
    fn from(r: Rates) -> Self {
        RatesRow {
            response_rate: r.response_rate(),
            resolution_rate: r.resolution_rate(),
            satisfaction_rate: r.satisfaction_rate(),
            on_time_rate: r.on_time_rate(),
            score: r.score(),
            key: r.key,
            received: r.received,
            closed: r.closed,
            on_time: r.on_time,
            evaluated: r.evaluated,
            responded: r.responded,
            resolved: r.resolved,
            satisfied: r.satisfied,
            escalated: r.escalated,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct RatesAnswer {
    group: &'static str,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    rates: Vec<RatesRow>,
}

#[derive(Serialize)]
pub(crate) struct RankingAnswer {
    group: &'static str,
    month: String,
    from: Timestamp,
    to: Timestamp,
    min_evaluated: u64,
    ranked: Vec<RatesRow>,
    unranked: Vec<RatesRow>,
    bottom: Vec<String>,
}

fn group(text: Option<&str>) -> Result<(GroupBy, &'static str), ApiError> {
    match text.unwrap_or("agency") {
        "agency" => Ok((GroupBy::Agency, "agency")),
        "street" => Ok((GroupBy::Street, "street")),
        "district" => Ok((GroupBy::District, "district")),
        other => Err(ApiError::bad_request(
            "bad_query",
            format!("group {other:?}: expected agency, street or district"),
        )),
    }
}

/// A window bound: an RFC 3339 instant, or a date (its first instant in
/// the router's time zone).
fn instant(name: &str, text: &str, state: &AppState) -> Result<Timestamp, ApiError> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    text.parse::<Date>()
        .and_then(|d| d.to_zoned(state.dispatcher().router().time_zone().clone()))
        .map(|z| z.timestamp())
        .map_err(|_| {
            ApiError::bad_request(
                "bad_query",
                format!("{name}={text:?}: expected a date (2024-11-01) or an RFC 3339 time"),
            )
        })
}

/// `GET /api/rates?group=agency|street|district&from=&to=`: tickets
/// received in `[from, to)`, by default all of them.
pub(crate) async fn rates(
    State(state): State<AppState>,
    _agent: Agent,
    Params(params): Params<RatesParams>,
) -> Result<Json<RatesAnswer>, ApiError> {
    let (group, group_name) = group(params.group.as_deref())?;
    let from = params
        .from
        .as_deref()
        .map(|t| instant("from", t, &state))
        .transpose()?;
    let to = params
        .to
        .as_deref()
        .map(|t| instant("to", t, &state))
        .transpose()?;
    let rows = state
        .blocking(move |d| {
            d.rates(
                group,
                from.unwrap_or(Timestamp::MIN),
                to.unwrap_or(Timestamp::MAX),
            )
        })
        .await;
    Ok(Json(RatesAnswer {
        group: group_name,
        from,
        to,
        rates: rows.into_iter().map(RatesRow::from).collect(),
    }))
}

fn month(text: Option<&str>, state: &AppState) -> Result<(i16, i8), ApiError> {
    let Some(text) = text else {
        let today = state
            .dispatcher()
            .now()
            .to_zoned(state.dispatcher().router().time_zone().clone());
        return Ok((today.year(), today.month()));
    };
    let bad = || ApiError::bad_request("bad_query", format!("month={text:?}: expected YYYY-MM"));
    let (year, month) = text.split_once('-').ok_or_else(bad)?;
    Ok((
        year.parse().map_err(|_| bad())?,
        month.parse().map_err(|_| bad())?,
    ))
}

/// `GET /api/rankings?month=YYYY-MM&group=&min_evaluated=&bottom=`: the
/// month's groups ranked by the mean of the 三率 (the current month of the
/// router's time zone by default).
pub(crate) async fn rankings(
    State(state): State<AppState>,
    _agent: Agent,
    Params(params): Params<RankingParams>,
) -> Result<Json<RankingAnswer>, ApiError> {
    let (group, group_name) = group(params.group.as_deref())?;
    let (year, month) = month(params.month.as_deref(), &state)?;
    let (from, to) = month_window(year, month, state.dispatcher().router().time_zone())
        .map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?;
    let min_evaluated = params.min_evaluated.unwrap_or(MIN_EVALUATED);
    let bottom = params.bottom.unwrap_or(BOTTOM);
    let ranking = state
        .blocking(move |d| rank(year, month, d.rates(group, from, to), min_evaluated, bottom))
        .await;
    Ok(Json(RankingAnswer {
        group: group_name,
        month: format!("{year:04}-{month:02}"),
        from,
        to,
        min_evaluated,
        ranked: ranking.ranked.into_iter().map(RatesRow::from).collect(),
        unranked: ranking.unranked.into_iter().map(RatesRow::from).collect(),
        bottom: ranking.bottom,
    }))
}
