//! A site's workers: add, edit, delete, restart. Each change is stored, then a job in the
//! site's lane makes the node run exactly the stored workers (`provision::workers`), which
//! restarts them all; a site that is suspended or failed keeps the change until it is resumed
//! or retried (both start the workers again). Deploys and rollbacks restart them too (a step of
//! their plans). What runs is read from the node when the tab is shown (`status`).

pub mod forms;
mod jobs;
pub mod status;

use crate::db::sites::Site;
use crate::db::workers::{MAX_PER_SITE, Worker};
use crate::db::{self, Pool};
use crate::domain::{CronCommand, SiteStatus, StopTimeout, WorkerProcesses};
use crate::error::{AppError, AppResult};
use crate::ids::{JobId, SiteId, UserId, WorkerId};
use crate::provision::workers::WorkerEntry;
use crate::sites::lane::{load_site, refuse_while_deleting};
use crate::state::AppState;

use forms::WorkerForm;
pub use status::{ProcessState, WorkerStatus};

/// The workers a site's node should run, as the plans take them. A stored row that no longer
/// parses (it was checked when stored) is left out and named in the error.
pub async fn entries(pool: &Pool, site: SiteId) -> Result<Vec<WorkerEntry>, String> {
    let rows = db::workers::for_site(pool, site)
        .await
        .map_err(|e| format!("the site's workers cannot be read: {e}"))?;
    rows.iter().map(entry).collect()
}

fn entry(row: &Worker) -> Result<WorkerEntry, String> {
    let bad = |what: &str| format!("worker {}: the stored {what} is out of range", row.id);
    Ok(WorkerEntry {
        id: row.id,
        command: CronCommand::parse(&row.command).map_err(|e| format!("worker {}: {e}", row.id))?,
        processes: WorkerProcesses::from_stored(row.processes).ok_or_else(|| bad("count"))?,
        restart: row.restart,
        stop_signal: row.stop_signal,
        stop_timeout: StopTimeout::from_stored(row.stop_timeout)
            .ok_or_else(|| bad("stop timeout"))?,
    })
}

async fn load_worker(state: &AppState, site: SiteId, id: WorkerId) -> AppResult<Worker> {
    db::workers::get(&state.db, site, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// After a change is stored: a job now, or none until the site runs again.
async fn apply_change(
    state: &AppState,
    site: &Site,
    actor: Option<UserId>,
) -> AppResult<Option<JobId>> {
    if crate::sites::lane::write_now(site)? {
        jobs::submit(state, site, actor).await.map(Some)
    } else {
        Ok(None)
    }
}

pub async fn create(
    state: &AppState,
    site_id: SiteId,
    form: &WorkerForm,
    actor: Option<UserId>,
) -> AppResult<(WorkerId, Option<JobId>)> {
    let site = load_site(state, site_id).await?;
    let input = forms::parse(form).map_err(AppError::Invalid)?;
    refuse_while_deleting(&site)?;
    let id = WorkerId::generate();
    if !db::workers::insert(&state.db, id, site_id, &input).await? {
        return Err(AppError::Conflict(format!(
            "A site has at most {MAX_PER_SITE} workers; remove one first."
        )));
    }
    Ok((id, apply_change(state, &site, actor).await?))
}

pub async fn update(
    state: &AppState,
    site_id: SiteId,
    id: WorkerId,
    form: &WorkerForm,
    actor: Option<UserId>,
) -> AppResult<Option<JobId>> {
    let site = load_site(state, site_id).await?;
    load_worker(state, site_id, id).await?;
    let input = forms::parse(form).map_err(AppError::Invalid)?;
    refuse_while_deleting(&site)?;
    db::workers::update(&state.db, site_id, id, &input).await?;
    apply_change(state, &site, actor).await
}

pub async fn delete(
    state: &AppState,
    site_id: SiteId,
    id: WorkerId,
    actor: Option<UserId>,
) -> AppResult<Option<JobId>> {
    let site = load_site(state, site_id).await?;
    load_worker(state, site_id, id).await?;
    refuse_while_deleting(&site)?;
    db::workers::delete(&state.db, site_id, id).await?;
    apply_change(state, &site, actor).await
}

/// Restart every worker of the site (and write them again, after a failed change).
pub async fn restart(state: &AppState, site_id: SiteId, actor: Option<UserId>) -> AppResult<JobId> {
    let site = load_site(state, site_id).await?;
    if site.status != SiteStatus::Active {
        return Err(AppError::Conflict(
            "Workers run while the site is active.".into(),
        ));
    }
    jobs::submit(state, &site, actor).await
}
