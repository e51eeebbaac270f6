//! The key store the door opens: the sealing context of the panel's SSH private keys and the one
//! function that decrypts one (into a zeroizing buffer, for the SSH client only). The SSH keys
//! resource seals with the same context.

use zeroize::Zeroizing;

use crate::crypto::SecretContext;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::ids::SshKeyId;
use crate::state::AppState;

const TABLE: &str = "ssh_keys";
const PRIVATE_COLUMN: &str = "private_key_encrypted";

/// What a private key's ciphertext is bound to: its table, column and row.
pub fn context(id: &str) -> SecretContext<'_> {
    SecretContext::new(TABLE, PRIVATE_COLUMN, id)
}

/// The decrypted private key (OpenSSH PEM), for the SSH client only.
pub async fn private_key(state: &AppState, id: SshKeyId) -> AppResult<Option<Zeroizing<String>>> {
    let Some(sealed) = db::ssh_keys::sealed_private_key(&state.db, id).await? else {
        return Ok(None);
    };
    let id_text = id.to_string();
    let plain = state
        .secrets
        .open(&sealed, context(&id_text))
        .map_err(|e| AppError::Internal(e.into()))?;
    let text = String::from_utf8(plain.to_vec())
        .map_err(|_| AppError::Internal(anyhow::anyhow!("stored private key {id} is not text")))?;
    Ok(Some(Zeroizing::new(text)))
}
