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
    pub explanation: Option<String>,
    pub severity: Option<String>,
}

/// What the SELinux page is filtered by; every value is bound, never pasted into SQL.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub server: Option<ServerId>,
    /// A site's level (`s0:c100,c101`): records whose source or target carries it.
    pub level: Option<String>,
    /// A source or target type.
    pub setype: Option<String>,
    pub tclass: Option<String>,
    /// Only records stored at or after this time (RFC 3339).
    pub since: Option<String>,
}

impl Filter {
    /// The WHERE clause (fixed text) and its values in order.
    fn clause(&self) -> (String, Vec<String>) {
        let mut sql = String::from(" WHERE 1 = 1");
        let mut binds = Vec::new();
        if let Some(s) = self.server {
            sql.push_str(" AND a.server_id = ?");
            binds.push(s.to_string());
        }
        if let Some(l) = &self.level {
            sql.push_str(
                " AND (json_extract(a.context, '$.source_level') = ? OR json_extract(a.context, '$.target_level') = ?)",
            );
            binds.push(l.clone());
            binds.push(l.clone());
        }
        if let Some(t) = &self.setype {
            sql.push_str(
                " AND (json_extract(a.context, '$.source_type') = ? OR json_extract(a.context, '$.target_type') = ?)",
            );
            binds.push(t.clone());
            binds.push(t.clone());
        }
        if let Some(c) = &self.tclass {
            sql.push_str(" AND json_extract(a.context, '$.tclass') = ?");
            binds.push(c.clone());
        }
        if let Some(t) = &self.since {
            sql.push_str(" AND a.created_at >= ?");
            binds.push(t.clone());
        }
        (sql, binds)
    }
}

/// The most recent matching records first.
pub async fn search(pool: &Pool, filter: &Filter, limit: i64) -> sqlx::Result<Vec<AuditSummary>> {
    let (clause, binds) = filter.clause();
    let sql = format!(
        "SELECT a.id, s.name AS server_name, a.level, a.message, a.created_at,
                json_extract(a.context, '$.explanation.summary') AS explanation,
                json_extract(a.context, '$.explanation.severity') AS severity
         FROM selinux_audit_logs a LEFT JOIN servers s ON s.id = a.server_id{clause}
         ORDER BY a.created_at DESC, a.id DESC LIMIT ?"
    );
    let mut q = sqlx::query_as(&sql);
    for b in &binds {
        q = q.bind(b);
    }
    q.bind(limit).fetch_all(pool).await
}

/// Matching denials (warnings and errors) per day, newest day first.
pub async fn per_day(pool: &Pool, filter: &Filter, days: i64) -> sqlx::Result<Vec<(String, i64)>> {
    let (clause, binds) = filter.clause();
    let sql = format!(
        "SELECT substr(a.created_at, 1, 10) AS day, count(*) FROM selinux_audit_logs a{clause}
           AND a.level IN ('warning', 'error')
         GROUP BY day ORDER BY day DESC LIMIT ?"
    );
    let mut q = sqlx::query_as(&sql);
    for b in &binds {
        q = q.bind(b);
    }
    q.bind(days).fetch_all(pool).await
}

/// Denials per server in the last hour (the denial-rate metric).
pub async fn rate_per_server(pool: &Pool, since: &str) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT s.name, count(a.id) FROM servers s
         LEFT JOIN selinux_audit_logs a ON a.server_id = s.id
              AND a.level IN ('warning', 'error') AND a.created_at >= ?
         GROUP BY s.id ORDER BY count(a.id) DESC, s.name",
    )
    .bind(since)
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
    dropped: i64,
) -> sqlx::Result<Vec<(usize, AuditLogId)>> {
    let mut tx = pool.begin().await?;
    // The first statement writes, so the transaction holds the write lock from the start.
    sqlx::query(
        "INSERT INTO selinux_log_positions (server_id, inode, offset, updated_at, dropped)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (server_id) DO UPDATE SET inode = excluded.inode, offset = excluded.offset,
             updated_at = excluded.updated_at, dropped = dropped + excluded.dropped",
    )
    .bind(server)
    .bind(position.0)
    .bind(position.1)
    .bind(super::now())
    .bind(dropped)
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

/// When the server's log last had `message` (the line that marks the module as installed).
pub async fn last_log_line(
    pool: &Pool,
    server: ServerId,
    message: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT max(created_at) FROM server_logs WHERE server_id = ? AND message = ?",
    )
    .bind(server)
    .bind(message)
    .fetch_one(pool)
    .await
}

/// Denials (warning and error rows) stored for a server since `since`.
pub async fn denials_since(pool: &Pool, server: ServerId, since: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM selinux_audit_logs
         WHERE server_id = ? AND level IN ('warning', 'error') AND created_at >= ?",
    )
    .bind(server)
    .bind(since)
    .fetch_one(pool)
    .await
}

/// When the newest denial (warning or error row) of a server since `since` was stored.
pub async fn last_denial_since(
    pool: &Pool,
    server: ServerId,
    since: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT max(created_at) FROM selinux_audit_logs
         WHERE server_id = ? AND level IN ('warning', 'error') AND created_at >= ?",
    )
    .bind(server)
    .bind(since)
    .fetch_one(pool)
    .await
}

/// Whether anything was ever collected from the server's audit log.
pub async fn collected_any(pool: &Pool, server: ServerId) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM selinux_audit_logs WHERE server_id = ?)")
        .bind(server)
        .fetch_one(pool)
        .await
}

/// How many records of a server were counted but not stored (over its per-minute allowance).
pub async fn dropped(pool: &Pool, server: ServerId) -> sqlx::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT dropped FROM selinux_log_positions WHERE server_id = ?")
            .bind(server)
            .fetch_optional(pool)
            .await?
            .unwrap_or(0),
    )
}

/// Remove records stored before `before`; how many went.
pub async fn prune(pool: &Pool, before: &str) -> sqlx::Result<u64> {
    sqlx::query("DELETE FROM selinux_audit_logs WHERE created_at < ?")
        .bind(before)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
}
