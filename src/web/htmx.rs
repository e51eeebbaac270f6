//! htmx request/response conventions used across handlers.

use poem::Request;

/// True when htmx sent the request (it sets `HX-Request: true`); such requests get fragments.
pub fn is_htmx(req: &Request) -> bool {
    req.header("HX-Request") == Some("true")
}

/// Where error and flash fragments are swapped in.
pub const TOAST_TARGET: &str = "#toasts";
