use maud::Markup;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{IntoResponse, Request, Response, handler};

use super::views;
use crate::db;
use crate::domain::{ListForm, ServerSort, ServerStatus, TimeSort};
use crate::error::{AppError, AppResult};
use crate::ids::ServerId;
use crate::paths;
use crate::servers::{self, DeleteForm, ServerForm};
use crate::software::SoftwareForm;
use crate::web::AppState;
use crate::web::components::{ShownStatus, live_status_response};
use crate::web::listing::{self, ListView};
use crate::web::session;

/// The servers list's query string: the list's own fields and its status filter.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ServerListForm {
    #[serde(flatten)]
    list: ListForm,
    #[serde(default)]
    status: String,
}

#[handler]
pub async fn index(
    state: Data<&AppState>,
    Query(form): Query<ServerListForm>,
) -> AppResult<Markup> {
    let query = listing::parse(&form.list, ServerSort::Name)?;
    let mut errors = Vec::new();
    let status = listing::filter_value(&form.status, "status", "not a server status", &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let page = db::servers::page(&state.db, &query, status).await?;
    let total = db::dashboard::total(&state.db, "servers").await?;
    let usable_keys = db::ssh_keys::list(&state.db)
        .await?
        .iter()
        .any(|k| k.has_private_key);
    let list = ListView::new(paths::SERVERS, &query).filter("status", &form.status);
    Ok(views::index(&list, &page, total, status, usable_keys))
}

#[handler]
pub async fn new(state: Data<&AppState>) -> AppResult<Markup> {
    let keys = db::ssh_keys::list(&state.db).await?;
    let form = ServerForm {
        ssh_port: "22".into(),
        ssh_user: "panel".into(),
        os_version: "alma_9".into(),
        php_versions: "8.3".into(),
        ..Default::default()
    };
    Ok(views::new(&keys, &form, &[], &state.config))
}

/// Add the server, then go to its page (Post/Redirect/Get: a reload shows the page again, and
/// the setup command stays there until it is used or expires).
#[handler]
pub async fn create(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<ServerForm>,
) -> AppResult<Response> {
    match servers::create(&state, &form, session::actor(req)).await {
        Ok((id, _)) => Ok(crate::web::htmx::redirect(&paths::with_id(
            paths::SERVER,
            id,
        ))),
        Err(AppError::Invalid(errors)) => {
            let keys = db::ssh_keys::list(&state.db).await?;
            Ok(views::new(&keys, &form, &errors, &state.config)
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
        Err(e) => Err(e),
    }
}

fn parse_id(id: &str) -> AppResult<ServerId> {
    id.parse().map_err(|_| AppError::NotFound)
}

/// The server log's query string: the list's fields (search, cursor) and a level.
#[derive(Debug, Default, serde::Deserialize)]
pub struct LogFilter {
    #[serde(flatten)]
    list: ListForm,
    #[serde(default)]
    level: String,
}

#[handler]
pub async fn show(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Query(filter): Query<LogFilter>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let server = db::servers::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let query = listing::parse(&filter.list, TimeSort::Newest)?;
    let mut errors = Vec::new();
    let level = listing::filter_value(&filter.level, "level", "not a log level", &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let logs = db::servers::logs_page(&state.db, id, level, &query).await?;
    let people = db::users::list(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id.to_string(), u.name))
        .collect();
    let card = views::log_card(id, &logs, &query, level, &people);
    // The filter form and the page links ask htmx for the log card only.
    if crate::web::htmx::is_htmx(req) && req.header("HX-Target") == Some("server-log") {
        return Ok(card.into_response());
    }
    let installed = db::software::list(&state.db, id).await?;
    // The setup command carries a one-time secret: shown only to those who may add servers.
    let may_manage = req
        .extensions()
        .get::<crate::web::session::CurrentUser>()
        .is_some_and(|u| {
            crate::domain::roles::authorize(
                &crate::domain::Principal::new(u.role),
                crate::domain::Perm::Manage,
                None,
            )
            .is_ok()
        });
    let setup = match server.status {
        ServerStatus::Pending | ServerStatus::Provisioning | ServerStatus::Error if may_manage => {
            servers::live_setup_url(&state, id).await?
        }
        _ => None,
    };
    let shows_secret = setup.is_some();
    let page = views::show_with_software(
        &server,
        card,
        setup.as_ref().map(|(url, expires)| views::Setup {
            url,
            expires,
            reach: state.config.servers_reach(),
            servers_url: state.config.servers_url(),
        }),
        &installed,
    );
    // The setup command holds a one-time secret: no cache keeps the page.
    Ok(if shows_secret {
        page.with_header("Cache-Control", "no-store")
            .into_response()
    } else {
        page.into_response()
    })
}

/// The status badge the server page polls while the server onboards.
#[handler]
pub async fn live_status(
    state: Data<&AppState>,
    Path(id): Path<String>,
    Query(shown): Query<ShownStatus>,
) -> AppResult<Response> {
    let Some(server) = db::servers::get(&state.db, parse_id(&id)?).await? else {
        return Ok(crate::web::components::gone_response());
    };
    Ok(live_status_response(
        views::live_status(&server),
        server.status.as_str(),
        &shown.shown,
    ))
}

/// Delete after the server's name is typed to confirm; everything on it goes with it.
#[handler]
pub async fn delete(
    state: Data<&AppState>,
    Path(id): Path<String>,
    Form(form): Form<DeleteForm>,
) -> AppResult<Response> {
    servers::delete(&state, parse_id(&id)?, &form).await?;
    Ok(crate::web::htmx::redirect(crate::paths::SERVERS))
}

/// A new one-time setup command (the last one expired or was lost); back to the server page,
/// which shows it.
#[handler]
pub async fn setup_url(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let server = db::servers::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    servers::new_setup_url(&state, server.id).await?;
    Ok(crate::web::htmx::redirect(&paths::with_id(
        paths::SERVER,
        id,
    )))
}

/// `GET /setup/{token}`: the rendered setup script, once. Unknown, used and expired tokens all
/// get the same plain 404.
#[handler]
pub async fn setup_script(
    state: Data<&AppState>,
    req: &Request,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let ip = session::client_ip(req, &state.config);
    match servers::render_setup(&state, &token, &ip).await? {
        Some(script) => Ok(Response::builder()
            .content_type("text/x-shellscript; charset=utf-8")
            .header("Cache-Control", "no-store")
            .body(script)),
        None => {
            tracing::info!(ip, "setup URL refused (unknown, used or expired)");
            Ok(Response::builder()
                .status(StatusCode::NOT_FOUND)
                .content_type("text/plain; charset=utf-8")
                .body("This setup link is not valid: it is unknown, already used or expired. Create a new one on the server's page.\n"))
        }
    }
}

/// The health fragment (the server page polls it).
#[handler]
pub async fn health(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Markup> {
    let id = parse_id(&id)?;
    let server = db::servers::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(match servers::health(&state, &server).await {
        Ok(h) => views::health(&h),
        Err(e) => views::health_unavailable(&e.public_message()),
    })
}

/// Start a key rotation job and show its live log.
#[handler]
pub async fn rotate_key(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let server = db::servers::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if server.status != crate::domain::ServerStatus::Active {
        return Err(AppError::Conflict(
            "Only an active server's key can be rotated.".into(),
        ));
    }
    let job = servers::rotate_key(&state, &server, session::actor(req), None).await?;
    let to = crate::paths::with_id(crate::paths::JOB, job);
    Ok(crate::web::htmx::redirect(&to))
}

/// Install, upgrade or remove software: queue the job and show its live log.
#[handler]
pub async fn software(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<SoftwareForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let server = db::servers::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (item, action) = crate::software::forms::parse(&form).map_err(AppError::Invalid)?;
    let job = crate::software::submit(&state, &server, item, action, session::actor(req)).await?;
    let to = crate::paths::with_id(crate::paths::JOB, job);
    Ok(crate::web::htmx::redirect(&to))
}

/// Ask the server for its host key now and show it beside the pinned one (a fragment).
#[handler]
pub async fn host_key_check(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Markup> {
    let id = parse_id(&id)?;
    Ok(match servers::host_key::check(&state, id).await {
        Ok(check) => views::host_key_check(id, &check),
        Err(AppError::Conflict(reason)) => views::host_key_unreachable(&reason),
        Err(e) => return Err(e),
    })
}

/// Pin the key the check showed (its fingerprint confirmed); back to the server page.
#[handler]
pub async fn host_key_confirm(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<servers::host_key::ConfirmForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    servers::host_key::confirm(&state, id, &form, session::actor(req)).await?;
    Ok(crate::web::htmx::redirect(&crate::paths::with_id(
        crate::paths::SERVER,
        id,
    )))
}
