use std::sync::Arc;

use poem::http::{StatusCode, header};
use poem::web::{Data, Json, Path};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::views;
use crate::auth::ceremony::{self, CeremonyError};
use crate::auth::hash_token;
use crate::auth::ratelimit::PER_IP_PER_MINUTE;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::paths;
use crate::web::AppState;
use crate::web::session::{self, SessionInfo};

impl From<CeremonyError> for AppError {
    fn from(e: CeremonyError) -> Self {
        match e {
            CeremonyError::Invalid(fields) => AppError::Invalid(fields),
            CeremonyError::LinkUnusable => AppError::NotFound,
            CeremonyError::Internal(e) => AppError::Internal(e),
            CeremonyError::NoCeremony => AppError::BadRequest(e.to_string()),
            CeremonyError::Disabled => AppError::Forbidden(e.to_string()),
            CeremonyError::Locked => AppError::TooManyRequests,
            CeremonyError::UnknownPasskey | CeremonyError::Verification => {
                AppError::Forbidden(e.to_string())
            }
        }
    }
}

/// Count one attempt from this client on `bucket`; refuse past the limit.
fn rate_limit(state: &AppState, req: &Request, bucket: &str) -> AppResult<()> {
    let ip = session::client_ip(req, &state.config);
    if state.limiter.hit(
        &format!("{bucket}:{ip}"),
        PER_IP_PER_MINUTE,
        std::time::Duration::from_secs(60),
    ) {
        Ok(())
    } else {
        Err(AppError::TooManyRequests)
    }
}

fn session_of(req: &Request) -> AppResult<Arc<SessionInfo>> {
    req.extensions()
        .get::<Arc<SessionInfo>>()
        .cloned()
        .ok_or_else(|| {
            AppError::Forbidden("Your session has expired. Reload the page and try again.".into())
        })
}

/// A page response that also sets the session cookie when one was just created.
fn with_cookie(resp: impl IntoResponse, cookie: Option<String>) -> Response {
    let mut resp = resp.into_response();
    if let Some(c) = cookie {
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// The host the browser used, when it differs from the configured public URL (passkeys are
/// bound to the configured origin, so they would fail there).
fn wrong_address(state: &AppState, req: &Request) -> Option<String> {
    let host = req.header(header::HOST)?;
    let configured = state.config.origin();
    let configured_host = configured.split("://").nth(1).unwrap_or("");
    (host != configured_host).then(|| host.to_owned())
}

/// The login page's query: where to go afterwards, and why the user is here.
#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    expired: Option<String>,
    #[serde(default)]
    logged_out: Option<String>,
}

#[handler]
pub async fn login_page(
    state: Data<&AppState>,
    req: &Request,
    poem::web::Query(q): poem::web::Query<LoginQuery>,
) -> AppResult<Response> {
    let next = crate::web::gate::local_path(&q.next).unwrap_or(paths::DASHBOARD);
    if req
        .extensions()
        .get::<Arc<SessionInfo>>()
        .is_some_and(|s| s.user.is_some())
    {
        return Ok(redirect(next));
    }
    // Nothing is stored for a page view: the token lives in a cookie until a ceremony starts.
    let (csrf, cookie) = session::page_token(&state, req);
    let unavailable = state
        .webauthn
        .is_none()
        .then_some(crate::auth::NO_PASSKEYS_HINT);
    let notice = if q.logged_out.is_some() {
        Some(views::LoginNotice::LoggedOut)
    } else if q.expired.is_some() {
        Some(views::LoginNotice::Expired)
    } else {
        None
    };
    let page = views::login(
        &csrf,
        wrong_address(&state, req).as_deref(),
        &state.config.url,
        unavailable,
        notice,
        next,
    );
    Ok(with_cookie(page, cookie))
}

#[handler]
pub async fn login_options(state: Data<&AppState>, req: &Request) -> AppResult<Response> {
    rate_limit(&state, req, "login")?;
    let (rcr, ceremony) = ceremony::start_login(state.webauthn()?)?;
    // The pre-login session is made here, when a ceremony starts (rate-limited above).
    let (session, cookie) = session::ensure(&state, req).await?;
    session::store_ceremony(&state, session.id, &ceremony).await?;
    Ok(with_cookie(Json(rcr), cookie))
}

#[handler]
pub async fn login_finish(
    state: Data<&AppState>,
    req: &Request,
    Json(response): Json<PublicKeyCredential>,
) -> AppResult<Response> {
    rate_limit(&state, req, "login")?;
    let session = session_of(req)?;
    let ceremony = session::take_ceremony(&state, session.id).await?;
    let user_id = ceremony::finish_login(
        &state.db,
        state.webauthn()?,
        &state.limiter,
        ceremony,
        &response,
    )
    .await?;
    let cookie = session::login(&state, req, Some(session.id), user_id).await?;
    tracing::info!(user = %user_id, "logged in");
    Ok(with_cookie(
        Json(serde_json::json!({ "redirect": paths::DASHBOARD })),
        Some(cookie),
    ))
}

#[handler]
pub async fn logout(state: Data<&AppState>, req: &Request) -> AppResult<Response> {
    if let Some(s) = req.extensions().get::<Arc<SessionInfo>>() {
        db::sessions::delete(&state.db, s.id).await?;
    }
    const LOGGED_OUT: &str = "/login?logged_out=1";
    let mut resp = redirect(LOGGED_OUT);
    if let Ok(v) = session::clear_cookie(&state.config).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    // htmx follows this instead of swapping the login page into the current one.
    resp.headers_mut()
        .insert("HX-Redirect", header::HeaderValue::from_static(LOGGED_OUT));
    Ok(resp)
}

fn redirect(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .finish()
}

async fn usable_token(state: &AppState, token: &str) -> AppResult<db::enrolment::EnrolmentToken> {
    // Bound the work on junk before hashing: real tokens are 43 characters.
    if token.len() > 128 {
        return Err(CeremonyError::LinkUnusable.into());
    }
    db::enrolment::find_usable(&state.db, &hash_token(token))
        .await?
        .ok_or_else(|| CeremonyError::LinkUnusable.into())
}

#[handler]
pub async fn enrol_page(
    state: Data<&AppState>,
    req: &Request,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Ok(link) = usable_token(&state, &token).await else {
        // Unknown, used and expired links: one answer, so none can be told apart.
        return Ok(views::link_unusable()
            .with_status(StatusCode::NOT_FOUND)
            .into_response());
    };
    let (csrf, cookie) = session::page_token(&state, req);
    let fixed_user = match link.user_id {
        Some(id) => db::users::get(&state.db, id)
            .await?
            .map(|u| (u.email, u.name)),
        None => link
            .email
            .clone()
            .map(|e| (e, link.name.clone().unwrap_or_default())),
    };
    let page = views::enrol(
        &token,
        &csrf,
        link.purpose == "recover",
        fixed_user.as_ref().map(|(e, n)| (e.as_str(), n.as_str())),
        wrong_address(&state, req).as_deref(),
        &state.config.url,
    );
    Ok(with_cookie(page, cookie))
}

#[derive(Debug, Default, Deserialize)]
pub struct EnrolFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    passkey_name: String,
}

#[handler]
pub async fn enrol_options(
    state: Data<&AppState>,
    req: &Request,
    Path(token): Path<String>,
    Json(fields): Json<EnrolFields>,
) -> AppResult<Response> {
    rate_limit(&state, req, "enrol")?;
    let link = usable_token(&state, &token).await?;
    let (ccr, ceremony) = ceremony::start_enrolment(
        &state.db,
        state.webauthn()?,
        &link,
        &fields.email,
        &fields.name,
        &fields.passkey_name,
    )
    .await?;
    let (session, cookie) = session::ensure(&state, req).await?;
    session::store_ceremony(&state, session.id, &ceremony).await?;
    Ok(with_cookie(Json(ccr), cookie))
}

#[handler]
pub async fn enrol_finish(
    state: Data<&AppState>,
    req: &Request,
    Path(token): Path<String>,
    Json(response): Json<RegisterPublicKeyCredential>,
) -> AppResult<Response> {
    rate_limit(&state, req, "enrol")?;
    let session = session_of(req)?;
    let link = usable_token(&state, &token).await?;
    let ceremony = session::take_ceremony(&state, session.id).await?;
    let user_id = ceremony::finish_registration(
        &state.db,
        state.webauthn()?,
        ceremony,
        &response,
        Some(link.id),
        None,
    )
    .await?;
    let cookie = session::login(&state, req, Some(session.id), user_id).await?;
    tracing::info!(user = %user_id, "enrolled and logged in");
    Ok(with_cookie(
        Json(serde_json::json!({ "redirect": paths::DASHBOARD })),
        Some(cookie),
    ))
}
