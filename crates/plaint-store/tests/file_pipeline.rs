//! Pipelined group commit: the writer writes group N+1 while group N's `fdatasync` runs on the
//! sync thread. These tests hold the simulated disk's syncs at a gate
//! ([`plaint_store::io::SimIo::hold_syncs`]) so that a later group is written, deterministically,
//! while an earlier one is still syncing, and check the rules of `docs/log-format.md`
//! ("Durability modes"):
//!
//! - nothing written but not yet durable is visible (`read_all`, `read_stream`,
//!   `stream_version`, `head_position`, subscriptions);
//! - the writer plans against the written head: an exact expected version that counts a group
//!   still syncing is accepted;
//! - a failed sync fails its group and every later written group, nothing of them becomes
//!   visible, and every later append is refused until the log is reopened;
//! - acknowledged ⇒ durable, with two groups in flight, for a power cut at every write and
//!   sync of the run (and several images of each cut).

use plaint_store::conformance::sample_event;
use plaint_store::file::{Durability, FileLog, FileLogOptions};
use plaint_store::io::SimIo;
use plaint_store::{AppendResult, EventStore, ExpectedVersion, NewEvent, StoreError};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

const DIR: &str = "/sim/log";
const SEGMENT: &str = "/sim/log/seg-00000000000000000001.plog";

fn options() -> FileLogOptions {
    FileLogOptions {
        durability: Durability::Always,
        // Every synced batch is anchored at once, and checkpoints come often: power is also
        // cut inside those writes.
        anchor_interval_ms: 0,
        checkpoint_every_events: 5,
        ..FileLogOptions::default()
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn events(command_id: &str, n: u32) -> Vec<NewEvent> {
    (0..n).map(|k| sample_event(command_id, k)).collect()
}

fn spawn_append(
    rt: &Runtime,
    log: &Arc<FileLog>,
    stream: &str,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
) -> JoinHandle<Result<AppendResult, StoreError>> {
    let log = log.clone();
    let stream = stream.to_string();
    rt.spawn(async move { log.append(&stream, expected, events).await })
}

/// What readers can see of the log right now: head, every event's (stream, command id).
fn visible(rt: &Runtime, log: &FileLog) -> (u64, Vec<(String, String)>) {
    rt.block_on(async {
        let head = log.head_position().await.unwrap();
        let all = log.read_all(1, 1000).await.unwrap();
        (head, all.into_iter().map(|e| (e.stream, e.command_id)).collect())
    })
}

#[test]
fn failed_sync_fails_its_group_and_the_group_written_behind_it() {
    let rt = runtime();
    let sim = SimIo::new(7);
    let log = Arc::new(FileLog::open_with_io(Arc::new(sim.clone()), DIR, options()).unwrap());
    rt.block_on(log.append("s-0", ExpectedVersion::Exact(0), events("setup", 1)))
        .unwrap();
    let before = visible(&rt, &log);
    assert_eq!(before.0, 1);
    let mut subscription = rt.block_on(log.subscribe(1)).unwrap();
    let first = rt.block_on(subscription.next()).unwrap().unwrap();
    assert_eq!(first.command_id, "setup");

    // Group A syncs (held at the gate) while group B, planned against A, is written.
    sim.hold_syncs();
    let a = spawn_append(&rt, &log, "s-1", ExpectedVersion::Exact(0), events("a", 2));
    sim.wait_syncs_waiting(1);
    let ops_before_b = sim.ops();
    // B continues A's stream: its exact version counts A (planned against the written head).
    let b = spawn_append(&rt, &log, "s-1", ExpectedVersion::Exact(2), events("b", 1));
    sim.wait_ops(ops_before_b + 1);
    assert_eq!(sim.syncs_waiting(), 1, "A's sync is still held while B was written");
    let written = sim.file_bytes(Path::new(SEGMENT)).unwrap().len();

    // Nothing of A or B is visible while neither is durable.
    assert_eq!(visible(&rt, &log), before, "unsynced groups are invisible");
    assert_eq!(rt.block_on(log.stream_version("s-1")).unwrap(), 0);
    assert!(rt.block_on(log.read_stream("s-1", 1, 10)).unwrap().is_empty());

    // A retry of A's command, deduplicated against a group still in flight, is answered only
    // with A's fate (here: failure), never as committed before A is durable.
    let retry = spawn_append(&rt, &log, "s-1", ExpectedVersion::Any, events("a", 2));

    sim.fail_next_sync(Path::new(SEGMENT));
    sim.open_sync_gate();
    for (name, task) in [("A", a), ("B", b), ("retry of A", retry)] {
        match rt.block_on(task).unwrap() {
            Err(StoreError::Io { path, source }) => {
                assert!(
                    path.contains("seg-") || path == DIR,
                    "{name}: error names the segment or the log: {path}"
                );
                assert!(source.to_string().contains("fdatasync"), "{name}: {source}");
            }
            other => panic!("{name}: expected the sync failure, got {other:?}"),
        }
    }
    assert!(written > 0);
    assert_eq!(visible(&rt, &log), before, "nothing of a failed group becomes visible");
    assert_eq!(rt.block_on(log.stream_version("s-1")).unwrap(), 0);

    // The log refuses every later append until reopened.
    let later = rt.block_on(log.append("s-2", ExpectedVersion::Exact(0), events("later", 1)));
    assert!(matches!(later, Err(StoreError::Io { .. })), "{later:?}");
    let log = Arc::try_unwrap(log).ok().unwrap();
    assert!(rt.block_on(log.close()).is_err(), "close reports the failure");
    // The subscription ends with the writer, having delivered nothing after the setup event.
    let next = rt.block_on(subscription.next());
    assert!(next.is_none(), "a subscription delivers nothing unsynced: {next:?}");

    // Reopened (the disk as a power cut could leave it: the unsynced bytes partly there or
    // not), the log holds the setup event and at most whole appends of A and then B, verifies
    // and takes appends again.
    for seed in 0..8 {
        let image = sim.crash_image(seed);
        let log = FileLog::open_with_io(Arc::new(image), DIR, options()).unwrap();
        let (head, all) = visible(&rt, &log);
        let cmds: Vec<&str> = all.iter().map(|(_, c)| c.as_str()).collect();
        assert!(
            [vec!["setup"], vec!["setup", "a", "a"], vec!["setup", "a", "a", "b"]].contains(&cmds),
            "seed {seed}: {cmds:?}"
        );
        assert_eq!(head, cmds.len() as u64);
        rt.block_on(log.verify()).unwrap();
        let v = rt.block_on(log.stream_version("s-1")).unwrap();
        rt.block_on(log.append("s-1", ExpectedVersion::Exact(v), events("after", 1)))
            .unwrap();
        rt.block_on(log.close()).unwrap();
    }
}

/// One append of the scenario.
#[derive(Debug, Clone)]
struct Planned {
    stream: String,
    command_id: String,
    events: u32,
}

/// Rounds of two groups in flight: A's sync held at the gate while B (on A's stream, planned
/// against A, or on another stream) is written; then the gate opens. Returns the appends that
/// were acknowledged, with their results, and every append issued.
fn two_in_flight(rt: &Runtime, sim: &SimIo, cut_at: Option<u64>) -> (Vec<(Planned, AppendResult)>, Vec<Planned>) {
    let mut acked = Vec::new();
    let mut issued = Vec::new();
    let log = Arc::new(FileLog::open_with_io(Arc::new(sim.clone()), DIR, options()).unwrap());
    let setup = Planned {
        stream: "s-0".into(),
        command_id: "setup".into(),
        events: 1,
    };
    let r = rt
        .block_on(log.append("s-0", ExpectedVersion::Exact(0), events("setup", 1)))
        .unwrap();
    acked.push((setup.clone(), r));
    issued.push(setup);
    if let Some(op) = cut_at {
        sim.cut_power_at(op);
    }
    let mut versions: BTreeMap<String, u64> = BTreeMap::new();
    for round in 0..3u32 {
        sim.hold_syncs();
        let stream_a = format!("s-{}", round % 2 + 1);
        let a = Planned {
            stream: stream_a.clone(),
            command_id: format!("a{round}"),
            events: 1 + round % 3,
        };
        let va = *versions.get(&stream_a).unwrap_or(&0);
        let ta = spawn_append(
            rt,
            &log,
            &a.stream,
            ExpectedVersion::Exact(va),
            events(&a.command_id, a.events),
        );
        sim.wait_syncs_waiting(1);
        let ops = sim.ops();
        // Odd rounds: B continues A's stream (exact version counting A); even: its own stream.
        let b = Planned {
            stream: if round % 2 == 1 { stream_a.clone() } else { "s-9".into() },
            command_id: format!("b{round}"),
            events: 2,
        };
        let vb = if b.stream == stream_a {
            va + u64::from(a.events)
        } else {
            *versions.get(&b.stream).unwrap_or(&0)
        };
        let tb = spawn_append(
            rt,
            &log,
            &b.stream,
            ExpectedVersion::Exact(vb),
            events(&b.command_id, b.events),
        );
        sim.wait_ops(ops + 1);
        sim.open_sync_gate();
        for (p, t) in [(a.clone(), ta), (b.clone(), tb)] {
            issued.push(p.clone());
            match rt.block_on(t).unwrap() {
                Ok(r) => {
                    assert!(!r.deduplicated);
                    versions.insert(p.stream.clone(), r.stream_version);
                    acked.push((p, r));
                }
                Err(StoreError::Io { .. }) => assert!(cut_at.is_some(), "only a power cut fails an append"),
                Err(e) => panic!("{p:?}: unexpected {e}"),
            }
        }
    }
    let log = Arc::try_unwrap(log).ok().unwrap();
    let closed = rt.block_on(log.close());
    assert!(closed.is_ok() || sim.is_dead(), "{closed:?}");
    (acked, issued)
}

#[test]
fn acknowledged_is_durable_with_two_groups_in_flight_at_every_cut() {
    let rt = runtime();
    // A run without a cut: how many writes and syncs follow the setup.
    let sim = SimIo::new(11);
    let (acked, issued) = two_in_flight(&rt, &sim, None);
    assert_eq!(acked.len(), issued.len(), "without a cut every append is acknowledged");
    let total_ops = sim.ops();
    assert!(total_ops > 20, "the run writes and syncs: {total_ops}");
    let mut cuts_with_loss = 0;
    for cut in 0..total_ops {
        let sim = SimIo::new(11);
        // `cut_power_at` counts from the setup's end; the setup is the same every run.
        let (acked, issued) = two_in_flight(&rt, &sim, Some(cut));
        if acked.len() < issued.len() {
            cuts_with_loss += 1;
        }
        for seed in 0..4 {
            let image = sim.crash_image(cut * 31 + seed);
            let case = format!("cut at op {cut} after the setup, image {seed}");
            let log = FileLog::open_with_io(Arc::new(image), DIR, options())
                .unwrap_or_else(|e| panic!("{case}: reopen failed: {e}"));
            let all = rt.block_on(log.read_all(1, 1000)).unwrap();
            // Acknowledged ⇒ durable, at the acknowledged positions.
            for (p, r) in &acked {
                for (k, pos) in (r.first_position..=r.last_position).enumerate() {
                    let e = all
                        .iter()
                        .find(|e| e.position == pos)
                        .unwrap_or_else(|| panic!("{case}: acknowledged {p:?} lost position {pos}"));
                    assert_eq!(
                        (&e.stream, &e.command_id),
                        (&p.stream, &p.command_id),
                        "{case}: {p:?} event {k}"
                    );
                }
            }
            // Everything in the log was issued, and appears whole.
            for e in &all {
                let p = issued
                    .iter()
                    .find(|p| p.command_id == e.command_id)
                    .unwrap_or_else(|| panic!("{case}: event of an unknown append {e:?}"));
                let n = all.iter().filter(|x| x.command_id == p.command_id).count();
                assert_eq!(n as u32, p.events, "{case}: {p:?} is in the log whole or not at all");
            }
            rt.block_on(log.verify())
                .unwrap_or_else(|e| panic!("{case}: verify: {e}"));
            let v = rt.block_on(log.stream_version("s-1")).unwrap();
            rt.block_on(log.append("s-1", ExpectedVersion::Exact(v), events("after", 1)))
                .unwrap_or_else(|e| panic!("{case}: append after reopen: {e}"));
            rt.block_on(log.close()).unwrap();
        }
    }
    assert!(cuts_with_loss > 0, "some cuts fail appends in flight");
}

/// A lone caller's commits (the log thread that answered one takes the next, or spins for it):
/// a commit is answered only once its own `fdatasync` returned. Its sync held at the gate, it
/// is not answered; power cut at that sync, it is refused, and a reboot finds the log without it or
/// with it whole (the write landed but was never acknowledged).
#[test]
fn a_lone_commit_is_acknowledged_only_after_its_sync_returns() {
    let rt = runtime();
    let sim = SimIo::new(11);
    let log = Arc::new(FileLog::open_with_io(Arc::new(sim.clone()), DIR, options()).unwrap());
    for i in 0..24 {
        let stream = format!("s-{i}");
        rt.block_on(log.append(&stream, ExpectedVersion::Exact(0), events(&format!("warm-{i}"), 1)))
            .unwrap();
    }
    sim.hold_syncs();
    let lone = spawn_append(&rt, &log, "s-lone", ExpectedVersion::Exact(0), events("lone", 1));
    sim.wait_syncs_waiting(1);
    // Not a timing assertion: the sync is held, so no wait is long enough for an answer.
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(!lone.is_finished(), "answered before its sync returned");
    assert!(
        visible(&rt, &log).1.iter().all(|(_, c)| c != "lone"),
        "invisible until durable"
    );
    sim.cut_power_at(0);
    sim.open_sync_gate();
    let answer = rt.block_on(lone).unwrap();
    assert!(answer.is_err(), "a commit whose sync failed is refused: {answer:?}");
    let mut lost = 0;
    for seed in 0..16 {
        let log = FileLog::open_with_io(Arc::new(sim.crash_image(seed)), DIR, options()).unwrap();
        let (head, all) = visible(&rt, &log);
        let warm: Vec<&str> = all[..24].iter().map(|(_, c)| c.as_str()).collect();
        assert!(
            warm.iter().enumerate().all(|(i, c)| *c == format!("warm-{i}")),
            "{warm:?}"
        );
        match &all[24..] {
            [] => lost += 1,
            [(stream, c)] => assert_eq!((stream.as_str(), c.as_str()), ("s-lone", "lone")),
            more => panic!("seed {seed}: {more:?}"),
        }
        assert_eq!(head, all.len() as u64);
        rt.block_on(log.verify()).unwrap();
        rt.block_on(log.close()).unwrap();
    }
    assert!(lost > 0, "some images lose the unsynced commit");
}

/// A vault write that fails part-way (half its bytes landed) is followed by writes at the
/// vault's end as its append handle keeps it, over the torn bytes: every record stays at its
/// numbered place, and the vault reopens and verifies with every acknowledged key.
#[test]
fn a_vault_write_that_failed_part_way_is_overwritten_by_the_next() {
    use plaint_store::vault::{KeyState, NewKey, Vault, VaultWrite};
    use plaint_store::AppendRequest;
    let key = |name: &str| NewKey {
        id: format!("owner-{name}.k1"),
        secret: zeroize::Zeroizing::new(*blake3::hash(name.as_bytes()).as_bytes()),
    };
    let append = |log: &FileLog, name: &str| {
        let request = AppendRequest {
            stream: format!("s-{name}"),
            expected: ExpectedVersion::Exact(0),
            events: events(name, 1),
        };
        let write = VaultWrite {
            keys: vec![key(name)],
            links: Vec::new(),
            sealed: Vec::new(),
        };
        rt_block(log.append_with_vault(vec![request], write))
    };
    let sim = SimIo::new(5);
    let log = FileLog::open_with_io(Arc::new(sim.clone()), DIR, options()).unwrap();
    append(&log, "a").unwrap();
    let vault = std::path::PathBuf::from(log.vault_location());
    let before = sim.file_bytes(&vault).unwrap().len();
    sim.fail_next_write(&vault);
    let b = append(&log, "b");
    append(&log, "c").unwrap();
    rt_block(log.close()).unwrap();
    let log = FileLog::open_with_io(Arc::new(sim.crash_image(0)), DIR, options()).unwrap();
    rt_block(log.verify_vault()).unwrap();
    let records = (sim.file_bytes(&vault).unwrap().len() - before) / 256;
    assert_eq!(
        records,
        if b.is_ok() { 2 } else { 1 },
        "no torn record left between them"
    );
    let acknowledged = ["a", "c"].into_iter().chain(b.is_ok().then_some("b"));
    for name in acknowledged {
        match rt_block(log.key(&key(name).id)).unwrap() {
            KeyState::Live(secret) => assert_eq!(*secret, *key(name).secret, "{name}"),
            other => panic!("key {name}: {other:?}"),
        }
    }
    rt_block(log.close()).unwrap();
}

fn rt_block<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(f)
}
