//! `alert_kinds` and `mail_outbox`.

use super::Pool;
use crate::ids::{MailId, ServerId};

/// Record that `server` showed this kind of denial; true if it is the first time.
pub async fn first_of_kind(pool: &Pool, server: ServerId, kind: &str) -> sqlx::Result<bool> {
    let r = sqlx::query("INSERT OR IGNORE INTO alert_kinds (server_id, kind) VALUES (?, ?)")
        .bind(server)
        .bind(kind)
        .execute(pool)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn enqueue(
    pool: &Pool,
    kind: &str,
    subject: &str,
    text: &str,
    html: &str,
) -> sqlx::Result<MailId> {
    let id = MailId::generate();
    sqlx::query(
        "INSERT INTO mail_outbox (id, kind, subject, text_body, html_body) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(kind)
    .bind(subject)
    .bind(text)
    .bind(html)
    .execute(pool)
    .await?;
    Ok(id)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Mail {
    pub id: MailId,
    pub kind: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// Messages due for a (first or further) attempt, oldest first.
pub async fn due(pool: &Pool, now: &str, limit: i64) -> sqlx::Result<Vec<Mail>> {
    sqlx::query_as(
        "SELECT * FROM mail_outbox WHERE status != 'sent' AND next_attempt_at <= ?
         ORDER BY created_at, id LIMIT ?",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub async fn mark_sent(pool: &Pool, id: MailId) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE mail_outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL
         WHERE id = ?",
    )
    .bind(super::now())
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ())
}

/// A failed attempt: kept, visible, and tried again at `next`.
pub async fn mark_failed(pool: &Pool, id: MailId, error: &str, next: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE mail_outbox SET status = 'failed', attempts = attempts + 1, last_error = ?,
             next_attempt_at = ? WHERE id = ?",
    )
    .bind(error)
    .bind(next)
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ())
}

/// The newest messages, for the SELinux page.
pub async fn recent(pool: &Pool, limit: i64) -> sqlx::Result<Vec<Mail>> {
    sqlx::query_as("SELECT * FROM mail_outbox ORDER BY created_at DESC, id DESC LIMIT ?")
        .bind(limit)
        .fetch_all(pool)
        .await
}
