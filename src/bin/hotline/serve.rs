//! `hotline serve`: the HTTP service (`hotline_router::server`) over a
//! journaled dispatcher — Open311 intake, worker API, live dashboard — or,
//! with `--postgres`, over one whose events are in PostgreSQL
//! (`hotline_router::store::postgres`); `--standby` waits to take over
//! from the active server and binds `--addr` only once it has.
//!
//! Without the `server` feature the command exists but says how to build
//! it, so that `hotline --help` is the same in every build.

use std::path::PathBuf;

use clap::Args;

use crate::route::RouteArgs;
use crate::Failure;

/// The options of the serve command.
#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// Where to listen.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8311")]
    pub addr: String,
    /// The journal directory: every acknowledged request is there, and a
    /// restart restores from it.
    #[arg(long, value_name = "DIR", default_value = "hotline-data")]
    pub journal: PathBuf,
    /// Keep the events in PostgreSQL instead of the journal
    /// (`postgres://user@host/database`; needs the `postgres` feature).
    #[arg(long, value_name = "URL", conflicts_with = "journal")]
    pub postgres: Option<String>,
    /// With --postgres: the schema holding this city's events.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "hotline",
        requires = "postgres"
    )]
    pub schema: String,
    /// With --postgres: follow the active server's events and take over
    /// when it stops; until then nothing listens on --addr.
    #[arg(long, requires = "postgres")]
    pub standby: bool,
    /// An Open311 api_key admitted to post requests (repeatable). Without
    /// any, posting needs no key.
    #[arg(long = "api-key", value_name = "KEY")]
    pub api_keys: Vec<String>,
    /// A worker token for one agency's tickets, `AGENCY=TOKEN` (repeatable).
    #[arg(long = "agency-token", value_name = "AGENCY=TOKEN")]
    pub agency_tokens: Vec<String>,
    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024)]
    pub body_limit: usize,
    /// Requests per second per key (Open311 key, worker token or client
    /// address); 0 for no limit.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub rate: u32,
    /// Requests a key may make at once above its rate.
    #[arg(long, value_name = "N", default_value_t = 400)]
    pub burst: u32,
    /// Seconds before a request is answered 408.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
    /// How to build the router.
    #[command(flatten)]
    pub route: RouteArgs,
}

#[cfg(not(feature = "server"))]
pub fn run(_: &ServeArgs) -> Result<(), Failure> {
    Err(Failure::Usage(
        "this hotline was built without the server: cargo run --features server -- serve".into(),
    ))
}

#[cfg(feature = "server")]
pub fn run(args: &ServeArgs) -> Result<(), Failure> {
    use std::time::Duration;

    use hotline_router::dispatch::Dispatcher;
    use hotline_router::server::{Live, Server, ServerConfig};

    let router = crate::route::router(&args.route, "hotline").map_err(Failure::Usage)?;
    let mut config = ServerConfig::new();
    for key in &args.api_keys {
        config = config.api_key(key.clone());
    }
    for pair in &args.agency_tokens {
        let Some((agency, token)) = pair.split_once('=') else {
            return Err(Failure::Usage(format!(
                "--agency-token {pair:?}: expected AGENCY=TOKEN"
            )));
        };
        config = config.agency_token(agency, token);
    }
    config.body_limit = args.body_limit;
    config.rate_per_second = args.rate;
    config.rate_burst = args.burst;
    config.timeout = Duration::from_secs(args.timeout);

    let live = Live::new();
    let builder = Dispatcher::builder(router).observe(live.observer());
    let (dispatcher, lost) = match &args.postgres {
        None => (open_journal(args, builder)?, None),
        Some(url) => {
            let (d, lost) = open_postgres(args, url, builder)?;
            (d, Some(lost))
        }
    };
    let runtime = tokio::runtime::Runtime::new().map_err(Failure::io("starting the runtime"))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .map_err(Failure::io(format!("listening on {}", args.addr)))?;
        let local = listener.local_addr().map_err(Failure::io("listening"))?;
        eprintln!("hotline: serving on http://{local}/");
        // A writer that lost its store (its PostgreSQL session, and with it
        // the lock, is gone) stops serving: a standby takes over.
        let reason = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
        let (lost_tx, lost_rx) = tokio::sync::oneshot::channel::<()>();
        if let Some(lost) = lost {
            let reason = reason.clone();
            std::thread::spawn(move || {
                *reason.lock().unwrap_or_else(|p| p.into_inner()) = Some(lost());
                let _ = lost_tx.send(());
            });
        }
        let shutdown = async move {
            tokio::select! {
                () = shutdown_signal() => {},
                Ok(()) = lost_rx => {},
            }
        };
        Server::new(dispatcher, live, config)
            .serve(listener, shutdown)
            .await
            .map_err(Failure::io("serving"))?;
        if let Some(reason) = reason.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(Failure::Io {
                context: "writing to PostgreSQL".into(),
                source: std::io::Error::other(reason),
            });
        }
        Ok(())
    })
}

#[cfg(feature = "server")]
fn open_journal(
    args: &ServeArgs,
    builder: hotline_router::dispatch::DispatcherBuilder,
) -> Result<hotline_router::dispatch::Dispatcher, Failure> {
    use hotline_router::journal::JournalOptions;

    let (dispatcher, recovery) = builder
        .open_journal(&args.journal, JournalOptions::new())
        .map_err(|e| Failure::Usage(format!("{}: {e}", args.journal.display())))?;
    eprintln!(
        "hotline: journal {} ({} records replayed)",
        args.journal.display(),
        recovery.next_lsn
    );
    Ok(dispatcher)
}

/// Blocks until the store can no longer write; returns why.
#[cfg(feature = "server")]
type Lost = Box<dyn FnOnce() -> String + Send>;

#[cfg(all(feature = "server", not(feature = "postgres")))]
fn open_postgres(
    _: &ServeArgs,
    _: &str,
    _: hotline_router::dispatch::DispatcherBuilder,
) -> Result<(hotline_router::dispatch::Dispatcher, Lost), Failure> {
    Err(Failure::Usage(
        "this hotline was built without PostgreSQL: cargo run --features server,postgres -- serve --postgres URL".into(),
    ))
}

/// The active server (the schema's writer), or with --standby: follows the
/// writer and blocks until it has taken over.
#[cfg(all(feature = "server", feature = "postgres"))]
fn open_postgres(
    args: &ServeArgs,
    url: &str,
    builder: hotline_router::dispatch::DispatcherBuilder,
) -> Result<(hotline_router::dispatch::Dispatcher, Lost), Failure> {
    use hotline_router::store::postgres::{PgOptions, Standby};

    let options = PgOptions::new(url).schema(args.schema.clone());
    let schema = &args.schema;
    let (dispatcher, store) = if args.standby {
        let standby =
            Standby::start(&options).map_err(|e| Failure::Usage(format!("--standby: {e}")))?;
        eprintln!("hotline: standby for schema {schema}, waiting for the active server to stop");
        let (d, store) = standby
            .take_over(builder)
            .map_err(|e| Failure::Usage(format!("taking over schema {schema}: {e}")))?;
        eprintln!(
            "hotline: took over schema {schema} at position {}",
            store.stats().position
        );
        (d, store)
    } else {
        let (d, store) = builder
            .open_postgres(&options)
            .map_err(|e| Failure::Usage(format!("--postgres: {e}")))?;
        eprintln!(
            "hotline: writer of schema {schema} ({} events restored)",
            store.stats().position
        );
        (d, store)
    };
    let lost: Lost = Box::new(move || store.wait_poisoned().to_string());
    Ok((dispatcher, lost))
}

/// Ctrl-C or SIGTERM.
#[cfg(feature = "server")]
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
