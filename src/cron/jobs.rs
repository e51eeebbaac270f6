//! The cron jobs' own node jobs, in the site's lane: write the site's jobs (all of them, so the
//! node matches what is stored), or run one now.

use crate::db::servers::Server;
use crate::db::sites::Site;
use crate::domain::{JobKind, SiteStatus};
use crate::error::AppResult;
use crate::ids::{CronJobId, JobId, UserId};
use crate::jobs::{JobContext, JobFailure};
use crate::provision::cron as plans;
use crate::sites::lane::LaneJob;
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
    let mut args = serde_json::Map::new();
    let title = match work {
        Work::Sync => format!("Write the cron jobs of {}", site.domain),
        Work::Run(id) => {
            args.insert("cron_job_id".into(), serde_json::json!(id));
            format!("Run a cron job of {}", site.domain)
        }
    };
    let job = LaneJob {
        kind: work.kind(),
        title,
        args,
        failure_log: matches!(work, Work::Sync).then(|| "writing the cron jobs failed".into()),
    };
    crate::sites::lane::submit(state, site, job, actor, move |ctx, state, server, site| async move {
        perform(&ctx, &state, &server, &site, work).await
    })
    .await
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
