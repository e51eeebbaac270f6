//! The node's signed callbacks (server-ready from the setup script, site-created from a site's
//! provisioning): each server has its own secret, sealed at rest, and a callback is
//! `HMAC-SHA256(secret, TIMESTAMP.NONCE.BODY)` within a time window, with a nonce never seen
//! before, whose body names the server whose secret signed it.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::crypto::{SecretContext, random};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::ids::ServerId;
use crate::state::AppState;

/// Callbacks older or newer than this (clock skew included) are refused.
pub const CALLBACK_WINDOW: i64 = 300;

const SECRET_TABLE: &str = "servers";
const SECRET_COLUMN: &str = "callback_secret_encrypted";

/// The three headers a signed callback carries, as received.
#[derive(Clone, Copy, Debug, Default)]
pub struct Signed<'a> {
    pub timestamp: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub signature: Option<&'a str>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallbackError {
    /// Unknown server, bad or missing signature, replay, stale timestamp: one answer for all.
    #[error("invalid or expired signature")]
    Refused,
    #[error("malformed callback body")]
    Malformed,
}

/// A fresh callback secret for a new server: `(plain, sealed for servers.callback_secret_encrypted)`.
pub fn new_secret(state: &AppState, id: ServerId) -> (String, Vec<u8>) {
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::bytes::<32>());
    let id_text = id.to_string();
    let sealed = state.secrets.seal(
        secret.as_bytes(),
        SecretContext::new(SECRET_TABLE, SECRET_COLUMN, &id_text),
    );
    (secret, sealed)
}

/// A server's callback secret in clear (rendered into its setup script and site plans).
pub async fn secret(state: &AppState, id: ServerId) -> AppResult<String> {
    let sealed = db::servers::callback_secret(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let id_text = id.to_string();
    let plain = state
        .secrets
        .open(
            &sealed,
            SecretContext::new(SECRET_TABLE, SECRET_COLUMN, &id_text),
        )
        .map_err(|e| AppError::Internal(e.into()))?;
    String::from_utf8(plain.to_vec()).map_err(|e| AppError::Internal(e.into()))
}

/// Verify a signed node callback: the body names its server, whose secret must have signed
/// it, within the time window, with a fresh nonce (remembered here, so a replay is refused).
pub async fn verify<T: serde::de::DeserializeOwned>(
    state: &AppState,
    signed: Signed<'_>,
    body: &[u8],
    server_of: impl Fn(&T) -> &str,
) -> Result<(ServerId, T), CallbackError> {
    let (Some(timestamp), Some(nonce), Some(signature)) =
        (signed.timestamp, signed.nonce, signed.signature)
    else {
        return Err(CallbackError::Refused);
    };
    let report: T = serde_json::from_slice(body).map_err(|_| CallbackError::Malformed)?;
    let id: ServerId = server_of(&report)
        .parse()
        .map_err(|_| CallbackError::Refused)?;
    let ts: i64 = timestamp.parse().map_err(|_| CallbackError::Refused)?;
    if (chrono::Utc::now().timestamp() - ts).abs() > CALLBACK_WINDOW {
        return Err(CallbackError::Refused);
    }
    if !(16..=128).contains(&nonce.len())
        || !nonce
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(CallbackError::Refused);
    }
    let Ok(secret) = secret(state, id).await else {
        return Err(CallbackError::Refused);
    };
    let given = signature.strip_prefix("sha256=").unwrap_or(signature);
    let Ok(given) = hex::decode(given) else {
        return Err(CallbackError::Refused);
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(&signed_bytes(timestamp, nonce, body));
    // Constant-time comparison (hmac's verify).
    if mac.verify_slice(&given).is_err() {
        return Err(CallbackError::Refused);
    }
    match db::servers::use_nonce(&state.db, id, nonce).await {
        Ok(true) => Ok((id, report)),
        _ => Err(CallbackError::Refused),
    }
}

fn signed_bytes(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 2);
    v.extend_from_slice(timestamp.as_bytes());
    v.push(b'.');
    v.extend_from_slice(nonce.as_bytes());
    v.push(b'.');
    v.extend_from_slice(body);
    v
}

/// `hex(HMAC-SHA256(secret, TIMESTAMP.NONCE.BODY))`, as the setup script computes it.
pub fn sign(secret: &str, timestamp: &str, nonce: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(&signed_bytes(timestamp, nonce, body));
    hex::encode(mac.finalize().into_bytes())
}
