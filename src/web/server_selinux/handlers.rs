use std::sync::Arc;

use maud::Markup;
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};

use super::views;
use crate::db::{self, servers::Server};
use crate::error::{AppError, AppResult, FieldError};
use crate::selinux::jobs::{self, Task};
use crate::selinux::manage::{self, Boolean};
use crate::web::AppState;
use crate::web::paths::{self, with_id};
use crate::web::session::SessionInfo;

fn actor(req: &Request) -> Option<crate::ids::UserId> {
    req.extensions()
        .get::<Arc<SessionInfo>>()
        .and_then(|s| s.user.as_ref().map(|u| u.id))
}

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
    let seen = jobs::observation(&state.db, server.id).await?;
    Ok(
        match jobs::status(&state.db, &state.secrets, &state.ssh, &server).await {
            Ok(status) => {
                let checks = manage::checklist(&status, &seen, chrono::Utc::now());
                views::status(&server, &status, &seen, &checks)
            }
            Err(e) => views::status_unavailable(&e.public_message()),
        },
    )
}

async fn start(state: &AppState, req: &Request, id: &str, task: Task) -> AppResult<Response> {
    let server = server(state, id).await?;
    let job = jobs::submit(
        &state.jobs,
        &state.db,
        &state.secrets,
        &state.ssh,
        &server,
        task,
        actor(req),
    )
    .await?;
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

#[derive(Debug, Default, serde::Deserialize)]
pub struct BooleanForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
}

#[handler]
pub async fn boolean(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<BooleanForm>,
) -> AppResult<Response> {
    let mut errors = Vec::new();
    let b = Boolean::parse(&form.name);
    if b.is_none() {
        errors.push(FieldError::new(
            "name",
            "not one of the panel's booleans (panel_can_manage_users, panel_can_reload_nginx)",
        ));
    }
    let on = match form.value.as_str() {
        "on" => Some(true),
        "off" => Some(false),
        _ => {
            errors.push(FieldError::new("value", "on or off"));
            None
        }
    };
    let (Some(b), Some(on)) = (b, on) else {
        return Err(AppError::Invalid(errors));
    };
    start(&state, req, &id, Task::SetBoolean(b, on)).await
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
