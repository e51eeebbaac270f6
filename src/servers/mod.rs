//! Servers: adding one (with its one-time setup URL), serving the rendered setup script,
//! onboarding after its signed "ready" callback, health, key rotation, retrying a server job,
//! and deleting a server from the panel.

pub mod forms;
pub mod health;
pub mod host_key;
pub mod onboard;
pub mod rotate;

use std::time::Duration;

use crate::db::servers::{NewServer, Server};
use crate::db::{self};
use crate::domain::{JobKind, JobStatus, LogLevel, ServerStatus};
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{JobId, ServerId, UserId};
use crate::nodes::callbacks;
use crate::state::AppState;

pub use forms::{DeleteForm, ServerForm};
pub use health::{Health, health};
pub use onboard::{onboard, ready};
pub use rotate::{KeyRotationFault, rotate_key};

/// A setup URL works this long.
pub const SETUP_TTL: Duration = Duration::from_secs(60 * 60);
/// The node setup script, rendered with the server's values in front of it.
pub const SETUP_SCRIPT: &str = include_str!("../../setup/setup.sh");

/// Add a server: every field checked (all errors at once), the row stored `pending` with a fresh
/// callback secret, and a one-time setup URL returned.
pub async fn create(
    state: &AppState,
    form: &ServerForm,
    actor: Option<UserId>,
) -> AppResult<(ServerId, String)> {
    let input = forms::parse(&state.db, form)
        .await?
        .map_err(AppError::Invalid)?;
    let id = ServerId::generate();
    let (_, sealed) = callbacks::new_secret(state, id);
    db::servers::insert(
        &state.db,
        &NewServer {
            id,
            name: input.name.as_str(),
            ip_address: &input.conn.ip.to_string(),
            hostname: input.conn.hostname.as_str(),
            os_version: input.os,
            ssh_port: input.conn.port.get(),
            ssh_user: input.conn.user.as_str(),
            ssh_key_id: input.key.id,
            callback_secret_encrypted: &sealed,
        },
        &input.php,
    )
    .await
    .map_err(|e| {
        db::unique_to_field(
            e,
            &[(
                "servers.ip_address",
                "ip_address",
                "A server with this IP address is already in the panel.",
            )],
        )
    })?;
    db::servers::log(
        &state.db,
        id,
        LogLevel::Info,
        "server added",
        &serde_json::json!({ "actor": actor }),
    )
    .await?;
    let url = new_setup_url(state, id).await?;
    Ok((id, url))
}

/// A fresh one-time setup URL for a server (the page offers a new one when the last expired).
pub async fn new_setup_url(state: &AppState, id: ServerId) -> AppResult<String> {
    let token = crate::crypto::random::token();
    let row = crate::ids::SetupTokenId::generate();
    let row_text = row.to_string();
    let sealed = state.secrets.seal(
        token.as_bytes(),
        crate::crypto::SecretContext::new("setup_tokens", "token_encrypted", &row_text),
    );
    db::servers::insert_setup_token(
        &state.db,
        row,
        id,
        &crate::auth::hash_token(&token),
        &sealed,
        &crate::auth::after(SETUP_TTL),
    )
    .await?;
    Ok(setup_url(state, &token))
}

fn setup_url(state: &AppState, token: &str) -> String {
    format!("{}/setup/{token}", state.config.servers_url())
}

/// The server's setup URL while its token is unused and unexpired (the page shows the command
/// until the server reports back), with when it expires.
pub async fn live_setup_url(state: &AppState, id: ServerId) -> AppResult<Option<(String, String)>> {
    let Some((row, sealed, expires)) = db::servers::live_setup_token(&state.db, id).await? else {
        return Ok(None);
    };
    let row_text = row.to_string();
    let token = state
        .secrets
        .open(
            &sealed,
            crate::crypto::SecretContext::new("setup_tokens", "token_encrypted", &row_text),
        )
        .map_err(|e| AppError::Internal(e.into()))?;
    let token = std::str::from_utf8(&token).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Some((setup_url(state, token), expires)))
}

/// The command an operator runs on the new server, as a person reads it: the URL quoted only if
/// a shell would otherwise change it (it never needs to: `token` is URL-safe base64).
pub fn setup_command(url: &str) -> String {
    format!(
        "curl -fsSL {} | sudo bash",
        crate::ssh::command::quote_if_needed(url)
    )
}

/// Render the setup script for a live setup token's server (each fetch logged with the address
/// and time). `None` for unknown, spent and expired tokens alike.
pub async fn render_setup(
    state: &AppState,
    token: &str,
    client_ip: &str,
) -> AppResult<Option<String>> {
    let pool = &state.db;
    if token.len() > 128 {
        return Ok(None);
    }
    let Some(id) = db::servers::setup_token_server(pool, &crate::auth::hash_token(token)).await?
    else {
        return Ok(None);
    };
    let server = db::servers::get(pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let key_id = server
        .ssh_key_id
        .ok_or_else(|| AppError::Conflict("this server has no SSH key".into()))?;
    let key = db::ssh_keys::get(pool, key_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let secret = callbacks::secret(state, id).await?;
    // A server being set up waits for its callback; an active one stays active (running the
    // setup again is the documented way to report new host keys, and changes nothing else).
    if matches!(server.status, ServerStatus::Pending | ServerStatus::Error) {
        db::servers::set_status(pool, id, ServerStatus::Provisioning, None).await?;
    }
    db::servers::log(
        pool,
        id,
        LogLevel::Info,
        "setup script fetched",
        &serde_json::json!({ "ip": client_ip, "at": db::now() }),
    )
    .await?;
    let php: Vec<String> = db::software::php(pool, id)
        .await?
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let mut script = render_script(&state.config, &server, &key.public_key, &secret);
    if !php.is_empty() {
        // Versions were validated when chosen; quoted like every other value.
        let line = format!(
            "PANEL_PHP_VERSIONS={}\n",
            crate::ssh::command::quote(&php.join(" "))
        );
        let at = script.find("PANEL_URL=").unwrap_or(0);
        script.insert_str(at, &line);
    }
    Ok(Some(script))
}

/// The script with the server's values assigned at the top, each single-quoted.
pub fn render_script(
    config: &crate::config::Config,
    server: &Server,
    panel_public_key: &str,
    secret: &str,
) -> String {
    use crate::ssh::command::quote;
    let assignments = [
        ("PANEL_URL", config.servers_url()),
        ("PANEL_SERVER_ID", &server.id.to_string()),
        ("PANEL_OS", server.os_version.as_str()),
        ("PANEL_SSH_USER", &server.ssh_user),
        ("PANEL_SSH_KEY", panel_public_key),
        ("PANEL_CALLBACK_SECRET", secret),
    ]
    .map(|(k, v)| format!("{k}={}\n", quote(v)))
    .concat();
    let body = SETUP_SCRIPT
        .strip_prefix("#!/usr/bin/env bash\n")
        .unwrap_or(SETUP_SCRIPT);
    format!(
        "#!/usr/bin/env bash\n# Rendered by Panel for server {} ({}).\n{assignments}{body}",
        server.id, server.os_version
    )
}

/// Delete a server from the panel after its name is typed to confirm; everything the panel
/// recorded about it goes with it (the node itself is not touched).
pub async fn delete(state: &AppState, id: ServerId, form: &DeleteForm) -> AppResult<()> {
    let server = db::servers::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if form.confirm.trim() != server.name {
        return Err(AppError::Invalid(vec![FieldError::new(
            "confirm",
            format!("type the server's name, {}, to confirm", server.name),
        )]));
    }
    db::servers::delete(&state.db, id).await?;
    state.ssh.forget(id);
    tracing::info!(server = %id, "server deleted");
    Ok(())
}

/// Run an interrupted or failed server job again, rebuilt from its kind and arguments. Steps
/// are idempotent (checked before applied), so a retry resumes rather than repeats.
pub async fn retry_job(
    state: &AppState,
    job: &db::jobs::Job,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    if !matches!(job.status, JobStatus::Failed | JobStatus::Interrupted) {
        return Err(AppError::Conflict(
            "Only a failed or interrupted job can be retried.".into(),
        ));
    }
    let args: serde_json::Value =
        serde_json::from_str(&job.args).map_err(|e| AppError::Internal(e.into()))?;
    let server_id: ServerId = args["server_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| AppError::Conflict("This job cannot be retried.".into()))?;
    let server = db::servers::get(&state.db, server_id)
        .await?
        .ok_or_else(|| AppError::Conflict("The job's server no longer exists.".into()))?;
    let id = match job.kind {
        JobKind::ServerOnboard => onboard(state, &server, actor).await?,
        JobKind::ServerRotateKey => rotate_key(state, &server, actor, None).await?,
        _ => {
            return Err(AppError::Conflict(
                "This kind of job cannot be retried.".into(),
            ));
        }
    };
    Ok(id)
}

/// Job kinds `retry_job` can run again.
pub fn is_retryable(kind: JobKind) -> bool {
    matches!(kind, JobKind::ServerOnboard | JobKind::ServerRotateKey)
}
