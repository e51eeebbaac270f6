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

/// What on `server` depends on `software` (a PHP `version`): the sites a PHP version or nginx
/// serves, the databases MariaDB or PostgreSQL holds. At most `limit` names, and how many.
pub async fn dependents(
    pool: &Pool,
    server: ServerId,
    software: Software,
    version: &str,
    limit: i64,
) -> sqlx::Result<(Vec<String>, i64)> {
    // (table, name column, the condition beside the server, its value)
    let (table, name, cond, key) = match software {
        Software::Php => ("sites", "domain", " AND php_version = ?", Some(version)),
        Software::Nginx => ("sites", "domain", "", None),
        Software::MariaDb | Software::PostgreSql => (
            "databases",
            "name",
            " AND db_type = ?",
            Some(software.as_str()),
        ),
        Software::Redis | Software::Bun => return Ok((Vec::new(), 0)),
    };
    let names =
        format!("SELECT {name} FROM {table} WHERE server_id = ?{cond} ORDER BY {name} LIMIT ?");
    let mut list = sqlx::query_scalar(&names).bind(server);
    if let Some(k) = key {
        list = list.bind(k);
    }
    let list = list.bind(limit).fetch_all(pool).await?;
    let count = format!("SELECT count(*) FROM {table} WHERE server_id = ?{cond}");
    let mut n = sqlx::query_scalar(&count).bind(server);
    if let Some(k) = key {
        n = n.bind(k);
    }
    let n = n.fetch_one(pool).await?;
    Ok((list, n))
}
