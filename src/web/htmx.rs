//! htmx request/response conventions used across handlers.

use poem::Request;

/// True when htmx sent the request (it sets `HX-Request: true`); such requests get fragments.
pub fn is_htmx(req: &Request) -> bool {
    req.header("HX-Request") == Some("true")
}

/// Where error and flash fragments are swapped in.
pub const TOAST_TARGET: &str = "#toasts";

/// "Go to `to`": 303 for a plain form post, `HX-Redirect` for htmx. An htmx request must not get
/// the 303 itself: the browser's XMLHttpRequest would follow it and hand htmx the next page
/// (without the header) to swap into the form; `for_htmx` makes it a 200 for those.
pub fn redirect(to: &str) -> poem::Response {
    poem::Response::builder()
        .status(poem::http::StatusCode::SEE_OTHER)
        .header(poem::http::header::LOCATION, to)
        .header("HX-Redirect", to)
        .finish()
}

/// An htmx request's redirect (`redirect`) as htmx needs it: a 200 carrying `HX-Redirect`.
pub fn for_htmx(mut resp: poem::Response) -> poem::Response {
    if resp.status() == poem::http::StatusCode::SEE_OTHER
        && resp.headers().contains_key("HX-Redirect")
    {
        resp.set_status(poem::http::StatusCode::OK);
        resp.headers_mut().remove(poem::http::header::LOCATION);
    }
    resp
}
