//! `deployments`, a site's repository settings (`site_repositories`) and the webhook deliveries
//! already acted on (`webhook_deliveries`).

use super::Pool;
use super::listing::{Filters, Listing};
use crate::domain::{DeploymentAction, DeploymentStatus, DeploymentTrigger, ReleaseState};
use crate::domain::{ListQuery, Page, TimeSort};
use crate::ids::{DeploymentId, JobId, SiteId, UserId};

/// A deployment with its site and who started it, for lists and its page.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Deployment {
    pub id: DeploymentId,
    pub site_id: SiteId,
    pub site_domain: String,
    pub action: DeploymentAction,
    pub status: DeploymentStatus,
    pub triggered_by: DeploymentTrigger,
    pub trigger_detail: Option<String>,
    pub actor_name: Option<String>,
    pub branch: String,
    pub commit_hash: Option<String>,
    pub commit_message: Option<String>,
    pub release: Option<String>,
    pub release_state: ReleaseState,
    pub job_id: Option<JobId>,
    pub status_reason: Option<String>,
    pub stdout: String,
    pub stderr: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// The value the list is sorted by (its cursor).
    #[sqlx(default)]
    pub sort_key: String,
}
crate::keyed!(Deployment);

const SELECT: &str = "SELECT d.id, d.site_id, si.domain AS site_domain, d.action, d.status,
        d.triggered_by, d.trigger_detail, u.name AS actor_name, d.branch, d.commit_hash,
        d.commit_message, d.release, d.release_state, d.job_id, d.status_reason, d.stdout,
        d.stderr, d.created_at, d.started_at, d.finished_at
     FROM deployments d
     JOIN sites si ON si.id = d.site_id
     LEFT JOIN users u ON u.id = d.actor_id";

fn order(_: TimeSort) -> &'static str {
    "d.created_at"
}

/// The deployments list: its output columns are left out (the deployment's page shows them).
pub const LISTING: Listing<TimeSort> = Listing {
    columns: "d.id, d.site_id, si.domain AS site_domain, d.action, d.status,
        d.triggered_by, d.trigger_detail, u.name AS actor_name, d.branch, d.commit_hash,
        d.commit_message, d.release, d.release_state, d.job_id, d.status_reason, '' AS stdout,
        '' AS stderr, d.created_at, d.started_at, d.finished_at",
    from: "deployments d
     JOIN sites si ON si.id = d.site_id
     LEFT JOIN users u ON u.id = d.actor_id",
    id: "d.id",
    search: &[],
    order,
};

/// What the deployments list may be narrowed to.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeploymentFilter {
    pub site: Option<SiteId>,
    pub status: Option<DeploymentStatus>,
}

impl DeploymentFilter {
    pub fn filters(&self) -> Filters {
        Filters::new()
            .and_some("d.site_id = ?", self.site)
            .and_some("d.status = ?", self.status.map(|s| s.as_str()))
    }
}

/// One page of deployments, newest first.
pub async fn page(
    pool: &Pool,
    q: &ListQuery<TimeSort>,
    filter: &DeploymentFilter,
) -> sqlx::Result<Page<Deployment>> {
    LISTING.fetch(pool, q, &filter.filters()).await
}

/// One site's deployments, newest first.
pub async fn for_site(pool: &Pool, site: SiteId, limit: i64) -> sqlx::Result<Vec<Deployment>> {
    sqlx::query_as(&format!(
        "{SELECT} WHERE d.site_id = ? ORDER BY d.created_at DESC, d.id DESC LIMIT ?"
    ))
    .bind(site)
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub async fn get(pool: &Pool, id: DeploymentId) -> sqlx::Result<Option<Deployment>> {
    sqlx::query_as(&format!("{SELECT} WHERE d.id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub struct NewDeployment<'a> {
    pub id: DeploymentId,
    pub site_id: SiteId,
    pub actor_id: Option<UserId>,
    pub triggered_by: DeploymentTrigger,
    pub trigger_detail: Option<&'a str>,
    pub action: DeploymentAction,
    pub branch: &'a str,
    /// A rollback's target release (and its commit); a deploy's release is its own id.
    pub release: &'a str,
    pub commit_hash: Option<&'a str>,
    pub commit_message: Option<&'a str>,
}

/// Queue a deployment (`pending`); the dispatcher gives it a job.
pub async fn insert(pool: &Pool, d: &NewDeployment<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO deployments (id, site_id, actor_id, triggered_by, trigger_detail, action,
                                  branch, release, commit_hash, commit_message)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(d.id)
    .bind(d.site_id)
    .bind(d.actor_id)
    .bind(d.triggered_by)
    .bind(d.trigger_detail)
    .bind(d.action)
    .bind(d.branch)
    .bind(d.release)
    .bind(d.commit_hash)
    .bind(d.commit_message)
    .execute(pool)
    .await?;
    Ok(())
}

/// Queued deployments no job runs yet, oldest first.
pub async fn undispatched(pool: &Pool) -> sqlx::Result<Vec<DeploymentId>> {
    sqlx::query_scalar(
        "SELECT id FROM deployments WHERE status = 'pending' AND job_id IS NULL
         ORDER BY created_at, id",
    )
    .fetch_all(pool)
    .await
}

/// Give a queued deployment its job (it may already be running it: the job can start before
/// this is recorded); false if it had one.
pub async fn set_job(pool: &Pool, id: DeploymentId, job: JobId) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE deployments SET job_id = ? WHERE id = ? AND job_id IS NULL")
        .bind(job)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn mark_running(pool: &Pool, id: DeploymentId) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE deployments SET status = 'running',
                started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE id = ?",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// What a deployment's job found out on the way (the commit as soon as it is fetched).
pub async fn set_commit(
    pool: &Pool,
    id: DeploymentId,
    commit: &str,
    message: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE deployments SET commit_hash = ?, commit_message = ? WHERE id = ?")
        .bind(commit)
        .bind(message)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// How a deployment ended.
pub struct Outcome<'a> {
    pub status: DeploymentStatus,
    pub reason: Option<&'a str>,
    pub stdout: &'a str,
    pub stderr: &'a str,
    /// What is left of its release on the server.
    pub release_state: ReleaseState,
}

pub async fn finish(pool: &Pool, id: DeploymentId, o: &Outcome<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE deployments SET status = ?, status_reason = ?, stdout = ?, stderr = ?,
                release_state = CASE WHEN action = 'deploy' THEN ? ELSE release_state END,
                finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE id = ?",
    )
    .bind(o.status)
    .bind(o.reason)
    .bind(o.stdout)
    .bind(o.stderr)
    .bind(o.release_state)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// The releases a prune removed from the server: they can no longer be rolled back to.
pub async fn mark_pruned(pool: &Pool, site: SiteId, releases: &[String]) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    for r in releases {
        sqlx::query(
            "UPDATE deployments SET release_state = 'pruned'
             WHERE site_id = ? AND id = ? AND action = 'deploy'",
        )
        .bind(site)
        .bind(r)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// After a restart: a deployment whose job was running failed (its job is `interrupted`); one
/// still waiting is queued again. Returns (failed, queued again).
pub async fn recover(pool: &Pool) -> sqlx::Result<(u64, u64)> {
    let failed = sqlx::query(
        "UPDATE deployments SET status = 'failed',
                status_reason = 'the panel stopped while this deployment was running; deploy again',
                finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE status = 'running'",
    )
    .execute(pool)
    .await?
    .rows_affected();
    let queued = sqlx::query(
        "UPDATE deployments SET job_id = NULL WHERE status = 'pending' AND job_id IS NOT NULL",
    )
    .execute(pool)
    .await?
    .rows_affected();
    Ok((failed, queued))
}

/// A site's repository settings, deploy key and webhook secret (both sealed).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Repository {
    pub site_id: SiteId,
    pub url: String,
    pub branch: String,
    pub deploy_script: String,
    pub keep_releases: i64,
    pub deploy_key_public: String,
    pub deploy_key_fingerprint: String,
    pub deploy_key_encrypted: Vec<u8>,
    pub webhook_secret_encrypted: Vec<u8>,
    pub current_release: Option<String>,
    pub updated_at: String,
    /// The git host's keys a scan found, awaiting confirmation (known_hosts lines).
    pub scanned_host_keys: Option<String>,
    /// The git host's keys deploys trust (known_hosts lines).
    pub confirmed_host_keys: Option<String>,
}

pub async fn repository(pool: &Pool, site: SiteId) -> sqlx::Result<Option<Repository>> {
    sqlx::query_as(
        "SELECT site_id, url, branch, deploy_script, keep_releases, deploy_key_public,
                deploy_key_fingerprint, deploy_key_encrypted, webhook_secret_encrypted,
                current_release, updated_at, scanned_host_keys, confirmed_host_keys
         FROM site_repositories WHERE site_id = ?",
    )
    .bind(site)
    .fetch_optional(pool)
    .await
}

/// The settings a user edits.
pub struct Settings<'a> {
    pub url: &'a str,
    pub branch: &'a str,
    pub deploy_script: &'a str,
    pub keep_releases: i64,
}

/// A deploy key, public half, fingerprint and sealed private half.
pub struct DeployKey<'a> {
    pub public: &'a str,
    pub fingerprint: &'a str,
    pub sealed: &'a [u8],
}

/// Connect a repository: its settings with a new deploy key and webhook secret.
pub async fn create_repository(
    pool: &Pool,
    site: SiteId,
    s: &Settings<'_>,
    key: &DeployKey<'_>,
    webhook_secret_sealed: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO site_repositories (site_id, url, branch, deploy_script, keep_releases,
                deploy_key_public, deploy_key_fingerprint, deploy_key_encrypted,
                webhook_secret_encrypted)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(site)
    .bind(s.url)
    .bind(s.branch)
    .bind(s.deploy_script)
    .bind(s.keep_releases)
    .bind(key.public)
    .bind(key.fingerprint)
    .bind(key.sealed)
    .bind(webhook_secret_sealed)
    .execute(pool)
    .await?;
    Ok(())
}

/// What a scan of the git host found (`None` clears it), and the confirmed keys (`None`
/// clears them: the repository moved to another host).
pub async fn set_host_keys(
    pool: &Pool,
    site: SiteId,
    scanned: Option<&str>,
    confirmed: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE site_repositories SET scanned_host_keys = ?, confirmed_host_keys = ?,
                updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE site_id = ?",
    )
    .bind(scanned)
    .bind(confirmed)
    .bind(site)
    .execute(pool)
    .await
    .map(|_| ())
}

pub async fn update_settings(pool: &Pool, site: SiteId, s: &Settings<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE site_repositories SET url = ?, branch = ?, deploy_script = ?, keep_releases = ?,
                updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE site_id = ?",
    )
    .bind(s.url)
    .bind(s.branch)
    .bind(s.deploy_script)
    .bind(s.keep_releases)
    .bind(site)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn set_deploy_key(pool: &Pool, site: SiteId, key: &DeployKey<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE site_repositories SET deploy_key_public = ?, deploy_key_fingerprint = ?,
                deploy_key_encrypted = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE site_id = ?",
    )
    .bind(key.public)
    .bind(key.fingerprint)
    .bind(key.sealed)
    .bind(site)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn set_webhook_secret(pool: &Pool, site: SiteId, sealed: &[u8]) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE site_repositories SET webhook_secret_encrypted = ?,
                updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE site_id = ?",
    )
    .bind(sealed)
    .bind(site)
    .execute(pool)
    .await?;
    Ok(())
}

/// The release nginx serves now.
pub async fn set_current_release(pool: &Pool, site: SiteId, release: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE site_repositories SET current_release = ? WHERE site_id = ?")
        .bind(release)
        .bind(site)
        .execute(pool)
        .await?;
    Ok(())
}

/// Remember a webhook delivery; false if it was seen before (a replay).
pub async fn use_delivery(pool: &Pool, site: SiteId, delivery: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (site_id, delivery) VALUES (?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(site)
    .bind(delivery)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forget deliveries received before `before` (RFC 3339).
pub async fn purge_deliveries(pool: &Pool, before: &str) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM webhook_deliveries WHERE received_at < ?")
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
