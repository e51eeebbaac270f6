//! `software_installations`: what the panel installed (or was asked to) on each server.

use super::Pool;
use crate::domain::{InstallStatus, Software};
use crate::ids::{ServerId, SoftwareInstallationId};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Installation {
    pub id: SoftwareInstallationId,
    pub software: Software,
    pub version: String,
    pub status: InstallStatus,
    pub status_reason: Option<String>,
    pub updated_at: String,
}

pub async fn list(pool: &Pool, server: ServerId) -> sqlx::Result<Vec<Installation>> {
    sqlx::query_as(
        "SELECT id, software, version, status, status_reason, updated_at FROM software_installations
         WHERE server_id = ? ORDER BY software, version",
    )
    .bind(server)
    .fetch_all(pool)
    .await
}

/// The row of one piece of software (and version) on a server, if there is one.
pub async fn find(
    pool: &Pool,
    server: ServerId,
    software: Software,
    version: &str,
) -> sqlx::Result<Option<SoftwareInstallationId>> {
    sqlx::query_scalar(
        "SELECT id FROM software_installations WHERE server_id = ? AND software = ? AND version = ?",
    )
    .bind(server)
    .bind(software)
    .bind(version)
    .fetch_optional(pool)
    .await
}

/// A new `pending` row.
pub async fn insert(
    pool: &Pool,
    server: ServerId,
    software: Software,
    version: &str,
) -> sqlx::Result<SoftwareInstallationId> {
    let id = SoftwareInstallationId::generate();
    sqlx::query(
        "INSERT INTO software_installations (id, server_id, software, version) VALUES (?, ?, ?, ?)",
    )
    .bind(id)
    .bind(server)
    .bind(software)
    .bind(version)
    .execute(pool)
    .await?;
    Ok(id)
}

pub async fn set_status(
    pool: &Pool,
    id: SoftwareInstallationId,
    status: InstallStatus,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE software_installations SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?",
    )
    .bind(status)
    .bind(reason)
    .bind(super::now())
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ())
}

pub async fn delete(pool: &Pool, id: SoftwareInstallationId) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM software_installations WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// The PHP versions recorded for a server (chosen at creation or installed since), with rows.
pub async fn php(
    pool: &Pool,
    server: ServerId,
) -> sqlx::Result<Vec<(SoftwareInstallationId, String)>> {
    sqlx::query_as(
        "SELECT id, version FROM software_installations WHERE server_id = ? AND software = 'php'
         ORDER BY version",
    )
    .bind(server)
    .fetch_all(pool)
    .await
}
