//! The panel's own certificate: from files (reloaded when they change: a certificate another
//! tool renews), or from the `[acme]` directory for the public URL's host, obtained at start,
//! kept sealed in the database and renewed by the panel (30 days ahead, or at 2/3 of a short
//! lifetime), its HTTP-01 challenges answered by the plain-HTTP listener.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use crate::crypto::SecretContext;
use crate::db::{self};
use crate::state::AppState;
use crate::tls::explain::Explained;
use crate::tls::serve::CertStore;
use crate::tls::{acme, inspect};

/// How often the certificate files are looked at.
const FILE_POLL: Duration = Duration::from_secs(2);
/// How long the CA may take to check a challenge.
const PATIENCE: Duration = Duration::from_secs(90);

fn key_context(host: &str) -> SecretContext<'_> {
    SecretContext::new("panel_certificates", "key_encrypted", host)
}

fn read(cert: &Path, key: &Path) -> Result<(String, String), String> {
    let c = std::fs::read_to_string(cert).map_err(|e| format!("{}: {e}", cert.display()))?;
    let k = std::fs::read_to_string(key).map_err(|e| format!("{}: {e}", key.display()))?;
    Ok((c, k))
}

/// Load the certificate files into `store` (at start: a bad file stops the panel there).
pub fn load_files(cert: &Path, key: &Path, store: &CertStore) -> Result<(), String> {
    let (c, k) = read(cert, key)?;
    store.set_pem(&c, &k)
}

fn stamp(paths: &[&Path]) -> Vec<Option<(SystemTime, u64)>> {
    paths
        .iter()
        .map(|p| {
            std::fs::metadata(p)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())))
        })
        .collect()
}

/// Reload the files whenever either changes; a bad new pair is logged and the old one kept.
pub fn watch_files(cert: PathBuf, key: PathBuf, store: Arc<CertStore>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen = stamp(&[&cert, &key]);
        loop {
            tokio::time::sleep(FILE_POLL).await;
            let now = stamp(&[&cert, &key]);
            if now == seen {
                continue;
            }
            seen = now;
            match read(&cert, &key).and_then(|(c, k)| store.set_pem(&c, &k)) {
                Ok(()) => {
                    tracing::info!("reloaded the panel's certificate from {}", cert.display())
                }
                Err(e) => tracing::warn!("kept the previous certificate: {e}"),
            }
        }
    })
}

/// Obtain (or restore) and renew the panel's ACME certificate for as long as the panel runs.
pub fn spawn_acme(state: AppState, store: Arc<CertStore>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let host = state.config.host();
        let mut renew_at = restore(&state, &host, &store).await;
        loop {
            if state.db.is_closed() {
                return;
            }
            if renew_at.is_none_or(|t| Utc::now() >= t) {
                match obtain(&state, &host, &store).await {
                    Ok(next) => {
                        tracing::info!(
                            "the panel's certificate for {host} is renewed; next renewal {next}"
                        );
                        renew_at = Some(next);
                    }
                    Err(e) => tracing::error!(
                        kind = e.kind,
                        "the panel's certificate for {host}: {}",
                        e.text
                    ),
                }
            }
            tokio::time::sleep(state.config.acme.check_interval).await;
        }
    })
}

/// Serve the stored certificate, if any; when it should be renewed.
async fn restore(state: &AppState, host: &str, store: &CertStore) -> Option<DateTime<Utc>> {
    let stored = db::certificates::panel_get(&state.db, host).await.ok()??;
    let key = state
        .secrets
        .open(&stored.key_encrypted, key_context(host))
        .ok()?;
    store
        .set_pem(&stored.chain_pem, &String::from_utf8_lossy(&key))
        .ok()?;
    DateTime::parse_from_rfc3339(&stored.renew_at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Order, answer the challenges from memory, store sealed, serve; the next renewal time.
async fn obtain(
    state: &AppState,
    host: &str,
    store: &CertStore,
) -> Result<DateTime<Utc>, Explained> {
    let dir = crate::certificates::directory(&state.config.acme);
    let (account, _) = crate::certificates::account(state, &dir).await?;
    let names = vec![host.to_owned()];
    let pending = acme::start(&dir, &account, &names, acme::Proof::Http01).await?;
    let tokens: Vec<String> = pending.challenges.iter().map(|c| c.token.clone()).collect();
    {
        let mut map = state.acme_challenges.lock().expect("not poisoned");
        for c in &pending.challenges {
            map.insert(c.token.clone(), c.key_authorization.clone());
        }
    }
    let issued = acme::finish(&dir, pending, PATIENCE).await;
    {
        let mut map = state.acme_challenges.lock().expect("not poisoned");
        for t in &tokens {
            map.remove(t);
        }
    }
    let issued = issued?;
    let info = inspect::leaf_info(&issued.chain_pem).map_err(|m| Explained {
        kind: "ca",
        text: format!("The CA's certificate {m}."),
    })?;
    store
        .set_pem(&issued.chain_pem, &issued.key_pem)
        .map_err(|m| Explained {
            kind: "ca",
            text: m,
        })?;
    let renew_at = inspect::renew_at(info.not_before, info.not_after);
    let sealed = state
        .secrets
        .seal(issued.key_pem.as_bytes(), key_context(host));
    db::certificates::panel_store(
        &state.db,
        &db::certificates::PanelCertificate {
            host: host.to_owned(),
            chain_pem: issued.chain_pem.clone(),
            key_encrypted: sealed,
            not_after: db::timestamp(info.not_after),
            renew_at: db::timestamp(renew_at),
        },
    )
    .await
    .map_err(|e| Explained {
        kind: "panel",
        text: format!("The certificate could not be stored: {e}"),
    })?;
    Ok(renew_at)
}
