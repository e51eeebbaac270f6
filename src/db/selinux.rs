//! `selinux_audit_logs`.

use super::Pool;
use crate::domain::LogLevel;
use crate::ids::AuditLogId;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditSummary {
    pub id: AuditLogId,
    pub server_name: Option<String>,
    pub level: LogLevel,
    pub message: String,
    pub created_at: String,
}

/// The most recent audit records first.
pub async fn recent(pool: &Pool, limit: i64) -> sqlx::Result<Vec<AuditSummary>> {
    sqlx::query_as(
        "SELECT a.id, s.name AS server_name, a.level, a.message, a.created_at
         FROM selinux_audit_logs a LEFT JOIN servers s ON s.id = a.server_id
         ORDER BY a.created_at DESC, a.id DESC
         LIMIT ?",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}
