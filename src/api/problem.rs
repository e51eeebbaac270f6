//! RFC 9457 problem details: every API error, whether an operation's (an `AppError`), a request
//! the framework could not parse, an unknown path, or a missing token, is one of these with the
//! `application/problem+json` type.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use crate::error::AppError;

/// A problem: what went wrong, for people (`title`, `detail`) and programs (`status`,
/// `errors` naming each bad field).
#[derive(Clone, Debug, Object)]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[oai(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// One entry per bad field, when the input was the problem.
    #[oai(default, skip_serializing_if_is_empty)]
    pub errors: Vec<FieldProblem>,
}

/// One field's problem.
#[derive(Clone, Debug, Object)]
pub struct FieldProblem {
    /// The field's name (`domain`, `server_id`, …).
    pub field: String,
    pub message: String,
}

/// Every error an operation answers with.
#[derive(Debug, ApiResponse)]
#[oai(bad_request_handler = "from_poem_error")]
pub enum ApiError {
    /// The request could not be read (bad JSON, a parameter of the wrong shape).
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// No token, or not a live one.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Problem>),
    /// The token's role may not do this.
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Problem>),
    /// No such thing (or not on a server the token may see).
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// Not now: the thing is busy or in a state that does not allow it.
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Problem>),
    /// The input was read but some fields are wrong (see `errors`).
    #[oai(status = 422, content_type = "application/problem+json")]
    Invalid(Json<Problem>),
    /// Too many requests; try again later.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooMany(Json<Problem>),
    /// The panel failed; the detail says nothing internal.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Problem>),
}

pub type ApiResult<T> = Result<T, ApiError>;

fn problem(status: StatusCode, detail: String, errors: Vec<FieldProblem>) -> Problem {
    Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail: crate::domain::untrusted_text(&detail, 1000),
        errors,
    }
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::with_errors(status, detail.into(), Vec::new())
    }

    fn with_errors(status: StatusCode, detail: String, errors: Vec<FieldProblem>) -> Self {
        // Unreadable requests of every kind (a missing content type, a method the path does
        // not take, a body too large) are all "bad request" in the document: the status in the
        // body is the one sent.
        let status = match status.as_u16() {
            406 | 413 | 415 => StatusCode::BAD_REQUEST,
            _ => status,
        };
        let p = Json(problem(status, detail, errors));
        match status.as_u16() {
            400 => ApiError::BadRequest(p),
            401 => ApiError::Unauthorized(p),
            403 => ApiError::Forbidden(p),
            404 => ApiError::NotFound(p),
            409 => ApiError::Conflict(p),
            422 => ApiError::Invalid(p),
            429 => ApiError::TooMany(p),
            _ => ApiError::Internal(p),
        }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "There is no such thing.")
    }

    /// As a poem error (its response is this problem).
    pub fn into_poem(self) -> poem::Error {
        poem::Error::from_response(self.into_response())
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        from_app(e)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        from_app(AppError::from(e))
    }
}

/// An action's error as a problem: field errors listed, internal causes logged and not said.
pub fn from_app(e: AppError) -> ApiError {
    let status = e.status();
    if e.is_internal() {
        tracing::error!("API: {e:#}");
    }
    match e {
        AppError::Invalid(fields) => ApiError::with_errors(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Some fields need attention.".into(),
            fields
                .into_iter()
                .map(|f| FieldProblem {
                    field: f.field.to_string(),
                    message: f.message.to_string(),
                })
                .collect(),
        ),
        other => ApiError::with_errors(status, other.public_message(), Vec::new()),
    }
}

/// What the framework refused (a body that is not the schema, a bad parameter) as a problem.
fn from_poem_error(err: poem::Error) -> ApiError {
    let status = if err.status().is_client_error() {
        err.status()
    } else {
        StatusCode::BAD_REQUEST
    };
    ApiError::new(status, err.to_string())
}

/// Any error that reached the guard, as a problem response (a method the path does not take:
/// 405 with the methods it does, in `Allow`).
pub fn from_poem(err: &poem::Error, allow: Option<String>) -> Response {
    let status = err.status();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        let mut resp = Response::builder()
            .status(status)
            .content_type("application/problem+json")
            .body(
                serde_json::to_string(&serde_json::json!({
                    "type": "about:blank",
                    "title": "Method Not Allowed",
                    "status": 405,
                    "detail": "This path does not take that method.",
                }))
                .expect("JSON"),
            );
        if let Some(allow) = allow.and_then(|a| poem::http::HeaderValue::from_str(&a).ok()) {
            resp.headers_mut().insert(poem::http::header::ALLOW, allow);
        }
        return resp;
    }
    let detail = if status.is_server_error() {
        tracing::error!("API: {err}");
        "The panel failed to answer; the error is in its log.".to_owned()
    } else {
        err.to_string()
    };
    ApiError::new(status, detail).into_response()
}

/// A plain error response from the router (an unknown path: 404; a method the path does not
/// have: 405) made into a problem; every other response passes as it is.
pub fn problem_body(resp: Response) -> Response {
    let is_problem = resp
        .headers()
        .get(poem::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if resp.status().as_u16() < 400 || is_problem {
        return resp;
    }
    let status = resp.status();
    let detail = match status {
        StatusCode::NOT_FOUND => "There is no such API path.",
        StatusCode::METHOD_NOT_ALLOWED => "This path does not take that method.",
        _ => "The request was refused.",
    };
    let mut answer = Response::builder()
        .status(status)
        .content_type("application/problem+json")
        .body(
            serde_json::to_string(&serde_json::json!({
                "type": "about:blank",
                "title": status.canonical_reason().unwrap_or("Error"),
                "status": status.as_u16(),
                "detail": detail,
            }))
            .expect("JSON"),
        );
    if let Some(allow) = resp.headers().get(poem::http::header::ALLOW) {
        answer
            .headers_mut()
            .insert(poem::http::header::ALLOW, allow.clone());
    }
    answer
}

/// No token, or not a live one.
pub fn unauthorized() -> Response {
    let mut resp = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "A live API token is needed: `Authorization: Bearer pnl_…` (it may be unknown, \
         revoked or expired).",
    )
    .into_response();
    resp.headers_mut().insert(
        poem::http::header::WWW_AUTHENTICATE,
        poem::http::HeaderValue::from_static("Bearer realm=\"panel\""),
    );
    resp
}

/// A body whose types are not the document's: 400, naming the field.
pub fn invalid_types(field: &str, message: &str) -> Response {
    ApiError::with_errors(
        StatusCode::BAD_REQUEST,
        "The body does not have the types the API document gives it.".into(),
        vec![FieldProblem {
            field: field.to_owned(),
            message: message.to_owned(),
        }],
    )
    .into_response()
}
