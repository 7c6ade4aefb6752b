//! The worker API under `/api/` (JSON): agencies' workers claim, respond,
//! resolve and return tickets; the hotline center reassigns, calls back
//! and splits; everyone reads the 三率, the rankings and a live stream of
//! lifecycle events.
//!
//! # Who may do what
//!
//! Every request carries `Authorization: Bearer TOKEN`; the server's
//! [`ServerConfig::agency_token`](crate::server::ServerConfig::agency_token)
//! says which agency a token admits. No token, or one the server does not
//! know: `401`.
//!
//! * An **agency's token** acts on the tickets its agency holds now:
//!   claims from its own work list, responds, resolves and returns (退单)
//!   them, and reassigns them by hand. It reads the record of every ticket
//!   its agency holds or held (a returned ticket's history stays its
//!   business), its own work list and overdue tickets, and the events of
//!   those tickets. Anything else: `403`.
//! * The **hotline center's tokens** — agency codes starting with
//!   `center:`, e.g. `center:triage` — admit every ticket and every list
//!   (`"agency"` in a claim, `?agency=` on a list), and the center's own
//!   operations: the call-back (`evaluate`, 回访) and `split` (a caller
//!   wrongly merged into an incident). An agency's token asking for them
//!   gets `403`.
//! * **Rates and rankings** are public within the city, as Beijing
//!   publishes them: any valid token reads every row.
//!
//! A token says which agency is asking, not which worker: the `worker`
//! field of a request names them, and is recorded in the events. A claim
//! belongs to the worker named at claim time; respond, resolve and return
//! by anyone else are refused (`409`). Worker names are the agencies' own:
//! the server does not check them against a roster.
//!
//! # Routes
//!
//! | Route | Body | Answer |
//! |---|---|---|
//! | `POST /api/claim` | `{"worker", "agency"?}` | the claimed ticket, or `204` when the list is empty |
//! | `POST /api/tickets/{id}/respond` | `{"worker"}` | the ticket |
//! | `POST /api/tickets/{id}/resolve` | `{"worker", "outcome"}` | the ticket |
//! | `POST /api/tickets/{id}/return` | `{"worker", "reason"}` | the ticket, at its next agency |
//! | `POST /api/tickets/{id}/reassign` | `{"worker", "agency", "reason"}` | the ticket, at `agency` |
//! | `POST /api/tickets/{id}/evaluate` | `{"responded", "resolved", "satisfied"}` | the ticket (center) |
//! | `POST /api/tickets/{id}/split` | `{"worker", "reason"}` | the ticket, on its own (center) |
//! | `GET /api/tickets/{id}` | | state, agency, priority, deadline, history, incident |
//! | `GET /api/worklist?agency=&limit=` | | open tickets, urgent first then oldest, with ages |
//! | `GET /api/overdue?agency=` | | open tickets past their deadline |
//! | `GET /api/rates?group=&from=&to=` | | 三率 per agency, street or district |
//! | `GET /api/rankings?month=YYYY-MM&group=&min_evaluated=&bottom=` | | the month's ranking |
//! | `GET /api/events` | | Server-Sent Events |
//!
//! An operation is answered once the dispatcher acknowledged it (its
//! events are in the journal). "The ticket" is
//! `{"id", "state", "agency", "priority", "deadline", "worker", "incident"}`
//! as the operation left it.
//!
//! `rates` counts the tickets received in `[from, to)` (dates in the
//! router's time zone or RFC 3339 times; all tickets by default);
//! `rankings` ranks the groups with at least `min_evaluated` (default 5)
//! evaluations in the month (default: the current one) by the mean of the
//! three rates and names the `bottom` (default 3) worst.
//!
//! # Errors
//!
//! `{"error": {"kind": "...", "message": "..."}}` with
//!
//! * `400`: a body that is not the JSON asked for (`bad_json`), an empty
//!   or overlong field (`bad_field`), a bad query (`bad_query`), an
//!   unknown agency (`unknown_agency`);
//! * `401` (`unauthorized`), `403` (`forbidden`), as above;
//! * `404`: no such ticket (`unknown_ticket`);
//! * `409`: the ticket's state does not allow it (`wrong_state`), another
//!   worker holds it (`not_holder`), it is linked to an incident — act on
//!   the head (`linked`), there is nothing to split (`not_linked`), it
//!   moved too often (`too_many_moves`) or every agency returned it
//!   (`no_agency_left`);
//! * `413`: the body is too large (`too_large`);
//! * `503`: the journal refused the operation; nothing changed
//!   (`unavailable`).
//!
//! # Events
//!
//! `GET /api/events` streams each acknowledged lifecycle event as
//! `event: <name>` (`received`, `dispatched`, `claimed`, …),
//! `id: <ticket>/<seq>` and `data:` the
//! [`LiveEvent`](crate::server::LiveEvent) as JSON, with a keep-alive
//! comment every 15 s. A client too slow to keep up misses the oldest
//! events and is told so:
//! `event: lagged`, `data: {"missed": N}`, then the stream continues.
//! An agency's token gets the events of the tickets its agency held by
//! the time of the event (from their dispatch to it on); the center's
//! tokens get all.
//!
//! # A session
//!
//! ```text
//! $ hotline serve --agency-token street:110105001=s3cret --agency-token center:triage=c3nter &
//! $ curl -s -X POST localhost:8311/api/claim -H 'Authorization: Bearer s3cret' \
//!        -H 'Content-Type: application/json' -d '{"worker":"wang"}'
//! {"id":"T1","agency":"street:110105001","priority":"normal","deadline":"2024-11-21T10:00:00Z",
//!  "lease_until":"2024-11-20T08:30:00Z","callers":1,"ticket":{"id":"T1","text":"楼道灯坏了",…}}
//! $ curl -s -X POST localhost:8311/api/tickets/T1/respond -H 'Authorization: Bearer s3cret' \
//!        -H 'Content-Type: application/json' -d '{"worker":"wang"}'
//! {"id":"T1","state":"responded","agency":"street:110105001",…}
//! $ curl -s -X POST localhost:8311/api/tickets/T1/resolve -H 'Authorization: Bearer s3cret' \
//!        -H 'Content-Type: application/json' -d '{"worker":"wang","outcome":"bulb replaced"}'
//! {"id":"T1","state":"resolved",…}
//! $ curl -s -X POST localhost:8311/api/tickets/T1/evaluate -H 'Authorization: Bearer c3nter' \
//!        -H 'Content-Type: application/json' -d '{"responded":true,"resolved":true,"satisfied":true}'
//! {"id":"T1","state":"evaluated",…}
//! $ curl -sN localhost:8311/api/events -H 'Authorization: Bearer s3cret'
//! event: received
//! id: T2/0
//! data: {"ticket":"T2","seq":0,"at":"…","name":"received","kind":{"received":{…}}}
//! ```

mod auth;
mod error;
mod events;
mod rates;
mod tickets;

use axum::routing::{get, post};

use super::state::AppState;

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/claim", post(tickets::claim))
        .route("/api/tickets/{id}", get(tickets::record))
        .route("/api/tickets/{id}/respond", post(tickets::respond))
        .route("/api/tickets/{id}/resolve", post(tickets::resolve))
        .route("/api/tickets/{id}/return", post(tickets::return_ticket))
        .route("/api/tickets/{id}/reassign", post(tickets::reassign))
        .route("/api/tickets/{id}/evaluate", post(tickets::evaluate))
        .route("/api/tickets/{id}/split", post(tickets::split))
        .route("/api/worklist", get(tickets::worklist))
        .route("/api/overdue", get(tickets::overdue))
        .route("/api/rates", get(rates::rates))
        .route("/api/rankings", get(rates::rankings))
        .route("/api/events", get(events::events))
}
