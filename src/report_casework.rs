//! Issue 17's reports for people and spreadsheets: the assessment (考核, docs/domain.md R-ASM-1)
//! and the monthly complaint analysis (投诉分析报告, R-ANA-1) as text tables and CSV tables.
//! Instants are written in the office's time zone (the business calendar's offset).

use crate::report_csv::CsvTable;
use plaint_domain::calendar::Calendar;
use plaint_domain::time::Timestamp;
use plaint_projections::casework::{AssessmentReport, ComplaintAnalysis, ProcessTotals};
use std::fmt::Write as _;

fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1} %", r * 100.0)).unwrap_or_else(|| "-".into())
}

fn frac(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.4}")).unwrap_or_default()
}

fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// An instant in the office's time zone, with its offset (`2026-11-25 09:00 +08:00`).
pub fn local(t: Timestamp) -> String {
    let cal = Calendar::china_mainland();
    t.to_datetime()
        .with_timezone(&cal.utc_offset())
        .format("%Y-%m-%d %H:%M %:z")
        .to_string()
}

/// The assessment as text tables.
pub fn assessment_text(r: &AssessmentReport) -> String {
    let mut s = String::new();
    let by = match r.by {
        plaint_projections::casework::AssessBy::Handler => "handler",
        plaint_projections::casework::AssessBy::Department => "department",
        plaint_projections::casework::AssessBy::Owner => "owner",
    };
    let _ = writeln!(
        s,
        "assessment by {by}: tickets received {} .. {}, judged at {}, policy {}",
        local(r.from),
        local(r.to),
        local(r.now),
        r.policy_version
    );
    let _ = writeln!(
        s,
        "{:<20} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>12} {:>8} {:>5} {:>6}  flags",
        by,
        "tickets",
        "on-time",
        "FCR",
        "satisf.",
        "first",
        "latest",
        "repeat",
        "escal",
        "reopen",
        "comp (yuan)",
        "dispute",
        "impr",
        "score"
    );
    for row in &r.rows {
        let _ = writeln!(
            s,
            "{:<20} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>12} {:>8} {:>5} {:>6.1}  {}",
            row.name,
            row.tickets,
            pct(row.on_time_rate),
            pct(row.first_contact_resolution),
            pct(row.satisfaction_rate),
            pct(row.first_revisit_satisfied),
            pct(row.latest_revisit_satisfied),
            pct(row.repeat_rate),
            row.escalations,
            row.reopenings,
            yuan(row.compensation_fen),
            pct(row.dispute_escalation_rate),
            row.improvement_actions,
            row.score,
            row.flags.join(" ")
        );
    }
    if r.rows.is_empty() {
        let _ = writeln!(s, "(no tickets received in the period)");
    }
    s
}

/// The assessment as one CSV table.
pub fn assessment_csv(r: &AssessmentReport) -> CsvTable {
    let mut rows = vec![[
        "name",
        "tickets",
        "on_time_rate",
        "first_contact_resolution",
        "revisits",
        "satisfied_revisits",
        "satisfaction_rate",
        "first_revisit_satisfied",
        "latest_revisit_satisfied",
        "repeat_rate",
        "escalations",
        "reopenings",
        "compensation_fen",
        "dispute_escalations",
        "dispute_escalation_rate",
        "improvement_actions",
        "unsatisfied_streak",
        "score",
        "flags",
    ]
    .map(String::from)
    .to_vec()];
    for row in &r.rows {
        rows.push(vec![
            row.name.clone(),
            row.tickets.to_string(),
            frac(row.on_time_rate),
            frac(row.first_contact_resolution),
            row.revisits.to_string(),
            row.satisfied_revisits.to_string(),
            frac(row.satisfaction_rate),
            frac(row.first_revisit_satisfied),
            frac(row.latest_revisit_satisfied),
            frac(row.repeat_rate),
            row.escalations.to_string(),
            row.reopenings.to_string(),
            row.compensation_fen.to_string(),
            row.dispute_escalations.to_string(),
            frac(row.dispute_escalation_rate),
            row.improvement_actions.to_string(),
            row.unsatisfied_streak.to_string(),
            format!("{:.1}", row.score),
            row.flags.join(" "),
        ]);
    }
    CsvTable {
        name: "assessment",
        rows,
    }
}

/// The monthly complaint analysis as text.
pub fn analysis_text(a: &ComplaintAnalysis) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "complaint analysis {} (judged at {}, policy {}): {} complaints, {} the month before",
        a.month,
        local(a.now),
        a.policy_version,
        a.total,
        a.previous_total
    );
    let _ = writeln!(
        s,
        "\n{:<16} {:>6} {:>8} {:>6} {:>7} {:>12} {:>5} {:>5}  marks",
        "category", "count", "share", "prev", "change", "comp (yuan)", "risk", "court"
    );
    for c in &a.categories {
        let mut marks = Vec::new();
        if c.high_frequency {
            marks.push("high-frequency");
        }
        if c.high_cost {
            marks.push("high-cost");
        }
        if c.high_risk {
            marks.push("high-risk");
        }
        let _ = writeln!(
            s,
            "{:<16} {:>6} {:>8} {:>6} {:>+7} {:>12} {:>5} {:>5}  {}",
            c.category,
            c.count,
            pct(c.share),
            c.previous_count,
            c.change,
            yuan(c.compensation_fen),
            c.risk_count,
            c.litigation_count,
            marks.join(" ")
        );
    }
    let f = &a.finance;
    let _ = writeln!(s, "\nfinance (yuan)");
    let _ = writeln!(s, "  proposed   {:>4}  {:>12}", f.proposed, yuan(f.proposed_fen));
    let _ = writeln!(s, "  approved   {:>4}  {:>12}", f.approved, yuan(f.approved_fen));
    let _ = writeln!(
        s,
        "  paid       {:>4}  {:>12}  ({} late)",
        f.paid,
        yuan(f.paid_fen),
        f.paid_late
    );
    let _ = writeln!(s, "  refused    {:>4}  {:>12}", f.refused, yuan(f.refused_fen));
    let _ = writeln!(
        s,
        "  unpaid     {:>4}  {:>12}  ({} past the payment deadline)",
        f.outstanding,
        yuan(f.outstanding_fen),
        f.overdue
    );
    let _ = writeln!(s, "\nmajor incidents (专项小组)");
    if a.incidents.is_empty() {
        let _ = writeln!(s, "  none");
    }
    for g in &a.incidents {
        let members: Vec<String> = g.members.iter().map(|m| format!("{} ({})", m.name, m.role)).collect();
        let _ = writeln!(
            s,
            "  {} {} — lead {}, {} linked, opened {}; {} reports, {} missed, {} late{}",
            g.incident_id,
            g.title,
            g.lead,
            g.linked_tickets.len(),
            local(g.opened_at),
            g.reports,
            g.missed_reports,
            g.late_reports,
            if g.report_overdue { ", DAILY REPORT OVERDUE" } else { "" }
        );
        let _ = writeln!(s, "    cause: {}; members: {}", g.cause, members.join(", "));
    }
    let p = &a.process;
    let _ = writeln!(s, "\nclosed loop, supervision and disputes (闭环、督办、纠纷升级)");
    let _ = writeln!(s, "  supervisions opened (督办)        {}", p.supervisions_opened);
    let _ = writeln!(s, "  ownership transfers (首问负责制)  {}", p.ownership_transfers);
    let _ = writeln!(s, "  severity overrides (below rule)  {}", p.severity_overrides);
    let _ = writeln!(s, "  failed revisit attempts          {}", p.revisit_attempts);
    let _ = writeln!(
        s,
        "  closed without revisit           {}",
        counts(&p.closed_without_revisit)
    );
    let _ = writeln!(s, "  dispute escalations (纠纷升级)    {}", counts(&p.disputes));
    let _ = writeln!(
        s,
        "  watchdog escalations             {}",
        counts(&p.watchdog_escalations)
    );
    let _ = writeln!(s, "\nimprovement actions (改进)");
    if a.improvements.is_empty() {
        let _ = writeln!(s, "  none");
    }
    for i in &a.improvements {
        let outcome = match (i.count_month_after, i.fell) {
            (Some(after), Some(true)) => format!("fell {} → {after}", i.count_in_month),
            (Some(after), _) => format!("did not fall {} → {after}", i.count_in_month),
            (None, _) => format!("{} this month; the month after has not ended", i.count_in_month),
        };
        let _ = writeln!(
            s,
            "  {} [{}{}] {} — {} ({}, ticket {}, {})",
            i.action_id,
            i.category,
            i.root_cause.as_deref().map(|r| format!("/{r}")).unwrap_or_default(),
            i.action,
            i.department,
            outcome,
            i.ticket,
            local(i.recorded_at)
        );
    }
    s
}

/// The monthly complaint analysis as CSV tables.
pub fn analysis_csv(a: &ComplaintAnalysis) -> Vec<CsvTable> {
    let mut cats = vec![[
        "category",
        "count",
        "share",
        "previous_count",
        "change",
        "compensation_fen",
        "compensation_share",
        "risk_count",
        "high_frequency",
        "high_cost",
        "high_risk",
        "litigation_count",
    ]
    .map(String::from)
    .to_vec()];
    for c in &a.categories {
        cats.push(vec![
            c.category.clone(),
            c.count.to_string(),
            frac(c.share),
            c.previous_count.to_string(),
            c.change.to_string(),
            c.compensation_fen.to_string(),
            frac(c.compensation_share),
            c.risk_count.to_string(),
            c.high_frequency.to_string(),
            c.high_cost.to_string(),
            c.high_risk.to_string(),
            c.litigation_count.to_string(),
        ]);
    }
    let f = &a.finance;
    let finance = vec![
        vec!["item".into(), "count".into(), "fen".into()],
        vec!["proposed".into(), f.proposed.to_string(), f.proposed_fen.to_string()],
        vec!["approved".into(), f.approved.to_string(), f.approved_fen.to_string()],
        vec!["paid".into(), f.paid.to_string(), f.paid_fen.to_string()],
        vec!["paid_late".into(), f.paid_late.to_string(), String::new()],
        vec!["refused".into(), f.refused.to_string(), f.refused_fen.to_string()],
        vec![
            "outstanding".into(),
            f.outstanding.to_string(),
            f.outstanding_fen.to_string(),
        ],
        vec!["overdue".into(), f.overdue.to_string(), String::new()],
    ];
    let mut inc = vec![[
        "incident_id",
        "lead",
        "title",
        "cause",
        "members",
        "opened_at",
        "linked_tickets",
        "reports",
        "missed_reports",
        "late_reports",
        "report_overdue",
    ]
    .map(String::from)
    .to_vec()];
    for g in &a.incidents {
        inc.push(vec![
            g.incident_id.clone(),
            g.lead.clone(),
            g.title.clone(),
            g.cause.clone(),
            g.members
                .iter()
                .map(|m| format!("{}:{}", m.name, m.role))
                .collect::<Vec<_>>()
                .join(" "),
            local(g.opened_at),
            g.linked_tickets.join(" "),
            g.reports.to_string(),
            g.missed_reports.to_string(),
            g.late_reports.to_string(),
            g.report_overdue.to_string(),
        ]);
    }
    let mut imp = vec![[
        "action_id",
        "ticket",
        "recorded_at",
        "category",
        "root_cause",
        "department",
        "action",
        "count_in_month",
        "count_month_after",
        "fell",
    ]
    .map(String::from)
    .to_vec()];
    for i in &a.improvements {
        imp.push(vec![
            i.action_id.clone(),
            i.ticket.clone(),
            local(i.recorded_at),
            i.category.clone(),
            i.root_cause.clone().unwrap_or_default(),
            i.department.clone(),
            i.action.clone(),
            i.count_in_month.to_string(),
            i.count_month_after.map(|n| n.to_string()).unwrap_or_default(),
            i.fell.map(|b| b.to_string()).unwrap_or_default(),
        ]);
    }
    vec![
        CsvTable {
            name: "analysis_categories",
            rows: cats,
        },
        CsvTable {
            name: "analysis_finance",
            rows: finance,
        },
        CsvTable {
            name: "analysis_incidents",
            rows: inc,
        },
        CsvTable {
            name: "analysis_improvements",
            rows: imp,
        },
        CsvTable {
            name: "analysis_process",
            rows: process_rows(&a.process),
        },
    ]
}

/// The month's process figures as (item, key, count) rows.
fn process_rows(p: &ProcessTotals) -> Vec<Vec<String>> {
    let mut rows = vec![vec!["item".to_owned(), "key".to_owned(), "count".to_owned()]];
    let mut one = |item: &str, key: &str, n: u64| rows.push(vec![item.to_owned(), key.to_owned(), n.to_string()]);
    one("supervisions_opened", "", p.supervisions_opened);
    one("ownership_transfers", "", p.ownership_transfers);
    one("severity_overrides", "", p.severity_overrides);
    one("revisit_attempts", "", p.revisit_attempts);
    for (k, n) in &p.closed_without_revisit {
        one("closed_without_revisit", k, *n);
    }
    for (k, n) in &p.disputes {
        one("dispute_escalations", k, *n);
    }
    for (k, n) in &p.watchdog_escalations {
        one("watchdog_escalations", k, *n);
    }
    rows
}

fn counts(m: &std::collections::BTreeMap<String, u64>) -> String {
    if m.is_empty() {
        return "none".to_owned();
    }
    m.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
}
