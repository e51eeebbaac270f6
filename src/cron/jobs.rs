//! The cron jobs' own node jobs, in the site's lane: write the site's jobs (all of them, so the
//! node matches what is stored), or run one now.

use crate::db::servers::Server;
use crate::db::sites::Site;
use crate::db::{self};
use crate::domain::{JobKind, LogLevel, SiteStatus};
use crate::error::{AppError, AppResult};
use crate::ids::{CronJobId, JobId, UserId};
use crate::jobs::{JobContext, JobFailure, JobSpec};
use crate::provision::cron as plans;
use crate::sites::spec_of;
use crate::state::AppState;

/// What a cron job's node job does.
#[derive(Clone, Copy, Debug)]
pub enum Work {
    Sync,
    Run(CronJobId),
}

impl Work {
    fn kind(self) -> JobKind {
        match self {
            Work::Sync => JobKind::SiteCron,
            Work::Run(_) => JobKind::SiteCronRun,
        }
    }
}

pub async fn submit(
    state: &AppState,
    site: &Site,
    work: Work,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    let server = db::servers::get(&state.db, site.server_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let title = match work {
        Work::Sync => format!("Write the cron jobs of {}", site.domain),
        Work::Run(_) => format!("Run a cron job of {}", site.domain),
    };
    let mut args = serde_json::json!({ "server_id": server.id, "site_id": site.id });
    if let Work::Run(id) = work {
        args["cron_job_id"] = serde_json::json!(id);
    }
    let spec = JobSpec {
        server_id: Some(server.id),
        actor_id: actor,
        kind: work.kind(),
        args,
        title,
        lane: Some(site.id.to_string()),
    };
    let job_state = state.clone();
    let site_id = site.id;
    let job = state
        .jobs
        .submit(spec, move |ctx| async move {
            let state = job_state;
            let site = db::sites::get(&state.db, site_id)
                .await?
                .ok_or_else(|| JobFailure::new("the site no longer exists"))?;
            let result = perform(&ctx, &state, &server, &site, work).await;
            if let (Work::Sync, Err(e)) = (work, &result) {
                db::servers::log(
                    &state.db,
                    server.id,
                    LogLevel::Error,
                    &format!("{}: writing the cron jobs failed", site.domain),
                    &serde_json::json!({ "site_id": site.id, "reason": e.message }),
                )
                .await?;
            }
            result
        })
        .await?;
    Ok(job)
}

async fn perform(
    ctx: &JobContext,
    state: &AppState,
    server: &Server,
    site: &Site,
    work: Work,
) -> Result<(), JobFailure> {
    // Read when the job's turn came: a suspend or delete queued before it in the site's lane
    // has stopped the jobs since, and they stay stopped until the site runs again.
    match (work, site.status) {
        (_, SiteStatus::Active) | (Work::Sync, SiteStatus::Provisioning) => {}
        (Work::Sync, status) => {
            ctx.note(&format!(
                "The site is {status}: its cron jobs are written when it is active again."
            ));
            return Ok(());
        }
        (Work::Run(_), status) => {
            return Err(JobFailure::new(format!(
                "the site is {status}: a cron job runs while its site is active"
            )));
        }
    }
    let (spec, password) = spec_of(site, &state.secrets).map_err(JobFailure::new)?;
    let profile = crate::nodes::profile(server);
    let driver = crate::nodes::driver(server);
    let entries = super::entries(&state.db, site.id)
        .await
        .map_err(JobFailure::new)?;
    let plan = match work {
        Work::Sync => plans::sync(profile, driver, &spec, &entries),
        Work::Run(id) => {
            let entry = entries
                .iter()
                .find(|e| e.id == id)
                .ok_or_else(|| JobFailure::new("the cron job no longer exists"))?;
            plans::run_now(profile, driver, &spec, entry)
        }
    };
    let session = crate::nodes::open_session(state, ctx, server).await?;
    crate::provision::run::Runner::new(ctx, &session)
        .redacting(super::secrets_of(&spec, password))
        .run(&plan)
        .await
        .map(|_| ())
}
