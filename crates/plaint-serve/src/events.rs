//! `GET /v1/events`: committed events as Server-Sent Events, live.
//!
//! Each SSE event's `id` is the event's global position, its `event` the event type, its
//! `data` the event in the export shape (docs/json-format.md `event`, personal fields sealed).
//! A client that lost its connection reconnects with `Last-Event-ID: POSITION` (browsers do it
//! by themselves) and receives exactly the events after it: no gap, no duplicate, because
//! positions are gapless and the subscription reads the log from that position on.

use crate::auth::{Need, Principal};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use plaint::{ComplaintId, Event, EventData, EventSubscription, Reveal};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use utoipa::IntoParams;

/// Where the stream starts and what it carries.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// The first global position to send (default: the log's next event, i.e. live only; 1 =
    /// the beginning). `Last-Event-ID` wins: the stream resumes after that position.
    from: Option<u64>,
    /// Only events of these complaints (comma-separated ids).
    complaint: Option<String>,
    /// Only events of these types (comma-separated: `Received,Dispatched`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    event_type: Option<String>,
    /// Only events of complaints the department held when the event happened (a transfer
    /// counts for the department it goes to).
    department: Option<String>,
}

/// The live event stream (Server-Sent Events), resumable with `Last-Event-ID`.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventsQuery,
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this position")),
    responses((status = 200, description = "text/event-stream: `id` the position, `event` the type, `data` the event (docs/json-format.md)", content_type = "text/event-stream", body = String),
        (status = 400, body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn events(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    q: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    principal.allow(Need::Read)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let resume = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::bad_request("Last-Event-ID", format!("{v:?} is not a position (a whole number)"))
                })?,
        ),
        None => None,
    };
    let from = match (resume, q.from) {
        (Some(last), _) => last + 1,
        (None, Some(from)) => from.max(1),
        (None, None) => state.engine().head_position().await? + 1,
    };
    let complaints = match &q.complaint {
        Some(list) => Some(
            list.split(',')
                .map(|c| ComplaintId::new(c.trim()).map_err(|e| ApiError::bad_request("complaint", e.to_string())))
                .collect::<Result<HashSet<_>, _>>()?,
        ),
        None => None,
    };
    let types: Option<HashSet<String>> = q
        .event_type
        .as_deref()
        .map(|t| t.split(',').map(|s| s.trim().to_owned()).collect());
    let subscription = state.engine().subscribe(from).await?;
    let feed = Feed {
        state: state.clone(),
        subscription,
        complaints,
        types,
        department: q.department.clone(),
        departments: HashMap::new(),
        shutdown: state.shutdown_signal(),
        done: false,
    };
    tracing::info!(from, "event stream opened");
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        let item = feed.next_sse().await?;
        Some((item, feed))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

/// One client's feed.
struct Feed {
    state: AppState,
    subscription: EventSubscription,
    complaints: Option<HashSet<ComplaintId>>,
    types: Option<HashSet<String>>,
    department: Option<String>,
    /// The department holding each complaint seen so far (when filtering by department).
    departments: HashMap<ComplaintId, Option<String>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    done: bool,
}

impl Feed {
    /// The next SSE event to send; `None` ends the stream (shutdown, store closed, an error
    /// sent as a final `error` event).
    async fn next_sse(&mut self) -> Option<Result<SseEvent, std::convert::Infallible>> {
        if self.done {
            return None;
        }
        loop {
            let item = tokio::select! {
                _ = self.shutdown.wait_for(|down| *down) => return None,
                item = self.subscription.next() => item?,
            };
            let event = match item {
                Ok(e) => e,
                Err(e) => return Some(Ok(self.fail(e.to_string()))),
            };
            match self.wanted(&event).await {
                Ok(false) => continue,
                Ok(true) => {}
                Err(e) => return Some(Ok(self.fail(e.to_string()))),
            }
            let record = match self.state.engine().event_record(&event, Reveal::Masked).await {
                Ok(r) => r,
                Err(e) => return Some(Ok(self.fail(e.to_string()))),
            };
            let mut data = serde_json::to_value(&record).unwrap_or_default();
            self.state.office().localise(&mut data);
            let sse = SseEvent::default()
                .id(event.meta.position.to_string())
                .event(event.data.type_name())
                .data(data.to_string());
            return Some(Ok(sse));
        }
    }

    /// A final `error` event; the stream ends after it (the client reconnects with
    /// `Last-Event-ID`).
    fn fail(&mut self, detail: String) -> SseEvent {
        tracing::error!(%detail, "event stream failed");
        self.done = true;
        let problem = ApiError::internal(format!("event stream: {detail}")).problem;
        SseEvent::default()
            .event("error")
            .data(serde_json::to_string(&problem).unwrap_or_default())
    }

    async fn wanted(&mut self, event: &Event) -> Result<bool, plaint::EngineError> {
        let id = &event.meta.complaint_id;
        if self.complaints.as_ref().is_some_and(|c| !c.contains(id)) {
            return Ok(false);
        }
        if self.types.as_ref().is_some_and(|t| !t.contains(event.data.type_name())) {
            return Ok(false);
        }
        let Some(want) = self.department.clone() else {
            return Ok(true);
        };
        if !self.departments.contains_key(id) {
            // First sight of this complaint: who held it just before this event.
            let mut held = None;
            if event.meta.stream_version > 1 {
                for e in self.state.engine().history(id).await? {
                    if e.meta.stream_version >= event.meta.stream_version {
                        break;
                    }
                    held = holder_after(&e).or(held);
                }
            }
            self.departments.insert(id.clone(), held);
        }
        let entry = self.departments.get_mut(id).expect("inserted above");
        if let Some(d) = holder_after(event) {
            *entry = Some(d);
        }
        Ok(entry.as_deref() == Some(want.as_str()))
    }
}

/// The department an event hands the complaint to, if it does.
fn holder_after(e: &Event) -> Option<String> {
    match &e.data {
        EventData::Dispatched(d) => Some(d.department.0.clone()),
        EventData::Redispatched(r) => Some(r.to.0.clone()),
        _ => None,
    }
}
