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

/// A key as stored, without its private half.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SshKeyPublic {
    pub id: SshKeyId,
    pub name: String,
    pub key_type: KeyType,
    pub public_key: String,
    pub fingerprint: String,
    pub has_private_key: bool,
}

pub struct NewSshKey<'a> {
    pub id: SshKeyId,
    pub name: &'a str,
    pub key_type: KeyType,
    pub public_key: &'a str,
    pub fingerprint: &'a str,
    pub private_key_encrypted: Option<Vec<u8>>,
    pub created_by: Option<crate::ids::UserId>,
}

pub async fn insert(pool: &Pool, key: &NewSshKey<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ssh_keys (id, name, key_type, public_key, private_key_encrypted, fingerprint, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(key.id)
    .bind(key.name)
    .bind(key.key_type)
    .bind(key.public_key)
    .bind(key.private_key_encrypted.as_deref())
    .bind(key.fingerprint)
    .bind(key.created_by)
    .execute(pool)
    .await
    .map(|_| ())
}

const PUBLIC_COLUMNS: &str = "id, name, key_type, public_key, fingerprint, private_key_encrypted IS NOT NULL AS has_private_key";

pub async fn get(pool: &Pool, id: SshKeyId) -> sqlx::Result<Option<SshKeyPublic>> {
    sqlx::query_as(&format!(
        "SELECT {PUBLIC_COLUMNS} FROM ssh_keys WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn find_by_fingerprint(
    pool: &Pool,
    fingerprint: &str,
) -> sqlx::Result<Option<SshKeyPublic>> {
    sqlx::query_as(&format!(
        "SELECT {PUBLIC_COLUMNS} FROM ssh_keys WHERE fingerprint = ?"
    ))
    .bind(fingerprint)
    .fetch_optional(pool)
    .await
}

/// Keys whose name is exactly `name` (names are not unique).
pub async fn find_by_name(pool: &Pool, name: &str) -> sqlx::Result<Vec<SshKeyPublic>> {
    sqlx::query_as(&format!(
        "SELECT {PUBLIC_COLUMNS} FROM ssh_keys WHERE name = ? ORDER BY id"
    ))
    .bind(name)
    .fetch_all(pool)
    .await
}

/// The sealed private key, if one is stored.
pub async fn sealed_private_key(pool: &Pool, id: SshKeyId) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT private_key_encrypted FROM ssh_keys WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map(Option::flatten)
}

/// Names of the servers that log in with this key.
pub async fn servers_using(pool: &Pool, id: SshKeyId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT name FROM servers WHERE ssh_key_id = ? ORDER BY name")
        .bind(id)
        .fetch_all(pool)
        .await
}

/// Delete a key; returns false if it did not exist. The schema refuses keys in use (RESTRICT).
pub async fn delete(pool: &Pool, id: SshKeyId) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM ssh_keys WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}
