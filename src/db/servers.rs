//! `servers` and their per-server satellites (system users, installs, logs).

use super::Pool;
use crate::domain::{OsVersion, PhpVersion, SelinuxMode, ServerStatus};
use crate::ids::{ServerId, SoftwareInstallationId, SshKeyId};

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

/// Everything the panel needs to reach and manage a server.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Server {
    pub id: ServerId,
    pub name: String,
    pub ip_address: String,
    pub hostname: String,
    pub os_version: OsVersion,
    pub ssh_port: i64,
    pub ssh_user: String,
    pub ssh_key_id: Option<crate::ids::SshKeyId>,
    pub host_key: Option<String>,
    pub status: ServerStatus,
    pub status_reason: Option<String>,
    pub selinux_mode: Option<SelinuxMode>,
    pub service_driver: crate::domain::ServiceDriver,
    pub created_at: String,
    /// The host keys the setup script reported (OpenSSH lines, one per line).
    pub reported_host_keys: Option<String>,
}

const SERVER_COLUMNS: &str = "id, name, ip_address, hostname, os_version, ssh_port, ssh_user, ssh_key_id, \
     host_key, status, status_reason, selinux_mode, service_driver, created_at, reported_host_keys";

pub struct NewServer<'a> {
    pub id: ServerId,
    pub name: &'a str,
    pub ip_address: &'a str,
    pub hostname: &'a str,
    pub os_version: OsVersion,
    pub ssh_port: u16,
    pub ssh_user: &'a str,
    pub ssh_key_id: crate::ids::SshKeyId,
    pub callback_secret_encrypted: &'a [u8],
}

/// A new server and the PHP versions its setup script is to install (`pending` rows), in one
/// transaction: a refused server leaves no orphan rows.
pub async fn insert(pool: &Pool, s: &NewServer<'_>, php: &[PhpVersion]) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO servers (id, name, ip_address, hostname, os_version, ssh_port, ssh_user, ssh_key_id,
                              callback_secret_encrypted)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(s.id)
    .bind(s.name)
    .bind(s.ip_address)
    .bind(s.hostname)
    .bind(s.os_version)
    .bind(i64::from(s.ssh_port))
    .bind(s.ssh_user)
    .bind(s.ssh_key_id)
    .bind(s.callback_secret_encrypted)
    .execute(&mut *tx)
    .await?;
    for v in php {
        sqlx::query(
            "INSERT INTO software_installations (id, server_id, software, version) VALUES (?, ?, 'php', ?)",
        )
        .bind(SoftwareInstallationId::generate())
        .bind(s.id)
        .bind(v.as_str())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// The server logs in with another key from now on (a finished key rotation).
pub async fn set_ssh_key(pool: &Pool, id: ServerId, key: SshKeyId) -> sqlx::Result<()> {
    sqlx::query("UPDATE servers SET ssh_key_id = ?, updated_at = ? WHERE id = ?")
        .bind(key)
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

pub async fn get(pool: &Pool, id: ServerId) -> sqlx::Result<Option<Server>> {
    sqlx::query_as(&format!(
        "SELECT {SERVER_COLUMNS} FROM servers WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn callback_secret(pool: &Pool, id: ServerId) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT callback_secret_encrypted FROM servers WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map(Option::flatten)
}

pub async fn set_status(
    pool: &Pool,
    id: ServerId,
    status: ServerStatus,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE servers SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?")
        .bind(status)
        .bind(reason)
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// The host keys a verified server-ready callback reported.
pub async fn set_reported_host_keys(pool: &Pool, id: ServerId, keys: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE servers SET reported_host_keys = ?, updated_at = ? WHERE id = ?")
        .bind(keys)
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Pin `key` (an OpenSSH line), or no key (the next contact pins one of the reported keys).
pub async fn set_host_key(pool: &Pool, id: ServerId, key: Option<&str>) -> sqlx::Result<()> {
    sqlx::query("UPDATE servers SET host_key = ?, updated_at = ? WHERE id = ?")
        .bind(key)
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Record what first contact found: the pinned host key and the SELinux mode.
pub async fn record_contact(
    pool: &Pool,
    id: ServerId,
    host_key: &str,
    selinux: Option<SelinuxMode>,
    driver: crate::domain::ServiceDriver,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE servers SET host_key = ?, selinux_mode = ?, service_driver = ?, updated_at = ? WHERE id = ?")
        .bind(host_key)
        .bind(selinux)
        .bind(driver)
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

pub async fn log(
    pool: &Pool,
    id: ServerId,
    level: crate::domain::LogLevel,
    message: &str,
    context: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO server_logs (id, server_id, level, message, context) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(crate::ids::ServerLogId::generate())
    .bind(id)
    .bind(level)
    .bind(message)
    .bind(context.to_string())
    .execute(pool)
    .await
    .map(|_| ())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ServerLog {
    pub level: crate::domain::LogLevel,
    pub message: String,
    pub context: String,
    pub created_at: String,
}

pub async fn logs(pool: &Pool, id: ServerId, limit: i64) -> sqlx::Result<Vec<ServerLog>> {
    logs_filtered(pool, id, None, None, limit).await
}

/// Log rows of a server, newest first, optionally of one level and containing `text`.
pub async fn logs_filtered(
    pool: &Pool,
    id: ServerId,
    level: Option<crate::domain::LogLevel>,
    text: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<ServerLog>> {
    sqlx::query_as(
        "SELECT level, message, context, created_at FROM server_logs
         WHERE server_id = ?1 AND (?2 IS NULL OR level = ?2)
           AND (?3 IS NULL OR instr(lower(message), lower(?3)) > 0 OR instr(lower(context), lower(?3)) > 0)
         ORDER BY created_at DESC, id DESC LIMIT ?4",
    )
    .bind(id)
    .bind(level)
    .bind(text)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Delete a server; the schema cascades to its sites, databases, installs, logs and jobs.
pub async fn delete(pool: &Pool, id: ServerId) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM servers WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A new setup token for a server; every earlier one of the server stops working.
pub async fn insert_setup_token(
    pool: &Pool,
    server: ServerId,
    token_hash: &str,
    expires_at: &str,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM setup_tokens WHERE server_id = ?")
        .bind(server)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO setup_tokens (id, server_id, token_hash, expires_at) VALUES (?, ?, ?, ?)",
    )
    .bind(crate::ids::SetupTokenId::generate())
    .bind(server)
    .bind(token_hash)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The server a live setup token is for. Fetching the script does not spend the token (a link
/// previewer fetching it first must not burn it); the server's signed callback does.
pub async fn setup_token_server(pool: &Pool, token_hash: &str) -> sqlx::Result<Option<ServerId>> {
    sqlx::query_scalar(
        "SELECT server_id FROM setup_tokens WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
    )
    .bind(token_hash)
    .bind(super::now())
    .fetch_optional(pool)
    .await
}

/// The server's setup script reported back: its setup tokens are spent.
pub async fn spend_setup_tokens(pool: &Pool, server: ServerId) -> sqlx::Result<()> {
    sqlx::query("UPDATE setup_tokens SET used_at = ? WHERE server_id = ? AND used_at IS NULL")
        .bind(super::now())
        .bind(server)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Remember a callback's nonce; false if it was seen before (a replay).
pub async fn use_nonce(pool: &Pool, server: ServerId, nonce: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO callback_nonces (nonce, server_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(nonce)
    .bind(server)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Remove server log lines written before `before`; how many went.
pub async fn prune_logs(pool: &Pool, before: &str) -> sqlx::Result<u64> {
    sqlx::query("DELETE FROM server_logs WHERE created_at < ?")
        .bind(before)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
}
