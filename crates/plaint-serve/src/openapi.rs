//! The OpenAPI 3.1 document, generated from the handlers' annotations (utoipa), served at
//! `/v1/openapi.json` so a Java or Python back office can generate its client.

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use utoipa::OpenApi;

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "plaint",
        description = "The plaint complaint engine over HTTP/JSON (docs/serve.md). Errors are RFC 9457 problem documents; instants are RFC 3339 with the office's offset.",
    ),
    paths(
        crate::commands::post_commands,
        crate::reads::list_tickets,
        crate::reads::get_ticket,
        crate::reads::history,
        crate::reads::ticket_sla,
        crate::reads::audit,
        crate::reads::sla,
        crate::reads::at_risk,
        crate::reads::queue,
        crate::reads::repeats,
        crate::reads::report,
        crate::reads::stats,
        crate::reads::verify,
        crate::events::events,
        crate::ops::healthz,
        crate::ops::readyz,
        crate::ops::metrics,
        openapi_json,
    ),
    components(schemas(crate::Problem)),
    tags(
        (name = "commands", description = "Commands: the only way anything changes"),
        (name = "reads", description = "Tickets, histories, audit, SLA, queue, repeats, stats, verification"),
        (name = "reports", description = "The weekly and monthly reports as JSON, CSV or HTML"),
        (name = "events", description = "The live event stream (Server-Sent Events)"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// `GET /v1/openapi.json`: this document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub(crate) async fn openapi_json(State(state): State<AppState>) -> Response {
    state.office().json(StatusCode::OK, &ApiDoc::openapi())
}
