//! `POST requests.{fmt}`, `GET requests.{fmt}` and `GET requests/{id}.{fmt}`.

use std::collections::HashSet;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::error::ApiError;
use super::wire::{self, Format, Record, Value};
use crate::dispatch::{Dispatcher, EventKind, Receipt, SubmitError, TicketRecord};
use crate::router::Router;
use crate::server::state::AppState;
use crate::ticket::{Channel, Crs, Ticket};
use crate::TicketError;

/// The spec's limit on a description, in characters.
const MAX_DESCRIPTION: usize = 4000;
/// The spec's default window and largest range of `GET requests`.
const WINDOW: SignedDuration = SignedDuration::from_hours(90 * 24);
/// The spec's most requests in one answer.
const MAX_REQUESTS: usize = 1000;
/// Fresh ids tried when the dispatcher already has one (see the index).
const ID_ATTEMPTS: usize = 8;

/// A form or query: the pairs as sent, in order.
pub(crate) type Pairs = Vec<(String, String)>;

/// The first non-empty value of `key` ("optional" in the spec: empty is
/// the same as absent).
fn arg<'a>(pairs: &'a Pairs, key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, v)| k == key && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
}

/// `POST requests.{fmt}`: a ticket from the form, submitted and
/// acknowledged (durable) before the answer.
pub(crate) async fn post(state: AppState, format: Format, pairs: Pairs) -> Response {
    let key = arg(&pairs, "api_key").unwrap_or("");
    if !state.config().admits_key(key) {
        let why = if key.is_empty() {
            "api_key is required"
        } else {
            "invalid api_key"
        };
        return ApiError::new(StatusCode::FORBIDDEN, format, why).into_response();
    }
    let router = state.dispatcher().router();
    let ticket = match ticket_of(&router, format, &pairs) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let account_id = arg(&pairs, "account_id").map(str::to_string);
    let open311 = state.clone();
    let submitted = state.blocking(move |d| submit(d, &open311, ticket)).await;
    match submitted {
        Ok((receipt, requested)) => {
            let notice = notice(&router, &receipt.agency, receipt.deadline);
            state.open311().insert(requested, receipt.id.to_string());
            let record = Record::new()
                .field("service_request_id", String::from(receipt.id))
                .field("service_notice", notice)
                .field("account_id", account_id);
            wire::list(
                format,
                StatusCode::OK,
                "service_requests",
                "request",
                &[record],
            )
        }
        Err(e) => refusal(format, e).into_response(),
    }
}

/// The ticket a form describes, or the spec's 400/404 for what is wrong.
fn ticket_of(router: &Router, format: Format, pairs: &Pairs) -> Result<Ticket, ApiError> {
    let bad = |why: String| ApiError::bad_request(format, why);
    let description = arg(pairs, "description").unwrap_or("");
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(bad(format!(
            "description is longer than {MAX_DESCRIPTION} characters"
        )));
    }
    let coordinates = match (arg(pairs, "lat"), arg(pairs, "long")) {
        (None, None) => None,
        (Some(lat), Some(lon)) => {
            let (Ok(lat), Ok(lon)) = (lat.parse::<f64>(), lon.parse::<f64>()) else {
                return Err(bad(format!("lat {lat:?} and long {lon:?} must be numbers")));
            };
            if !(lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0) {
                return Err(bad(format!(
                    "lat {lat} and long {lon} are not a WGS-84 point (lat −90..90, long −180..180)"
                )));
            }
            Some((lon, lat))
        }
        _ => return Err(bad("lat and long must be given together".into())),
    };
    let address = arg(pairs, "address_string");
    let address_id = arg(pairs, "address_id");
    let located = coordinates.is_some() || address.is_some() || address_id.is_some();
    if description.is_empty() && !located {
        return Err(bad(
            "a description or a location (lat and long, address_string or address_id) is required"
                .into(),
        ));
    }
    let service_code = arg(pairs, "service_code");
    let mut text = description.to_string();
    if let Some(code) = service_code {
        let Some(id) = router.category_id(code) else {
            return Err(ApiError::not_found(
                format,
                format!("service_code {code:?} not found"),
            ));
        };
        if text.is_empty() {
            // A chosen service and a place are a complete report: the
            // service's name stands for the words.
            text = router.category(id).name().to_string();
        }
    }
    if text.is_empty() && address.is_none() {
        return Err(bad(
            "a description is required without service_code or address_string".into(),
        ));
    }
    let mut ticket = Ticket::new(String::new(), text).with_channel(Channel::Web);
    if let Some(a) = address {
        ticket = ticket.with_address(a);
    }
    if let Some((lon, lat)) = coordinates {
        ticket = ticket.with_coordinates(lon, lat, Crs::Wgs84);
    }
    if let Some(b) = address_id {
        ticket = ticket.with_building(b);
    }
    if let Some(code) = service_code {
        ticket = ticket.with_category(code);
    }
    Ok(ticket)
}

/// Submits under a fresh id, taking the next on a collision.
fn submit(
    d: &Dispatcher,
    state: &AppState,
    mut ticket: Ticket,
) -> Result<(Receipt, Timestamp), SubmitError> {
    let tz = d.router().time_zone().clone();
    let mut attempts = 0;
    loop {
        ticket.id = state.open311().next_id(d.now(), &tz);
        match d.submit(ticket) {
            Ok(receipt) => {
                let requested = d
                    .record(&receipt.id)
                    .map_or_else(|| d.now(), |r| r.received_at());
                return Ok((receipt, requested));
            }
            Err(e @ (SubmitError::Duplicate(_) | SubmitError::Purged(_)))
                if attempts + 1 < ID_ATTEMPTS =>
            {
                attempts += 1;
                ticket = e.into_ticket();
            }
            Err(e) => return Err(e),
        }
    }
}

/// A refused submit as the spec's error: the ticket's fault is 400, the
/// service's (capacity, storage) 503.
fn refusal(format: Format, e: SubmitError) -> ApiError {
    match &e {
        SubmitError::Invalid {
            error: TicketError::UnknownCategory { code },
            ..
        } => ApiError::not_found(format, format!("service_code {code:?} not found")),
        SubmitError::Invalid { error, .. } => ApiError::bad_request(format, error.to_string()),
        SubmitError::Full { .. } | SubmitError::Sink { .. } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format,
            format!("the request could not be taken in: {e}"),
        ),
        _ => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format, e.to_string()),
    }
}

/// What will happen, for `service_notice`.
fn notice(router: &Router, agency: &str, deadline: Timestamp) -> String {
    format!(
        "派至{}，{}前办理 (dispatched to {}, due by {})",
        agency_name(router, agency),
        w3(router, deadline),
        agency,
        w3(router, deadline)
    )
}

fn agency_name(router: &Router, code: &str) -> String {
    let rules = router.rules();
    rules.agency_id(code).map_or_else(
        || code.to_string(),
        |id| rules.agency(id).name().to_string(),
    )
}

/// A W3C date-time with the offset of the router's time zone.
fn w3(router: &Router, at: Timestamp) -> String {
    at.to_zoned(router.time_zone().clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// `GET requests/{id}.{fmt}`.
pub(crate) async fn get_one(state: AppState, format: Format, id: String) -> Response {
    let found = state
        .blocking(move |d| d.record(&id).map(|r| request(&d.router(), &r)).ok_or(id))
        .await;
    match found {
        Ok(record) => wire::list(
            format,
            StatusCode::OK,
            "service_requests",
            "request",
            &[record],
        ),
        Err(id) => ApiError::not_found(format, format!("service_request_id {id:?} not found"))
            .into_response(),
    }
}

/// The filters of `GET requests`.
#[derive(Debug, Default)]
struct Query {
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    codes: Option<HashSet<String>>,
    open: Option<bool>,
}

/// `GET requests.{fmt}`: by ids (which override every other filter), else
/// by window, service codes and status, newest first, at most 1,000.
pub(crate) async fn get_list(state: AppState, format: Format, pairs: Pairs) -> Response {
    if let Some(ids) = arg(&pairs, "service_request_id") {
        let ids: Vec<String> = ids
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .take(MAX_REQUESTS)
            .map(str::to_string)
            .collect();
        let records = state
            .blocking(move |d| {
                let router = d.router();
                ids.iter()
                    .filter_map(|id| d.record(id))
                    .map(|r| request(&router, &r))
                    .collect::<Vec<_>>()
            })
            .await;
        return wire::list(
            format,
            StatusCode::OK,
            "service_requests",
            "request",
            &records,
        );
    }
    let router = state.dispatcher().router();
    let query = match parse_query(router.time_zone(), format, &pairs) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    let found = state
        .blocking(move |d| {
            let router = d.router();
            let now = d.now();
            let (from, to) = window(query.from, query.to, now);
            if to.duration_since(from) > WINDOW {
                return Err("start_date and end_date may not span more than 90 days".to_string());
            }
            let mut out = Vec::new();
            let mut last: Option<(Timestamp, String)> = None;
            loop {
                let page = st.open311().page(from, to, last.as_ref(), 256);
                let Some(end) = page.last().cloned() else {
                    break;
                };
                for (_, id) in &page {
                    let Some(r) = d.record(id) else { continue };
                    if query.open.is_some_and(|open| open != r.state().is_open()) {
                        continue;
                    }
                    if query
                        .codes
                        .as_ref()
                        .is_some_and(|c| !c.contains(&r.routing().category))
                    {
                        continue;
                    }
                    out.push(request(&router, &r));
                    if out.len() == MAX_REQUESTS {
                        return Ok(out);
                    }
                }
                last = Some(end);
            }
            Ok(out)
        })
        .await;
    match found {
        Ok(records) => wire::list(
            format,
            StatusCode::OK,
            "service_requests",
            "request",
            &records,
        ),
        Err(why) => ApiError::bad_request(format, why).into_response(),
    }
}

/// The spec's window: the 90 days up to `end_date` or from `start_date`,
/// or the most recent 90 days.
fn window(
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    now: Timestamp,
) -> (Timestamp, Timestamp) {
    let back = |t: Timestamp| t.checked_sub(WINDOW).unwrap_or(Timestamp::MIN);
    match (from, to) {
        (Some(f), Some(t)) => (f, t),
        (Some(f), None) => (f, f.checked_add(WINDOW).unwrap_or(Timestamp::MAX)),
        (None, Some(t)) => (back(t), t),
        (None, None) => (back(now), now),
    }
}

fn parse_query(tz: &TimeZone, format: Format, pairs: &Pairs) -> Result<Query, ApiError> {
    let bad = |why: String| ApiError::bad_request(format, why);
    let mut q = Query::default();
    for (key, slot) in [("start_date", &mut q.from), ("end_date", &mut q.to)] {
        if let Some(v) = arg(pairs, key) {
            *slot = Some(parse_w3(v, tz).ok_or_else(|| {
                bad(format!(
                    "{key} {v:?} is not a W3C date-time, e.g. 2010-01-01T00:00:00Z"
                ))
            })?);
        }
    }
    if let Some(codes) = arg(pairs, "service_code") {
        q.codes = Some(codes.split(',').map(|c| c.trim().to_string()).collect());
    }
    if let Some(status) = arg(pairs, "status") {
        let (mut open, mut closed) = (false, false);
        for s in status.split(',').map(str::trim) {
            match s {
                "open" => open = true,
                "closed" => closed = true,
                _ => return Err(bad(format!("status {s:?}: expected open or closed"))),
            }
        }
        q.open = (open != closed).then_some(open);
    }
    Ok(q)
}

/// A W3C date-time (the spec requires the offset), or a bare date, read
/// as its start in the router's time zone.
fn parse_w3(v: &str, tz: &TimeZone) -> Option<Timestamp> {
    if let Ok(t) = v.parse::<Timestamp>() {
        return Some(t);
    }
    // Only a bare `YYYY-MM-DD`: jiff would also read a date out of a
    // date-time without offset, which the spec does not allow.
    if v.len() != 10 {
        return None;
    }
    let date: Date = v.parse().ok()?;
    date.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

/// One ticket as the spec's service request.
fn request(router: &Router, r: &TicketRecord) -> Record {
    let ticket = r.ticket();
    let code = r.routing().category.as_str();
    let service_name = router.category_id(code).map_or_else(
        || code.to_string(),
        |id| router.category(id).name().to_string(),
    );
    let agency = r.agency();
    let agency_responsible =
        (!agency.is_empty()).then(|| format!("{} ({agency})", agency_name(router, agency)));
    let (lon, lat) = match (ticket.coordinates, ticket.building.as_deref()) {
        (Some(c), _) => {
            let (lon, lat) = c.to_wgs84();
            (Value::Number(lon), Value::Number(lat))
        }
        (None, Some(b)) => match router.buildings().get(b) {
            Some(b) => (Value::Number(b.lon()), Value::Number(b.lat())),
            None => (Value::Null, Value::Null),
        },
        (None, None) => (Value::Null, Value::Null),
    };
    let updated = r.history().last().map_or(r.received_at(), |(at, _)| *at);
    let open = r.state().is_open();
    Record::new()
        .field("service_request_id", ticket.id.as_str())
        .field("status", if open { "open" } else { "closed" })
        .field("status_notes", status_notes(r))
        .field("service_name", service_name)
        .field("service_code", code)
        .field("description", ticket.text.as_str())
        .field("agency_responsible", agency_responsible)
        .field(
            "service_notice",
            (!agency.is_empty()).then(|| notice(router, agency, r.deadline())),
        )
        .field("requested_datetime", w3(router, r.received_at()))
        .field("updated_datetime", w3(router, updated))
        .field("expected_datetime", w3(router, r.deadline()))
        .field("address", ticket.address.as_deref())
        .field("address_id", ticket.building.as_deref())
        .field("zipcode", Value::Null)
        .field("lat", lat)
        .field("long", lon)
        .field("media_url", Value::Null)
}

/// The resolution's outcome once closed; while open, why it was last
/// returned, if it was.
fn status_notes(r: &TicketRecord) -> Option<String> {
    r.history().iter().rev().find_map(|(_, e)| match e {
        EventKind::Resolved { outcome, .. } if !r.state().is_open() => Some(outcome.clone()),
        EventKind::Returned { reason, .. } if r.state().is_open() => {
            Some(format!("returned: {reason}"))
        }
        _ => None,
    })
}
