//! The live dashboard at `/`: one page for the hotline's duty officer,
//! updated as tickets arrive.
//!
//! # What it shows
//!
//! * **今日受理 today's volume**: tickets received since local midnight
//!   (in the router's time zone), by category (the top 10) and by
//!   district, on the map of the districts;
//! * **工单列表 work lists**: per agency, open items, the oldest item's
//!   age and how many are past their deadline (the 10 longest lists);
//! * **超期工单 overdue tickets**: the 10 that missed their deadline
//!   first: id, agency, category, how late;
//! * **三率**: this month's response, resolution and satisfaction rates,
//!   city-wide, and the worst agencies among those with at least 5
//!   call-backs;
//! * **预警 alerts**: spikes of a category in a district or street
//!   ([`SpikeDetector`](crate::analytics::spikes::SpikeDetector), fed with
//!   every ticket received while the server runs, after learning the
//!   records' history);
//! * **最新工单 latest tickets**: id, time, category, district, agency.
//!
//! # Routes
//!
//! * `GET /`: the page (plain HTML and JavaScript, no framework, nothing
//!   fetched from elsewhere: it works offline). Sent with
//!   `Content-Security-Policy: default-src 'self'`, and the script sets
//!   every value as text, never as markup: ticket text is citizens' input.
//! * `GET /dashboard/summary.json`: every number the page shows.
//! * `GET /dashboard/map.svg`: the district map, each district a
//!   `<path id="d-CODE">` shaded by today's count.
//! * `GET /dashboard/stream`: Server-Sent Events, one `changed` event
//!   (data: a version number) when tickets changed, at most two a second
//!   per client: 5,000 submits a second make two events, not 5,000. For
//!   wallboards and scripts that want to be told rather than ask.
//!
//! The page itself polls `summary.json` once a second (the next request
//! leaves only when the last one is answered, none while the tab is
//! hidden) instead of holding the stream open. Under load the two cost
//! the same (the stream fires at its throttle, twice a second), and ages
//! and deadlines move with time alone, so the page needs periodic
//! refreshes anyway; a poll also passes any proxy, and lets a headless
//! browser's virtual clock run, which an open stream stops (the page's
//! test renders it in headless Chromium exactly as shipped).
//!
//! # Staying cheap under load
//!
//! The dashboard's state is built at its first request (one scan of the
//! records) and then follows the [`Live`](super::Live) events: today's
//! counters, the latest tickets and the spike detector are updated per
//! event, in batches at most ten times a second, and never rescan. The
//! parts that need every open ticket (work lists, overdue, 三率) come from
//! one scan, cached for a second and shared by concurrent requests, so
//! request rate does not multiply scans. The map is redrawn only when the
//! district counts changed, at most once a second. A subscriber that
//! falls more than 4,096 events behind recounts today from the records
//! (the spike detector misses those events).
//!
//! # Example
//!
//! ```
//! use hotline_router::dispatch::Dispatcher;
//! use hotline_router::server::{Live, Server, ServerConfig};
//! use hotline_router::{Router, Ticket};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() {
//! let live = Live::new();
//! let dispatcher = Dispatcher::builder(Router::beijing()).observe(live.observer()).build();
//! dispatcher.submit(Ticket::new("T1", "楼道灯坏了").with_address("朝阳区呼家楼街道")).unwrap();
//! let app = Server::new(dispatcher, live, ServerConfig::new()).app();
//! let request = axum::http::Request::get("/dashboard/summary.json").body(axum::body::Body::empty()).unwrap();
//! let response = app.oneshot(request).await.unwrap();
//! let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
//! let summary: serde_json::Value = serde_json::from_slice(&body).unwrap();
//! assert_eq!(summary["latest"][0]["id"], "T1");
//! assert_eq!(summary["latest"][0]["district_name"], "朝阳区");
//! # }
//! ```

mod scan;
mod summary;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json};
use futures_util::Stream;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::OnceCell;

use super::state::AppState;
use summary::Board;

const PAGE: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("dashboard.js");
const STYLE: &str = include_str!("dashboard.css");

/// The fewest milliseconds between two `changed` events on one stream.
const STREAM_GAP: Duration = Duration::from_millis(500);
/// The fewest milliseconds between two batches of live events applied.
const FEED_GAP: Duration = Duration::from_millis(100);

/// The board, built at the first request that needs it.
type Cell = Arc<OnceCell<Arc<Board>>>;

pub(crate) fn routes() -> axum::Router<AppState> {
    let cell: Cell = Arc::default();
    axum::Router::new()
        .route("/", get(page))
        .route("/dashboard/dashboard.js", get(script))
        .route("/dashboard/dashboard.css", get(style))
        .route("/dashboard/summary.json", get(summary))
        .route("/dashboard/map.svg", get(map))
        .route("/dashboard/stream", get(stream))
        .layer(Extension(cell))
}

/// The board, built and fed from now on if it was not yet.
async fn board(state: &AppState, cell: &Cell) -> Arc<Board> {
    cell.get_or_init(|| async {
        let live = state.live().clone();
        let board = Arc::new(state.blocking(move |d| Board::new(d, &live)).await);
        feed(board.clone(), state.live().subscribe());
        board
    })
    .await
    .clone()
}

/// Applies live events to the board as they come, in batches: `wake`
/// only says that some arrived; the board reads them from its own
/// receiver. Ends when the service is gone (the broadcast closed).
fn feed(board: Arc<Board>, mut wake: tokio::sync::broadcast::Receiver<Arc<super::LiveEvent>>) {
    tokio::spawn(async move {
        loop {
            if let Err(RecvError::Closed) = wake.recv().await {
                return;
            }
            while !matches!(
                wake.try_recv(),
                Err(TryRecvError::Empty | TryRecvError::Closed)
            ) {}
            let b = board.clone();
            if tokio::task::spawn_blocking(move || b.drain())
                .await
                .is_err()
            {
                return;
            }
            tokio::time::sleep(FEED_GAP).await;
        }
    });
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'self'"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE,
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLE,
    )
        .into_response()
}

async fn summary(State(state): State<AppState>, Extension(cell): Extension<Cell>) -> Response {
    let board = board(&state, &cell).await;
    let summary = tokio::task::spawn_blocking(move || board.summary()).await;
    match summary {
        Ok(s) => ([(header::CACHE_CONTROL, "no-store")], Json(s)).into_response(),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

async fn map(State(state): State<AppState>, Extension(cell): Extension<Cell>) -> Response {
    let board = board(&state, &cell).await;
    let svg = tokio::task::spawn_blocking(move || board.map_svg()).await;
    match svg {
        Ok(svg) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            svg.to_string(),
        )
            .into_response(),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

async fn stream(
    State(state): State<AppState>,
    Extension(cell): Extension<Cell>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = board(&state, &cell).await.changes();
    let events = futures_util::stream::unfold((changes, false), |(mut changes, wait)| async move {
        if wait {
            tokio::time::sleep(STREAM_GAP).await;
        }
        changes.changed().await.ok()?;
        let version = *changes.borrow_and_update();
        let event = Event::default().event("changed").data(version.to_string());
        Some((Ok(event), (changes, true)))
    });
    Sse::new(state.until_closed(events)).keep_alive(KeepAlive::default())
}
