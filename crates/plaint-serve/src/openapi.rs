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
        crate::tokens::list,
        crate::tokens::create,
        crate::tokens::revoke,
    ),
    components(schemas(crate::Problem)),
    tags(
        (name = "commands", description = "Commands: the only way anything changes"),
        (name = "reads", description = "Tickets, histories, audit, SLA, queue, repeats, stats, verification"),
        (name = "reports", description = "The weekly and monthly reports as JSON, CSV or HTML"),
        (name = "events", description = "The live event stream (Server-Sent Events)"),
        (name = "operations", description = "Health, readiness, metrics"),
        (name = "tokens", description = "API tokens, for the admin role"),
    )
)]
pub struct ApiDoc;

/// `GET /v1/openapi.json`: this document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub(crate) async fn openapi_json(State(state): State<AppState>) -> Response {
    state.office().json(StatusCode::OK, &ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document names the shapes of the answers: a client generator gets types, not `{}`.
    #[test]
    fn the_document_has_the_answer_schemas() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in [
            "Problem",
            "CommandResult",
            "BatchResult",
            "TicketPage",
            "Queue",
            "Readiness",
            "Verified",
        ] {
            assert!(
                schemas.contains_key(name),
                "{name} missing: {:?}",
                schemas.keys().collect::<Vec<_>>()
            );
        }
        let required = schemas["CommandResult"]["required"].as_array().unwrap();
        assert!(required.iter().any(|r| r == "positions"));
        // Query parameters are documented as such, and optional; path parameters are in the path.
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let name = p["name"].as_str().unwrap();
                    match p["in"].as_str().unwrap() {
                        "path" => assert!(path.contains(&format!("{{{name}}}")), "{method} {path}: {name}"),
                        "query" | "header" => assert_ne!(p["required"], true, "{method} {path}: {name}"),
                        other => panic!("{method} {path}: {name} in {other}"),
                    }
                }
            }
        }
    }
}
