use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use maud::Markup;
use poem::http::header;
use poem::web::sse::{Event, SSE};
use poem::web::{Data, Path, Query};
use poem::{Request, handler};
use serde::Deserialize;
use tokio::sync::broadcast;

use super::views;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::ids::JobId;
use crate::jobs::JobEvent;
use crate::web::AppState;

const PAGE_SIZE: i64 = 100;

#[handler]
pub async fn index(state: Data<&AppState>) -> AppResult<Markup> {
    Ok(views::index(&db::jobs::recent(&state.db, PAGE_SIZE).await?))
}

fn parse_id(id: &str) -> AppResult<JobId> {
    id.parse().map_err(|_| AppError::NotFound)
}

#[handler]
pub async fn show(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Markup> {
    let id = parse_id(&id)?;
    let job = db::jobs::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let lines = db::jobs::log_since(&state.db, id, 0).await?;
    let steps = db::jobs::steps(&state.db, id).await?;
    Ok(views::show(&job, &steps, &lines))
}

#[derive(Debug, Default, Deserialize)]
pub struct After {
    #[serde(default)]
    after: i64,
}

fn is_final(status: &str) -> bool {
    matches!(status, "success" | "failed" | "interrupted")
}

/// SSE: the job's log lines after `after`, then live ones, then its final status. Like every
/// user route it needs the session; a cross-site `Origin` is refused as well.
#[handler]
pub async fn events(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Query(after): Query<After>,
) -> AppResult<SSE> {
    if let Some(origin) = req.header(header::ORIGIN) {
        if origin != state.config.origin() {
            return Err(AppError::Forbidden(
                "Live updates are only served to the panel's own pages.".into(),
            ));
        }
    }
    let id = parse_id(&id)?;
    // Subscribe before reading the backlog so no line falls between the two.
    let rx = state.jobs.subscribe();
    let job = db::jobs::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let backlog = db::jobs::log_since(&state.db, id, after.after).await?;
    let last = backlog.last().map_or(after.after, |l| l.seq);
    let past = stream::iter(
        backlog
            .into_iter()
            .map(|l| line_event(l.seq, &l.stream, &l.line))
            .collect::<Vec<_>>(),
    );
    let live: BoxStream<'static, Event> = if is_final(&job.status) {
        stream::iter(vec![status_event(&job.status), done_event()]).boxed()
    } else {
        follow(rx, id, last).boxed()
    };
    Ok(SSE::new(past.chain(live)).keep_alive(std::time::Duration::from_secs(15)))
}

/// Live events of one job until it ends.
fn follow(
    rx: broadcast::Receiver<JobEvent>,
    id: JobId,
    last: i64,
) -> impl futures_util::Stream<Item = Event> {
    stream::unfold(
        (rx, last, 0u8),
        move |(mut rx, mut last, phase)| async move {
            // phase 0: following; 1: final status sent, send `done`; 2: finished.
            match phase {
                1 => return Some((done_event(), (rx, last, 2))),
                2 => return None,
                _ => {}
            }
            loop {
                match rx.recv().await {
                    Ok(JobEvent::Line {
                        job,
                        seq,
                        stream,
                        line,
                    }) if job == id && seq > last => {
                        last = seq;
                        return Some((line_event(seq, stream, &line), (rx, last, 0)));
                    }
                    Ok(JobEvent::Step {
                        job,
                        position,
                        description,
                        status,
                    }) if job == id => {
                        let item = views::step_item(position, &description, status, true);
                        let kind = if status == "running" {
                            "step".to_owned()
                        } else {
                            format!("step-{position}")
                        };
                        return Some((
                            Event::message(item.into_string()).event_type(kind),
                            (rx, last, 0),
                        ));
                    }
                    Ok(JobEvent::Status { job, status }) if job == id => {
                        let next = if is_final(status) { 1 } else { 0 };
                        return Some((status_event(status), (rx, last, next)));
                    }
                    Ok(_) => continue,
                    // Too slow a reader: say so rather than silently skip lines.
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        let note =
                            format!("[{n} live events skipped; reload the page for the full log]");
                        return Some((line_event(last, "panel", &note), (rx, last, 0)));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    )
}

fn line_event(seq: i64, stream: &str, line: &str) -> Event {
    Event::message(views::log_line(stream, line).into_string())
        .event_type("line")
        .id(seq.to_string())
}

/// Tells the page to close the stream (`sse-close="done"`), so the browser does not reconnect.
fn done_event() -> Event {
    Event::message("done").event_type("done")
}

fn status_event(status: &str) -> Event {
    Event::message(views::status_badge(status).into_string()).event_type("status")
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
    let actor = req
        .extensions()
        .get::<std::sync::Arc<crate::web::session::SessionInfo>>()
        .and_then(|s| s.user.as_ref().map(|u| u.id));
    let new =
        crate::servers::retry_job(&state.jobs, &state.db, &state.secrets, &job, actor).await?;
    let to = crate::web::paths::with_id(crate::web::paths::JOB, new);
    Ok(crate::web::htmx::redirect(&to))
}
