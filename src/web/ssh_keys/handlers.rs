use maud::Markup;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path};
use poem::{IntoResponse, Request, Response, handler};

use super::views;
use super::views::{Flash, ImportName, PageState};
use crate::error::{AppError, AppResult};
use crate::ids::SshKeyId;
use crate::paths;
use crate::ssh_keys::forms::{GenerateForm, ImportForm};
use crate::web::AppState;
use crate::web::htmx::is_htmx;
use crate::web::session;
use crate::{db, ssh_keys};

async fn page(state: &AppState, page_state: &PageState) -> AppResult<Markup> {
    Ok(views::index(
        &db::ssh_keys::list(&state.db).await?,
        page_state,
    ))
}

/// The page again, with the form's errors or a notice, and the status that says why.
async fn again(
    state: &AppState,
    page_state: &PageState,
    status: StatusCode,
) -> AppResult<Response> {
    Ok(page(state, page_state)
        .await?
        .with_status(status)
        .into_response())
}

#[handler]
pub async fn index(state: Data<&AppState>) -> AppResult<Markup> {
    page(&state, &PageState::default()).await
}

/// After a successful change: htmx gets the refreshed page with a message, a plain form post
/// is redirected (so a reload does not submit twice).
async fn done(state: &AppState, req: &Request, message: String) -> AppResult<Response> {
    if is_htmx(req) {
        let page_state = PageState {
            flash: Some((Flash::Success, message)),
            ..Default::default()
        };
        Ok(page(state, &page_state).await?.into_response())
    } else {
        Ok(Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, paths::SSH_KEYS)
            .finish())
    }
}

#[handler]
pub async fn generate(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<GenerateForm>,
) -> AppResult<Response> {
    let result = match form.key_type() {
        Ok(key_type) => ssh_keys::generate(&state, &form.name, key_type, session::actor(req)).await,
        Err(e) => Err(AppError::Invalid(vec![e])),
    };
    match result {
        Ok(key) => {
            done(
                &state,
                req,
                format!("Generated “{}” ({}).", key.name, key.fingerprint),
            )
            .await
        }
        Err(AppError::Invalid(errors)) => {
            let page_state = PageState {
                generate: Some((form, errors)),
                ..Default::default()
            };
            again(&state, &page_state, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

#[handler]
pub async fn import(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<ImportForm>,
) -> AppResult<Response> {
    let ImportForm { name, key } = form;
    // The pasted text may be a private key: wipe it when the request is done.
    let key = zeroize::Zeroizing::new(key);
    match ssh_keys::import(&state, &name, &key, session::actor(req)).await {
        Ok(key) => {
            done(
                &state,
                req,
                format!("Imported “{}” ({}).", key.name, key.fingerprint),
            )
            .await
        }
        Err(AppError::Invalid(errors)) => {
            let page_state = PageState {
                import: Some((ImportName(name), errors)),
                ..Default::default()
            };
            again(&state, &page_state, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

fn parse_id(id: &str) -> AppResult<SshKeyId> {
    id.parse().map_err(|_| AppError::NotFound)
}

#[handler]
pub async fn download_public(
    state: Data<&AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let key = db::ssh_keys::get(&state.db, parse_id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let file_name: String = key
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}.pub\""),
        )
        .body(format!("{}\n", key.public_key)))
}

#[handler]
pub async fn delete(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let name = db::ssh_keys::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?
        .name;
    match ssh_keys::delete(&state, id).await {
        Ok(()) => done(&state, req, format!("Deleted “{name}”.")).await,
        Err(AppError::Conflict(message)) => {
            let page_state = PageState {
                flash: Some((Flash::Error, message)),
                ..Default::default()
            };
            again(&state, &page_state, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
    }
}
