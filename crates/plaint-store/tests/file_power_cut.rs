//! Power-cut simulation: the file log runs on the in-memory disk of `plaint_store::io::SimIo`,
//! power is cut at every write and every sync of a seeded workload, and the disk image a reboot
//! could find is reopened. It must hold exactly the acknowledged appends, plus possibly the one
//! append in flight **whole**, never part of it; and it must verify and accept new appends.
//!
//! Every append also creates a vault key for each of its requests
//! ([`plaint_store::Vault::append_with_vault`]): after the cut, every event in the log has its
//! key in the vault, intact (a key is durable before the events sealed under it).
//!
//! A failure prints the seed and cut point; `PLAINT_POWER_CUT_SEED=<seed>` replays one seed.

use plaint_store::conformance::sample_event;
use plaint_store::file::{Durability, FileLog, FileLogOptions, SEGMENT_SIZE_MIN};
use plaint_store::io::{LogIo, SimIo};
use plaint_store::vault::{KeyState, NewKey, VaultWrite};
use plaint_store::{AppendRequest, EventStore, ExpectedVersion, NewEvent, RecordedEvent, StoreError, Vault};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::sync::Arc;

const DIR: &str = "/sim/log";
const APPENDS_PER_RUN: usize = 40;

fn options() -> FileLogOptions {
    FileLogOptions {
        durability: Durability::Always,
        segment_size_max: SEGMENT_SIZE_MIN,
        read_only: false,
        checkpoint_every_events: 9,
        // Anchor after every synced batch: power is then also cut inside anchor writes.
        anchor_interval_ms: 0,
        ..FileLogOptions::default()
    }
}

/// Segments of 8 KiB whose tail is pre-written 1 KiB at a time: the writer extends the zeros
/// in the middle of segments (a write and a sync of their own, both cut points), batches land
/// in them or reach past them, and rolls cut the zeros off the finished segment.
fn options_small_prewrite() -> FileLogOptions {
    FileLogOptions {
        segment_size_max: 2 * SEGMENT_SIZE_MIN,
        prewrite_bytes: 1024,
        ..options()
    }
}

/// One step of the workload.
#[derive(Debug, Clone)]
enum Step {
    Append {
        stream: String,
        expected_exact: bool,
        events: Vec<NewEvent>,
    },
    Many(Vec<(String, Vec<NewEvent>)>),
    /// Repeat an earlier step's command (must be deduplicated, writes nothing).
    Retry(usize),
}

fn workload(seed: u64) -> Vec<Step> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut steps = Vec::new();
    for i in 0..APPENDS_PER_RUN {
        let kind = rng.random_range(0..10);
        let events = |cmd: &str, rng: &mut ChaCha8Rng| -> Vec<NewEvent> {
            (0..rng.random_range(1..4u32))
                .map(|k| {
                    let mut e = sample_event(cmd, k);
                    e.payload = vec![rng.random(); rng.random_range(0..700)];
                    e
                })
                .collect()
        };
        let step = if kind < 6 || i == 0 {
            let stream = format!("s-{}", rng.random_range(0..4));
            Step::Append {
                stream,
                expected_exact: rng.random_bool(0.5),
                events: events(&format!("c-{i}"), &mut rng),
            }
        } else if kind < 8 {
            let parts = (0..rng.random_range(1..4))
                .map(|k| {
                    (
                        format!("s-{}", rng.random_range(0..4)),
                        events(&format!("m-{i}-{k}"), &mut rng),
                    )
                })
                .collect();
            Step::Many(parts)
        } else {
            let mut target = rng.random_range(0..steps.len());
            while let Step::Retry(earlier) = steps[target] {
                target = earlier;
            }
            Step::Retry(target)
        };
        steps.push(step);
    }
    steps
}

/// The vault key of one append request: its id and secret follow from stream and command id.
fn key_of(stream: &str, command_id: &str) -> NewKey {
    NewKey {
        id: format!("{stream}.{command_id}"),
        secret: zeroize::Zeroizing::new(*blake3::hash(format!("{stream}/{command_id}").as_bytes()).as_bytes()),
    }
}

fn vault_write(requests: &[(String, Vec<NewEvent>)]) -> VaultWrite {
    VaultWrite {
        keys: requests.iter().map(|(s, ev)| key_of(s, &ev[0].command_id)).collect(),
        links: Vec::new(),
        sealed: Vec::new(),
    }
}

/// Runs the workload until the disk dies; returns acknowledged events (by position) and the
/// events of the step in flight when power was cut (if it would have written).
async fn run(
    io: &SimIo,
    steps: &[Step],
    options: &FileLogOptions,
) -> (Vec<RecordedEvent>, Vec<(String, Vec<NewEvent>)>) {
    let log = match FileLog::open_with_io(Arc::new(io.clone()), DIR, options.clone()) {
        Ok(l) => l,
        Err(_) => return (Vec::new(), Vec::new()),
    };
    let mut acked: Vec<RecordedEvent> = Vec::new();
    for step in steps {
        let step = match step {
            Step::Retry(i) => &steps[*i],
            s => s,
        };
        let requests: Vec<(String, Vec<NewEvent>)> = match step {
            Step::Append { stream, events, .. } => vec![(stream.clone(), events.clone())],
            Step::Many(parts) => parts.clone(),
            Step::Retry(_) => unreachable!("a retry names an append"),
        };
        let result = match step {
            Step::Append {
                stream,
                expected_exact,
                events,
            } => {
                let expected = if *expected_exact {
                    ExpectedVersion::Exact(acked.iter().filter(|e| &e.stream == stream).count() as u64)
                } else {
                    ExpectedVersion::Any
                };
                let request = AppendRequest {
                    stream: stream.clone(),
                    expected,
                    events: events.clone(),
                };
                log.append_with_vault(vec![request], vault_write(&requests)).await
            }
            _ => {
                let reqs = requests
                    .iter()
                    .map(|(s, ev)| AppendRequest {
                        stream: s.clone(),
                        expected: ExpectedVersion::Any,
                        events: ev.clone(),
                    })
                    .collect();
                log.append_with_vault(reqs, vault_write(&requests)).await
            }
        };
        match result {
            Ok(results) => {
                for ((stream, events), r) in requests.iter().zip(results) {
                    if r.deduplicated {
                        continue;
                    }
                    let mut version = r.stream_version - events.len() as u64;
                    for (k, e) in events.iter().enumerate() {
                        version += 1;
                        acked.push(recorded(r.first_position + k as u64, stream, version, e));
                    }
                }
            }
            Err(StoreError::Io { .. }) => {
                let in_flight = requests
                    .into_iter()
                    .filter(|(s, ev)| !acked.iter().any(|a| &a.stream == s && a.command_id == ev[0].command_id))
                    .collect();
                return (acked, in_flight);
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    drop(log);
    (acked, Vec::new())
}

fn recorded(position: u64, stream: &str, stream_version: u64, e: &NewEvent) -> RecordedEvent {
    RecordedEvent {
        position,
        stream: stream.to_string(),
        stream_version,
        event_type: e.event_type.clone(),
        schema_version: e.schema_version,
        occurred_at_ms: e.occurred_at_ms,
        recorded_at_ms: e.recorded_at_ms,
        actor: e.actor.clone(),
        command_id: e.command_id.clone(),
        payload: e.payload.clone(),
    }
}

/// Every file of the log directory with its bytes (empty when the directory is missing).
fn disk_files(io: &SimIo) -> Vec<(String, Vec<u8>)> {
    let mut names = io.list_dir(Path::new(DIR)).unwrap_or_default();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let bytes = io.file_bytes(&Path::new(DIR).join(&n)).unwrap_or_default();
            (n, bytes)
        })
        .collect()
}

/// Checks one cut; returns whether the image's last segment ended with a zero byte.
async fn check_cut(seed: u64, cut: u64, steps: &[Step], options: &FileLogOptions) -> Result<bool, String> {
    let io = SimIo::new(seed ^ (cut << 20));
    io.cut_power_at(cut);
    let (acked, in_flight) = run(&io, steps, options).await;
    let image = io.crash_image(seed.wrapping_mul(31) ^ cut);
    // As `plaint verify` sees it first: read-only, the log reaches its anchor, and no byte of
    // the image changes (a torn tail stays for the writer to cut).
    let before = disk_files(&image);
    let zero_tail = before
        .iter()
        .rev()
        .find(|(n, _)| n.ends_with(".plog"))
        .is_some_and(|(_, b)| b.last() == Some(&0));
    let read_only = FileLogOptions {
        read_only: true,
        ..options.clone()
    };
    let ro = FileLog::open_with_io(Arc::new(image.clone()), DIR, read_only)
        .map_err(|e| format!("read-only open after the cut failed: {e}"))?;
    ro.verify()
        .await
        .map_err(|e| format!("read-only verify after the cut: {e}"))?;
    drop(ro);
    if disk_files(&image) != before {
        return Err("the read-only open changed the disk".into());
    }
    let log = FileLog::open_with_io(Arc::new(image.clone()), DIR, options.clone())
        .map_err(|e| format!("reopen after the cut failed: {e}"))?;
    let all = log.read_all(1, 1_000_000).await.map_err(|e| e.to_string())?;
    if all.len() < acked.len() {
        return Err(format!(
            "{} events acknowledged, {} after reopen",
            acked.len(),
            all.len()
        ));
    }
    if all[..acked.len()] != acked[..] {
        let i = all.iter().zip(&acked).position(|(a, b)| a != b).unwrap();
        return Err(format!("acknowledged event at position {} differs after reopen", i + 1));
    }
    let extra = &all[acked.len()..];
    let in_flight_events: usize = in_flight.iter().map(|(_, e)| e.len()).sum();
    if !extra.is_empty() {
        // Only the whole in-flight append may be there in addition.
        if extra.len() != in_flight_events {
            return Err(format!(
                "{} unacknowledged events present, the append in flight had {in_flight_events}",
                extra.len()
            ));
        }
        let mut k = 0;
        for (stream, events) in &in_flight {
            for e in events {
                let got = &extra[k];
                if &got.stream != stream || got.command_id != e.command_id || got.payload != e.payload {
                    return Err(format!(
                        "unacknowledged event at position {} is not the append in flight",
                        got.position
                    ));
                }
                k += 1;
            }
        }
    }
    // Every event's key survived, intact.
    for e in &all {
        let want = key_of(&e.stream, &e.command_id);
        match log
            .key(&want.id)
            .await
            .map_err(|err| format!("vault after reopen: {err}"))?
        {
            KeyState::Live(secret) if *secret == *want.secret => {}
            other => {
                return Err(format!(
                    "the key of the event at position {} is {other:?} after reopen",
                    e.position
                ))
            }
        }
    }
    log.verify_vault()
        .await
        .map_err(|e| format!("verify the vault after reopen: {e}"))?;
    let report = log.verify().await.map_err(|e| format!("verify after reopen: {e}"))?;
    if report.events != all.len() as u64 {
        return Err("verify counts differently than read_all".into());
    }
    // The log takes new appends and reopens again with them.
    log.append(
        "after-cut",
        ExpectedVersion::Exact(0),
        vec![sample_event("after-cut", 0)],
    )
    .await
    .map_err(|e| format!("append after reopen: {e}"))?;
    log.close().await.map_err(|e| format!("close after reopen: {e}"))?;
    let again =
        FileLog::open_with_io(Arc::new(image), DIR, options.clone()).map_err(|e| format!("second reopen: {e}"))?;
    if again.head_position().await.unwrap() != all.len() as u64 + 1 {
        return Err("second reopen lost the append made after the cut".into());
    }
    Ok(zero_tail)
}

fn seeds() -> Vec<u64> {
    match std::env::var("PLAINT_POWER_CUT_SEED") {
        Ok(s) => vec![s.parse().expect("PLAINT_POWER_CUT_SEED is a u64")],
        Err(_) => (0..12).map(|i| 0x5EED_0000 + i).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_cut_at_every_write_and_sync_keeps_exactly_the_acknowledged_prefix() {
    let (cuts_checked, zero_tails) = cut_everywhere(&seeds(), &options()).await;
    assert!(cuts_checked >= 500, "only {cuts_checked} cut points checked");
    // Most cuts leave the open segment's pre-written zeros on the disk: recovery reads them.
    assert!(
        zero_tails * 2 >= cuts_checked,
        "{zero_tails} of {cuts_checked} images had a zero tail"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_cut_at_every_write_and_sync_with_the_tail_pre_written_in_small_chunks() {
    let options = options_small_prewrite();
    let seeds: Vec<u64> = seeds().into_iter().take(4).collect();
    // The uncut runs roll segments; each finished one is cut to its last batch (whose last byte
    // is its end marker) at the roll, the last one at close.
    for &seed in &seeds {
        let io = SimIo::new(seed);
        run(&io, &workload(seed), &options).await;
        let mut names: Vec<String> = io.list_dir(Path::new(DIR)).unwrap();
        names.retain(|n| n.ends_with(".plog"));
        assert!(names.len() >= 2, "seed {seed}: {} segments", names.len());
        for name in names {
            let bytes = io.file_bytes(&Path::new(DIR).join(&name)).unwrap();
            assert_eq!(
                bytes.last(),
                Some(&b'Z'),
                "seed {seed}: {name} ends with its last batch"
            );
        }
    }
    let (cuts_checked, zero_tails) = cut_everywhere(&seeds, &options).await;
    assert!(cuts_checked >= 150, "only {cuts_checked} cut points checked");
    assert!(
        zero_tails * 2 >= cuts_checked,
        "{zero_tails} of {cuts_checked} images had a zero tail"
    );
}

/// Cuts power at every write and sync point of each seed's workload; the cut points checked,
/// and how many of their images had zeros after the last segment's last non-zero byte.
async fn cut_everywhere(seeds: &[u64], options: &FileLogOptions) -> (u64, u64) {
    let (mut cuts_checked, mut zero_tails) = (0u64, 0u64);
    for &seed in seeds {
        let steps = workload(seed);
        // A run without a cut counts the write and sync points.
        let io = SimIo::new(seed);
        let (acked, in_flight) = run(&io, &steps, options).await;
        assert!(
            in_flight.is_empty() && !acked.is_empty(),
            "seed {seed}: the uncut run completes"
        );
        let ops = io.ops();
        assert!(ops > APPENDS_PER_RUN as u64, "seed {seed}: {ops} write/sync points");
        for cut in 0..ops {
            match check_cut(seed, cut, &steps, options).await {
                Ok(zero_tail) => zero_tails += u64::from(zero_tail),
                Err(why) => panic!("power cut at write/sync point {cut} of {ops}, seed {seed} (replay: PLAINT_POWER_CUT_SEED={seed}): {why}"),
            }
            cuts_checked += 1;
        }
    }
    (cuts_checked, zero_tails)
}

#[tokio::test]
async fn sim_disk_loses_unsynced_bytes_only() {
    // The simulator itself: synced bytes survive every image, unsynced ones may not.
    let (io, mut f) = sim_file(7, b"synced");
    f.write_all(b"-pending").unwrap();
    let mut seen_short = false;
    for seed in 0..64 {
        let (data, _) = image_prefix(&io, seed, b"synced", b"-pending");
        seen_short |= data.len() < 14;
    }
    assert!(seen_short, "some image loses unsynced bytes");
}

/// A simulated disk holding `/d/f` with `synced` written and synced, and the file's handle.
fn sim_file(seed: u64, synced: &[u8]) -> (SimIo, Box<dyn plaint_store::io::AppendFile>) {
    let io = SimIo::new(seed);
    io.create_dir_all(Path::new("/d")).unwrap();
    let mut f = io.open_append(Path::new("/d/f"), true).unwrap();
    f.write_all(synced).unwrap();
    f.sync_data().unwrap();
    (io, f)
}

/// A crash image of `/d/f`: checks that it starts with `head`, then holds a prefix of
/// `written`, then only zeros; returns its bytes and the prefix's length.
fn image_prefix(io: &SimIo, seed: u64, head: &[u8], written: &[u8]) -> (Vec<u8>, usize) {
    let data = io.crash_image(seed).read_whole(Path::new("/d/f")).unwrap();
    assert!(data.starts_with(head), "seed {seed}");
    let tail = &data[head.len()..];
    let prefix = tail.iter().zip(written).take_while(|(a, b)| a == b).count();
    assert!(
        tail[prefix..].iter().all(|&b| b == 0),
        "seed {seed}: only a prefix, then zeros"
    );
    (data, prefix)
}

#[tokio::test]
async fn sim_disk_lands_a_prefix_of_a_positioned_write_over_synced_bytes() {
    // A positioned write over synced zeros (a pre-written tail): an image keeps the synced
    // bytes, then a prefix of the write, and the zeros after it; never a byte of the write
    // without those before it, and never beyond the synced length.
    let (io, mut f) = sim_file(9, b"head\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
    f.write_at(b"batch-1", 4).unwrap();
    f.write_at(b"batch-2", 11).unwrap();
    let written = b"batch-1batch-2";
    let (mut seen_none, mut seen_part, mut seen_all) = (false, false, false);
    for seed in 0..128 {
        let (data, prefix) = image_prefix(&io, seed, b"head", written);
        assert_eq!(data.len(), 20, "seed {seed}: the synced length, no more, no less");
        seen_none |= prefix == 0;
        seen_part |= prefix > 0 && prefix < written.len();
        seen_all |= prefix == written.len();
    }
    assert!(seen_none && seen_part && seen_all, "{seen_none} {seen_part} {seen_all}");
    // Synced: every image holds both writes.
    f.sync_data().unwrap();
    let data = io.crash_image(3).read_whole(Path::new("/d/f")).unwrap();
    assert_eq!(&data[4..18], written);
}
