use maud::Markup;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::views;
use crate::api_tokens::{self, TokenForm};
use crate::db;
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::ApiTokenId;
use crate::paths;
use crate::web::AppState;
use crate::web::session::CurrentUser;

fn user(req: &Request) -> AppResult<CurrentUser> {
    req.extensions()
        .get::<CurrentUser>()
        .cloned()
        .ok_or(AppError::Unauthorized)
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    form: &TokenForm,
    errors: &[FieldError],
    made: Option<&str>,
) -> AppResult<Markup> {
    let tokens = db::tokens::list_for_user(&state.db, user.id).await?;
    Ok(views::index(user, &tokens, form, errors, made))
}

#[handler]
pub async fn index(state: Data<&AppState>, req: &Request) -> AppResult<Markup> {
    let user = user(req)?;
    let form = TokenForm {
        role: user.role.as_str().into(),
        expires: api_tokens::DEFAULT_EXPIRY.into(),
        ..TokenForm::default()
    };
    page(&state, &user, &form, &[], None).await
}

/// The form as posted: servers as one line of names or ids separated by commas or spaces.
#[derive(Debug, Default, Deserialize)]
pub struct Posted {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    servers: String,
    #[serde(default)]
    expires: String,
}

/// Make a token. The answer is the page with the token in it, once: not a redirect (the token
/// would have to travel in an address) and never cached.
#[handler]
pub async fn create(
    state: Data<&AppState>,
    req: &Request,
    Form(posted): Form<Posted>,
) -> AppResult<Response> {
    let user = user(req)?;
    let form = TokenForm {
        name: posted.name,
        role: posted.role,
        servers: posted
            .servers
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        expires: posted.expires,
    };
    let made = match api_tokens::parse(&state, &form, user.role).await {
        Ok(input) => api_tokens::create(&state, &input, Some(user.id)).await,
        Err(e) => Err(e),
    };
    match made {
        Ok((token, _)) => {
            let fresh = TokenForm {
                role: user.role.as_str().into(),
                expires: api_tokens::DEFAULT_EXPIRY.into(),
                ..TokenForm::default()
            };
            let html = page(&state, &user, &fresh, &[], Some(&token)).await?;
            Ok(html
                .with_header("Cache-Control", "no-store")
                .into_response())
        }
        Err(AppError::Invalid(errors)) => Ok(page(&state, &user, &form, &errors, None)
            .await?
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()),
        Err(e) => Err(e),
    }
}

#[handler]
pub async fn revoke(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let user = user(req)?;
    let id: ApiTokenId = id.parse().map_err(|_| AppError::NotFound)?;
    api_tokens::revoke(&state, &id.to_string(), Some(user.id)).await?;
    Ok(crate::web::htmx::redirect(paths::API_TOKENS))
}
