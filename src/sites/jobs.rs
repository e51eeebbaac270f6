//! The jobs that change a site on its server — provision (and resume, retry), suspend, delete,
//! rotate the database password, write the `.env` — each a plan run step by step, and the
//! site's status and a server-log line recorded from how it went.

use crate::db::servers::Server;
use crate::db::sites::Site;
use crate::db::{self, Pool};
use crate::domain::{JobKind, LogLevel, SiteStatus};
use crate::error::AppResult;
use crate::ids::{JobId, UserId};
use crate::jobs::{JobContext, JobFailure};
use crate::provision::Plan;
use crate::provision::site::{self as plans, Confirm, DeleteScope, PlanSecrets};
use crate::state::AppState;

use super::spec::spec_of;

/// What a site job does once connected.
pub enum Work {
    Provision,
    Suspend,
    Delete(DeleteScope),
    RotatePassword(String),
    WriteEnv,
    PhpSettings,
    /// Rewrite the vhost with new redirects; when nginx refuses it, `previous` is stored again.
    Vhost {
        previous: Option<String>,
        new: Option<String>,
    },
    /// Rewrite the vhost with a new custom block; when nginx refuses it, `previous` is stored
    /// again.
    CustomBlock {
        previous: Option<String>,
        new: Option<String>,
    },
}

impl Work {
    fn kind(&self) -> JobKind {
        match self {
            Work::Provision => JobKind::SiteProvision,
            Work::Suspend => JobKind::SiteSuspend,
            Work::Delete(_) => JobKind::SiteDelete,
            Work::RotatePassword(_) => JobKind::SiteRotatePassword,
            Work::WriteEnv => JobKind::SiteWriteEnv,
            Work::PhpSettings => JobKind::SitePhp,
            Work::Vhost { .. } => JobKind::SiteRedirects,
            Work::CustomBlock { .. } => JobKind::SiteNginx,
        }
    }

    fn title(&self, domain: &str) -> String {
        match self {
            Work::Provision => format!("Provision {domain}"),
            Work::Suspend => format!("Suspend {domain}"),
            Work::Delete(_) => format!("Delete {domain}"),
            Work::RotatePassword(_) => format!("Rotate the database password of {domain}"),
            Work::WriteEnv => format!("Write the .env of {domain}"),
            Work::PhpSettings => format!("Apply the PHP settings of {domain}"),
            Work::Vhost { .. } => format!("Apply the redirects of {domain}"),
            Work::CustomBlock { .. } => format!("Apply the custom nginx block of {domain}"),
        }
    }
}

/// Queue `work` on the site's server, in the site's lane (after any other job of the site).
pub async fn submit(
    state: &AppState,
    site: &Site,
    work: Work,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    let spec = crate::sites::lane::LaneJob {
        kind: work.kind(),
        title: work.title(&site.domain),
        args: Default::default(),
        // `finish` writes the server's log line itself, failure or not.
        failure_log: None,
    };
    let job = crate::sites::lane::submit(
        state,
        site,
        spec,
        actor,
        move |ctx, state, server, site| async move {
            let result = perform(&ctx, &state, &server, &site, &work).await;
            finish(&state.db, &server, &site, &work, &result).await?;
            result
        },
    )
    .await?;
    db::sites::set_last_job(&state.db, site.id, job).await?;
    Ok(job)
}

async fn perform(
    ctx: &JobContext,
    state: &AppState,
    server: &Server,
    site: &Site,
    work: &Work,
) -> Result<(), JobFailure> {
    let pool = &state.db;
    let (spec, password) = spec_of(site, &state.secrets).map_err(JobFailure::new)?;
    let profile = crate::nodes::profile(server);
    let driver = crate::nodes::driver(server);
    let mut redact: Vec<String> = password.iter().cloned().collect();
    let mut plan: Plan = match work {
        Work::Provision => {
            let secret = crate::nodes::callbacks::secret(state, server.id)
                .await
                .map_err(|e| JobFailure::new(e.public_message()))?;
            redact.push(secret.clone());
            let confirm = Confirm {
                panel_url: state.config.servers_url().to_owned(),
                server_id: server.id.to_string(),
                site_id: site.id.to_string(),
                secret,
            };
            plans::provision(
                profile,
                driver,
                &spec,
                &PlanSecrets {
                    db_password: password,
                },
                Some(&confirm),
            )
        }
        Work::Suspend => plans::suspend(profile, driver, &spec),
        Work::Delete(scope) => plans::delete(profile, driver, &spec, *scope),
        Work::RotatePassword(new) => {
            redact.push(new.clone());
            plans::rotate_password(&spec, new, profile, driver)
        }
        Work::WriteEnv => plans::write_env(&spec, password.as_deref(), profile, driver),
        Work::PhpSettings => crate::provision::php::settings(profile, driver, &spec),
        Work::Vhost { .. } | Work::CustomBlock { .. } => {
            crate::provision::php::vhost(profile, driver, &spec)
        }
    };
    with_site_extras(state, &mut plan, site.id, &spec, work).await?;
    let session = crate::nodes::open_session(state, ctx, server).await?;
    let started = std::time::Instant::now();
    let result = crate::provision::run::Runner::new(ctx, &session)
        .redacting(redact)
        .run(&plan)
        .await;
    if let Ok(report) = &result {
        // Where the time went: waiting on the node vs the panel's own work (benchmarked).
        let total = started.elapsed();
        ctx.note(&format!(
            "Timing: {} remote commands, {} ms on the node, {} ms in the panel",
            report.commands,
            report.remote.as_millis(),
            total.saturating_sub(report.remote).as_millis()
        ));
    }
    if let (Ok(report), Work::Provision) = (&result, work) {
        // The user's uid, for the record: the confirm step (the last) prints it first.
        let uid = report
            .stdout
            .last()
            .and_then(|out| out.lines().next())
            .and_then(|l| l.trim().parse::<i64>().ok());
        if let Some(uid) = uid {
            db::sites::set_uid(pool, site.id, uid).await?;
        }
    }
    let report = result?;
    if !report.skipped.is_empty() {
        ctx.note(&format!(
            "Already done, skipped: {}",
            report.skipped.join("; ")
        ));
    }
    Ok(())
}

/// The site's cron jobs and workers follow it: written (and started) when it is provisioned or
/// resumed, stopped when it is suspended or deleted; so does the rotation of its logs
/// (written when provisioned, removed when deleted).
async fn with_site_extras(
    state: &AppState,
    plan: &mut Plan,
    site: crate::ids::SiteId,
    spec: &crate::provision::SiteSpec,
    work: &Work,
) -> Result<(), JobFailure> {
    use crate::provision::{cron, workers};
    match work {
        Work::Provision => {
            let cron = crate::cron::entries(&state.db, site)
                .await
                .map_err(JobFailure::new)?;
            let workers = crate::workers::entries(&state.db, site)
                .await
                .map_err(JobFailure::new)?;
            provision_extras(plan, spec, &cron, &workers);
        }
        Work::Suspend => {
            plan.steps.extend(cron::remove_steps(plan.driver, spec));
            plan.steps.extend(workers::remove_steps(plan.driver, spec));
        }
        Work::Delete(_) => {
            let mut steps = cron::remove_steps(plan.driver, spec);
            steps.extend(workers::remove_steps(plan.driver, spec));
            plan.steps.splice(0..0, steps);
            plan.steps.push(crate::provision::logs::unrotate_step(spec));
        }
        Work::RotatePassword(_)
        | Work::WriteEnv
        | Work::PhpSettings
        | Work::Vhost { .. }
        | Work::CustomBlock { .. } => {}
    }
    Ok(())
}

/// What provisioning (or resuming) a site runs beyond the site itself, before the last step
/// (whose output is the confirmation): its cron jobs and workers as stored (none: whatever an
/// earlier run left is stopped; the runner does nothing when nothing is there) and the rotation
/// of its logs. `panel site plan` prints the same steps.
pub fn provision_extras(
    plan: &mut Plan,
    spec: &crate::provision::SiteSpec,
    cron: &[crate::provision::cron::CronEntry],
    workers: &[crate::provision::workers::WorkerEntry],
) {
    use crate::provision::{cron as cron_plans, workers as worker_plans};
    let mut steps = if cron.is_empty() {
        cron_plans::remove_steps(plan.driver, spec)
    } else {
        cron_plans::sync_steps(plan.profile, plan.driver, spec, cron)
    };
    if workers.is_empty() {
        steps.extend(worker_plans::remove_steps(plan.driver, spec));
    } else {
        steps.extend(worker_plans::sync_steps(
            plan.profile,
            plan.driver,
            spec,
            workers,
        ));
    }
    steps.push(crate::provision::logs::rotate_step(spec));
    let at = plan.steps.len().saturating_sub(1);
    plan.steps.splice(at..at, steps);
}

/// Record a job's outcome: the site's status and a line in the server's log.
async fn finish(
    pool: &Pool,
    server: &Server,
    site: &Site,
    work: &Work,
    result: &Result<(), JobFailure>,
) -> sqlx::Result<()> {
    let reason = result.as_ref().err().map(|f| f.message.as_str());
    let (status, message) = match (work, result) {
        (Work::Provision, Ok(())) => (Some(SiteStatus::Active), "site is active"),
        (Work::Provision, Err(_)) => (Some(SiteStatus::Error), "site provisioning failed"),
        (Work::Suspend, Ok(())) => (Some(SiteStatus::Suspended), "site suspended"),
        (Work::Suspend, Err(_)) => (Some(SiteStatus::Error), "suspending the site failed"),
        (Work::Delete(_), Ok(())) => (None, "site deleted"),
        (Work::Delete(_), Err(_)) => (Some(SiteStatus::Error), "deleting the site failed"),
        (Work::RotatePassword(_), Ok(())) => (None, "database password rotated"),
        (Work::RotatePassword(_), Err(_)) => (None, "rotating the database password failed"),
        (Work::WriteEnv, Ok(())) => (None, ".env written"),
        (Work::WriteEnv, Err(_)) => (None, "writing the .env failed"),
        (Work::PhpSettings, Ok(())) => (None, "PHP settings applied"),
        (Work::PhpSettings, Err(_)) => (None, "applying the PHP settings failed"),
        (Work::Vhost { .. }, Ok(())) => (None, "redirects applied"),
        (Work::Vhost { .. }, Err(_)) => (
            None,
            "the redirects were refused by nginx; the previous ones are back",
        ),
        (Work::CustomBlock { .. }, Ok(())) => (None, "custom nginx block applied"),
        (Work::CustomBlock { .. }, Err(_)) => (
            None,
            "the custom nginx block was refused by nginx; the previous one is back",
        ),
    };
    let level = if result.is_ok() {
        LogLevel::Info
    } else {
        LogLevel::Error
    };
    db::servers::log(
        pool,
        server.id,
        level,
        &format!("{}: {message}", site.domain),
        &serde_json::json!({ "site_id": site.id, "reason": reason }),
    )
    .await?;
    // The vhost job has one step, the tested write: its failure is nginx refusing the change,
    // which is then not served; what is stored follows (unless changed again meanwhile).
    match (work, result) {
        (Work::CustomBlock { previous, new }, Err(_)) => {
            let part = db::sites::VhostPart::NginxCustom;
            db::sites::restore_vhost_part(pool, site.id, part, previous.as_deref(), new.as_deref())
                .await?;
        }
        (Work::Vhost { previous, new }, Err(_)) => {
            let part = db::sites::VhostPart::Redirects;
            db::sites::restore_vhost_part(pool, site.id, part, previous.as_deref(), new.as_deref())
                .await?;
        }
        _ => {}
    }
    if let (Work::Delete(scope), Ok(())) = (work, result) {
        return db::sites::delete(pool, site, !scope.files).await;
    }
    if site.db_id.is_some() && matches!(work, Work::Provision) {
        db::sites::set_database_status(
            pool,
            site.id,
            if result.is_ok() { "active" } else { "error" },
        )
        .await?;
    }
    if let Some(status) = status {
        db::sites::set_status(pool, site.id, status, reason).await?;
    }
    Ok(())
}
