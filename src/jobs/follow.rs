//! Following one job: its stored log after a given line, then what happens live until it ends.
//! The job page's live stream (SSE) and `panel deploy --wait` both follow a job this way. In the
//! process that runs the job, updates come from the runner's broadcast (so a step's start and
//! end show too); another process (the CLI) reads the database every quarter of a second.

use std::time::Duration;

use futures_util::Stream;
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::broadcast;

use super::JobEvent;
use crate::db::{self, Pool};
use crate::domain::{JobStatus, LogStream, StepStatus};
use crate::ids::JobId;

/// How often another process looks for new lines.
const POLL: Duration = Duration::from_millis(250);

/// Something to show of a followed job.
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    Line {
        seq: i64,
        stream: LogStream,
        line: String,
    },
    Step {
        position: i64,
        description: String,
        status: StepStatus,
    },
    /// The job's status changed; after a final one nothing follows.
    Status(JobStatus),
}

/// Follow job `id` from after log line `after`. `live` is a receiver of this process's job
/// events, subscribed *before* this call (so no line falls between the stored log and the live
/// one); without it the database is polled. The stream ends after the job's final status (or
/// with `None` if the job does not exist).
pub async fn follow(
    pool: Pool,
    id: JobId,
    after: i64,
    live: Option<broadcast::Receiver<JobEvent>>,
) -> sqlx::Result<Option<BoxStream<'static, Update>>> {
    let Some(job) = db::jobs::get(&pool, id).await? else {
        return Ok(None);
    };
    let backlog = db::jobs::log_since(&pool, id, after).await?;
    let last = backlog.last().map_or(after, |l| l.seq);
    let past = stream::iter(backlog.into_iter().map(|l| Update::Line {
        seq: l.seq,
        stream: l.stream,
        line: l.line,
    }));
    let rest: BoxStream<'static, Update> = if job.status.is_final() {
        stream::iter([Update::Status(job.status)]).boxed()
    } else {
        match live {
            Some(rx) => broadcast_updates(rx, id, last).boxed(),
            None => polled_updates(pool, id, last, job.status).boxed(),
        }
    };
    Ok(Some(past.chain(rest).boxed()))
}

/// Live updates of one job from the runner's broadcast, until it ends.
fn broadcast_updates(
    rx: broadcast::Receiver<JobEvent>,
    id: JobId,
    last: i64,
) -> impl Stream<Item = Update> {
    stream::unfold(Some((rx, last)), move |state| async move {
        let (mut rx, mut last) = state?;
        loop {
            let update = match rx.recv().await {
                Ok(JobEvent::Line {
                    job,
                    seq,
                    stream,
                    line,
                }) if job == id && seq > last => {
                    last = seq;
                    Update::Line { seq, stream, line }
                }
                Ok(JobEvent::Step {
                    job,
                    position,
                    description,
                    status,
                }) if job == id => Update::Step {
                    position,
                    description,
                    status,
                },
                Ok(JobEvent::Status { job, status }) if job == id => {
                    let next = (!status.is_final()).then_some((rx, last));
                    return Some((Update::Status(status), next));
                }
                Ok(_) => continue,
                // Too slow a reader: say so rather than silently skip lines.
                Err(broadcast::error::RecvError::Lagged(n)) => Update::Line {
                    seq: last,
                    stream: LogStream::Panel,
                    line: format!("[{n} live events skipped; reload the page for the full log]"),
                },
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            return Some((update, Some((rx, last))));
        }
    })
}

/// Updates of one job read from the database (another process runs it): new lines every
/// `POLL`, and the status when it changes. The runner stores a job's whole log before it marks
/// the job finished, so the lines read after a final status are all there are.
fn polled_updates(
    pool: Pool,
    id: JobId,
    last: i64,
    status: JobStatus,
) -> impl Stream<Item = Update> {
    stream::unfold(
        Some((pool, last, status, Vec::<Update>::new())),
        move |state| async move {
            let (pool, mut last, mut status, mut pending) = state?;
            loop {
                if !pending.is_empty() {
                    let next = pending.remove(0);
                    let ended = matches!(next, Update::Status(s) if s.is_final());
                    let state = (!ended).then_some((pool, last, status, pending));
                    return Some((next, state));
                }
                tokio::time::sleep(POLL).await;
                let now = match db::jobs::get(&pool, id).await {
                    Ok(Some(job)) => job.status,
                    // The job (with its server) was deleted, or the database is gone.
                    Ok(None) | Err(_) => return None,
                };
                let Ok(lines) = db::jobs::log_since(&pool, id, last).await else {
                    return None;
                };
                for l in lines {
                    last = l.seq;
                    pending.push(Update::Line {
                        seq: l.seq,
                        stream: l.stream,
                        line: l.line,
                    });
                }
                if now != status {
                    status = now;
                    pending.push(Update::Status(now));
                }
            }
        },
    )
}
