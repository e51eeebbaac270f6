use std::sync::Arc;

use maud::Markup;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Json, Path, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;
use webauthn_rs::prelude::RegisterPublicKeyCredential;

use super::views::{self, Notice};
use crate::account::{self, PreferencesForm};
use crate::auth::ceremony;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::paths;
use crate::web::AppState;
use crate::web::htmx::is_htmx;
use crate::web::session::{self, CurrentUser, SessionInfo};

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
    match account::delete_passkey(&state, user.id, id).await {
        Ok(()) => after_change(&state, req, Notice::ok("Passkey deleted."), StatusCode::OK).await,
        // The last passkey: the page says why, next to the list.
        Err(AppError::Conflict(m)) => {
            after_change(&state, req, Notice::error(&m), StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
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
    account::revoke_session(&state, user.id, id).await?;
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

#[handler]
pub async fn preferences(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<PreferencesForm>,
) -> AppResult<Response> {
    let (_, user) = session(req)?;
    account::set_preferences(&state, user.id, &form).await?;
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

#[derive(Debug, Default, Deserialize)]
pub struct Next {
    #[serde(default)]
    next: String,
}

/// Where to go back to after a confirmation: a path on this panel, else the settings.
fn back_to(next: &str) -> String {
    crate::web::gate::local_path(next)
        .unwrap_or(paths::SETTINGS)
        .to_owned()
}

/// "Confirm it is you": one passkey check, then back to the page that asked.
#[handler]
pub async fn confirm_page(req: &Request, Query(next): Query<Next>) -> AppResult<Markup> {
    let (s, _) = session(req)?;
    Ok(views::confirm(&back_to(&next.next), s.freshly_verified()))
}

#[handler]
pub async fn confirm_options(state: Data<&AppState>, req: &Request) -> AppResult<Response> {
    let (s, _) = session(req)?;
    let (rcr, ceremony) = ceremony::start_login(state.webauthn()?)?;
    session::store_ceremony(&state, s.id, &ceremony).await?;
    Ok(Json(rcr).into_response())
}

/// The assertion must be one of this user's passkeys (with user verification), checked before
/// anything is recorded; then the session counts as freshly checked for five minutes.
#[handler]
pub async fn confirm_finish(
    state: Data<&AppState>,
    req: &Request,
    Query(next): Query<Next>,
    Json(response): Json<webauthn_rs::prelude::PublicKeyCredential>,
) -> AppResult<Response> {
    let (s, user) = session(req)?;
    let ceremony = session::take_ceremony(&state, s.id).await?;
    ceremony::finish_confirm(
        &state.db,
        state.webauthn()?,
        &state.limiter,
        ceremony,
        &response,
        user.id,
    )
    .await?;
    db::sessions::mark_verified(&state.db, s.id).await?;
    Ok(Json(serde_json::json!({ "redirect": back_to(&next.next) })).into_response())
}
