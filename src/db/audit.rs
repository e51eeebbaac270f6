//! `audit_log`: who did what in the panel. Rows are only ever inserted; the schema's triggers
//! refuse updates, and deletes of rows newer than the retention cutoff ([`prune`] moves it).

use super::Pool;
use super::listing::{Filters, Listing};
use crate::domain::{AuditActor, AuditOutcome, AuditVia, ListQuery, Page, TimeSort};
use crate::ids::AuditEntryId;

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct Entry {
    pub id: AuditEntryId,
    pub at: String,
    pub actor_kind: AuditActor,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub outcome: AuditOutcome,
    pub status: Option<i64>,
    pub via: AuditVia,
    pub source: Option<String>,
    #[sqlx(default)]
    #[serde(skip)]
    pub sort_key: String,
}
crate::keyed!(Entry);

/// What an action recorded says; the actor's name is kept as it was then (a renamed or removed
/// user's rows still say who it was).
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub actor_kind: AuditActor,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub outcome: AuditOutcome,
    pub status: Option<u16>,
    pub via: AuditVia,
    pub source: Option<String>,
}

fn bounded(text: &str, max: usize) -> String {
    crate::domain::untrusted_text(text, max)
}

pub async fn insert(pool: &Pool, e: &NewEntry) -> sqlx::Result<AuditEntryId> {
    let id = AuditEntryId::generate();
    sqlx::query(
        "INSERT INTO audit_log (id, actor_kind, actor_id, actor_name, action, target_kind,
                                target_id, outcome, status, via, source)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(e.actor_kind)
    .bind(e.actor_id.as_deref().map(|t| bounded(t, 64)))
    .bind(bounded(&e.actor_name, 300))
    .bind(bounded(&e.action, 100))
    .bind(e.target_kind.as_deref().map(|t| bounded(t, 50)))
    .bind(e.target_id.as_deref().map(|t| bounded(t, 64)))
    .bind(e.outcome)
    .bind(e.status.map(i64::from))
    .bind(e.via)
    .bind(e.source.as_deref().map(|t| bounded(t, 64)))
    .execute(pool)
    .await?;
    Ok(id)
}

const COLUMNS: &str = "a.id, a.at, a.actor_kind, a.actor_id, a.actor_name, a.action, \
                       a.target_kind, a.target_id, a.outcome, a.status, a.via, a.source";

fn order(_: TimeSort) -> &'static str {
    "a.at"
}

pub const LISTING: Listing<TimeSort> = Listing {
    columns: COLUMNS,
    from: "audit_log a",
    id: "a.id",
    search: &["a.action", "a.actor_name", "a.target_id"],
    order,
};

/// What the Audit page (and its export) may be narrowed to; each leads an index.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub outcome: Option<AuditOutcome>,
}

impl AuditFilter {
    pub fn filters(&self) -> Filters {
        Filters::new()
            .and_some("a.actor_name = ?", self.actor.clone())
            .and_some("a.action = ?", self.action.clone())
            .and_some("a.target_id = ?", self.target.clone())
            .and_some("a.outcome = ?", self.outcome.map(|o| o.as_str()))
    }
}

/// One page of the log, newest first.
pub async fn page(
    pool: &Pool,
    q: &ListQuery<TimeSort>,
    filter: &AuditFilter,
) -> sqlx::Result<Page<Entry>> {
    LISTING.fetch(pool, q, &filter.filters()).await
}

/// Remove rows older than `cutoff` (a stored timestamp): the cutoff moves first (it only moves
/// forward), so the triggers let exactly these rows go. Returns how many went.
pub async fn prune(pool: &Pool, cutoff: &str) -> sqlx::Result<u64> {
    // Never past now: a cutoff in the future would let rows yet to come be deleted.
    let now = super::now();
    let cutoff = if cutoff > now.as_str() {
        now.as_str()
    } else {
        cutoff
    };
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE audit_retention SET cutoff = ? WHERE only_row = 1 AND cutoff < ?")
        .bind(cutoff)
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query("DELETE FROM audit_log WHERE at < ?")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}
