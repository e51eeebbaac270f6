use std::sync::Arc;

use maud::Markup;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Json, Path};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;
use webauthn_rs::prelude::RegisterPublicKeyCredential;

use super::views::{self, Notice};
use crate::auth::ceremony;
use crate::db;
use crate::db::credentials::DeleteOutcome;
use crate::domain::{DatabaseType, PhpVersion};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::htmx::is_htmx;
use crate::web::session::{self, CurrentUser, SessionInfo};
use crate::web::{AppState, paths};

fn session(req: &Request) -> AppResult<(Arc<SessionInfo>, CurrentUser)> {
    let s = req
        .extensions()
        .get::<Arc<SessionInfo>>()
        .cloned()
        .ok_or(AppError::Unauthorized)?;
    let user = s.user.clone().ok_or(AppError::Unauthorized)?;
    Ok((s, user))
}

async fn page(state: &AppState, req: &Request, notice: Option<Notice>) -> AppResult<Markup> {
    let (s, user) = session(req)?;
    let passkeys = db::credentials::list_for_user(&state.db, user.id).await?;
    let sessions = db::sessions::list_for_user(&state.db, user.id).await?;
    let prefs = db::users::preferences(&state.db, user.id).await?;
    Ok(views::index(&views::SettingsView {
        config: &state.config,
        user: &user,
        current_session: s.id,
        passkeys: &passkeys,
        sessions: &sessions,
        preferences: &prefs,
        notice,
    }))
}

#[handler]
pub async fn index(state: Data<&AppState>, req: &Request) -> AppResult<Markup> {
    page(&state, req, None).await
}

/// After a change: htmx gets the page with a notice; a plain form post is redirected back.
async fn after_change(
    state: &AppState,
    req: &Request,
    notice: Notice,
    status: StatusCode,
) -> AppResult<Response> {
    if is_htmx(req) || status != StatusCode::OK {
        return Ok(page(state, req, Some(notice))
            .await?
            .with_status(status)
            .into_response());
    }
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, paths::SETTINGS)
        .finish())
}

#[derive(Debug, Default, Deserialize)]
pub struct PasskeyName {
    #[serde(default)]
    passkey_name: String,
}

#[handler]
pub async fn passkey_options(
    state: Data<&AppState>,
    req: &Request,
    Json(form): Json<PasskeyName>,
) -> AppResult<Response> {
    let (s, user) = session(req)?;
    let (ccr, ceremony) =
        ceremony::start_add_passkey(&state.db, state.webauthn()?, user.id, &form.passkey_name)
            .await?;
    session::store_ceremony(&state, s.id, &ceremony).await?;
    Ok(Json(ccr).into_response())
}

#[handler]
pub async fn passkey_finish(
    state: Data<&AppState>,
    req: &Request,
    Json(response): Json<RegisterPublicKeyCredential>,
) -> AppResult<Response> {
    let (s, user) = session(req)?;
    let ceremony = session::take_ceremony(&state, s.id).await?;
    ceremony::finish_registration(
        &state.db,
        state.webauthn()?,
        ceremony,
        &response,
        None,
        Some(user.id),
    )
    .await?;
    Ok(Json(serde_json::json!({ "redirect": paths::SETTINGS })).into_response())
}

#[handler]
pub async fn passkey_delete(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (_, user) = session(req)?;
    let id = id.parse().map_err(|_| AppError::NotFound)?;
    match db::credentials::delete(&state.db, user.id, id).await? {
        DeleteOutcome::Deleted => after_change(&state, req, Notice::ok("Passkey deleted."), StatusCode::OK).await,
        DeleteOutcome::LastOne => {
            after_change(
                &state,
                req,
                Notice::error("This is your only passkey: add another one before deleting it, or you could never log in again."),
                StatusCode::CONFLICT,
            )
            .await
        }
        DeleteOutcome::NotFound => Err(AppError::NotFound),
    }
}

#[handler]
pub async fn session_revoke(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (s, user) = session(req)?;
    let id = id.parse().map_err(|_| AppError::NotFound)?;
    if !db::sessions::revoke(&state.db, user.id, id).await? {
        return Err(AppError::NotFound);
    }
    if id == s.id {
        // Revoking this very session is a logout.
        return Ok(Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, paths::LOGIN)
            .header("HX-Redirect", paths::LOGIN)
            .finish());
    }
    after_change(
        &state,
        req,
        Notice::ok("Session revoked: that browser is logged out."),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct PreferencesForm {
    theme: Option<String>,
    default_php_version: Option<String>,
    default_database_type: Option<String>,
}

#[handler]
pub async fn preferences(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<PreferencesForm>,
) -> AppResult<Response> {
    let (_, user) = session(req)?;
    let mut errors = Vec::new();
    let mut set = Vec::new();
    if let Some(theme) = form.theme.as_deref() {
        match theme {
            "light" | "dark" => set.push(("theme", theme.to_owned())),
            _ => errors.push(FieldError::new("theme", "choose light or dark")),
        }
    }
    if let Some(php) = form.default_php_version.as_deref() {
        match php.parse::<PhpVersion>() {
            Ok(v) => set.push(("default_php_version", v.as_str().to_owned())),
            Err(_) => errors.push(FieldError::new(
                "default_php_version",
                "choose a PHP version from the list",
            )),
        }
    }
    if let Some(db_type) = form.default_database_type.as_deref() {
        match db_type {
            "none" => set.push(("default_database_type", "none".to_owned())),
            other => match other.parse::<DatabaseType>() {
                Ok(t) => set.push(("default_database_type", t.as_str().to_owned())),
                Err(_) => errors.push(FieldError::new(
                    "default_database_type",
                    "choose MariaDB, PostgreSQL or none",
                )),
            },
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    for (key, value) in set {
        db::users::set_preference(&state.db, user.id, key, &value).await?;
    }
    if req
        .header(header::ACCEPT)
        .is_some_and(|a| a.starts_with("application/json"))
    {
        return Ok(Json(serde_json::json!({ "saved": true })).into_response());
    }
    after_change(
        &state,
        req,
        Notice::ok("Preferences saved."),
        StatusCode::OK,
    )
    .await
}
