//! Counts for the dashboard's stat cards, read in one round trip.

use super::Pool;

#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct DashboardCounts {
    pub servers_total: i64,
    pub servers_active: i64,
    /// Servers in `error` or `unreachable`, or stuck onboarding (`STUCK_SERVER`).
    pub servers_attention: i64,
    pub sites_total: i64,
    pub sites_active: i64,
    pub sites_error: i64,
    pub databases_total: i64,
    pub deployments_7d: i64,
    pub deployments_failed_7d: i64,
    pub denials_24h: i64,
    pub ssh_keys_total: i64,
}

pub const COUNTS: &str = "SELECT
            (SELECT n FROM list_counts WHERE name = 'servers') AS servers_total,
            (SELECT n FROM list_counts WHERE name = 'servers.active') AS servers_active,
            coalesce((SELECT sum(n) FROM list_counts
              WHERE name IN ('servers.error', 'servers.unreachable')), 0)
              + (SELECT count(*) FROM servers WHERE status IN ('pending', 'provisioning')
                  AND updated_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hours')) AS servers_attention,
            (SELECT n FROM list_counts WHERE name = 'sites') AS sites_total,
            (SELECT n FROM list_counts WHERE name = 'sites.active') AS sites_active,
            (SELECT n FROM list_counts WHERE name = 'sites.error') AS sites_error,
            (SELECT n FROM list_counts WHERE name = 'databases') AS databases_total,
            (SELECT count(*) FROM deployments
              WHERE created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')) AS deployments_7d,
            (SELECT count(*) FROM deployments WHERE status = 'failed'
              AND created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')) AS deployments_failed_7d,
            (SELECT coalesce(sum(n), 0) FROM denial_hours WHERE server_id = '*'
              AND hour >= strftime('%Y-%m-%dT%H', 'now', '-1 day')) AS denials_24h,
            (SELECT n FROM list_counts WHERE name = 'ssh_keys') AS ssh_keys_total";

/// Row totals from the counters the schema's triggers keep (`list_counts`, `denial_hours`);
/// deployment counts are index range counts over the last week. Nothing here reads a table
/// whole, however many servers and sites there are.
pub async fn counts(pool: &Pool) -> sqlx::Result<DashboardCounts> {
    sqlx::query_as(COUNTS).fetch_one(pool).await
}

/// Something on the dashboard's "needs attention" list: a server or site that failed, cannot
/// be reached, or has waited too long in a state that should pass by itself.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Attention {
    /// `server` or `site`.
    pub kind: String,
    pub id: String,
    pub name: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub updated_at: String,
}

/// A server still pending (or provisioning) this long after its last change is stuck: its
/// setup command expired unused, or its script never called back.
pub const STUCK_SERVER: &str = "-1 hours";
/// A site still being created after this long is stuck (a job that never finished).
pub const STUCK_SITE: &str = "-30 minutes";

/// What needs attention, most recently changed first, at most `limit` in all; and how many in all.
/// Each part is a short range on a `(status, created_at)` index or a trigger-kept counter, so
/// this stays cheap with 20,000 sites (few servers or sites are ever mid-creation at once).
pub async fn attention(pool: &Pool, limit: i64) -> sqlx::Result<(Vec<Attention>, i64)> {
    let (rows_sql, total_sql) = attention_sql();
    let rows = sqlx::query_as(&rows_sql)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    let total = sqlx::query_scalar(&total_sql).fetch_one(pool).await?;
    Ok((rows, total))
}

/// The two statements of `attention` (its rows, bound to a limit; its total).
fn attention_sql() -> (String, String) {
    let stuck_server = format!("strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '{STUCK_SERVER}')");
    let stuck_site = format!("strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '{STUCK_SITE}')");
    let server =
        "SELECT 'server' AS kind, id, name, status, status_reason, updated_at FROM servers";
    let site =
        "SELECT 'site' AS kind, id, domain AS name, status, status_reason, updated_at FROM sites";
    let rows = format!(
        "SELECT * FROM (
           SELECT * FROM ({server} WHERE status = 'error' ORDER BY created_at DESC LIMIT ?1)
           UNION ALL SELECT * FROM ({server} WHERE status = 'unreachable' ORDER BY created_at DESC LIMIT ?1)
           UNION ALL SELECT * FROM ({server} WHERE status IN ('pending', 'provisioning')
                                      AND updated_at < {stuck_server} LIMIT ?1)
           UNION ALL SELECT * FROM ({site} WHERE status = 'error' ORDER BY created_at DESC LIMIT ?1)
           UNION ALL SELECT * FROM ({site} WHERE status IN ('creating', 'provisioning')
                                      AND updated_at < {stuck_site} LIMIT ?1))
         ORDER BY updated_at DESC LIMIT ?1"
    );
    let total = format!(
        "SELECT coalesce((SELECT sum(n) FROM list_counts
                  WHERE name IN ('servers.error', 'servers.unreachable', 'sites.error')), 0)
              + (SELECT count(*) FROM servers WHERE status IN ('pending', 'provisioning')
                  AND updated_at < {stuck_server})
              + (SELECT count(*) FROM sites WHERE status IN ('creating', 'provisioning')
                  AND updated_at < {stuck_site})"
    );
    (rows, total)
}

/// A list's total from the counters (`servers`, `sites`, `databases`).
pub async fn total(pool: &Pool, list: &'static str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT coalesce((SELECT n FROM list_counts WHERE name = ?), 0)")
        .bind(list)
        .fetch_one(pool)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_come_from_the_tables() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::open(dir.path()).await.unwrap();
        assert_eq!(counts(&pool).await.unwrap(), DashboardCounts::default());
        for (i, status) in ["active", "active", "error", "pending"].iter().enumerate() {
            sqlx::query(
                "INSERT INTO servers (id, name, ip_address, hostname, os_version, status)
                 VALUES (?, 's', ?, 'h', 'rocky_9', ?)",
            )
            .bind(crate::ids::ServerId::generate())
            .bind(format!("192.0.2.{i}"))
            .bind(status)
            .execute(&pool)
            .await
            .unwrap();
        }
        sqlx::query(
            "INSERT INTO selinux_audit_logs (id, level, message) VALUES (?, 'warning', 'x')",
        )
        .bind(crate::ids::AuditLogId::generate())
        .execute(&pool)
        .await
        .unwrap();
        let c = counts(&pool).await.unwrap();
        assert_eq!(
            (c.servers_total, c.servers_active, c.servers_attention),
            (4, 2, 1)
        );
        assert_eq!(c.denials_24h, 1);
        // The counters follow status changes and deletions.
        sqlx::query("UPDATE servers SET status = 'unreachable' WHERE status = 'active'")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("DELETE FROM servers WHERE status = 'pending'")
            .execute(&pool)
            .await
            .unwrap();
        // Pruning the records counts their hours down and drops the emptied ones.
        let gone = crate::db::selinux::prune(&pool, "9999-01-01T00:00:00.000Z")
            .await
            .unwrap();
        assert_eq!(gone, 1);
        let hours: i64 = sqlx::query_scalar("SELECT count(*) FROM denial_hours")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(hours, 0);
        let c = counts(&pool).await.unwrap();
        assert_eq!(
            (
                c.servers_total,
                c.servers_active,
                c.servers_attention,
                c.denials_24h
            ),
            (3, 0, 3, 0)
        );
        assert_eq!(total(&pool, "servers").await.unwrap(), 3);
        crate::db::close(&pool).await;
    }

    #[tokio::test]
    async fn failed_and_stuck_servers_need_attention_and_fresh_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::open(dir.path()).await.unwrap();
        let rows = [
            ("fresh", "pending", "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"),
            (
                "stuck",
                "pending",
                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-2 hours')",
            ),
            ("broken", "error", "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"),
            (
                "fine",
                "active",
                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-2 hours')",
            ),
        ];
        for (i, (name, status, at)) in rows.iter().enumerate() {
            sqlx::query(&format!(
                "INSERT INTO servers (id, name, ip_address, hostname, os_version, status, updated_at)
                 VALUES (?, ?, ?, 'h', 'rocky_9', ?, {at})"
            ))
            .bind(crate::ids::ServerId::generate())
            .bind(name)
            .bind(format!("192.0.2.{i}"))
            .bind(status)
            .execute(&pool)
            .await
            .unwrap();
        }
        let (list, total) = attention(&pool, 10).await.unwrap();
        let mut names: Vec<&str> = list.iter().map(|a| a.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["broken", "stuck"]);
        assert_eq!(total, 2);
        assert_eq!(counts(&pool).await.unwrap().servers_attention, 2);
        assert!(COUNTS.contains(STUCK_SERVER), "one notion of stuck");
        let (one, total) = attention(&pool, 1).await.unwrap();
        assert_eq!((one.len(), total), (1, 2), "bounded list, full count");
        crate::db::close(&pool).await;
    }

    /// The attention query reads index ranges only: no table is scanned and no status' rows
    /// are all sorted (thousands of sites in error must not slow the dashboard).
    #[tokio::test]
    async fn the_attention_list_reads_index_ranges_only() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::open(dir.path()).await.unwrap();
        let (rows, total) = attention_sql();
        for sql in [rows, total] {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .bind(10)
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            for (_, parent, _, detail) in &plan {
                let scans_table = detail.starts_with("SCAN ")
                    && !detail.contains("USING")
                    && !detail.starts_with("SCAN (subquery")
                    && !detail.contains("CONSTANT ROW");
                assert!(!scans_table, "{detail} in {plan:?}");
                // Sorting is allowed only where the parts (each at most a limit long) merge,
                // never inside a part, where it would sort every row of a status.
                if detail.contains("TEMP B-TREE") {
                    let inside = plan.iter().find(|(id, ..)| id == parent);
                    assert!(
                        !inside.is_some_and(|(.., d)| d.starts_with("CO-ROUTINE")),
                        "{plan:?}"
                    );
                }
            }
        }
        crate::db::close(&pool).await;
    }
}
