//! The escape table of `time::PackedTimestamp` (review of wave 13, findings 2 and 3), in a test
//! binary of its own: the table is process-wide, so this one test is the only thing packing
//! instants in its process.
//!
//! Real data adds no entry: folding a synthetic log, the wave-7 fixture's log, and loading the
//! format-7 fixture's checkpoints leave `escaped_instants()` at 0. An out-of-range complaint adds
//! an entry per distinct out-of-range instant the projections hold — several for one event (a
//! `Classified` records a deadline per clock), not one per event — and the same instants again
//! add none.

mod common;

use common::file_log;
use plaint_domain::event::{Event, EventData};
use plaint_domain::time::{escaped_instants, Timestamp, INLINE_MAX};
use plaint_projections::runner::{ProjectionSet, Runner};
use plaint_projections::synth::{SynthConfig, SynthLog};
use std::collections::BTreeSet;
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn fold(events: &[Event]) -> ProjectionSet {
    let mut set = ProjectionSet::default();
    for e in events {
        set.apply(e);
    }
    set
}

/// 5,000 years: a 2026 instant moved past year 6430, out of the inline range.
const FAR: i64 = 5_000 * 365 * 86_400_000;

/// `t` moved out of the inline range (`Timestamp::MAX`, "no due", stays).
fn far(t: &mut Timestamp, out: &mut BTreeSet<i64>) {
    if *t != Timestamp::MAX {
        *t = t.plus_millis(FAR);
        assert!(t.as_millis() > INLINE_MAX);
        out.insert(t.as_millis());
    }
}

#[test]
fn real_data_escapes_no_instant_and_an_out_of_range_complaint_escapes_each_of_its_instants_once() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));

    // A synthetic log (every event kind the generator writes), folded.
    let synth: Vec<Event> = SynthLog::new(SynthConfig {
        complaints: 500,
        seed: 13,
        ..SynthConfig::default()
    })
    .collect();
    let _set = fold(&synth);
    assert_eq!(escaped_instants(), 0, "the synthetic log escaped instants");

    // The wave-7 fixture's log, folded, and the format-7 fixture's checkpoints, loaded.
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        &manifest.join("tests/fixtures/wave7-format6/log"),
        &tmp.path().join("log"),
    );
    let log = file_log(&tmp.path().join("log"));
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let events: Vec<Event> = rt
        .block_on(plaint_store::EventStore::read_all(&log, 1, 10_000))
        .unwrap()
        .into_iter()
        .map(|r| plaint_projections::from_recorded_owned(r).unwrap())
        .collect();
    assert_eq!(events.len(), 187);
    let _fixture_log = fold(&events);
    let format7 = tmp.path().join("format7");
    copy_dir(&manifest.join("tests/fixtures/wave11-format7/projections"), &format7);
    let _loaded = Runner::open(&format7, ProjectionSet::default()).expect("the format-7 fixture loads");
    assert_eq!(escaped_instants(), 0, "the fixtures escaped instants");

    // One complaint's events up to its `Classified` moved 5,000 years on (what a widened
    // `input_bounds`, a log written before issue 11 or a crafted log can hold).
    let one: Vec<Event> = SynthLog::new(SynthConfig {
        complaints: 1,
        seed: 7,
        id_prefix: "FAR".into(),
        ..SynthConfig::default()
    })
    .collect();
    let mut far_events = Vec::new();
    let mut instants = BTreeSet::new();
    let mut deadlines = BTreeSet::new();
    let classified = one
        .iter()
        .position(|e| matches!(e.data, EventData::Classified(_)))
        .unwrap();
    for e in &one[..=classified] {
        let mut e = e.clone();
        far(&mut e.meta.occurred_at, &mut instants);
        far(&mut e.meta.recorded_at, &mut instants);
        match &mut e.data {
            EventData::Received(r) => far(&mut r.contact_at, &mut instants),
            EventData::Classified(c) => {
                for d in &mut c.deadlines {
                    far(&mut d.due_at, &mut deadlines);
                }
                for d in &mut c.escalations {
                    far(&mut d.due_at, &mut instants);
                }
            }
            _ => {}
        }
        far_events.push(e);
    }
    assert!(deadlines.len() >= 3, "{deadlines:?}");
    let _far = fold(&far_events);
    let added = escaped_instants();
    // Every recorded deadline is held (the SLA trail, the ticket's current deadlines): several
    // entries for the one `Classified` event; and the receipt's two instants; not more than
    // the distinct instants the events carry.
    let all: BTreeSet<i64> = instants.union(&deadlines).copied().collect();
    assert!(
        added >= deadlines.len() + 2 && added <= all.len(),
        "{added} entries for {} deadlines, {} instants in all",
        deadlines.len(),
        all.len()
    );
    // The same instants again: no entry (the table is deduplicated).
    let _again = fold(&far_events);
    assert_eq!(escaped_instants(), added);
}
