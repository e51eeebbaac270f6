//! Server-side sessions. The cookie carries a random 256-bit token; the `sessions` table holds its
//! SHA-256, the user, the CSRF token and any WebAuthn ceremony in progress. Logging in always
//! creates a new row with a new token (no session fixation). Idle and absolute timeouts are
//! checked on every request.

use std::sync::Arc;

use poem::http::header;
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::auth::{self, PRELOGIN_TTL, SESSION_ABSOLUTE, SESSION_IDLE};
use crate::config::Config;
use crate::crypto::random;
use crate::db;
use crate::domain::UserStatus;
use crate::ids::{SessionId, UserId};
use crate::state::AppState;

pub const COOKIE: &str = "panel_session";
/// Before any ceremony starts, the login and enrolment pages hand out a CSRF token in this
/// cookie (and in the page): nothing is stored for a page view, so anonymous requests cannot
/// fill the sessions table. The first ceremony step checks it and makes the pre-login session.
pub const PRELOGIN_COOKIE: &str = "panel_prelogin";

/// The logged-in user, as handlers and views see it.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: crate::domain::Role,
    /// `light` or `dark` from the user's preferences, if set.
    pub theme: Option<String>,
}

/// The session of this request (pre-login or logged in).
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub id: SessionId,
    pub user: Option<CurrentUser>,
    pub csrf: String,
    /// When the user last proved presence with a passkey here (login or a confirmation).
    pub verified_at: Option<String>,
}

impl SessionInfo {
    /// Whether the last passkey check is recent enough for a sensitive step.
    pub fn freshly_verified(&self) -> bool {
        self.verified_at
            .as_deref()
            .is_some_and(|at| at > auth::before(auth::FRESH_CHECK).as_str())
    }
}

tokio::task_local! {
    static CONTEXT: Option<Arc<SessionInfo>>;
    static INSECURE: bool;
}

/// Whether the panel is served over plain http off loopback (`--insecure-http`): every page
/// then says so.
pub fn insecure_http() -> bool {
    INSECURE.try_with(|i| *i).unwrap_or(false)
}

/// The session of the request being handled, if any (views use it for the CSRF token and the
/// user menu; outside a request it is `None`).
pub fn current() -> Option<Arc<SessionInfo>> {
    CONTEXT.try_with(Clone::clone).ok().flatten()
}

/// Who is acting in this request: the logged-in user, recorded with what their action changes.
pub fn actor(req: &Request) -> Option<UserId> {
    req.extensions()
        .get::<Arc<SessionInfo>>()
        .and_then(|s| s.user.as_ref().map(|u| u.id))
}

/// Paths that never need a session: no database lookup for them.
fn sessionless(path: &str) -> bool {
    path.starts_with(crate::paths::STATIC) || path == crate::paths::HEALTHZ
}

/// A cookie's name: with an https URL, `__Host-` and the name. Browsers accept such a cookie
/// only from this very host, over https, with `Path=/` and no `Domain`: a site hosted on a
/// neighbouring subdomain cannot plant one for the panel (a session or a pre-login token of
/// its choosing).
pub fn cookie_name(config: &Config, name: &str) -> String {
    if config.is_https() {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

fn request_cookie_name(req: &Request, name: &str) -> String {
    match req.data::<AppState>() {
        Some(state) => cookie_name(&state.config, name),
        None => name.to_owned(),
    }
}

/// The session token from the request's cookies.
pub fn cookie_token(req: &Request) -> Option<String> {
    cookie(req, &request_cookie_name(req, COOKIE))
}

/// A cookie's value.
fn cookie(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        // The first well-formed one: a malformed cookie of the same name (one a neighbouring
        // site set for the parent domain) does not hide the panel's own.
        .find(|(n, v)| *n == name && (16..=128).contains(&v.len()))
        .map(|(_, value)| value.to_owned())
}

/// The pre-login CSRF token the browser holds, if any.
pub fn prelogin_token(req: &Request) -> Option<String> {
    cookie(req, &request_cookie_name(req, PRELOGIN_COOKIE))
}

/// The CSRF token a login or enrolment page carries: the session's, or a pre-login token (kept
/// if the browser has one, else new) with the cookie to set. No row is written.
pub fn page_token(state: &AppState, req: &Request) -> (String, Option<String>) {
    if let Some(info) = req.extensions().get::<Arc<SessionInfo>>() {
        return (info.csrf.clone(), None);
    }
    if let Some(token) = prelogin_token(req) {
        return (token, None);
    }
    let token = random::token();
    let secure = if state.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        cookie_name(&state.config, PRELOGIN_COOKIE),
        PRELOGIN_TTL.as_secs()
    );
    (token, Some(cookie))
}

/// Middleware: load the session (if the cookie names a live one) into the request.
pub async fn load<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let info = if sessionless(req.uri().path()) {
        None
    } else {
        let state = req
            .data::<AppState>()
            .expect("state is attached outside the session layer")
            .clone();
        match cookie_token(&req) {
            Some(token) => lookup(&state, &token).await?,
            None => None,
        }
    };
    if let Some(info) = &info {
        req.extensions_mut().insert(info.clone());
    }
    let insecure = req
        .data::<AppState>()
        .is_some_and(|s| s.config.is_insecure());
    let resp = INSECURE
        .scope(insecure, CONTEXT.scope(info, next.call(req)))
        .await?;
    Ok(resp.into_response())
}

async fn lookup(state: &AppState, token: &str) -> poem::Result<Option<Arc<SessionInfo>>> {
    let db = &state.db;
    let Some(row) = db::sessions::find(db, &auth::hash_token(token))
        .await
        .map_err(crate::error::AppError::from)?
    else {
        return Ok(None);
    };
    let now = db::now();
    let idle_cutoff = auth::before(SESSION_IDLE);
    if row.expires_at <= now || row.last_seen_at <= idle_cutoff {
        db::sessions::delete(db, row.id)
            .await
            .map_err(crate::error::AppError::from)?;
        return Ok(None);
    }
    let mut user = None;
    if let Some(user_id) = row.user_id {
        match db::users::get(db, user_id)
            .await
            .map_err(crate::error::AppError::from)?
        {
            Some(u) if u.status == UserStatus::Active => {
                let prefs = db::users::preferences(db, user_id)
                    .await
                    .map_err(crate::error::AppError::from)?;
                user = Some(CurrentUser {
                    id: u.id,
                    email: u.email,
                    name: u.name,
                    role: u.role,
                    theme: prefs
                        .into_iter()
                        .find(|(k, _)| k == "theme")
                        .map(|(_, v)| v),
                });
            }
            // Disabled or deleted: the session ends.
            _ => {
                db::sessions::delete(db, row.id)
                    .await
                    .map_err(crate::error::AppError::from)?;
                return Ok(None);
            }
        }
        // Record activity at most once a minute: a write per request would be waste.
        if row.last_seen_at <= auth::before(std::time::Duration::from_secs(60)) {
            db::sessions::touch(db, row.id)
                .await
                .map_err(crate::error::AppError::from)?;
        }
    }
    Ok(Some(Arc::new(SessionInfo {
        id: row.id,
        user,
        csrf: row.csrf_token,
        verified_at: row.verified_at,
    })))
}

/// The client's address: the socket peer, or the last `X-Forwarded-For` hop when the operator
/// said a proxy sets it (a client can put anything in that header otherwise).
pub fn client_ip(req: &Request, config: &Config) -> String {
    if config.trust_forwarded_for {
        if let Some(last) = req
            .header("X-Forwarded-For")
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            return last.chars().take(64).collect();
        }
    }
    req.remote_addr()
        .as_socket_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// A new session; returns it and the `Set-Cookie` value that hands its token to the browser.
pub async fn create(
    state: &AppState,
    req: &Request,
    user_id: Option<UserId>,
) -> Result<(SessionInfo, String), sqlx::Error> {
    let token = random::token();
    // A pre-login session keeps the token the page was given (the ceremony's next request
    // sends it again); a logged-in one gets a fresh token.
    let csrf = match user_id {
        None => prelogin_token(req).unwrap_or_else(random::token),
        Some(_) => random::token(),
    };
    let ip = client_ip(req, &state.config);
    let agent: Option<String> = req
        .header(header::USER_AGENT)
        .map(|a| a.chars().take(300).collect());
    let lifetime = if user_id.is_some() {
        SESSION_ABSOLUTE
    } else {
        PRELOGIN_TTL
    };
    let id = db::sessions::insert(
        &state.db,
        &db::sessions::NewSession {
            token_hash: &auth::hash_token(&token),
            user_id,
            csrf_token: &csrf,
            ip: Some(&ip),
            user_agent: agent.as_deref(),
            expires_at: auth::after(lifetime),
        },
    )
    .await?;
    let cookie = set_cookie(&state.config, &token, lifetime.as_secs());
    Ok((
        SessionInfo {
            id,
            user: None,
            csrf,
            verified_at: None,
        },
        cookie,
    ))
}

fn set_cookie(config: &Config, token: &str, max_age: u64) -> String {
    let secure = if config.is_https() { "; Secure" } else { "" };
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        cookie_name(config, COOKIE)
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(config: &Config) -> String {
    set_cookie(config, "", 0)
}

/// The request's session, or a new pre-login one (a ceremony needs a place to wait between its
/// two steps; the caller has checked the pre-login CSRF token and the rate limit). Returns the
/// cookie to set when one was created.
pub async fn ensure(
    state: &AppState,
    req: &Request,
) -> Result<(SessionInfo, Option<String>), sqlx::Error> {
    match req.extensions().get::<Arc<SessionInfo>>() {
        Some(info) => Ok(((**info).clone(), None)),
        None => {
            let (info, cookie) = create(state, req, None).await?;
            Ok((info, Some(cookie)))
        }
    }
}

/// Log `user_id` in: the old session (pre-login) is deleted and a new one created, so the
/// session id always changes at login.
pub async fn login(
    state: &AppState,
    req: &Request,
    old: Option<SessionId>,
    user_id: UserId,
) -> Result<String, sqlx::Error> {
    if let Some(old) = old {
        db::sessions::delete(&state.db, old).await?;
    }
    let (_, cookie) = create(state, req, Some(user_id)).await?;
    Ok(cookie)
}

/// Keep a WebAuthn ceremony in the session until its finish step.
pub async fn store_ceremony(
    state: &AppState,
    session: SessionId,
    ceremony: &crate::auth::ceremony::Ceremony,
) -> crate::error::AppResult<()> {
    let json =
        serde_json::to_string(ceremony).map_err(|e| crate::error::AppError::Internal(e.into()))?;
    db::sessions::set_ceremony(&state.db, session, Some(&json)).await?;
    Ok(())
}

/// Take the session's ceremony out (once: a replayed finish finds none).
pub async fn take_ceremony(
    state: &AppState,
    session: SessionId,
) -> crate::error::AppResult<crate::auth::ceremony::Ceremony> {
    use crate::auth::ceremony::CeremonyError;
    let json = db::sessions::take_ceremony(&state.db, session)
        .await?
        .ok_or(CeremonyError::NoCeremony)?;
    serde_json::from_str(&json).map_err(|_| CeremonyError::NoCeremony.into())
}
