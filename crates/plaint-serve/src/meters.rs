//! The handles of the per-request metrics, resolved once (docs/PERFORMANCE.md "Issue 15,
//! wave 5").
//!
//! `metrics::counter!("…", "route" => route.to_owned(), …)` builds a key (an owned route, a
//! `Vec` of labels), hashes it and looks it up in the recorder's registry at every call. A
//! handle (`metrics::Counter`, `metrics::Histogram`) is that registry entry itself: recording
//! through it is an atomic add (a push for a histogram). The handles are kept here by their
//! label values, which all come from finite sets (the router's routes, HTTP status codes, the
//! domain's command kinds, the outcomes), so the maps stay small whatever callers send. The
//! figures are the same series as before: the same names and labels in the same recorder.

use axum::http::StatusCode;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

/// The handles of one route: its request latency and its request count by status.
struct RouteMeters {
    seconds: metrics::Histogram,
    by_status: RwLock<HashMap<u16, metrics::Counter>>,
    route: Box<str>,
}

impl RouteMeters {
    fn new(route: &str) -> RouteMeters {
        RouteMeters {
            seconds: metrics::histogram!("plaint_http_request_seconds", "route" => route.to_owned()),
            by_status: RwLock::new(HashMap::new()),
            route: route.into(),
        }
    }

    fn requests(&self, status: StatusCode) -> metrics::Counter {
        let code = status.as_u16();
        if let Some(c) = self.by_status.read().unwrap_or_else(|e| e.into_inner()).get(&code) {
            return c.clone();
        }
        let mut by_status = self.by_status.write().unwrap_or_else(|e| e.into_inner());
        by_status
            .entry(code)
            .or_insert_with(|| {
                metrics::counter!("plaint_http_requests_total", "route" => self.route.to_string(), "status" => code.to_string())
            })
            .clone()
    }
}

/// The handles of every route that answered a request, by route (`unmatched` for none).
fn routes() -> &'static RwLock<HashMap<Box<str>, Arc<RouteMeters>>> {
    static ROUTES: OnceLock<RwLock<HashMap<Box<str>, Arc<RouteMeters>>>> = OnceLock::new();
    ROUTES.get_or_init(Default::default)
}

fn route_meters(route: &str) -> Arc<RouteMeters> {
    if let Some(r) = routes().read().unwrap_or_else(|e| e.into_inner()).get(route) {
        return r.clone();
    }
    let mut map = routes().write().unwrap_or_else(|e| e.into_inner());
    map.entry(route.into())
        .or_insert_with(|| Arc::new(RouteMeters::new(route)))
        .clone()
}

/// Counts one answered request (`plaint_http_requests_total{route,status}`) and records how
/// long it took (`plaint_http_request_seconds{route}`).
pub(crate) fn request_answered(route: &str, status: StatusCode, took: Duration) {
    let meters = route_meters(route);
    meters.requests(status).increment(1);
    meters.seconds.record(took.as_secs_f64());
}

/// Counts one command by kind and outcome (`plaint_commands_total{kind,outcome}`).
pub(crate) fn command_done(kind: &'static str, outcome: &'static str) {
    type Commands = RwLock<HashMap<(&'static str, &'static str), metrics::Counter>>;
    static COMMANDS: OnceLock<Commands> = OnceLock::new();
    let commands = COMMANDS.get_or_init(Default::default);
    let key = (kind, outcome);
    let cached = commands.read().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
    let counter = cached.unwrap_or_else(|| {
        let mut map = commands.write().unwrap_or_else(|e| e.into_inner());
        map.entry(key)
            .or_insert_with(|| metrics::counter!("plaint_commands_total", "kind" => kind, "outcome" => outcome))
            .clone()
    });
    counter.increment(1);
}

/// Records how long a command (or a batch) took from decision to durable append
/// (`plaint_append_seconds`).
pub(crate) fn append_took(took: Duration) {
    static APPEND: OnceLock<metrics::Histogram> = OnceLock::new();
    APPEND
        .get_or_init(|| metrics::histogram!("plaint_append_seconds"))
        .record(took.as_secs_f64());
}
