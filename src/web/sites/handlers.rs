use maud::Markup;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{IntoResponse, Request, Response, handler};

use super::views;
use crate::db;
use crate::domain::ServerStatus;
use crate::error::{AppError, AppResult};
use crate::ids::SiteId;
use crate::paths;
use crate::sites::{self, DeleteForm, EnvForm, SiteForm};
use crate::web::session;
use crate::web::{AppState, htmx};

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
        let php = db::software::list(&state.db, s.id)
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
        app_type: "generic".into(),
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
    match sites::create(&state, &form, session::actor(req)).await {
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
    sites::retry(&state, id, session::actor(req)).await?;
    Ok(back(id))
}

#[handler]
pub async fn suspend(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    sites::suspend(&state, id, session::actor(req)).await?;
    Ok(back(id))
}

#[handler]
pub async fn resume(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    sites::resume(&state, id, session::actor(req)).await?;
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
    sites::delete(&state, id, &form, session::actor(req)).await?;
    Ok(back(id))
}

#[handler]
pub async fn env(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<EnvForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    sites::update_env(&state, id, &form, session::actor(req)).await?;
    Ok(back(id))
}

#[handler]
pub async fn rotate_password(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    sites::rotate_password(&state, id, session::actor(req)).await?;
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
    let password = sites::reveal_password(&state, id, session::actor(req)).await?;
    Ok(page(&state, id, Some(&password))
        .await?
        .with_header("Cache-Control", "no-store")
        .into_response())
}
