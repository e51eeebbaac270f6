//! `sites`.

use super::Pool;
use crate::domain::{AppType, PhpVersion, SiteStatus};
use crate::ids::SiteId;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SiteSummary {
    pub id: SiteId,
    pub domain: String,
    pub server_name: String,
    pub app_type: AppType,
    pub php_version: PhpVersion,
    pub status: SiteStatus,
    pub status_reason: Option<String>,
}

pub async fn list(pool: &Pool) -> sqlx::Result<Vec<SiteSummary>> {
    sqlx::query_as(
        "SELECT si.id, si.domain, se.name AS server_name, si.app_type, si.php_version, si.status,
                si.status_reason
         FROM sites si JOIN servers se ON se.id = si.server_id
         ORDER BY si.domain",
    )
    .fetch_all(pool)
    .await
}
