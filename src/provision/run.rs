//! Executing a plan over SSH inside a job. Each step runs as one remote command: `sudo -n -- bash -s` with
//! the step's rendered shell on stdin — byte for byte what `panel site plan --format script`
//! prints for it, so the reviewed script and the job cannot drift apart. One round trip per
//! step instead of one per command keeps provisioning fast over long links, and the script's
//! words are the command builder's quoted arguments, never data pasted into shell.
//!
//! Each step is recorded (`job_steps`): skipped when its check passes ("already done", so a
//! retry resumes where a failure stopped), applied, verified. The step's description goes to
//! the log with secrets masked; its body (file contents, SQL with passwords) never does.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::LogStream;
use crate::jobs::{JobContext, JobFailure};
use crate::ssh::Command;
use crate::ssh::client::{Output, Session, Stream};

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
    pub async fn run_partial(mut self, plan: &Plan) -> (Report, Result<(), JobFailure>) {
        let total = plan.steps.len();
        for (i, step) in plan.steps.iter().enumerate() {
            let title = format!("{}/{total} {}", i + 1, step.title);
            let ctx = self.ctx;
            let result = ctx
                .step_or_skip(&title, async {
                    if let Some(why) = &step.skip {
                        ctx.note(&format!("skipped: {why}"));
                        self.report.stdout.push(String::new());
                        return Ok(((), true));
                    }
                    for line in step_text(step).lines() {
                        ctx.note(line);
                    }
                    let body = format!("{PRELUDE}{}", step_body(step, i + 1));
                    let out = self
                        .exec(body, step.timeout.unwrap_or(STEP_TIMEOUT), step.as_ssh_user)
                        .await?;
                    self.report.stdout.push(out.stdout.clone());
                    if !out.success() {
                        let mut message = format!("the step exited with status {}", out.exit_code);
                        if let Some(l) = last_line(&out) {
                            message.push_str(": ");
                            message.push_str(&redacted(&l, &self.redact));
                        }
                        return Err(JobFailure {
                            message,
                            exit_code: Some(out.exit_code.into()),
                        });
                    }
                    let skipped = out.stdout.lines().any(|l| l.trim() == ALREADY_DONE);
                    if skipped {
                        self.report.skipped.push(step.title.clone());
                    }
                    // Not applicable on this node (SELinux off): recorded as skipped, not done.
                    let not_here = step.only_if.as_ref().is_some_and(|(_, why)| {
                        let line = format!("skipped: {why}");
                        out.stdout.lines().any(|l| l.trim() == line)
                    });
                    if not_here {
                        self.report.not_applicable.push(step.title.clone());
                    }
                    let skipped = skipped || not_here;
                    Ok(((), skipped))
                })
                .await;
            if let Err(f) = result {
                let failure = JobFailure {
                    message: format!("{}: {}", step.title, f.message),
                    ..f
                };
                return (self.report, Err(failure));
            }
            self.report.completed += 1;
        }
        (self.report, Ok(()))
    }

    /// `sudo -n -- bash -s` (or `bash -s` for a step of the SSH user's) with the step's shell on
    /// stdin; its output streams into the job log.
    async fn exec(
        &mut self,
        body: String,
        timeout: Duration,
        as_ssh_user: bool,
    ) -> Result<Output, JobFailure> {
        let started = Instant::now();
        // One `sudo` per step, not one per command: the step's root work runs in this shell.
        let mut command = Command::new("bash").flag("-s");
        if !as_ssh_user {
            command = command.sudo();
        }
        let (ctx, secrets) = (self.ctx.clone(), self.redact.clone());
        let capture = self.capture.clone();
        let sink = move |stream: Stream, line: &str| {
            let line = redacted(line, &secrets);
            if let Some(c) = &capture {
                let mut c = c.lock().unwrap_or_else(|e| e.into_inner());
                match stream {
                    Stream::Stdout => c.stdout.push_line(&line),
                    Stream::Stderr => c.stderr.push_line(&line),
                }
            }
            let stream = match stream {
                Stream::Stdout => LogStream::Stdout,
                Stream::Stderr => LogStream::Stderr,
            };
            ctx.log(stream, &line);
        };
        let out = self
            .session
            .run_with_stdin(&command, body.into_bytes(), timeout, sink)
            .await?;
        self.report.remote += started.elapsed();
        self.report.commands += 1;
        Ok(out)
    }
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
    fn secrets_echoed_by_a_node_are_masked() {
        let secrets = vec!["s3cr3t".to_owned(), String::new()];
        assert_eq!(
            redacted("ERROR near 'IDENTIFIED BY 's3cr3t''", &secrets),
            "ERROR near 'IDENTIFIED BY '••••''"
        );
        assert_eq!(redacted("nothing here", &secrets), "nothing here");
    }
}
