use maud::Markup;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::views;
use crate::db;
use crate::domain::JobKind;
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{SiteId, WorkerId};
use crate::paths;
use crate::web::AppState;
use crate::web::session;
use crate::workers::{self, forms::WorkerForm};

fn site_id(id: &str) -> AppResult<SiteId> {
    id.parse().map_err(|_| AppError::NotFound)
}

fn ids(site: &str, worker: &str) -> AppResult<(SiteId, WorkerId)> {
    Ok((
        site_id(site)?,
        worker.parse().map_err(|_| AppError::NotFound)?,
    ))
}

async fn tab(
    state: &AppState,
    id: SiteId,
    form: Option<(&WorkerForm, Option<String>)>,
    errors: &[FieldError],
    job: Option<&str>,
) -> AppResult<Markup> {
    let site = db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let list = db::workers::for_site(&state.db, id).await?;
    let job = crate::web::jobs::of_site(state, job, id, &[JobKind::SiteWorkers]).await?;
    Ok(views::tab(
        &site,
        &list,
        views::Shown {
            form,
            errors,
            job: job.as_ref(),
        },
    ))
}

#[derive(Deserialize)]
pub struct TabQuery {
    #[serde(default)]
    job: Option<String>,
    /// `laravel-queue`: the add form filled in with Laravel's queue worker.
    #[serde(default)]
    preset: Option<String>,
}

#[handler]
pub async fn tab_page(
    state: Data<&AppState>,
    Path(id): Path<String>,
    Query(q): Query<TabQuery>,
) -> AppResult<Markup> {
    let preset = (q.preset.as_deref() == Some("laravel-queue")).then(WorkerForm::laravel_queue);
    tab(
        &state,
        site_id(&id)?,
        preset.as_ref().map(|f| (f, None)),
        &[],
        q.job.as_deref(),
    )
    .await
}

/// A form typed wrong: the tab again with it and its errors (422).
async fn refused(
    state: &AppState,
    id: SiteId,
    form: &WorkerForm,
    worker: Option<WorkerId>,
    errors: &[FieldError],
) -> AppResult<Response> {
    Ok(tab(
        state,
        id,
        Some((form, worker.map(|w| w.to_string()))),
        errors,
        None,
    )
    .await?
    .with_status(StatusCode::UNPROCESSABLE_ENTITY)
    .into_response())
}

#[handler]
pub async fn create(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<WorkerForm>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    match workers::create(&state, id, &form, session::actor(req)).await {
        Ok((_, job)) => Ok(crate::web::jobs::back_to(paths::SITE_WORKERS, id, job)),
        Err(AppError::Invalid(errors)) => refused(&state, id, &form, None, &errors).await,
        Err(e) => Err(e),
    }
}

#[handler]
pub async fn update(
    state: Data<&AppState>,
    req: &Request,
    Path((id, worker)): Path<(String, String)>,
    Form(form): Form<WorkerForm>,
) -> AppResult<Response> {
    let (id, worker) = ids(&id, &worker)?;
    match workers::update(&state, id, worker, &form, session::actor(req)).await {
        Ok(job) => Ok(crate::web::jobs::back_to(paths::SITE_WORKERS, id, job)),
        Err(AppError::Invalid(errors)) => refused(&state, id, &form, Some(worker), &errors).await,
        Err(e) => Err(e),
    }
}

#[handler]
pub async fn delete(
    state: Data<&AppState>,
    req: &Request,
    Path((id, worker)): Path<(String, String)>,
) -> AppResult<Response> {
    let (id, worker) = ids(&id, &worker)?;
    let job = workers::delete(&state, id, worker, session::actor(req)).await?;
    Ok(crate::web::jobs::back_to(paths::SITE_WORKERS, id, job))
}

#[handler]
pub async fn restart(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    let job = workers::restart(&state, id, session::actor(req)).await?;
    Ok(crate::web::jobs::back_to(
        paths::SITE_WORKERS,
        id,
        Some(job),
    ))
}

/// Each process's state and each worker's output, read from the node (the tab polls this).
#[handler]
pub async fn status(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Markup> {
    let id = site_id(&id)?;
    let site = db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let list = db::workers::for_site(&state.db, id).await?;
    let server = db::servers::get(&state.db, site.server_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let read = workers::status::statuses(&state, &server, &site, &list)
        .await
        .map_err(|e| e.to_string());
    Ok(views::status(&list, read))
}
