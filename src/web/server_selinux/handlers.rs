use maud::Markup;
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};

use super::views;
use crate::db::{self, servers::Server};
use crate::error::{AppError, AppResult};
use crate::paths::{self, with_id};
use crate::selinux::manage;
use crate::server_selinux::{self, BooleanForm, Task};
use crate::web::AppState;
use crate::web::session;

async fn server(state: &AppState, id: &str) -> AppResult<Server> {
    let id = id.parse().map_err(|_| AppError::NotFound)?;
    db::servers::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

#[handler]
pub async fn show(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Markup> {
    let server = server(&state, &id).await?;
    Ok(views::show(&server))
}

/// The live part of the tab (the page loads it): read over SSH, so the page itself never waits.
#[handler]
pub async fn status(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Markup> {
    let server = server(&state, &id).await?;
    let seen = server_selinux::observation(&state, server.id).await?;
    Ok(match server_selinux::status(&state, &server).await {
        Ok(status) => {
            let checks = manage::checklist(
                &status,
                &seen,
                chrono::Utc::now(),
                state.config.selinux_quiet_window,
            );
            views::status(&server, &status, &seen, &checks)
        }
        Err(e) => views::status_unavailable(&e.public_message()),
    })
}

async fn start(state: &AppState, req: &Request, id: &str, task: Task) -> AppResult<Response> {
    let server = server(state, id).await?;
    let job = server_selinux::submit(state, &server, task, session::actor(req)).await?;
    Ok(crate::web::htmx::redirect(&with_id(paths::JOB, job)))
}

#[handler]
pub async fn module(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    start(&state, req, &id, Task::InstallModule).await
}

#[handler]
pub async fn boolean(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<BooleanForm>,
) -> AppResult<Response> {
    let task = Task::set_boolean(&form).map_err(AppError::Invalid)?;
    start(&state, req, &id, task).await
}

#[handler]
pub async fn relabel(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    start(&state, req, &id, Task::Relabel).await
}

#[handler]
pub async fn enforce(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    start(&state, req, &id, Task::Enforce).await
}
