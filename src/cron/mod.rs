//! A site's cron jobs: add, edit, enable or disable, delete, run now, apply again. Each change
//! is stored, then a job in the site's lane makes the node run exactly the stored jobs
//! (`provision::cron`); a site that is suspended or failed keeps the change until it is resumed
//! or retried (both write the jobs again). The last run of each job is read from the node when
//! the tab is shown (`last_run`).

pub mod forms;
mod jobs;
pub mod last_run;

use crate::db::cron::{CronJob, MAX_PER_SITE};
use crate::db::sites::Site;
use crate::db::{self, Pool};
use crate::domain::{AppType, CronCommand, CronOrigin, CronSchedule, SiteStatus};
use crate::error::{AppError, AppResult};
use crate::ids::{CronJobId, JobId, SiteId, UserId};
use crate::provision::cron::CronEntry;
use crate::sites::lane::{load_site, refuse_while_deleting};
use crate::state::AppState;

use forms::CronForm;
pub use jobs::Work;
pub use last_run::{LastRun, last_runs};

/// The jobs a site's node should run, as the plans take them. A stored row that no longer
/// parses (it was checked when stored) is left out and named in the error.
pub async fn entries(pool: &Pool, site: SiteId) -> Result<Vec<CronEntry>, String> {
    let rows = db::cron::for_site(pool, site)
        .await
        .map_err(|e| format!("the site's cron jobs cannot be read: {e}"))?;
    rows.iter().map(entry).collect()
}

fn entry(row: &CronJob) -> Result<CronEntry, String> {
    Ok(CronEntry {
        id: row.id,
        schedule: CronSchedule::parse(&row.schedule)
            .map_err(|e| format!("cron job {}: {e}", row.id))?,
        command: CronCommand::parse(&row.command)
            .map_err(|e| format!("cron job {}: {e}", row.id))?,
        enabled: row.enabled,
    })
}

/// What a job's output must never show (in a run-now log or the last runs): the site's database
/// password and its `.env` values whose names say they are secret. A job runs with the `.env`
/// exported, so `env` or a stack trace would print them.
pub fn secrets_of(spec: &crate::provision::SiteSpec, password: Option<String>) -> Vec<String> {
    const SECRET: [&str; 5] = ["PASSWORD", "SECRET", "KEY", "TOKEN", "PASS"];
    let mut out: Vec<String> = password.into_iter().collect();
    out.extend(
        spec.env
            .iter()
            .filter(|(k, v)| {
                let k = k.as_str().to_ascii_uppercase();
                v.len() >= 6 && SECRET.iter().any(|s| k.contains(s))
            })
            .map(|(_, v)| v.clone()),
    );
    out
}

/// The job offered when a site of this type is created: Laravel's scheduler every minute,
/// WordPress's WP-Cron every five (its `.env` gets `DISABLE_WP_CRON`, which Bedrock-style
/// configs read; a classic `wp-config.php` defines the constant itself).
pub fn preset(app: AppType) -> Option<(CronOrigin, CronSchedule, CronCommand)> {
    let (origin, schedule, command) = match app {
        AppType::Laravel => (
            CronOrigin::Laravel,
            "* * * * *",
            "php public_html/artisan schedule:run",
        ),
        AppType::WordPress => (
            CronOrigin::WordPress,
            "*/5 * * * *",
            "php public_html/wp-cron.php",
        ),
        AppType::Generic => return None,
    };
    Some((
        origin,
        CronSchedule::parse(schedule).expect("the preset parses"),
        CronCommand::parse(command).expect("the preset parses"),
    ))
}

/// Store a site's preset job (at its creation, before its provisioning writes it).
pub async fn add_preset(state: &AppState, site: SiteId, app: AppType) -> AppResult<()> {
    if let Some((origin, schedule, command)) = preset(app) {
        db::cron::insert(
            &state.db,
            CronJobId::generate(),
            site,
            &schedule,
            &command,
            true,
            origin,
        )
        .await?;
    }
    Ok(())
}

async fn load_job(state: &AppState, site: SiteId, id: CronJobId) -> AppResult<CronJob> {
    db::cron::get(&state.db, site, id)
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
        jobs::submit(state, site, Work::Sync, actor).await.map(Some)
    } else {
        Ok(None)
    }
}

pub async fn create(
    state: &AppState,
    site_id: SiteId,
    form: &CronForm,
    actor: Option<UserId>,
) -> AppResult<(CronJobId, Option<JobId>)> {
    let site = load_site(state, site_id).await?;
    let input = forms::parse(form).map_err(AppError::Invalid)?;
    refuse_while_deleting(&site)?;
    let id = CronJobId::generate();
    let added = db::cron::insert(
        &state.db,
        id,
        site_id,
        &input.schedule,
        &input.command,
        input.enabled,
        CronOrigin::User,
    )
    .await?;
    if !added {
        return Err(AppError::Conflict(format!(
            "A site has at most {MAX_PER_SITE} cron jobs; remove one first."
        )));
    }
    Ok((id, apply_change(state, &site, actor).await?))
}

pub async fn update(
    state: &AppState,
    site_id: SiteId,
    id: CronJobId,
    form: &CronForm,
    actor: Option<UserId>,
) -> AppResult<Option<JobId>> {
    let site = load_site(state, site_id).await?;
    load_job(state, site_id, id).await?;
    let input = forms::parse(form).map_err(AppError::Invalid)?;
    refuse_while_deleting(&site)?;
    db::cron::update(
        &state.db,
        site_id,
        id,
        &input.schedule,
        &input.command,
        input.enabled,
    )
    .await?;
    apply_change(state, &site, actor).await
}

pub async fn set_enabled(
    state: &AppState,
    site_id: SiteId,
    id: CronJobId,
    enabled: bool,
    actor: Option<UserId>,
) -> AppResult<Option<JobId>> {
    let site = load_site(state, site_id).await?;
    load_job(state, site_id, id).await?;
    refuse_while_deleting(&site)?;
    db::cron::set_enabled(&state.db, site_id, id, enabled).await?;
    apply_change(state, &site, actor).await
}

pub async fn delete(
    state: &AppState,
    site_id: SiteId,
    id: CronJobId,
    actor: Option<UserId>,
) -> AppResult<Option<JobId>> {
    let site = load_site(state, site_id).await?;
    load_job(state, site_id, id).await?;
    refuse_while_deleting(&site)?;
    db::cron::delete(&state.db, site_id, id).await?;
    apply_change(state, &site, actor).await
}

/// Write the site's jobs to its node again (after a failed change).
pub async fn apply(state: &AppState, site_id: SiteId, actor: Option<UserId>) -> AppResult<JobId> {
    let site = load_site(state, site_id).await?;
    if site.status != SiteStatus::Active {
        return Err(AppError::Conflict(
            "Cron jobs are written to the server while the site is active.".into(),
        ));
    }
    jobs::submit(state, &site, Work::Sync, actor).await
}

/// Run one job now, the way its schedule would (as the site user, in its domain).
pub async fn run_now(
    state: &AppState,
    site_id: SiteId,
    id: CronJobId,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    let site = load_site(state, site_id).await?;
    load_job(state, site_id, id).await?;
    if site.status != SiteStatus::Active {
        return Err(AppError::Conflict(
            "A cron job can be run while its site is active.".into(),
        ));
    }
    jobs::submit(state, &site, Work::Run(id), actor).await
}
