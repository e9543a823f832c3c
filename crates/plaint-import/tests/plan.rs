//! Library-level tests: mapping errors name their key, every anomaly kind is reported on the
//! right line, and each status meaning yields the right commands.

use plaint_domain::{Channel, Clock, CommandBody, ResponseKind, Timestamp};
use plaint_import::{plan_csv, AnomalyKind, Decision, ImportPlan, Mapping, MappingError, StatusMeaning};

/// A mapping over the test CSV's columns; `anomalies` is the body of the `[anomalies]` table.
fn mapping_with(anomalies: &str) -> Mapping {
    let text = format!(
        r#"
[source]
name = "legacy"
id_column = "id"
complaint_id_prefix = "L-"
time_zone = "America/New_York"
date_format = "%m/%d/%Y %H:%M"

[columns]
created = "created"
due = "due"
closed = "closed"
status = "status"
duplicate_of = "dup_of"

[receive]
channel = {{ column = "via", values = {{ Phone = "hotline", Web = "website" }}, default = "counter" }}
region = {{ column = "area", default = "unknown" }}
description = {{ column = "what" }}

[classify]
category = {{ value = "other" }}
severity = {{ value = "ordinary" }}

[dispatch]
department = {{ column = "agency" }}

[status]
values = {{ Open = "open", New = "new", Closed = "closed", Dup = "duplicate", Moved = "transferred" }}
transferred_to = "elsewhere"

[attributes]
agency = "agency"
via = "via"

[anomalies]
{anomalies}
"#
    );
    Mapping::from_toml_str(&text).expect("test mapping parses")
}

const HEADER: &str = "id,created,due,closed,status,dup_of,via,area,what,agency";

fn plan(anomalies: &str, rows: &str) -> ImportPlan {
    let csv = format!("{HEADER}\n{rows}");
    plan_csv(&mapping_with(anomalies), csv.as_bytes()).expect("csv reads")
}

/// New York time → UTC instant (EST is UTC-5 in January).
fn ny(y: i32, mo: u32, d: u32, h: u32, mi: u32, offset_h: i64) -> Timestamp {
    let naive = chrono::NaiveDate::from_ymd_opt(y, mo, d)
        .unwrap()
        .and_hms_opt(h, mi, 0)
        .unwrap();
    Timestamp::from_millis(naive.and_utc().timestamp_millis() + offset_h * 3_600_000)
}

// ---------------------------------------------------------------------------------------------
// Mapping errors name the key
// ---------------------------------------------------------------------------------------------

const MINIMAL: &str = r#"
[source]
name = "legacy"
id_column = "id"
time_zone = "UTC"
date_format = "%Y-%m-%d"
[columns]
created = "created"
[receive]
channel = { value = "hotline" }
region = { value = "north" }
description = { column = "text" }
[classify]
category = { value = "other" }
severity = { value = "ordinary" }
[dispatch]
department = { value = "customer_service" }
"#;

fn mapping_error(text: &str) -> String {
    match Mapping::from_toml_str(text) {
        Ok(_) => panic!("mapping should be refused:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn minimal_mapping_parses() {
    let m = Mapping::from_toml_str(MINIMAL).expect("parses");
    assert_eq!(m.source.actor, "system");
    assert_eq!(
        m.decision(AnomalyKind::ShortRow),
        Decision::Reject,
        "unlisted kinds are rejected"
    );
}

#[test]
fn a_missing_required_key_is_named() {
    let text = MINIMAL.replace("id_column = \"id\"\n", "");
    let msg = mapping_error(&text);
    assert!(msg.contains("id_column"), "{msg}");
}

#[test]
fn an_unknown_key_is_named() {
    let text = MINIMAL.replace("[columns]\n", "[columns]\ncreatd_at = \"x\"\n");
    let msg = mapping_error(&text);
    assert!(msg.contains("creatd_at"), "{msg}");
}

#[test]
fn an_unknown_channel_name_is_named() {
    let text = MINIMAL.replace("channel = { value = \"hotline\" }", "channel = { value = \"hotlin\" }");
    let msg = mapping_error(&text);
    assert!(msg.contains("hotlin") && msg.contains("channel"), "{msg}");
}

#[test]
fn a_bad_time_zone_names_source_time_zone() {
    let text = MINIMAL.replace("time_zone = \"UTC\"", "time_zone = \"Mars/Olympus\"");
    let err = Mapping::from_toml_str(&text).unwrap_err();
    assert_eq!(err.key(), Some("source.time_zone"), "{err}");
    assert!(err.to_string().contains("Mars/Olympus"));
}

#[test]
fn an_unknown_anomaly_kind_names_its_key() {
    let text = format!("{MINIMAL}[anomalies]\nshort_rows = \"import\"\n");
    let err = Mapping::from_toml_str(&text).unwrap_err();
    assert_eq!(err.key(), Some("anomalies.short_rows"), "{err}");
}

#[test]
fn importing_an_unfixable_kind_is_refused_by_key() {
    let text = format!("{MINIMAL}[anomalies]\nblank_created = \"import\"\n");
    let err = Mapping::from_toml_str(&text).unwrap_err();
    assert_eq!(err.key(), Some("anomalies.blank_created"), "{err}");
}

#[test]
fn a_field_with_both_column_and_value_names_the_field() {
    let text = MINIMAL.replace(
        "region = { value = \"north\" }",
        "region = { value = \"north\", column = \"r\" }",
    );
    let err = Mapping::from_toml_str(&text).unwrap_err();
    assert_eq!(err.key(), Some("receive.region"), "{err}");
}

#[test]
fn a_transferred_status_needs_transferred_to() {
    let text = MINIMAL.replace("[columns]\n", "[columns]\nstatus = \"s\"\nclosed = \"c\"\n")
        + "[status]\nvalues = { Moved = \"transferred\" }\n";
    let err = Mapping::from_toml_str(&text).unwrap_err();
    assert_eq!(err.key(), Some("status.transferred_to"), "{err}");
}

#[test]
fn a_closed_status_needs_a_close_column() {
    let text =
        MINIMAL.replace("[columns]\n", "[columns]\nstatus = \"s\"\n") + "[status]\nvalues = { Done = \"closed\" }\n";
    let err = Mapping::from_toml_str(&text).unwrap_err();
    assert_eq!(err.key(), Some("columns.closed"), "{err}");
}

#[test]
fn a_column_missing_from_the_header_names_the_mapping_key() {
    let m = Mapping::from_toml_str(MINIMAL).unwrap();
    let err = plan_csv(&m, "id,created\n1,2024-01-01\n".as_bytes()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("receive.description.column") && msg.contains("text"),
        "{msg}"
    );
}

#[test]
fn mapping_error_is_typed() {
    let err = Mapping::from_toml_str("not toml [").unwrap_err();
    assert!(matches!(err, MappingError::Syntax { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Each anomaly kind on the right line
// ---------------------------------------------------------------------------------------------

/// Asserts exactly one anomaly of `kind`, on `line`, with `decision`.
fn assert_one(plan: &ImportPlan, kind: AnomalyKind, line: u64, decision: Decision) {
    let found: Vec<_> = plan.anomalies.iter().filter(|a| a.kind == kind).collect();
    assert_eq!(found.len(), 1, "{kind}: {:#?}", plan.anomalies);
    assert_eq!(found[0].line, line, "{}", found[0]);
    assert_eq!(found[0].decision, decision, "{}", found[0]);
    assert!(!found[0].reason.is_empty());
    if decision == Decision::Import {
        assert!(
            found[0].fix.is_some(),
            "an imported anomaly states its fix: {}",
            found[0]
        );
    }
    assert_eq!(plan.summary().count(kind), 1);
}

const GOOD: &str = "1,01/05/2024 09:00,01/08/2024 09:00,01/06/2024 10:00,Closed,,Phone,North,leak,Water";

#[test]
fn a_clean_row_has_no_anomaly() {
    let p = plan("", &format!("{GOOD}\n"));
    assert!(p.anomalies.is_empty(), "{:#?}", p.anomalies);
    assert_eq!(p.tickets.len(), 1);
    assert_eq!(p.rows_rejected, 0);
}

#[test]
fn short_and_long_rows() {
    let rows = format!(
        "{GOOD}\n2,01/05/2024 09:00,01/08/2024 09:00\n3{}\n",
        &GOOD[1..].replace("Water", "Water,extra")
    );
    let p = plan("", &rows);
    assert_one(&p, AnomalyKind::ShortRow, 3, Decision::Reject);
    assert_one(&p, AnomalyKind::LongRow, 4, Decision::Reject);
    assert_eq!(p.tickets.len(), 1);
    assert_eq!(p.rows_rejected, 2);

    let p = plan("long_row = \"import\"", &rows);
    assert_one(&p, AnomalyKind::LongRow, 4, Decision::Import);
    assert_eq!(p.tickets.len(), 2);
}

#[test]
fn a_short_row_imported_reads_missing_fields_as_blank() {
    // The row lacks `what` and `agency`; `what` has no default, so blank_value rejects it even
    // though short_row says import: both are reported.
    let rows = "7,01/05/2024 09:00,01/08/2024 09:00,,Open,,Phone,North\n";
    let p = plan("short_row = \"import\"\nblank_value = \"import\"", rows);
    assert_one(&p, AnomalyKind::ShortRow, 2, Decision::Import);
    let blanks: Vec<_> = p
        .anomalies
        .iter()
        .filter(|a| a.kind == AnomalyKind::BlankValue)
        .collect();
    assert_eq!(blanks.len(), 2, "{blanks:#?}");
    assert!(blanks.iter().all(|a| a.decision == Decision::Reject && a.line == 2));
    assert!(blanks[0]
        .fix
        .as_deref()
        .unwrap()
        .contains("no `receive.description.default`"));
    assert_eq!(p.rows_rejected, 1);
}

#[test]
fn invalid_and_duplicate_ids() {
    let rows = format!(
        "{GOOD}\n,01/05/2024 09:00,,,Open,,Phone,North,x,W\nbad id,01/05/2024 09:00,,,Open,,Phone,North,x,W\n{GOOD}\n"
    );
    let p = plan("blank_due = \"import\"", &rows);
    let invalid: Vec<_> = p
        .anomalies
        .iter()
        .filter(|a| a.kind == AnomalyKind::InvalidId)
        .collect();
    assert_eq!(invalid.iter().map(|a| a.line).collect::<Vec<_>>(), vec![3, 4]);
    assert_one(&p, AnomalyKind::DuplicateId, 5, Decision::Reject);
    assert_eq!(p.tickets.len(), 1);
    assert_eq!(p.rows_rejected, 3);
}

#[test]
fn created_date_blank_or_unparsable() {
    let rows = "1,,,,Open,,Phone,N,x,W\n2,2024-01-05,,,Open,,Phone,N,x,W\n";
    let p = plan("blank_due = \"import\"", rows);
    assert_one(&p, AnomalyKind::BlankCreated, 2, Decision::Reject);
    assert_one(&p, AnomalyKind::UnparsableCreated, 3, Decision::Reject);
    let unparsable = p
        .anomalies
        .iter()
        .find(|a| a.kind == AnomalyKind::UnparsableCreated)
        .unwrap();
    assert!(
        unparsable.reason.contains("2024-01-05"),
        "names the value: {unparsable}"
    );
    assert!(p.tickets.is_empty());
}

#[test]
fn due_date_blank_or_unparsable_imports_without_a_deadline() {
    let rows = "1,01/05/2024 09:00,,,Open,,Phone,N,x,W\n2,01/05/2024 09:00,soon,,Open,,Phone,N,x,W\n";
    let p = plan("blank_due = \"import\"\nunparsable_due = \"import\"", rows);
    assert_one(&p, AnomalyKind::BlankDue, 2, Decision::Import);
    assert_one(&p, AnomalyKind::UnparsableDue, 3, Decision::Import);
    assert_eq!(p.tickets.len(), 2);
    for t in &p.tickets {
        let CommandBody::Classify(c) = &t.commands[2].body else {
            panic!("third command is classify")
        };
        assert!(c.recorded_deadlines.is_empty());
        // Imported history: no due date means no deadline, never the policy's (issue 8).
        assert_eq!(c.deadline_source, plaint_domain::DeadlineSource::Recorded);
    }
}

/// Issue 11, blank_due: the fix the anomaly report states must say what the import does (it
/// records no deadline and the policy computes none), not that the policy computes deadlines.
#[test]
fn blank_due_fix_text_says_no_deadline_is_computed() {
    let rows = "1,01/05/2024 09:00,,,Open,,Phone,N,x,W\n2,01/05/2024 09:00,soon,,Open,,Phone,N,x,W\n";
    let p = plan("blank_due = \"import\"\nunparsable_due = \"import\"", rows);
    for kind in [AnomalyKind::BlankDue, AnomalyKind::UnparsableDue] {
        let a = p.anomalies.iter().find(|a| a.kind == kind).expect("anomaly reported");
        let fix = a.fix.as_deref().expect("an imported anomaly states its fix");
        assert!(fix.starts_with("no deadline recorded"), "{fix}");
        assert!(
            !fix.contains("policy computes the deadlines"),
            "the import computes no deadline for the row: {fix}"
        );
        assert!(fix.contains("computes none"), "{fix}");
    }
}

#[test]
fn close_date_anomalies() {
    let rows = "\
1,01/05/2024 09:00,01/08/2024 09:00,yesterday,Closed,,Phone,N,x,W
2,01/05/2024 09:00,01/08/2024 09:00,01/04/2024 09:00,Closed,,Phone,N,x,W
3,01/05/2024 09:00,01/08/2024 09:00,,Closed,,Phone,N,x,W
4,01/05/2024 09:00,01/08/2024 09:00,01/06/2024 09:00,Open,,Phone,N,x,W
";
    let p = plan("", rows);
    assert_one(&p, AnomalyKind::UnparsableClosed, 2, Decision::Reject);
    assert_one(&p, AnomalyKind::ClosedBeforeCreated, 3, Decision::Reject);
    // Line 2 is also closed-without-close-date once the unparsable date is dropped.
    let without: Vec<u64> = p
        .anomalies
        .iter()
        .filter(|a| a.kind == AnomalyKind::ClosedWithoutCloseDate)
        .map(|a| a.line)
        .collect();
    assert_eq!(without, vec![2, 4]);
    assert_one(&p, AnomalyKind::OpenWithCloseDate, 5, Decision::Reject);
    assert!(p.tickets.is_empty());

    let p = plan(
        "unparsable_closed = \"import\"\nclosed_before_created = \"import\"\nclosed_without_close_date = \"import\"\nopen_with_close_date = \"import\"",
        rows,
    );
    assert_eq!(p.tickets.len(), 4);
    let outcomes: Vec<StatusMeaning> = p.tickets.iter().map(|t| t.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            StatusMeaning::Open,
            StatusMeaning::Closed,
            StatusMeaning::Open,
            StatusMeaning::Open
        ]
    );
    // Closed before created: closed at the created time.
    let close = p.tickets[1].commands.last().unwrap();
    assert!(matches!(close.body, CommandBody::Close(_)));
    assert_eq!(close.occurred_at, Some(ny(2024, 1, 5, 9, 0, 5)));
}

#[test]
fn unknown_status_and_unknown_or_blank_values() {
    let rows = "\
1,01/05/2024 09:00,01/08/2024 09:00,,Limbo,,Phone,N,x,W
2,01/05/2024 09:00,01/08/2024 09:00,,Open,,Pigeon,N,x,W
3,01/05/2024 09:00,01/08/2024 09:00,,Open,,Phone,,x,W
";
    let p = plan("", rows);
    assert_one(&p, AnomalyKind::UnknownStatus, 2, Decision::Reject);
    assert_one(&p, AnomalyKind::UnknownValue, 3, Decision::Reject);
    assert_one(&p, AnomalyKind::BlankValue, 4, Decision::Reject);
    assert!(p.tickets.is_empty());

    let p = plan(
        "unknown_status = \"import\"\nunknown_value = \"import\"\nblank_value = \"import\"",
        rows,
    );
    assert_eq!(p.tickets.len(), 3);
    assert_eq!(p.tickets[0].outcome, StatusMeaning::Open);
    let CommandBody::Receive(r) = &p.tickets[1].commands[0].body else {
        panic!()
    };
    assert_eq!(r.channel, Channel::Counter, "the channel's default");
    assert_eq!(
        r.attributes["via"], "Pigeon",
        "the original value stays as an attribute"
    );
    let CommandBody::Receive(r) = &p.tickets[2].commands[0].body else {
        panic!()
    };
    assert_eq!(r.region, "unknown");
}

#[test]
fn duplicate_without_target() {
    let rows = "1,01/05/2024 09:00,01/08/2024 09:00,01/06/2024 09:00,Dup,,Phone,N,x,W\n";
    let p = plan("", rows);
    assert_one(&p, AnomalyKind::DuplicateWithoutTarget, 2, Decision::Reject);
    let p = plan("duplicate_without_target = \"import\"", rows);
    assert_eq!(p.tickets[0].outcome, StatusMeaning::Closed);
}

#[test]
fn dispatch_date_anomalies() {
    let text = MINIMAL.replace(
        "[columns]\n",
        "[columns]\ndispatched = \"sent\"\nclosed = \"closed\"\nstatus = \"s\"\n",
    ) + "[status]\nvalues = { Done = \"closed\" }\n";
    let m = Mapping::from_toml_str(&text).unwrap();
    let csv = "id,created,sent,closed,s,text\n\
               1,2024-01-05,,2024-01-09,Done,x\n\
               2,2024-01-05,someday,2024-01-09,Done,x\n\
               3,2024-01-05,2024-01-04,2024-01-09,Done,x\n\
               4,2024-01-05,2024-01-10,2024-01-09,Done,x\n";
    let p = plan_csv(&m, csv.as_bytes()).unwrap();
    for (kind, line) in [
        (AnomalyKind::BlankDispatched, 2),
        (AnomalyKind::UnparsableDispatched, 3),
        (AnomalyKind::DispatchedBeforeCreated, 4),
        (AnomalyKind::ClosedBeforeDispatched, 5),
    ] {
        assert_one(&p, kind, line, Decision::Reject);
    }
    assert!(p.tickets.is_empty());
}

#[test]
fn daylight_saving_edges() {
    // 2024-03-10 02:30 does not exist in New York; 2024-11-03 01:30 happens twice.
    let rows = "\
1,03/10/2024 02:30,,,Open,,Phone,N,x,W
2,11/03/2024 01:30,,,Open,,Phone,N,x,W
";
    let p = plan("blank_due = \"import\"", rows);
    assert_one(&p, AnomalyKind::NonexistentLocalTime, 2, Decision::Reject);
    assert_one(&p, AnomalyKind::AmbiguousLocalTime, 3, Decision::Reject);
    let p = plan(
        "blank_due = \"import\"\nnonexistent_local_time = \"import\"\nambiguous_local_time = \"import\"",
        rows,
    );
    assert_eq!(
        p.tickets[0].commands[0].occurred_at,
        Some(ny(2024, 3, 10, 2, 30, 5)),
        "EST offset"
    );
    assert_eq!(
        p.tickets[1].commands[0].occurred_at,
        Some(ny(2024, 11, 3, 1, 30, 4)),
        "EDT: the earlier one"
    );
}

#[test]
fn invalid_encoding() {
    let mut csv = format!("{HEADER}\n").into_bytes();
    csv.extend_from_slice(b"1,01/05/2024 09:00,,,Open,,Phone,N,caf\xe9,W\n");
    let m = mapping_with("blank_due = \"import\"");
    let p = plan_csv(&m, csv.as_slice()).unwrap();
    assert_one(&p, AnomalyKind::InvalidEncoding, 2, Decision::Reject);
}

#[test]
fn line_numbers_count_physical_lines_with_crlf_and_quoted_newlines() {
    let rows = format!(
        "{GOOD}\r\n2,01/05/2024 09:00,01/08/2024 09:00,,Open,,Phone,N,\"two\r\nlines\",W\r\n3,,,,Open,,Phone,N,x,W\r\n"
    );
    let csv = format!("{HEADER}\r\n{rows}");
    let p = plan_csv(&mapping_with(""), csv.as_bytes()).unwrap();
    assert_one(&p, AnomalyKind::BlankCreated, 5, Decision::Reject);
    assert_eq!(p.tickets[1].line, 3);
}

// ---------------------------------------------------------------------------------------------
// Row → commands per status meaning
// ---------------------------------------------------------------------------------------------

fn names(p: &ImportPlan, i: usize) -> Vec<&'static str> {
    p.tickets[i].commands.iter().map(|c| c.body.name()).collect()
}

#[test]
fn each_status_meaning_yields_its_history() {
    let rows = "\
10,01/05/2024 09:00,01/08/2024 09:00,,New,,Phone,N,x,Water
11,01/05/2024 09:00,01/08/2024 09:00,,Open,,Phone,N,x,Water
12,01/05/2024 09:00,01/08/2024 09:00,01/09/2024 17:15,Closed,,Web,N,x,Water
13,01/05/2024 09:00,01/08/2024 09:00,01/06/2024 08:00,Moved,,Phone,N,x,Water
14,01/05/2024 09:00,01/08/2024 09:00,01/05/2024 10:00,Dup,11,Phone,N,x,Water
";
    let p = plan("", rows);
    assert!(p.anomalies.is_empty(), "{:#?}", p.anomalies);
    assert_eq!(names(&p, 0), ["receive", "verify", "classify"]);
    assert_eq!(names(&p, 1), ["receive", "verify", "classify", "dispatch"]);
    assert_eq!(
        names(&p, 2),
        ["receive", "verify", "classify", "dispatch", "respond", "close"]
    );
    assert_eq!(
        names(&p, 3),
        [
            "receive",
            "verify",
            "classify",
            "dispatch",
            "redispatch",
            "respond",
            "close"
        ]
    );
    assert_eq!(names(&p, 4), ["receive", "verify", "merge_as_duplicate", "close"]);

    let created = ny(2024, 1, 5, 9, 0, 5);
    let closed_at = ny(2024, 1, 9, 17, 15, 5);
    let closed = p.tickets[2].commands.clone();
    assert_eq!(closed[0].complaint_id.as_str(), "L-12");
    assert_eq!(closed[0].command_id.as_str(), "import:legacy:12:receive");
    assert_eq!(closed[5].command_id.as_str(), "import:legacy:12:close");
    let times: Vec<Option<Timestamp>> = closed.iter().map(|c| c.occurred_at).collect();
    assert_eq!(
        times,
        [created, created, created, created, closed_at, closed_at]
            .map(Some)
            .to_vec()
    );
    match &closed[0].body {
        CommandBody::Receive(r) => {
            assert_eq!(r.channel, Channel::Website);
            assert_eq!(r.contact_at, Some(created));
            assert_eq!(r.attributes["agency"], "Water");
        }
        other => panic!("receive expected, got {other:?}"),
    }
    match &closed[2].body {
        CommandBody::Classify(c) => {
            assert_eq!(c.recorded_deadlines.len(), 1);
            assert_eq!(c.recorded_deadlines[0].clock, Clock::Resolution);
            assert_eq!(c.recorded_deadlines[0].due_at, ny(2024, 1, 8, 9, 0, 5));
            assert_eq!(c.deadline_source, plaint_domain::DeadlineSource::Recorded);
        }
        other => panic!("classify expected, got {other:?}"),
    }
    match &closed[3].body {
        CommandBody::Dispatch(d) => assert_eq!(d.department.as_ref().unwrap().0, "Water"),
        other => panic!("dispatch expected, got {other:?}"),
    }
    match &closed[4].body {
        CommandBody::Respond(r) => assert_eq!(r.kind, ResponseKind::Final),
        other => panic!("respond expected, got {other:?}"),
    }
    match &p.tickets[3].commands[4].body {
        CommandBody::Redispatch(rd) => assert_eq!(rd.to.0, "elsewhere"),
        other => panic!("redispatch expected, got {other:?}"),
    }
    let dup = &p.tickets[4].commands;
    match &dup[2].body {
        CommandBody::MergeAsDuplicate(mg) => assert_eq!(mg.into.as_str(), "L-11"),
        other => panic!("merge expected, got {other:?}"),
    }
    assert_eq!(dup[2].occurred_at, Some(ny(2024, 1, 5, 10, 0, 5)));
    assert_eq!(dup[3].occurred_at, Some(ny(2024, 1, 5, 10, 0, 5)));
}

#[test]
fn planning_twice_yields_identical_commands() {
    let rows = format!("{GOOD}\n");
    let a = plan("", &rows);
    let b = plan("", &rows);
    assert_eq!(a.tickets, b.tickets);
}

#[test]
fn batches_never_split_a_ticket() {
    let rows: String = (1..=10).map(|i| format!("{i}{}\n", &GOOD[1..])).collect();
    let p = plan("", &rows);
    assert_eq!(p.command_count(), 60);
    let batches = p.batches(14);
    assert!(batches.iter().all(|b| b.len() == 12), "two tickets of 6 per batch");
    assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 60);
    assert_eq!(
        p.clone().into_batches(14),
        batches,
        "consuming and copying batches agree"
    );
}

#[test]
fn departments_are_checked_against_the_policy() {
    use plaint_domain::policy::Policy;
    let policy = Policy::default();
    let rows = "1,01/05/2024 09:00,01/08/2024 09:00,,Open,,Phone,N,x,operations\n2,01/05/2024 09:00,01/08/2024 09:00,,Open,,Phone,N,x,Water\n";
    let csv = format!("{HEADER}\n{rows}");
    let p = plaint_import::plan_csv_for_policy(&mapping_with(""), csv.as_bytes(), &policy).unwrap();
    assert_one(&p, AnomalyKind::UnknownDepartment, 3, Decision::Reject);
    assert!(p.anomalies[0].reason.contains("Water"));
    assert_eq!(p.tickets.len(), 1);
}

#[test]
fn a_transfer_to_the_same_department() {
    let rows = "1,01/05/2024 09:00,01/08/2024 09:00,01/06/2024 09:00,Moved,,Phone,N,x,elsewhere\n";
    let p = plan("", rows);
    assert_one(&p, AnomalyKind::TransferToSameDepartment, 2, Decision::Reject);
    let p = plan("transfer_to_same_department = \"import\"", rows);
    assert_eq!(
        names(&p, 0),
        ["receive", "verify", "classify", "dispatch", "respond", "close"]
    );
}

#[test]
fn a_long_attribute_value_is_cut_when_imported() {
    let long = "é".repeat(200); // 400 bytes
    let rows = format!("1,01/05/2024 09:00,01/08/2024 09:00,,Open,,Phone,N,x,{long}\n");
    let p = plan("", &rows);
    let long_values: Vec<_> = p
        .anomalies
        .iter()
        .filter(|a| a.kind == AnomalyKind::LongValue)
        .collect();
    assert_eq!(
        long_values.len(),
        2,
        "department and the agency attribute: {long_values:#?}"
    );
    assert!(p.tickets.is_empty());
    let p = plan("long_value = \"import\"", &rows);
    let CommandBody::Receive(r) = &p.tickets[0].commands[0].body else {
        panic!()
    };
    assert_eq!(r.attributes["agency"].len(), 256);
}

#[test]
fn working_day_time_counts_whole_working_dates() {
    use plaint_domain::calendar::Calendar;
    use plaint_import::report::working_day_millis;
    let cal = Calendar::from_toml_str(include_str!("../../../examples/mappings/us-federal-2014.calendar.toml"))
        .expect("shipped calendar parses");
    // Local midnight in New York: -04:00 (EDT) until 2 November 2014, -05:00 (EST) after.
    let day = |d: u32, m: u32| {
        cal.instant(
            chrono::NaiveDate::from_ymd_opt(2014, m, d)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        )
    };
    assert_eq!(
        day(17, 10),
        Timestamp::parse_rfc3339("2014-10-17T00:00:00-04:00").unwrap()
    );
    assert_eq!(
        day(3, 11),
        Timestamp::parse_rfc3339("2014-11-03T00:00:00-05:00").unwrap()
    );
    let wd = |a, b| working_day_millis(&cal, a, b) / plaint_domain::MS_PER_DAY;
    assert_eq!(wd(day(17, 10), day(20, 10)), 1, "Friday → Monday");
    assert_eq!(wd(day(18, 10), day(20, 10)), 0, "Saturday → Monday");
    assert_eq!(wd(day(10, 10), day(14, 10)), 1, "Friday → Tuesday over Columbus Day");
    assert_eq!(wd(day(14, 10), day(16, 10)), 2);
    assert_eq!(wd(day(14, 10), day(14, 10)), 0);
    // Across the daylight-saving change (Sunday 2 November): still one whole working date.
    assert_eq!(wd(day(31, 10), day(3, 11)), 1, "Friday → Monday across the change");
    assert_eq!(wd(day(31, 10), day(4, 11)), 2);
}

#[test]
fn every_anomaly_kind_has_a_stable_name_and_states_its_fix() {
    use std::collections::HashSet;
    let mut names = HashSet::new();
    for kind in AnomalyKind::ALL {
        assert!(names.insert(kind.as_str()), "{kind} named twice");
        assert_eq!(AnomalyKind::from_name(kind.as_str()), Some(kind));
        let text = format!("{MINIMAL}[anomalies]\n{} = \"import\"\n", kind.as_str());
        match kind.fix() {
            Some(fix) => {
                assert!(!fix.is_empty());
                let m = Mapping::from_toml_str(&text).expect("importable kind");
                assert_eq!(m.decision(kind), Decision::Import);
            }
            None => assert!(Mapping::from_toml_str(&text).is_err(), "{kind} cannot be imported"),
        }
    }
    let summary = plaint_import::AnomalySummary::from_anomalies(&[]);
    assert_eq!(summary.to_string(), "no anomalies\n");
}
