//! Panel users (people who log in with passkeys) as the operator manages them from the panel
//! host: invite, recover a lost passkey, disable and enable. Shell access to the panel host is
//! the trust root, so these need no login; each returns what the operator is shown.

use crate::auth::{self, Purpose};
use crate::db::{self, users::User};
use crate::domain::{Role, UserStatus};
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

fn invalid(field: &'static str, message: String) -> AppError {
    AppError::Invalid(vec![FieldError::new(field, message)])
}

/// The user with this e-mail, or a field error that says there is none.
pub async fn by_email(state: &AppState, email: &str) -> AppResult<User> {
    db::users::find_by_email(&state.db, email.trim())
        .await?
        .ok_or_else(|| invalid("email", format!("no user with the e-mail {}", email.trim())))
}

/// Settings → Users' invitation form as posted.
#[derive(Debug, Default, serde::Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
}

/// A one-time link that creates a user with this e-mail (and name) and their first passkey.
pub async fn invite(
    state: &AppState,
    email: &str,
    name: Option<&str>,
    role: Role,
) -> AppResult<(String, String)> {
    let email = auth::parse_email(email).map_err(|m| invalid("email", m))?;
    let name = name
        .map(|n| auth::parse_display_name(n).map_err(|m| invalid("name", m)))
        .transpose()?;
    if db::users::find_by_email(&state.db, &email).await?.is_some() {
        return Err(invalid(
            "email",
            format!("{email} is already a user; use `panel user recover {email}`"),
        ));
    }
    let link = auth::issue_enrolment(
        &state.db,
        &state.config,
        Purpose::Invite,
        Some(&email),
        name.as_deref(),
        None,
        Some(role),
    )
    .await?;
    Ok((email, link))
}

/// A one-time link that adds a new passkey to an existing user (a lost passkey).
pub async fn recover(state: &AppState, email: &str) -> AppResult<(User, String)> {
    let user = by_email(state, email).await?;
    let link = auth::issue_enrolment(
        &state.db,
        &state.config,
        Purpose::Recover,
        None,
        None,
        Some(user.id),
        None,
    )
    .await?;
    Ok((user, link))
}

/// Disable a user: they cannot log in, and every session they have ends now. Returns the user
/// and how many sessions ended.
pub async fn disable(state: &AppState, email: &str) -> AppResult<(User, u64)> {
    let user = by_email(state, email).await?;
    if !db::users::disable_keeping_an_owner(&state.db, user.id).await? {
        return Err(invalid(
            "email",
            format!(
                "{} is the only owner; make someone else an owner first",
                user.email
            ),
        ));
    }
    let ended = db::sessions::delete_for_user(&state.db, user.id).await?;
    Ok((user, ended))
}

/// Enable a disabled user again.
pub async fn enable(state: &AppState, email: &str) -> AppResult<User> {
    let user = by_email(state, email).await?;
    db::users::set_status(&state.db, user.id, UserStatus::Active).await?;
    Ok(user)
}

/// Give a user another role. The last owner cannot be demoted (someone must be able to manage
/// users); their sessions stay, and the next request already runs with the new role.
pub async fn set_role(state: &AppState, email: &str, role: Role) -> AppResult<User> {
    let user = by_email(state, email).await?;
    if !db::users::set_role_keeping_an_owner(&state.db, user.id, role).await? {
        return Err(invalid(
            "role",
            format!(
                "{} is the only owner; make someone else an owner first",
                user.email
            ),
        ));
    }
    Ok(User { role, ..user })
}
