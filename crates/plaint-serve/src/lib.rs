//! `plaint serve`: the engine as an HTTP/JSON service (docs/serve.md).
//!
//! A client of the facade `plaint` only, like the CLI. [`Server::bind`] takes an opened
//! [`plaint::Engine`] and a [`ServeConfig`]; [`Server::run`] answers requests until the shutdown
//! future completes, then finishes the requests in flight, ends the live event streams, saves
//! the projections' checkpoints and closes the engine (syncing the log and releasing the file
//! log's lock).
//!
//! - `error.rs` problem documents (RFC 9457), the domain's rejections as 409/422;
//! - `auth.rs` the [`auth::Principal`] every route asks (the access-control hook);
//! - `office.rs` instants in JSON as RFC 3339 with the office's UTC offset;
//! - `commands.rs` `POST /v1/commands`; `reads.rs` tickets, history, audit, SLA, queue, repeats,
//!   reports, stats, verify; `events.rs` the live event stream (Server-Sent Events);
//! - `ops.rs` health, readiness, Prometheus metrics, request limits; `openapi.rs` the OpenAPI
//!   3.1 document at `/v1/openapi.json`; `meters.rs` the per-request metrics' handles;
//! - `tokens.rs` API tokens created and revoked through the running server (`admin` role);
//!   `client.rs` the client side of those routes (`plaint token … --server URL`).

#![warn(missing_docs)]

pub mod auth;
pub mod commands;
mod dashboard;
pub mod error;
mod events;
mod group;
// The command reader of `plaint submit`/`plaint import`, compiled in as it is (like the
// command_json fuzz target): one reading of command JSON, errors naming the field.
pub mod client;
pub mod limits;
#[path = "../../plaint-cli/src/lines.rs"]
#[allow(dead_code, missing_docs)]
mod lines;
mod meters;
pub mod office;
pub mod openapi;
mod ops;
mod reads;
pub mod tokens;

use axum::routing::{get, post};
use axum::Router;
use plaint::Engine;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

pub use error::{ApiError, Problem};

/// The tokio runtime `plaint serve` runs on: multi-threaded, one worker per core (tokio's
/// default), the workers named `serve-worker`. The one builder of it: `plaint serve`
/// (crates/plaint-cli/src/main.rs) and the load bench (`benches/serve_load.rs`) both call it, so
/// the bench measures what the server runs. The scheduler's own settings (event interval,
/// global queue interval, more workers than cores, a spin before a worker parks) are tokio's
/// defaults: none changed the throughput or the CPU per command measurably on the bench
/// (docs/PERFORMANCE.md, "Issue 15, wave 8").
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name("serve-worker")
        .enable_all()
        .build()
}

/// Request bodies larger than this are refused with 413 unless configured otherwise.
pub const BODY_LIMIT_DEFAULT: usize = 1024 * 1024;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The address to listen on (`127.0.0.1:0` picks a free port; see [`Server::local_addr`]).
    pub listen: SocketAddr,
    /// Largest accepted request body in bytes (413 above it).
    pub body_limit: usize,
    /// Requests per second the server accepts (with a burst of as many); `None`: no limit.
    /// Above it: 429 with `Retry-After`.
    pub rate_limit: Option<u32>,
    /// The office's IANA time zone for instants in JSON; `None`: the business calendar's
    /// UTC offset.
    pub time_zone: Option<plaint::BusinessZone>,
    /// Whether requests need an API token ([`auth::AccessMode::Tokens`], the default).
    pub access: auth::AccessMode,
    /// Default request rate limits of the tokens by role ([`limits`]); a token's own limit
    /// (recorded when it was created) wins. `rate_limit` stays the ceiling over all.
    pub token_rate_limits: limits::TokenRateLimits,
    /// The clock the rate-limit buckets refill by (the process's monotonic clock unless a
    /// test drives one).
    pub rate_clock: limits::RateClock,
    /// How old the O(tickets) gauges of `/metrics` (open tickets, SLA breaches) may be before a
    /// scrape recomputes them (docs/serve.md "Metrics"); zero recomputes at every scrape.
    pub metrics_max_age: std::time::Duration,
    /// How long `/readyz` waits for the projections to fold the events committed since they
    /// last caught up before it answers 503 "catching_up" (the catch-up goes on in the
    /// background). The command path keeps only the repeat projection current, so after any
    /// command the others are behind until a read folds them: a probe folds them itself.
    pub ready_wait: std::time::Duration,
}

/// The default of [`ServeConfig::metrics_max_age`]: a common Prometheus scrape interval.
pub const METRICS_MAX_AGE_DEFAULT: std::time::Duration = std::time::Duration::from_secs(15);

/// The default of [`ServeConfig::ready_wait`]: well under a load balancer's probe timeout,
/// far longer than folding the events of a busy second.
pub const READY_WAIT_DEFAULT: std::time::Duration = std::time::Duration::from_secs(1);

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit: BODY_LIMIT_DEFAULT,
            rate_limit: None,
            time_zone: None,
            access: auth::AccessMode::Tokens,
            token_rate_limits: limits::TokenRateLimits::default(),
            rate_clock: limits::RateClock::default(),
            metrics_max_age: METRICS_MAX_AGE_DEFAULT,
            ready_wait: READY_WAIT_DEFAULT,
        }
    }
}

/// Why the server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Serving failed (the listener broke).
    #[error("serving on {addr}: {source}")]
    Serve {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The group commit's task ended (a commit panicked): the server stopped itself, with the
    /// engine dropped unclosed (no checkpoint saved of what the panic may have left half
    /// updated), so that a supervisor restarts it (docs/serve.md, "Commands").
    #[error("the group commit stopped (a commit panicked); the server stopped without saving checkpoints")]
    GroupStopped,
    /// Closing the engine after shutdown failed (checkpoints, the log's final sync).
    #[error("closing the engine after shutdown: {0}")]
    Close(#[from] plaint::EngineError),
}

/// What every request handler shares: the engine and the server's configuration.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Arc<Engine>,
    config: ServeConfig,
    office: office::Office,
    rate_limiter: Option<ops::RateLimiter>,
    /// The buckets of the tokens' own rate limits.
    token_limiter: limits::TokenLimiter,
    /// The last computed O(tickets) gauges of `/metrics`.
    metrics_cache: ops::MetricsCache,
    /// The projections' position when last seen (metrics report it while a catch-up holds them).
    last_projections: std::sync::atomic::AtomicU64,
    /// The log's API tokens as this server last read them (auth.rs).
    access: auth::AccessState,
    /// Turns `true` when shutdown begins: live event streams end.
    shutting_down: tokio::sync::watch::Receiver<bool>,
    /// Single commands committed in groups (group.rs); its task ends with the last handle.
    grouper: group::Grouper,
}

impl AppState {
    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The server's configuration.
    pub fn config(&self) -> &ServeConfig {
        &self.inner.config
    }

    /// The server's view of the log's API tokens.
    pub fn access(&self) -> &auth::AccessState {
        &self.inner.access
    }

    /// The office's time zone, which JSON instants are written in.
    pub fn office(&self) -> &office::Office {
        &self.inner.office
    }

    /// The projections' position without waiting: now when free, else as last seen.
    pub(crate) fn projections_position(&self) -> u64 {
        use std::sync::atomic::Ordering::Relaxed;
        match self.engine().projections_position() {
            Some(p) => {
                self.inner.last_projections.fetch_max(p, Relaxed);
                p
            }
            None => self.inner.last_projections.load(Relaxed),
        }
    }

    pub(crate) fn rate_limiter(&self) -> Option<&ops::RateLimiter> {
        self.inner.rate_limiter.as_ref()
    }

    pub(crate) fn token_limiter(&self) -> &limits::TokenLimiter {
        &self.inner.token_limiter
    }

    pub(crate) fn metrics_cache(&self) -> &ops::MetricsCache {
        &self.inner.metrics_cache
    }

    pub(crate) fn grouper(&self) -> &group::Grouper {
        &self.inner.grouper
    }

    /// A receiver that turns `true` when shutdown begins.
    pub fn shutdown_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.shutting_down.clone()
    }
}

/// A bound, not yet running server.
pub struct Server {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    engine: Arc<Engine>,
    state: AppState,
    shutdown_tx: tokio::sync::watch::Sender<bool>,
}

impl Server {
    /// Binds `config.listen` for `engine`.
    pub async fn bind(engine: Engine, config: ServeConfig) -> Result<Server, ServeError> {
        Server::bind_with(engine, config, group::Grouper::start).await
    }

    /// [`Server::bind`] with `group` starting the group commit (a test's, that panics).
    async fn bind_with(
        engine: Engine,
        config: ServeConfig,
        group: fn(Arc<Engine>) -> group::Grouper,
    ) -> Result<Server, ServeError> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
        ops::init_metrics();
        let office = office::Office(config.time_zone.unwrap_or_else(|| engine.calendar().time_zone()));
        let engine = Arc::new(engine);
        let (shutdown_tx, shutting_down) = tokio::sync::watch::channel(false);
        let state = AppState {
            inner: Arc::new(Inner {
                engine: engine.clone(),
                rate_limiter: config.rate_limit.filter(|r| *r > 0).map(ops::RateLimiter::new),
                token_limiter: limits::TokenLimiter::new(config.token_rate_limits.clone(), config.rate_clock.clone()),
                metrics_cache: ops::MetricsCache::default(),
                last_projections: std::sync::atomic::AtomicU64::new(0),
                access: auth::AccessState::new(config.access),
                office,
                config,
                shutting_down,
                grouper: group(engine.clone()),
            }),
        };
        Ok(Server {
            listener,
            addr,
            engine,
            state,
            shutdown_tx,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes; then stops accepting, ends the live event streams,
    /// waits for the requests in flight, and closes the engine (checkpoints saved, the log
    /// synced, the file log's lock released).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        let Server {
            listener,
            addr,
            engine,
            state,
            shutdown_tx,
        } = self;
        // The group commit's task ending (a commit panicked) stops the server too.
        let grouper = state.grouper().clone();
        let stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let group_stopped = stopped.clone();
        let app = app(state);
        // Drains the metrics' samples while nobody scrapes; ends when the server stops.
        tokio::spawn(ops::keep_metrics_up(shutdown_tx.subscribe()));
        tracing::info!(%addr, "serving");
        let served = axum::serve(
            listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service(app),
        )
        .with_graceful_shutdown(async move {
            tokio::select! {
                () = shutdown => {}
                () = grouper.until_stopped() => {
                    tracing::error!("the group commit stopped: the server stops");
                    stopped.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
            // The handle let go, so the group's task ends once the last request's does.
            drop(grouper);
            tracing::info!("shutdown: finishing the requests in flight");
            let _ = shutdown_tx.send(true);
        })
        .await;
        served.map_err(|source| ServeError::Serve { addr, source })?;
        if group_stopped.load(std::sync::atomic::Ordering::SeqCst) {
            // Not closed: a checkpoint saved now could keep what the panic left half updated;
            // the next start folds the log (the truth) from the last good checkpoint.
            drop(engine);
            return Err(ServeError::GroupStopped);
        }
        close_engine(engine).await?;
        tracing::info!(%addr, "stopped: store closed");
        Ok(())
    }
}

/// Closes the engine once the last request let go of it.
async fn close_engine(mut engine: Arc<Engine>) -> Result<(), ServeError> {
    // Every connection has ended; what may still hold the engine is a background catch-up
    // started by a readiness probe, which ends by itself. Wait for it (a minute at most).
    for attempt in 0..6000u32 {
        match Arc::try_unwrap(engine) {
            Ok(engine) => return Ok(engine.close().await?),
            Err(shared) => {
                engine = shared;
                if attempt % 500 == 499 {
                    tracing::info!("shutdown: waiting for a background catch-up to finish");
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
    // Still shared: save what can be saved; the last holder's drop closes the log.
    tracing::warn!("shutdown: the engine is still in use; checkpoints saved, the log closes when it is released");
    engine.save_checkpoints().await?;
    Ok(())
}

/// Binds and serves until `shutdown` completes (see [`Server::run`]).
pub async fn serve(
    engine: Engine,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    Server::bind(engine, config).await?.run(shutdown).await
}

/// The application: every route ([`router`]) inside the layers every request passes once,
/// outermost first: the request id (a caller's own is kept; set on the request, its span and
/// its answer, so a client's report and the server's log name the same request) and the body
/// limit. They wrap the router as one service instead of being layered onto each route: a
/// layer added with `Router::layer` is boxed around every route and costs a boxed service
/// clone and a boxed future per request (docs/PERFORMANCE.md, "Issue 15, wave 6").
fn app(
    state: AppState,
) -> impl tower::Service<
    axum::extract::Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send + 'static,
> + Clone
       + Send
       + Sync
       + 'static {
    let body_limit = state.config().body_limit;
    tower::ServiceBuilder::new()
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(
            ops::MakeRequestId::new(),
        ))
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .service(router(state))
}

/// Every route, with the one layer that needs the matched route (`ops::observe`: tracing,
/// metrics by route, the rate limits).
fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/v1/commands", post(commands::post_commands))
        .route("/v1/tickets", get(reads::list_tickets))
        .route("/v1/tickets/{id}", get(reads::get_ticket))
        .route("/v1/tickets/{id}/history", get(reads::history))
        .route("/v1/tickets/{id}/sla", get(reads::ticket_sla))
        .route("/v1/audit", get(reads::audit))
        .route("/v1/sla", get(reads::sla))
        .route("/v1/sla/at-risk", get(reads::at_risk))
        .route("/v1/queue", get(reads::queue))
        .route("/v1/repeats", get(reads::repeats))
        .route("/v1/reports/{kind}", get(reads::report))
        .route("/v1/stats", get(reads::stats))
        .route("/v1/verify", get(reads::verify))
        .route("/v1/events", get(events::events))
        .route("/v1/openapi.json", get(openapi::openapi_json))
        .route("/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/v1/tokens/{token}/revoke", post(tokens::revoke))
        .route("/", get(dashboard::page));
    ops::routes()
        .merge(v1)
        .fallback(ops::unknown_route)
        .method_not_allowed_fallback(ops::method_not_allowed)
        // Tracing, metrics and the rate limits, in one layer.
        .layer(axum::middleware::from_fn_with_state(state.clone(), ops::observe))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    /// `plaint serve` and its load bench run on this runtime: a worker per core (more than one
    /// thread), named as the bench's per-thread CPU figures and a thread dump name them.
    #[test]
    fn the_runtime_has_named_workers_per_core() {
        let rt = super::runtime().unwrap();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(rt.metrics().num_workers(), cores);
        assert_eq!(rt.handle().runtime_flavor(), tokio::runtime::RuntimeFlavor::MultiThread);
        let name = rt.block_on(async {
            tokio::spawn(async { std::thread::current().name().map(str::to_owned) })
                .await
                .unwrap()
        });
        assert_eq!(name.as_deref(), Some("serve-worker"));
    }

    /// Review of wave 12: when the group commit's task ends (a commit panicked), the probes
    /// answer 503 and the server stops by itself with `GroupStopped` (a supervisor restarts it),
    /// the store not closed (no checkpoint saved).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_server_whose_group_commit_panicked_says_so_and_stops() {
        use axum::extract::State;
        use axum::response::IntoResponse;
        fn panicking(engine: std::sync::Arc<plaint::Engine>) -> crate::group::Grouper {
            crate::group::Grouper::start_with(engine, crate::group::tests::panics_at_once)
        }
        let dir = tempfile::tempdir().unwrap();
        let engine = plaint::Engine::open(plaint::EngineConfig::file(dir.path()))
            .await
            .unwrap();
        let config = super::ServeConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        };
        let server = super::Server::bind_with(engine, config, panicking).await.unwrap();
        let state = server.state.clone();
        let health = super::ops::healthz(State(state.clone())).await.into_response();
        assert_eq!(health.status(), axum::http::StatusCode::OK);
        let running = tokio::spawn(server.run(std::future::pending()));
        let lost = state.grouper().execute(crate::group::tests::a_receive()).await;
        assert!(matches!(lost, Err(crate::group::Failed::Lost)));
        state.grouper().until_stopped().await;
        for answer in [
            super::ops::healthz(State(state.clone())).await.into_response(),
            super::ops::readyz(State(state.clone())).await.into_response(),
        ] {
            assert_eq!(answer.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        }
        drop(state);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(60), running)
            .await
            .expect("the server stops by itself");
        assert!(matches!(ended.unwrap(), Err(super::ServeError::GroupStopped)));
    }
}
