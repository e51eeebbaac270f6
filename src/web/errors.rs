//! Turns every error a handler (or poem itself) returns into what the user should see: a toast
//! fragment for htmx requests, a full page otherwise. Internal causes go to the log only.

use maud::html;
use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use super::components::toast;
use super::htmx::{TOAST_TARGET, is_htmx};
use super::layout::Page;
use crate::error::AppError;
use crate::paths;

/// Middleware: render errors. Wraps the whole app.
pub async fn render_errors<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let htmx = is_htmx(&req);
    let wants_json = req
        .header(header::ACCEPT)
        .is_some_and(|a| a.starts_with("application/json"));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    match next.call(req).await {
        Ok(resp) => Ok(resp.into_response()),
        Err(err) => Ok(render(&err, htmx, wants_json, &method, &path)),
    }
}

fn render(
    err: &poem::Error,
    htmx: bool,
    wants_json: bool,
    method: &poem::http::Method,
    path: &str,
) -> Response {
    let (status, message, fields) = match err.downcast_ref::<AppError>() {
        Some(app) => {
            if app.is_internal() {
                tracing::error!(%method, path, "request failed: {app}");
            }
            (
                app.status(),
                app.public_message(),
                app.field_errors().to_vec(),
            )
        }
        None => {
            let status = err.status();
            if status.is_server_error() {
                tracing::error!(%method, path, "request failed: {err}");
            }
            (status, generic_message(status), Vec::new())
        }
    };
    if wants_json {
        // fetch() callers (the passkey script) show `error` and the field messages.
        let body = serde_json::json!({ "error": message, "fields": fields });
        return poem::web::Json(body).with_status(status).into_response();
    }
    if htmx {
        let kind = if status.is_client_error() {
            "alert-warning"
        } else {
            "alert-error"
        };
        return Response::builder()
            .status(status)
            .header("HX-Retarget", TOAST_TARGET)
            .header("HX-Reswap", "beforeend")
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .body(toast(kind, &message, &fields).into_string());
    }
    let page = Page::new(status.canonical_reason().unwrap_or("Error"))
        .body(html! {
            p { (message) }
            @if !fields.is_empty() {
                ul.list-disc."ml-5" {
                    @for f in &fields { li { span.font-semibold { (f.field) } ": " (f.message) } }
                }
            }
            div.card-actions { a.btn.btn-primary href=(paths::DASHBOARD) { "Back to the dashboard" } }
        })
        .render_bare();
    page.with_status(status).into_response()
}

fn generic_message(status: StatusCode) -> String {
    match status {
        StatusCode::NOT_FOUND => AppError::NotFound.to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "That action is not available here.".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "The request is too large.".to_owned(),
        s if s.is_client_error() => "The request could not be understood.".to_owned(),
        _ => AppError::Internal(anyhow::anyhow!("")).public_message(),
    }
}
