//! The dispatcher: gives every queued deployment its job, oldest first — at once when this
//! process queued one (the kick), and every second for rows another process (the CLI) wrote.
//! One job per deployment, one at a time per site (the site's job lane).

use std::time::Duration;

use tokio::task::JoinHandle;

use super::job;
use crate::db::deployments::Deployment;
use crate::db::sites::Site;
use crate::db::{self};
use crate::domain::{DeploymentAction, JobKind};
use crate::ids::JobId;
use crate::jobs::JobSpec;
use crate::state::AppState;

/// How often the dispatcher looks for deployments queued by another process (the CLI).
const POLL: Duration = Duration::from_secs(1);

/// Give every queued deployment its job, oldest first. Only the dispatcher's own task calls
/// this, so a deployment is never given two jobs.
pub async fn dispatch(state: &AppState) -> sqlx::Result<usize> {
    let pool = &state.db;
    let ids = db::deployments::undispatched(pool).await?;
    for id in &ids {
        let Some(d) = db::deployments::get(pool, *id).await? else {
            continue;
        };
        let Some(site) = db::sites::get(pool, d.site_id).await? else {
            continue;
        };
        let job = submit(state, &d, &site).await?;
        db::deployments::set_job(pool, *id, job).await?;
    }
    Ok(ids.len())
}

async fn submit(state: &AppState, d: &Deployment, site: &Site) -> sqlx::Result<JobId> {
    let title = match d.action {
        DeploymentAction::Deploy => format!("Deploy {} ({})", site.domain, d.branch),
        DeploymentAction::Rollback => format!(
            "Roll {} back to release {}",
            site.domain,
            d.release.as_deref().unwrap_or("?")
        ),
    };
    let spec = JobSpec {
        server_id: Some(site.server_id),
        actor_id: None,
        kind: JobKind::SiteDeploy,
        args: serde_json::json!({ "deployment_id": d.id, "site_id": site.id }),
        title,
        // One at a time per site, in order, behind any other job of the site.
        lane: Some(site.id.to_string()),
    };
    let (job_state, id) = (state.clone(), d.id);
    state
        .jobs
        .submit(spec, move |ctx| async move {
            job::run(ctx, job_state, id).await
        })
        .await
}

/// Run until the panel stops: dispatch when kicked, and every second for other processes' rows.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    let mut stopping = state.stopping.clone();
    tokio::spawn(async move {
        loop {
            if let Err(e) = dispatch(&state).await {
                tracing::warn!("dispatching deployments failed: {e}");
            }
            tokio::select! {
                _ = state.deploys.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = stopping.changed() => return,
            }
            if state.db.is_closed() {
                return;
            }
        }
    })
}
