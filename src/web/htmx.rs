//! htmx request/response conventions used across handlers.

use poem::Request;

/// True when htmx sent the request (it sets `HX-Request: true`); such requests get fragments.
pub fn is_htmx(req: &Request) -> bool {
    req.header("HX-Request") == Some("true")
}

/// Where error and flash fragments are swapped in.
pub const TOAST_TARGET: &str = "#toasts";

/// "Go to `to`": 303 for a plain form post, `HX-Redirect` for htmx (which does not follow a
/// 303 into a full page by itself).
pub fn redirect(to: &str) -> poem::Response {
    poem::Response::builder()
        .status(poem::http::StatusCode::SEE_OTHER)
        .header(poem::http::header::LOCATION, to)
        .header("HX-Redirect", to)
        .finish()
}
