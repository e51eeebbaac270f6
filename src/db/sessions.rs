//! `sessions`: server-side login state.

use super::Pool;
use crate::ids::{SessionId, UserId};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub id: SessionId,
    pub user_id: Option<UserId>,
    pub csrf_token: String,
    pub ceremony: Option<String>,
    pub last_seen_at: String,
    pub expires_at: String,
    /// When the user last proved presence with a passkey in this session.
    pub verified_at: Option<String>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionListing {
    pub id: SessionId,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: String,
    pub last_seen_at: String,
}

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: Option<UserId>,
    pub csrf_token: &'a str,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub expires_at: String,
}

pub async fn insert(pool: &Pool, s: &NewSession<'_>) -> sqlx::Result<SessionId> {
    let id = SessionId::generate();
    sqlx::query(
        // A session with a user is made right after a passkey ceremony: that is its first
        // proof of presence.
        "INSERT INTO sessions (id, token_hash, user_id, csrf_token, ip, user_agent, expires_at,
                               verified_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, CASE WHEN ? IS NULL THEN NULL ELSE ? END)",
    )
    .bind(id)
    .bind(s.token_hash)
    .bind(s.user_id)
    .bind(s.csrf_token)
    .bind(s.ip)
    .bind(s.user_agent)
    .bind(&s.expires_at)
    .bind(s.user_id)
    .bind(super::now())
    .execute(pool)
    .await?;
    Ok(id)
}

pub async fn find(pool: &Pool, token_hash: &str) -> sqlx::Result<Option<SessionRow>> {
    sqlx::query_as(
        "SELECT id, user_id, csrf_token, ceremony, last_seen_at, expires_at, verified_at
         FROM sessions WHERE token_hash = ?",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

pub async fn touch(pool: &Pool, id: SessionId) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id = ?")
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

pub async fn set_ceremony(pool: &Pool, id: SessionId, ceremony: Option<&str>) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET ceremony = ? WHERE id = ?")
        .bind(ceremony)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Take the ceremony state out (it is single use: a replayed response finds nothing).
/// (SQLite's RETURNING shows the new, NULL value, hence read-then-clear; the clear only succeeds
/// if the value is still the one read, so two concurrent takers cannot both get it.)
pub async fn take_ceremony(pool: &Pool, id: SessionId) -> sqlx::Result<Option<String>> {
    let current: Option<String> = sqlx::query_scalar("SELECT ceremony FROM sessions WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .flatten();
    let Some(ceremony) = current else {
        return Ok(None);
    };
    let cleared = sqlx::query("UPDATE sessions SET ceremony = NULL WHERE id = ? AND ceremony = ?")
        .bind(id)
        .bind(&ceremony)
        .execute(pool)
        .await?;
    Ok((cleared.rows_affected() == 1).then_some(ceremony))
}

pub async fn delete(pool: &Pool, id: SessionId) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Revoke one of a user's sessions; false if it is not theirs or does not exist.
pub async fn revoke(pool: &Pool, user_id: UserId, id: SessionId) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM sessions WHERE id = ? AND user_id = ?")
        .bind(id)
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_for_user(pool: &Pool, user_id: UserId) -> sqlx::Result<u64> {
    sqlx::query("DELETE FROM sessions WHERE user_id = ?")
        .bind(user_id)
        .execute(pool)
        .await
        .map(|d| d.rows_affected())
}

/// The user's live sessions, most recently active first.
pub async fn list_for_user(pool: &Pool, user_id: UserId) -> sqlx::Result<Vec<SessionListing>> {
    sqlx::query_as(
        "SELECT id, ip, user_agent, created_at, last_seen_at FROM sessions
         WHERE user_id = ? AND expires_at > ? ORDER BY last_seen_at DESC",
    )
    .bind(user_id)
    .bind(super::now())
    .fetch_all(pool)
    .await
}

/// Drop sessions past their absolute end or idle for longer than `idle_cutoff` (a timestamp).
pub async fn purge_expired(pool: &Pool, idle_cutoff: &str) -> sqlx::Result<u64> {
    sqlx::query("DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?")
        .bind(super::now())
        .bind(idle_cutoff)
        .execute(pool)
        .await
        .map(|d| d.rows_affected())
}

/// The user just proved presence with a passkey again (a confirmation before a sensitive step).
pub async fn mark_verified(pool: &Pool, id: SessionId) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET verified_at = ? WHERE id = ? AND user_id IS NOT NULL")
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}
