//! Issue 17 part 1 end to end: the demo workload exercises the closed loop, first-contact
//! ownership, supervision, severity overrides and every revisit through the engine, and the
//! ticket views and the weekly report show them (what `plaint demo` prints).

use plaint::domain::{Clock, CloseReason, CommandBody, Timestamp};
use plaint::engine::fixed_clock;
use plaint::workload::{generate, WorkloadConfig};
use plaint::{Engine, EngineConfig, Reveal};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed002_demo_workload_closes_the_loop_and_shows_owners_supervisions_and_every_revisit() {
    let dir = tempfile::tempdir().unwrap();
    let now = Timestamp::parse_rfc3339("2026-11-20T00:00:00Z").unwrap();
    let engine = Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(now)))
        .await
        .unwrap();
    let cmds = generate(&WorkloadConfig {
        complaints: 1_500,
        seed: 17,
        ..WorkloadConfig::default()
    });
    for chunk in cmds.chunks(plaint::engine::BATCH_COMMANDS_MAX) {
        let out = engine.execute_batch(chunk.to_vec()).await.unwrap();
        let rejected: Vec<String> = out
            .rejections()
            .map(|(i, r)| format!("{}: {r}", chunk[i].command_id))
            .collect();
        assert!(rejected.is_empty(), "rejected: {rejected:#?}");
    }
    let find = |pred: &dyn Fn(&CommandBody) -> bool| {
        cmds.iter()
            .find(|c| pred(&c.body))
            .map(|c| c.complaint_id.clone())
            .expect("the workload has such a command")
    };

    // 首问负责制: a transferred ticket shows its new owner and the transfer.
    let id = find(&|b| matches!(b, CommandBody::TransferOwnership(_)));
    let t = engine.ticket(&id, Reveal::Masked).await.unwrap().view;
    assert_eq!(t.ownership_transfers.len(), 1, "{id}");
    assert_eq!(t.owner.as_deref(), Some(t.ownership_transfers[0].to.as_str()));
    assert!(t.owner.as_deref().unwrap().starts_with("cs-"));

    // 督办: a supervised ticket shows the supervision and its clock.
    let id = find(&|b| matches!(b, CommandBody::OpenSupervision(_)));
    let t = engine.ticket(&id, Reveal::Masked).await.unwrap().view;
    assert_eq!(t.supervisions.len(), 1, "{id}");
    assert!(t.deadlines.iter().any(|d| d.clock == Clock::Supervision));

    // The closed loop: an unreachable customer, three attempts recorded, closed with the reason.
    let id =
        find(&|b| matches!(b, CommandBody::Close(c) if c.without_revisit == Some(CloseReason::CustomerUnreachable)));
    let t = engine.ticket(&id, Reveal::Masked).await.unwrap().view;
    assert_eq!(t.revisit_attempts.len(), 3, "{id}");
    assert_eq!(
        t.closed.unwrap().without_revisit,
        Some(CloseReason::CustomerUnreachable)
    );
    assert!(t.revisits.is_empty());

    // Severity below the suggestion carries its reason.
    let id = find(&|b| matches!(b, CommandBody::Classify(c) if c.severity_reason.is_some()));
    let t = engine.ticket(&id, Reveal::Masked).await.unwrap().view;
    let o = t.severity_override.expect("override recorded");
    assert!(o.suggested > o.classified);

    // Every revisit counted: over the whole period more revisits than tickets revisited, and
    // the first revisit less often satisfied than the latest.
    let (mut revisits, mut tickets, mut first, mut latest) = (0, 0, 0, 0);
    let mut supervision_judged = false;
    for week in 37..=41 {
        let w = engine
            .weekly_report(format!("2026-W{week}").parse().unwrap(), now)
            .await
            .unwrap();
        revisits += w.satisfaction.revisited;
        tickets += w.satisfaction.tickets_revisited;
        first += w.satisfaction.first_satisfied;
        latest += w.satisfaction.latest_satisfied;
        supervision_judged |= w.on_time.contains_key("supervision");
    }
    assert!(supervision_judged, "the supervision clock is in the on-time figures");
    assert!(revisits > tickets, "{revisits} revisits, {tickets} tickets");
    assert!(first < latest, "first {first}, latest {latest}");
    engine.close().await.unwrap();
}
