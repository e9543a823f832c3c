//! The handles of the per-request metrics, resolved once (docs/PERFORMANCE.md "Issue 15,
//! waves 5 and 7").
//!
//! `metrics::counter!("…", "route" => route.to_owned(), …)` builds a key (an owned route, a
//! `Vec` of labels), hashes it and looks it up in the recorder's registry at every call. A
//! handle (`metrics::Counter`, `metrics::Histogram`) is that registry entry itself: recording
//! through it is an atomic add (a push for a histogram). The handles are kept here by their
//! label values, which all come from finite sets (the router's routes, HTTP status codes, the
//! domain's command kinds, the outcomes), so the tables stay small whatever callers send. The
//! figures are the same series as before: the same names and labels in the same recorder.
//!
//! The tables are append-only slots ([`Handles`]): a lookup reads the filled slots (an atomic
//! load and a key comparison each) and takes no lock and no hash; only the first use of a
//! label value takes a lock to fill a slot.

use axum::http::StatusCode;
use std::borrow::Borrow;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// An append-only table of at most `N` handles by key: [`Handles::get_or_add`] finds a key's
/// handle without a lock once it is there. Slots fill in order and are never emptied, so a
/// reader stops at the first empty one.
struct Handles<K, V, const N: usize> {
    slots: [OnceLock<(K, V)>; N],
    /// Held while a slot is filled, so a key is added once.
    adding: Mutex<()>,
}

impl<K: PartialEq, V, const N: usize> Handles<K, V, N> {
    fn new() -> Handles<K, V, N> {
        Handles {
            slots: std::array::from_fn(|_| OnceLock::new()),
            adding: Mutex::new(()),
        }
    }

    /// The handle of `key`, if it has one (a borrowed key: no `Box` is made for a lookup).
    fn find<Q: PartialEq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.slots
            .iter()
            .map_while(OnceLock::get)
            .find(|(k, _)| k.borrow() == key)
            .map(|(_, v)| v)
    }

    /// The handle of `key`, made by `make` at its first use; `None` when all `N` slots hold
    /// other keys (the caller records without a kept handle then).
    fn get_or_add(&self, key: K, make: impl FnOnce(&K) -> V) -> Option<&V> {
        if let Some(v) = self.find(&key) {
            return Some(v);
        }
        let _one = self.adding.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = self.find(&key) {
            return Some(v);
        }
        let slot = self.slots.iter().find(|s| s.get().is_none())?;
        let value = make(&key);
        let filled = slot.get_or_init(|| (key, value));
        Some(&filled.1)
    }
}

/// Most routes with meters: the router's routes and `unmatched` (about twenty) fit.
const ROUTES_MAX: usize = 64;

/// Most (command kind, outcome) pairs with a counter: every pair of the domain's command kinds
/// (28) and the outcomes (6) fits.
const COMMAND_PAIRS_MAX: usize = 256;

/// Most status codes per route with a kept counter (a route answers with a handful).
const STATUSES_MAX: usize = 48;

/// The handles of one route: its request latency and its request count by status.
struct RouteMeters {
    route: Box<str>,
    seconds: metrics::Histogram,
    by_status: Handles<u16, metrics::Counter, STATUSES_MAX>,
}

impl RouteMeters {
    fn new(route: &str) -> RouteMeters {
        RouteMeters {
            route: route.into(),
            seconds: metrics::histogram!("plaint_http_request_seconds", "route" => route.to_owned()),
            by_status: Handles::new(),
        }
    }

    fn counter(&self, code: u16) -> metrics::Counter {
        metrics::counter!("plaint_http_requests_total", "route" => self.route.to_string(), "status" => code.to_string())
    }

    fn count(&self, status: StatusCode) {
        let code = status.as_u16();
        match self.by_status.get_or_add(code, |code| self.counter(*code)) {
            Some(counter) => counter.increment(1),
            None => self.counter(code).increment(1),
        }
    }
}

/// The meters of every route that answered a request, by route (`unmatched` for none).
fn routes() -> &'static Handles<Box<str>, RouteMeters, ROUTES_MAX> {
    static ROUTES: OnceLock<Handles<Box<str>, RouteMeters, ROUTES_MAX>> = OnceLock::new();
    ROUTES.get_or_init(Handles::new)
}

/// Counts one answered request (`plaint_http_requests_total{route,status}`) and records how
/// long it took (`plaint_http_request_seconds{route}`).
pub(crate) fn request_answered(route: &str, status: StatusCode, took: Duration) {
    let kept = routes()
        .find(route)
        .or_else(|| routes().get_or_add(route.into(), |route| RouteMeters::new(route)));
    let unkept;
    let meters = match kept {
        Some(meters) => meters,
        None => {
            unkept = RouteMeters::new(route);
            &unkept
        }
    };
    meters.count(status);
    meters.seconds.record(took.as_secs_f64());
}

/// Counts one command by kind and outcome (`plaint_commands_total{kind,outcome}`).
pub(crate) fn command_done(kind: &'static str, outcome: &'static str) {
    type Commands = Handles<(&'static str, &'static str), metrics::Counter, COMMAND_PAIRS_MAX>;
    static COMMANDS: OnceLock<Commands> = OnceLock::new();
    let make = |&(kind, outcome): &(&'static str, &'static str)| metrics::counter!("plaint_commands_total", "kind" => kind, "outcome" => outcome);
    match COMMANDS.get_or_init(Handles::new).get_or_add((kind, outcome), make) {
        Some(counter) => counter.increment(1),
        None => make(&(kind, outcome)).increment(1),
    }
}

/// Records how long a command (or a batch) took from decision to durable append
/// (`plaint_append_seconds`).
pub(crate) fn append_took(took: Duration) {
    static APPEND: OnceLock<metrics::Histogram> = OnceLock::new();
    APPEND
        .get_or_init(|| metrics::histogram!("plaint_append_seconds"))
        .record(took.as_secs_f64());
}

/// Records a group of single commands starting to commit: its size
/// (`plaint_group_commands`) and how long each of its commands waited in the queue for it
/// (`plaint_group_wait_seconds`).
pub(crate) fn group_started(commands: usize, waits: impl Iterator<Item = Duration>) {
    static SIZE: OnceLock<metrics::Histogram> = OnceLock::new();
    static WAIT: OnceLock<metrics::Histogram> = OnceLock::new();
    SIZE.get_or_init(|| metrics::histogram!("plaint_group_commands"))
        .record(commands as f64);
    let wait = WAIT.get_or_init(|| metrics::histogram!("plaint_group_wait_seconds"));
    for took in waits {
        wait.record(took.as_secs_f64());
    }
}

/// Records how long a group of single commands took from its start to its last answer: the
/// decisions, the durable append, the answers (`plaint_group_commit_seconds`).
pub(crate) fn group_committed(took: Duration) {
    static COMMIT: OnceLock<metrics::Histogram> = OnceLock::new();
    COMMIT
        .get_or_init(|| metrics::histogram!("plaint_group_commit_seconds"))
        .record(took.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::Handles;

    #[test]
    fn a_key_gets_one_handle_and_a_full_table_none() {
        let made = std::cell::Cell::new(0);
        let handles: Handles<u16, u32, 3> = Handles::new();
        let mut make = |k: &u16| {
            made.set(made.get() + 1);
            u32::from(*k) * 10
        };
        assert_eq!(handles.get_or_add(1, &mut make), Some(&10));
        assert_eq!(handles.get_or_add(2, &mut make), Some(&20));
        assert_eq!(handles.get_or_add(1, &mut make), Some(&10));
        assert_eq!(handles.get_or_add(3, &mut make), Some(&30));
        assert_eq!(made.get(), 3, "each key's handle is made once");
        assert_eq!(handles.get_or_add(4, &mut make), None, "no slot left");
        assert_eq!(handles.find(&2), Some(&20));
        assert_eq!(handles.find(&4), None);
    }
}
