//! The runner over the real file log: rebuilds equal a direct fold, checkpoints survive restarts
//! at arbitrary points (property test), as-of reads, live following.

mod common;
use common::*;
use plaint_domain::event::Event;
use plaint_projections::runner::{ticket_as_of, ProjectionKind, ProjectionSet, RebuildTarget, Runner};
use plaint_projections::synth::{SynthConfig, SynthLog};
use plaint_projections::util::CHUNK_LEN;
use plaint_projections::Projection;
use proptest::prelude::*;

fn synth(complaints: u64, seed: u64) -> Vec<Event> {
    SynthLog::new(SynthConfig {
        complaints,
        seed,
        ..SynthConfig::default()
    })
    .collect()
}

fn fold(events: &[Event]) -> ProjectionSet {
    let mut set = ProjectionSet::default();
    for e in events {
        set.apply(e);
    }
    set
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn rebuild_from_the_file_log_equals_a_direct_fold_byte_for_byte() {
    let events = synth(150, 7);
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let log = file_log(&dir.path().join("log"));
        append_events(&log, &events).await;
        let expected = fold(&events).serialised();
        assert_eq!(expected.len(), 5);

        let mut runner = Runner::open(dir.path().join("ckpt"), ProjectionSet::default()).unwrap();
        let mut hooks = 0;
        runner.read_batch = 97; // several batches, odd size
        let stats = runner
            .rebuild(&log, RebuildTarget::Head, &mut |_| hooks += 1)
            .await
            .unwrap();
        assert_eq!(stats.events, events.len() as u64);
        assert_eq!(stats.position, events.len() as u64);
        assert!(hooks >= events.len() / 97);
        assert_eq!(runner.projections().serialised(), expected);

        // The fast path gives the very same bytes.
        let mut fast = Runner::in_memory(ProjectionSet::default());
        let stats = fast.rebuild_file_log(&log, RebuildTarget::Head, &mut |_| {}).unwrap();
        assert_eq!(stats.events, events.len() as u64);
        assert_eq!(fast.projections().serialised(), expected);
        // And so does the two-thread path, with hand-offs not aligned to anything.
        let mut par = Runner::in_memory(ProjectionSet::default());
        par.parallel = true;
        par.read_batch = 61;
        let stats = par.rebuild_file_log(&log, RebuildTarget::Head, &mut |_| {}).unwrap();
        assert_eq!(stats.events, events.len() as u64);
        assert_eq!(par.projections().serialised(), expected);
        // The set's shared record (issue 13, wave 11) too, however it was read and on reopening.
        let shared = fold(&events).shared_serialised();
        assert_eq!(runner.projections().shared_serialised(), shared);
        assert_eq!(fast.projections().shared_serialised(), shared);
        assert_eq!(par.projections().shared_serialised(), shared);
        let reopened = Runner::open(dir.path().join("ckpt"), ProjectionSet::default()).unwrap();
        assert_eq!(reopened.projections().shared_serialised(), shared);
        drop(reopened);

        // Reopened from the checkpoints, nothing is re-applied and the state is the same.
        let mut again = Runner::open(dir.path().join("ckpt"), ProjectionSet::default()).unwrap();
        assert_eq!(again.projections().low_position(), events.len() as u64);
        let ckpt_file = dir.path().join("ckpt").join("tickets.checkpoint");
        let written = std::fs::metadata(&ckpt_file).unwrap().modified().unwrap();
        let stats = again.catch_up(&log, &mut |_| {}).await.unwrap();
        assert_eq!(stats.events, 0);
        // Nothing new: the checkpoint is not rewritten.
        assert_eq!(std::fs::metadata(&ckpt_file).unwrap().modified().unwrap(), written);
        assert_eq!(again.projections().serialised(), expected);

        // Rebuild up to a position equals folding that prefix.
        let p = events.len() as u64 / 3;
        let mut prefix = Runner::in_memory(ProjectionSet::default());
        prefix
            .rebuild(&log, RebuildTarget::Position(p), &mut |_| {})
            .await
            .unwrap();
        assert_eq!(
            prefix.projections().serialised(),
            fold(&events[..p as usize]).serialised()
        );
        assert!(prefix
            .rebuild(&log, RebuildTarget::Position(events.len() as u64 + 1), &mut |_| {})
            .await
            .is_err());
    });
}

#[test]
fn as_of_rebuild_and_ticket_as_of_agree_with_the_filtered_history() {
    let events = synth(120, 11);
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let log = file_log(dir.path());
        append_events(&log, &events).await;
        let instant = events[events.len() / 2].meta.occurred_at;
        let before: Vec<Event> = events
            .iter()
            .filter(|e| e.meta.occurred_at <= instant)
            .cloned()
            .collect();
        let mut runner = Runner::in_memory(ProjectionSet::default());
        let stats = runner
            .rebuild(&log, RebuildTarget::AsOf(instant), &mut |_| {})
            .await
            .unwrap();
        assert_eq!(stats.applied, before.len() as u64);
        assert!(stats.events > stats.applied);
        assert_eq!(runner.projections().serialised(), fold(&before).serialised());
        let mut fast = Runner::in_memory(ProjectionSet::default());
        fast.rebuild_file_log(&log, RebuildTarget::AsOf(instant), &mut |_| {})
            .unwrap();
        assert_eq!(fast.projections().serialised(), fold(&before).serialised());

        // One ticket as of the instant, from its own stream: equals the as-of projection's view
        // except links made by other tickets' streams.
        let tickets = &runner.projections().tickets.state;
        let mut checked = 0;
        for id in tickets.ids().take(40) {
            let mut from_set = tickets.view(&id).unwrap();
            from_set.duplicates.clear();
            from_set.repeated_by.clear();
            let alone = ticket_as_of(&log, &id, instant).await.unwrap().unwrap();
            // Positions differ only in what the single-stream fold saw last: the same event.
            assert_eq!(alone, from_set, "ticket {id}");
            checked += 1;
        }
        assert!(checked > 10);
        let first = &events[0];
        assert!(
            ticket_as_of(&log, &first.meta.complaint_id, first.meta.occurred_at.plus_millis(-1))
                .await
                .unwrap()
                .is_none()
        );
    });
}

#[test]
fn follow_applies_live_appends_and_checkpoints_on_shutdown() {
    let events = synth(60, 3);
    let split = events.len() / 2;
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let log = std::sync::Arc::new(file_log(&dir.path().join("log")));
        append_events(log.as_ref(), &events[..split]).await;
        let mut runner = Runner::open(dir.path().join("ckpt"), ProjectionSet::default()).unwrap();
        runner.follow_checkpoint_every = 25;
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let mut done_tx = Some(done_tx);
        let total = events.len() as u64;
        let writer = {
            let log = log.clone();
            let rest = events[split..].to_vec();
            tokio::spawn(async move { append_events(log.as_ref(), &rest).await })
        };
        let stats = runner
            .follow(
                log.as_ref(),
                async {
                    let _ = done_rx.await;
                },
                &mut |_, position| {
                    if position == total {
                        if let Some(tx) = done_tx.take() {
                            let _ = tx.send(());
                        }
                    }
                },
            )
            .await
            .unwrap();
        writer.await.unwrap();
        assert_eq!(stats.position, total);
        assert_eq!(runner.projections().serialised(), fold(&events).serialised());
        let reopened = Runner::open(dir.path().join("ckpt"), ProjectionSet::default()).unwrap();
        assert_eq!(reopened.projections().low_position(), total);
        assert_eq!(reopened.projections().serialised(), fold(&events).serialised());
    });
}

/// One restart: how many more events were committed before it, which projections ran (a crash
/// between two projections' checkpoint writes leaves them at different positions), and which
/// read path.
#[derive(Debug, Clone)]
struct Restart {
    grow_by: usize,
    enabled: [bool; 5],
    fast_path: bool,
}

fn restarts() -> impl Strategy<Value = Vec<Restart>> {
    prop::collection::vec(
        (1usize..400, prop::array::uniform5(any::<bool>()), any::<bool>()).prop_map(|(grow_by, enabled, fast_path)| {
            Restart {
                grow_by,
                enabled,
                fast_path,
            }
        }),
        1..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Incremental application with checkpoints and restarts at random points, with random
    /// subsets of projections per run, gives byte-identical state to one full rebuild.
    #[test]
    fn incremental_with_random_restarts_equals_full_rebuild(seed in 0u64..1_000, plan in restarts()) {
        let events = synth(80, seed);
        let dir = tempfile::tempdir().unwrap();
        let ckpt = dir.path().join("ckpt");
        rt().block_on(async {
            let log = file_log(&dir.path().join("log"));
            let mut committed = 0usize;
            for r in &plan {
                let upto = (committed + r.grow_by).min(events.len());
                append_events(&log, &events[committed..upto]).await;
                committed = upto;
                let kinds: Vec<ProjectionKind> = ProjectionKind::ALL
                    .into_iter()
                    .zip(r.enabled)
                    .filter_map(|(k, on)| on.then_some(k))
                    .collect();
                let mut runner = Runner::open(&ckpt, ProjectionSet::only(&kinds)).unwrap();
                runner.read_batch = 33;
                runner.parallel = r.grow_by % 2 == 0;
                if r.fast_path {
                    runner.catch_up_file_log(&log, &mut |_| {}).unwrap();
                } else {
                    runner.catch_up(&log, &mut |_| {}).await.unwrap();
                }
            }
            append_events(&log, &events[committed..]).await;
            let mut last = Runner::open(&ckpt, ProjectionSet::default()).unwrap();
            last.catch_up(&log, &mut |_| {}).await.unwrap();
            let mut full = Runner::in_memory(ProjectionSet::default());
            full.rebuild(&log, RebuildTarget::Head, &mut |_| {}).await.unwrap();
            prop_assert_eq!(last.projections().serialised(), full.projections().serialised());
            prop_assert_eq!(full.projections().serialised(), fold(&events).serialised());
            Ok(())
        })?;
    }
}

/// Every projection numbers complaints by first receipt, so the records of checkpoints written by
/// this code are prefixes of one numbering; a checkpoint whose records are not (each file's hash
/// valid) is damage of that file, refused on open (the engine then rebuilds from the log).
#[test]
fn checkpoints_that_number_complaints_differently_are_damage() {
    use plaint_projections::checkpoint::{self, CheckpointError};
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("ckpt");
    let ours = fold(&synth(40, 3));
    ours.save(&ckpt).unwrap();
    assert!(Runner::open(&ckpt, ProjectionSet::default()).is_ok());

    // Another log's SLA state, at a lower position: its record 0 is another complaint.
    let mut theirs = ProjectionSet::default();
    let other: Vec<Event> = SynthLog::new(SynthConfig {
        complaints: 20,
        seed: 3,
        id_prefix: "OTHER".into(),
        ..SynthConfig::default()
    })
    .collect();
    for e in &other {
        theirs.apply(e);
    }
    assert!(theirs.sla.position < ours.tickets.position);
    checkpoint::save(&ckpt, theirs.sla.position, &theirs.sla.state).unwrap();
    match Runner::open(&ckpt, ProjectionSet::default()) {
        Err(plaint_projections::runner::RunnerError::Checkpoint(CheckpointError::Corrupt { path, detail })) => {
            assert_eq!(path, checkpoint::checkpoint_path(&ckpt, "sla"));
            assert!(detail.contains("record 0 is \"OTHER-"), "{detail}");
        }
        other => panic!("opened: {:?}", other.map(|_| ())),
    }
    // Alone too (issue 13, wave 11): the set's shared record numbers other complaints.
    assert!(Runner::open(&ckpt, ProjectionSet::only(&[ProjectionKind::Sla])).is_err());
    // With the shared record of its own set, alone, it is a sound checkpoint.
    let alone = dir.path().join("alone");
    theirs.save(&alone).unwrap();
    checkpoint::save(&alone, theirs.sla.position, &theirs.sla.state).unwrap();
    assert!(Runner::open(&alone, ProjectionSet::only(&[ProjectionKind::Sla])).is_ok());
}

/// The set's shared per-complaint record (issue 13, wave 11) is checked against every
/// projection that loads with it: a projection beyond the record's position, a projection
/// naming a complaint the record lacks, a missing record, a record numbering a complaint twice
/// — each refused on open as damage, naming the file (the engine then rebuilds from the log).
#[test]
fn a_shared_record_that_disagrees_with_the_projections_is_damage() {
    use plaint_projections::checkpoint::{self, CheckpointError};
    use plaint_projections::runner::RunnerError;
    use plaint_projections::shared::{Receipt, SHARED_NAME};
    let refused =
        |ckpt: &std::path::Path, kinds: &[ProjectionKind]| match Runner::open(ckpt, ProjectionSet::only(kinds)) {
            Err(RunnerError::Checkpoint(CheckpointError::Corrupt { path, detail })) => (path, detail),
            other => panic!("opened: {:?}", other.map(|_| ())),
        };
    let dir = tempfile::tempdir().unwrap();
    let events = synth(40, 3);
    let ours = fold(&events);
    let early = fold(&events[..events.len() / 2]);
    assert!(early.tickets.state.len() < ours.tickets.state.len());
    let (position, state) = ours.shared_state();
    let shared_bytes = |state: &plaint_projections::shared::SharedState| postcard::to_allocvec(state).unwrap();

    // The record of an earlier position: the projections are beyond it.
    let ckpt = dir.path().join("behind");
    ours.save(&ckpt).unwrap();
    let (early_position, early_state) = early.shared_state();
    checkpoint::save_bytes(&ckpt, SHARED_NAME, early_position, &shared_bytes(&early_state)).unwrap();
    let (path, detail) = refused(&ckpt, &[ProjectionKind::Sla]);
    assert_eq!(path, checkpoint::checkpoint_path(&ckpt, "sla"));
    assert!(
        detail.contains(&format!("beyond the shared record's {early_position}")),
        "{detail}"
    );

    // At the projections' position but short of complaints: they name ones it lacks.
    checkpoint::save_bytes(&ckpt, SHARED_NAME, position, &shared_bytes(&early_state)).unwrap();
    let (path, detail) = refused(&ckpt, &[ProjectionKind::Tickets]);
    assert_eq!(path, checkpoint::checkpoint_path(&ckpt, "tickets"));
    let lacks = format!(
        "record {} names complaint {:?}, which the shared record ({} complaints) lacks",
        early_state.len(),
        ours.tickets.state.ids().nth(early_state.len()).unwrap().as_str(),
        early_state.len()
    );
    assert!(detail.contains(&lacks), "{detail}");

    // No record at all, projections with complaints.
    std::fs::remove_file(checkpoint::checkpoint_path(&ckpt, SHARED_NAME)).unwrap();
    let (path, _) = refused(&ckpt, &[ProjectionKind::Analysis]);
    assert_eq!(path, checkpoint::checkpoint_path(&ckpt, "analysis"));

    // A record numbering one complaint twice.
    let mut entries: Vec<(String, Receipt)> = postcard::from_bytes(&shared_bytes(&state)).unwrap();
    entries[5].0 = entries[2].0.clone();
    checkpoint::save_bytes(&ckpt, SHARED_NAME, position, &postcard::to_allocvec(&entries).unwrap()).unwrap();
    let (path, detail) = refused(&ckpt, &[ProjectionKind::Repeats]);
    assert_eq!(path, checkpoint::checkpoint_path(&ckpt, SHARED_NAME));
    assert!(
        detail.contains(&format!("numbers complaint {:?} twice (again at 5)", entries[2].0)),
        "{detail}"
    );

    // The sound record opens every projection, alone and together.
    checkpoint::save_bytes(&ckpt, SHARED_NAME, position, &shared_bytes(&state)).unwrap();
    for kind in ProjectionKind::ALL {
        assert!(Runner::open(&ckpt, ProjectionSet::only(&[kind])).is_ok(), "{kind:?}");
    }
    let set = Runner::open(&ckpt, ProjectionSet::default())
        .unwrap()
        .into_projections();
    assert_eq!(set.serialised(), ours.serialised());
    assert!(set.lookups_shared());
}

/// Every projection's full chunks of complaint ids are the one allocation of the set's
/// numbering, and every projection looks complaints up in the numbering's index (issue 13,
/// wave 8): each id and one lookup table per set.
fn assert_ids_held_once(set: &ProjectionSet, chunks: usize, how: &str) {
    let tickets = set.tickets.state.record_ids();
    assert!(
        tickets.full_chunks() >= chunks,
        "{how}: {} full chunks",
        tickets.full_chunks()
    );
    assert!(set.lookups_shared(), "{how}: a projection has an id index of its own");
    let others = [
        ("sla", set.sla.state.record_ids()),
        ("repeats", set.repeats.state.record_ids()),
        ("analysis", set.analysis.state.record_ids()),
        ("casework", set.casework.state.record_ids()),
    ];
    for (name, ids) in others {
        assert_eq!(ids, tickets, "{how}: {name} numbers complaints like tickets");
        for k in 0..chunks {
            assert!(ids.shares_chunk(tickets, k), "{how}: {name}'s id chunk {k} is a copy");
        }
    }
}

#[test]
fn every_projection_holds_the_complaint_ids_once_however_it_was_built() {
    // Issue 13, wave 8: the complaint id was held six times per complaint (each projection's
    // record and the runner's numbering), 96 of the ≈ 1,500 bytes a complaint cost at a million.
    let events = synth(2 * CHUNK_LEN as u64 + 100, 5);
    let direct = fold(&events);
    assert_ids_held_once(&direct, 2, "a direct fold");
    let expected = direct.serialised();

    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let log = file_log(&dir.path().join("log"));
        append_events(&log, &events).await;
        let mut fast = Runner::open(dir.path().join("ckpt"), ProjectionSet::default()).unwrap();
        fast.rebuild_file_log(&log, RebuildTarget::Head, &mut |_| {}).unwrap();
        assert_ids_held_once(fast.projections(), 2, "the one-thread rebuild");
        let mut par = Runner::in_memory(ProjectionSet::default());
        par.parallel = true;
        par.rebuild_file_log(&log, RebuildTarget::Head, &mut |_| {}).unwrap();
        assert_ids_held_once(par.projections(), 2, "the two-thread rebuild");
        assert_eq!(par.projections().serialised(), expected);
    });
    // Loaded from checkpoints (written by the rebuild above).
    let loaded = Runner::open(dir.path().join("ckpt"), ProjectionSet::default()).unwrap();
    assert_ids_held_once(loaded.projections(), 2, "checkpoints loaded");
    assert_eq!(loaded.projections().serialised(), expected);

    // The engine's way: tickets and repeats folded one by one, the others caught up later.
    let mut engine = ProjectionSet::default();
    for e in &events {
        engine.apply_tickets(e);
        engine.apply_repeats(e);
    }
    for e in &events {
        engine.apply(e);
    }
    assert_ids_held_once(&engine, 2, "tickets and repeats first");
    assert_eq!(engine.serialised(), expected);
    // A copy has a numbering of its own and answers the same.
    let copy = engine.clone();
    assert_ids_held_once(&copy, 2, "a copy");
    assert_eq!(copy.serialised(), expected);
}

/// Every query the tests compare sets on, for one complaint.
fn answers(set: &ProjectionSet, id: &plaint_domain::ids::ComplaintId) -> String {
    let policy = plaint_domain::policy::Policy::default();
    let now = plaint_domain::time::Timestamp::MAX;
    format!(
        "{:?} {:?}",
        set.tickets.state.view(id),
        set.sla.state.ticket(id, now, &policy)
    )
}

#[test]
fn a_copy_of_a_set_and_the_set_fold_on_independently() {
    // Half the log into a set, a copy of it, then the other half into the copy alone: the
    // original neither changes nor starts to find the copy's complaints; then the reverse.
    let events = synth(2 * CHUNK_LEN as u64 + 100, 9);
    let (first, second) = events.split_at(events.len() / 2);
    let mut set = fold(first);
    let before = set.serialised();
    let known = set.tickets.state.ids().last().unwrap();
    let mut copy = set.clone();
    for e in second {
        copy.apply(e);
    }
    assert_ids_held_once(&copy, 2, "a copy folded on");
    assert_eq!(copy.serialised(), fold(&events).serialised());
    let later = copy.tickets.state.ids().last().unwrap();
    assert_ne!(later, known);
    assert_eq!(set.serialised(), before, "folding the copy changed the original");
    assert_eq!(
        set.tickets.state.view(&later),
        None,
        "the original finds the copy's complaint"
    );
    assert_eq!(answers(&set, &known), answers(&fold(first), &known));
    // The reverse: the original folds on, the copy of its first half does not move.
    let mut copy = fold(first).clone();
    for e in second {
        set.apply(e);
    }
    assert_eq!(copy.serialised(), before, "folding the original changed a copy");
    assert_eq!(copy.tickets.state.view(&later), None);
    assert_eq!(set.serialised(), fold(&events).serialised());
    for e in second {
        copy.apply(e);
    }
    assert_eq!(copy.serialised(), set.serialised());
    assert_eq!(answers(&copy, &later), answers(&set, &later));
}

#[test]
fn a_copy_of_a_projection_that_looks_up_in_a_numbering_ahead_of_it_folds_without_panic() {
    // The engine's set: repeats folded ahead, so the numbering knows complaints that tickets has
    // not seen. A copy of the ticket projection must fold the log on its own (it once took the
    // numbering's index and panicked when its index grew).
    let events = synth(2 * CHUNK_LEN as u64 + 100, 11);
    let mut set = ProjectionSet::default();
    for e in &events {
        set.apply_repeats(e);
    }
    let mut tickets = set.tickets.state.clone();
    for e in &events {
        tickets.apply(e);
    }
    let direct = fold(&events);
    assert_eq!(
        postcard::to_allocvec(&tickets).unwrap(),
        postcard::to_allocvec(&direct.tickets.state).unwrap()
    );
    let id = direct.tickets.state.ids().nth(CHUNK_LEN + 7).unwrap();
    assert_eq!(tickets.view(&id), direct.tickets.state.view(&id));
}

/// Every ticket view of `copy` is the one a fold of `events` shows (a copy of a set's ticket
/// projection folding a log of its own reads its own receipts, never the set's).
fn assert_views_of_its_own_fold(copy: &plaint_projections::Tickets, events: &[Event]) {
    let direct = fold(events);
    let ids: Vec<_> = direct.tickets.state.ids().collect();
    assert!(!ids.is_empty());
    for id in &ids {
        let (mine, theirs) = (copy.view(id).unwrap(), direct.tickets.state.view(id).unwrap());
        assert_eq!(
            (mine.received_at, mine.contact_at, mine.channel),
            (theirs.received_at, theirs.contact_at, theirs.channel),
            "{id:?}"
        );
        assert_eq!(mine, theirs);
    }
}

#[test]
fn a_copy_of_a_projection_taken_from_an_empty_set_reads_its_own_receipts() {
    // Review of wave 11, finding 2: the copy's column was the set's record, which the copy's
    // fold never pushes to (debug: a panic; release: out of bounds or another's receipt).
    let events = synth(40, 3);
    let mut tickets = ProjectionSet::default().tickets.state.clone();
    for e in &events {
        tickets.apply(e);
    }
    assert_views_of_its_own_fold(&tickets, &events);
}

#[test]
fn a_copy_of_a_projection_folding_another_log_reads_its_own_receipts() {
    // The set numbered complaints the ticket projection has not seen (repeats folded ahead, as
    // in the engine), from another log: the same ids, received at other times. The copy's
    // record i is not the set's, so it must not read the set's receipt i.
    let mut set = ProjectionSet::default();
    for e in &synth(40, 3) {
        set.apply_repeats(e);
    }
    let events = synth(40, 4);
    let mut tickets = set.tickets.state.clone();
    for e in &events {
        tickets.apply(e);
    }
    assert_views_of_its_own_fold(&tickets, &events);
}
