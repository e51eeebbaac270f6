//! A logged-in user's own account: their passkeys, their sessions and their preferences. (Adding
//! a passkey is a WebAuthn ceremony, in `auth::ceremony`; users are invited and disabled from
//! the panel host, in `users`.)

use serde::Deserialize;

use crate::db::{self, credentials::DeleteOutcome};
use crate::domain::{DatabaseType, PhpVersion};
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{CredentialId, SessionId, UserId};
use crate::state::AppState;

/// Delete one of the user's passkeys; never the last one (they could not log in again).
pub async fn delete_passkey(state: &AppState, user: UserId, id: CredentialId) -> AppResult<()> {
    match db::credentials::delete(&state.db, user, id).await? {
        DeleteOutcome::Deleted => Ok(()),
        DeleteOutcome::LastOne => Err(AppError::Conflict(
            "This is your only passkey: add another one before deleting it, or you could never log in again."
                .into(),
        )),
        DeleteOutcome::NotFound => Err(AppError::NotFound),
    }
}

/// End one of the user's sessions (that browser is logged out).
pub async fn revoke_session(state: &AppState, user: UserId, id: SessionId) -> AppResult<()> {
    if db::sessions::revoke(&state.db, user, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The preferences form: each field optional (a form may set one of them).
#[derive(Debug, Default, Deserialize)]
pub struct PreferencesForm {
    pub theme: Option<String>,
    pub default_php_version: Option<String>,
    pub default_database_type: Option<String>,
}

/// Save the given preferences; every field checked first, nothing saved if one is wrong.
pub async fn set_preferences(
    state: &AppState,
    user: UserId,
    form: &PreferencesForm,
) -> AppResult<()> {
    let mut errors = Vec::new();
    let mut set = Vec::new();
    if let Some(theme) = form.theme.as_deref() {
        match theme {
            "light" | "dark" => set.push(("theme", theme.to_owned())),
            _ => errors.push(FieldError::new("theme", "choose light or dark")),
        }
    }
    if let Some(php) = form.default_php_version.as_deref() {
        match php.parse::<PhpVersion>() {
            Ok(v) => set.push(("default_php_version", v.as_str().to_owned())),
            Err(_) => errors.push(FieldError::new(
                "default_php_version",
                "choose a PHP version from the list",
            )),
        }
    }
    if let Some(db_type) = form.default_database_type.as_deref() {
        match db_type {
            "none" => set.push(("default_database_type", "none".to_owned())),
            other => match other.parse::<DatabaseType>() {
                Ok(t) => set.push(("default_database_type", t.as_str().to_owned())),
                Err(_) => errors.push(FieldError::new(
                    "default_database_type",
                    "choose MariaDB, PostgreSQL or none",
                )),
            },
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    for (key, value) in set {
        db::users::set_preference(&state.db, user, key, &value).await?;
    }
    Ok(())
}
