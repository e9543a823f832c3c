//! Issue 17 end to end through the facade on the real file log: the demo workload exercises the
//! compensation lifecycle, major-incident groups and improvement actions with zero rejections,
//! and the assessment (考核) and monthly complaint analysis (投诉分析报告) show them.

use plaint::domain::Timestamp;
use plaint::engine::fixed_clock;
use plaint::reports::{AssessBy, Month};
use plaint::workload::{generate_with_summary, WorkloadConfig};
use plaint::{Engine, EngineConfig};

fn now() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-20T00:00:00+08:00").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed001_seed000_seed002_workload_shows_in_assessment_and_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(now())))
        .await
        .unwrap();
    let (cmds, summary) = generate_with_summary(&WorkloadConfig {
        complaints: 1_500,
        seed: 17,
        ..WorkloadConfig::default()
    });
    for name in [
        "propose_compensation",
        "approve_compensation",
        "pay_compensation",
        "refuse_compensation",
        "open_incident",
        "link_incident",
        "report_incident_progress",
        "record_improvement",
        "record_dispute_escalation",
        "open_supervision",
        "transfer_ownership",
    ] {
        assert!(
            summary.by_command.get(name).copied().unwrap_or(0) > 0,
            "the workload has no {name}"
        );
    }
    // The watchdog runs between batches, as a back office (and `plaint demo`) runs it.
    let mut watchdog_rules: Vec<String> = Vec::new();
    for chunk in cmds.chunks(1_000) {
        let out = engine.execute_batch(chunk.to_vec()).await.unwrap();
        let rejected: Vec<String> = out
            .rejections()
            .map(|(i, r)| format!("{}: {r}", chunk[i].command_id))
            .collect();
        assert!(rejected.is_empty(), "rejected: {rejected:#?}");
        let reached = chunk.iter().filter_map(|c| c.occurred_at).max().unwrap();
        for e in engine.tick(reached).await.unwrap().escalated {
            if let plaint::event::EventData::Escalated(x) = &e.data {
                if let plaint::event::EscalationTrigger::Watchdog { rule_id, .. } = &x.trigger {
                    watchdog_rules.push(rule_id.clone());
                }
            }
        }
    }
    // R-COMP-9, R-INC-4: a payment made a day after its deadline and a missed daily incident
    // report were escalated while they were overdue.
    assert!(
        watchdog_rules.iter().any(|r| r.starts_with("payment.")),
        "{watchdog_rules:?}"
    );
    assert!(
        watchdog_rules.iter().any(|r| r.starts_with("incident_report.")),
        "{watchdog_rules:?}"
    );

    // The default workload runs in September and October 2026.
    let sept = Month { year: 2026, month: 9 };
    let oct = Month { year: 2026, month: 10 };
    let a = engine.complaint_analysis(oct, now()).await.unwrap();
    assert_eq!(a.month, "2026-10");
    assert!(
        a.total > 0 && a.previous_total > 0,
        "{} / {}",
        a.total,
        a.previous_total
    );
    // seeds/002: a category over 10 % of the month is high-frequency; delay is 30 % of the mix.
    let delay = a.categories.iter().find(|c| c.category == "delay").unwrap();
    assert!(delay.high_frequency, "{delay:?}");
    assert_eq!(delay.change, delay.count as i64 - delay.previous_count as i64);
    let shares: f64 = a.categories.iter().filter_map(|c| c.share).sum();
    assert!((shares - 1.0).abs() < 1e-9, "{shares}");
    // Finance totals: approvals and payments; some paid after the deadline (R-COMP-7).
    let s = engine.complaint_analysis(sept, now()).await.unwrap();
    let paid_late = a.finance.paid_late + s.finance.paid_late;
    assert!(a.finance.approved > 0 && a.finance.paid > 0, "{:?}", a.finance);
    assert!(paid_late > 0, "{:?} {:?}", a.finance, s.finance);
    assert!(a.finance.refused + s.finance.refused > 0);
    assert!(a.categories.iter().any(|c| c.high_cost), "{:?}", a.categories);
    assert!(a.categories.iter().any(|c| c.high_risk));
    // R-DSP-1: litigation is counted among the high-risk figures.
    let litigation: u64 = a
        .categories
        .iter()
        .chain(s.categories.iter())
        .map(|c| c.litigation_count)
        .sum();
    assert!(litigation > 0, "{:?}", a.categories);
    // Incident groups with named members, missed daily reports, and linked complaints.
    let incidents: Vec<_> = s.incidents.iter().chain(a.incidents.iter()).collect();
    assert!(!incidents.is_empty());
    assert!(incidents.iter().all(|g| g.members.iter().any(|m| m.role == "leader")));
    assert!(incidents.iter().any(|g| g.missed_reports > 0));
    assert!(incidents.iter().any(|g| !g.linked_tickets.is_empty()), "{incidents:#?}");
    // Improvement actions of September are judged against October.
    assert!(!s.improvements.is_empty());
    assert!(s.improvements.iter().any(|i| i.fell.is_some()));

    // The assessment per handler and per department for October.
    let from = Timestamp::parse_rfc3339("2026-10-01T00:00:00+08:00").unwrap();
    let to = Timestamp::parse_rfc3339("2026-11-01T00:00:00+08:00").unwrap();
    let by_handler = engine
        .assessment_report(from, to, AssessBy::Handler, now())
        .await
        .unwrap();
    assert!(by_handler.rows.len() > 10);
    let tickets: u64 = by_handler.rows.iter().map(|r| r.tickets).sum();
    assert_eq!(tickets, a.total);
    let by_dept = engine
        .assessment_report(from, to, AssessBy::Department, now())
        .await
        .unwrap();
    let total_revisits: u64 = by_dept.rows.iter().map(|r| r.revisits).sum();
    let satisfied: u64 = by_dept.rows.iter().map(|r| r.satisfied_revisits).sum();
    // Every revisit counted: unsatisfied ones are followed by a satisfied one.
    assert!(total_revisits > satisfied && satisfied > 0);
    for r in &by_dept.rows {
        assert!((0.0..=100.0).contains(&r.score), "{r:?}");
        // Tickets rejected or merged at verification were never dispatched: no clock ran.
        assert_eq!(r.on_time_rate.is_some(), r.name != "unassigned", "{r:?}");
    }
    assert!(by_dept.rows.iter().any(|r| r.compensation_fen > 0));
    assert!(by_dept.rows.iter().any(|r| r.improvement_actions > 0));
    assert!(by_dept.rows.iter().any(|r| r.dispute_escalations > 0));
    // 首问负责制 (seeds/004): by owner, every ticket counted once.
    let by_owner = engine
        .assessment_report(from, to, AssessBy::Owner, now())
        .await
        .unwrap();
    assert!(by_owner.rows.len() > 10);
    assert_eq!(by_owner.rows.iter().map(|r| r.tickets).sum::<u64>(), a.total);
    // A period that ends before it starts is bad input.
    assert!(engine
        .assessment_report(to, from, AssessBy::Handler, now())
        .await
        .is_err());
    engine.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed004_assessment_by_owner_follows_first_contact_and_transfers() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(now())))
        .await
        .unwrap();
    let cmd = |id: &str, complaint: &str, actor: &str, body: &str| -> plaint::Command {
        serde_json::from_str(&format!(
            r#"{{"command_id":"{id}","complaint_id":"{complaint}","actor":"{actor}","occurred_at":"2026-11-10T09:00:00+08:00",{body}}}"#
        ))
        .unwrap()
    };
    let receive = r#""command":"receive","channel":"hotline","region":"杭州","description":"快递延误""#;
    let out = engine
        .execute_batch(vec![
            cmd("o-1", "CMP-OWN-1", "cs-001", receive),
            cmd("o-2", "CMP-OWN-2", "cs-001", receive),
            cmd(
                "o-3",
                "CMP-OWN-2",
                "cs-001",
                r#""command":"transfer_ownership","to":"cs-009","reason":"首问人轮休""#,
            ),
        ])
        .await
        .unwrap();
    assert_eq!(out.rejected, 0);
    let from = Timestamp::parse_rfc3339("2026-11-01T00:00:00+08:00").unwrap();
    let to = Timestamp::parse_rfc3339("2026-12-01T00:00:00+08:00").unwrap();
    let r = engine
        .assessment_report(from, to, AssessBy::Owner, now())
        .await
        .unwrap();
    let rows: Vec<(&str, u64)> = r.rows.iter().map(|r| (r.name.as_str(), r.tickets)).collect();
    assert_eq!(rows, [("cs-001", 1), ("cs-009", 1)]);
    engine.close().await.unwrap();
}
