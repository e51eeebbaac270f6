//! `site_cron_jobs`: a site's cron jobs.

use super::Pool;
use crate::domain::{CronCommand, CronOrigin, CronSchedule};
use crate::ids::{CronJobId, SiteId};

/// The most cron jobs one site may have (each is a timer on the server).
pub const MAX_PER_SITE: i64 = 50;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CronJob {
    pub id: CronJobId,
    pub site_id: SiteId,
    pub schedule: String,
    pub command: String,
    pub enabled: bool,
    pub origin: CronOrigin,
    pub created_at: String,
    pub updated_at: String,
}

const SELECT: &str =
    "SELECT id, site_id, schedule, command, enabled, origin, created_at, updated_at
     FROM site_cron_jobs";

/// A site's jobs, oldest first.
pub async fn for_site(pool: &Pool, site: SiteId) -> sqlx::Result<Vec<CronJob>> {
    sqlx::query_as(&format!(
        "{SELECT} WHERE site_id = ? ORDER BY id LIMIT {MAX_PER_SITE}"
    ))
    .bind(site)
    .fetch_all(pool)
    .await
}

pub async fn get(pool: &Pool, site: SiteId, id: CronJobId) -> sqlx::Result<Option<CronJob>> {
    sqlx::query_as(&format!("{SELECT} WHERE site_id = ? AND id = ?"))
        .bind(site)
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Add a job, unless the site has its most already (`false`), in one statement.
pub async fn insert(
    pool: &Pool,
    id: CronJobId,
    site: SiteId,
    schedule: &CronSchedule,
    command: &CronCommand,
    enabled: bool,
    origin: CronOrigin,
) -> sqlx::Result<bool> {
    let done = sqlx::query(&format!(
        "INSERT INTO site_cron_jobs (id, site_id, schedule, command, enabled, origin)
         SELECT ?, ?, ?, ?, ?, ?
         WHERE (SELECT count(*) FROM site_cron_jobs WHERE site_id = ?) < {MAX_PER_SITE}"
    ))
    .bind(id)
    .bind(site)
    .bind(schedule.as_str())
    .bind(command.as_str())
    .bind(enabled)
    .bind(origin)
    .bind(site)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn update(
    pool: &Pool,
    site: SiteId,
    id: CronJobId,
    schedule: &CronSchedule,
    command: &CronCommand,
    enabled: bool,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE site_cron_jobs SET schedule = ?, command = ?, enabled = ?,
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE site_id = ? AND id = ?",
    )
    .bind(schedule.as_str())
    .bind(command.as_str())
    .bind(enabled)
    .bind(site)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_enabled(
    pool: &Pool,
    site: SiteId,
    id: CronJobId,
    enabled: bool,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE site_cron_jobs SET enabled = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE site_id = ? AND id = ?",
    )
    .bind(enabled)
    .bind(site)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(pool: &Pool, site: SiteId, id: CronJobId) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM site_cron_jobs WHERE site_id = ? AND id = ?")
        .bind(site)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}
