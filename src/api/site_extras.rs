//! A site's cron jobs and workers over the API: list, add, change, delete; run a cron job now,
//! restart the workers. The bodies become the UI's forms and go to the same actions, so the
//! checks and their field errors are the UI's; a change made while the site is not active is
//! stored and written when it runs again (no `job_id` then).

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiResult;
use super::ops::{Accepted, Tag, Token, parse_id, queued, site_on_reachable};
use crate::cron::forms::CronForm;
use crate::db;
use crate::domain::{CronSchedule, Perm};
use crate::ids::{CronJobId, JobId, WorkerId};
use crate::state::AppState;
use crate::workers::forms::WorkerForm;

/// One of a site's cron jobs.
#[derive(Object)]
pub struct CronJob {
    pub id: String,
    /// Cron syntax, evaluated in UTC.
    pub schedule: String,
    /// The schedule in words.
    pub described: String,
    /// The next five runs (UTC), while enabled.
    pub next_runs: Vec<String>,
    /// Run by `bash -c` as the site's user in its home.
    pub command: String,
    pub enabled: bool,
    /// user, laravel or wordpress (a preset at the site's creation).
    pub origin: String,
}

/// A cron job as asked for.
#[derive(Object)]
pub struct CronJobBody {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub schedule: String,
    #[oai(validator(min_length = 1, max_length = 1000))]
    pub command: String,
    #[oai(default = "default_true")]
    pub enabled: bool,
}

fn default_true() -> bool {
    true
}

/// One of a site's workers.
#[derive(Object)]
pub struct Worker {
    pub id: String,
    pub command: String,
    pub processes: i64,
    /// always, on-failure or never.
    pub restart: String,
    /// TERM, INT, QUIT, HUP, USR1 or USR2.
    pub stop_signal: String,
    /// Seconds after the stop signal before the process is killed.
    pub stop_timeout: i64,
}

/// A worker as asked for.
#[derive(Object)]
pub struct WorkerBody {
    #[oai(validator(min_length = 1, max_length = 1000))]
    pub command: String,
    #[oai(
        default = "one",
        validator(minimum(value = "1"), maximum(value = "20"))
    )]
    pub processes: u8,
    #[oai(default = "always", validator(pattern = "^(always|on-failure|never)$"))]
    pub restart: String,
    #[oai(
        default = "term",
        validator(pattern = "^(TERM|INT|QUIT|HUP|USR1|USR2)$")
    )]
    pub stop_signal: String,
    #[oai(
        default = "sixty",
        validator(minimum(value = "1"), maximum(value = "600"))
    )]
    pub stop_timeout: u16,
}

fn one() -> u8 {
    1
}
fn always() -> String {
    "always".into()
}
fn term() -> String {
    "TERM".into()
}
fn sixty() -> u16 {
    60
}

impl From<&WorkerBody> for WorkerForm {
    fn from(b: &WorkerBody) -> Self {
        WorkerForm {
            command: b.command.clone(),
            processes: b.processes.to_string(),
            restart: b.restart.clone(),
            stop_signal: b.stop_signal.clone(),
            stop_timeout: b.stop_timeout.to_string(),
        }
    }
}

impl From<&CronJobBody> for CronForm {
    fn from(b: &CronJobBody) -> Self {
        CronForm {
            schedule: b.schedule.clone(),
            command: b.command.clone(),
            enabled: b.enabled.then(|| "on".to_owned()),
        }
    }
}

/// A change stored: what it is, and the job writing it to the server (none while the site is
/// not active: it is written when the site runs again).
#[derive(Object)]
pub struct Saved {
    pub id: String,
    #[oai(skip_serializing_if_is_none)]
    pub job_id: Option<String>,
}

fn saved(id: impl ToString, job: Option<JobId>) -> Json<Saved> {
    Json(Saved {
        id: id.to_string(),
        job_id: job.map(|j| j.to_string()),
    })
}

#[derive(ApiResponse)]
enum Created {
    /// Stored; written to the server as `job_id`.
    #[oai(status = 201)]
    Created(Json<Saved>),
}

fn cron_json(row: db::cron::CronJob) -> CronJob {
    let parsed = CronSchedule::parse(&row.schedule).ok();
    let now = chrono::Utc::now();
    CronJob {
        id: row.id.to_string(),
        described: parsed.as_ref().map(|s| s.describe()).unwrap_or_default(),
        next_runs: match (&parsed, row.enabled) {
            (Some(s), true) => s
                .next_runs(now, 5)
                .iter()
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .collect(),
            _ => Vec::new(),
        },
        schedule: row.schedule,
        command: row.command,
        enabled: row.enabled,
        origin: row.origin.to_string(),
    }
}

pub struct ExtrasApi;

#[OpenApi]
impl ExtrasApi {
    /// The site's cron jobs, oldest first.
    #[oai(
        path = "/sites/:id/cron-jobs",
        method = "get",
        tag = "Tag::Sites",
        operation_id = "sites.cron.list"
    )]
    async fn cron_jobs(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Json<Vec<CronJob>>> {
        let (site, _) = site_on_reachable(&state, req, &id.0, Perm::View).await?;
        let rows = db::cron::for_site(&state.db, site.id).await?;
        Ok(Json(rows.into_iter().map(cron_json).collect()))
    }

    /// Add a cron job.
    #[oai(
        path = "/sites/:id/cron-jobs",
        method = "post",
        tag = "Tag::Sites",
        operation_id = "sites.cron.create"
    )]
    async fn add_cron_job(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        body: Json<CronJobBody>,
    ) -> ApiResult<Created> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Manage).await?;
        let (job_id, job) =
            crate::cron::create(&state, site.id, &CronForm::from(&body.0), who.user_id).await?;
        Ok(Created::Created(saved(job_id, job)))
    }

    /// Replace a cron job: every field as given (`enabled` left out is true).
    #[oai(
        path = "/sites/:id/cron-jobs/:job",
        method = "put",
        tag = "Tag::Sites",
        operation_id = "sites.cron.update"
    )]
    async fn change_cron_job(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] job: Path<String>,
        body: Json<CronJobBody>,
    ) -> ApiResult<Json<Saved>> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Manage).await?;
        let cron: CronJobId = parse_id(&job.0)?;
        let started =
            crate::cron::update(&state, site.id, cron, &CronForm::from(&body.0), who.user_id)
                .await?;
        Ok(saved(cron, started))
    }

    /// Delete a cron job (it stops running).
    #[oai(
        path = "/sites/:id/cron-jobs/:job",
        method = "delete",
        tag = "Tag::Sites",
        operation_id = "sites.cron.delete"
    )]
    async fn delete_cron_job(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] job: Path<String>,
    ) -> ApiResult<Json<Saved>> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Manage).await?;
        let cron: CronJobId = parse_id(&job.0)?;
        let started = crate::cron::delete(&state, site.id, cron, who.user_id).await?;
        Ok(saved(cron, started))
    }

    /// Run a cron job now, as its schedule would; its output is the job's log.
    #[oai(
        path = "/sites/:id/cron-jobs/:job/run",
        method = "post",
        tag = "Tag::Sites",
        operation_id = "sites.cron.run"
    )]
    async fn run_cron_job(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] job: Path<String>,
    ) -> ApiResult<Accepted> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Operate).await?;
        let cron: CronJobId = parse_id(&job.0)?;
        let started = crate::cron::run_now(&state, site.id, cron, who.user_id).await?;
        Ok(queued(started))
    }

    /// The site's workers, oldest first.
    #[oai(
        path = "/sites/:id/workers",
        method = "get",
        tag = "Tag::Sites",
        operation_id = "sites.workers.list"
    )]
    async fn workers(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Json<Vec<Worker>>> {
        let (site, _) = site_on_reachable(&state, req, &id.0, Perm::View).await?;
        let rows = db::workers::for_site(&state.db, site.id).await?;
        Ok(Json(
            rows.into_iter()
                .map(|w| Worker {
                    id: w.id.to_string(),
                    command: w.command,
                    processes: w.processes,
                    restart: w.restart.to_string(),
                    stop_signal: w.stop_signal.to_string(),
                    stop_timeout: w.stop_timeout,
                })
                .collect(),
        ))
    }

    /// Add a worker (the site's workers are restarted).
    #[oai(
        path = "/sites/:id/workers",
        method = "post",
        tag = "Tag::Sites",
        operation_id = "sites.workers.create"
    )]
    async fn add_worker(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        body: Json<WorkerBody>,
    ) -> ApiResult<Created> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Manage).await?;
        let (worker, job) =
            crate::workers::create(&state, site.id, &WorkerForm::from(&body.0), who.user_id)
                .await?;
        Ok(Created::Created(saved(worker, job)))
    }

    /// Replace a worker's settings: fields left out take their defaults (the site's workers
    /// are restarted).
    #[oai(
        path = "/sites/:id/workers/:worker",
        method = "put",
        tag = "Tag::Sites",
        operation_id = "sites.workers.update"
    )]
    async fn change_worker(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] worker: Path<String>,
        body: Json<WorkerBody>,
    ) -> ApiResult<Json<Saved>> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Manage).await?;
        let worker: WorkerId = parse_id(&worker.0)?;
        let started = crate::workers::update(
            &state,
            site.id,
            worker,
            &WorkerForm::from(&body.0),
            who.user_id,
        )
        .await?;
        Ok(saved(worker, started))
    }

    /// Delete a worker (its processes are stopped).
    #[oai(
        path = "/sites/:id/workers/:worker",
        method = "delete",
        tag = "Tag::Sites",
        operation_id = "sites.workers.delete"
    )]
    async fn delete_worker(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] worker: Path<String>,
    ) -> ApiResult<Json<Saved>> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Manage).await?;
        let worker: WorkerId = parse_id(&worker.0)?;
        let started = crate::workers::delete(&state, site.id, worker, who.user_id).await?;
        Ok(saved(worker, started))
    }

    /// Restart every worker of the site (each with its stop signal and timeout).
    #[oai(
        path = "/sites/:id/workers/restart",
        method = "post",
        tag = "Tag::Sites",
        operation_id = "sites.workers.restart"
    )]
    async fn restart_workers(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Accepted> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Operate).await?;
        let started = crate::workers::restart(&state, site.id, who.user_id).await?;
        Ok(queued(started))
    }
}
