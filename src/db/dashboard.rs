//! Counts for the dashboard's stat cards, read in one round trip.

use super::Pool;

#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct DashboardCounts {
    pub servers_total: i64,
    pub servers_active: i64,
    /// Servers in `error` or `unreachable`.
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

pub async fn counts(pool: &Pool) -> sqlx::Result<DashboardCounts> {
    sqlx::query_as(
        "SELECT
            (SELECT count(*) FROM servers) AS servers_total,
            (SELECT count(*) FROM servers WHERE status = 'active') AS servers_active,
            (SELECT count(*) FROM servers WHERE status IN ('error', 'unreachable')) AS servers_attention,
            (SELECT count(*) FROM sites) AS sites_total,
            (SELECT count(*) FROM sites WHERE status = 'active') AS sites_active,
            (SELECT count(*) FROM sites WHERE status = 'error') AS sites_error,
            (SELECT count(*) FROM databases) AS databases_total,
            (SELECT count(*) FROM deployments
              WHERE created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')) AS deployments_7d,
            (SELECT count(*) FROM deployments WHERE status = 'failed'
              AND created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')) AS deployments_failed_7d,
            (SELECT count(*) FROM selinux_audit_logs
              WHERE created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')) AS denials_24h,
            (SELECT count(*) FROM ssh_keys) AS ssh_keys_total",
    )
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
        crate::db::close(&pool).await;
    }
}
