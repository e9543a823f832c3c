//! Operations: health, readiness, Prometheus metrics, request limits (body size, rate), and
//! the answers to unknown routes.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process answers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    status: String,
}

/// `GET /healthz`: the process answers (503 when the group commit has stopped).
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, description = "The group commit stopped")))]
pub(crate) async fn healthz(State(state): State<AppState>) -> Result<Response, ApiError> {
    group_running(&state)?;
    Ok(state.office().json(
        StatusCode::OK,
        &Health {
            status: "ok".to_owned(),
        },
    ))
}

/// 503 when the group commit's task has ended (a commit panicked): every single command fails
/// then, and the server is stopping (docs/serve.md, "Commands").
fn group_running(state: &AppState) -> Result<(), ApiError> {
    if state.grouper().stopped() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "group-commit-stopped",
            "Group commit stopped",
            "the group commit's task ended (a commit panicked, see the server's log): single commands cannot be committed and the server is stopping",
        ));
    }
    Ok(())
}

/// Whether the server can answer reads with current figures.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Readiness {
    /// `ready`, or `catching_up` while the projections are behind the log.
    status: String,
    /// The log's last committed position.
    head_position: u64,
    /// The position the projections have folded up to.
    projections_position: u64,
    /// `head_position - projections_position`.
    lag_events: u64,
}

/// `GET /readyz`: the store is open and the projections have caught up with the log (503
/// with the lag while they catch up, or when the store does not answer, or when the group
/// commit has stopped).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Response, ApiError> {
    group_running(&state)?;
    let head = state.engine().head_position().await.map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store-unavailable",
            "Store unavailable",
            format!("the store does not answer: {e}"),
        )
    })?;
    // Fold what was committed since the projections last caught up (the command path keeps
    // only the repeat projection current), waiting at most `ready_wait`; a longer catch-up
    // (a rebuild at start) goes on in the background and the probe says so.
    let catch_up = {
        let state = state.clone();
        tokio::spawn(async move { state.engine().catch_up().await })
    };
    let projections = match tokio::time::timeout(state.config().ready_wait, catch_up).await {
        Ok(Ok(Ok(position))) => Some(position),
        Ok(Ok(Err(e))) => return Err(e.into()),
        Ok(Err(join)) => {
            tracing::error!(error = %join, "readiness: the catch-up task failed");
            None
        }
        Err(_elapsed) => None,
    };
    let position = projections
        .or_else(|| state.engine().projections_position())
        .unwrap_or(0);
    let (status, code) = if projections.is_some_and(|p| p >= head) {
        ("ready", StatusCode::OK)
    } else {
        ("catching_up", StatusCode::SERVICE_UNAVAILABLE)
    };
    Ok(state.office().json(
        code,
        &Readiness {
            status: status.to_owned(),
            head_position: head,
            projections_position: position,
            lag_events: head.saturating_sub(position),
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

/// Buckets of the request and append latency histograms, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The process-wide Prometheus recorder (one per process, shared by every server in it).
fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
            .expect("the bucket list is not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "another metrics recorder is installed; /metrics shows only the figures read at scrape time"
            );
        }
        handle
    })
}

/// Makes sure the recorder exists before the first figure is recorded.
pub(crate) fn init_metrics() {
    let _ = prometheus();
}

/// How often the recorder's upkeep runs: the crate's own default for the recorders it runs
/// the upkeep of itself (`PrometheusBuilder::upkeep_timeout`).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Drains the recorder's histogram samples into their buckets and summaries every
/// [`UPKEEP_EVERY`] until `stopping` says the server stops (or its sender is gone).
///
/// A recorder made with `build_recorder` (as [`prometheus`] makes it) gets no upkeep task
/// from metrics-exporter-prometheus: without this, every histogram sample (24 bytes; several
/// per command) would stay in memory until `/metrics` is next rendered, so a server nobody
/// scrapes would grow with every command.
pub(crate) async fn keep_metrics_up(stopping: tokio::sync::watch::Receiver<bool>) {
    upkeep_until(UPKEEP_EVERY, stopping, || prometheus().run_upkeep()).await;
}

/// Runs `upkeep` every `every` (the first at once) until `stopping` turns true or its sender
/// is dropped.
async fn upkeep_until(every: Duration, mut stopping: tokio::sync::watch::Receiver<bool>, upkeep: impl Fn()) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => upkeep(),
            _ = stopping.wait_for(|stop| *stop) => return,
        }
    }
}

/// Counts one command by kind and outcome (`committed`, `deduplicated`, `no_op`, `rejected`,
/// `contended`, `error`).
pub(crate) fn record_command(kind: &'static str, outcome: &'static str) {
    crate::meters::command_done(kind, outcome);
}

/// Records how long a command (or a batch) took from decision to durable append.
pub(crate) fn record_append(took: Duration) {
    crate::meters::append_took(took);
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain", body = String)))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let engine = state.engine();
    let mut text = prometheus().render();
    let head = engine.head_position().await?;
    // Before the reports below catch the projections up: how far behind they were.
    let projected = state.projections_position();
    gauge(
        &mut text,
        "plaint_head_position",
        "The log's last committed position.",
        head as f64,
    );
    gauge(
        &mut text,
        "plaint_group_stopped",
        "1 when the group commit's task has ended (a commit panicked; single commands fail and the server stops), else 0.",
        if state.grouper().stopped() { 1.0 } else { 0.0 },
    );
    gauge(
        &mut text,
        "plaint_projection_lag_events",
        "Committed events the projections have not folded yet (as last seen while a catch-up runs).",
        head.saturating_sub(projected) as f64,
    );
    let gauges = state.metrics_cache().get(&state).await?;
    gauge(
        &mut text,
        "plaint_open_tickets",
        "Tickets not closed.",
        gauges.open as f64,
    );
    let _ = writeln!(
        text,
        "# HELP plaint_sla_breaches Clocks breached or pending past their deadline, now, by clock.\n# TYPE plaint_sla_breaches gauge"
    );
    for (clock, n) in &gauges.breaches {
        let _ = writeln!(text, "plaint_sla_breaches{{clock=\"{clock}\"}} {n}");
    }
    gauge(
        &mut text,
        "plaint_metrics_gauges_age_seconds",
        "How old plaint_open_tickets and plaint_sla_breaches are (recomputed when older than the server's metrics max age).",
        gauges.computed.elapsed().as_secs_f64(),
    );
    gauge(
        &mut text,
        "plaint_metrics_gauges_position",
        "The projections' position plaint_open_tickets and plaint_sla_breaches were computed at.",
        gauges.position as f64,
    );
    if let Some(w) = engine.writer_stats() {
        let _ = writeln!(
            text,
            "# HELP plaint_fsync_seconds fdatasync latency of the file log's writer since open.\n# TYPE plaint_fsync_seconds histogram"
        );
        let mut cumulative = 0u64;
        for (i, bound) in plaint::SYNC_BUCKET_BOUNDS_MICROS.iter().enumerate() {
            cumulative += w.sync_buckets[i];
            let _ = writeln!(
                text,
                "plaint_fsync_seconds_bucket{{le=\"{}\"}} {cumulative}",
                *bound as f64 / 1e6
            );
        }
        let _ = writeln!(text, "plaint_fsync_seconds_bucket{{le=\"+Inf\"}} {}", w.syncs);
        let _ = writeln!(text, "plaint_fsync_seconds_sum {}", w.sync_nanos as f64 / 1e9);
        let _ = writeln!(text, "plaint_fsync_seconds_count {}", w.syncs);
        write_commit_parts(&mut text, &w);
    }
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(r)
}

/// The file log's commit latency by part (`plaint_commit_part_seconds{part}`: buckets and
/// count; the log keeps no sum) and its threads' time by role
/// (`plaint_log_thread_seconds_total{role}`), since open.
fn write_commit_parts(text: &mut String, w: &plaint::WriterStats) {
    let _ = writeln!(
        text,
        "# HELP plaint_commit_part_seconds Acknowledged appends' latency in the file log, by part (queued, writing, behind_sync, sync, answering, wake).\n# TYPE plaint_commit_part_seconds histogram"
    );
    for (part, buckets) in w.commit_parts.named() {
        let mut cumulative = 0u64;
        for (n, bound) in buckets.iter().zip(plaint::COMMIT_PART_BOUNDS_MICROS) {
            cumulative += n;
            let le = bound as f64 / 1e6;
            let _ = writeln!(
                text,
                "plaint_commit_part_seconds_bucket{{part=\"{part}\",le=\"{le}\"}} {cumulative}"
            );
        }
        let count: u64 = buckets.iter().sum();
        let _ = writeln!(
            text,
            "plaint_commit_part_seconds_bucket{{part=\"{part}\",le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(text, "plaint_commit_part_seconds_count{{part=\"{part}\"}} {count}");
    }
    let _ = writeln!(
        text,
        "# HELP plaint_log_thread_seconds_total The file log's two threads' time by role (writing, syncing, waiting for work).\n# TYPE plaint_log_thread_seconds_total counter"
    );
    let r = w.role_times;
    for (role, nanos) in [
        ("writing", r.writing_nanos),
        ("syncing", r.syncing_nanos),
        ("waiting", r.waiting_nanos),
    ] {
        let _ = writeln!(
            text,
            "plaint_log_thread_seconds_total{{role=\"{role}\"}} {}",
            nanos as f64 / 1e9
        );
    }
}

/// The gauges of `/metrics` whose computing walks every ticket (open tickets, SLA breaches),
/// kept between scrapes so a scrape costs O(number of metrics), not O(tickets): a scrape
/// answers with the last computation; when that is older than
/// [`crate::ServeConfig::metrics_max_age`] it also starts one recomputation in the background
/// (at most one at a time; the next scrape sees its result). Only the first scrape, and every
/// scrape when the max age is zero, computes in the request. `now` for the SLA verdicts is the
/// engine's clock read by the server when it recomputes, never inside a projection.
#[derive(Default)]
pub(crate) struct MetricsCache {
    last: Mutex<Option<Arc<Gauges>>>,
    /// A background recomputation is running.
    refreshing: std::sync::atomic::AtomicBool,
    /// One computation in a request at a time; concurrent scrapes wait for it and share it.
    computing: tokio::sync::Mutex<()>,
}

/// The O(tickets) gauges as last computed.
pub(crate) struct Gauges {
    computed: Instant,
    position: u64,
    open: usize,
    breaches: Vec<(String, u64)>,
}

impl MetricsCache {
    fn current(&self) -> Option<Arc<Gauges>> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn store(&self, gauges: Arc<Gauges>) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(gauges);
    }

    async fn get(&self, state: &AppState) -> Result<Arc<Gauges>, ApiError> {
        use std::sync::atomic::Ordering::SeqCst;
        let max_age = state.config().metrics_max_age;
        if !max_age.is_zero() {
            if let Some(g) = self.current() {
                if g.computed.elapsed() >= max_age && !self.refreshing.swap(true, SeqCst) {
                    let state = state.clone();
                    tokio::spawn(async move {
                        let cache = state.metrics_cache();
                        match compute_gauges(&state).await {
                            Ok(fresh) => cache.store(fresh),
                            Err(e) => {
                                tracing::warn!(error = %e.problem.detail, "metrics: recomputing the ticket gauges failed; the last ones stay")
                            }
                        }
                        cache.refreshing.store(false, SeqCst);
                    });
                }
                return Ok(g);
            }
        }
        let _one = self.computing.lock().await;
        if !max_age.is_zero() {
            if let Some(g) = self.current() {
                return Ok(g);
            }
        }
        let fresh = compute_gauges(state).await?;
        self.store(fresh.clone());
        Ok(fresh)
    }
}

/// Walks every ticket: open tickets and SLA breaches by clock for the engine's `now`.
async fn compute_gauges(state: &AppState) -> Result<Arc<Gauges>, ApiError> {
    let engine = state.engine();
    let computed = Instant::now();
    let now = engine.now();
    let report = engine.sla_report(now, None, None).await?;
    let (open, position) = engine
        .with_projections(|p| {
            let open = p
                .tickets
                .state
                .views()
                .filter(|v| !matches!(v.status, plaint::reports::TicketStatus::Closed))
                .count();
            (open, p.high_position())
        })
        .await?;
    let breaches = report
        .overall
        .clocks
        .iter()
        .map(|(clock, summary)| (clock.to_string(), summary.breached + summary.pending_overdue))
        .collect();
    Ok(Arc::new(Gauges {
        computed,
        position,
        open,
        breaches,
    }))
}

fn gauge(text: &mut String, name: &str, help: &str, value: f64) {
    let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
}

// ---------------------------------------------------------------------------------------------
// Request layers: tracing and metrics per request, the rate limit, the body limit
// ---------------------------------------------------------------------------------------------

/// Times and counts every request (`plaint_http_requests_total`, `plaint_http_request_seconds`)
/// inside a `http_request` span, and applies the request rate limits ([`admit`]) inside it: one
/// middleware for both, so a request passes one boxed layer (axum's `from_fn` boxes the inner
/// service and its future at every request), not two.
pub(crate) async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // The matched route is an `Arc<str>` inside axum: a reference count, no copy.
    let matched = req.extensions().get::<axum::extract::MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", |p| p.as_str());
    // The span's fields are formatted only when a subscriber wants the span (`-v`).
    let span = tracing::info_span!(
        "http_request",
        method = %req.method(),
        route = %route,
        path = %req.uri().path(),
        request_id = %req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or(""),
        status = tracing::field::Empty,
    );
    let started = Instant::now();
    let response = tracing::Instrument::instrument(admitted(state, req, next), span.clone()).await;
    let status = response.status();
    let took = started.elapsed();
    crate::meters::request_answered(route, status, took);
    if !span.is_disabled() {
        span.record("status", status.as_u16());
        span.in_scope(|| tracing::info!(status = status.as_u16(), ms = took.as_secs_f64() * 1e3, "request"));
    }
    response
}

/// The `x-request-id` of a request that brings none: UUID-shaped (version 4, RFC 9562 variant,
/// 36 characters) from 60 random bits drawn once per server and a 62-bit counter, so ids are
/// unique within a server and, with overwhelming probability, across servers. tower-http's
/// `MakeRequestUuid` asked the kernel for 16 random bytes (a `getrandom` system call) and
/// formatted a `String` at every request; a request id needs to be unique, not secret.
#[derive(Clone)]
pub(crate) struct MakeRequestId {
    prefix: u64,
    counter: Arc<std::sync::atomic::AtomicU64>,
}

impl MakeRequestId {
    pub(crate) fn new() -> MakeRequestId {
        use std::hash::{BuildHasher, Hasher};
        // Keyed from the operating system's randomness once per process (std's hash keys).
        let prefix = std::collections::hash_map::RandomState::new().build_hasher().finish();
        MakeRequestId {
            prefix,
            counter: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        }
    }

    /// The id of the `n`th request: `xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx` in lowercase hex.
    fn id(&self, n: u64) -> [u8; 36] {
        const VERSION_4: u128 = 0x4 << 76;
        const VARIANT: u128 = 0b10 << 62;
        let bits = u128::from(self.prefix) << 64 | u128::from(n & (u64::MAX >> 2));
        let bits = bits & !(0xf << 76) | VERSION_4 | VARIANT;
        let mut out = [b'-'; 36];
        let mut nibble = 32;
        for (i, byte) in out.iter_mut().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                continue;
            }
            nibble -= 1;
            *byte = b"0123456789abcdef"[(bits >> (4 * nibble)) as usize & 0xf];
        }
        out
    }
}

impl tower_http::request_id::MakeRequestId for MakeRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<tower_http::request_id::RequestId> {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let value = HeaderValue::from_bytes(&self.id(n)).expect("hex digits and dashes are a header value");
        Some(tower_http::request_id::RequestId::new(value))
    }
}

/// A token bucket: `rate` requests per second, a burst of as many.
pub(crate) struct RateLimiter {
    rate: f64,
    bucket: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    pub(crate) fn new(rate: u32) -> RateLimiter {
        RateLimiter {
            rate: rate as f64,
            bucket: Mutex::new((rate as f64, Instant::now())),
        }
    }

    /// `Ok` when a request may pass now; else the seconds until one may.
    fn take(&self) -> Result<(), u64> {
        let mut b = self.bucket.lock().expect("rate limiter lock");
        let now = Instant::now();
        let refill = now.duration_since(b.1).as_secs_f64() * self.rate;
        b.0 = (b.0 + refill).min(self.rate);
        b.1 = now;
        if b.0 >= 1.0 {
            b.0 -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.0) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

/// The request passed on to the routes once [`admit`] lets it, else the refusal.
async fn admitted(state: AppState, mut req: Request, next: Next) -> Response {
    match admit(&state, &mut req).await {
        Ok(()) => next.run(req).await,
        Err(refused) => refused,
    }
}

/// Refuses requests above the limits with 429 and `Retry-After`: first the caller's token's
/// own bucket (`crate::limits`; the token is authenticated here once and handed on to the
/// [`crate::auth::Principal`] extractor), then the server's global ceiling. Health, readiness
/// and metrics are never limited (probes must see an overloaded server).
async fn admit(state: &AppState, req: &mut Request) -> Result<(), Response> {
    let probe = matches!(req.uri().path(), "/healthz" | "/readyz" | "/metrics");
    if probe {
        return Ok(());
    }
    if state.access().mode() == crate::auth::AccessMode::Tokens {
        let authed = match req.headers().get(header::AUTHORIZATION).and_then(crate::auth::bearer) {
            // An unreadable table: the extractor answers (5xx).
            Some(token) => state
                .access()
                .authenticate_limited(state.engine(), token, state.token_limiter())
                .await
                .ok(),
            None => None,
        };
        if let Some(None) = authed {
            // Unknown or revoked after a fresh read: the extractor answers 401 without another.
            req.extensions_mut().insert(crate::auth::UnknownToken);
        }
        if let Some(Some((principal, taken))) = authed {
            if let Err(refused) = taken {
                let detail = format!(
                    "token {:?} may send {} requests per second (bursts of {}); retry after {} s",
                    principal.name, refused.limit.per_second, refused.limit.burst, refused.retry_after
                );
                return Err(too_many(
                    req.uri().path(),
                    &principal.name,
                    "token",
                    detail,
                    refused.retry_after,
                ));
            }
            req.extensions_mut().insert(crate::auth::Authenticated(principal));
        }
    }
    if let Some(limiter) = state.rate_limiter() {
        if let Err(wait) = limiter.take() {
            let detail = format!(
                "this server accepts {} requests per second from all callers together; retry after {wait} s",
                state.config().rate_limit.unwrap_or_default()
            );
            let caller = req.extensions().get::<crate::auth::Authenticated>();
            let name = caller.map_or("", |a| &a.0.name);
            return Err(too_many(req.uri().path(), name, "global", detail, wait));
        }
    }
    Ok(())
}

/// A 429 problem document with `Retry-After`, counted by token name and limit
/// (`plaint_http_rate_limited_total{token,limit}`) and logged.
fn too_many(path: &str, token: &str, limit: &'static str, detail: String, wait: u64) -> Response {
    metrics::counter!("plaint_http_rate_limited_total", "token" => token.to_owned(), "limit" => limit).increment(1);
    tracing::warn!(target: "plaint_serve::limits", %path, token, limit, retry_after = wait, "429 rate limited");
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        "Too many requests",
        detail,
    )
    .with_instance(path.to_owned());
    e.retry_after = Some(wait);
    e.into_response()
}

/// The problem document of a body that could not be read: 413 above the limit.
pub(crate) fn body_problem(e: axum::extract::rejection::BytesRejection, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "Request body too large",
            format!("the body is larger than this server's limit of {limit} bytes; send a smaller batch"),
        )
        .with_field("body")
    } else {
        ApiError::bad_request("body", e.body_text())
    }
}

/// Any path no route serves: 404 as a problem document.
pub(crate) async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route {method} {}; the API is described at /v1/openapi.json",
        uri.path()
    ))
    .with_instance(uri.path().to_owned())
}

/// A known path with a method it does not serve: 405 as a problem document.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        format!("{} does not accept {method}; see /v1/openapi.json", uri.path()),
    )
    .with_instance(uri.path().to_owned())
}

#[cfg(test)]
mod tests {
    use super::{upkeep_until, MakeRequestId};
    use std::time::Duration;
    use tokio::sync::{mpsc, watch};

    /// A bound on waits that take milliseconds, so that a broken loop fails instead of hanging
    /// (not a timing check: nothing here depends on how fast the machine is).
    const HANG: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn the_metrics_upkeep_runs_again_and_again_until_the_server_stops() {
        let (stop, stopping) = watch::channel(false);
        let (ran, mut runs) = mpsc::unbounded_channel();
        let task = tokio::spawn(upkeep_until(Duration::from_millis(1), stopping, move || {
            let _ = ran.send(());
        }));
        for n in 0..3 {
            let run = tokio::time::timeout(HANG, runs.recv()).await;
            assert!(matches!(run, Ok(Some(()))), "upkeep {n} ran");
        }
        stop.send(true).unwrap();
        let ended = tokio::time::timeout(HANG, task).await;
        assert!(matches!(ended, Ok(Ok(()))), "the upkeep stops with the server");
    }

    #[test]
    fn request_ids_are_uuid_shaped_version_4_and_distinct() {
        let make = MakeRequestId::new();
        let ids: Vec<String> = [0, 1, 2, u64::MAX]
            .iter()
            .map(|n| String::from_utf8(make.id(*n).to_vec()).unwrap())
            .collect();
        for id in &ids {
            let groups: Vec<&str> = id.split('-').collect();
            let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
            assert_eq!(lengths, [8, 4, 4, 4, 12], "{id}");
            assert!(
                id.bytes()
                    .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{id}"
            );
            assert!(groups[2].starts_with('4'), "version 4: {id}");
            assert!(
                matches!(&groups[3][..1], "8" | "9" | "a" | "b"),
                "RFC 9562 variant: {id}"
            );
        }
        assert!(ids[0].ends_with("-8000-000000000000"), "{ids:?}");
        assert!(ids[1].ends_with("-8000-000000000001"), "{ids:?}");
        assert!(ids[3].ends_with("-bfff-ffffffffffff"), "{ids:?}");
        let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "{ids:?}");
        // Two servers (processes) draw different random halves.
        assert_ne!(make.id(0)[..18], MakeRequestId::new().id(0)[..18]);
    }
}
