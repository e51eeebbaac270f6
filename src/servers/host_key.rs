//! The pinned SSH host key after onboarding. When a server's sshd is re-keyed, every connection
//! fails (the pin holds). Two audited ways out: run the setup command again (its signed report
//! replaces the pin, `onboard::ready`), or check here what the server presents now and confirm
//! that exact fingerprint.

use std::time::Duration;

use serde::Deserialize;

use crate::db::{self, servers::Server};
use crate::domain::LogLevel;
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{ServerId, UserId};
use crate::ssh::client::{HostKey, probe_host_key};
use crate::state::AppState;

const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server presents now, beside what is pinned.
#[derive(Clone, Debug)]
pub struct HostKeyCheck {
    pub pinned: Option<String>,
    pub presented: String,
}

impl HostKeyCheck {
    pub fn matches(&self) -> bool {
        self.pinned.as_deref() == Some(self.presented.as_str())
    }
}

/// The confirm form: the fingerprint the page showed.
#[derive(Debug, Default, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub fingerprint: String,
}

async fn load(state: &AppState, id: ServerId) -> AppResult<Server> {
    db::servers::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn presented(state: &AppState, server: &Server) -> AppResult<HostKey> {
    let reach = crate::nodes::reach(state, server)
        .await
        .map_err(AppError::Conflict)?;
    probe_host_key(&reach.target, PROBE_TIMEOUT)
        .await
        .map_err(|e| AppError::Conflict(format!("The server could not be reached: {e}")))
}

/// Ask the server for its host key now (nothing is changed).
pub async fn check(state: &AppState, id: ServerId) -> AppResult<HostKeyCheck> {
    let server = load(state, id).await?;
    let now = presented(state, &server).await?;
    Ok(HostKeyCheck {
        pinned: server
            .host_key
            .as_deref()
            .and_then(HostKey::parse)
            .map(|k| k.fingerprint()),
        presented: now.fingerprint(),
    })
}

/// Pin the key the server presents, if it is the one the person saw and confirmed.
pub async fn confirm(
    state: &AppState,
    id: ServerId,
    form: &ConfirmForm,
    actor: Option<UserId>,
) -> AppResult<String> {
    let server = load(state, id).await?;
    let now = presented(state, &server).await?;
    let wanted = form.fingerprint.trim();
    if now.fingerprint() != wanted {
        return Err(AppError::Invalid(vec![FieldError::new(
            "fingerprint",
            format!(
                "the server now presents {}, not the key you confirmed; check again",
                now.fingerprint()
            ),
        )]));
    }
    let old = server
        .host_key
        .as_deref()
        .and_then(HostKey::parse)
        .map(|k| k.fingerprint());
    db::servers::set_host_key(&state.db, id, Some(&now.to_openssh())).await?;
    state.ssh.forget(id);
    db::servers::log(
        &state.db,
        id,
        LogLevel::Warning,
        "SSH host key changed: the new key was confirmed by a user",
        &serde_json::json!({ "old": old, "new": now.fingerprint(), "user_id": actor }),
    )
    .await?;
    Ok(now.fingerprint())
}
