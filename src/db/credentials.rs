//! `credentials`: users' passkeys.

use super::Pool;
use crate::ids::{CredentialId, UserId};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CredentialListing {
    pub id: CredentialId,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StoredCredential {
    pub id: CredentialId,
    pub user_id: UserId,
    pub passkey: String,
}

pub async fn insert(
    conn: &mut sqlx::SqliteConnection,
    user_id: UserId,
    credential_id: &str,
    name: &str,
    passkey_json: &str,
) -> sqlx::Result<CredentialId> {
    let id = CredentialId::generate();
    sqlx::query(
        "INSERT INTO credentials (id, user_id, credential_id, name, passkey) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(user_id)
    .bind(credential_id)
    .bind(name)
    .bind(passkey_json)
    .execute(conn)
    .await?;
    Ok(id)
}

pub async fn list_for_user(pool: &Pool, user_id: UserId) -> sqlx::Result<Vec<CredentialListing>> {
    sqlx::query_as(
        "SELECT id, name, created_at, last_used_at FROM credentials WHERE user_id = ? ORDER BY created_at",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
}

/// The serialised passkeys of a user (to exclude them when adding another).
pub async fn passkeys_of(pool: &Pool, user_id: UserId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT passkey FROM credentials WHERE user_id = ?")
        .bind(user_id)
        .fetch_all(pool)
        .await
}

pub async fn find(pool: &Pool, credential_id: &str) -> sqlx::Result<Option<StoredCredential>> {
    sqlx::query_as("SELECT id, user_id, passkey FROM credentials WHERE credential_id = ?")
        .bind(credential_id)
        .fetch_optional(pool)
        .await
}

pub async fn record_use(
    pool: &Pool,
    id: CredentialId,
    passkey_json: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE credentials SET last_used_at = ?, passkey = coalesce(?, passkey) WHERE id = ?",
    )
    .bind(super::now())
    .bind(passkey_json)
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ())
}

pub enum DeleteOutcome {
    Deleted,
    NotFound,
    LastOne,
}

/// Delete one of a user's passkeys, unless it is their last (they could never log in again).
pub async fn delete(pool: &Pool, user_id: UserId, id: CredentialId) -> sqlx::Result<DeleteOutcome> {
    let done = sqlx::query(
        "DELETE FROM credentials WHERE id = ? AND user_id = ?
           AND (SELECT count(*) FROM credentials WHERE user_id = ?) > 1",
    )
    .bind(id)
    .bind(user_id)
    .bind(user_id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(DeleteOutcome::Deleted);
    }
    let exists: bool =
        sqlx::query_scalar("SELECT count(*) > 0 FROM credentials WHERE id = ? AND user_id = ?")
            .bind(id)
            .bind(user_id)
            .fetch_one(pool)
            .await?;
    Ok(if exists {
        DeleteOutcome::LastOne
    } else {
        DeleteOutcome::NotFound
    })
}
