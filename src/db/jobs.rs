//! `jobs` and `job_log`.

use super::Pool;
use super::listing::{Filters, Listing};
use crate::domain::{JobKind, JobStatus, LogStream, StepStatus};
use crate::domain::{ListQuery, Page, TimeSort};
use crate::ids::{JobId, ServerId, UserId};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Job {
    pub id: JobId,
    pub server_id: Option<ServerId>,
    pub kind: JobKind,
    pub args: String,
    pub title: String,
    pub status: JobStatus,
    pub exit_code: Option<i64>,
    pub error: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// The value the list is sorted by (its cursor).
    #[sqlx(default)]
    pub sort_key: String,
    /// Names for people, where the query joined them (the list and a job's page).
    #[sqlx(default)]
    pub server_name: Option<String>,
    #[sqlx(default)]
    pub site_id: Option<String>,
    #[sqlx(default)]
    pub site_domain: Option<String>,
    #[sqlx(default)]
    pub actor_name: Option<String>,
    /// Who started it, if a person did (a removed user keeps the id, loses the name).
    #[sqlx(default)]
    pub actor_id: Option<String>,
}
crate::keyed!(Job);

fn order(_: TimeSort) -> &'static str {
    "j.created_at"
}

pub const LISTING: Listing<TimeSort> = Listing {
    columns: NAMED_COLUMNS,
    from: NAMED_FROM,
    id: "j.id",
    search: &["j.title"],
    order,
};

/// What the jobs list may be narrowed to.
#[derive(Clone, Copy, Debug, Default)]
pub struct JobFilter {
    pub server: Option<ServerId>,
    pub status: Option<JobStatus>,
}

impl JobFilter {
    pub fn filters(&self) -> Filters {
        Filters::new()
            .and_some("j.server_id = ?", self.server)
            .and_some("j.status = ?", self.status.map(|s| s.as_str()))
    }
}

/// One page of jobs, newest first.
pub async fn page(
    pool: &Pool,
    q: &ListQuery<TimeSort>,
    filter: &JobFilter,
) -> sqlx::Result<Page<Job>> {
    LISTING.fetch(pool, q, &filter.filters()).await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LogLine {
    pub seq: i64,
    pub stream: LogStream,
    pub line: String,
}

pub struct NewJob<'a> {
    pub server_id: Option<ServerId>,
    pub actor_id: Option<UserId>,
    pub kind: JobKind,
    pub args: &'a str,
    pub title: &'a str,
}

pub async fn insert(pool: &Pool, job: &NewJob<'_>) -> sqlx::Result<JobId> {
    let id = JobId::generate();
    sqlx::query(
        "INSERT INTO jobs (id, server_id, actor_id, kind, args, title) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(job.server_id)
    .bind(job.actor_id)
    .bind(job.kind)
    .bind(job.args)
    .bind(job.title)
    .execute(pool)
    .await?;
    Ok(id)
}

const COLUMNS: &str = "id, server_id, kind, args, title, status, exit_code, error, created_at, started_at, finished_at";

/// A job with the names a person reads: its server, its site (jobs about a site name it in their
/// arguments) and who started it. Each join is a primary-key lookup per row.
const NAMED_COLUMNS: &str = "j.id, j.server_id, j.kind, j.args, j.title, j.status, j.exit_code,
    j.error, j.created_at, j.started_at, j.finished_at, s.name AS server_name,
    si.id AS site_id, si.domain AS site_domain, u.name AS actor_name, j.actor_id";
const NAMED_FROM: &str = "jobs j LEFT JOIN servers s ON s.id = j.server_id
    LEFT JOIN sites si ON si.id = json_extract(j.args, '$.site_id')
    LEFT JOIN users u ON u.id = j.actor_id";

/// A job with its names (`NAMED_COLUMNS`), for its page.
pub async fn get_named(pool: &Pool, id: JobId) -> sqlx::Result<Option<Job>> {
    sqlx::query_as(&format!(
        "SELECT {NAMED_COLUMNS} FROM {NAMED_FROM} WHERE j.id = ?"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn get(pool: &Pool, id: JobId) -> sqlx::Result<Option<Job>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn mark_running(pool: &Pool, id: JobId) -> sqlx::Result<()> {
    sqlx::query("UPDATE jobs SET status = 'running', started_at = ? WHERE id = ?")
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

pub async fn finish(
    pool: &Pool,
    id: JobId,
    status: JobStatus,
    exit_code: Option<i64>,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE jobs SET status = ?, exit_code = ?, error = ?, finished_at = ? WHERE id = ?",
    )
    .bind(status)
    .bind(exit_code)
    .bind(error)
    .bind(super::now())
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ())
}

pub async fn append_log(
    pool: &Pool,
    id: JobId,
    stream: LogStream,
    line: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("INSERT INTO job_log (job_id, stream, line) VALUES (?, ?, ?) RETURNING seq")
        .bind(id)
        .bind(stream)
        .bind(line)
        .fetch_one(pool)
        .await
}

/// Several lines in one transaction (one write lock instead of one per line); their `seq`s.
pub async fn append_logs(
    pool: &Pool,
    id: JobId,
    lines: &[(LogStream, String)],
) -> sqlx::Result<Vec<i64>> {
    let mut tx = pool.begin().await?;
    let mut seqs = Vec::with_capacity(lines.len());
    for (stream, line) in lines {
        seqs.push(
            sqlx::query_scalar(
                "INSERT INTO job_log (job_id, stream, line) VALUES (?, ?, ?) RETURNING seq",
            )
            .bind(id)
            .bind(*stream)
            .bind(line)
            .fetch_one(&mut *tx)
            .await?,
        );
    }
    tx.commit().await?;
    Ok(seqs)
}

/// Log lines after `after_seq`, in order.
pub async fn log_since(pool: &Pool, id: JobId, after_seq: i64) -> sqlx::Result<Vec<LogLine>> {
    sqlx::query_as(
        "SELECT seq, stream, line FROM job_log WHERE job_id = ? AND seq > ? ORDER BY seq",
    )
    .bind(id)
    .bind(after_seq)
    .fetch_all(pool)
    .await
}

/// Jobs a crash left queued or running: mark them interrupted and return them.
pub async fn interrupt_unfinished(pool: &Pool) -> sqlx::Result<Vec<JobId>> {
    sqlx::query_scalar(
        "UPDATE jobs SET status = 'interrupted', finished_at = ?,
                error = 'the panel stopped while this job was running'
         WHERE status IN ('queued', 'running') RETURNING id",
    )
    .bind(super::now())
    .fetch_all(pool)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Step {
    pub position: i64,
    pub description: String,
    pub status: StepStatus,
}

/// Start the next step of a job; returns its id and position.
pub async fn start_step(
    pool: &Pool,
    job: JobId,
    description: &str,
) -> sqlx::Result<(crate::ids::JobStepId, i64)> {
    let id = crate::ids::JobStepId::generate();
    let position = sqlx::query_scalar(
        "INSERT INTO job_steps (id, job_id, position, description)
         VALUES (?, ?, (SELECT coalesce(max(position), 0) + 1 FROM job_steps WHERE job_id = ?), ?)
         RETURNING position",
    )
    .bind(id)
    .bind(job)
    .bind(job)
    .bind(description)
    .fetch_one(pool)
    .await?;
    Ok((id, position))
}

pub async fn finish_step(
    pool: &Pool,
    id: crate::ids::JobStepId,
    status: StepStatus,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE job_steps SET status = ?, finished_at = ? WHERE id = ?")
        .bind(status)
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Steps still `running` when their job ended (failed or interrupted) are marked failed.
pub async fn close_open_steps(pool: &Pool, job: JobId) -> sqlx::Result<()> {
    sqlx::query("UPDATE job_steps SET status = 'failed', finished_at = ? WHERE job_id = ? AND status = 'running'")
        .bind(super::now())
        .bind(job)
        .execute(pool)
        .await
        .map(|_| ())
}

pub async fn steps(pool: &Pool, job: JobId) -> sqlx::Result<Vec<Step>> {
    sqlx::query_as(
        "SELECT position, description, status FROM job_steps WHERE job_id = ? ORDER BY position",
    )
    .bind(job)
    .fetch_all(pool)
    .await
}

/// A job with its steps and its whole log (what a page shows of it), if it exists.
/// A job with its steps and the last `LOG_PAGE` lines of its log (what pages that show a
/// job's card need; the job's own page pages through the rest).
pub async fn with_log(
    pool: &Pool,
    id: Option<JobId>,
) -> sqlx::Result<Option<(Vec<Step>, Vec<LogLine>, Job)>> {
    let Some(id) = id else {
        return Ok(None);
    };
    let Some(job) = get(pool, id).await? else {
        return Ok(None);
    };
    Ok(Some((
        steps(pool, id).await?,
        log_before(pool, id, None).await?.0,
        job,
    )))
}

/// Log lines a page shows at once.
pub const LOG_PAGE: i64 = 500;

/// Up to `LOG_PAGE` lines before `before` (the last ones without it), oldest first, and
/// whether there are earlier ones.
pub async fn log_before(
    pool: &Pool,
    id: JobId,
    before: Option<i64>,
) -> sqlx::Result<(Vec<LogLine>, bool)> {
    let mut lines: Vec<LogLine> = sqlx::query_as(
        "SELECT seq, stream, line FROM job_log WHERE job_id = ? AND seq < ?
         ORDER BY seq DESC LIMIT ?",
    )
    .bind(id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(LOG_PAGE + 1)
    .fetch_all(pool)
    .await?;
    let earlier = lines.len() as i64 > LOG_PAGE;
    lines.truncate(LOG_PAGE as usize);
    lines.reverse();
    Ok((lines, earlier))
}

/// Up to `LOG_PAGE` lines after `after`, oldest first, and whether there are later ones.
pub async fn log_after(pool: &Pool, id: JobId, after: i64) -> sqlx::Result<(Vec<LogLine>, bool)> {
    let mut lines: Vec<LogLine> = sqlx::query_as(
        "SELECT seq, stream, line FROM job_log WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    )
    .bind(id)
    .bind(after)
    .bind(LOG_PAGE + 1)
    .fetch_all(pool)
    .await?;
    let later = lines.len() as i64 > LOG_PAGE;
    lines.truncate(LOG_PAGE as usize);
    Ok((lines, later))
}

/// Remove jobs that finished before `before` (their log and steps go with them), except the
/// last job a site records; how many went.
pub async fn prune(pool: &Pool, before: &str) -> sqlx::Result<u64> {
    sqlx::query(
        "DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?
           AND id NOT IN (SELECT last_job_id FROM sites WHERE last_job_id IS NOT NULL)",
    )
    .bind(before)
    .execute(pool)
    .await
    .map(|r| r.rows_affected())
}
