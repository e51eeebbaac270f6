//! `servers` and their per-server satellites (system users, installs, logs).

use super::Pool;
use crate::domain::{OsVersion, SelinuxMode, ServerStatus};
use crate::ids::ServerId;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ServerSummary {
    pub id: ServerId,
    pub name: String,
    pub ip_address: String,
    pub hostname: String,
    pub os_version: OsVersion,
    pub status: ServerStatus,
    pub status_reason: Option<String>,
    pub selinux_mode: Option<SelinuxMode>,
    pub site_count: i64,
}

pub async fn list(pool: &Pool) -> sqlx::Result<Vec<ServerSummary>> {
    sqlx::query_as(
        "SELECT s.id, s.name, s.ip_address, s.hostname, s.os_version, s.status, s.status_reason,
                s.selinux_mode, (SELECT count(*) FROM sites WHERE server_id = s.id) AS site_count
         FROM servers s ORDER BY s.name COLLATE NOCASE, s.id",
    )
    .fetch_all(pool)
    .await
}
