//! The panel's secret box at run time: which master key is current (finishing or undoing an
//! interrupted rotation on start), and `panel key rotate`, which re-encrypts every secret.
//!
//! Rotation protocol: write the next key to `master.key.next`; re-encrypt every secret column in
//! one transaction; commit; rename `master.key.next` over `master.key`. A crash before the commit
//! leaves every secret under the old key (the next file is discarded on start); a crash after it
//! leaves them under the new key (the next file is promoted on start). Either way the panel opens.

use std::path::Path;

use anyhow::{Context, bail};

use crate::crypto::master_key::{KEY_FILE, NEXT_KEY_FILE};
use crate::crypto::{MasterKey, SecretBox, SecretContext};
use crate::db::{self, Pool};

/// Every encrypted column: `(table, key column, column)`; each ciphertext is bound to its row's
/// key. Rotation and the start-up check walk this list.
pub const SECRET_COLUMNS: &[(&str, &str, &str)] = &[
    ("ssh_keys", "id", "private_key_encrypted"),
    ("databases", "id", "password_encrypted"),
    ("servers", "id", "callback_secret_encrypted"),
    ("setup_tokens", "id", "token_encrypted"),
    ("sites", "id", "env_encrypted"),
    ("site_repositories", "site_id", "deploy_key_encrypted"),
    ("site_repositories", "site_id", "webhook_secret_encrypted"),
    ("site_certificates", "site_id", "key_encrypted"),
    ("site_certificates", "site_id", "dns_secret_encrypted"),
    ("acme_accounts", "directory", "credentials_encrypted"),
    ("panel_certificates", "host", "key_encrypted"),
];

/// Open the secret box for `data_dir`. With `PANEL_KEY` given, that key is the only one.
pub async fn open_box(
    pool: &Pool,
    data_dir: &Path,
    env_key: Option<&str>,
) -> anyhow::Result<SecretBox> {
    if let Some(text) = env_key {
        return Ok(SecretBox::new(MasterKey::load(data_dir, Some(text))?));
    }
    let current = MasterKey::load_or_create_file(&data_dir.join(KEY_FILE))?;
    let next_path = data_dir.join(NEXT_KEY_FILE);
    let Some(next) = MasterKey::read_file(&next_path)? else {
        return Ok(SecretBox::new(current));
    };
    if count_sealed_with(pool, next.id()).await? > 0 {
        // The re-encryption committed; only the rename was lost.
        std::fs::rename(&next_path, data_dir.join(KEY_FILE))
            .context("promoting the next master key")?;
        sync_dir(data_dir);
        tracing::warn!(
            "finished an interrupted master key rotation (new key {:08x})",
            next.id()
        );
        Ok(SecretBox::new(next))
    } else {
        std::fs::remove_file(&next_path).context("discarding an unfinished master key")?;
        tracing::warn!(
            "discarded an interrupted master key rotation; secrets stay under key {:08x}",
            current.id()
        );
        Ok(SecretBox::new(current))
    }
}

async fn count_sealed_with(pool: &Pool, key_id: u32) -> anyhow::Result<usize> {
    let mut n = 0;
    for (table, key, column) in SECRET_COLUMNS {
        n += db::secrets::sealed(pool, table, key, column)
            .await?
            .iter()
            .filter(|(_, sealed)| SecretBox::key_id_of(sealed) == Some(key_id))
            .count();
    }
    Ok(n)
}

/// Where a test may make rotation stop as if the process had been killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RotationFault {
    BeforeCommit,
    AfterCommit,
}

#[derive(Debug)]
pub struct RotationReport {
    pub old_key_id: u32,
    pub new_key_id: u32,
    pub secrets: usize,
}

/// `panel key rotate`.
pub async fn rotate(
    pool: &Pool,
    data_dir: &Path,
    env_key: Option<&str>,
) -> anyhow::Result<RotationReport> {
    rotate_with_fault(pool, data_dir, env_key, None).await
}

pub async fn rotate_with_fault(
    pool: &Pool,
    data_dir: &Path,
    env_key: Option<&str>,
    fault: Option<RotationFault>,
) -> anyhow::Result<RotationReport> {
    if env_key.is_some() {
        bail!(
            "the master key comes from PANEL_KEY, which the panel cannot rewrite; unset PANEL_KEY to use the key file, or re-encrypt by hand"
        );
    }
    let old = open_box(pool, data_dir, None).await?;
    let new_key = MasterKey::generate();
    let next_path = data_dir.join(NEXT_KEY_FILE);
    new_key.write_new_file(&next_path)?;
    sync_dir(data_dir);
    let new = SecretBox::new(new_key.clone());

    let mut tx = pool.begin().await?;
    let mut secrets = 0;
    for (table, key, column) in SECRET_COLUMNS {
        for (id, sealed) in db::secrets::sealed(&mut *tx, table, key, column).await? {
            let ctx = SecretContext::new(table, column, &id);
            let plain = old.open(&sealed, ctx)?;
            let resealed = new.seal(&plain, ctx);
            db::secrets::replace(&mut *tx, (table, key, column), &id, &resealed).await?;
            secrets += 1;
        }
    }
    if fault == Some(RotationFault::BeforeCommit) {
        bail!("simulated crash before commit");
    }
    tx.commit().await?;
    if fault == Some(RotationFault::AfterCommit) {
        bail!("simulated crash after commit");
    }
    std::fs::rename(&next_path, data_dir.join(KEY_FILE))
        .context("installing the new master key")?;
    sync_dir(data_dir);
    Ok(RotationReport {
        old_key_id: old.current_key_id(),
        new_key_id: new_key.id(),
        secrets,
    })
}

/// Make a rename durable (best effort: some filesystems refuse fsync on directories).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
