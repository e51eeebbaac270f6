//! `databases` (passwords stay encrypted; nothing here reads them).

use super::Pool;
use crate::domain::{DatabaseStatus, DatabaseType};
use crate::ids::DatabaseId;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DatabaseSummary {
    pub id: DatabaseId,
    pub name: String,
    pub username: String,
    pub db_type: DatabaseType,
    pub status: DatabaseStatus,
    pub server_name: String,
    pub site_id: Option<crate::ids::SiteId>,
    pub site_domain: Option<String>,
}

pub async fn list(pool: &Pool) -> sqlx::Result<Vec<DatabaseSummary>> {
    sqlx::query_as(
        "SELECT d.id, d.name, d.username, d.db_type, d.status, se.name AS server_name,
                d.site_id, si.domain AS site_domain
         FROM databases d
         JOIN servers se ON se.id = d.server_id
         LEFT JOIN sites si ON si.id = d.site_id
         ORDER BY se.name COLLATE NOCASE, d.name",
    )
    .fetch_all(pool)
    .await
}
