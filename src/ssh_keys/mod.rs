//! SSH keys the panel logs in with, shared by the web handlers and the CLI: generate, import,
//! delete, find by id or name. Private keys are sealed before they touch the database; only the
//! node door (`nodes::keys`) opens one, for the SSH client.

pub mod forms;

use crate::crypto::ssh::{self, ParsedKey};
use crate::db::ssh_keys::{NewSshKey, SshKeyPublic};
use crate::db::{self};
use crate::domain::{KeyName, KeyType};
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{SshKeyId, UserId};
use crate::state::AppState;

fn parse_name(name: &str) -> AppResult<KeyName> {
    KeyName::parse(name).map_err(|m| AppError::Invalid(vec![FieldError::new("name", m)]))
}

/// Names pick a key in lists and on the command line: two keys may not share one.
async fn name_is_free(state: &AppState, name: &KeyName) -> AppResult<()> {
    if db::ssh_keys::find_by_name(&state.db, name.as_str())
        .await?
        .is_empty()
    {
        Ok(())
    } else {
        Err(AppError::Invalid(vec![FieldError::new(
            "name",
            format!(
                "A key named “{}” is already in the panel: choose another name.",
                name.as_str()
            ),
        )]))
    }
}

/// Generate a key pair (RSA-4096 runs on a blocking thread) and store it.
pub async fn generate(
    state: &AppState,
    name: &str,
    key_type: KeyType,
    actor: Option<UserId>,
) -> AppResult<SshKeyPublic> {
    let name = parse_name(name)?;
    name_is_free(state, &name).await?;
    let comment = name.as_comment();
    let parsed = tokio::task::spawn_blocking(move || ssh::generate(key_type, &comment))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("key generation task failed: {e}")))?;
    store(state, &name, parsed, actor).await
}

/// Import a pasted or uploaded key: an unencrypted OpenSSH private key or a public key line.
/// Both fields are checked before anything is stored, and both errors are reported at once.
pub async fn import(
    state: &AppState,
    name: &str,
    key_text: &str,
    actor: Option<UserId>,
) -> AppResult<SshKeyPublic> {
    let name = KeyName::parse(name);
    let parsed = ssh::parse(key_text);
    let (name, parsed) = match (name, parsed) {
        (Ok(n), Ok(p)) => (n, p),
        (name, parsed) => {
            let mut errors = Vec::new();
            if let Err(m) = name {
                errors.push(FieldError::new("name", m));
            }
            if let Err(e) = parsed {
                errors.push(FieldError::new("key", e.to_string()));
            }
            return Err(AppError::Invalid(errors));
        }
    };
    store(state, &name, parsed, actor).await
}

async fn store(
    state: &AppState,
    name: &KeyName,
    parsed: ParsedKey,
    actor: Option<UserId>,
) -> AppResult<SshKeyPublic> {
    let pool = &state.db;
    if let Some(existing) = db::ssh_keys::find_by_fingerprint(pool, &parsed.fingerprint).await? {
        return Err(duplicate(&existing.name));
    }
    name_is_free(state, name).await?;
    let id = SshKeyId::generate();
    let id_text = id.to_string();
    let sealed = parsed.private_openssh.as_ref().map(|pem| {
        state
            .secrets
            .seal(pem.as_bytes(), crate::nodes::keys::context(&id_text))
    });
    let row = NewSshKey {
        id,
        name: name.as_str(),
        key_type: parsed.key_type,
        public_key: &parsed.public_openssh,
        fingerprint: &parsed.fingerprint,
        private_key_encrypted: sealed,
        created_by: actor,
    };
    // A concurrent import of the same key loses the race here instead of at the check above.
    db::ssh_keys::insert(pool, &row).await.map_err(|e| {
        db::unique_to_field(
            e,
            &[(
                "ssh_keys.fingerprint",
                "key",
                "This key is already in the panel.",
            )],
        )
    })?;
    tracing::info!(key = %id, fingerprint = %parsed.fingerprint, "stored SSH key");
    db::ssh_keys::get(pool, id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("key {id} vanished after insert")))
}

fn duplicate(existing_name: &str) -> AppError {
    AppError::Invalid(vec![FieldError::new(
        "key",
        format!("This key is already in the panel as “{existing_name}”."),
    )])
}

/// Delete a key unless a server logs in with it (then say which).
pub async fn delete(state: &AppState, id: SshKeyId) -> AppResult<()> {
    let pool = &state.db;
    let users = db::ssh_keys::servers_using(pool, id).await?;
    if !users.is_empty() {
        return Err(AppError::Conflict(format!(
            "This key is in use by {}: switch {} to another key first.",
            users.join(", "),
            if users.len() == 1 {
                "that server"
            } else {
                "those servers"
            }
        )));
    }
    if !db::ssh_keys::delete(pool, id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(key = %id, "deleted SSH key");
    Ok(())
}

/// Resolve a key given by id or by (unique) name, for the CLI.
pub async fn resolve(state: &AppState, id_or_name: &str) -> AppResult<SshKeyPublic> {
    let pool = &state.db;
    if let Ok(id) = id_or_name.parse::<SshKeyId>() {
        if let Some(k) = db::ssh_keys::get(pool, id).await? {
            return Ok(k);
        }
    }
    let mut found = db::ssh_keys::find_by_name(pool, id_or_name).await?;
    match found.len() {
        0 => Err(AppError::NotFound),
        1 => Ok(found.remove(0)),
        n => Err(AppError::BadRequest(format!(
            "{n} keys are named “{id_or_name}”; give the id instead"
        ))),
    }
}
