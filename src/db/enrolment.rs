//! `enrolment_tokens`: one-time links to register a passkey.

use super::Pool;
use crate::domain::Role;
use crate::ids::{EnrolmentTokenId, UserId};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EnrolmentToken {
    pub id: EnrolmentTokenId,
    pub purpose: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub user_id: Option<UserId>,
    /// The role a new user gets (invitations; the first user is an owner).
    pub role: Option<Role>,
}

pub struct NewToken<'a> {
    pub token_hash: &'a str,
    pub purpose: &'static str,
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
    pub user_id: Option<UserId>,
    pub role: Option<Role>,
    pub expires_at: String,
}

pub async fn insert(pool: &Pool, t: &NewToken<'_>) -> sqlx::Result<EnrolmentTokenId> {
    let id = EnrolmentTokenId::generate();
    sqlx::query(
        "INSERT INTO enrolment_tokens (id, token_hash, purpose, email, name, user_id, role, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(t.token_hash)
    .bind(t.purpose)
    .bind(t.email)
    .bind(t.name)
    .bind(t.user_id)
    .bind(t.role)
    .bind(&t.expires_at)
    .execute(pool)
    .await?;
    Ok(id)
}

/// The token if it exists, is unused and has not expired; `None` in every other case alike.
pub async fn find_usable(pool: &Pool, token_hash: &str) -> sqlx::Result<Option<EnrolmentToken>> {
    sqlx::query_as(
        "SELECT id, purpose, email, name, user_id, role FROM enrolment_tokens
         WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
    )
    .bind(token_hash)
    .bind(super::now())
    .fetch_optional(pool)
    .await
}

/// Use the token up; false if it was already used (a concurrent enrolment won).
pub async fn mark_used(
    conn: &mut sqlx::SqliteConnection,
    id: EnrolmentTokenId,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE enrolment_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL")
            .bind(super::now())
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Retire unused first-run links (a new one is printed at every start until a user exists).
pub async fn retire_first_run(pool: &Pool) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE enrolment_tokens SET used_at = ? WHERE purpose = 'first_run' AND used_at IS NULL",
    )
    .bind(super::now())
    .execute(pool)
    .await
    .map(|_| ())
}
