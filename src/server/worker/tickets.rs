//! Operations on tickets: claim, respond, resolve, return, reassign,
//! evaluate, split; a ticket's record, the work list, the overdue.

use std::cmp::Reverse;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::auth::Agent;
use super::error::{ApiError, Body, Params};
use crate::dispatch::{
    Claim, Dispatcher, Evaluation, EventKind, OpError, Routing, State as TicketState, TicketRecord,
};
use crate::rules::Priority;
use crate::server::state::AppState;
use crate::ticket::Ticket;

/// Longest worker name, agency code, outcome or reason taken: they go
/// into every event and every copy of the record.
const MAX_WORKER: usize = 128;
const MAX_TEXT: usize = 4_000;
/// Most tickets one work-list answer lists (`limit`'s default and ceiling).
const LIST_DEFAULT: usize = 1_000;
const LIST_MAX: usize = 10_000;

#[derive(Deserialize)]
pub(crate) struct ClaimBody {
    worker: String,
    agency: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct WorkerBody {
    worker: String,
}

#[derive(Deserialize)]
pub(crate) struct ResolveBody {
    worker: String,
    outcome: String,
}

#[derive(Deserialize)]
pub(crate) struct ReasonBody {
    worker: String,
    reason: String,
}

#[derive(Deserialize)]
pub(crate) struct ReassignBody {
    worker: String,
    agency: String,
    reason: String,
}

#[derive(Deserialize)]
pub(crate) struct ListParams {
    agency: Option<String>,
    limit: Option<usize>,
}

fn field(name: &str, value: String, max: usize) -> Result<String, ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::bad_request(
            "bad_field",
            format!("{name} must not be empty"),
        ));
    }
    if value.chars().count() > max {
        return Err(ApiError::bad_request(
            "bad_field",
            format!("{name} is longer than {max} characters"),
        ));
    }
    Ok(value)
}

#[derive(Serialize)]
pub(crate) struct ClaimView {
    id: String,
    agency: String,
    priority: Priority,
    deadline: Timestamp,
    lease_until: Timestamp,
    callers: u32,
    ticket: std::sync::Arc<Ticket>,
}

/// `POST /api/claim`: the next ticket of the token's agency (a center
/// token may name another), or 204.
pub(crate) async fn claim(
    State(state): State<AppState>,
    agent: Agent,
    Body(body): Body<ClaimBody>,
) -> Result<Response, ApiError> {
    let worker = field("worker", body.worker, MAX_WORKER)?;
    let agency = agent.scope(body.agency)?;
    let claimed = {
        let agency = agency.clone();
        state.blocking(move |d| d.claim(&agency, &worker)).await?
    };
    Ok(match claimed {
        None => StatusCode::NO_CONTENT.into_response(),
        Some(Claim {
            id,
            ticket,
            priority,
            deadline,
            lease_until,
            callers,
            ..
        }) => Json(ClaimView {
            id: id.into(),
            agency,
            priority,
            deadline,
            lease_until,
            callers,
            ticket,
        })
        .into_response(),
    })
}

/// A ticket after an operation.
#[derive(Serialize)]
pub(crate) struct Summary {
    id: String,
    state: TicketState,
    agency: String,
    priority: Priority,
    deadline: Timestamp,
    worker: Option<String>,
    incident: Option<String>,
}

impl Summary {
    fn of(r: &TicketRecord) -> Summary {
        Summary {
            id: r.ticket().id.clone(),
            state: r.state(),
            agency: r.agency().to_string(),
            priority: r.priority(),
            deadline: r.deadline(),
            worker: r.worker().map(str::to_string),
            incident: r.incident().map(str::to_string),
        }
    }
}

/// Runs `op` on ticket `id` if `agent` may act on it, and answers with
/// the ticket as the operation left it. The check and the operation run in
/// one blocking call; the dispatcher's own checks (the claimant, the
/// state) are made under the ticket's lock.
async fn act<T: Send + 'static>(
    state: &AppState,
    agent: Agent,
    id: String,
    op: impl FnOnce(&Dispatcher, &str) -> Result<T, OpError> + Send + 'static,
) -> Result<Json<Summary>, ApiError> {
    state
        .blocking(move |d| {
            let record = d.record(&id).ok_or_else(|| ApiError::unknown_ticket(&id))?;
            if !agent.may_act_on(&record) {
                return Err(ApiError::forbidden(format!(
                    "ticket {id} is held by {}; this token admits {}'s tickets",
                    record.agency(),
                    agent.agency()
                )));
            }
            op(d, &id)?;
            let record = d.record(&id).ok_or_else(|| ApiError::unknown_ticket(&id))?;
            Ok(Json(Summary::of(&record)))
        })
        .await
}

/// `POST /api/tickets/{id}/respond`.
pub(crate) async fn respond(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    Body(body): Body<WorkerBody>,
) -> Result<Json<Summary>, ApiError> {
    let worker = field("worker", body.worker, MAX_WORKER)?;
    act(&state, agent, id, move |d, id| d.respond(id, &worker)).await
}

/// `POST /api/tickets/{id}/resolve`.
pub(crate) async fn resolve(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    Body(body): Body<ResolveBody>,
) -> Result<Json<Summary>, ApiError> {
    let worker = field("worker", body.worker, MAX_WORKER)?;
    let outcome = field("outcome", body.outcome, MAX_TEXT)?;
    act(&state, agent, id, move |d, id| {
        d.resolve(id, &worker, &outcome)
    })
    .await
}

/// `POST /api/tickets/{id}/return` (退单).
pub(crate) async fn return_ticket(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    Body(body): Body<ReasonBody>,
) -> Result<Json<Summary>, ApiError> {
    let worker = field("worker", body.worker, MAX_WORKER)?;
    let reason = field("reason", body.reason, MAX_TEXT)?;
    act(&state, agent, id, move |d, id| {
        d.return_ticket(id, &worker, &reason)
    })
    .await
}

/// `POST /api/tickets/{id}/reassign`: an agency its own tickets, the
/// center any.
pub(crate) async fn reassign(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    Body(body): Body<ReassignBody>,
) -> Result<Json<Summary>, ApiError> {
    let worker = field("worker", body.worker, MAX_WORKER)?;
    let agency = field("agency", body.agency, MAX_WORKER)?;
    let reason = field("reason", body.reason, MAX_TEXT)?;
    act(&state, agent, id, move |d, id| {
        d.reassign(id, &agency, &worker, &reason)
    })
    .await
}

/// `POST /api/tickets/{id}/evaluate`: the call-back (回访), the center's.
pub(crate) async fn evaluate(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    Body(body): Body<Evaluation>,
) -> Result<Json<Summary>, ApiError> {
    agent.center_only("the call-back (evaluate)")?;
    act(&state, agent, id, move |d, id| d.evaluate(id, body)).await
}

/// `POST /api/tickets/{id}/split`: a wrongly merged caller out of its
/// incident, the center's.
pub(crate) async fn split(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    Body(body): Body<ReasonBody>,
) -> Result<Json<Summary>, ApiError> {
    agent.center_only("splitting an incident")?;
    let worker = field("worker", body.worker, MAX_WORKER)?;
    let reason = field("reason", body.reason, MAX_TEXT)?;
    act(&state, agent, id, move |d, id| {
        d.split(id, &worker, &reason)
    })
    .await
}

#[derive(Serialize)]
pub(crate) struct HistoryEntry {
    seq: usize,
    at: Timestamp,
    name: &'static str,
    event: EventKind,
}

#[derive(Serialize)]
pub(crate) struct IncidentJson {
    head: String,
    members: Vec<String>,
    open: bool,
    callers: usize,
}

#[derive(Serialize)]
pub(crate) struct RecordView {
    id: String,
    state: TicketState,
    agency: String,
    priority: Priority,
    received_at: Timestamp,
    dispatched_at: Timestamp,
    deadline: Timestamp,
    responded_at: Option<Timestamp>,
    resolved_at: Option<Timestamp>,
    worker: Option<String>,
    lease_until: Option<Timestamp>,
    escalated: bool,
    moves: u32,
    returned_from: Vec<String>,
    evaluation: Option<Evaluation>,
    routing: Routing,
    ticket: std::sync::Arc<Ticket>,
    incident: Option<IncidentJson>,
    history: Vec<HistoryEntry>,
}

/// `GET /api/tickets/{id}`: the record, for the tokens of the agencies
/// that hold or held it and the center's.
pub(crate) async fn record(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
) -> Result<Json<RecordView>, ApiError> {
    state
        .blocking(move |d| {
            let r = d.record(&id).ok_or_else(|| ApiError::unknown_ticket(&id))?;
            if !agent.may_read(&r) {
                return Err(ApiError::forbidden(format!(
                    "ticket {id} was never {}'s",
                    agent.agency()
                )));
            }
            let incident = d.incident(&id).map(|v| IncidentJson {
                callers: v.callers(),
                head: v.head,
                members: v.members,
                open: v.open,
            });
            Ok(Json(RecordView {
                id: r.ticket().id.clone(),
                state: r.state(),
                agency: r.agency().to_string(),
                priority: r.priority(),
                received_at: r.received_at(),
                dispatched_at: r.dispatched_at(),
                deadline: r.deadline(),
                responded_at: r.responded_at(),
                resolved_at: r.resolved_at(),
                worker: r.worker().map(str::to_string),
                lease_until: r.lease_until(),
                escalated: r.is_escalated(),
                moves: r.moves(),
                returned_from: r.returned_from().to_vec(),
                evaluation: r.evaluation(),
                routing: r.routing().clone(),
                ticket: r.ticket_arc().clone(),
                incident,
                history: r
                    .history()
                    .iter()
                    .enumerate()
                    .map(|(seq, (at, kind))| HistoryEntry {
                        seq,
                        at: *at,
                        name: kind.name(),
                        event: kind.clone(),
                    })
                    .collect(),
            }))
        })
        .await
}

#[derive(Serialize)]
pub(crate) struct WorkItem {
    id: String,
    state: TicketState,
    priority: Priority,
    received_at: Timestamp,
    dispatched_at: Timestamp,
    deadline: Timestamp,
    /// Since the ticket was received.
    age_seconds: i64,
    /// Since it came to this agency.
    waiting_seconds: i64,
    worker: Option<String>,
    escalated: bool,
}

#[derive(Serialize)]
pub(crate) struct WorkList {
    agency: String,
    now: Timestamp,
    /// Every open ticket the agency holds (`tickets` may list fewer).
    open: usize,
    tickets: Vec<WorkItem>,
}

fn seconds(from: Timestamp, to: Timestamp) -> i64 {
    to.duration_since(from).as_secs()
}

/// `GET /api/worklist[?agency=&limit=]`: the agency's open tickets, in the
/// order they are claimed (urgent first, then the oldest), with their ages.
pub(crate) async fn worklist(
    State(state): State<AppState>,
    agent: Agent,
    Params(params): Params<ListParams>,
) -> Result<Json<WorkList>, ApiError> {
    let agency = agent.scope(params.agency)?;
    let limit = params.limit.unwrap_or(LIST_DEFAULT).min(LIST_MAX);
    let list = state
        .blocking(move |d| {
            let now = d.now();
            let mut tickets = Vec::new();
            d.for_each_open_at(&agency, |r| {
                tickets.push(WorkItem {
                    id: r.ticket().id.clone(),
                    state: r.state(),
                    priority: r.priority(),
                    received_at: r.received_at(),
                    dispatched_at: r.dispatched_at(),
                    deadline: r.deadline(),
                    age_seconds: seconds(r.received_at(), now),
                    waiting_seconds: seconds(r.dispatched_at(), now),
                    worker: r.worker().map(str::to_string),
                    escalated: r.is_escalated(),
                })
            });
            tickets.sort_by(|a, b| {
                (Reverse(a.priority), a.received_at, &a.id).cmp(&(
                    Reverse(b.priority),
                    b.received_at,
                    &b.id,
                ))
            });
            let open = tickets.len();
            tickets.truncate(limit);
            WorkList {
                agency,
                now,
                open,
                tickets,
            }
        })
        .await;
    Ok(Json(list))
}

#[derive(Serialize)]
pub(crate) struct OverdueItem {
    id: String,
    agency: String,
    deadline: Timestamp,
    state: TicketState,
    overdue_seconds: i64,
}

#[derive(Serialize)]
pub(crate) struct OverdueList {
    now: Timestamp,
    overdue: Vec<OverdueItem>,
}

#[derive(Deserialize)]
pub(crate) struct OverdueParams {
    agency: Option<String>,
}

/// `GET /api/overdue[?agency=]`: open tickets past their deadline (they
/// are escalated on the way), the token's agency's — all for a center
/// token that names none.
pub(crate) async fn overdue(
    State(state): State<AppState>,
    agent: Agent,
    Params(params): Params<OverdueParams>,
) -> Result<Json<OverdueList>, ApiError> {
    let only = match (params.agency, agent.is_center()) {
        (None, true) => None,
        (asked, _) => Some(agent.scope(asked)?),
    };
    let list = state
        .blocking(move |d| {
            let now = d.now();
            let overdue = d
                .overdue(now)
                .into_iter()
                .filter(|o| only.as_deref().is_none_or(|a| a == o.agency))
                .map(|o| OverdueItem {
                    overdue_seconds: seconds(o.deadline, now),
                    id: o.id.into(),
                    agency: o.agency.into(),
                    deadline: o.deadline,
                    state: o.state,
                })
                .collect();
            OverdueList { now, overdue }
        })
        .await;
    Ok(Json(list))
}
