//! Executing a plan over SSH inside a job. The whole plan runs as one remote command,
//! `sudo -n -- bash -s`, with the steps' rendered shell on stdin — each step byte for byte what
//! `panel site plan --format script` prints for it, so the reviewed script and the job cannot
//! drift apart. One round trip and one `sudo` per plan keeps provisioning near a hand-written
//! script's speed, over long links too, and the script's words are the command builder's quoted
//! arguments, never data pasted into shell.
//!
//! Each step is recorded (`job_steps`) as the node reaches it (a marker line with this run's
//! nonce): skipped when its check passes ("already done", so a retry resumes where a failure
//! stopped), applied, verified. The step's description goes to the log with secrets masked; its
//! body (file contents, SQL with passwords) never does.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::{LogStream, StepStatus};
use crate::jobs::{JobContext, JobFailure};
use crate::ssh::Command;
use crate::ssh::client::{MAX_CAPTURE, Output, Session, Stream};

use super::Plan;
use super::render::{ALREADY_DONE, PRELUDE, step_body, step_text};

/// Longest one step may take (database creation on a slow disk, waits for sockets included).
const STEP_TIMEOUT: Duration = Duration::from_secs(300);

/// How a plan's run went (for the log and the benchmark).
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Steps found already done and skipped.
    pub skipped: Vec<String>,
    /// Steps that do not apply on this node (their `only_if` failed, e.g. SELinux is off).
    pub not_applicable: Vec<String>,
    /// Time spent waiting for remote commands (round trips included).
    pub remote: Duration,
    /// Remote commands run.
    pub commands: usize,
    /// Steps that ended well (done, skipped or not applicable), from the first.
    pub completed: usize,
    /// Each step's stdout, by position (empty for a step that ran nothing).
    pub stdout: Vec<String>,
}

/// One stream of a node's output, kept up to a limit; what is cut is counted and said.
#[derive(Clone, Debug)]
pub struct Bounded {
    text: String,
    limit: usize,
    dropped: usize,
}

impl Bounded {
    pub fn new(limit: usize) -> Self {
        Self {
            text: String::new(),
            limit,
            dropped: 0,
        }
    }

    pub fn push_line(&mut self, line: &str) {
        if self.dropped == 0 && self.text.len() + line.len() < self.limit {
            self.text.push_str(line);
            self.text.push('\n');
        } else {
            self.dropped += line.len() + 1;
        }
    }

    /// The text kept, with a marker saying how much was cut.
    pub fn finish(&self) -> String {
        if self.dropped == 0 {
            self.text.clone()
        } else {
            format!(
                "{}[output truncated: {} more bytes are in the job log]\n",
                self.text, self.dropped
            )
        }
    }
}

/// What a node printed while a plan ran, stdout and stderr apart (a deployment keeps both).
#[derive(Clone, Debug)]
pub struct Captured {
    pub stdout: Bounded,
    pub stderr: Bounded,
}

impl Captured {
    pub fn new(limit: usize) -> Arc<Mutex<Self>> {
        Arc::new(Mutex::new(Self {
            stdout: Bounded::new(limit),
            stderr: Bounded::new(limit),
        }))
    }
}

pub struct Runner<'a> {
    ctx: &'a JobContext,
    session: &'a Session,
    report: Report,
    /// Secret values never to show in the log or a failure message, should a node echo one.
    redact: Vec<String>,
    capture: Option<Arc<Mutex<Captured>>>,
}

/// `text` with every secret replaced by `••••`.
fn redacted(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(s.as_str(), "••••");
    }
    out
}

/// The last non-empty line of a command's stderr (or stdout), for a failure message: bounded
/// and stripped of control characters, since it comes from the node.
fn last_line(out: &Output) -> Option<String> {
    let pick = |s: &str| {
        s.lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| {
                l.chars()
                    .filter(|c| !c.is_control())
                    .take(300)
                    .collect::<String>()
            })
    };
    pick(&out.stderr).or_else(|| pick(&out.stdout))
}

impl<'a> Runner<'a> {
    pub fn new(ctx: &'a JobContext, session: &'a Session) -> Self {
        Self {
            ctx,
            session,
            report: Report::default(),
            redact: Vec::new(),
            capture: None,
        }
    }

    /// Also keep the node's stdout and stderr in `capture` (after masking).
    pub fn capturing(mut self, capture: Arc<Mutex<Captured>>) -> Self {
        self.capture = Some(capture);
        self
    }

    /// Values (passwords, the callback secret) to mask in everything the node prints back.
    pub fn redacting(mut self, secrets: Vec<String>) -> Self {
        self.redact = secrets;
        self
    }

    /// Run every step in order; the first failure stops the plan.
    pub async fn run(self, plan: &Plan) -> Result<Report, JobFailure> {
        let (report, result) = self.run_partial(plan).await;
        result.map(|()| report)
    }

    /// Like `run`, with the report of the steps done also when one fails (its `completed`
    /// says how far the plan got).
    ///
    /// The whole plan runs as one remote command (one round trip and one `sudo` for a site
    /// instead of one per step, ~60 ms each): the body is each step's shell, byte for byte what
    /// the script format prints for it, each preceded by a marker line the runner reads to
    /// record where the node is. The marker carries a nonce made for this run, so nothing a
    /// step prints (a deploy script's output) can pass for one.
    pub async fn run_partial(mut self, plan: &Plan) -> (Report, Result<(), JobFailure>) {
        if plan.steps.is_empty() {
            return (self.report, Ok(()));
        }
        let result = self.run_steps(plan).await;
        (self.report, result)
    }

    /// The plan's steps as one remote command; records each step as its marker passes.
    async fn run_steps(&mut self, plan: &Plan) -> Result<(), JobFailure> {
        let total = plan.steps.len();
        let nonce = hex::encode(crate::crypto::random::bytes::<12>());
        let mut body = String::from(PRELUDE);
        // The whole command's limit is every step's added up; each step's own is kept below.
        let mut timeout = Duration::ZERO;
        for (i, step) in plan.steps.iter().enumerate() {
            body.push_str(&format!("echo '{nonce} {i}'\n"));
            body.push_str(&step_body(step, i + 1));
            timeout += step.timeout.unwrap_or(STEP_TIMEOUT);
        }
        let titles: Vec<String> = plan
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}/{total} {}", i + 1, s.title))
            .collect();
        // What the node printed, per step, and which step it is in (shared with the line sink,
        // which runs as output arrives; the step rows are written here, as markers pass).
        let state = Arc::new(Mutex::new(Progress {
            current: None,
            expected: 0,
            disorder: None,
            outputs: (0..total).map(|_| StepOutput::default()).collect(),
        }));
        let (marks, mut marked) = tokio::sync::mpsc::unbounded_channel::<usize>();
        let ctx = self.ctx.clone();
        let secrets = self.redact.clone();
        let capture = self.capture.clone();
        let texts: Vec<String> = plan.steps.iter().map(step_text).collect();
        let sink_state = state.clone();
        let sink_titles = titles.clone();
        let sink = move |stream: Stream, line: &str| {
            // A marker is looked for anywhere in a stdout line: output without a final newline
            // (a build's last `printf`) comes before it on the same line.
            let (text, mark) = match stream {
                Stream::Stdout => split_marker(line, &nonce),
                Stream::Stderr => (line, None),
            };
            if mark.is_none() || !text.is_empty() {
                let text = redacted(text, &secrets);
                if let Some(c) = &capture {
                    let mut c = c.lock().unwrap_or_else(|e| e.into_inner());
                    match stream {
                        Stream::Stdout => c.stdout.push_line(&text),
                        Stream::Stderr => c.stderr.push_line(&text),
                    }
                }
                {
                    let mut st = sink_state.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(i) = st.current {
                        let out = &mut st.outputs[i];
                        match stream {
                            Stream::Stdout => out.stdout.push_line(&text),
                            Stream::Stderr => out.stderr.push_line(&text),
                        }
                    }
                }
                ctx.log(
                    match stream {
                        Stream::Stdout => LogStream::Stdout,
                        Stream::Stderr => LogStream::Stderr,
                    },
                    &text,
                );
            }
            let Some(i) = mark else { return };
            let mut st = sink_state.lock().unwrap_or_else(|e| e.into_inner());
            // Only the next step may start: a marker out of order (one lost, or repeated)
            // stops the plan rather than file output and outcomes under the wrong steps.
            if st.disorder.is_some() || i != st.expected || i >= total {
                st.disorder.get_or_insert(i);
                return;
            }
            st.expected = i + 1;
            st.current = Some(i);
            drop(st);
            // The step's description goes to the log here, in the output's order.
            ctx.note(&format!("▶ {}", sink_titles[i]));
            for l in texts[i].lines() {
                ctx.note(l);
            }
            let _ = marks.send(i);
        };
        // One `sudo` for the plan, not one per command: its root work runs in this shell.
        let command = Command::new("bash").flag("-s").sudo();
        let started = Instant::now();
        let exec = self
            .session
            .run_with_stdin(&command, body.into_bytes(), timeout, sink);
        tokio::pin!(exec);
        let mut open: Option<(usize, (crate::ids::JobStepId, i64))> = None;
        // Each step keeps its own time limit: the one for the step the node is in (the first
        // until its marker arrives) restarts with every marker.
        let limit = |i: usize| plan.steps[i].timeout.unwrap_or(STEP_TIMEOUT);
        let mut deadline = tokio::time::Instant::now() + limit(0);
        let result = loop {
            tokio::select! {
                r = &mut exec => break r,
                Some(i) = marked.recv() => {
                    self.next_step(plan, &titles, &state, &mut open, i).await?;
                    deadline = tokio::time::Instant::now() + limit(i);
                }
                () = tokio::time::sleep_until(deadline) => {
                    let i = open.as_ref().map_or(0, |(i, _)| *i);
                    break Err(crate::ssh::client::SshError::CommandTimeout(
                        "bash".to_owned(),
                        limit(i),
                    ));
                }
            }
        };
        while let Ok(i) = marked.try_recv() {
            self.next_step(plan, &titles, &state, &mut open, i).await?;
        }
        self.report.remote += started.elapsed();
        self.report.commands += 1;
        let disorder = state.lock().unwrap_or_else(|e| e.into_inner()).disorder;
        if let Some(came) = disorder {
            let failure = JobFailure::new(format!(
                "the node's output lost the order of the steps (the marker of step {} came out \
                 of turn), so where it stopped cannot be told",
                came + 1
            ));
            return Err(self.fail_open(plan, &titles, open, failure).await);
        }
        let out = match result {
            Ok(out) => out,
            Err(e) => return Err(self.fail_open(plan, &titles, open, e.into()).await),
        };
        let Some((i, row)) = open else {
            // Not even the first marker came back: the shell itself could not start.
            let f = self.exited(&out);
            return Err(JobFailure {
                message: format!("{}: {}", plan.steps[0].title, f.message),
                ..f
            });
        };
        if !out.success() {
            // The step's own output says why, not the whole command's.
            let step_out =
                std::mem::take(&mut state.lock().unwrap_or_else(|e| e.into_inner()).outputs[i]);
            let failure = self.exited(&Output {
                exit_code: out.exit_code,
                stdout: step_out.stdout.finish(),
                stderr: step_out.stderr.finish(),
            });
            return Err(self.fail_open(plan, &titles, open, failure).await);
        }
        if i + 1 != total {
            // The shell ended well before the last step's marker: not what a step body does.
            let failure = JobFailure::new("the node stopped after this step without saying why");
            return Err(self.fail_open(plan, &titles, open, failure).await);
        }
        self.finish_step(plan, &titles, &state, i, row).await
    }

    /// A command that exited non-zero: its status and its last line (masked, bounded).
    fn exited(&self, out: &Output) -> JobFailure {
        let mut message = format!("the step exited with status {}", out.exit_code);
        if let Some(l) = last_line(out) {
            message.push_str(": ");
            message.push_str(&redacted(&l, &self.redact));
        }
        JobFailure {
            message,
            exit_code: Some(out.exit_code.into()),
        }
    }

    /// `failure` ends the plan: the open step (if one is) is recorded as failed and named.
    async fn fail_open(
        &self,
        plan: &Plan,
        titles: &[String],
        open: Option<(usize, (crate::ids::JobStepId, i64))>,
        failure: JobFailure,
    ) -> JobFailure {
        let Some((i, row)) = open else {
            return failure;
        };
        if let Err(e) = self.ctx.end_step(row, &titles[i], StepStatus::Failed).await {
            return e;
        }
        JobFailure {
            message: format!("{}: {}", plan.steps[i].title, failure.message),
            ..failure
        }
    }

    /// A marker for step `i` passed: the open step ended well; `i` starts.
    async fn next_step(
        &mut self,
        plan: &Plan,
        titles: &[String],
        state: &Arc<Mutex<Progress>>,
        open: &mut Option<(usize, (crate::ids::JobStepId, i64))>,
        i: usize,
    ) -> Result<(), JobFailure> {
        if let Some((prev, row)) = open.take() {
            self.finish_step(plan, titles, state, prev, row).await?;
        }
        let row = self.ctx.begin_step(&titles[i]).await?;
        *open = Some((i, row));
        Ok(())
    }

    /// Step `i` ended well: skipped (already done, not applicable here, nothing to do) or done.
    async fn finish_step(
        &mut self,
        plan: &Plan,
        titles: &[String],
        state: &Arc<Mutex<Progress>>,
        i: usize,
        row: (crate::ids::JobStepId, i64),
    ) -> Result<(), JobFailure> {
        let step = &plan.steps[i];
        let stdout =
            std::mem::take(&mut state.lock().unwrap_or_else(|e| e.into_inner()).outputs[i])
                .stdout
                .finish();
        let said = |what: &str| stdout.lines().any(|l| l.trim() == what);
        let done = step.skip.is_none() && said(ALREADY_DONE);
        // Not applicable on this node (SELinux off): recorded as skipped, not done.
        let not_here = step
            .only_if
            .as_ref()
            .is_some_and(|(_, why)| said(&format!("skipped: {why}")));
        if done {
            self.report.skipped.push(step.title.clone());
        }
        if not_here {
            self.report.not_applicable.push(step.title.clone());
        }
        let status = if done || not_here || step.skip.is_some() {
            StepStatus::Skipped
        } else {
            StepStatus::Done
        };
        // Steps are reported by position: a plan's steps run in order, each once.
        debug_assert_eq!(self.report.stdout.len(), i);
        self.report.stdout.push(stdout);
        self.ctx.end_step(row, &titles[i], status).await?;
        self.report.completed += 1;
        Ok(())
    }
}

/// What the remote command running a plan's steps has printed so far, by step.
struct Progress {
    /// The step the node is in (its marker was the last one seen).
    current: Option<usize>,
    /// The only step whose marker may come next.
    expected: usize,
    /// A marker that came out of order, if one did: the plan fails.
    disorder: Option<usize>,
    /// By step position, each stream bounded like every capture of a node's output.
    outputs: Vec<StepOutput>,
}

struct StepOutput {
    stdout: Bounded,
    stderr: Bounded,
}

impl Default for StepOutput {
    fn default() -> Self {
        Self {
            stdout: Bounded::new(MAX_CAPTURE),
            stderr: Bounded::new(MAX_CAPTURE),
        }
    }
}

/// `line` without the marker it ends with, and the marker's step: `TEXT<nonce> <i>`.
fn split_marker<'a>(line: &'a str, nonce: &str) -> (&'a str, Option<usize>) {
    if let Some(at) = line.find(nonce) {
        let step = line[at + nonce.len()..]
            .strip_prefix(' ')
            .and_then(|n| n.trim_end_matches('\r').parse::<usize>().ok());
        if step.is_some() {
            return (&line[..at], step);
        }
    }
    (line, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_output_is_bounded_and_says_what_it_cut() {
        let mut b = Bounded::new(20);
        b.push_line("first line");
        assert_eq!(b.finish(), "first line\n");
        b.push_line("a line too long to fit");
        // Once something was cut, later (shorter) lines are cut too: the text stays a prefix.
        b.push_line("x");
        assert_eq!(
            b.finish(),
            "first line\n[output truncated: 25 more bytes are in the job log]\n"
        );
    }

    #[test]
    fn a_marker_is_found_after_output_without_a_newline_and_only_with_the_nonce() {
        let nonce = "0123456789abcdef01234567";
        assert_eq!(split_marker(&format!("{nonce} 3"), nonce), ("", Some(3)));
        // A build's last `printf x` leaves no newline: the marker follows on the same line.
        assert_eq!(split_marker(&format!("x{nonce} 4"), nonce), ("x", Some(4)));
        assert_eq!(split_marker(&format!("{nonce} 5\r"), nonce), ("", Some(5)));
        // Without the nonce (what a step's own output can say), nothing is a marker.
        for line in ["==> 3/9 Create", "skipped: already done", "0123 4", ""] {
            assert_eq!(split_marker(line, nonce), (line, None));
        }
        let wrong = format!("{nonce} x");
        assert_eq!(split_marker(&wrong, nonce), (wrong.as_str(), None));
    }

    #[test]
    fn secrets_echoed_by_a_node_are_masked() {
        let secrets = vec!["s3cr3t".to_owned(), String::new()];
        assert_eq!(
            redacted("ERROR near 'IDENTIFIED BY 's3cr3t''", &secrets),
            "ERROR near 'IDENTIFIED BY '••••''"
        );
        assert_eq!(redacted("nothing here", &secrets), "nothing here");
    }
}
