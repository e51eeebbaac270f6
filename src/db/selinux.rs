//! `selinux_audit_logs`.

use super::Pool;
use crate::domain::LogLevel;
use crate::ids::{AuditLogId, ServerId};

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

/// Where a server's audit log was last read: (inode, byte offset).
pub async fn position(pool: &Pool, server: ServerId) -> sqlx::Result<(i64, i64)> {
    Ok(
        sqlx::query_as("SELECT inode, offset FROM selinux_log_positions WHERE server_id = ?")
            .bind(server)
            .fetch_optional(pool)
            .await?
            .unwrap_or((0, 0)),
    )
}

/// A record to store, already parsed, bounded and classified.
pub struct NewAuditRecord {
    pub level: LogLevel,
    pub message: String,
    pub context: String,
    pub serial: i64,
    pub event_time: String,
    pub event_index: i64,
}

/// Store a batch and move the read position, in one transaction: a crash between the two can
/// neither lose records nor store them twice. Returns the new rows: (index in `records`, id).
pub async fn store_batch(
    pool: &Pool,
    server: ServerId,
    records: &[NewAuditRecord],
    position: (i64, i64),
) -> sqlx::Result<Vec<(usize, AuditLogId)>> {
    let mut tx = pool.begin().await?;
    // The first statement writes, so the transaction holds the write lock from the start.
    sqlx::query(
        "INSERT INTO selinux_log_positions (server_id, inode, offset, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (server_id) DO UPDATE SET inode = excluded.inode, offset = excluded.offset,
             updated_at = excluded.updated_at",
    )
    .bind(server)
    .bind(position.0)
    .bind(position.1)
    .bind(super::now())
    .execute(&mut *tx)
    .await?;
    let mut new = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let id = AuditLogId::generate();
        let inserted = sqlx::query(
            "INSERT OR IGNORE INTO selinux_audit_logs
                 (id, server_id, level, message, context, serial, event_time, event_index)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(server)
        .bind(r.level)
        .bind(&r.message)
        .bind(&r.context)
        .bind(r.serial)
        .bind(&r.event_time)
        .bind(r.event_index)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 1 {
            new.push((i, id));
        }
    }
    tx.commit().await?;
    Ok(new)
}

/// One stored record with everything the SELinux page shows.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: AuditLogId,
    pub server_id: Option<ServerId>,
    pub server_name: Option<String>,
    pub level: LogLevel,
    pub message: String,
    pub context: String,
    pub created_at: String,
}

pub async fn get(pool: &Pool, id: AuditLogId) -> sqlx::Result<Option<AuditRecord>> {
    sqlx::query_as(
        "SELECT a.id, a.server_id, s.name AS server_name, a.level, a.message, a.context, a.created_at
         FROM selinux_audit_logs a LEFT JOIN servers s ON s.id = a.server_id WHERE a.id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}
