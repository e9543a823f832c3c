//! A [`PeriodReport`] as flat spreadsheet tables, one per section (docs/cli.md `plaint report
//! --format csv`): RFC 4180 quoting, a header row, UTF-8 with a byte order mark so Excel reads
//! Chinese text correctly, and text cells that a spreadsheet would run as a formula (`=`, `+`,
//! `@`) prefixed with `'`.

use crate::report::PeriodReport;

/// The UTF-8 byte order mark that starts every CSV file.
pub const BOM: &str = "\u{feff}";

/// One section as a table: a name (the file name stem) and rows, the first being the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvTable {
    /// `daily_intake`, `category_mix`, …
    pub name: &'static str,
    /// Header row first.
    pub rows: Vec<Vec<String>>,
}

impl CsvTable {
    /// The table as CSV text (CRLF line ends, no BOM).
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }
}

fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn rate(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.4}")).unwrap_or_default()
}

/// Every section of the report as a table, in the order of the HTML page.
pub fn tables(r: &PeriodReport) -> Vec<CsvTable> {
    let mut out = base_tables(r);
    // Monthly reports: the complaint analysis (issue 17).
    if let Some(a) = &r.analysis {
        out.extend(crate::report_casework::analysis_csv(a));
    }
    out
}

fn base_tables(r: &PeriodReport) -> Vec<CsvTable> {
    vec![
        summary(r),
        daily_intake(r),
        category_mix(r),
        channel_mix(r),
        on_time(r),
        heat_map(r),
        repeat_customers(r),
        alerts(r),
    ]
}

fn summary(r: &PeriodReport) -> CsvTable {
    let mut rows = vec![
        vec!["figure".to_owned(), "value".to_owned()],
        vec!["report".to_owned(), r.kind.clone()],
        vec!["period".to_owned(), r.period.clone()],
        vec!["from".to_owned(), r.from.clone()],
        vec!["to".to_owned(), r.to.clone()],
        vec!["judged_at".to_owned(), r.now.clone()],
        vec![
            "time_zone".to_owned(),
            if r.time_zone.is_empty() {
                format!("UTC{}", r.utc_offset)
            } else {
                r.time_zone.clone()
            },
        ],
        vec!["policy_version".to_owned(), r.policy_version.clone()],
        vec!["received".to_owned(), r.received.to_string()],
    ];
    if let Some(w) = &r.weekly {
        rows.push(vec!["resolved".to_owned(), w.resolved.to_string()]);
        rows.push(vec!["repeat_rate".to_owned(), rate(w.repeat_rate)]);
        rows.push(vec!["escalation_rate".to_owned(), rate(w.escalation_rate)]);
        rows.push(vec![
            "first_contact_resolution_rate".to_owned(),
            rate(w.first_contact_resolution_rate),
        ]);
        rows.push(vec!["satisfied_rate".to_owned(), rate(w.satisfaction.satisfied_rate)]);
        rows.push(vec![
            "first_revisit_satisfied_rate".to_owned(),
            rate(w.satisfaction.first_satisfied_rate),
        ]);
        rows.push(vec![
            "latest_revisit_satisfied_rate".to_owned(),
            rate(w.satisfaction.latest_satisfied_rate),
        ]);
    }
    CsvTable { name: "summary", rows }
}

fn daily_intake(r: &PeriodReport) -> CsvTable {
    let mut rows = vec![vec!["day".to_owned(), "received".to_owned()]];
    rows.extend(r.daily_intake.iter().map(|d| vec![d.day.clone(), d.count.to_string()]));
    CsvTable {
        name: "daily_intake",
        rows,
    }
}

fn mix(name: &'static str, column: &str, counts: &std::collections::BTreeMap<String, u64>) -> CsvTable {
    let total: u64 = counts.values().sum();
    let mut rows = vec![vec![column.to_owned(), "tickets".to_owned(), "share".to_owned()]];
    rows.extend(counts.iter().map(|(k, n)| {
        let share = if total > 0 {
            Some(*n as f64 / total as f64)
        } else {
            None
        };
        vec![k.clone(), n.to_string(), rate(share)]
    }));
    CsvTable { name, rows }
}

fn category_mix(r: &PeriodReport) -> CsvTable {
    mix("category_mix", "category", &r.by_category)
}

fn channel_mix(r: &PeriodReport) -> CsvTable {
    mix("channel_mix", "channel", &r.by_channel)
}

fn on_time(r: &PeriodReport) -> CsvTable {
    let head = [
        "clock",
        "met",
        "breached",
        "pending",
        "pending_overdue",
        "at_risk",
        "not_applicable",
        "on_time_rate",
    ];
    let mut rows = vec![head.iter().map(|s| s.to_string()).collect()];
    rows.extend(r.on_time.iter().map(|(clock, c)| {
        vec![
            clock.clone(),
            c.met.to_string(),
            c.breached.to_string(),
            c.pending.to_string(),
            c.pending_overdue.to_string(),
            c.at_risk.to_string(),
            c.not_applicable.to_string(),
            rate(c.on_time_rate),
        ]
    }));
    CsvTable { name: "on_time", rows }
}

/// Long form (one row per region and category), which a pivot table takes as it is.
fn heat_map(r: &PeriodReport) -> CsvTable {
    let g = &r.heat_map;
    let mut rows = vec![vec![
        "month".to_owned(),
        "region".to_owned(),
        "category".to_owned(),
        "tickets".to_owned(),
    ]];
    for (i, region) in g.regions.iter().enumerate() {
        for (j, category) in g.categories.iter().enumerate() {
            rows.push(vec![
                g.month.clone(),
                region.clone(),
                category.clone(),
                g.counts[i][j].to_string(),
            ]);
        }
    }
    CsvTable { name: "heat_map", rows }
}

fn repeat_customers(r: &PeriodReport) -> CsvTable {
    let mut rows = vec![vec!["customer_masked".to_owned(), "tickets".to_owned()]];
    rows.extend(
        r.top_repeat_customers
            .iter()
            .map(|c| vec![c.customer.clone(), c.tickets.to_string()]),
    );
    CsvTable {
        name: "repeat_customers",
        rows,
    }
}

fn alerts(r: &PeriodReport) -> CsvTable {
    let mut rows = vec![[
        "alert",
        "day_or_months",
        "category",
        "region",
        "count",
        "baseline",
        "rise_or_share",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    for s in &r.alerts.surges {
        rows.push(vec![
            "category_surge".to_owned(),
            s.day.clone(),
            s.category.as_str().to_owned(),
            String::new(),
            s.count.to_string(),
            format!("{:.2}", s.baseline),
            rate(s.rise),
        ]);
    }
    for d in &r.alerts.region_delays {
        for (month, share) in &d.months {
            rows.push(vec![
                "region_delay".to_owned(),
                month.clone(),
                String::new(),
                d.region.clone(),
                String::new(),
                String::new(),
                rate(Some(*share)),
            ]);
        }
    }
    CsvTable { name: "alerts", rows }
}

/// All tables in one text for a single file or stdout: a BOM, then each table preceded by a
/// `# section: NAME` line and followed by an empty line.
pub fn single_file(r: &PeriodReport) -> String {
    let mut out = String::from(BOM);
    for t in tables(r) {
        out.push_str(&format!("# section: {}\r\n", t.name));
        out.push_str(&t.to_csv());
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cell("-3"), "-3");
        assert_eq!(cell("广东省"), "广东省");
    }
}
