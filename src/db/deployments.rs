//! `deployments`.

use super::Pool;
use crate::domain::{DeploymentStatus, DeploymentTrigger};
use crate::ids::DeploymentId;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeploymentSummary {
    pub id: DeploymentId,
    pub site_domain: String,
    pub status: DeploymentStatus,
    pub triggered_by: DeploymentTrigger,
    pub branch: String,
    pub commit_hash: Option<String>,
    pub actor_name: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// The most recent deployments first.
pub async fn recent(pool: &Pool, limit: i64) -> sqlx::Result<Vec<DeploymentSummary>> {
    sqlx::query_as(
        "SELECT d.id, si.domain AS site_domain, d.status, d.triggered_by, d.branch, d.commit_hash,
                u.name AS actor_name, d.created_at, d.started_at, d.finished_at
         FROM deployments d
         JOIN sites si ON si.id = d.site_id
         LEFT JOIN users u ON u.id = d.actor_id
         ORDER BY d.created_at DESC, d.id DESC
         LIMIT ?",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}
