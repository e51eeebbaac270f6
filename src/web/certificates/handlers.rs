use maud::Markup;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{IntoResponse, Request, Response, handler};

use super::views;
use crate::certificates::{self, forms::DnsForm, forms::HttpsForm, forms::UploadForm};
use crate::db;
use crate::domain::{CertificateSort, ListForm};
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::SiteId;
use crate::paths;
use crate::web::listing::{self, ListView};
use crate::web::session;
use crate::web::{AppState, htmx};

fn site_id(id: &str) -> AppResult<SiteId> {
    id.parse().map_err(|_| AppError::NotFound)
}

#[handler]
pub async fn index(state: Data<&AppState>, Query(form): Query<ListForm>) -> AppResult<Markup> {
    let query = listing::parse(&form, CertificateSort::Urgency)?;
    let page = db::certificates::page(&state.db, &query).await?;
    let total = db::dashboard::total(&state.db, "certificates").await?;
    let list = ListView::new(paths::CERTIFICATES, &query);
    Ok(views::index(&list, &page, total))
}

async fn tab(
    state: &AppState,
    id: SiteId,
    form: Option<&UploadForm>,
    errors: &[FieldError],
) -> AppResult<Markup> {
    tab_with(state, id, form, None, errors).await
}

async fn tab_with(
    state: &AppState,
    id: SiteId,
    form: Option<&UploadForm>,
    dns: Option<&DnsForm>,
    errors: &[FieldError],
) -> AppResult<Markup> {
    let site = db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let cert = db::certificates::get(&state.db, id).await?;
    let job_id = cert.as_ref().and_then(|c| c.last_job_id);
    let job = db::jobs::with_log(&state.db, job_id).await?;
    Ok(views::tab(
        &site,
        cert.as_ref(),
        job.as_ref(),
        &state.config.acme.directory,
        views::Forms { upload: form, dns },
        errors,
    ))
}

#[handler]
pub async fn tab_page(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Markup> {
    tab(&state, site_id(&id)?, None, &[]).await
}

fn back(id: SiteId) -> Response {
    htmx::redirect(&paths::with_id(paths::SITE_HTTPS, id))
}

#[handler]
pub async fn issue(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    certificates::issue(&state, id, session::actor(req)).await?;
    Ok(back(id))
}

#[handler]
pub async fn upload(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<UploadForm>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    match certificates::upload(&state, id, &form, session::actor(req)).await {
        Ok(_) => Ok(back(id)),
        Err(AppError::Invalid(errors)) => {
            // The key is never sent back into the page.
            let shown = UploadForm {
                key: String::new(),
                ..form
            };
            Ok(tab(&state, id, Some(&shown), &errors)
                .await?
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
        Err(e) => Err(e),
    }
}

#[handler]
pub async fn settings(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<HttpsForm>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    certificates::set_https(&state, id, &form, session::actor(req)).await?;
    Ok(back(id))
}

#[handler]
pub async fn remove(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    certificates::remove(&state, id, session::actor(req)).await?;
    Ok(back(id))
}

#[handler]
pub async fn issue_dns(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<DnsForm>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    match certificates::issue_dns(&state, id, &form, session::actor(req)).await {
        Ok(_) => Ok(back(id)),
        Err(AppError::Invalid(errors)) => {
            // The TSIG secret is never sent back into the page.
            let shown = DnsForm {
                dns_secret: String::new(),
                ..form
            };
            Ok(tab_with(&state, id, None, Some(&shown), &errors)
                .await?
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
        Err(e) => Err(e),
    }
}
