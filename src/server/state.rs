//! What every handler shares.

use std::sync::Arc;

use futures_util::{Stream, StreamExt};
use tokio::sync::watch;

use crate::dispatch::Dispatcher;

use super::open311::Open311State;
use super::{Live, ServerConfig};

/// The handlers' shared state: cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    dispatcher: Dispatcher,
    live: Live,
    config: ServerConfig,
    open311: Open311State,
    /// Set once the server shuts down: event streams end then, or a
    /// graceful shutdown would wait for their clients forever.
    closing: watch::Sender<bool>,
}

impl AppState {
    pub(crate) fn new(dispatcher: Dispatcher, live: Live, config: ServerConfig) -> AppState {
        AppState(Arc::new(Inner {
            open311: Open311State::new(&dispatcher),
            dispatcher,
            live,
            config,
            closing: watch::Sender::new(false),
        }))
    }

    /// Ends every event stream, open or opened later.
    pub(crate) fn close_streams(&self) {
        self.0.closing.send_replace(true);
    }

    /// `stream`, ending when [`close_streams`](Self::close_streams) is called.
    pub(crate) fn until_closed<S: Stream>(&self, stream: S) -> impl Stream<Item = S::Item> {
        let mut closing = self.0.closing.subscribe();
        stream.take_until(async move {
            let _ = closing.wait_for(|closed| *closed).await;
        })
    }

    pub(crate) fn dispatcher(&self) -> &Dispatcher {
        &self.0.dispatcher
    }

    #[allow(dead_code)]
    pub(crate) fn live(&self) -> &Live {
        &self.0.live
    }

    pub(crate) fn config(&self) -> &ServerConfig {
        &self.0.config
    }

    /// Request ids and the requests by time (filled from the dispatcher's
    /// records at start).
    pub(crate) fn open311(&self) -> &Open311State {
        &self.0.open311
    }

    /// Runs `f` on the dispatcher on tokio's blocking pool: a dispatcher
    /// call may wait for the journal's sync, which must not stall the
    /// async workers (and there, concurrent requests share one sync).
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Dispatcher) -> T + Send + 'static,
    ) -> T {
        let d = self.0.dispatcher.clone();
        match tokio::task::spawn_blocking(move || f(&d)).await {
            Ok(v) => v,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}
