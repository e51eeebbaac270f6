//! The workers' node job, in the site's lane: write the site's workers (all of them, so the node
//! matches what is stored) and restart them.

use crate::db::servers::Server;
use crate::db::sites::Site;
use crate::domain::{JobKind, SiteStatus};
use crate::error::AppResult;
use crate::ids::{JobId, UserId};
use crate::jobs::{JobContext, JobFailure};
use crate::provision::workers as plans;
use crate::sites::lane::LaneJob;
use crate::sites::spec_of;
use crate::state::AppState;

pub async fn submit(state: &AppState, site: &Site, actor: Option<UserId>) -> AppResult<JobId> {
    let job = LaneJob {
        kind: JobKind::SiteWorkers,
        title: format!("Write and restart the workers of {}", site.domain),
        args: Default::default(),
        failure_log: Some("writing the workers failed".into()),
    };
    crate::sites::lane::submit(
        state,
        site,
        job,
        actor,
        |ctx, state, server, site| async move { perform(&ctx, &state, &server, &site).await },
    )
    .await
}

async fn perform(
    ctx: &JobContext,
    state: &AppState,
    server: &Server,
    site: &Site,
) -> Result<(), JobFailure> {
    // Read when the job's turn came: a suspend or delete queued before it in the site's lane
    // has stopped the workers since, and they stay stopped until the site runs again.
    if !matches!(site.status, SiteStatus::Active | SiteStatus::Provisioning) {
        ctx.note(&format!(
            "The site is {}: its workers start when it is active again.",
            site.status
        ));
        return Ok(());
    }
    let (spec, password) = spec_of(site, &state.secrets).map_err(JobFailure::new)?;
    let entries = super::entries(&state.db, site.id)
        .await
        .map_err(JobFailure::new)?;
    let plan = plans::sync(
        crate::nodes::profile(server),
        crate::nodes::driver(server),
        &spec,
        &entries,
    );
    let session = crate::nodes::open_session(state, ctx, server).await?;
    crate::provision::run::Runner::new(ctx, &session)
        .redacting(crate::cron::secrets_of(&spec, password))
        .run(&plan)
        .await
        .map(|_| ())
}
