//! Turns every error a handler (or poem itself) returns into what the user should see, one way
//! each: field errors inline where the fields are (an htmx form's own error slot; a page's
//! address, shown as a form to correct), other failures of an htmx request as a toast, and a
//! page with the navigation otherwise. Internal causes go to the log only.

use maud::{Markup, html};
use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Response};

use super::components::toast;
use super::htmx::{TOAST_TARGET, is_htmx};
use super::layout::Page;
use crate::error::{AppError, FieldError};
use crate::paths;

/// Middleware: render errors. Wraps the whole app.
pub async fn render_errors<E: Endpoint>(next: E, req: poem::Request) -> poem::Result<Response> {
    let htmx = is_htmx(&req);
    let wants_json = req
        .header(header::ACCEPT)
        .is_some_and(|a| a.starts_with("application/json"));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    // A form with an error slot names itself (`components::form_header`).
    let form = req
        .header("X-Panel-Form")
        .filter(|id| {
            id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned);
    match next.call(req).await {
        Ok(resp) if htmx => Ok(super::htmx::for_htmx(resp.into_response())),
        Ok(resp) => Ok(resp.into_response()),
        Err(err) => Ok(render(
            &err,
            Request {
                htmx,
                wants_json,
                method: &method,
                path: &path,
                query: &query,
                form: form.as_deref(),
            },
        )),
    }
}

/// What the failed request was, as far as rendering its error goes.
struct Request<'a> {
    htmx: bool,
    wants_json: bool,
    method: &'a poem::http::Method,
    path: &'a str,
    query: &'a str,
    form: Option<&'a str>,
}

fn render(err: &poem::Error, req: Request<'_>) -> Response {
    let (method, path) = (req.method, req.path);
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
    if req.wants_json {
        // fetch() callers (the passkey script) show `error` and the field messages.
        let body = serde_json::json!({ "error": message, "fields": fields });
        return poem::web::Json(body).with_status(status).into_response();
    }
    if req.htmx {
        let html = |target: &str, swap: &'static str, body: Markup| {
            Response::builder()
                .status(status)
                .header("HX-Retarget", target)
                .header("HX-Reswap", swap)
                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                .body(body.into_string())
        };
        // A form's errors go into the form (its `{id}-errors` slot), not a passing toast: the
        // field messages, or the refusal's reason.
        if let (Some(form), true) = (req.form, status.is_client_error()) {
            let body = if fields.is_empty() {
                html! { div.alert.alert-error."mt-2" role="alert" { span { (message) } } }
            } else {
                inline_errors(&fields)
            };
            return html(&format!("#{form}-errors"), "innerHTML", body);
        }
        let kind = if status.is_client_error() {
            "alert-warning"
        } else {
            "alert-error"
        };
        return html(TOAST_TARGET, "beforeend", toast(kind, &message, &fields));
    }
    let page = if method == poem::http::Method::GET && !fields.is_empty() {
        // A page's address carried a value it does not take (a filter typo): the address's
        // values as a form to correct, each error at its field.
        Page::new("Check this page's filters").body(address_form(path, req.query, &fields))
    } else {
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::CONFLICT => "Not possible now",
            s => s.canonical_reason().unwrap_or("Error"),
        };
        Page::new(title).body(html! {
            p { (message) }
            @if !fields.is_empty() { (inline_errors(&fields)) }
            div.flex.flex-wrap."gap-2" {
                a.btn.btn-primary href=(paths::DASHBOARD) { "Go to the dashboard" }
            }
        })
    };
    let signed_in = crate::web::session::current().is_some_and(|s| s.user.is_some());
    let page = if signed_in {
        page.render()
    } else {
        page.render_bare()
    };
    page.with_status(status).into_response()
}

/// Field errors as a list, each with its field's message.
fn inline_errors(fields: &[FieldError]) -> Markup {
    html! {
        div role="alert" {
            @for f in fields {
                p.text-error.text-sm."mt-1" data-field-error=(f.field) { (f.message) }
            }
        }
    }
}

/// The query string's fields as text inputs (the bad ones marked, with their messages), sent
/// again to the same page; and a way back without any.
fn address_form(path: &str, query: &str, fields: &[FieldError]) -> Markup {
    let pairs = decode_query(query);
    html! {
        (crate::web::components::error_summary(fields))
        form.card."bg-base-100".shadow-sm."max-w-2xl" method="get" action=(path) {
            div.card-body {
                @for (name, value) in &pairs {
                    @if fields.iter().any(|f| f.field == name) {
                        fieldset.fieldset {
                            label.label for=(name) { (name) }
                            input.input.w-full.input-error id=(name) name=(name) value=(value) aria-invalid="true";
                            @for f in fields.iter().filter(|f| f.field == name) {
                                p.text-error.text-sm."mt-1" data-field-error=(f.field) { (f.message) }
                            }
                        }
                    } @else {
                        input type="hidden" name=(name) value=(value);
                    }
                }
                div.card-actions.justify-end {
                    a.btn.btn-ghost href=(path) { "Clear the filters" }
                    button.btn.btn-primary type="submit" { "Show" }
                }
            }
        }
    }
}

/// `a=b&c=d` (form encoding) as pairs; at most 32, each bounded, for display only.
fn decode_query(query: &str) -> Vec<(String, String)> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = |c: u8| (c as char).to_digit(16);
                    match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                        (Some(h), Some(l)) => {
                            out.push((h * 16 + l) as u8);
                            i += 2;
                        }
                        _ => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).chars().take(500).collect()
    }
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .take(32)
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::decode_query;

    #[test]
    fn an_address_query_is_decoded_for_display_and_bounded() {
        let pairs = decode_query("q=a+b%20c&period=%E2%82%AC&bad=%zz%4&=x&&k");
        assert_eq!(
            pairs,
            [
                ("q".to_owned(), "a b c".to_owned()),
                ("period".to_owned(), "€".to_owned()),
                ("bad".to_owned(), "%zz%4".to_owned()),
                (String::new(), "x".to_owned()),
                ("k".to_owned(), String::new()),
            ]
        );
        let long = format!("v={}", "a".repeat(5000));
        assert_eq!(decode_query(&long)[0].1.len(), 500);
        let many = vec!["a=b"; 100].join("&");
        assert_eq!(decode_query(&many).len(), 32);
    }
}
