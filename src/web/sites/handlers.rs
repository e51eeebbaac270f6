use maud::Markup;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{IntoResponse, Request, Response, handler};

use super::views;
use crate::db;
use crate::domain::{ListForm, SiteSort};
use crate::error::{AppError, AppResult};
use crate::ids::SiteId;
use crate::paths;
use crate::sites::{self, DeleteForm, EnvForm, SiteForm};
use crate::web::listing::{self, ListView};
use crate::web::session;
use crate::web::{AppState, htmx};

fn parse_id(id: &str) -> AppResult<SiteId> {
    id.parse().map_err(|_| AppError::NotFound)
}

/// The sites list's query string: the list's own fields and its filters.
#[derive(Debug, Default, serde::Deserialize)]
pub struct SiteListForm {
    #[serde(flatten)]
    list: ListForm,
    #[serde(default)]
    server: String,
    #[serde(default)]
    status: String,
}

#[handler]
pub async fn index(state: Data<&AppState>, Query(form): Query<SiteListForm>) -> AppResult<Markup> {
    let query = listing::parse(&form.list, SiteSort::Domain)?;
    let mut errors = Vec::new();
    let filter = db::sites::SiteFilter {
        server: listing::filter_value(&form.server, "server", "not a server", &mut errors),
        status: listing::filter_value(&form.status, "status", "not a site status", &mut errors),
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let page = db::sites::page(&state.db, &query, &filter).await?;
    let total = db::dashboard::total(&state.db, "sites").await?;
    let active = db::dashboard::counts(&state.db).await?.servers_active > 0;
    let list = ListView::new(paths::SITES, &query)
        .filter("server", &form.server)
        .filter("status", &form.status);
    Ok(views::index(&list, &page, total, filter.status, active))
}

/// Active servers with the PHP versions installed on each (what the form may offer).
async fn choices(state: &AppState) -> AppResult<Vec<views::ServerChoice>> {
    Ok(db::servers::with_php(&state.db)
        .await?
        .into_iter()
        .map(|(id, name, php)| views::ServerChoice {
            id,
            name,
            php: php.split_whitespace().map(str::to_owned).collect(),
        })
        .collect())
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
        scheduler: Some("on".into()),
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

async fn page(
    state: &AppState,
    id: SiteId,
    revealed: Option<&str>,
    env_revealed: bool,
) -> AppResult<Markup> {
    let site = db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let job = db::jobs::with_log(&state.db, site.last_job_id).await?;
    let entries = sites::env_of(&site, &state.secrets).unwrap_or_default();
    let cert = db::certificates::get(&state.db, id).await?;
    Ok(views::show(
        &site,
        job.as_ref(),
        &entries,
        views::Shown {
            password: revealed,
            env: env_revealed,
            cert: cert.as_ref(),
        },
    ))
}

#[handler]
pub async fn show(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Markup> {
    page(&state, parse_id(&id)?, None, false).await
}

/// The status badge the site page polls while a job changes the site.
#[handler]
pub async fn live_status(
    state: Data<&AppState>,
    Path(id): Path<String>,
    Query(shown): Query<crate::web::components::ShownStatus>,
) -> AppResult<Response> {
    let Some(site) = db::sites::get(&state.db, parse_id(&id)?).await? else {
        return Ok(crate::web::components::gone_response());
    };
    Ok(crate::web::components::live_status_response(
        views::live_status(&site),
        site.status.as_str(),
        &shown.shown,
    ))
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
    Ok(page(&state, id, Some(&password), false)
        .await?
        .with_header("Cache-Control", "no-store")
        .into_response())
}

/// The `.env` editor with the site's values in it, to change them (audited like a password).
#[handler]
pub async fn reveal_env(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    sites::reveal_env(&state, id, session::actor(req)).await?;
    Ok(page(&state, id, None, true)
        .await?
        .with_header("Cache-Control", "no-store")
        .into_response())
}
