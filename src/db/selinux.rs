//! `selinux_audit_logs`.

use super::Pool;
use super::listing::{Filters, Listing};
use crate::domain::LogLevel;
use crate::domain::{ListQuery, Page, TimeSort};
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
    /// The value the list is sorted by (its cursor).
    #[sqlx(default)]
    pub sort_key: String,
}
crate::keyed!(AuditSummary);

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
    /// The page's conditions: fixed text over the record's computed columns (each leads an
    /// index in time order), every value bound.
    pub fn filters(&self) -> Filters {
        let mut f = Filters::new().and_some("a.server_id = ?", self.server);
        if let Some(l) = &self.level {
            f = f.either(
                ("a.source_level = ?", vec![l.clone()]),
                ("a.target_level = ?", vec![l.clone()]),
            );
        }
        if let Some(t) = &self.setype {
            f = f.either(
                ("a.source_type = ?", vec![t.clone()]),
                ("a.target_type = ?", vec![t.clone()]),
            );
        }
        f.and_some("a.tclass = ?", self.tclass.as_ref())
            .and_some("a.created_at >= ?", self.since.as_ref())
    }

    /// Only the server and the period: the per-hour counters answer for these.
    fn counted(&self) -> bool {
        self.level.is_none() && self.setype.is_none() && self.tclass.is_none()
    }
}

fn order(_: TimeSort) -> &'static str {
    "a.created_at"
}

pub const LISTING: Listing<TimeSort> = Listing {
    columns: "a.id, s.name AS server_name, a.level, a.message, a.created_at,
              json_extract(a.context, '$.explanation.summary') AS explanation,
              json_extract(a.context, '$.explanation.severity') AS severity",
    from: "selinux_audit_logs a LEFT JOIN servers s ON s.id = a.server_id",
    id: "a.id",
    search: &["a.message"],
    order,
};

/// One page of matching records, newest first.
pub async fn page(
    pool: &Pool,
    q: &ListQuery<TimeSort>,
    filter: &Filter,
) -> sqlx::Result<Page<AuditSummary>> {
    LISTING.fetch(pool, q, &filter.filters()).await
}

/// Denials (warnings and errors) per day, newest day first, from the per-hour counters: of one
/// server or all, in the filter's period. `None` when the filter names a type, class or site:
/// the counters do not know those, and counting the records could mean reading all of them.
pub async fn per_day(
    pool: &Pool,
    filter: &Filter,
    days: i64,
) -> sqlx::Result<Option<Vec<(String, i64)>>> {
    if !filter.counted() {
        return Ok(None);
    }
    let server = filter
        .server
        .map_or_else(|| "*".to_owned(), |s| s.to_string());
    let since = filter.since.as_deref().map_or(String::new(), hour_of);
    sqlx::query_as(PER_DAY_COUNTED)
        .bind(server)
        .bind(since)
        .bind(days)
        .fetch_all(pool)
        .await
        .map(Some)
}

pub const PER_DAY_COUNTED: &str = "SELECT substr(hour, 1, 10) AS day, sum(n) FROM denial_hours
     WHERE server_id = ? AND hour >= ? AND n > 0
     GROUP BY day ORDER BY day DESC LIMIT ?";

pub const RATE_PER_SERVER: &str = "SELECT coalesce(s.name, 'panel host'), d.n
     FROM denial_hours d INDEXED BY denial_hours_top LEFT JOIN servers s ON s.id = d.server_id
     WHERE d.hour = ? AND d.server_id != '*' AND d.n > 0
     ORDER BY d.n DESC LIMIT ?";

/// `YYYY-MM-DDTHH` of an RFC 3339 time: the counters' bucket.
fn hour_of(time: &str) -> String {
    time.chars().take(13).collect()
}

/// The servers with the most denials in the UTC hour `at` falls in (the denial-rate metric),
/// at most `limit` of them, most first.
pub async fn rate_per_server(
    pool: &Pool,
    at: &str,
    limit: i64,
) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(RATE_PER_SERVER)
        .bind(hour_of(at))
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
    let gone = sqlx::query("DELETE FROM selinux_audit_logs WHERE created_at < ?")
        .bind(before)
        .execute(pool)
        .await?
        .rows_affected();
    // The deletions counted the hours down (a trigger); hours with nothing left go too, so the
    // counters shrink with the records.
    sqlx::query("DELETE FROM denial_hours WHERE hour < ? AND n = 0")
        .bind(hour_of(before))
        .execute(pool)
        .await?;
    Ok(gone)
}
