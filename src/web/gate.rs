//! The authorization gate: every route declares its [`Access`] in the route table (`web::routes`),
//! and every non-public route is wrapped here. There is no other place that decides.

use maud::html;
use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use super::htmx::is_htmx;
use super::paths;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health check, static files, login. Such routes carry their own secrets if any.
    Public,
    /// A logged-in user.
    User,
}

/// The logged-in user, once passkey login exists. Until then nobody is logged in, and every
/// non-public route sends the visitor to the login page.
#[derive(Clone, Debug)]
pub struct CurrentUser;

fn current_user(_req: &Request) -> Option<CurrentUser> {
    None
}

/// Middleware for `Access::User` routes: refuse anonymous requests. Navigation is redirected to
/// the login page; htmx and other requests get 401 (htmx follows `HX-Redirect`).
pub async fn require_user<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    match current_user(&req) {
        Some(user) => {
            req.extensions_mut().insert(user);
            Ok(next.call(req).await?.into_response())
        }
        None if req.method() == poem::http::Method::GET && !is_htmx(&req) => {
            Ok(Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, paths::LOGIN)
                .finish())
        }
        None => Ok(Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("HX-Redirect", paths::LOGIN)
            .content_type("text/html; charset=utf-8")
            .body(html! { p { "Please log in." } }.into_string())),
    }
}

/// Middleware for every response: a strict Content-Security-Policy (only our own scripts and
/// styles, no inline code) and the usual hardening headers.
pub async fn security_headers<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let mut resp = next.call(req).await?.into_response();
    let h = resp.headers_mut();
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

/// Middleware: refuse request bodies over [`super::MAX_BODY`] with 413. A declared length is
/// checked up front; a body without one (chunked) is read up to the limit before the handler
/// sees it, so no handler can be made to buffer without bound.
pub async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let too_large =
        || poem::Error::from_string("request body too large", StatusCode::PAYLOAD_TOO_LARGE);
    let declared = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > super::MAX_BODY as u64 => return Err(too_large()),
        Some(_) => {}
        None if req.header(header::TRANSFER_ENCODING).is_some() => {
            let body = req
                .take_body()
                .into_bytes_limit(super::MAX_BODY)
                .await
                .map_err(|_| too_large())?;
            req.set_body(body);
        }
        None => {}
    }
    Ok(next.call(req).await?.into_response())
}
