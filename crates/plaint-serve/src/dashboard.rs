//! The dashboard page at `/` (docs/serve.md "Dashboard"): the work queue and the weekly report,
//! refreshed live from the event stream. One self-contained page (inline CSS and script, no
//! CDN, no fetch outside this server: its Content-Security-Policy says so). It holds no data
//! itself, so it is served without a token; its script calls the API with the token given in
//! the address's fragment (`/#token=…`, never sent to the server) or typed into its form, and
//! keeps it in the tab's session storage. Query parameters `now`, `period` and `department`
//! pass through to `/v1/queue` and `/v1/reports/weekly`.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The page.
pub const DASHBOARD_HTML: &str = include_str!("dashboard.html");

/// `GET /`: the dashboard page.
pub(crate) async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; form-action 'none'; frame-ancestors 'none'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        DASHBOARD_HTML,
    )
        .into_response()
}
