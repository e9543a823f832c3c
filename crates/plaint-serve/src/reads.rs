//! The reads: tickets (now or `?as_of=`), history, audit, SLA (overall, at risk, per ticket),
//! the work queue, repeats, the weekly and monthly reports (JSON, CSV, HTML), stats, verify.
//!
//! Every figure comes from the facade; `now` is a query parameter (default: the engine's
//! clock). Instants in query parameters are RFC 3339 or a date (`2026-11-25`: the start of
//! that day in the office's time zone).

use crate::auth::{Need, Principal};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use plaint::reports::{week_of_date, GroupBy, IsoWeek, Month, Period};
use plaint::{AuditFilter, ComplaintId, Reveal, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// The query string, or a problem naming what is wrong with it.
fn query<T>(q: QueryResult<T>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::bad_request("query", e.body_text()))
}

/// An instant parameter: RFC 3339, or a date at the start of that day in the office's zone.
fn instant(state: &AppState, name: &str, text: &str) -> Result<Timestamp, ApiError> {
    if let Ok(t) = Timestamp::parse_rfc3339(text) {
        return Ok(t);
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
        return Ok(state.engine().calendar().instant(midnight));
    }
    Err(ApiError::bad_request(
        name,
        format!("{text:?} is not an instant; want RFC 3339 (2026-11-25T08:00:00+08:00) or a date (2026-11-25)"),
    ))
}

fn opt_instant(state: &AppState, name: &str, text: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    text.map(|t| instant(state, name, t)).transpose()
}

/// `?now=`, else the engine's clock.
fn now(state: &AppState, text: Option<&str>) -> Result<Timestamp, ApiError> {
    Ok(opt_instant(state, "now", text)?.unwrap_or_else(|| state.engine().now()))
}

/// A complaint id from the path; a system stream (tokens, reveals, erasures) is no complaint:
/// 404 (the auditor reads those through `/v1/audit?complaint=`).
fn complaint(text: &str) -> Result<ComplaintId, ApiError> {
    let id = ComplaintId::new(text).map_err(|e| ApiError::bad_request("complaint_id", e.to_string()))?;
    if id.is_reserved() {
        return Err(ApiError::not_found(format!(
            "{text} is a system stream of the log, not a complaint (an auditor reads it with /v1/audit?complaint={text})"
        )));
    }
    Ok(id)
}

/// Masked unless asked; a reveal is checked and recorded in the log first (auth.rs).
async fn reveal(
    state: &AppState,
    principal: &Principal,
    id: &ComplaintId,
    asked: Option<bool>,
) -> Result<Reveal, ApiError> {
    principal.reveal(state, id, asked).await
}

// ---------------------------------------------------------------------------------------------
// Tickets
// ---------------------------------------------------------------------------------------------

/// Filters of the ticket list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct TicketListQuery {
    /// Only tickets in this status (`received`, `verified`, …, `closed`).
    status: Option<String>,
    /// Only tickets the department holds now.
    department: Option<String>,
    /// Skip this many (in complaint id order).
    offset: Option<usize>,
    /// At most this many (default 100, at most 1000).
    limit: Option<usize>,
}

/// A page of tickets.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TicketPage {
    /// Tickets matching the filters.
    total: usize,
    /// Where this page starts.
    offset: usize,
    /// The tickets of this page (the ticket view, docs/json-format.md `ticket`, without
    /// personal fields).
    #[schema(value_type = Vec<Object>)]
    tickets: Vec<serde_json::Value>,
}

/// Tickets, optionally filtered by status or department.
#[utoipa::path(get, path = "/v1/tickets", tag = "reads", params(TicketListQuery),
    responses((status = 200, body = TicketPage), (status = 400, body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn list_tickets(
    State(state): State<AppState>,
    principal: Principal,
    q: QueryResult<TicketListQuery>,
) -> Result<Response, ApiError> {
    principal.allow(Need::Read)?;
    let q = query(q)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit", format!("{limit}; want 1 to 1000")));
    }
    let offset = q.offset.unwrap_or(0);
    let status = q.status.clone();
    let department = q.department.clone();
    let (total, page) = state
        .engine()
        .with_projections(|p| {
            let mut views: Vec<_> = p
                .tickets
                .state
                .views()
                .filter(|v| status.as_deref().is_none_or(|s| v.status.as_str() == s))
                .filter(|v| department.as_deref().is_none_or(|d| v.department() == Some(d)))
                .collect();
            views.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
            let total = views.len();
            let page: Vec<_> = views
                .into_iter()
                .skip(offset)
                .take(limit)
                .map(|v| ticket_json(serde_json::to_value(v).unwrap_or_default()))
                .collect();
            (total, page)
        })
        .await?;
    Ok(state.office().json(
        StatusCode::OK,
        &TicketPage {
            total,
            offset,
            tickets: page,
        },
    ))
}

/// Options of one ticket's read.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct TicketQuery {
    /// The ticket as it stood at this instant (business time).
    as_of: Option<String>,
    /// Personal fields in clear (needs the right to reveal).
    reveal: Option<bool>,
}

/// One ticket, now or as it stood at `as_of`.
#[utoipa::path(get, path = "/v1/tickets/{id}", tag = "reads",
    params(("id" = String, Path, description = "The complaint id"), TicketQuery),
    responses((status = 200, body = Object, description = "The ticket view with `personal`"),
        (status = 404, body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_ticket(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    q: QueryResult<TicketQuery>,
) -> Result<Response, ApiError> {
    principal.allow(Need::Read)?;
    let q = query(q)?;
    let id = complaint(&id)?;
    let reveal = reveal(&state, &principal, &id, q.reveal).await?;
    let ticket = match opt_instant(&state, "as_of", q.as_of.as_deref())? {
        Some(at) => match state.engine().ticket_as_of(&id, at, reveal).await {
            Err(plaint::EngineError::UnknownComplaint { .. }) => {
                return Err(ApiError::not_found(format!("complaint {id} did not exist yet at {at}")))
            }
            other => other?,
        },
        None => state.engine().ticket(&id, reveal).await?,
    };
    let doc = ticket_json(serde_json::to_value(&ticket).unwrap_or_default());
    Ok(state.office().json(StatusCode::OK, &doc))
}

/// A ticket's JSON as `plaint show --json` writes it (docs/json-format.md `ticket`): the view
/// with `complaint_id` for the id.
fn ticket_json(mut value: serde_json::Value) -> serde_json::Value {
    if let serde_json::Value::Object(map) = &mut value {
        if let Some(id) = map.remove("id") {
            map.insert("complaint_id".into(), id);
        }
    }
    value
}

/// Options of a history read.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevealQuery {
    /// Personal fields in clear (needs the right to reveal).
    reveal: Option<bool>,
}

/// Events, in the export shape (docs/json-format.md `event`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EventList {
    /// The events, in order.
    #[schema(value_type = Vec<Object>)]
    events: Vec<plaint::EventRecord>,
}

/// Every event of one complaint, in order.
#[utoipa::path(get, path = "/v1/tickets/{id}/history", tag = "reads",
    params(("id" = String, Path, description = "The complaint id"), RevealQuery),
    responses((status = 200, body = EventList), (status = 404, body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    q: QueryResult<RevealQuery>,
) -> Result<Response, ApiError> {
    principal.allow(Need::Read)?;
    let q = query(q)?;
    let id = complaint(&id)?;
    let reveal = reveal(&state, &principal, &id, q.reveal).await?;
    let mut events = Vec::new();
    for e in state.engine().history(&id).await? {
        events.push(state.engine().event_record(&e, reveal).await?);
    }
    Ok(state.office().json(StatusCode::OK, &EventList { events }))
}

/// The instant a report is judged at.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct NowQuery {
    /// The instant verdicts are judged at (default: the server's clock).
    now: Option<String>,
}

/// One ticket's SLA verdict per clock at `now`, with the deadlines it was judged against.
#[utoipa::path(get, path = "/v1/tickets/{id}/sla", tag = "reads",
    params(("id" = String, Path, description = "The complaint id"), NowQuery),
    responses((status = 200, body = Object, description = "Per clock: the deadline, the policy rule and version it came from, the calendar days skipped, the pauses and the verdict (as `plaint sla --ticket`)"),
        (status = 404, body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn ticket_sla(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    q: QueryResult<NowQuery>,
) -> Result<Response, ApiError> {
    principal.allow(Need::Read)?;
    let q = query(q)?;
    let id = complaint(&id)?;
    let now = now(&state, q.now.as_deref())?;
    let sla = state.engine().explain_sla(&id, now).await?;
    Ok(state.office().json(StatusCode::OK, &sla))
}

// ---------------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------------

/// Filters of the audit.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    /// Only events at or after this instant.
    from: Option<String>,
    /// Only events before this instant.
    to: Option<String>,
    /// Only events by this actor (`system` for the watchdog and imports).
    actor: Option<String>,
    /// Only events of this complaint.
    complaint: Option<String>,
    /// Filter on the recording time instead of the business time.
    by_recorded_time: Option<bool>,
    /// At most this many events (default 1000, at most 100000).
    limit: Option<usize>,
}

/// Events across all complaints: who did what, when.
#[utoipa::path(get, path = "/v1/audit", tag = "reads", params(AuditQuery),
    responses((status = 200, body = EventList), (status = 400, body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn audit(
    State(state): State<AppState>,
    principal: Principal,
    q: QueryResult<AuditQuery>,
) -> Result<Response, ApiError> {
    principal.allow(Need::Audit)?;
    let q = query(q)?;
    let limit = q.limit.unwrap_or(1000);
    if !(1..=100_000).contains(&limit) {
        return Err(ApiError::bad_request("limit", format!("{limit}; want 1 to 100000")));
    }
    let filter = AuditFilter {
        from: opt_instant(&state, "from", q.from.as_deref())?,
        to: opt_instant(&state, "to", q.to.as_deref())?,
        actor: q.actor.clone(),
        complaint: q.complaint.as_deref().map(complaint).transpose()?,
        by_recorded_time: q.by_recorded_time.unwrap_or(false),
        limit,
    };
    // The facade's audit scan is not `Send` (it hands events to a `dyn FnMut`): it runs on a
    // blocking thread of its own.
    let scan = state.clone();
    let runtime = tokio::runtime::Handle::current();
    let found = tokio::task::spawn_blocking(move || runtime.block_on(scan.engine().audit(&filter)))
        .await
        .map_err(|e| ApiError::internal(format!("the audit scan failed: {e}")))?;
    let found = match found {
        Err(plaint::EngineError::UnknownComplaint { .. }) => Vec::new(),
        other => other?,
    };
    let mut events = Vec::with_capacity(found.len());
    for e in &found {
        events.push(state.engine().event_record(e, Reveal::Masked).await?);
    }
    Ok(state.office().json(StatusCode::OK, &EventList { events }))
}

// ---------------------------------------------------------------------------------------------
// SLA, queue, repeats
// ---------------------------------------------------------------------------------------------

/// Options of the SLA report.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SlaQuery {
    /// The instant verdicts are judged at (default: the server's clock).
    now: Option<String>,
    /// Group by `severity`, `customer_tier`, `category`, `channel`, `department`, `region`,
    /// `week` or `attribute:KEY`.
    group_by: Option<String>,
    /// Only tickets received at or after this instant (with `to`).
    from: Option<String>,
    /// Only tickets received before this instant (with `from`).
    to: Option<String>,
}

/// The SLA report: verdicts, on-time rates, response and resolution times per clock.
#[utoipa::path(get, path = "/v1/sla", tag = "reads", params(SlaQuery),
    responses((status = 200, body = Object), (status = 400, body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn sla(
    State(state): State<AppState>,
    principal: Principal,
    q: QueryResult<SlaQuery>,
) -> Result<Response, ApiError> {
    principal.allow(Need::Report)?;
    let q = query(q)?;
    let now = now(&state, q.now.as_deref())?;
    let group_by = q
        .group_by
        .as_deref()
        .map(|g| {
            GroupBy::parse(g).ok_or_else(|| {
                ApiError::bad_request(
                    "group_by",
                    format!("{g:?}; want severity, customer_tier, category, channel, department, region, week or attribute:KEY"),
                )
            })
        })
        .transpose()?;
    let received = match (
        opt_instant(&state, "from", q.from.as_deref())?,
        opt_instant(&state, "to", q.to.as_deref())?,
    ) {
        (Some(f), Some(t)) => Some((f, t)),
        (None, None) => None,
        (Some(_), None) => return Err(ApiError::bad_request("to", "missing; from and to go together")),
        (None, Some(_)) => return Err(ApiError::bad_request("from", "missing; from and to go together")),
    };
    let report = state.engine().sla_report(now, group_by.as_ref(), received).await?;
    Ok(state.office().json(StatusCode::OK, &report))
}

/// Clocks at risk or overdue at `now`.
#[utoipa::path(get, path = "/v1/sla/at-risk", tag = "reads", params(NowQuery),
    responses((status = 200, body = Object), (status = 400, body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn at_risk(
    State(state): State<AppState>,
    principal: Principal,
    q: QueryResult<NowQuery>,
) -> Result<Response, ApiError> {
    principal.allow(Need::Read)?;
    let q = query(q)?;
    let now = now(&state, q.now.as_deref())?;
    let list = state.engine().at_risk(now).await?;
    Ok(state.office().json(StatusCode::OK, &list))
}

/// Options of the queue.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueueQuery {
    /// The instant deadlines are judged at (default: the server's clock).
    now: Option<String>,
    /// Only tickets the department holds now.
    department: Option<String>,
    /// Only tickets assigned to this handler now.
    handler: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<usize>,
}

/// One open ticket in the queue (the facade's `plaint::desk::QueueEntry`, as `plaint queue`
/// shows it).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct QueueEntry {
    complaint_id: String,
    status: String,
    /// The department holding it (none before routing).
    department: Option<String>,
    /// The handler it is assigned to now.
    handler: Option<String>,
    /// 首问负责制: who owns it until it is closed.
    owner: Option<String>,
    /// `ordinary`, `urgent` or `major`, once classified.
    severity: Option<String>,
    #[schema(value_type = String)]
    received_at: Timestamp,
    /// When the pending clock due first is due.
    #[schema(value_type = Option<String>)]
    next_due_at: Option<Timestamp>,
    /// That clock.
    next_clock: Option<String>,
    /// `overdue`, `at_risk`, `on_track` or `no_clock`.
    urgency: String,
    /// A running clock is past its at-risk share.
    at_risk: bool,
    /// A running clock is past its deadline.
    overdue: bool,
    /// How far past due, in milliseconds, when overdue.
    overdue_ms: Option<i64>,
    /// The escalation level reached, when escalated.
    escalation_level: Option<String>,
}

/// The work queue.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Queue {
    #[schema(value_type = String)]
    now: Timestamp,
    /// The policy that judged at-risk clocks.
    policy_version: String,
    /// Open tickets matching the filter.
    total: usize,
    /// Of those, overdue.
    overdue: u64,
    /// Of those, at risk (not overdue).
    at_risk: u64,
    /// By the next deadline, earliest first (so overdue first); tickets without a running clock last.
    entries: Vec<QueueEntry>,
}

/// The open tickets by next deadline, as `plaint queue` lists them (the facade's `Engine::queue`).
#[utoipa::path(get, path = "/v1/queue", tag = "reads", params(QueueQuery),
    responses((status = 200, body = Queue), (status = 400, body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn queue(
    State(state): State<AppState>,
    principal: Principal,
    q: QueryResult<QueueQuery>,
) -> Result<Response, ApiError> {
    principal.allow(Need::Read)?;
    let q = query(q)?;
    let now = now(&state, q.now.as_deref())?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit", format!("{limit}; want 1 to 1000")));
    }
    let filter = plaint::reports::QueueFilter {
        department: q.department.clone(),
        handler: q.handler.clone(),
    };
    let desk = state.engine().queue(now, &filter).await?;
    let total = desk.tickets.len();
    let entries = desk
        .tickets
        .into_iter()
        .take(limit)
        .map(|t| QueueEntry {
            complaint_id: t.complaint_id.to_string(),
            status: t.status,
            department: t.department,
            handler: t.handler,
            owner: t.owner,
            severity: t.severity,
            received_at: t.received_at,
            next_due_at: t.due_at,
            next_clock: t.clock.map(|c| c.as_str().to_owned()),
            urgency: t.urgency.as_str().to_owned(),
            at_risk: t.urgency == plaint::reports::Urgency::AtRisk,
            overdue: t.urgency == plaint::reports::Urgency::Overdue,
            overdue_ms: t.overdue_ms,
            escalation_level: t.escalation_level.map(|l| l.as_str().to_owned()),
        })
        .collect();
    let answer = Queue {
        now,
        policy_version: desk.policy_version,
        total,
        overdue: desk.overdue,
        at_risk: desk.at_risk,
        entries,
    };
    Ok(state.office().json(StatusCode::OK, &answer))
}

/// The period of the repeats report.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeriodQuery {
    /// Tickets received at or after this instant (default: the beginning).
    from: Option<String>,
    /// Tickets received before this instant (default: now).
    to: Option<String>,
}

/// Repeat complaints: the repeat rate and the links.
#[utoipa::path(get, path = "/v1/repeats", tag = "reads", params(PeriodQuery),
    responses((status = 200, body = Object), (status = 400, body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn repeats(
    State(state): State<AppState>,
    principal: Principal,
    q: QueryResult<PeriodQuery>,
) -> Result<Response, ApiError> {
    principal.allow(Need::Report)?;
    let q = query(q)?;
    let from = opt_instant(&state, "from", q.from.as_deref())?.unwrap_or(Timestamp::EPOCH);
    let to = opt_instant(&state, "to", q.to.as_deref())?.unwrap_or_else(|| state.engine().now().plus_millis(1));
    if from >= to {
        return Err(ApiError::bad_request(
            "from",
            format!("the period [{from}, {to}) is empty"),
        ));
    }
    let report = state.engine().repeats_report(from, to).await?;
    Ok(state.office().json(StatusCode::OK, &report))
}

// ---------------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------------

/// Options of a report.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportQuery {
    /// The period: for weekly an ISO week (`2026-W38`) or a date in it, for monthly `2026-09`
    /// or a date in it; default: the period of `now`.
    period: Option<String>,
    /// The instant SLA verdicts and alerts are judged at (default: the server's clock).
    now: Option<String>,
    /// `json` (default), `csv` (all sections, one after the other) or `html` (the
    /// self-contained page); an `Accept` of `text/csv` or `text/html` chooses too.
    format: Option<String>,
}

/// The weekly or monthly complaint report.
#[utoipa::path(get, path = "/v1/reports/{kind}", tag = "reports",
    params(("kind" = String, Path, description = "`weekly` or `monthly`"), ReportQuery),
    responses((status = 200, body = Object, description = "JSON (`sections`, and `report` for weekly); text/csv; text/html"),
        (status = 400, body = crate::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn report(
    State(state): State<AppState>,
    principal: Principal,
    Path(kind): Path<String>,
    headers: HeaderMap,
    q: QueryResult<ReportQuery>,
) -> Result<Response, ApiError> {
    principal.allow(Need::Report)?;
    let q = query(q)?;
    let now = now(&state, q.now.as_deref())?;
    let local_today = state.engine().calendar().time_zone().local(now).date();
    let period = match kind.as_str() {
        "weekly" => Period::Week(match q.period.as_deref() {
            None => week_of_date(local_today),
            Some(text) => text
                .parse::<IsoWeek>()
                .or_else(|_| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map(week_of_date))
                .map_err(|_| {
                    ApiError::bad_request(
                        "period",
                        format!("{text:?}; want an ISO week (2026-W38) or a date in it"),
                    )
                })?,
        }),
        "monthly" => {
            use chrono::Datelike;
            let date = match q.period.as_deref() {
                None => local_today,
                Some(text) => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .or_else(|_| chrono::NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d"))
                    .map_err(|_| {
                        ApiError::bad_request("period", format!("{text:?}; want a month (2026-09) or a date in it"))
                    })?,
            };
            Period::Month(Month {
                year: date.year(),
                month: date.month(),
            })
        }
        other => {
            return Err(ApiError::not_found(format!(
                "no report {other:?}; reports are weekly and monthly"
            )))
        }
    };
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = match q.format.as_deref() {
        Some(f @ ("json" | "csv" | "html")) => f,
        Some(other) => {
            return Err(ApiError::bad_request(
                "format",
                format!("{other:?}; want json, csv or html"),
            ))
        }
        None if accept.contains("text/html") => "html",
        None if accept.contains("text/csv") => "csv",
        None => "json",
    };
    let report = state.engine().period_report(period, now).await?;
    let text = |ct: &'static str, body: String| {
        let mut r = (StatusCode::OK, body).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        r
    };
    Ok(match format {
        "html" => text("text/html; charset=utf-8", plaint::report_html::render(&report)),
        "csv" => text("text/csv; charset=utf-8", plaint::report_csv::single_file(&report)),
        _ => {
            let mut doc = json!({ "kind": format!("{}_report", report.kind), "sections": &report });
            if let Some(weekly) = &report.weekly {
                doc["report"] = serde_json::to_value(weekly).unwrap_or_default();
            }
            state.office().json(StatusCode::OK, &doc)
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Stats, verify
// ---------------------------------------------------------------------------------------------

/// Size figures of the store and how far the calendar reaches.
#[utoipa::path(get, path = "/v1/stats", tag = "reads",
    responses((status = 200, body = Object, description = "head_position, events, streams, bytes, head, calendar")))]
pub(crate) async fn stats(State(state): State<AppState>, principal: Principal) -> Result<Response, ApiError> {
    principal.allow(Need::Report)?;
    let stats = state.engine().stats().await?;
    let mut doc = serde_json::to_value(&stats).unwrap_or_default();
    doc["calendar"] = serde_json::to_value(state.engine().calendar_coverage()).unwrap_or_default();
    Ok(state.office().json(StatusCode::OK, &doc))
}

/// What a verification found.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Verified {
    /// `true`: checksums, positions, the hash chain and the vault are sound.
    ok: bool,
    events: u64,
    head_position: u64,
    streams: u64,
    /// The chain value after the last event (hex).
    chain_head: String,
    bytes: u64,
}

/// Re-reads the whole log and the vault: checksums, positions, the hash chain. Damage is a
/// problem document (500, `/problems/damaged`) naming the position or offset.
#[utoipa::path(get, path = "/v1/verify", tag = "reads",
    responses((status = 200, body = Verified), (status = 500, body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn verify(State(state): State<AppState>, principal: Principal) -> Result<Response, ApiError> {
    principal.allow(Need::Audit)?;
    let r = state.engine().verify().await?;
    Ok(state.office().json(
        StatusCode::OK,
        &Verified {
            ok: true,
            events: r.events,
            head_position: r.head_position,
            streams: r.streams,
            chain_head: plaint::chain_hex(&r.chain_head),
            bytes: r.bytes,
        },
    ))
}
