//! When a stored change to what a site runs (its cron jobs, its workers) goes to its server: a
//! job in the site's lane now, or later with the site's own next job.

use crate::db::sites::Site;
use crate::domain::SiteStatus;
use crate::error::{AppError, AppResult};

/// A site by id, or not found (what every site action starts from).
pub async fn load_site(state: &crate::state::AppState, id: crate::ids::SiteId) -> AppResult<Site> {
    crate::db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Whether a job should write the change now: yes while the site is active or being
/// provisioned (the job waits behind it in the lane); no while it is suspended, failed or not
/// made yet (resuming or retrying writes everything); refused while it is being deleted.
pub fn write_now(site: &Site) -> AppResult<bool> {
    refuse_while_deleting(site)?;
    Ok(matches!(
        site.status,
        SiteStatus::Active | SiteStatus::Provisioning
    ))
}

/// A site being deleted takes no change.
pub fn refuse_while_deleting(site: &Site) -> AppResult<()> {
    if site.status == SiteStatus::Deleting {
        return Err(AppError::Conflict("The site is being deleted.".into()));
    }
    Ok(())
}

/// A job in a site's lane: what it is, and what the server's log says when it fails (`None`:
/// nothing; the job's own page says why).
pub struct LaneJob {
    pub kind: crate::domain::JobKind,
    pub title: String,
    /// Fields added to the job's arguments (beyond the server and the site).
    pub args: serde_json::Map<String, serde_json::Value>,
    pub failure_log: Option<String>,
}

/// Submit `work` in the site's lane: it runs after the site's earlier jobs, with the site as it
/// is when its turn comes (gone: the job fails saying so) and its server.
pub async fn submit<F, Fut>(
    state: &crate::state::AppState,
    site: &Site,
    job: LaneJob,
    actor: Option<crate::ids::UserId>,
    work: F,
) -> AppResult<crate::ids::JobId>
where
    F: FnOnce(
            crate::jobs::JobContext,
            crate::state::AppState,
            crate::db::servers::Server,
            Site,
        ) -> Fut
        + Send
        + 'static,
    Fut: std::future::Future<Output = Result<(), crate::jobs::JobFailure>> + Send + 'static,
{
    use crate::db;
    use crate::jobs::{JobFailure, JobSpec};
    let server = db::servers::get(&state.db, site.server_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut args = serde_json::Map::new();
    args.insert("server_id".into(), serde_json::json!(server.id));
    args.insert("site_id".into(), serde_json::json!(site.id));
    args.extend(job.args);
    let spec = JobSpec {
        server_id: Some(server.id),
        actor_id: actor,
        kind: job.kind,
        args: serde_json::Value::Object(args),
        title: job.title,
        lane: Some(site.id.to_string()),
    };
    let job_state = state.clone();
    let site_id = site.id;
    let failure_log = job.failure_log;
    let id = state
        .jobs
        .submit(spec, move |ctx| async move {
            let state = job_state;
            let site = db::sites::get(&state.db, site_id)
                .await?
                .ok_or_else(|| JobFailure::new("the site no longer exists"))?;
            let (server_id, domain) = (server.id, site.domain.clone());
            let result = work(ctx, state.clone(), server, site).await;
            if let (Some(what), Err(e)) = (failure_log, &result) {
                db::servers::log(
                    &state.db,
                    server_id,
                    crate::domain::LogLevel::Error,
                    &format!("{domain}: {what}"),
                    &serde_json::json!({ "site_id": site_id, "reason": e.message }),
                )
                .await?;
            }
            result
        })
        .await?;
    Ok(id)
}
