//! Target `checkpoint_state`: `plaint_projections::checkpoint::test_support::decode_state`
//! (feature `test-support`), the projection state a checkpoint file holds once its framing and
//! BLAKE3 are sound (a crafted or buggy writer can hash any bytes), with the set's shared
//! per-complaint record it is loaded with (issue 13, wave 11: `plaint_projections::shared`, a
//! checkpoint of its own).
//!
//! Input: byte 0 picks the projection (tickets, sla, repeats, analysis, casework); then the
//! serialised (postcard) shared record; the rest is the serialised projection state. Property:
//! decoding either refuses the record or the state, naming the file, or yields a state that
//! serialises and decodes again equal. Then the record and the state are put into a projection
//! set (what a checkpoint load does: the record becomes the set's numbering and receipts, the
//! state's full chunks of ids are shared, its lookups and receipts pointed at the set's): the
//! set either refuses the pair (a state naming complaints the record lacks or numbers
//! elsewhere, one that disagrees with its receipts), naming the file, or every query answers
//! without a panic (views of every ticket, every report). When the record holds exactly the
//! state's complaints (a set saved at one position), a few synthetic events are folded into the
//! set and into a copy of it (its own numbering and record): both serialise alike and answer
//! every query alike. Fuzzing builds (`--cfg fuzzing`) hold 4 ids per chunk, so that states
//! reach the sharing of full chunks; the stable corpus replay holds 1,024 and reaches it only
//! with seeds that large.

use plaint_domain::policy::Policy;
use plaint_domain::time::Timestamp;
use plaint_projections::analysis::Analysis;
use plaint_projections::casework::{AssessBy, Casework};
use plaint_projections::checkpoint::test_support::decode_state;
use plaint_projections::checkpoint::CheckpointError;
use plaint_projections::repeats::Repeats;
use plaint_projections::runner::{ProjectionKind, ProjectionSet, Slot};
use plaint_projections::shared::{self, SharedState};
use plaint_projections::sla::{GroupBy, SlaProjection};
use plaint_projections::synth::{SynthConfig, SynthLog};
use plaint_projections::tickets::Tickets;
use plaint_projections::util::{IsoWeek, Month};
use plaint_projections::Projection;
use std::path::Path;
use std::sync::OnceLock;

/// The file name a refusal must carry.
const PATH: &str = "fuzz/state.checkpoint";
/// The shared record's file name a refusal must carry.
const SHARED_PATH: &str = "fuzz/receipts.checkpoint";

pub fn checkpoint_state(data: &[u8]) {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 5 {
        0 => check::<Tickets>(bytes, query_tickets, (ProjectionKind::Tickets, |s| &mut s.tickets)),
        1 => check::<SlaProjection>(bytes, query_sla, (ProjectionKind::Sla, |s| &mut s.sla)),
        2 => check::<Repeats>(bytes, query_repeats, (ProjectionKind::Repeats, |s| &mut s.repeats)),
        3 => check::<Analysis>(bytes, query_analysis, (ProjectionKind::Analysis, |s| &mut s.analysis)),
        _ => check::<Casework>(bytes, query_casework, (ProjectionKind::Casework, |s| &mut s.casework)),
    }
}

/// A projection's kind and its slot in a set.
type InSet<P> = (ProjectionKind, fn(&mut ProjectionSet) -> &mut Slot<P>);

fn check<P>(bytes: &[u8], query: fn(&P), in_set: InSet<P>)
where
    P: Projection + PartialEq + Clone + std::fmt::Debug,
{
    let Ok((shared, bytes)) = postcard::take_from_bytes::<SharedState>(bytes) else {
        return;
    };
    // The record's own checks (an id twice), on its bytes as a checkpoint holds them.
    let shared_bytes = postcard::to_allocvec(&shared).expect("a decoded record serialises");
    let shared = match shared::decode_state(Path::new(SHARED_PATH), &shared_bytes) {
        Ok(shared) => shared,
        Err(e) => return assert_refusal(&e, SHARED_PATH),
    };
    let state = match decode_state::<P>(Path::new(PATH), bytes) {
        Ok(state) => state,
        Err(e) => return assert_refusal(&e, PATH),
    };
    let again = postcard::to_allocvec(&state).expect("a loaded state serialises");
    let mut back = decode_state::<P>(Path::new(PATH), &again)
        .unwrap_or_else(|e| panic!("a loaded state, written back, is refused: {e}"));
    // What a projection set does to a loaded state (issue 13, wave 8): its full chunks of
    // complaint ids become the numbering's allocation. That changes nothing it holds or answers.
    back.share_record_ids(state.record_ids());
    assert_eq!(back.record_ids(), state.record_ids());
    assert_eq!(back, state, "a loaded state reads back equal");
    fold_on_in_a_set(shared, state, query, in_set);
}

/// A refusal is damage or an undecodable state, and names the file.
fn assert_refusal(e: &CheckpointError, path: &str) {
    assert!(
        matches!(e, CheckpointError::State { .. } | CheckpointError::Corrupt { .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains(path), "the refusal names the file: {e}");
}

/// Puts `shared` and `state` into a set of that projection alone, as a load does; if the set
/// takes them, queries it and, when the record holds exactly the state's complaints, folds a
/// few synthetic events into the set and into a copy of it: the same bytes, the same answers.
fn fold_on_in_a_set<P>(shared: SharedState, state: P, query: fn(&P), (kind, slot): InSet<P>)
where
    P: Projection + PartialEq + Clone + std::fmt::Debug,
{
    let same_complaints = shared.len() == state.record_ids().len();
    let mut set = ProjectionSet::only(&[kind]);
    set.adopt_shared(0, shared);
    slot(&mut set).state = state;
    if let Err(e) = set.adopt_states(Path::new(PATH)) {
        return assert_refusal(&e, PATH);
    }
    assert!(set.lookups_shared(), "a loaded state looks up in the set's numbering");
    query(&slot(&mut set).state);
    if !same_complaints {
        // The record saw events the state did not; only that log may be folded on.
        return;
    }
    let mut copy = set.clone();
    // Ids the fuzzer's states use too ("CMP-…"): new complaints and events of known ones.
    for event in SynthLog::new(SynthConfig {
        complaints: 6,
        seed: 7,
        ..SynthConfig::default()
    }) {
        set.apply(&event);
        copy.apply(&event);
    }
    assert_eq!(set.shared_state(), copy.shared_state());
    assert_eq!(
        set.serialised(),
        copy.serialised(),
        "folded in a set and its copy, the states differ"
    );
    let (in_set, in_copy) = (&slot(&mut set).state.clone(), &slot(&mut copy).state);
    assert_eq!(in_set.record_ids(), in_copy.record_ids());
    assert_eq!(in_set, in_copy);
    query(in_set);
    query(in_copy);
}

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(Policy::default)
}

/// 2026-12-31 and the period around it every query is asked about.
fn now() -> Timestamp {
    Timestamp::from_millis(1_798_675_200_000)
}

fn query_tickets(t: &Tickets) {
    for id in t.ids().collect::<Vec<_>>() {
        let view = t.view(&id).expect("a listed ticket has a view");
        assert_eq!(view.id, id);
        let _ = t.sealed_personal(&id);
    }
    assert!(t.open_ids().count() <= t.len());
}

fn query_sla(s: &SlaProjection) {
    let groups = [
        None,
        Some(GroupBy::Severity),
        Some(GroupBy::CustomerTier),
        Some(GroupBy::Category),
        Some(GroupBy::Channel),
        Some(GroupBy::Department),
        Some(GroupBy::Region),
        Some(GroupBy::Week),
        Some(GroupBy::Attribute("agency".into())),
    ];
    for g in &groups {
        let _ = s.report(now(), policy(), g.as_ref(), None);
    }
    let _ = s.at_risk(now(), policy());
}

fn query_repeats(r: &Repeats) {
    let report = r.report(Timestamp::from_millis(0), now());
    for link in report.repeat_links.iter().chain(&report.duplicate_links) {
        let _ = r.chain(&link.id);
    }
    let _ = r.by_waybill("SF1234567890");
    let _ = r.by_customer(Some("mk"), Some("c1"));
}

fn query_analysis(a: &Analysis) {
    let sla = SlaProjection::default();
    let _ = a.weekly_report(IsoWeek { year: 2026, week: 36 }, &sla, now(), policy());
    let _ = a.heat_map(Month { year: 2026, month: 9 });
    let _ = a.alerts(now(), policy());
}

fn query_casework(c: &Casework) {
    let sla = SlaProjection::default();
    for by in [AssessBy::Handler, AssessBy::Department, AssessBy::Owner] {
        let _ = c.assessment(Timestamp::from_millis(0), now(), by, &sla, now(), policy());
    }
    let _ = c.analysis(Month { year: 2026, month: 9 }, now(), policy());
}

/// Seed inputs: the state of every projection after a small synthetic log, for
/// `examples/seed_corpus.rs`.
pub fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for complaints in [3, 40] {
        let mut set = ProjectionSet::default();
        for event in SynthLog::new(SynthConfig {
            complaints,
            ..SynthConfig::default()
        }) {
            set.apply(&event);
        }
        let shared = postcard::to_allocvec(&set.shared_state().1).expect("the record serialises");
        for (which, (name, bytes)) in set.serialised().into_iter().enumerate() {
            let mut input = vec![which as u8];
            input.extend_from_slice(&shared);
            input.extend_from_slice(&bytes);
            out.push((format!("{name}-{complaints}"), input));
        }
    }
    out.push((
        "sla-received-beyond-the-calendar-shared".into(),
        receipts_beyond_the_calendar(),
    ));
    out
}

/// Finding 13 (a receipt time beyond the calendar panicked the SLA report by week) since the
/// receipt is the shared record's (issue 13, wave 11): an SLA state of 3 complaints whose shared
/// record says every one was received at `Timestamp::MAX`.
fn receipts_beyond_the_calendar() -> Vec<u8> {
    let mut set = ProjectionSet::only(&[ProjectionKind::Sla]);
    for event in SynthLog::new(SynthConfig {
        complaints: 3,
        ..SynthConfig::default()
    }) {
        set.apply(&event);
    }
    // A receipt serialises as its three fields: time of receipt, first contact, channel.
    type Entry = (String, (Timestamp, Timestamp, u32));
    let mut entries: Vec<Entry> = postcard::from_bytes(&set.shared_serialised()).expect("the record's layout");
    for (_, (received_at, _, _)) in &mut entries {
        *received_at = Timestamp::MAX;
    }
    let mut input = vec![1u8];
    input.extend_from_slice(&postcard::to_allocvec(&entries).expect("serialises"));
    input.extend_from_slice(&postcard::to_allocvec(&set.sla.state).expect("serialises"));
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds are states the loader accepts (else the harness would only ever see refusals).
    #[test]
    fn every_seed_is_a_sound_state() {
        fn loads<P: Projection>(bytes: &[u8]) -> bool {
            let (shared, bytes) = postcard::take_from_bytes::<SharedState>(bytes).expect("a record first");
            let shared_bytes = postcard::to_allocvec(&shared).unwrap();
            shared::decode_state(Path::new(SHARED_PATH), &shared_bytes).is_ok()
                && decode_state::<P>(Path::new(PATH), bytes).is_ok()
        }
        for (name, input) in seeds() {
            let ok = match input[0] {
                0 => loads::<Tickets>(&input[1..]),
                1 => loads::<SlaProjection>(&input[1..]),
                2 => loads::<Repeats>(&input[1..]),
                3 => loads::<Analysis>(&input[1..]),
                _ => loads::<Casework>(&input[1..]),
            };
            assert!(ok, "seed {name} is refused");
            checkpoint_state(&input);
        }
    }
}
