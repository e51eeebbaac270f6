use maud::Markup;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;

use super::views;
use crate::db;
use crate::domain::{Role, UserStatus};
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::UserId;
use crate::paths;
use crate::users::InviteForm;
use crate::web::AppState;

async fn page(
    state: &AppState,
    form: &InviteForm,
    errors: &[FieldError],
    link: Option<(&str, &str)>,
) -> AppResult<Markup> {
    let users = db::users::list(&state.db).await?;
    Ok(views::index(&users, form, errors, link))
}

#[handler]
pub async fn index(state: Data<&AppState>) -> AppResult<Markup> {
    let form = InviteForm {
        role: Role::Viewer.as_str().into(),
        ..InviteForm::default()
    };
    page(&state, &form, &[], None).await
}

fn role_of(text: &str) -> AppResult<Role> {
    text.trim().parse().map_err(|_| {
        AppError::Invalid(vec![FieldError::new(
            "role",
            "choose owner, admin, operator or viewer",
        )])
    })
}

/// The one-time link is shown in the answer, once (never in an address, never cached).
#[handler]
pub async fn invite(state: Data<&AppState>, Form(form): Form<InviteForm>) -> AppResult<Response> {
    let name = (!form.name.trim().is_empty()).then_some(form.name.as_str());
    let done = match role_of(&form.role) {
        Ok(wanted) => crate::users::invite(&state, &form.email, name, wanted).await,
        Err(e) => Err(e),
    };
    match done {
        Ok((email, link)) => {
            let fresh = InviteForm {
                role: Role::Viewer.as_str().into(),
                ..InviteForm::default()
            };
            Ok(page(&state, &fresh, &[], Some((&email, &link)))
                .await?
                .with_header("Cache-Control", "no-store")
                .into_response())
        }
        Err(AppError::Invalid(errors)) => Ok(page(&state, &form, &errors, None)
            .await?
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()),
        Err(e) => Err(e),
    }
}

async fn target(state: &AppState, id: &str) -> AppResult<db::users::User> {
    let id: UserId = id.parse().map_err(|_| AppError::NotFound)?;
    db::users::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

#[derive(Debug, Default, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

#[handler]
pub async fn role(
    state: Data<&AppState>,
    Path(id): Path<String>,
    Form(form): Form<RoleForm>,
) -> AppResult<Response> {
    let user = target(&state, &id).await?;
    let wanted = role_of(&form.role)?;
    crate::users::set_role(&state, &user.email, wanted).await?;
    Ok(crate::web::htmx::redirect(paths::USERS))
}

#[derive(Debug, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

#[handler]
pub async fn status(
    state: Data<&AppState>,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> AppResult<Response> {
    let user = target(&state, &id).await?;
    match form.status.parse::<UserStatus>() {
        Ok(UserStatus::Disabled) => {
            crate::users::disable(&state, &user.email).await?;
        }
        Ok(UserStatus::Active) => {
            crate::users::enable(&state, &user.email).await?;
        }
        Err(_) => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "status",
                "active or disabled",
            )]));
        }
    }
    Ok(crate::web::htmx::redirect(paths::USERS))
}
