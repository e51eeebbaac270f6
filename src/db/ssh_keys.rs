//! `ssh_keys` (the private half is only ever read by the secrets module).

use super::Pool;
use crate::domain::KeyType;
use crate::ids::SshKeyId;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SshKeySummary {
    pub id: SshKeyId,
    pub name: String,
    pub key_type: KeyType,
    pub fingerprint: String,
    pub has_private_key: bool,
    pub created_at: String,
    /// Names of the servers that use this key, comma-separated (NULL when none).
    pub used_by: Option<String>,
}

pub async fn list(pool: &Pool) -> sqlx::Result<Vec<SshKeySummary>> {
    sqlx::query_as(
        "SELECT k.id, k.name, k.key_type, k.fingerprint,
                k.private_key_encrypted IS NOT NULL AS has_private_key, k.created_at,
                (SELECT group_concat(s.name, ', ') FROM servers s WHERE s.ssh_key_id = k.id) AS used_by
         FROM ssh_keys k ORDER BY k.name COLLATE NOCASE, k.id",
    )
    .fetch_all(pool)
    .await
}
