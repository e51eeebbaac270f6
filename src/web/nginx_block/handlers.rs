use maud::Markup;
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};

use super::views;
use crate::db;
use crate::domain::JobKind;
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::SiteId;
use crate::paths;
use crate::sites::nginx::{self, NginxForm};
use crate::web::AppState;
use crate::web::session;

fn site_id(id: &str) -> AppResult<SiteId> {
    id.parse().map_err(|_| AppError::NotFound)
}

async fn tab(
    state: &AppState,
    id: SiteId,
    form: Option<&NginxForm>,
    errors: &[FieldError],
    job: Option<&str>,
) -> AppResult<Markup> {
    let site = db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let text = form
        .map(|f| f.block.clone())
        .or_else(|| site.nginx_custom.clone())
        .unwrap_or_default();
    let job = crate::web::jobs::of_site(state, job, id, &[JobKind::SiteNginx]).await?;
    Ok(views::tab(&site, &text, errors, job.as_ref()))
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
pub async fn update(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<NginxForm>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    let result = nginx::update(&state, id, &form, session::actor(req)).await;
    crate::web::jobs::answer_form(result, paths::SITE_NGINX, id, async |errors| {
        tab(&state, id, Some(&form), &errors, None).await
    })
    .await
}
