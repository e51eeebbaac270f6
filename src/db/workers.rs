//! `site_workers`: a site's workers.

use super::Pool;
use crate::domain::{CronCommand, StopTimeout, WorkerProcesses, WorkerRestart, WorkerSignal};
use crate::ids::{SiteId, WorkerId};

/// The most workers one site may have (each is up to 20 processes on the server).
pub const MAX_PER_SITE: i64 = 20;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Worker {
    pub id: WorkerId,
    pub site_id: SiteId,
    pub command: String,
    pub processes: i64,
    pub restart: WorkerRestart,
    pub stop_signal: WorkerSignal,
    pub stop_timeout: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A worker's settings as they are stored.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    pub command: CronCommand,
    pub processes: WorkerProcesses,
    pub restart: WorkerRestart,
    pub stop_signal: WorkerSignal,
    pub stop_timeout: StopTimeout,
}

const SELECT: &str = "SELECT id, site_id, command, processes, restart, stop_signal, stop_timeout,
            created_at, updated_at
     FROM site_workers";

/// A site's workers, oldest first.
pub async fn for_site(pool: &Pool, site: SiteId) -> sqlx::Result<Vec<Worker>> {
    sqlx::query_as(&format!(
        "{SELECT} WHERE site_id = ? ORDER BY id LIMIT {MAX_PER_SITE}"
    ))
    .bind(site)
    .fetch_all(pool)
    .await
}

pub async fn get(pool: &Pool, site: SiteId, id: WorkerId) -> sqlx::Result<Option<Worker>> {
    sqlx::query_as(&format!("{SELECT} WHERE site_id = ? AND id = ?"))
        .bind(site)
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Add a worker, unless the site has its most already (`false`), in one statement.
pub async fn insert(
    pool: &Pool,
    id: WorkerId,
    site: SiteId,
    w: &WorkerSettings,
) -> sqlx::Result<bool> {
    let done = sqlx::query(&format!(
        "INSERT INTO site_workers (id, site_id, command, processes, restart, stop_signal,
                                   stop_timeout)
         SELECT ?, ?, ?, ?, ?, ?, ?
         WHERE (SELECT count(*) FROM site_workers WHERE site_id = ?) < {MAX_PER_SITE}"
    ))
    .bind(id)
    .bind(site)
    .bind(w.command.as_str())
    .bind(i64::from(w.processes.get()))
    .bind(w.restart)
    .bind(w.stop_signal)
    .bind(i64::from(w.stop_timeout.get()))
    .bind(site)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn update(
    pool: &Pool,
    site: SiteId,
    id: WorkerId,
    w: &WorkerSettings,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE site_workers SET command = ?, processes = ?, restart = ?, stop_signal = ?,
             stop_timeout = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE site_id = ? AND id = ?",
    )
    .bind(w.command.as_str())
    .bind(i64::from(w.processes.get()))
    .bind(w.restart)
    .bind(w.stop_signal)
    .bind(i64::from(w.stop_timeout.get()))
    .bind(site)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(pool: &Pool, site: SiteId, id: WorkerId) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM site_workers WHERE site_id = ? AND id = ?")
        .bind(site)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}
