//! Target `checkpoint_state`: `plaint_projections::checkpoint::decode_state`, the projection
//! state a checkpoint file holds once its framing and BLAKE3 are sound (a crafted or buggy
//! writer can hash any bytes).
//!
//! Input: byte 0 picks the projection (tickets, sla, repeats, analysis, casework); the rest is
//! the serialised (postcard) state. Property: decoding either refuses the state, naming the file,
//! or yields a state whose every query answers without a panic (views of every ticket, every
//! report), and that serialises and decodes again equal. Then the state is put into a projection
//! set (what a checkpoint load does: the set's numbering seeded from it, its full chunks of ids
//! shared, its lookups pointed at the set's index) and a few synthetic events are folded into
//! it and into a standalone copy (its own index, no hints): both serialise alike and answer
//! every query alike. Fuzzing builds (`--cfg fuzzing`) hold 4 ids per chunk, so that states
//! reach the sharing of full chunks; the stable corpus replay holds 1,024 and reaches it only
//! with seeds that large.

use plaint_domain::policy::Policy;
use plaint_domain::time::Timestamp;
use plaint_projections::analysis::Analysis;
use plaint_projections::casework::{AssessBy, Casework};
use plaint_projections::checkpoint::{decode_state, CheckpointError};
use plaint_projections::repeats::Repeats;
use plaint_projections::runner::{ProjectionKind, ProjectionSet, Slot};
use plaint_projections::sla::{GroupBy, SlaProjection};
use plaint_projections::synth::{SynthConfig, SynthLog};
use plaint_projections::tickets::Tickets;
use plaint_projections::util::{IsoWeek, Month};
use plaint_projections::Projection;
use std::path::Path;
use std::sync::OnceLock;

/// The file name a refusal must carry.
const PATH: &str = "fuzz/state.checkpoint";

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
    let state = match decode_state::<P>(Path::new(PATH), bytes) {
        Ok(state) => state,
        Err(e) => {
            assert!(
                matches!(e, CheckpointError::State { .. } | CheckpointError::Corrupt { .. }),
                "{e:?}"
            );
            assert!(e.to_string().contains(PATH), "the refusal names the file: {e}");
            return;
        }
    };
    query(&state);
    let again = postcard::to_allocvec(&state).expect("a loaded state serialises");
    let mut back = decode_state::<P>(Path::new(PATH), &again)
        .unwrap_or_else(|e| panic!("a loaded state, written back, is refused: {e}"));
    // What a projection set does to a loaded state (issue 13, wave 8): its full chunks of
    // complaint ids become the numbering's allocation. That changes nothing it holds or answers.
    back.share_record_ids(state.record_ids());
    assert_eq!(back.record_ids(), state.record_ids());
    query(&back);
    assert_eq!(back, state, "a loaded state reads back equal");
    fold_on_in_a_set(state, query, in_set);
}

/// Puts `state` into a set of it alone, as a load does, and folds a few synthetic events into
/// the set and into a standalone copy: the set's numbering, shared ids and shared index give
/// the answers the copy's own index gives.
fn fold_on_in_a_set<P>(state: P, query: fn(&P), (kind, slot): InSet<P>)
where
    P: Projection + PartialEq + Clone + std::fmt::Debug,
{
    let mut alone = state.clone();
    let mut set = ProjectionSet::only(&[kind]);
    slot(&mut set).state = state;
    if let Err(e) = set.adopt_states(Path::new(PATH)) {
        panic!("a state of one projection is its own numbering, refused: {e}");
    }
    assert!(set.lookups_shared(), "a loaded state looks up in the set's numbering");
    // Ids the fuzzer's states use too ("CMP-…"): new complaints and events of known ones.
    for event in SynthLog::new(SynthConfig {
        complaints: 6,
        seed: 7,
        ..SynthConfig::default()
    }) {
        set.apply(&event);
        alone.apply(&event);
    }
    let in_set = &slot(&mut set).state;
    assert_eq!(in_set.record_ids(), alone.record_ids());
    assert_eq!(
        postcard::to_allocvec(in_set).expect("serialises"),
        postcard::to_allocvec(&alone).expect("serialises"),
        "folded in a set and alone, the states differ"
    );
    assert_eq!(in_set, &alone);
    query(in_set);
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
        for (which, (name, bytes)) in set.serialised().into_iter().enumerate() {
            let mut input = vec![which as u8];
            input.extend_from_slice(&bytes);
            out.push((format!("{name}-{complaints}"), input));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds are states the loader accepts (else the harness would only ever see refusals).
    #[test]
    fn every_seed_is_a_sound_state() {
        fn loads<P: Projection>(bytes: &[u8]) -> bool {
            decode_state::<P>(Path::new(PATH), bytes).is_ok()
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
