//! `api_tokens` and `api_token_servers`.

use super::Pool;
use crate::domain::Role;
use crate::ids::{ApiTokenId, ServerId, UserId};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApiToken {
    pub id: ApiTokenId,
    /// `None`: made on the panel host's command line.
    pub user_id: Option<UserId>,
    pub name: String,
    pub prefix: String,
    pub role: Role,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub last_used_from: Option<String>,
    pub revoked_at: Option<String>,
    /// Limited to some servers (their names below; none left: it reaches none).
    pub limited: bool,
    pub server_names: Option<String>,
}

/// A token found by its hash, with its creator's role and status (a token never does more than
/// its creator could today).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TokenOwner {
    pub id: ApiTokenId,
    pub name: String,
    pub role: Role,
    pub user_id: Option<UserId>,
    pub user_role: Role,
    pub user_active: bool,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    /// Limited to its `api_token_servers` rows (even when none are left).
    pub limited: bool,
}

const COLUMNS: &str = "id, user_id, name, prefix, role, created_at, expires_at, last_used_at, \
     last_used_from, revoked_at, limited, \
     (SELECT group_concat(s.name, ', ') FROM api_token_servers ts JOIN servers s ON s.id = ts.server_id \
      WHERE ts.token_id = api_tokens.id) AS server_names";

pub struct NewToken<'a> {
    pub id: ApiTokenId,
    pub user_id: Option<UserId>,
    pub name: &'a str,
    pub prefix: &'a str,
    pub token_hash: &'a str,
    pub role: Role,
    pub expires_at: Option<String>,
    pub servers: &'a [ServerId],
}

/// Store a token and its server limits together.
pub async fn insert(pool: &Pool, t: &NewToken<'_>) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, role, expires_at, limited)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(t.id)
    .bind(t.user_id)
    .bind(t.name)
    .bind(t.prefix)
    .bind(t.token_hash)
    .bind(t.role)
    .bind(&t.expires_at)
    .bind(!t.servers.is_empty())
    .execute(&mut *tx)
    .await?;
    for server in t.servers {
        sqlx::query("INSERT OR IGNORE INTO api_token_servers (token_id, server_id) VALUES (?, ?)")
            .bind(t.id)
            .bind(server)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

pub async fn find_by_hash(pool: &Pool, token_hash: &str) -> sqlx::Result<Option<TokenOwner>> {
    sqlx::query_as(
        // A command-line token has no user: the host's operator stands behind it as an owner.
        "SELECT t.id, t.name, t.role, t.user_id, coalesce(u.role, 'owner') AS user_role,
                (t.user_id IS NULL OR u.status = 'active') AS user_active, t.expires_at,
                t.revoked_at, t.last_used_at, t.limited
         FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = ?",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

/// The servers a token is limited to (empty: every server).
pub async fn servers(pool: &Pool, id: ApiTokenId) -> sqlx::Result<Vec<ServerId>> {
    sqlx::query_scalar(
        "SELECT server_id FROM api_token_servers WHERE token_id = ? ORDER BY server_id",
    )
    .bind(id)
    .fetch_all(pool)
    .await
}

/// Record a use (at most once a minute per token: callers check `last_used_at`).
pub async fn touch(pool: &Pool, id: ApiTokenId, from: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE api_tokens SET last_used_at = ?, last_used_from = ? WHERE id = ?")
        .bind(super::now())
        .bind(from)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// A user's tokens, newest first (revoked ones too: the list shows when).
pub async fn list_for_user(pool: &Pool, user_id: UserId) -> sqlx::Result<Vec<ApiToken>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await
}

/// Every token, newest first (the command line's list).
pub async fn list_all(pool: &Pool) -> sqlx::Result<Vec<ApiToken>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens ORDER BY created_at DESC, id DESC"
    ))
    .fetch_all(pool)
    .await
}

pub async fn get(pool: &Pool, id: ApiTokenId) -> sqlx::Result<Option<ApiToken>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn find_by_name(pool: &Pool, name: &str) -> sqlx::Result<Option<ApiToken>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_tokens WHERE name = ?"))
        .bind(name)
        .fetch_optional(pool)
        .await
}

pub async fn find_by_prefix(pool: &Pool, prefix: &str) -> sqlx::Result<Option<ApiToken>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE prefix = ?"
    ))
    .bind(prefix)
    .fetch_optional(pool)
    .await
}

/// Revoke a token (of this user, when given); false if there is no such live token.
pub async fn revoke(pool: &Pool, id: ApiTokenId, user_id: Option<UserId>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = ?
         WHERE id = ? AND revoked_at IS NULL AND (? IS NULL OR user_id = ?)",
    )
    .bind(super::now())
    .bind(id)
    .bind(user_id)
    .bind(user_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
