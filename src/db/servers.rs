//! `servers` and their per-server satellites (system users, installs, logs).

use super::Pool;
use super::listing::{Filters, Listing};
use crate::domain::{ListQuery, Page, ServerSort, TimeSort};
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
    pub created_at: String,
    /// The value the list is sorted by (its cursor).
    #[sqlx(default)]
    pub sort_key: String,
}
crate::keyed!(ServerSummary);

const SUMMARY_COLUMNS: &str =
    "s.id, s.name, s.ip_address, s.hostname, s.os_version, s.status, s.status_reason,
     s.selinux_mode, (SELECT count(*) FROM sites WHERE server_id = s.id) AS site_count,
     s.created_at";

/// The ids of active servers (the audit collector follows each one).
pub async fn active_ids(pool: &Pool) -> sqlx::Result<Vec<ServerId>> {
    sqlx::query_scalar("SELECT id FROM servers WHERE status = 'active'")
        .fetch_all(pool)
        .await
}

/// Active servers by name with the PHP versions installed on each, in one query: what the site
/// form may offer. (id, name, versions separated by spaces)
pub async fn with_php(pool: &Pool) -> sqlx::Result<Vec<(ServerId, String, String)>> {
    sqlx::query_as(
        "SELECT s.id, s.name,
                coalesce((SELECT group_concat(version, ' ') FROM
                            (SELECT version FROM software_installations i
                             WHERE i.server_id = s.id AND i.software = 'php'
                               AND i.status = 'installed' ORDER BY version)), '')
         FROM servers s WHERE s.status = 'active' ORDER BY s.name COLLATE NOCASE, s.id",
    )
    .fetch_all(pool)
    .await
}

fn order(sort: ServerSort) -> &'static str {
    match sort {
        ServerSort::Name => "s.name COLLATE NOCASE",
        ServerSort::Newest => "s.created_at",
    }
}

pub const LISTING: Listing<ServerSort> = Listing {
    columns: SUMMARY_COLUMNS,
    from: "servers s",
    id: "s.id",
    search: &["s.name", "s.hostname", "s.ip_address"],
    order,
};

/// One page of the servers list, optionally of one status.
pub async fn page(
    pool: &Pool,
    q: &ListQuery<ServerSort>,
    status: Option<ServerStatus>,
) -> sqlx::Result<Page<ServerSummary>> {
    LISTING.fetch(pool, q, &filters(status)).await
}

pub fn filters(status: Option<ServerStatus>) -> Filters {
    Filters::new().and_some("s.status = ?", status.map(|s| s.as_str()))
}

/// A page of servers among `within` (all when `None`): an API token limited to some.
pub async fn page_within(
    pool: &Pool,
    q: &ListQuery<ServerSort>,
    status: Option<ServerStatus>,
    within: Option<&[ServerId]>,
) -> sqlx::Result<Page<ServerSummary>> {
    let f = filters(status).within("s.id IN (SELECT value FROM json_each(?))", within);
    LISTING.fetch(pool, q, &f).await
}

/// A server by its exact name (when one server has it) or address: the SELinux filter's text.
pub async fn find_by_name(pool: &Pool, text: &str) -> sqlx::Result<Vec<ServerId>> {
    sqlx::query_scalar(
        "SELECT id FROM servers WHERE ip_address = ?1
         UNION SELECT id FROM servers WHERE name = ?1 COLLATE NOCASE LIMIT 2",
    )
    .bind(text)
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
    pub id: crate::ids::ServerLogId,
    pub level: crate::domain::LogLevel,
    pub message: String,
    pub context: String,
    pub created_at: String,
    /// The value the list is sorted by (its cursor).
    #[sqlx(default)]
    pub sort_key: String,
}
crate::keyed!(ServerLog);

fn log_order(_: TimeSort) -> &'static str {
    "l.created_at"
}

pub const LOG_LISTING: Listing<TimeSort> = Listing {
    columns: "l.id, l.level, l.message, l.context, l.created_at",
    from: "server_logs l",
    id: "l.id",
    search: &["l.message", "l.context"],
    order: log_order,
};

pub fn log_filters(id: ServerId, level: Option<crate::domain::LogLevel>) -> Filters {
    Filters::new()
        .and("l.server_id = ?", [id.to_string()])
        .and_some("l.level = ?", level.map(|l| l.as_str()))
}

/// The newest `limit` log rows of a server.
pub async fn logs(pool: &Pool, id: ServerId, limit: i64) -> sqlx::Result<Vec<ServerLog>> {
    sqlx::query_as(
        "SELECT l.id, l.level, l.message, l.context, l.created_at FROM server_logs l
         WHERE l.server_id = ? ORDER BY l.created_at DESC, l.id DESC LIMIT ?",
    )
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One page of a server's log, newest first, optionally of one level and containing the
/// query's search text.
pub async fn logs_page(
    pool: &Pool,
    id: ServerId,
    level: Option<crate::domain::LogLevel>,
    q: &ListQuery<TimeSort>,
) -> sqlx::Result<Page<ServerLog>> {
    LOG_LISTING.fetch(pool, q, &log_filters(id, level)).await
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
    id: crate::ids::SetupTokenId,
    server: ServerId,
    token_hash: &str,
    token_sealed: &[u8],
    expires_at: &str,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM setup_tokens WHERE server_id = ?")
        .bind(server)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO setup_tokens (id, server_id, token_hash, token_encrypted, expires_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(server)
    .bind(token_hash)
    .bind(token_sealed)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    // A new command is news from the server's onboarding: it is not stuck since then.
    sqlx::query("UPDATE servers SET updated_at = ? WHERE id = ?")
        .bind(super::now())
        .bind(server)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// The server's unused, unexpired setup token, sealed, with its row id and expiry.
pub async fn live_setup_token(
    pool: &Pool,
    server: ServerId,
) -> sqlx::Result<Option<(crate::ids::SetupTokenId, Vec<u8>, String)>> {
    sqlx::query_as(
        "SELECT id, token_encrypted, expires_at FROM setup_tokens
         WHERE server_id = ? AND used_at IS NULL AND expires_at > ? AND token_encrypted IS NOT NULL",
    )
    .bind(server)
    .bind(super::now())
    .fetch_optional(pool)
    .await
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
    // A spent token is of no use to anyone: its sealed copy goes too.
    sqlx::query("UPDATE setup_tokens SET used_at = ?, token_encrypted = NULL WHERE server_id = ? AND used_at IS NULL")
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
