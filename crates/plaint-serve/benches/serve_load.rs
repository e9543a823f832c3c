//! Load benchmark of `plaint serve` (issue 15; docs/PERFORMANCE.md "serve"): N concurrent
//! HTTP/1.1 keep-alive clients (64 by default) each sending single `receive` commands, with a
//! bearer token, to a server on the file log in this process; then the same workload through
//! the library (`Engine::execute` from as many tasks) on a fresh store in the same run.
//! Prints throughput, latency percentiles, the ratio of the two, the CPU time per command split
//! by thread (server workers, the log writer, the clients), and the bench-summary line
//! `ROW serve_64 <value> cmd/s`. Not a test: nothing is asserted on time.
//!
//! The server runs on `plaint serve`'s own runtime ([`plaint_serve::runtime`]: threads
//! `serve-worker`, one per core). The clients run on one more thread (`load-client`) that the
//! server never uses, so their cost is counted apart. Two clients:
//!
//! - `lean` (default): a hand-written HTTP/1.1 keep-alive client over a tokio `TcpStream`
//!   (pipelining off: one request in flight per connection, the next written when the answer
//!   has been read whole). Every request's bytes are prepared before the clock starts, so the
//!   client costs a `write`, a `read` and a header scan per command, like a load generator
//!   (wrk) in another process would: the figure is the server's.
//! - `reqwest` (`PLAINT_BENCH_CLIENT=reqwest`): one `reqwest::Client` per connection, what a Rust
//!   back-office program would use; its own cost is several times the server's per request
//!   and shares the same two cores, so it measures the pair, not the server.
//!
//! Run: `cargo bench -p plaint-serve --bench serve_load` (`PLAINT_BENCH_CLIENTS`, default 64).
//! Each phase is timed by default (issue 15, wave 12): the clients send commands for
//! `PLAINT_BENCH_WARMUP_SECONDS` + `PLAINT_BENCH_SECONDS` (default 2 + 10) and every figure —
//! throughput, latency, CPU, the server's group metrics — covers the commands answered in the
//! last `PLAINT_BENCH_SECONDS` only: the start (connections, the first groups, the caches, the
//! log's first segment) is left out, and a run lasts the same on a fast or a slow disk, so A/B
//! pairs are comparable. `PLAINT_BENCH_COMMANDS` alone (commands per client) runs the earlier
//! counted mode: every request made before the clock, the whole phase measured.
//! `PLAINT_BENCH_CUSTOMERS=many`
//! gives each command a customer of its own instead of one phone for all; `PLAINT_BENCH_PHASES=http`
//! or `library` runs one path only, e.g. under `perf record`; `PLAINT_BENCH_ALLOC=system` runs
//! on the C library's malloc instead of mimalloc, the `plaint` binary's allocator, for an A/B
//! of the allocator with one build).

use hdrhistogram::Histogram;
use plaint::access::Role;
use plaint::{Actor, Command, CommandId, ComplaintId, Engine, EngineConfig};
use plaint_serve::{ServeConfig, Server};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[global_allocator]
static ALLOCATOR: BenchAllocator = BenchAllocator;

/// mimalloc, as `plaint` runs on (crates/plaint-cli/src/main.rs), or the C library's malloc
/// when `PLAINT_BENCH_ALLOC=system`: chosen at the first allocation, before any thread starts,
/// and never changed (a block is always freed by the allocator that made it).
struct BenchAllocator;

/// 0: not chosen yet; 1: the system's; 2: mimalloc.
static ALLOCATOR_CHOICE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

fn system_allocator() -> bool {
    use std::sync::atomic::Ordering::Relaxed;
    let mut choice = ALLOCATOR_CHOICE.load(Relaxed);
    if choice == 0 {
        // `getenv` reads the environment without allocating.
        // SAFETY: a NUL-terminated name; the result is only read while no thread exists.
        let value = unsafe { libc::getenv(c"PLAINT_BENCH_ALLOC".as_ptr()) };
        let system = !value.is_null() && unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes() == b"system";
        choice = if system { 1 } else { 2 };
        ALLOCATOR_CHOICE.store(choice, Relaxed);
    }
    choice == 1
}

// SAFETY: every call is forwarded to one allocator for the whole run (see `system_allocator`).
unsafe impl std::alloc::GlobalAlloc for BenchAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if system_allocator() {
            unsafe { std::alloc::System.alloc(layout) }
        } else {
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if system_allocator() {
            unsafe { std::alloc::System.alloc_zeroed(layout) }
        } else {
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        if system_allocator() {
            unsafe { std::alloc::System.dealloc(ptr, layout) }
        } else {
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        if system_allocator() {
            unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
        } else {
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        }
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn receive(run: &str, client: usize, i: usize) -> Command {
    serde_json::from_str(&receive_body(run, client, i)).unwrap()
}

/// The JSON body of client `client`'s `i`-th receive (written by hand: cheap enough for a timed
/// run's clients to build each request as they go, and one text for both paths).
fn receive_body(run: &str, client: usize, i: usize) -> String {
    let (command_id, complaint_id) = ids(run, client, i);
    format!(
        r#"{{"command_id":"{command_id}","complaint_id":"{complaint_id}","actor":"cs-014","command":"receive","channel":"hotline","region":"杭州","waybill":"SF1234567890","description":"快递显示已签收但本人未收到，要求核实","customer":{{"name":"陈静","phone":"{}"}}}}"#,
        phone(client, i)
    )
}

/// The command id and complaint id of client `client`'s `i`-th receive.
fn ids(run: &str, client: usize, i: usize) -> (String, String) {
    (format!("{run}-{client}-{i}"), format!("CMP-{run}-{client:03}-{i:06}"))
}

/// Whether each command is a customer of its own (`PLAINT_BENCH_CUSTOMERS=many`).
fn many_customers() -> bool {
    static MANY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *MANY.get_or_init(|| std::env::var("PLAINT_BENCH_CUSTOMERS").as_deref() == Ok("many"))
}

/// The customer's phone: one for every command (the default), or with
/// `PLAINT_BENCH_CUSTOMERS=many` a customer of its own for each command (a new key each, written
/// to the vault with its group: the preparation's vault read meets the vault's writes).
fn phone(client: usize, i: usize) -> String {
    if many_customers() {
        format!("139{:08}", client * 100_000 + i)
    } else {
        "13800138000".to_owned()
    }
}

struct Outcome {
    commands: usize,
    elapsed: Duration,
    latency: Histogram<u64>,
    cpu: CpuSplit,
}

impl Outcome {
    fn per_second(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64()
    }
    fn print(&self, what: &str) {
        let ms = |q: f64| self.latency.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "{what:<8} {:>7} commands in {:>6.2} s = {:>8.0} cmd/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.commands,
            self.elapsed.as_secs_f64(),
            self.per_second(),
            ms(0.5),
            ms(0.99),
            self.latency.max() as f64 / 1000.0
        );
        let per = |micros: f64| micros / self.commands as f64;
        let parts: Vec<String> = self
            .cpu
            .by_thread
            .iter()
            .map(|(name, us)| format!("{name} {:.1}", per(*us)))
            .collect();
        println!(
            "{:<8} CPU per command {:.1} µs (process, user+system): {}",
            "",
            per(self.cpu.process),
            parts.join(", ")
        );
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()
}

// ---------------------------------------------------------------------------------------------
// CPU time: the process (getrusage) and each live thread by name (/proc/self/task/*/stat)
// ---------------------------------------------------------------------------------------------

fn process_cpu_micros() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid out-pointer for the duration of the call.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 * 1e6 + tv.tv_usec as f64;
    t(u.ru_utime) + t(u.ru_stime)
}

/// CPU time (µs) of every live thread, by thread id, with its name.
fn threads_cpu() -> BTreeMap<u32, (String, f64)> {
    let tick = 1e6 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for entry in dir.flatten() {
        let Ok(tid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ... field 14 utime, 15 stime (1-based), counted after the `)`.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        let rest: Vec<&str> = stat[close + 2..].split(' ').collect();
        let field = |i: usize| rest.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        out.insert(tid, (name, (field(11) + field(12)) * tick));
    }
    out
}

struct CpuSplit {
    process: f64,
    by_thread: Vec<(String, f64)>,
}

struct CpuMark {
    process: f64,
    threads: BTreeMap<u32, (String, f64)>,
}

fn cpu_mark() -> CpuMark {
    CpuMark {
        process: process_cpu_micros(),
        threads: threads_cpu(),
    }
}

impl CpuMark {
    fn since(&self) -> CpuSplit {
        let process = process_cpu_micros() - self.process;
        let mut by_name: BTreeMap<String, f64> = BTreeMap::new();
        for (tid, (name, now)) in threads_cpu() {
            let before = self.threads.get(&tid).map_or(0.0, |(_, t)| *t);
            *by_name.entry(name).or_default() += now - before;
        }
        let named: f64 = by_name.values().sum();
        let mut by_thread: Vec<(String, f64)> = by_name.into_iter().filter(|(_, us)| *us > 0.0).collect();
        by_thread.sort_by(|a, b| b.1.total_cmp(&a.1));
        // Threads that ended meanwhile (and clock-tick rounding of the others).
        by_thread.push(("other".to_owned(), (process - named).max(0.0)));
        CpuSplit { process, by_thread }
    }
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

/// The whole request, head and body, as the lean client writes it.
fn request_bytes(addr: SocketAddr, token: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST /v1/commands HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// Reads one HTTP/1.1 answer with a `content-length` from `stream` into `buf` (emptied first)
/// and returns its status.
async fn read_answer(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> u16 {
    buf.clear();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).unwrap();
    let status: u16 = head[9..12].parse().unwrap();
    let length: usize = head
        .split("\r\n")
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("an answer without content-length: {head}"));
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed the connection mid-answer");
        buf.extend_from_slice(&chunk[..n]);
    }
    status
}

/// How long a phase runs.
#[derive(Debug, Clone, Copy)]
enum Span {
    /// Every client sends this many commands; the figures cover the whole phase
    /// (`PLAINT_BENCH_COMMANDS` without `PLAINT_BENCH_SECONDS`).
    Commands(usize),
    /// The clients send commands for `warmup + steady`; the figures cover the `steady` part
    /// only (the default: `PLAINT_BENCH_WARMUP_SECONDS`, `PLAINT_BENCH_SECONDS`).
    Timed { warmup: Duration, steady: Duration },
}

/// The part of a timed phase its figures cover: the commands answered from `from` to `until`.
#[derive(Debug, Clone, Copy)]
struct Window {
    from: Instant,
    until: Instant,
}

impl Span {
    /// The window of a phase starting now (none for a count of commands: the whole phase).
    fn window(self) -> Option<Window> {
        match self {
            Span::Commands(_) => None,
            Span::Timed { warmup, steady } => {
                let from = Instant::now() + warmup;
                Some(Window {
                    from,
                    until: from + steady,
                })
            }
        }
    }
}

/// Whether a command answered at `done` counts (always, without a window).
fn counts(window: Option<Window>, done: Instant) -> bool {
    window.is_none_or(|w| done >= w.from && done < w.until)
}

/// A client's next request (`i` counts from 0), or `None` when it is done.
type Next<T> = Box<dyn FnMut(usize) -> Option<T> + Send>;

/// The requests of a fixed list, in order.
fn listed<T: Send + 'static>(list: Vec<T>) -> Next<T> {
    let mut list = list.into_iter();
    Box::new(move |_| list.next())
}

/// Requests made by `make` until the window closes.
fn until_closed<T>(window: Window, make: impl Fn(usize) -> T + Send + 'static) -> Next<T> {
    Box::new(move |i| (Instant::now() < window.until).then(|| make(i)))
}

async fn lean_lane(addr: SocketAddr, mut next: Next<Vec<u8>>, window: Option<Window>) -> Histogram<u64> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut buf = Vec::with_capacity(8192);
    let mut h = histogram();
    let mut i = 0;
    while let Some(request) = next(i) {
        i += 1;
        let t = Instant::now();
        stream.write_all(&request).await.unwrap();
        let status = read_answer(&mut stream, &mut buf).await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&buf));
        let done = Instant::now();
        if counts(window, done) {
            h.record((done - t).as_micros().max(1) as u64).unwrap();
        }
    }
    h
}

async fn reqwest_lane(url: String, token: String, mut next: Next<Vec<u8>>, window: Option<Window>) -> Histogram<u64> {
    // One connection per client, kept alive (HTTP/1.1).
    let client = reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    let mut h = histogram();
    let mut i = 0;
    while let Some(body) = next(i) {
        i += 1;
        let t = Instant::now();
        let r = client
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
        r.bytes().await.unwrap();
        let done = Instant::now();
        if counts(window, done) {
            h.record((done - t).as_micros().max(1) as u64).unwrap();
        }
    }
    h
}

#[derive(Clone, Copy, PartialEq)]
enum ClientKind {
    Lean,
    Reqwest,
}

/// What a phase measured between two marks: the process's CPU, and (over HTTP) the server's
/// metrics at both ends, so that a timed run's group figures cover its steady part only.
struct Marks {
    cpu: CpuSplit,
    elapsed: Duration,
    metrics: Option<(String, String)>,
}

/// Waits for the window to open and close (or, without one, for `lanes` to end), marking the
/// CPU time (and with `addr`, the server's metrics) at both ends; then waits for the lanes.
async fn measure(
    window: Option<Window>,
    lanes: Vec<tokio::task::JoinHandle<Histogram<u64>>>,
    addr: Option<SocketAddr>,
) -> (Histogram<u64>, Marks) {
    let mut latency = histogram();
    let marks = match window {
        None => {
            let (cpu, start) = (cpu_mark(), Instant::now());
            for lane in lanes {
                latency.add(lane.await.unwrap()).unwrap();
            }
            let (elapsed, cpu) = (start.elapsed(), cpu.since());
            let metrics = match addr {
                Some(addr) => Some((String::new(), scrape_metrics(addr).await)),
                None => None,
            };
            Marks { cpu, elapsed, metrics }
        }
        Some(w) => {
            tokio::time::sleep_until(w.from.into()).await;
            let before = match addr {
                Some(addr) => Some(scrape_metrics(addr).await),
                None => None,
            };
            let cpu = cpu_mark();
            tokio::time::sleep_until(w.until.into()).await;
            let cpu = cpu.since();
            let metrics = match (addr, before) {
                (Some(addr), Some(before)) => Some((before, scrape_metrics(addr).await)),
                _ => None,
            };
            for lane in lanes {
                latency.add(lane.await.unwrap()).unwrap();
            }
            Marks {
                cpu,
                elapsed: w.until - w.from,
                metrics,
            }
        }
    };
    (latency, marks)
}

fn over_http(rt: &tokio::runtime::Runtime, kind: ClientKind, clients: usize, span: Span) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let (server, token) = rt.block_on(async {
        let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
        let token = engine
            .create_token("load-client", Role::Intake, &Actor::person("bench").unwrap())
            .await
            .unwrap()
            .token;
        let config = ServeConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            // The ticket gauges are computed by the first scrape (below, before any command)
            // and never again in the run: a timed run's scrape at the start of its steady
            // part would otherwise catch every projection up inside the part it measures.
            metrics_max_age: Duration::from_secs(3600),
            ..ServeConfig::default()
        };
        (Server::bind(engine, config).await.unwrap(), token)
    });
    let addr = server.local_addr();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = rt.spawn(server.run(async move {
        let _ = rx.await;
    }));
    // The first scrape computes the ticket gauges (on an empty log: at once); later ones reuse them.
    rt.block_on(scrape_metrics(addr));
    // Counted: the bodies prepared up front, so the clients measure the server, not JSON
    // encoding. Timed: each made as it goes from a text template (≈ 1 µs, before the clock).
    let lean = kind == ClientKind::Lean;
    let bearer = token.clone();
    let lanes = move |window: Option<Window>| -> Vec<Next<Vec<u8>>> {
        (0..clients)
            .map(|c| {
                let token = token.clone();
                let make = move |i: usize| {
                    let body = receive_body("h", c, i).into_bytes();
                    if lean {
                        request_bytes(addr, &token, &body)
                    } else {
                        body
                    }
                };
                match (span, window) {
                    (Span::Timed { .. }, Some(w)) => until_closed(w, make),
                    (Span::Commands(n), _) => listed((0..n).map(make).collect()),
                    (Span::Timed { .. }, None) => unreachable!("a timed phase has a window"),
                }
            })
            .collect()
    };
    let url = format!("http://{addr}/v1/commands");
    let client_thread = std::thread::Builder::new()
        .name("load-client".into())
        .spawn(move || {
            let crt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            crt.block_on(async move {
                // A count's requests are all made here, before `measure` starts the clock.
                let window = span.window();
                let tasks = lanes(window)
                    .into_iter()
                    .map(|next| match kind {
                        ClientKind::Lean => tokio::spawn(lean_lane(addr, next, window)),
                        ClientKind::Reqwest => tokio::spawn(reqwest_lane(url.clone(), bearer.clone(), next, window)),
                    })
                    .collect();
                measure(window, tasks, Some(addr)).await
            })
        })
        .unwrap();
    let (latency, marks) = client_thread.join().unwrap();
    // The server's own figures of its groups (docs/serve.md "Metrics").
    let (before, after) = marks.metrics.as_ref().expect("scraped over HTTP");
    print_waits(before, after, &latency, marks.elapsed);
    let _ = stop.send(());
    rt.block_on(handle).unwrap().unwrap();
    Outcome {
        commands: latency.len() as usize,
        elapsed: marks.elapsed,
        latency,
        cpu: marks.cpu,
    }
}

/// The server's `/metrics` text (read once the clients are done).
async fn scrape_metrics(addr: SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let ask = format!("GET /metrics HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    stream.write_all(ask.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// The value of the sample `name` (a whole line's first field) in a metrics text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// How much the sample `name` grew from `before` to `after` (absent before: from 0).
fn grown(before: &str, after: &str, name: &str) -> f64 {
    sample(after, name).unwrap_or(f64::NAN) - sample(before, name).unwrap_or(0.0)
}

/// Mean of a histogram or summary `name` between two metrics texts (the growth of its `_sum`
/// over the growth of its `_count`).
fn mean(before: &str, after: &str, name: &str) -> f64 {
    grown(before, after, &format!("{name}_sum")) / grown(before, after, &format!("{name}_count"))
}

/// Where a client's round trip went (issue 15, wave 10): the wait in the grouping queue, the
/// group's commit (decide, append, sync, answers), and the rest (the answer's way back through
/// hyper and the kernel, the client, the next request's way in), from the server's group
/// metrics (what grew from `before` to `after`) and the clients' round trips.
fn print_waits(before: &str, after: &str, latency: &Histogram<u64>, elapsed: Duration) {
    let us = 1e6;
    let groups = grown(before, after, "plaint_group_commands_count");
    let group_size = mean(before, after, "plaint_group_commands");
    let wait = mean(before, after, "plaint_group_wait_seconds") * us;
    let in_group = mean(before, after, "plaint_append_seconds") * us;
    let commit = mean(before, after, "plaint_group_commit_seconds") * us;
    let committing = grown(before, after, "plaint_group_commit_seconds_sum") / elapsed.as_secs_f64();
    let syncs = grown(before, after, "plaint_fsync_seconds_count");
    let sync = mean(before, after, "plaint_fsync_seconds") * us;
    // Means only: the exporter's summary quantiles cover a rolling window, not the run.
    println!(
        "{:<8} groups {groups:.0}, {group_size:.1} commands each; a group {commit:.0} µs from start to its last answer; a group committing {:.0} % of the run's time (commit-seconds per second; one group commits at a time); {syncs:.0} fdatasyncs of mean {sync:.0} µs",
        "",
        100.0 * committing
    );
    println!(
        "{:<8} round trip mean {:.0} µs = queue wait {wait:.0} + in its group {:.0} + the rest (HTTP both ways, the client) {:.0}",
        "",
        latency.mean(),
        in_group - wait,
        latency.mean() - in_group
    );
}

fn through_library(rt: &tokio::runtime::Runtime, clients: usize, span: Span) -> Outcome {
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let engine = Arc::new(Engine::open(EngineConfig::file(dir.path())).await.unwrap());
        // Counted: every command made before the clock. Timed: each copied from its client's
        // first (new ids; with many customers parsed whole, for its phone) as the client goes.
        let window = span.window();
        let lanes: Vec<Next<Command>> = (0..clients)
            .map(|c| match (span, window) {
                (Span::Commands(n), _) => listed((0..n).map(|i| receive("l", c, i)).collect()),
                (Span::Timed { .. }, Some(w)) => {
                    let first = receive("l", c, 0);
                    until_closed(w, move |i| {
                        if many_customers() {
                            return receive("l", c, i);
                        }
                        let (command_id, complaint_id) = ids("l", c, i);
                        let mut cmd = first.clone();
                        cmd.command_id = CommandId::new(command_id).unwrap();
                        cmd.complaint_id = ComplaintId::new(complaint_id).unwrap();
                        cmd
                    })
                }
                (Span::Timed { .. }, None) => unreachable!("a timed phase has a window"),
            })
            .collect();
        let tasks = lanes
            .into_iter()
            .map(|mut next| {
                let engine = engine.clone();
                tokio::spawn(async move {
                    let mut h = histogram();
                    let mut i = 0;
                    while let Some(cmd) = next(i) {
                        i += 1;
                        let t = Instant::now();
                        engine.execute(cmd).await.unwrap();
                        let done = Instant::now();
                        if counts(window, done) {
                            h.record((done - t).as_micros().max(1) as u64).unwrap();
                        }
                    }
                    h
                })
            })
            .collect();
        let (latency, marks) = measure(window, tasks, None).await;
        Arc::try_unwrap(engine).ok().unwrap().close().await.unwrap();
        Outcome {
            commands: latency.len() as usize,
            elapsed: marks.elapsed,
            latency,
            cpu: marks.cpu,
        }
    })
}

fn env_seconds(name: &str, default: f64) -> Duration {
    let seconds = std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    Duration::from_secs_f64(seconds)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    let clients = env_usize("PLAINT_BENCH_CLIENTS", 64);
    // A count of commands only when asked for one alone; timed otherwise (steadier figures).
    let span = match (
        std::env::var("PLAINT_BENCH_COMMANDS"),
        std::env::var("PLAINT_BENCH_SECONDS"),
    ) {
        (Ok(_), Err(_)) => Span::Commands(env_usize("PLAINT_BENCH_COMMANDS", 200)),
        _ => Span::Timed {
            warmup: env_seconds("PLAINT_BENCH_WARMUP_SECONDS", 2.0),
            steady: env_seconds("PLAINT_BENCH_SECONDS", 10.0),
        },
    };
    let kind = match std::env::var("PLAINT_BENCH_CLIENT").as_deref() {
        Ok("reqwest") => ClientKind::Reqwest,
        Ok("lean") | Err(_) => ClientKind::Lean,
        Ok(other) => panic!("PLAINT_BENCH_CLIENT={other:?}: want lean or reqwest"),
    };
    let phases = std::env::var("PLAINT_BENCH_PHASES").unwrap_or_else(|_| "http,library".to_owned());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // The server's runtime: the one `plaint serve` runs on (one worker per core).
    let rt = plaint_serve::runtime().unwrap();
    let length = match span {
        Span::Commands(n) => format!("x {n} single receive commands"),
        Span::Timed { warmup, steady } => format!(
            "sending single receive commands for {:.1} s, measured over the last {:.1} s",
            (warmup + steady).as_secs_f64(),
            steady.as_secs_f64()
        ),
    };
    println!(
        "serve_load: {clients} clients ({}) {length}, file log (fsync per group commit), {cores} cores, allocator {}",
        if kind == ClientKind::Lean {
            "lean HTTP/1.1 keep-alive client, thread load-client"
        } else {
            "reqwest, thread load-client"
        },
        if system_allocator() {
            "system (PLAINT_BENCH_ALLOC=system)"
        } else {
            "mimalloc"
        }
    );
    let http = phases.contains("http").then(|| over_http(&rt, kind, clients, span));
    if let Some(http) = &http {
        http.print("http");
    }
    let lib = phases.contains("library").then(|| through_library(&rt, clients, span));
    if let Some(lib) = &lib {
        lib.print("library");
    }
    if let (Some(http), Some(lib)) = (&http, &lib) {
        println!(
            "ratio    http / library = {:.0} % (target >= 50 %); targets: >= 30,000 cmd/s, p99 <= 10 ms",
            100.0 * http.per_second() / lib.per_second()
        );
    }
    if let Some(http) = &http {
        println!("ROW serve_{clients} {:.0} cmd/s", http.per_second());
    }
}
