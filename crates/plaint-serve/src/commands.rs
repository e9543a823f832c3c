//! `POST /v1/commands`: one command (a JSON object) or a batch (a JSON array), in the import
//! format (docs/import-format.md). The command id is the idempotency key: a retry with the same
//! id and body returns the original positions and writes nothing.
//!
//! The answer to a single command carries what a client needs to be exactly-once (the command
//! id, the outcome, the positions, the stream version); the committed events themselves, in
//! the export shape, only when asked (`?events=true`): encoding them cost more than the rest of
//! the request (docs/PERFORMANCE.md, "`plaint serve` under load").

use crate::auth::Principal;
use crate::error::ApiError;
use crate::group::{original_positions, Done, Failed};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use plaint::{Command, CommandOutcome, EngineError, EventRecord, Executed, Reveal};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use utoipa::ToSchema;

/// What one command did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommandResult {
    /// The command's position in the request (0 for a single command).
    pub index: usize,
    /// The complaint addressed.
    pub complaint_id: String,
    /// The command's id (the idempotency key).
    pub command_id: String,
    /// `committed` (events written now), `deduplicated` (the id was executed before: the
    /// positions are the original ones, nothing written), `no_op` (accepted, nothing to record)
    /// or `rejected` (see `problem`; nothing written for it).
    pub outcome: String,
    /// The global positions of the command's events (the original ones for a retry).
    pub positions: Vec<u64>,
    /// The complaint's stream version after the command (single commands).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_version: Option<u64>,
    /// The committed events (single commands, with `?events=true`), in the export shape
    /// (docs/json-format.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub events: Option<Vec<EventRecord>>,
    /// Why the command was refused (batches; a single command's refusal is the answer itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<crate::Problem>,
}

/// What a batch did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResult {
    /// One result per command, in request order.
    pub results: Vec<CommandResult>,
    /// Commands whose events were committed.
    pub committed: usize,
    /// Commands recognised by their id as executed before.
    pub deduplicated: usize,
    /// Commands refused (nothing written for them).
    pub rejected: usize,
    /// The log's last committed position after the batch.
    pub head_position: u64,
}

/// The query of `POST /v1/commands`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CommandsQuery {
    /// `true`: a single command's answer also carries its committed events (export shape).
    events: Option<bool>,
}

/// Executes one command or a batch.
#[utoipa::path(
    post, path = "/v1/commands", tag = "commands",
    params(("events" = Option<bool>, Query, description = "`true`: a single command's answer also carries the committed events in the export shape (docs/json-format.md); default `false`")),
    request_body(content = Object, description = "One command (object) or a batch (array), in the import format (docs/import-format.md)", content_type = "application/json"),
    responses(
        (status = 201, description = "Committed", body = CommandResult),
        (status = 200, description = "A retry of an executed command id (original positions; nothing written), a command with nothing to record, or a batch (per-command results)", body = BatchResult),
        (status = 400, description = "Malformed JSON", body = crate::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Refused by the complaint's state (illegal transition, command id reused for another command)", body = crate::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid command (field, department, ceiling)", body = crate::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn post_commands(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<CommandsQuery>, axum::extract::rejection::QueryRejection>,
    NotJson(not_json): NotJson,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| crate::ops::body_problem(e, state.config().body_limit))?;
    let Query(query) = query
        .map_err(|e| ApiError::bad_request("events", format!("{}; want events=true or events=false", e.body_text())))?;
    if let Some(ct) = not_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            format!("Content-Type {ct:?}: commands are JSON (application/json)"),
        ));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::bad_request("body", format!("not UTF-8 ({e}); JSON is UTF-8")))?;
    let first = text.chars().find(|c| !c.is_whitespace());
    match first {
        None => Err(ApiError::bad_request(
            "body",
            "empty; want a command (object) or a batch (array)",
        )),
        Some('[') => {
            let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(text).map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed-json",
                    "Malformed JSON",
                    format!(
                        "the body is not a JSON array of commands (line {} column {}): {e}",
                        e.line(),
                        e.column()
                    ),
                )
            })?;
            if items.is_empty() {
                return Err(ApiError::bad_request(
                    "body",
                    "an empty batch; send at least one command",
                ));
            }
            let mut cmds = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                let cmd = parse(item.get(), Some(index))?;
                principal.allow_command(&cmd.body)?;
                cmds.push(cmd);
            }
            // Boxed: its future holds the engine's batch future, far larger than a single
            // command's path; axum moves every handler future into a box of its size.
            Box::pin(batch(&state, cmds)).await
        }
        Some(_) => {
            let cmd = parse(text, None)?;
            principal.allow_command(&cmd.body)?;
            single(&state, cmd, query.events.unwrap_or(false)).await
        }
    }
}

/// The request's `Content-Type` when it names no JSON (`None`: JSON, or no `Content-Type`):
/// the one header the route reads, judged where it lies (the `HeaderMap` extractor copies
/// every header of every request; a copy of this one is made only to name it in a 415).
pub(crate) struct NotJson(Option<String>);

impl<S: Sync> axum::extract::FromRequestParts<S> for NotJson {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::CONTENT_TYPE) else {
            return Ok(NotJson(None));
        };
        let ct = value.to_str().unwrap_or("");
        let json = ct.starts_with("application/json") || ct.ends_with("+json");
        Ok(NotJson((!json).then(|| ct.to_owned())))
    }
}

/// One command from its JSON text (the import format, read exactly as `plaint submit` and
/// `plaint import` read it), with errors naming the field; `index` within a batch.
fn parse(text: &str, index: Option<usize>) -> Result<Command, ApiError> {
    let e = match crate::lines::parse_command(1, text) {
        Ok(cmd) => return Ok(cmd),
        Err(e) => e,
    };
    let at = index.map(|i| format!("command [{i}]: ")).unwrap_or_default();
    let mut problem = match &e.field {
        None if e.reason.starts_with("not valid JSON") => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "Malformed JSON",
            format!("{at}{}", e.reason),
        ),
        None => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-command",
            "Invalid command",
            format!("{at}{}", e.reason),
        ),
        Some(field) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-command",
            "Invalid command",
            format!("{at}field `{field}`: {}", e.reason),
        )
        .with_field(field.clone()),
    };
    problem.problem.index = index;
    Err(problem)
}

/// A single command: committed in a group with the other single commands in flight
/// (group.rs), or on its own when its answer carries its events (`?events=true`).
async fn single(state: &AppState, cmd: Command, with_events: bool) -> Result<Response, ApiError> {
    let kind = cmd.body.name();
    // Kept for the answer (the command itself goes to the group): two short copies.
    let command_id = cmd.command_id.clone();
    let complaint_id = cmd.complaint_id.clone();
    let started = Instant::now();
    let done = if with_events {
        // Boxed, as the batch: the rare path's large futures stay out of every request's.
        Box::pin(execute_with_events(state, cmd)).await
    } else {
        state.grouper().execute(cmd).await.map(|done| (done, None))
    };
    crate::ops::record_append(started.elapsed());
    let (done, events) = match done {
        Ok(done) => done,
        Err(Failed::Engine(e)) => {
            crate::ops::record_command(kind, outcome_of_error(&e));
            return Err(ApiError::from(e).with_instance(format!("/v1/commands#{command_id}")));
        }
        Err(Failed::Lost) => {
            crate::ops::record_command(kind, "error");
            return Err(ApiError::internal(format!(
                "command {command_id}: the server stopped while committing it; retry with the same command id to learn its outcome"
            )));
        }
    };
    let outcome = if done.deduplicated {
        "deduplicated"
    } else if done.positions.is_empty() {
        "no_op"
    } else {
        "committed"
    };
    crate::ops::record_command(kind, outcome);
    let status = if outcome == "committed" {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let Some(executed) = events else {
        // No instant in the answer: written directly, without the office's rewrite pass.
        let body = single_answer(complaint_id.as_str(), command_id.as_str(), outcome, &done);
        return Ok(json_body(status, body));
    };
    let events = Box::pin(event_records(state, &executed)).await?;
    let result = CommandResult {
        index: 0,
        complaint_id: complaint_id.into(),
        command_id: command_id.into(),
        outcome: outcome.to_owned(),
        positions: done.positions,
        stream_version: Some(done.stream_version),
        events: Some(events),
        problem: None,
    };
    // The events carry instants: written at the office's offset.
    Ok(state.office().json(status, &result))
}

async fn batch(state: &AppState, cmds: Vec<Command>) -> Result<Response, ApiError> {
    let started = Instant::now();
    let out = state.engine().execute_batch(&cmds).await;
    crate::ops::record_append(started.elapsed());
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            for cmd in &cmds {
                crate::ops::record_command(cmd.body.name(), outcome_of_error(&e));
            }
            return Err(e.into());
        }
    };
    let mut results = Vec::with_capacity(cmds.len());
    for (index, (cmd, outcome)) in cmds.iter().zip(&out.outcomes).enumerate() {
        let (name, positions, problem) = match outcome {
            CommandOutcome::Committed {
                first_position,
                last_position,
            } => ("committed", (*first_position..=*last_position).collect(), None),
            CommandOutcome::NoOp => ("no_op", Vec::new(), None),
            CommandOutcome::Deduplicated => (
                "deduplicated",
                original_positions(state.engine(), &cmd.complaint_id, &cmd.command_id).await?,
                None,
            ),
            CommandOutcome::Rejected { rejection, .. } => {
                let mut p = ApiError::rejection(rejection).problem;
                p.index = Some(index);
                ("rejected", Vec::new(), Some(*p))
            }
        };
        crate::ops::record_command(cmd.body.name(), name);
        results.push(CommandResult {
            index,
            complaint_id: cmd.complaint_id.to_string(),
            command_id: cmd.command_id.to_string(),
            outcome: name.to_owned(),
            positions,
            stream_version: None,
            events: None,
            problem,
        });
    }
    let result = BatchResult {
        results,
        committed: out.committed,
        deduplicated: out.deduplicated,
        rejected: out.rejected,
        head_position: out.head_position,
    };
    Ok(state.office().json(StatusCode::OK, &result))
}

/// The events `executed` committed, in the export shape (personal fields masked).
async fn event_records(state: &AppState, executed: &Executed) -> Result<Vec<EventRecord>, ApiError> {
    let mut events = Vec::with_capacity(executed.events.len());
    for e in &executed.events {
        events.push(state.engine().event_record(e, Reveal::Masked).await?);
    }
    Ok(events)
}

/// One command executed on its own, with its events (the original ones for a retry).
async fn execute_with_events(state: &AppState, cmd: Command) -> Result<(Done, Option<Executed>), Failed> {
    let done = state.engine().execute(cmd).await.map_err(Failed::Engine)?;
    Ok((Done::of_executed(&done), Some(done)))
}

/// The answer to a single command without its events: [`CommandResult`]'s shape (same keys,
/// same order; the test `single_answers_are_the_serialised_result` compares the bytes),
/// borrowing what it names instead of building the result's owned strings first.
#[derive(Serialize)]
struct SingleAnswer<'a> {
    index: usize,
    complaint_id: &'a str,
    command_id: &'a str,
    outcome: &'a str,
    positions: &'a [u64],
    stream_version: u64,
}

/// [`SingleAnswer`] written into one pre-sized buffer.
fn single_answer(complaint_id: &str, command_id: &str, outcome: &str, done: &Done) -> Vec<u8> {
    let answer = SingleAnswer {
        index: 0,
        complaint_id,
        command_id,
        outcome,
        positions: &done.positions,
        stream_version: done.stream_version,
    };
    let mut out = Vec::with_capacity(112 + complaint_id.len() + command_id.len() + 21 * done.positions.len());
    serde_json::to_writer(&mut out, &answer).expect("an answer is written to a Vec without fail");
    out
}

/// A JSON body as the answer.
fn json_body(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// The metrics label of a failed command.
fn outcome_of_error(e: &EngineError) -> &'static str {
    match e {
        EngineError::Rejected(_) => "rejected",
        EngineError::Contended { .. } => "contended",
        // Its key erased meanwhile (another process): refused, nothing written.
        _ if e.erased_key().is_some() => "rejected",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::{single_answer, CommandResult, Done};

    /// The bytes `plain_json` wrote before: `serde_json::to_vec` of the whole result.
    fn serialised(complaint_id: &str, command_id: &str, outcome: &str, done: &Done) -> Vec<u8> {
        serde_json::to_vec(&CommandResult {
            index: 0,
            complaint_id: complaint_id.to_owned(),
            command_id: command_id.to_owned(),
            outcome: outcome.to_owned(),
            positions: done.positions.clone(),
            stream_version: Some(done.stream_version),
            events: None,
            problem: None,
        })
        .unwrap()
    }

    #[test]
    fn single_answers_are_the_serialised_result() {
        let cases = [
            ("CMP-2026-000123", "hotline-1", "committed", vec![4711], 1),
            (
                "CMP-2026-000123",
                "c/2:x.y_z",
                "committed",
                vec![0, 1, u64::MAX],
                u64::MAX,
            ),
            ("投诉-上海-1", "命令-1", "deduplicated", vec![12, 13], 7),
            ("CMP-1", "quote\"back\\slash\u{1}", "no_op", vec![], 0),
        ];
        for (complaint, command, outcome, positions, stream_version) in cases {
            let done = Done {
                deduplicated: outcome == "deduplicated",
                positions,
                stream_version,
            };
            let direct = single_answer(complaint, command, outcome, &done);
            assert_eq!(
                String::from_utf8(direct).unwrap(),
                String::from_utf8(serialised(complaint, command, outcome, &done)).unwrap()
            );
        }
    }
}
