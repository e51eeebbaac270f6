//! One error type for every handler. Each variant has an HTTP status; what the user sees is
//! rendered by `web::errors` (a page for navigation, a toast for htmx). Internal causes are
//! logged there and never shown.

use poem::http::StatusCode;

/// A problem with one form field, shown next to that field.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// All the field errors of one form submission.
pub type FieldErrors = Vec<FieldError>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("This page does not exist.")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("Some fields need attention.")]
    Invalid(FieldErrors),
    #[error("Please log in.")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("Too many attempts; wait a minute and try again.")]
    TooManyRequests,
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) | AppError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// True for errors whose cause must stay in the log.
    pub fn is_internal(&self) -> bool {
        matches!(self, AppError::Internal(_) | AppError::Database(_))
    }

    /// The sentence shown to the user; never contains internal details.
    pub fn public_message(&self) -> String {
        if self.is_internal() {
            "Something went wrong on our side. The details are in the panel's log.".to_owned()
        } else {
            self.to_string()
        }
    }

    /// Field errors, if this is a validation failure.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            AppError::Invalid(errors) => errors,
            _ => &[],
        }
    }
}

impl poem::error::ResponseError for AppError {
    fn status(&self) -> StatusCode {
        AppError::status(self)
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_show_their_cause() {
        let e = AppError::Internal(anyhow::anyhow!("secret path /root/key"));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.public_message().contains("/root"));
        let e = AppError::Conflict("Key is used by server web1".into());
        assert_eq!(e.public_message(), "Key is used by server web1");
    }
}
