//! The authorization gate: every route declares its [`Access`] in the route table (`web::routes`),
//! and every non-public route is wrapped here. There is no other place that decides.

use maud::html;
use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use std::sync::Arc;

use super::AppState;
use super::htmx::is_htmx;
use super::session::{CurrentUser, SessionInfo};
use crate::domain::{Perm, Principal, roles::authorize};
use crate::error::{AppError, AppResult};
use crate::paths;

/// What a sensitive step says when the session's last passkey check is too old.
pub const STALE_CHECK: &str = "This needs a passkey check from the last five minutes: confirm \
     with your passkey (Settings → Confirm it is you), then try again. Revealing secrets, adding \
     passkeys, making API tokens and changing roles ask for one.";

/// The answer to a sensitive step without a fresh passkey check: a page navigation goes to the
/// confirmation and comes back; a form or htmx request is refused with where to confirm.
fn stale_check(req: &Request) -> Response {
    let back = if req.method() == poem::http::Method::GET {
        req.uri()
            .path_and_query()
            .map_or(paths::SETTINGS, |p| p.as_str())
    } else {
        req.header(header::REFERER)
            .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
            .and_then(|r| r.find('/').map(|i| &r[i..]))
            .and_then(local_path)
            .unwrap_or(paths::SETTINGS)
    };
    let to = format!(
        "{}?{}",
        paths::CONFIRM,
        serde_urlencoded::to_string([("next", back)]).unwrap_or_default()
    );
    if req.method() == poem::http::Method::GET && !is_htmx(req) {
        return Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, to)
            .finish();
    }
    // fetch() callers (the passkey script): the message, and where to confirm.
    if req
        .header(header::ACCEPT)
        .is_some_and(|a| a.starts_with("application/json"))
    {
        let body = serde_json::json!({ "error": STALE_CHECK, "confirm": to });
        return Response::builder()
            .status(StatusCode::FORBIDDEN)
            .content_type("application/json")
            .body(body.to_string());
    }
    let body = html! {
        p { (STALE_CHECK) }
        a.btn.btn-primary href=(to) { "Confirm with your passkey" }
    };
    let html = if is_htmx(req) {
        body.into_string()
    } else {
        crate::web::layout::Page::new("Confirm it is you")
            .body(body)
            .render()
            .into_string()
    };
    Response::builder()
        .status(StatusCode::FORBIDDEN)
        .header("HX-Redirect", to.as_str())
        .content_type("text/html; charset=utf-8")
        .body(html)
}

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, no session: health check, static files, and (later) callbacks and webhooks,
    /// which carry their own secrets.
    Public,
    /// Anyone with a (pre-login) session: login and enrolment. State-changing requests need
    /// the session's CSRF token and a same-origin `Origin`.
    Anonymous,
    /// A logged-in user whose role has this permission (`domain::roles::authorize`);
    /// state-changing requests need the CSRF token and a same-origin `Origin`.
    User(Perm),
}

fn current_user(req: &Request) -> Option<CurrentUser> {
    req.extensions()
        .get::<Arc<SessionInfo>>()
        .and_then(|s| s.user.clone())
}

/// Middleware for `Access::User` routes: refuse anonymous requests, then ask the one
/// authorization function whether the user's role has the route's permission, and for a
/// sensitive one whether the last passkey check is fresh. Navigation without a session is
/// redirected to the login page; htmx and other requests get 401 (htmx follows `HX-Redirect`).
pub async fn require<E: Endpoint>(next: E, mut req: Request, perm: Perm) -> poem::Result<Response> {
    match current_user(&req) {
        Some(user) => {
            authorize(&Principal::new(user.role), perm, None)?;
            if perm.needs_fresh_check() {
                let fresh = req
                    .extensions()
                    .get::<Arc<SessionInfo>>()
                    .is_some_and(|s| s.freshly_verified());
                if !fresh {
                    return Ok(stale_check(&req));
                }
            }
            req.extensions_mut().insert(user);
            Ok(next.call(req).await?.into_response())
        }
        None if req.method() == poem::http::Method::GET && !is_htmx(&req) => {
            // Back to the page asked for after the login; "expired" when the browser still
            // held a session cookie that no longer names a session.
            let asked = req
                .uri()
                .path_and_query()
                .map_or(paths::DASHBOARD, |p| p.as_str());
            let expired = crate::web::session::cookie_token(&req).is_some()
                && req.extensions().get::<Arc<SessionInfo>>().is_none();
            Ok(Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, login_url(asked, expired))
                .finish())
        }
        None => Ok(Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("HX-Redirect", paths::LOGIN)
            .content_type("text/html; charset=utf-8")
            .body(html! { p { "Please log in." } }.into_string())),
    }
}

/// The login page's address that comes back to `asked` (a local path) afterwards.
fn login_url(asked: &str, expired: bool) -> String {
    let mut url = paths::LOGIN.to_owned();
    let mut sep = '?';
    if expired {
        url.push_str("?expired=1");
        sep = '&';
    }
    if asked != paths::DASHBOARD && local_path(asked).is_some() {
        let encoded: String = asked
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        url.push(sep);
        url.push_str("next=");
        url.push_str(&encoded);
    }
    url
}

/// `text` when it is a path on this panel (`/…`, not `//host` or `/\host`, no control
/// characters, bounded): the only kind of address a login may send the browser back to.
pub fn local_path(text: &str) -> Option<&str> {
    let ok = text.len() <= 2048
        && text.starts_with('/')
        && !text.starts_with("//")
        && !text.starts_with("/\\")
        && !text.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(text)
}

/// Live streams (SSE) are served to the panel's own pages only: a request that says it comes
/// from another origin is refused (a browser always sends `Origin` on a cross-site request).
pub fn same_origin_stream(req: &Request, config: &crate::config::Config) -> AppResult<()> {
    match req.header(header::ORIGIN) {
        Some(origin) if origin != config.origin() => Err(AppError::Forbidden(
            "Live updates are only served to the panel's own pages.".into(),
        )),
        _ => Ok(()),
    }
}

/// Middleware for `Anonymous` and `User` routes: a state-changing request must come from the
/// panel's own origin and carry the session's CSRF token (header `X-CSRF-Token` from htmx and
/// fetch, or the `csrf_token` form field).
pub async fn check_csrf<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    csrf(next, req, false).await
}

/// `check_csrf` for login and enrolment routes: before a ceremony has made a pre-login session,
/// the token is the one the page handed out in the pre-login cookie (double submit).
pub async fn check_csrf_prelogin<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    csrf(next, req, true).await
}

async fn csrf<E: Endpoint>(next: E, mut req: Request, prelogin: bool) -> poem::Result<Response> {
    use poem::http::Method;
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(next.call(req).await?.into_response());
    }
    let config = &req.data::<AppState>().expect("state attached").config;
    let expected = config.origin();
    let origin = req
        .header(header::ORIGIN)
        .map(str::to_owned)
        .or_else(|| req.header(header::REFERER).map(origin_of));
    match origin {
        Some(o) if o == expected => {}
        Some(o) => {
            return Err(AppError::Forbidden(format!(
                "This request came from {o}, but this panel's address is {}. Open the panel at {} and try again.",
                config.url, config.url
            ))
            .into());
        }
        None => {
            return Err(AppError::Forbidden(
                "This request did not say where it came from (no Origin header), so it was refused.".into(),
            )
            .into());
        }
    }
    let expected = match req.extensions().get::<Arc<SessionInfo>>() {
        Some(session) => session.csrf.clone(),
        None => match super::session::prelogin_token(&req).filter(|_| prelogin) {
            Some(token) => token,
            None => {
                return Err(AppError::Forbidden(
                    "Your session has expired. Reload the page and try again.".into(),
                )
                .into());
            }
        },
    };
    let mut sent = req.header("X-CSRF-Token").map(str::to_owned);
    let is_form = req
        .header(header::CONTENT_TYPE)
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if sent.is_none() && is_form {
        let body = req.take_body().into_bytes().await?;
        sent = form_field(&body, "csrf_token");
        req.set_body(body);
    }
    if !sent.is_some_and(|t| crate::crypto::constant_time_eq(t.as_bytes(), expected.as_bytes())) {
        return Err(AppError::Forbidden(
            "This form has expired (missing or wrong security token). Reload the page and try again.".into(),
        )
        .into());
    }
    Ok(next.call(req).await?.into_response())
}

/// `scheme://host[:port]` of a URL (for a Referer).
fn origin_of(url: &str) -> String {
    match url.parse::<poem::http::Uri>() {
        Ok(uri) => format!(
            "{}://{}",
            uri.scheme_str().unwrap_or(""),
            uri.authority().map(|a| a.as_str()).unwrap_or("")
        ),
        Err(_) => String::new(),
    }
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Middleware for every response: a strict Content-Security-Policy (only our own scripts and
/// styles, no inline code) and the usual hardening headers.
pub async fn security_headers<E: Endpoint>(
    next: E,
    req: Request,
    https: bool,
) -> poem::Result<Response> {
    let mut resp = next.call(req).await?.into_response();
    let h = resp.headers_mut();
    if https {
        // Browsers that reached the panel over https never try plain http again (a year).
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            header::HeaderValue::from_static("max-age=31536000"),
        );
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    Ok(resp)
}

/// Middleware: refuse request bodies over [`super::MAX_BODY`] with 413, whatever the protocol.
/// A declared length is checked up front; a body without one (HTTP/1.1 chunked, or HTTP/2, which
/// needs no header at all) is read up to the limit before the handler sees it, so no handler can
/// be made to buffer without bound.
pub async fn limit_body<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    bounded(next, req, super::MAX_BODY).await
}

/// `limit_body` for the login and enrolment routes, which take a few kilobytes of JSON at most.
pub async fn limit_small_body<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    bounded(next, req, super::MAX_SMALL_BODY).await
}

async fn bounded<E: Endpoint>(next: E, mut req: Request, limit: usize) -> poem::Result<Response> {
    let too_large =
        || poem::Error::from_string("request body too large", StatusCode::PAYLOAD_TOO_LARGE);
    let declared = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > limit as u64 => return Err(too_large()),
        Some(_) => {}
        None => {
            let body = req
                .take_body()
                .into_bytes_limit(limit)
                .await
                .map_err(|_| too_large())?;
            req.set_body(body);
        }
    }
    Ok(next.call(req).await?.into_response())
}
