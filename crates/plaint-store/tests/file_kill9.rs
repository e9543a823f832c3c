//! A real `kill -9`: this test binary re-executes itself as a child (selected by the
//! `PLAINT_KILL9_CHILD` environment variable) that appends from several tasks and prints every
//! acknowledged append on stdout. The parent kills it with SIGKILL at random moments, reopens the
//! log and checks that every acknowledged event is there, unchanged, and that the log verifies:
//! first read-only (as `plaint verify`; no byte changes, the head anchor is reached), then as a
//! writer.

use plaint_store::file::{FileLog, FileLogOptions};
use plaint_store::{EventStore, ExpectedVersion, NewEvent};
use rand::{Rng, SeedableRng};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "PLAINT_KILL9_CHILD";
const TEST_NAME: &str = "acknowledged_appends_survive_kill_9";
const KILLS: usize = 50;
const CHILD_TASKS: usize = 4;

fn event(stream: &str, version: u64) -> NewEvent {
    NewEvent {
        event_type: "Appended".into(),
        schema_version: 1,
        occurred_at_ms: version as i64,
        recorded_at_ms: version as i64,
        actor: "kill9".into(),
        command_id: format!("{stream}/{version}"),
        payload: format!("{stream}:{version}:").repeat(8).into_bytes(),
    }
}

/// Child mode: append forever, printing `ack <stream> <version> <position>` after each commit.
fn child(dir: &str) -> ! {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let log = std::sync::Arc::new(FileLog::open(dir, FileLogOptions::default()).expect("child opens the log"));
        let mut tasks = Vec::new();
        for t in 0..CHILD_TASKS {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                let stream = format!("k-{t}");
                let mut version = log.stream_version(&stream).await.unwrap();
                loop {
                    let r = log
                        .append(
                            &stream,
                            ExpectedVersion::Exact(version),
                            vec![event(&stream, version + 1)],
                        )
                        .await;
                    let r = r.expect("child append");
                    version += 1;
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {stream} {version} {}", r.first_position).unwrap();
                    out.flush().unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    unreachable!("the child appends until it is killed")
}

/// Every file of `dir` with its bytes.
fn files_of(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn acknowledged_appends_survive_kill_9() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child(&dir);
    }
    let seed: u64 = std::env::var("PLAINT_KILL9_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("kill -9 test seed {seed} (replay the kill timings with PLAINT_KILL9_SEED={seed})");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let dir_str = dir.path().to_str().unwrap().to_string();
    let exe = std::env::current_exe().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut acked: Vec<(String, u64, u64)> = Vec::new();
    let mut zero_tail_rounds = 0;
    let started = Instant::now();
    for round in 0..KILLS {
        let mut child = Command::new(&exe)
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &dir_str)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| {
                    let mut f = l.strip_prefix("ack ")?.split(' ');
                    Some((f.next()?.to_string(), f.next()?.parse().ok()?, f.next()?.parse().ok()?))
                })
                .collect::<Vec<(String, u64, u64)>>()
        });
        std::thread::sleep(Duration::from_millis(rng.random_range(30..200)));
        child.kill().expect("SIGKILL the child");
        child.wait().unwrap();
        let round_acked = reader.join().unwrap();
        acked.extend(round_acked);

        // First as `plaint verify` does: read-only, it must find the log sound (the anchor
        // reached, a torn tail only noted) and change no byte.
        let before = files_of(dir.path());
        // The child's open segment, pre-written with zeros ahead of its appends: the zeros
        // are the log's clean end (its last batch is whole, or torn and noted).
        let zero_tail = before
            .iter()
            .rev()
            .find(|(n, _)| n.ends_with(".plog"))
            .is_some_and(|(_, b)| b.last() == Some(&0));
        zero_tail_rounds += usize::from(zero_tail);
        let ro = FileLog::open(
            dir.path(),
            FileLogOptions {
                read_only: true,
                ..FileLogOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("round {round} (seed {seed}): read-only open after kill -9 failed: {e}"));
        let anchored = ro.open_report().anchor.map(|a| a.head_position);
        let ro_head = rt
            .block_on(ro.verify())
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): read-only verify: {e}"))
            .head_position;
        assert!(
            // No anchor only while there is no segment either (it is written before the first).
            anchored.map_or(ro_head == 0, |a| a <= ro_head),
            "round {round} (seed {seed}): anchor {anchored:?}, head {ro_head}"
        );
        drop(ro);
        assert!(
            files_of(dir.path()) == before,
            "round {round} (seed {seed}): the read-only open changed the store"
        );

        let log = FileLog::open(dir.path(), FileLogOptions::default())
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): reopen after kill -9 failed: {e}"));
        rt.block_on(async {
            let head = log.head_position().await.unwrap();
            for (stream, version, position) in &acked {
                assert!(
                    *position <= head,
                    "round {round} (seed {seed}): acknowledged position {position} > head {head}"
                );
                let got = log.read_stream(stream, *version, 1).await.unwrap();
                assert_eq!(got.len(), 1, "round {round} (seed {seed}): {stream} v{version} missing");
                let e = &got[0];
                assert_eq!(
                    e.position, *position,
                    "round {round} (seed {seed}): {stream} v{version} position"
                );
                assert_eq!(
                    e.payload,
                    event(stream, *version).payload,
                    "round {round}: {stream} v{version} payload"
                );
            }
            let report = log
                .verify()
                .await
                .unwrap_or_else(|e| panic!("round {round} (seed {seed}): verify: {e}"));
            assert_eq!(report.head_position, head);
        });
        drop(log);
    }
    assert!(
        acked.len() >= KILLS,
        "children acknowledged only {} appends in {KILLS} rounds",
        acked.len()
    );
    assert!(zero_tail_rounds > 0, "no kill left a pre-written tail to recover");
    eprintln!(
        "{KILLS} kills ({zero_tail_rounds} with a pre-written zero tail), {} acknowledged appends checked, {:?}",
        acked.len(),
        started.elapsed()
    );
}
