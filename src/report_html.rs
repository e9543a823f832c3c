//! A [`PeriodReport`] as one self-contained HTML page: inline CSS (screen and A4 print), charts
//! drawn here as inline SVG, no script and no external resource, so it opens offline and prints.
//!
//! Every chart is a `<figure class="chart" data-chart="NAME" data-marks="N">` whose SVG has a
//! `<title>` and a `<desc>` and `N` data marks (`class="mark"`, each with its own `<title>`),
//! followed by the same figures as a table (the accessible fallback). One function per section.

use crate::report::{HeatGrid, PeriodReport, UNCLASSIFIED};
use std::fmt::Write as _;

const CSS: &str = r#"
:root { color-scheme: light; }
body { font-family: "Noto Sans", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", Arial, sans-serif;
  margin: 24px auto; max-width: 1000px; color: #1b1f24; background: #fff; line-height: 1.4; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 24px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.meta { color: #57606a; font-size: 13px; margin: 0; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; padding: 0; list-style: none; }
.kpis li { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 12px; min-width: 120px; }
.kpis .v { font-size: 20px; font-weight: 600; display: block; }
.kpis .k { font-size: 12px; color: #57606a; }
figure.chart { margin: 0 0 8px; break-inside: avoid; page-break-inside: avoid; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 13px; color: #57606a; }
table { border-collapse: collapse; font-size: 12px; margin: 4px 0 12px; }
th, td { border: 1px solid #d0d7de; padding: 2px 6px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
details summary { cursor: pointer; font-size: 12px; color: #0969da; }
section { break-inside: avoid; page-break-inside: avoid; }
.empty { color: #57606a; font-style: italic; }
svg text { font-size: 11px; fill: #1b1f24; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  details { display: none; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
}
"#;

const BAR: &str = "#0969da";
const WIDTH: u32 = 900;

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn pct(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{:.1} %", r * 100.0),
        None => "–".to_owned(),
    }
}

/// The whole page.
pub fn render(report: &PeriodReport) -> String {
    let title = format!(
        "{} complaint report {}",
        if report.kind == "monthly" { "Monthly" } else { "Weekly" },
        report.period
    );
    let mut body = String::new();
    body.push_str(&header(report, &title));
    body.push_str(&daily_intake(report));
    body.push_str(&mix(
        report,
        "category-mix",
        "Category mix",
        "Category",
        &report.by_category,
    ));
    body.push_str(&mix(
        report,
        "channel-mix",
        "Channel mix",
        "Channel",
        &report.by_channel,
    ));
    body.push_str(&on_time(report));
    body.push_str(&heat_map(report));
    body.push_str(&repeat_customers(report));
    body.push_str(&alerts(report));
    if let Some(a) = &report.analysis {
        body.push_str(&analysis(a));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        t = esc(&title)
    )
}

fn header(r: &PeriodReport, title: &str) -> String {
    let mut s = format!("<header>\n<h1>{}</h1>\n", esc(title));
    let _ = writeln!(
        s,
        "<p class=\"meta\">Period <time datetime=\"{f}\">{fl}</time> to <time datetime=\"{t}\">{tl}</time> \
         ({o}); verdicts judged at <time datetime=\"{n}\">{nl}</time>; policy {p}.</p>",
        f = esc(&r.from),
        fl = esc(&readable(&r.from)),
        t = esc(&r.to),
        tl = esc(&readable(&r.to)),
        o = esc(&zone_label(r)),
        n = esc(&r.now),
        nl = esc(&readable(&r.now)),
        p = esc(&r.policy_version),
    );
    s.push_str("</header>\n<ul class=\"kpis\" aria-label=\"Key figures\">\n");
    let mut kpi = |k: &str, v: String| {
        let _ = writeln!(
            s,
            "<li><span class=\"v\">{}</span><span class=\"k\">{}</span></li>",
            esc(&v),
            esc(k)
        );
    };
    kpi("received", r.received.to_string());
    if let Some(w) = &r.weekly {
        kpi("resolved", w.resolved.to_string());
        kpi("repeat rate", pct(w.repeat_rate));
        kpi("escalation rate", pct(w.escalation_rate));
        kpi("first-contact resolution", pct(w.first_contact_resolution_rate));
        kpi("satisfied (every revisit)", pct(w.satisfaction.satisfied_rate));
        kpi("satisfied at first revisit", pct(w.satisfaction.first_satisfied_rate));
        kpi("satisfied at latest revisit", pct(w.satisfaction.latest_satisfied_rate));
    }
    kpi(
        "alerts",
        (r.alerts.surges.len() + r.alerts.region_delays.len()).to_string(),
    );
    s.push_str("</ul>\n");
    s
}

/// `2026-09-14T00:00:00+08:00` → `2026-09-14 00:00 +08:00` (the text a person reads).
/// Which clock the report's instants are on: `time zone Asia/Shanghai`, or the offset alone
/// for a report written before the time zone was recorded.
pub(crate) fn zone_label(r: &PeriodReport) -> String {
    if r.time_zone.is_empty() {
        format!("office time, UTC{}", r.utc_offset)
    } else {
        format!("time zone {}", r.time_zone)
    }
}

fn readable(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t.format("%Y-%m-%d %H:%M %:z").to_string(),
        Err(_) => rfc3339.to_owned(),
    }
}

/// Opens a chart: figure, svg with title and desc.
fn open_chart(name: &str, title: &str, desc: &str, marks: usize, height: u32) -> String {
    format!(
        "<figure class=\"chart\" data-chart=\"{name}\" data-marks=\"{marks}\">\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" aria-labelledby=\"{name}-title {name}-desc\">\n\
         <title id=\"{name}-title\">{t}</title>\n<desc id=\"{name}-desc\">{d}</desc>\n",
        t = esc(title),
        d = esc(desc)
    )
}

fn table(caption: &str, head: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = format!(
        "<details>\n<summary>{} as a table</summary>\n<table>\n<caption>{}</caption>\n<thead><tr>",
        esc(caption),
        esc(caption)
    );
    for h in head {
        let _ = write!(s, "<th scope=\"col\">{}</th>", esc(h));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        s.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let numeric = i > 0 && cell.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '–');
            let _ = write!(s, "<td{}>{}</td>", if numeric { " class=\"n\"" } else { "" }, esc(cell));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table>\n</details>\n");
    s
}

fn daily_intake(r: &PeriodReport) -> String {
    let days = &r.daily_intake;
    let title = format!("Daily intake, {}", r.period);
    let max = days.iter().map(|d| d.count).max().unwrap_or(0).max(1);
    let desc = format!(
        "Tickets received per day ({} days, {} in all, at most {} on one day).",
        days.len(),
        r.received,
        days.iter().map(|d| d.count).max().unwrap_or(0)
    );
    let (h, top, bottom, left) = (240u32, 20u32, 40u32, 40u32);
    let plot_h = (h - top - bottom) as f64;
    let mut s = format!("<section id=\"daily-intake\">\n<h2>{}</h2>\n", esc(&title));
    s.push_str(&open_chart("daily-intake", &title, &desc, days.len(), h));
    let _ = writeln!(
        s,
        "<line x1=\"{left}\" y1=\"{y}\" x2=\"{WIDTH}\" y2=\"{y}\" stroke=\"#8c959f\"/>",
        y = h - bottom
    );
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{max}</text>",
        left - 4,
        top + 4
    );
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>",
        left - 4,
        h - bottom
    );
    let n = days.len().max(1) as f64;
    let slot = (WIDTH - left) as f64 / n;
    let label_every = (days.len() / 16).max(1);
    for (i, d) in days.iter().enumerate() {
        let bh = plot_h * d.count as f64 / max as f64;
        let x = left as f64 + slot * i as f64 + slot * 0.15;
        let y = (h - bottom) as f64 - bh;
        let _ = writeln!(
            s,
            "<rect class=\"mark\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bh:.1}\" fill=\"{BAR}\"><title>{t}</title></rect>",
            w = slot * 0.7,
            t = esc(&format!("{}: {} received", d.day, d.count))
        );
        if i % label_every == 0 {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x + slot * 0.35,
                h - bottom + 16,
                esc(d.day.get(5..).unwrap_or(&d.day))
            );
        }
    }
    s.push_str("</svg>\n");
    let _ = writeln!(s, "<figcaption>{}</figcaption>\n</figure>", esc(&desc));
    let rows: Vec<Vec<String>> = days.iter().map(|d| vec![d.day.clone(), d.count.to_string()]).collect();
    s.push_str(&table("Daily intake", &["day", "received"], &rows));
    s.push_str("</section>\n");
    s
}

/// Horizontal bars: one labelled bar per row, `value` scaled to `max`.
fn hbars(name: &str, title: &str, desc: &str, rows: &[(String, f64, String)], max: f64) -> String {
    let row_h = 22u32;
    let h = row_h * rows.len().max(1) as u32 + 10;
    let left = 200f64;
    let right = 90f64;
    let plot_w = WIDTH as f64 - left - right;
    let mut s = open_chart(name, title, desc, rows.len(), h);
    if rows.is_empty() {
        let _ = writeln!(s, "<text x=\"10\" y=\"20\">No data in this period.</text>");
    }
    for (i, (label, value, text)) in rows.iter().enumerate() {
        let y = 5 + row_h * i as u32;
        let w = if max > 0.0 { plot_w * value / max } else { 0.0 };
        let _ = writeln!(
            s,
            "<text x=\"{:.0}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect class=\"mark\" x=\"{left:.0}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" fill=\"{BAR}\"><title>{}</title></rect>\
             <text x=\"{:.1}\" y=\"{}\">{}</text>",
            left - 6.0,
            y + 15,
            esc(label),
            y + 3,
            row_h - 6,
            esc(&format!("{label}: {text}")),
            left + w + 4.0,
            y + 15,
            esc(text)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn mix(
    r: &PeriodReport,
    name: &str,
    title: &str,
    column: &str,
    counts: &std::collections::BTreeMap<String, u64>,
) -> String {
    let total: u64 = counts.values().sum();
    let mut sorted: Vec<(&String, &u64)> = counts.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let share = |n: u64| if total > 0 { n as f64 / total as f64 } else { 0.0 };
    let rows: Vec<(String, f64, String)> = sorted
        .iter()
        .map(|(k, n)| ((*k).clone(), **n as f64, format!("{n} ({:.1} %)", share(**n) * 100.0)))
        .collect();
    let max = sorted.first().map(|(_, n)| **n as f64).unwrap_or(0.0);
    let desc = format!(
        "Tickets received in {} by {}: {} groups, {total} tickets{}.",
        r.period,
        column.to_lowercase(),
        counts.len(),
        if counts.contains_key(UNCLASSIFIED) {
            ", not yet classified ones as unclassified"
        } else {
            ""
        }
    );
    let mut s = format!("<section id=\"{name}\">\n<h2>{}</h2>\n", esc(title));
    s.push_str(&hbars(name, title, &desc, &rows, max));
    let _ = writeln!(s, "<figcaption>{}</figcaption>\n</figure>", esc(&desc));
    let table_rows: Vec<Vec<String>> = sorted
        .iter()
        .map(|(k, n)| vec![(*k).clone(), n.to_string(), format!("{:.1} %", share(**n) * 100.0)])
        .collect();
    s.push_str(&table(title, &[column, "tickets", "share"], &table_rows));
    s.push_str("</section>\n");
    s
}

fn on_time(r: &PeriodReport) -> String {
    let title = "On-time rate per clock";
    let rows: Vec<(String, f64, String)> = r
        .on_time
        .iter()
        .map(|(clock, c)| {
            (
                clock.clone(),
                c.on_time_rate.unwrap_or(0.0) * 100.0,
                pct(c.on_time_rate),
            )
        })
        .collect();
    let desc = format!(
        "Share of clocks met on time among those whose outcome is known at {} (met / (met + breached + pending overdue)), for the tickets received in {}; – when no outcome is known yet.",
        readable(&r.now),
        r.period
    );
    let mut s = format!("<section id=\"on-time\">\n<h2>{title}</h2>\n");
    s.push_str(&hbars("on-time", title, &desc, &rows, 100.0));
    let _ = writeln!(s, "<figcaption>{}</figcaption>\n</figure>", esc(&desc));
    let table_rows: Vec<Vec<String>> = r
        .on_time
        .iter()
        .map(|(clock, c)| {
            vec![
                clock.clone(),
                c.met.to_string(),
                c.breached.to_string(),
                c.pending.to_string(),
                c.pending_overdue.to_string(),
                c.at_risk.to_string(),
                pct(c.on_time_rate),
            ]
        })
        .collect();
    s.push_str(&table(
        title,
        &[
            "clock",
            "met",
            "breached",
            "pending",
            "pending overdue",
            "at risk",
            "on-time rate",
        ],
        &table_rows,
    ));
    s.push_str("</section>\n");
    s
}

/// White to dark blue by share of the largest cell.
fn heat_colour(count: u64, max: u64) -> String {
    if count == 0 || max == 0 {
        return "#f6f8fa".to_owned();
    }
    let t = count as f64 / max as f64;
    let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        lerp(221.0, 9.0),
        lerp(235.0, 54.0),
        lerp(255.0, 130.0)
    )
}

fn heat_map(r: &PeriodReport) -> String {
    heat_map_section(&r.heat_map)
}

/// The heat map of a month as one self-contained HTML page (`plaint heatmap --format html`):
/// the same SVG chart the period reports draw, with the cell counts as a table.
pub fn render_heat_map(grid: &HeatGrid) -> String {
    let title = format!("Complaint heat map {}", grid.month);
    let body = format!(
        "<header>\n<h1>{}</h1>\n<p class=\"meta\">Tickets received in {} (office time) per region and category.</p>\n</header>\n{}",
        esc(&title),
        esc(&grid.month),
        heat_map_section(grid)
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        t = esc(&title)
    )
}

/// The heat map as an SVG figure (`plaint heatmap --format svg`).
pub fn heat_map_svg(grid: &HeatGrid) -> String {
    let section = heat_map_section(grid);
    match (section.find("<svg"), section.find("</svg>")) {
        (Some(a), Some(b)) => format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n", &section[a..b + 6]),
        _ => section,
    }
}

fn heat_map_section(g: &HeatGrid) -> String {
    let title = format!("Region × category heat map, {}", g.month);
    let max = g.max();
    let desc = format!(
        "Tickets of {} per region (rows, {}) and category (columns, {}); darker is more, the largest cell holds {max}.",
        g.month,
        g.regions.len(),
        g.categories.len()
    );
    let (left, top, cell_h) = (160u32, 90u32, 22u32);
    let cols = g.categories.len().max(1) as u32;
    // Room on the right for the last column's slanted label.
    let cell_w = ((WIDTH - left - 60) / cols).clamp(24, 90);
    let h = top + cell_h * g.regions.len().max(1) as u32 + 10;
    let mut s = format!("<section id=\"heat-map\">\n<h2>{}</h2>\n", esc(&title));
    s.push_str(&open_chart(
        "heat-map",
        &title,
        &desc,
        g.regions.len() * g.categories.len(),
        h,
    ));
    if g.regions.is_empty() {
        let _ = writeln!(s, "<text x=\"10\" y=\"{}\">No data in this month.</text>", top + 14);
    }
    for (j, c) in g.categories.iter().enumerate() {
        let x = left + cell_w * j as u32 + cell_w / 2;
        let _ = writeln!(
            s,
            "<text transform=\"translate({x},{}) rotate(-45)\">{}</text>",
            top - 6,
            esc(c)
        );
    }
    for (i, region) in g.regions.iter().enumerate() {
        let y = top + cell_h * i as u32;
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            left - 6,
            y + 15,
            esc(region)
        );
        for (j, c) in g.categories.iter().enumerate() {
            let n = g.counts[i][j];
            let x = left + cell_w * j as u32;
            let _ = writeln!(
                s,
                "<rect class=\"mark\" x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#fff\"><title>{}</title></rect>",
                cell_w,
                cell_h,
                heat_colour(n, max),
                esc(&format!("{region} × {c}: {n}"))
            );
            if n > 0 {
                let fill = if max > 0 && n * 2 > max { "#fff" } else { "#1b1f24" };
                let _ = writeln!(
                    s,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" style=\"fill:{fill}\">{n}</text>",
                    x + cell_w / 2,
                    y + 15
                );
            }
        }
    }
    s.push_str("</svg>\n");
    let _ = writeln!(s, "<figcaption>{}</figcaption>\n</figure>", esc(&desc));
    let mut head: Vec<&str> = vec!["region"];
    head.extend(g.categories.iter().map(String::as_str));
    let rows: Vec<Vec<String>> = g
        .regions
        .iter()
        .enumerate()
        .map(|(i, region)| {
            let mut row = vec![region.clone()];
            row.extend(g.counts[i].iter().map(u64::to_string));
            row
        })
        .collect();
    s.push_str(&table(&title, &head, &rows));
    s.push_str("</section>\n");
    s
}

fn repeat_customers(r: &PeriodReport) -> String {
    let title = "Top repeat customers";
    let rows: Vec<(String, f64, String)> = r
        .top_repeat_customers
        .iter()
        .map(|c| (c.customer.clone(), c.tickets as f64, format!("{} tickets", c.tickets)))
        .collect();
    let max = r.top_repeat_customers.first().map(|c| c.tickets as f64).unwrap_or(0.0);
    let desc = format!(
        "Customers (masked) with more than one ticket received in {}, most tickets first; {} shown.",
        r.period,
        rows.len()
    );
    let mut s = format!("<section id=\"repeat-customers\">\n<h2>{title}</h2>\n");
    s.push_str(&hbars("repeat-customers", title, &desc, &rows, max));
    let _ = writeln!(s, "<figcaption>{}</figcaption>\n</figure>", esc(&desc));
    let table_rows: Vec<Vec<String>> = r
        .top_repeat_customers
        .iter()
        .map(|c| vec![c.customer.clone(), c.tickets.to_string()])
        .collect();
    s.push_str(&table(title, &["customer (masked)", "tickets"], &table_rows));
    s.push_str("</section>\n");
    s
}

fn alerts(r: &PeriodReport) -> String {
    let a = &r.alerts;
    let mut s = format!(
        "<section id=\"alerts\">\n<h2>Alerts</h2>\n<p class=\"meta\">As of <time datetime=\"{}\">{}</time>, policy {}.</p>\n",
        esc(&r.now),
        esc(&readable(&r.now)),
        esc(&a.policy_version)
    );
    if a.surges.is_empty() && a.region_delays.is_empty() {
        s.push_str("<p class=\"empty\">No alerts.</p>\n");
    }
    if !a.surges.is_empty() {
        s.push_str("<table class=\"alerts\" data-alerts=\"surges\">\n<caption>Category surges</caption>\n<thead><tr><th scope=\"col\">day</th><th scope=\"col\">category</th><th scope=\"col\">count</th><th scope=\"col\">baseline</th><th scope=\"col\">rise</th></tr></thead>\n<tbody>\n");
        for x in &a.surges {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{}</td></tr>",
                esc(&x.day),
                esc(x.category.as_str()),
                x.count,
                x.baseline,
                pct(x.rise)
            );
        }
        s.push_str("</tbody>\n</table>\n");
    }
    if !a.region_delays.is_empty() {
        s.push_str("<table class=\"alerts\" data-alerts=\"region-delays\">\n<caption>Regions with a high delay share</caption>\n<thead><tr><th scope=\"col\">region</th><th scope=\"col\">months (delay share)</th></tr></thead>\n<tbody>\n");
        for x in &a.region_delays {
            let months: Vec<String> = x
                .months
                .iter()
                .map(|(m, share)| format!("{m}: {:.1} %", share * 100.0))
                .collect();
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(&x.region),
                esc(&months.join(", "))
            );
        }
        s.push_str("</tbody>\n</table>\n");
    }
    s.push_str("</section>\n");
    s
}

/// Monthly reports: the complaint analysis (投诉分析报告, issue 17), one table per section.
fn analysis(a: &plaint_projections::casework::ComplaintAnalysis) -> String {
    let mut s = format!(
        "<section id=\"analysis\">\n<h2>Complaint analysis (投诉分析报告)</h2>\n<p class=\"meta\">{} complaints, {} the month before; policy {}.</p>\n",
        a.total,
        a.previous_total,
        esc(&a.policy_version)
    );
    for t in crate::report_casework::analysis_csv(a) {
        let _ = writeln!(s, "<table data-analysis=\"{}\">", esc(t.name));
        for (i, row) in t.rows.iter().enumerate() {
            let cell = if i == 0 { "th scope=\"col\"" } else { "td" };
            let end = if i == 0 { "th" } else { "td" };
            s.push_str("<tr>");
            for c in row {
                let _ = write!(s, "<{cell}>{}</{end}>", esc(c));
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</table>\n");
    }
    s.push_str("</section>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(json: serde_json::Value) -> PeriodReport {
        serde_json::from_value(json).expect("a PeriodReport")
    }

    fn empty() -> serde_json::Value {
        serde_json::json!({
            "schema_version": 1, "kind": "monthly", "period": "2026-02",
            "from": "2026-02-01T00:00:00+08:00", "to": "2026-03-01T00:00:00+08:00",
            "now": "2026-03-02T09:30:00+08:00", "utc_offset": "+08:00", "policy_version": "p1",
            "received": 0, "daily_intake": [], "by_category": {}, "by_channel": {}, "on_time": {},
            "heat_map": {"month": "2026-02", "regions": [], "categories": [], "counts": []},
            "top_repeat_customers": [],
            "alerts": {"schema_version": 1, "now": "2026-03-02T01:30:00Z", "policy_version": "p1",
                       "surges": [], "region_delays": []}
        })
    }

    #[test]
    fn an_empty_period_renders_every_section_without_marks() {
        let html = render(&report(empty()));
        for chart in [
            "daily-intake",
            "category-mix",
            "channel-mix",
            "on-time",
            "heat-map",
            "repeat-customers",
        ] {
            assert!(
                html.contains(&format!("data-chart=\"{chart}\" data-marks=\"0\"")),
                "{chart}"
            );
        }
        assert_eq!(html.matches("class=\"mark\"").count(), 0);
        assert!(html.contains("No alerts."));
        assert!(html.contains("2026-03-02 09:30 +08:00"));
    }

    #[test]
    fn names_from_the_data_are_escaped() {
        let mut json = empty();
        json["received"] = 1.into();
        json["by_category"] = serde_json::json!({"<script>alert(1)</script>": 1});
        json["heat_map"] =
            serde_json::json!({"month": "2026-02", "regions": ["A&B \"x\""], "categories": ["delay"], "counts": [[1]]});
        let html = render(&report(json));
        assert!(!html.contains("<script>"), "no markup from data");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("A&amp;B &quot;x&quot;"));
        assert!(html.contains("data-chart=\"heat-map\" data-marks=\"1\""));
    }

    #[test]
    fn heat_colours_run_from_pale_to_dark() {
        assert_eq!(heat_colour(0, 9), "#f6f8fa");
        assert_eq!(heat_colour(9, 9), "#093682");
        assert_ne!(heat_colour(1, 9), heat_colour(8, 9));
    }
}
