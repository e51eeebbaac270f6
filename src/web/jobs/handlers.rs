use futures_util::StreamExt;
use futures_util::stream;
use maud::Markup;
use poem::web::sse::{Event, SSE};
use poem::web::{Data, Path, Query};
use poem::{Request, handler};
use serde::Deserialize;

use super::views;
use crate::db;
use crate::domain::{JobStatus, ListForm, LogStream, StepStatus, TimeSort};
use crate::error::{AppError, AppResult};
use crate::ids::JobId;
use crate::jobs::follow::{Update, follow};
use crate::web::listing::{self, ListView};
use crate::web::session;
use crate::web::{AppState, sse};

/// The jobs list's query string: the list's own fields, a server and a status.
#[derive(Debug, Default, Deserialize)]
pub struct JobListForm {
    #[serde(flatten)]
    list: ListForm,
    #[serde(default)]
    server: String,
    #[serde(default)]
    status: String,
}

#[handler]
pub async fn index(state: Data<&AppState>, Query(form): Query<JobListForm>) -> AppResult<Markup> {
    let query = listing::parse(&form.list, TimeSort::Newest)?;
    let mut errors = Vec::new();
    let filter = db::jobs::JobFilter {
        server: listing::filter_value(&form.server, "server", "not a server", &mut errors),
        status: listing::filter_value(&form.status, "status", "not a job status", &mut errors),
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let page = db::jobs::page(&state.db, &query, &filter).await?;
    let list = ListView::new(crate::paths::JOBS, &query)
        .filter("server", &form.server)
        .filter("status", &form.status);
    Ok(views::index(&list, &page, filter.status))
}

fn parse_id(id: &str) -> AppResult<JobId> {
    id.parse().map_err(|_| AppError::NotFound)
}

#[handler]
pub async fn show(
    state: Data<&AppState>,
    Path(id): Path<String>,
    Query(page): Query<LogPage>,
) -> AppResult<Markup> {
    let id = parse_id(&id)?;
    let job = db::jobs::get_named(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let steps = db::jobs::steps(&state.db, id).await?;
    // The newest lines, live while the job runs; `before`/`after` page through the rest (a
    // page of history, not followed live).
    let log = match (page.before, page.after) {
        (None, None) => {
            let (lines, earlier) = db::jobs::log_before(&state.db, id, None).await?;
            views::LogWindow {
                lines,
                earlier,
                later: false,
                history: false,
            }
        }
        (Some(before), _) => {
            let (lines, earlier) = db::jobs::log_before(&state.db, id, Some(before)).await?;
            views::LogWindow {
                lines,
                earlier,
                later: true,
                history: true,
            }
        }
        (None, Some(after)) => {
            let (lines, later) = db::jobs::log_after(&state.db, id, after).await?;
            views::LogWindow {
                lines,
                earlier: true,
                later,
                history: true,
            }
        }
    };
    Ok(views::show(&job, &steps, &log))
}

/// Which part of a job's log its page shows.
#[derive(Debug, Default, Deserialize)]
pub struct LogPage {
    before: Option<i64>,
    after: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct After {
    #[serde(default)]
    after: i64,
}

/// SSE: the job's log lines after `after`, then live ones (and its steps), then its final
/// status and `done`. Like every user route it needs the session; a cross-site `Origin` is
/// refused as well.
#[handler]
pub async fn events(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Query(after): Query<After>,
) -> AppResult<SSE> {
    crate::web::gate::same_origin_stream(req, &state.config)?;
    let id = parse_id(&id)?;
    // Subscribe before reading the backlog so no line falls between the two.
    let rx = state.jobs.subscribe();
    let updates = follow(state.db.clone(), id, after.after, Some(rx))
        .await?
        .ok_or(AppError::NotFound)?;
    let events = updates.flat_map(|u| stream::iter(events_of(u)));
    Ok(SSE::new(events).keep_alive(std::time::Duration::from_secs(15)))
}

/// The page's events for one update: a line, a step's item (a started step is appended, an
/// ended one replaces its item), the status badge (and `done` after the final one).
fn events_of(update: Update) -> Vec<Event> {
    match update {
        Update::Line { seq, stream, line } => vec![line_event(seq, stream, &line)],
        Update::Step {
            position,
            description,
            status,
        } => {
            let item = views::step_item(position, &description, status, true);
            let kind = if status == StepStatus::Running {
                "step".to_owned()
            } else {
                format!("step-{position}")
            };
            vec![sse::event(kind, item.into_string())]
        }
        Update::Status(status) if status.is_final() => vec![status_event(status), done_event()],
        Update::Status(status) => vec![status_event(status)],
    }
}

fn line_event(seq: i64, stream: LogStream, line: &str) -> Event {
    sse::event("line", views::log_line(stream, line).into_string()).id(seq.to_string())
}

/// Tells the page to close the stream (`sse-close="done"`), so the browser does not reconnect.
fn done_event() -> Event {
    sse::event("done", "done")
}

fn status_event(status: JobStatus) -> Event {
    sse::event("status", views::status_badge(status).into_string())
}

/// Retry a failed or interrupted job; go to the new job's page.
#[handler]
pub async fn retry(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<poem::Response> {
    let id = parse_id(&id)?;
    let job = db::jobs::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    // The route lets operators in; a retry takes what starting that kind of job takes.
    if let Some(user) = req.extensions().get::<crate::web::session::CurrentUser>() {
        crate::domain::roles::authorize(
            &crate::domain::Principal::new(user.role),
            job.kind.retry_perm(),
            None,
        )?;
    }
    let new = crate::servers::retry_job(&state, &job, session::actor(req)).await?;
    let to = crate::paths::with_id(crate::paths::JOB, new);
    Ok(crate::web::htmx::redirect(&to))
}
