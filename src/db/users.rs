//! `users` and `user_preferences`.

use super::Pool;
use crate::domain::{Role, UserStatus};
use crate::ids::{PreferenceId, UserId};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub status: UserStatus,
    pub role: Role,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserListing {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub status: UserStatus,
    pub role: Role,
    pub passkeys: i64,
    pub last_login_at: Option<String>,
}

const COLUMNS: &str = "id, email, name, status, role, created_at, last_login_at";

pub async fn count(pool: &Pool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(pool)
        .await
}

pub async fn get(pool: &Pool, id: UserId) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn find_by_email(pool: &Pool, email: &str) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = ?"))
        .bind(email)
        .fetch_optional(pool)
        .await
}

pub async fn list(pool: &Pool) -> sqlx::Result<Vec<UserListing>> {
    sqlx::query_as(
        "SELECT u.id, u.email, u.name, u.status, u.role, u.last_login_at,
                (SELECT count(*) FROM credentials c WHERE c.user_id = u.id) AS passkeys
         FROM users u ORDER BY u.email",
    )
    .fetch_all(pool)
    .await
}

/// Insert a user inside a transaction (enrolment creates the user and its first passkey together).
pub async fn insert(
    conn: &mut sqlx::SqliteConnection,
    id: UserId,
    email: &str,
    name: &str,
    role: Role,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO users (id, email, name, role) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(email)
        .bind(name)
        .bind(role)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn set_status(pool: &Pool, id: UserId, status: UserStatus) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET status = ?, updated_at = ? WHERE id = ?")
        .bind(status)
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

pub async fn record_login(pool: &Pool, id: UserId) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET last_login_at = ? WHERE id = ?")
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// All preferences of a user as `(key, value)`.
pub async fn preferences(pool: &Pool, id: UserId) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as("SELECT key, value FROM user_preferences WHERE user_id = ? ORDER BY key")
        .bind(id)
        .fetch_all(pool)
        .await
}

pub async fn set_preference(pool: &Pool, id: UserId, key: &str, value: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO user_preferences (id, user_id, key, value) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(PreferenceId::generate())
    .bind(id)
    .bind(key)
    .bind(value)
    .execute(pool)
    .await
    .map(|_| ())
}

pub async fn set_role(pool: &Pool, id: UserId, role: Role) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET role = ?, updated_at = ? WHERE id = ?")
        .bind(role)
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// The condition that keeps one active owner: the row changes unless it is the last one.
const NOT_LAST_OWNER: &str = "NOT (role = 'owner' AND status = 'active'
     AND (SELECT count(*) FROM users WHERE role = 'owner' AND status = 'active') <= 1)";

/// Set a role unless that would leave no active owner (checked in the same statement, so two
/// owners demoting each other at once cannot both succeed). False when refused.
pub async fn set_role_keeping_an_owner(pool: &Pool, id: UserId, role: Role) -> sqlx::Result<bool> {
    let done = sqlx::query(&format!(
        "UPDATE users SET role = ?, updated_at = ? WHERE id = ? AND (? = 'owner' OR {NOT_LAST_OWNER})"
    ))
    .bind(role)
    .bind(super::now())
    .bind(id)
    .bind(role)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Disable a user unless they are the last active owner (one statement). False when refused.
pub async fn disable_keeping_an_owner(pool: &Pool, id: UserId) -> sqlx::Result<bool> {
    let done = sqlx::query(&format!(
        "UPDATE users SET status = 'disabled', updated_at = ? WHERE id = ? AND {NOT_LAST_OWNER}"
    ))
    .bind(super::now())
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many active owners there are.
pub async fn owners(pool: &Pool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'owner' AND status = 'active'")
        .fetch_one(pool)
        .await
}
