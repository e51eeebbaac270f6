use std::sync::Arc;

use maud::Markup;
use poem::http::StatusCode;
use poem::web::{Data, Form, Json, Path};
use poem::{Body, IntoResponse, Request, Response, handler};

use super::views;
use crate::db;
use crate::domain::ServerStatus;
use crate::error::{AppError, AppResult};
use crate::ids::SiteId;
use crate::servers::CallbackError;
use crate::sites::{self, DeleteForm, SiteForm};
use crate::web::session::{self, SessionInfo};
use crate::web::{AppState, htmx, paths};

fn actor(req: &Request) -> Option<crate::ids::UserId> {
    req.extensions()
        .get::<Arc<SessionInfo>>()
        .and_then(|s| s.user.as_ref().map(|u| u.id))
}

fn parse_id(id: &str) -> AppResult<SiteId> {
    id.parse().map_err(|_| AppError::NotFound)
}

#[handler]
pub async fn index(state: Data<&AppState>) -> AppResult<Markup> {
    let servers = db::servers::list(&state.db).await?;
    let active = servers.iter().any(|s| s.status == ServerStatus::Active);
    Ok(views::index(&db::sites::list(&state.db).await?, active))
}

/// Active servers with the PHP versions installed on each (what the form may offer).
async fn choices(state: &AppState) -> AppResult<Vec<views::ServerChoice>> {
    let mut out = Vec::new();
    for s in db::servers::list(&state.db).await? {
        if s.status != ServerStatus::Active {
            continue;
        }
        let php = crate::software::list(&state.db, s.id)
            .await?
            .into_iter()
            .filter(|i| {
                i.software == crate::domain::Software::Php
                    && i.status == crate::domain::InstallStatus::Installed
            })
            .map(|i| i.version)
            .collect();
        out.push(views::ServerChoice {
            id: s.id,
            name: s.name,
            php,
        });
    }
    Ok(out)
}

#[handler]
pub async fn new(state: Data<&AppState>) -> AppResult<Markup> {
    let servers = choices(&state).await?;
    let form = SiteForm {
        app_type: "php".into(),
        database: "mariadb".into(),
        php_version: servers
            .first()
            .and_then(|s| s.php.last().cloned())
            .unwrap_or_default(),
        ..Default::default()
    };
    Ok(views::new(&servers, &form, &[]))
}

#[handler]
pub async fn create(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<SiteForm>,
) -> AppResult<Response> {
    match sites::create(&state, &form, actor(req)).await {
        Ok(id) => Ok(htmx::redirect(&paths::with_id(paths::SITE, id))),
        Err(AppError::Invalid(errors)) => {
            let servers = choices(&state).await?;
            Ok(views::new(&servers, &form, &errors)
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
        Err(e) => Err(e),
    }
}

async fn page(state: &AppState, id: SiteId, revealed: Option<&str>) -> AppResult<Markup> {
    let site = db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let job = db::jobs::with_log(&state.db, site.last_job_id).await?;
    let entries = sites::env_of(&site, &state.secrets).unwrap_or_default();
    Ok(views::show(&site, job.as_ref(), &entries, revealed))
}

#[handler]
pub async fn show(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Markup> {
    page(&state, parse_id(&id)?, None).await
}

fn back(id: SiteId) -> Response {
    htmx::redirect(&paths::with_id(paths::SITE, id))
}

#[handler]
pub async fn retry(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    sites::retry(&state, id, actor(req)).await?;
    Ok(back(id))
}

#[handler]
pub async fn suspend(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    sites::suspend(&state, id, actor(req)).await?;
    Ok(back(id))
}

#[handler]
pub async fn resume(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    sites::resume(&state, id, actor(req)).await?;
    Ok(back(id))
}

#[handler]
pub async fn delete(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<DeleteForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    sites::delete(&state, id, &form, actor(req)).await?;
    Ok(back(id))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct EnvForm {
    #[serde(default)]
    env: String,
}

#[handler]
pub async fn env(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<EnvForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let entries = sites::parse_env_text(&form.env).map_err(AppError::Invalid)?;
    sites::update_env(&state, id, &entries, actor(req)).await?;
    Ok(back(id))
}

#[handler]
pub async fn rotate_password(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    sites::rotate_password(&state, id, actor(req)).await?;
    Ok(back(id))
}

/// Reveal on demand (a POST, so it is CSRF-checked and never cached or linked); audited.
#[handler]
pub async fn reveal_password(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let password = sites::reveal_password(&state, id, actor(req)).await?;
    Ok(page(&state, id, Some(&password))
        .await?
        .with_header("Cache-Control", "no-store")
        .into_response())
}

/// Largest callback body read.
const CALLBACK_LIMIT: usize = 16 * 1024;

/// `POST /api/callbacks/site-created`: step 8, the node's signed confirmation.
#[handler]
pub async fn site_created(
    state: Data<&AppState>,
    req: &Request,
    body: Body,
) -> AppResult<Response> {
    let body = body
        .into_bytes_limit(CALLBACK_LIMIT)
        .await
        .map_err(|_| AppError::BadRequest("callback body too large".into()))?;
    let verified = crate::servers::verify_signed(
        &state.db,
        &state.secrets,
        [
            req.header("X-Panel-Timestamp"),
            req.header("X-Panel-Nonce"),
            req.header("X-Panel-Signature"),
        ],
        &body,
        |r: &sites::CreatedReport| r.server_id.as_str(),
    )
    .await;
    let refused = || {
        Json(serde_json::json!({ "error": "invalid or expired signature" }))
            .with_status(StatusCode::UNAUTHORIZED)
            .into_response()
    };
    let (server, report) = match verified {
        Ok(v) => v,
        Err(CallbackError::Malformed) => {
            return Err(AppError::BadRequest("malformed callback".into()));
        }
        Err(CallbackError::Refused) => {
            tracing::warn!(ip = %session::client_ip(req, &state.config), "site-created callback refused");
            return Ok(refused());
        }
    };
    // The site must be on the server that signed: a node cannot confirm another's site.
    let Ok(site) = report.site_id.parse::<SiteId>() else {
        return Ok(refused());
    };
    if !db::sites::confirm(&state.db, site, server).await? {
        return Ok(refused());
    }
    db::servers::log(
        &state.db,
        server,
        crate::domain::LogLevel::Info,
        &format!(
            "{}: the node confirmed the site is created",
            report.domain.chars().take(253).collect::<String>()
        ),
        &serde_json::json!({ "site_id": site }),
    )
    .await?;
    Ok(Json(serde_json::json!({ "status": "recorded" })).into_response())
}
