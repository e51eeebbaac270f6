use maud::Markup;
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::views;
use crate::db;
use crate::domain::JobKind;
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::SiteId;
use crate::paths;
use crate::sites::redirects::{self, RedirectForm};
use crate::web::AppState;
use crate::web::session;

fn site_id(id: &str) -> AppResult<SiteId> {
    id.parse().map_err(|_| AppError::NotFound)
}

async fn tab(
    state: &AppState,
    id: SiteId,
    form: Option<&RedirectForm>,
    errors: &[FieldError],
    job: Option<&str>,
) -> AppResult<Markup> {
    let site = db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let rules = crate::sites::spec::redirects_of(&site).map_err(AppError::Conflict)?;
    let job = crate::web::jobs::of_site(state, job, id, &[JobKind::SiteRedirects]).await?;
    Ok(views::tab(&site, &rules, form, errors, job.as_ref()))
}

#[handler]
pub async fn tab_page(
    state: Data<&AppState>,
    Path(id): Path<String>,
    Query(q): Query<crate::web::jobs::TabQuery>,
) -> AppResult<Markup> {
    tab(&state, site_id(&id)?, None, &[], q.job.as_deref()).await
}

#[handler]
pub async fn add(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<RedirectForm>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    let result = redirects::add(&state, id, &form, session::actor(req)).await;
    crate::web::jobs::answer_form(result, paths::SITE_REDIRECTS, id, async |errors| {
        tab(&state, id, Some(&form), &errors, None).await
    })
    .await
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    source: String,
}

#[handler]
pub async fn remove(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<RemoveForm>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    let job = redirects::remove(&state, id, &form.source, session::actor(req)).await?;
    Ok(crate::web::jobs::back_to(paths::SITE_REDIRECTS, id, job))
}
