//! `databases` (passwords stay encrypted; nothing here reads them).

use super::Pool;
use super::listing::{Filters, Listing};
use crate::domain::{DatabaseSort, ListQuery, Page};
use crate::domain::{DatabaseStatus, DatabaseType};
use crate::ids::DatabaseId;
use crate::ids::ServerId;

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
    pub created_at: String,
    /// The value the list is sorted by (its cursor).
    #[sqlx(default)]
    pub sort_key: String,
}
crate::keyed!(DatabaseSummary);

fn order(sort: DatabaseSort) -> &'static str {
    match sort {
        DatabaseSort::Name => "d.name",
        DatabaseSort::Newest => "d.created_at",
    }
}

pub const LISTING: Listing<DatabaseSort> = Listing {
    columns: "d.id, d.name, d.username, d.db_type, d.status, se.name AS server_name,
              d.site_id, si.domain AS site_domain, d.created_at",
    from: "databases d
           JOIN servers se ON se.id = d.server_id
           LEFT JOIN sites si ON si.id = d.site_id",
    id: "d.id",
    search: &["d.name", "d.username"],
    order,
};

pub fn filters(server: Option<ServerId>) -> Filters {
    Filters::new().and_some("d.server_id = ?", server)
}

/// One page of the databases list, optionally of one server.
pub async fn page(
    pool: &Pool,
    q: &ListQuery<DatabaseSort>,
    server: Option<ServerId>,
) -> sqlx::Result<Page<DatabaseSummary>> {
    LISTING.fetch(pool, q, &filters(server)).await
}
