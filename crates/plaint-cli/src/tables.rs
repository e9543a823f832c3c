//! Reports as tables for people (comfy-table). The JSON forms print the library's report types
//! as they are; these only arrange them.

use comfy_table::{presets, ContentArrangement, Table};
use plaint::reports::{DurationStats, WeeklyReport};
use serde_json::Value;
use std::collections::BTreeMap;

/// A table with the house look.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    t
}

/// `0.1234` → `12.3 %`; `None` → `-`.
pub fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.1} %", r * 100.0))
        .unwrap_or_else(|| "-".into())
}

/// Milliseconds as hours with one decimal.
pub fn hours(ms: Option<i64>) -> String {
    ms.map(|ms| format!("{:.1} h", ms as f64 / 3_600_000.0))
        .unwrap_or_else(|| "-".into())
}

fn duration_row(name: &str, d: &DurationStats) -> Vec<String> {
    vec![
        name.to_owned(),
        d.count.to_string(),
        hours(d.mean_ms),
        hours(d.p50_ms),
        hours(d.p90_ms),
    ]
}

/// Counts by a key, largest first, with shares of `total`.
pub fn counts_table(title: &str, counts: &BTreeMap<String, u64>, total: u64) -> Table {
    let mut rows: Vec<(&String, &u64)> = counts.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut t = table(&[title, "count", "share"]);
    for (key, count) in rows {
        let share = (total > 0).then(|| *count as f64 / total as f64);
        t.add_row(vec![key.clone(), count.to_string(), percent(share)]);
    }
    t
}

/// A table of a JSON map of objects: one row per key, one column per field of the objects
/// (used for per-clock summaries, whose fields the projection defines).
pub fn object_map_table(title: &str, map: &Value) -> Option<Table> {
    let Value::Object(rows) = map else { return None };
    let mut columns: Vec<String> = Vec::new();
    for row in rows.values() {
        if let Value::Object(fields) = row {
            // Scalars only: nested figures (e.g. lateness statistics) belong in the JSON form.
            for (k, v) in fields {
                if !v.is_object() && !v.is_array() && !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
    }
    let mut header = vec![title];
    header.extend(columns.iter().map(|c| c.as_str()));
    let mut t = table(&header);
    for (key, row) in rows {
        let mut cells = vec![key.clone()];
        for c in &columns {
            cells.push(match row.get(c) {
                Some(Value::Number(n)) if c.contains("rate") || c.contains("share") => percent(n.as_f64()),
                Some(Value::Null) | None => "-".into(),
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            });
        }
        t.add_row(cells);
    }
    Some(t)
}

/// The weekly report as titled tables.
pub fn weekly_report_text(r: &WeeklyReport) -> String {
    let mut s = String::new();
    // Instants in the office's time zone with the offset, as the HTML report shows them.
    let zone = crate::context::zone();
    let local = |t| zone.text(t);
    s.push_str(&format!(
        "Weekly complaint report {} ({} .. {}), judged at {}, policy {}\n\n",
        r.week,
        local(r.from),
        local(r.to),
        local(r.now),
        r.policy_version
    ));
    let mut overview = table(&["figure", "value"]);
    let rows: Vec<(&str, String)> = vec![
        ("received", r.received.to_string()),
        ("resolved (final response)", r.resolved.to_string()),
        (
            "first-contact resolution",
            format!(
                "{} ({})",
                r.first_contact_resolved,
                percent(r.first_contact_resolution_rate)
            ),
        ),
        (
            "repeats + reopened",
            format!("{} + {} ({})", r.repeats, r.reopened, percent(r.repeat_rate)),
        ),
        ("escalated", format!("{} ({})", r.escalated, percent(r.escalation_rate))),
        (
            "effective (liable)",
            format!("{} ({})", r.effective, percent(r.effective_rate)),
        ),
        ("rejected", r.rejected.to_string()),
        ("merged duplicates", r.duplicates.to_string()),
        (
            "revisits: satisfied / solved",
            format!(
                "{} revisited: {} satisfied ({}), {} solved, mean score {}",
                r.satisfaction.revisited,
                r.satisfaction.satisfied,
                percent(r.satisfaction.satisfied_rate),
                r.satisfaction.solved,
                r.satisfaction
                    .mean_score
                    .map(|m| format!("{m:.2}"))
                    .unwrap_or_else(|| "-".into())
            ),
        ),
        (
            "satisfied at first / latest revisit",
            format!(
                "{} tickets revisited: {} ({}) / {} ({})",
                r.satisfaction.tickets_revisited,
                r.satisfaction.first_satisfied,
                percent(r.satisfaction.first_satisfied_rate),
                r.satisfaction.latest_satisfied,
                percent(r.satisfaction.latest_satisfied_rate),
            ),
        ),
    ];
    for (k, v) in rows {
        overview.add_row(vec![k.to_owned(), v]);
    }
    s.push_str(&format!("{overview}\n\n"));
    let mut times = table(&["time to", "tickets", "mean", "p50", "p90"]);
    times.add_row(duration_row("first response", &r.time_to_respond));
    times.add_row(duration_row("final response", &r.time_to_resolve));
    s.push_str(&format!("{times}\n\n"));
    if let Some(t) = object_map_table(
        "on time: clock",
        &serde_json::to_value(&r.on_time).unwrap_or(Value::Null),
    ) {
        s.push_str(&format!("{t}\n\n"));
    }
    for (title, counts) in [
        ("category", &r.by_category),
        ("channel", &r.by_channel),
        ("region", &r.by_region),
        ("department", &r.by_department),
    ] {
        s.push_str(&format!("{}\n\n", counts_table(title, counts, r.received)));
    }
    let mut top = table(&["top issue: category", "region", "count"]);
    for issue in &r.top_issues {
        top.add_row(vec![
            issue.category.as_str().to_owned(),
            issue.region.clone(),
            issue.count.to_string(),
        ]);
    }
    s.push_str(&format!("{top}\n"));
    s
}
