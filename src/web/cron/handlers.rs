use maud::Markup;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::views;
use crate::cron::{self, forms::CronForm};
use crate::db;
use crate::domain::JobKind;
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{CronJobId, SiteId};
use crate::paths;
use crate::web::AppState;
use crate::web::session;

fn site_id(id: &str) -> AppResult<SiteId> {
    id.parse().map_err(|_| AppError::NotFound)
}

fn ids(site: &str, job: &str) -> AppResult<(SiteId, CronJobId)> {
    Ok((site_id(site)?, job.parse().map_err(|_| AppError::NotFound)?))
}

async fn tab(
    state: &AppState,
    id: SiteId,
    form: Option<(&CronForm, Option<String>)>,
    errors: &[FieldError],
    job: Option<&str>,
) -> AppResult<Markup> {
    let site = db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let jobs = db::cron::for_site(&state.db, id).await?;
    let job = crate::web::jobs::of_site(state, job, id, &[JobKind::SiteCron, JobKind::SiteCronRun])
        .await?;
    Ok(views::tab(
        &site,
        &jobs,
        views::Shown {
            form,
            errors,
            job: job.as_ref(),
        },
    ))
}

#[handler]
pub async fn tab_page(
    state: Data<&AppState>,
    Path(id): Path<String>,
    Query(q): Query<crate::web::jobs::TabQuery>,
) -> AppResult<Markup> {
    tab(&state, site_id(&id)?, None, &[], q.job.as_deref()).await
}

/// A form typed wrong: the tab again with it and its errors (422).
async fn refused(
    state: &AppState,
    id: SiteId,
    form: &CronForm,
    job: Option<CronJobId>,
    errors: &[FieldError],
) -> AppResult<Response> {
    Ok(tab(
        state,
        id,
        Some((form, job.map(|j| j.to_string()))),
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
    Form(form): Form<CronForm>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    match cron::create(&state, id, &form, session::actor(req)).await {
        Ok((_, job)) => Ok(crate::web::jobs::back_to(paths::SITE_CRON, id, job)),
        Err(AppError::Invalid(errors)) => refused(&state, id, &form, None, &errors).await,
        Err(e) => Err(e),
    }
}

#[handler]
pub async fn update(
    state: Data<&AppState>,
    req: &Request,
    Path((id, job)): Path<(String, String)>,
    Form(form): Form<CronForm>,
) -> AppResult<Response> {
    let (id, job) = ids(&id, &job)?;
    match cron::update(&state, id, job, &form, session::actor(req)).await {
        Ok(started) => Ok(crate::web::jobs::back_to(paths::SITE_CRON, id, started)),
        Err(AppError::Invalid(errors)) => refused(&state, id, &form, Some(job), &errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct ToggleForm {
    #[serde(default)]
    enabled: Option<String>,
}

#[handler]
pub async fn toggle(
    state: Data<&AppState>,
    req: &Request,
    Path((id, job)): Path<(String, String)>,
    Form(form): Form<ToggleForm>,
) -> AppResult<Response> {
    let (id, job) = ids(&id, &job)?;
    let started =
        cron::set_enabled(&state, id, job, form.enabled.is_some(), session::actor(req)).await?;
    Ok(crate::web::jobs::back_to(paths::SITE_CRON, id, started))
}

#[handler]
pub async fn delete(
    state: Data<&AppState>,
    req: &Request,
    Path((id, job)): Path<(String, String)>,
) -> AppResult<Response> {
    let (id, job) = ids(&id, &job)?;
    let started = cron::delete(&state, id, job, session::actor(req)).await?;
    Ok(crate::web::jobs::back_to(paths::SITE_CRON, id, started))
}

#[handler]
pub async fn run(
    state: Data<&AppState>,
    req: &Request,
    Path((id, job)): Path<(String, String)>,
) -> AppResult<Response> {
    let (id, job) = ids(&id, &job)?;
    let started = cron::run_now(&state, id, job, session::actor(req)).await?;
    Ok(crate::web::jobs::back_to(
        paths::SITE_CRON,
        id,
        Some(started),
    ))
}

#[handler]
pub async fn apply(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    let started = cron::apply(&state, id, session::actor(req)).await?;
    Ok(crate::web::jobs::back_to(
        paths::SITE_CRON,
        id,
        Some(started),
    ))
}

/// The last runs, read from the node (the tab polls this).
#[handler]
pub async fn runs(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Markup> {
    let id = site_id(&id)?;
    let site = db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let jobs = db::cron::for_site(&state.db, id).await?;
    let server = db::servers::get(&state.db, site.server_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let ids: Vec<CronJobId> = jobs.iter().map(|j| j.id).collect();
    let runs = cron::last_runs(&state, &server, &site, &ids)
        .await
        .map_err(|e| e.to_string());
    Ok(views::runs(&jobs, runs))
}

#[derive(Deserialize)]
pub struct DescribeQuery {
    #[serde(default)]
    schedule: String,
}

/// A schedule said in words with its next runs, as it is typed.
#[handler]
pub async fn describe(Query(q): Query<DescribeQuery>) -> Markup {
    views::described(&q.schedule)
}
