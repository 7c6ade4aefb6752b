//! The service a city can run: Open311 GeoReport v2 intake, a worker API,
//! a live event stream and a dashboard, over one [`Dispatcher`]
//! (feature `server`).
//!
//! `hotline serve` is this module behind a command line; embed it in your
//! own tokio program the same way:
//!
//! ```no_run
//! use hotline_router::dispatch::Dispatcher;
//! use hotline_router::journal::JournalOptions;
//! use hotline_router::server::{Live, Server, ServerConfig};
//! use hotline_router::Router;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let live = Live::new();
//! let (dispatcher, _recovery) = Dispatcher::builder(Router::beijing())
//!     .observe(live.observer())
//!     .open_journal("hotline-data", JournalOptions::new())?;
//! let config = ServerConfig::new().api_key("city-intake-key");
//! let server = Server::new(dispatcher, live, config);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8311").await?;
//! server.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```
//!
//! # Routes
//!
//! * `/open311/v2/…`: the GeoReport v2 API, JSON and XML ([`open311`]).
//! * `/api/…`: the worker API, one bearer token per agency ([`worker`]).
//! * `/api/events`: lifecycle events as Server-Sent Events.
//! * `/`: the live dashboard.
//!
//! # Durability
//!
//! A request is answered only after the dispatcher acknowledged it, i.e.
//! once its events are in the journal (or the configured store): a `kill
//! -9` after the response loses nothing. Dispatcher calls block on that
//! write, so they run on tokio's blocking pool, where concurrent requests
//! share one group commit.

mod config;
pub mod dashboard;
mod limits;
mod live;
pub mod open311;
mod state;
pub mod worker;

use std::future::Future;
use std::io;

pub use config::ServerConfig;
pub use live::{Live, LiveEvent};

use crate::dispatch::Dispatcher;
use state::AppState;

/// The HTTP service over one dispatcher.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::Dispatcher;
/// use hotline_router::server::{Live, Server, ServerConfig};
/// use hotline_router::Router;
///
/// let live = Live::new();
/// let dispatcher = Dispatcher::builder(Router::beijing()).observe(live.observer()).build();
/// let server = Server::new(dispatcher, live, ServerConfig::new());
/// let app: axum::Router = server.app(); // mount it in your own axum service
/// # drop(app);
/// ```
#[derive(Clone, Debug)]
pub struct Server {
    state: AppState,
}

impl Server {
    /// A service over `dispatcher`, streaming what `live` observes (build
    /// the dispatcher with [`DispatcherBuilder::observe`](crate::dispatch::DispatcherBuilder::observe)`(live.observer())`).
    pub fn new(dispatcher: Dispatcher, live: Live, config: ServerConfig) -> Server {
        Server {
            state: AppState::new(dispatcher, live, config),
        }
    }

    /// The service as an axum router, with every route and limit (see
    /// [`ServerConfig`]: body size 413, timeout 408, rate per key 429).
    pub fn app(&self) -> axum::Router {
        let routes = axum::Router::new()
            .merge(open311::routes())
            .merge(worker::routes())
            .merge(dashboard::routes())
            .with_state(self.state.clone());
        limits::apply(routes, self.state.config())
    }

    /// Ends every open event stream (`/api/events`, `/dashboard/stream`),
    /// and every one opened later. [`serve`](Self::serve) calls it when its
    /// shutdown begins; call it yourself when you serve [`app`](Self::app)
    /// with a graceful shutdown of your own, which would otherwise wait for
    /// the streams' clients to hang up.
    pub fn close_streams(&self) {
        self.state.close_streams();
    }

    /// Serves on `listener` until `shutdown` completes, then stops taking
    /// connections, ends the event streams, lets requests in flight finish,
    /// and syncs the journal.
    ///
    /// # Errors
    ///
    /// The listener's I/O errors, or the journal's final sync failing.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let app = self.app();
        // The client's address keys the rate limit of callers without a key.
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let state = self.state.clone();
        let shutdown = async move {
            shutdown.await;
            state.close_streams();
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await?;
        let dispatcher = self.state.dispatcher().clone();
        tokio::task::spawn_blocking(move || dispatcher.sync())
            .await
            .map_err(io::Error::other)?
            .map_err(io::Error::other)
    }
}
