//! Durable jobs. Every remote operation runs as a job: a row in `jobs`, every output line stored
//! in `job_log` and broadcast (for SSE) as it arrives, a per-server and a global concurrency
//! limit, and on start-up any job a crash left running is marked `interrupted`, never forgotten.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, broadcast, mpsc, oneshot};

pub mod follow;

use crate::db::{self, Pool};
use crate::domain::{JobKind, JobStatus, LogStream, StepStatus};
use crate::ids::{JobId, JobStepId, ServerId, UserId};
use crate::ssh::client::{Output, Session, SshError, Stream};
use crate::ssh::{Command, Script};

/// Longest stored log line (node output is untrusted and can be huge).
pub const MAX_LOG_LINE: usize = 8 * 1024;

/// Something that happened to a job, for live views.
#[derive(Clone, Debug)]
pub enum JobEvent {
    Line {
        job: JobId,
        seq: i64,
        stream: LogStream,
        line: String,
    },
    Status {
        job: JobId,
        status: JobStatus,
    },
    /// A step started (`running`) or ended (`done`, `skipped`, `failed`).
    Step {
        job: JobId,
        position: i64,
        description: String,
        status: StepStatus,
    },
}

impl JobEvent {
    pub fn job(&self) -> JobId {
        match self {
            JobEvent::Line { job, .. }
            | JobEvent::Status { job, .. }
            | JobEvent::Step { job, .. } => *job,
        }
    }
}

/// Why a job failed, shown on the job page.
#[derive(Debug, Clone)]
pub struct JobFailure {
    pub message: String,
    pub exit_code: Option<i64>,
}

impl JobFailure {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: None,
        }
    }
}

impl From<SshError> for JobFailure {
    fn from(e: SshError) -> Self {
        JobFailure::new(e.to_string())
    }
}

impl From<sqlx::Error> for JobFailure {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!("job database error: {e}");
        JobFailure::new("the panel's database failed; see the panel log")
    }
}

/// What a job is, before it runs.
pub struct JobSpec {
    pub server_id: Option<ServerId>,
    pub actor_id: Option<UserId>,
    pub kind: JobKind,
    pub args: serde_json::Value,
    pub title: String,
    /// Jobs of one lane (a site's id) run one after another, in the order they were submitted:
    /// two deploys of a site never overlap, nor a deploy and a site change.
    pub lane: Option<String>,
}

#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    events: broadcast::Sender<JobEvent>,
    global: Arc<Semaphore>,
    per_server: Mutex<HashMap<ServerId, Arc<Semaphore>>>,
    per_server_limit: usize,
    /// Per lane, the end of the lane's last submitted job (its sender drops when it ends).
    lanes: Mutex<HashMap<String, oneshot::Receiver<()>>>,
    /// Log lines kept per job.
    log_lines: usize,
}

/// Log lines kept per job unless configured (`[retention] job_log_lines`).
pub const DEFAULT_LOG_LINES: usize = 20_000;

/// What is kept of a job's log: the first four fifths of the limit as they come (stored and
/// streamed live), then only the most recent lines in memory; when the job ends, a line saying
/// how many were left out, then those last lines. A job printing a gigabyte costs a bounded
/// number of rows and bounded memory, and its log still shows how it began and how it ended.
struct LogKeeper {
    head: usize,
    tail: usize,
    stored: usize,
    noticed: bool,
    recent: std::collections::VecDeque<(LogStream, String)>,
    left_out: u64,
}

impl LogKeeper {
    fn new(limit: usize) -> Self {
        let head = limit - limit / 5;
        LogKeeper {
            head,
            tail: limit - head,
            stored: 0,
            noticed: false,
            recent: std::collections::VecDeque::new(),
            left_out: 0,
        }
    }

    /// Of `batch`, what to store now; the rest is kept as the most recent lines.
    fn take(&mut self, batch: &mut Vec<(LogStream, String)>) -> Vec<(LogStream, String)> {
        let room = self.head.saturating_sub(self.stored);
        let rest = batch.split_off(room.min(batch.len()));
        let mut now: Vec<_> = std::mem::take(batch);
        self.stored += now.len();
        // The notice goes with the first line that is not stored as it comes (in this batch or
        // a later one).
        if !rest.is_empty() && !self.noticed {
            self.noticed = true;
            now.push((
                LogStream::Panel,
                format!(
                    "[the log passed {} lines: from here only the last {} are kept, shown when the job ends]",
                    self.head, self.tail
                ),
            ));
        }
        for line in rest {
            if self.recent.len() == self.tail {
                self.recent.pop_front();
                self.left_out += 1;
            }
            self.recent.push_back(line);
        }
        now
    }

    /// At the end: the marker and the most recent lines.
    fn finish(self) -> Vec<(LogStream, String)> {
        let mut out = Vec::new();
        if self.left_out > 0 {
            out.push((
                LogStream::Panel,
                format!("[{} lines left out]", self.left_out),
            ));
        }
        out.extend(self.recent);
        out
    }
}

impl Jobs {
    /// `global` jobs at once in all, at most `per_server` on one server.
    pub fn new(pool: Pool, global: usize, per_server: usize) -> Self {
        Self::with_log_limit(pool, global, per_server, DEFAULT_LOG_LINES)
    }

    /// `new`, keeping at most `log_lines` lines of each job (`LogKeeper`).
    pub fn with_log_limit(pool: Pool, global: usize, per_server: usize, log_lines: usize) -> Self {
        let (events, _) = broadcast::channel(4096);
        Self {
            inner: Arc::new(Inner {
                pool,
                events,
                global: Arc::new(Semaphore::new(global)),
                per_server: Mutex::new(HashMap::new()),
                per_server_limit: per_server,
                lanes: Mutex::new(HashMap::new()),
                log_lines,
            }),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.inner.events.subscribe()
    }

    /// After a restart: jobs left queued or running are marked `interrupted` with a log line
    /// that says so. Their steps are idempotent, so the retry button can run them again.
    pub async fn recover(&self) -> sqlx::Result<Vec<JobId>> {
        let ids = db::jobs::interrupt_unfinished(&self.inner.pool).await?;
        for id in &ids {
            db::jobs::append_log(
                &self.inner.pool,
                *id,
                LogStream::Panel,
                "The panel stopped while this job was running; it was marked interrupted.",
            )
            .await?;
            tracing::warn!(job = %id, "job interrupted by a panel restart");
        }
        Ok(ids)
    }

    fn server_slot(&self, server: ServerId) -> Arc<Semaphore> {
        let mut map = self
            .inner
            .per_server
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.entry(server)
            .or_insert_with(|| Arc::new(Semaphore::new(self.inner.per_server_limit)))
            .clone()
    }

    /// Join a lane: the end of the job before this one (if any), to wait for.
    fn join_lane(&self, lane: &str, done: oneshot::Receiver<()>) -> Option<oneshot::Receiver<()>> {
        let mut map = self.inner.lanes.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(lane.to_owned(), done)
    }

    /// Record the job and run `work` in the background once its slots are free.
    pub async fn submit<F, Fut>(&self, spec: JobSpec, work: F) -> sqlx::Result<JobId>
    where
        F: FnOnce(JobContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), JobFailure>> + Send + 'static,
    {
        let args = spec.args.to_string();
        let id = db::jobs::insert(
            &self.inner.pool,
            &db::jobs::NewJob {
                server_id: spec.server_id,
                actor_id: spec.actor_id,
                kind: spec.kind,
                args: &args,
                title: &spec.title,
            },
        )
        .await?;
        let jobs = self.clone();
        let server_slot = spec.server_id.map(|s| self.server_slot(s));
        // Its place in the lane is taken now, before the task runs, so jobs of one lane keep
        // their submission order.
        let (done, ended) = oneshot::channel::<()>();
        let before = spec.lane.as_deref().and_then(|l| self.join_lane(l, ended));
        tokio::spawn(async move {
            // Dropped when this task ends, however it ends: the next job of the lane may go.
            let _done = done;
            // The lane first: a job waiting for its turn holds no global or server slot.
            if let Some(before) = before {
                let _ = before.await;
            }
            let _global = jobs.inner.global.clone().acquire_owned().await;
            let _server = match server_slot {
                Some(s) => Some(s.acquire_owned().await),
                None => None,
            };
            jobs.run(id, work).await;
        });
        Ok(id)
    }

    async fn run<F, Fut>(&self, id: JobId, work: F)
    where
        F: FnOnce(JobContext) -> Fut,
        Fut: Future<Output = Result<(), JobFailure>>,
    {
        let pool = &self.inner.pool;
        if let Err(e) = db::jobs::mark_running(pool, id).await {
            tracing::error!(job = %id, "cannot start job: {e}");
            return;
        }
        let _ = self.inner.events.send(JobEvent::Status {
            job: id,
            status: JobStatus::Running,
        });
        let (ctx, writer) = JobContext::start(
            id,
            pool.clone(),
            self.inner.events.clone(),
            self.inner.log_lines,
        );
        let result = work(ctx.clone()).await;
        if let Err(f) = &result {
            ctx.note(&format!("Failed: {}", f.message));
        }
        drop(ctx);
        let _ = writer.await;
        let (status, exit, error) = match &result {
            Ok(()) => (JobStatus::Success, None, None),
            Err(f) => (JobStatus::Failed, f.exit_code, Some(f.message.as_str())),
        };
        if let Err(e) = db::jobs::close_open_steps(pool, id).await {
            tracing::error!(job = %id, "cannot close the job's steps: {e}");
        }
        if let Err(e) = db::jobs::finish(pool, id, status, exit, error).await {
            tracing::error!(job = %id, "cannot record the end of the job: {e}");
        }
        let _ = self.inner.events.send(JobEvent::Status { job: id, status });
    }
}

/// Handed to a job's work: log lines (stored in order, then broadcast) and run commands.
#[derive(Clone)]
pub struct JobContext {
    id: JobId,
    pool: Pool,
    lines: mpsc::UnboundedSender<(LogStream, String)>,
    events: broadcast::Sender<JobEvent>,
}

impl JobContext {
    fn start(
        id: JobId,
        pool: Pool,
        events: broadcast::Sender<JobEvent>,
        log_lines: usize,
    ) -> (JobContext, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<(LogStream, String)>();
        let writer_pool = pool.clone();
        let step_events = events.clone();
        // One writer per job keeps lines in arrival order in the table and on the wire.
        // Lines that arrive together are stored in one transaction: a chatty command then
        // costs one write lock, not one per line, and the job's other writes are not starved.
        let writer = tokio::spawn(async move {
            let store = |lines: Vec<(LogStream, String)>| {
                let (pool, events) = (&pool, &events);
                async move {
                    if lines.is_empty() {
                        return;
                    }
                    match db::jobs::append_logs(pool, id, &lines).await {
                        Ok(seqs) => {
                            for ((stream, line), seq) in lines.into_iter().zip(seqs) {
                                let _ = events.send(JobEvent::Line {
                                    job: id,
                                    seq,
                                    stream,
                                    line,
                                });
                            }
                        }
                        Err(e) => {
                            tracing::error!(job = %id, "cannot store {} log line(s): {e}", lines.len());
                        }
                    }
                }
            };
            let mut keeper = LogKeeper::new(log_lines);
            let mut batch = Vec::new();
            while rx.recv_many(&mut batch, 256).await > 0 {
                let now = keeper.take(&mut batch);
                store(now).await;
            }
            store(keeper.finish()).await;
        });
        (
            JobContext {
                id,
                pool: writer_pool,
                lines: tx,
                events: step_events,
            },
            writer,
        )
    }

    pub fn id(&self) -> JobId {
        self.id
    }

    /// Run one named step: recorded in `job_steps` (running → done | failed) and announced in
    /// the log and live, so the job page shows where a job is and where it stopped.
    pub async fn step<T>(
        &self,
        description: &str,
        work: impl Future<Output = Result<T, JobFailure>>,
    ) -> Result<T, JobFailure> {
        self.step_or_skip(description, async { work.await.map(|v| (v, false)) })
            .await
    }

    /// Like `step`, for work that may find itself already done: `(value, true)` records the
    /// step as `skipped`.
    pub async fn step_or_skip<T>(
        &self,
        description: &str,
        work: impl Future<Output = Result<(T, bool), JobFailure>>,
    ) -> Result<T, JobFailure> {
        let (step, position) = db::jobs::start_step(&self.pool, self.id, description).await?;
        self.announce(position, description, StepStatus::Running);
        self.note(&format!("▶ {description}"));
        let result = work.await;
        let status = match &result {
            Ok((_, false)) => StepStatus::Done,
            Ok((_, true)) => StepStatus::Skipped,
            Err(_) => StepStatus::Failed,
        };
        db::jobs::finish_step(&self.pool, step, status).await?;
        self.announce(position, description, status);
        result.map(|(v, _)| v)
    }

    /// Record a step as started (for work that runs several steps in one remote command and
    /// learns of each step's start from its output; its `▶` line is the caller's to write, in
    /// the order of the output).
    pub async fn begin_step(&self, description: &str) -> Result<(JobStepId, i64), JobFailure> {
        let (step, position) = db::jobs::start_step(&self.pool, self.id, description).await?;
        self.announce(position, description, StepStatus::Running);
        Ok((step, position))
    }

    /// Record the end of a step `begin_step` started.
    pub async fn end_step(
        &self,
        (step, position): (JobStepId, i64),
        description: &str,
        status: StepStatus,
    ) -> Result<(), JobFailure> {
        db::jobs::finish_step(&self.pool, step, status).await?;
        self.announce(position, description, status);
        Ok(())
    }

    fn announce(&self, position: i64, description: &str, status: StepStatus) {
        let _ = self.events.send(JobEvent::Step {
            job: self.id,
            position,
            description: description.to_owned(),
            status,
        });
    }

    /// A line of the panel's own (what it is doing, why it stopped).
    pub fn note(&self, line: &str) {
        self.log(LogStream::Panel, line);
    }

    /// Store and broadcast one line, bounded in length.
    pub fn log(&self, stream: LogStream, line: &str) {
        let line = match line.char_indices().nth(MAX_LOG_LINE) {
            Some((cut, _)) => format!("{} [line truncated]", &line[..cut]),
            None => line.to_owned(),
        };
        let _ = self.lines.send((stream, line));
    }

    pub(crate) fn sink(&self) -> impl FnMut(Stream, &str) + Send + use<> {
        let ctx = self.clone();
        move |stream, line| {
            ctx.log(
                match stream {
                    Stream::Stdout => LogStream::Stdout,
                    Stream::Stderr => LogStream::Stderr,
                },
                line,
            )
        }
    }

    /// Run a command on the node, logging it and its output; a non-zero exit fails the job.
    pub async fn run(
        &self,
        session: &Session,
        command: &Command,
        timeout: Duration,
    ) -> Result<Output, JobFailure> {
        self.note(&format!("$ {command}"));
        let out = session.run(command, timeout, self.sink()).await?;
        check_exit(command.program(), out)
    }

    /// Run an embedded script on the node, logging its output.
    pub async fn run_script(
        &self,
        session: &Session,
        script: &Script,
        timeout: Duration,
    ) -> Result<Output, JobFailure> {
        self.note(&format!(
            "$ {} (script {})",
            script.command(),
            script.name()
        ));
        let out = session.run_script(script, timeout, self.sink()).await?;
        check_exit(script.name(), out)
    }
}

fn check_exit(what: &str, out: Output) -> Result<Output, JobFailure> {
    if out.success() {
        Ok(out)
    } else {
        Err(JobFailure {
            message: format!("`{what}` exited with status {}", out.exit_code),
            exit_code: Some(out.exit_code.into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize) -> Vec<(LogStream, String)> {
        (0..n)
            .map(|i| (LogStream::Stdout, format!("l{i}")))
            .collect()
    }

    #[test]
    fn a_flood_keeps_its_beginning_and_its_end() {
        let mut k = LogKeeper::new(100);
        let mut stored = Vec::new();
        for chunk in lines(10_000).chunks(256) {
            stored.extend(k.take(&mut chunk.to_vec()));
        }
        stored.extend(k.finish());
        assert_eq!(stored.len(), 80 + 1 + 1 + 20, "head, notice, marker, tail");
        assert_eq!(stored[0].1, "l0");
        assert_eq!(stored[79].1, "l79");
        assert!(stored[80].1.contains("passed 80 lines"));
        assert_eq!(stored[81].1, "[9900 lines left out]");
        assert_eq!(stored[82].1, "l9980");
        assert_eq!(stored.last().unwrap().1, "l9999");
        // A short log is kept whole, with no marker.
        let mut k = LogKeeper::new(100);
        let mut small = k.take(&mut lines(5));
        small.extend(k.finish());
        assert_eq!(small.len(), 5);
        // A batch that exactly fills the head: the notice comes with the next line.
        let mut k = LogKeeper::new(100);
        let mut got = k.take(&mut lines(80));
        assert_eq!(got.len(), 80);
        got.extend(k.take(&mut lines(30)));
        got.extend(k.finish());
        assert!(got[80].1.contains("passed 80 lines"), "{:?}", got[80]);
        assert_eq!(got[81].1, "[10 lines left out]");
    }
}
