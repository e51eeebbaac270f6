//! Executing a plan over SSH inside a job: each step is recorded (`job_steps`), skipped when its
//! check passes ("already done", so a retry resumes where a failure stopped), applied, then
//! verified. File bodies and SQL go on stdin and are never logged.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::jobs::{JobContext, JobFailure};
use crate::ssh::Command;
use crate::ssh::client::{Output, Session};

use super::{Action, Plan, Probe, Stdin, TestedWrite};

/// Longest any one command may take (database creation on a slow disk included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a waiting probe keeps asking.
const PROBE_WAIT: Duration = Duration::from_secs(10);

/// How a plan's run went, step by step (for the benchmark and the log).
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Steps found already done and skipped.
    pub skipped: Vec<String>,
    /// Time spent waiting for remote commands (round trip included).
    pub remote: Duration,
    pub commands: usize,
}

pub struct Runner<'a> {
    ctx: &'a JobContext,
    session: &'a Session,
    report: Report,
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

fn failure(what: &str, out: &Output) -> JobFailure {
    let mut message = format!("`{what}` exited with status {}", out.exit_code);
    if let Some(l) = last_line(out) {
        message.push_str(": ");
        message.push_str(&l);
    }
    JobFailure {
        message,
        exit_code: Some(out.exit_code.into()),
    }
}

impl<'a> Runner<'a> {
    pub fn new(ctx: &'a JobContext, session: &'a Session) -> Self {
        Self {
            ctx,
            session,
            report: Report::default(),
        }
    }

    /// Run every step in order; the first failure stops the plan.
    pub async fn run(mut self, plan: &Plan) -> Result<Report, JobFailure> {
        let total = plan.steps.len();
        for (i, step) in plan.steps.iter().enumerate() {
            let title = format!("{}/{total} {}", i + 1, step.title);
            let ctx = self.ctx;
            ctx.step(&title, async {
                if let Some(why) = &step.skip {
                    ctx.log("panel", &format!("skipped: {why}"));
                    return Ok(());
                }
                if !step.check.is_empty() && self.all_pass(&step.check).await? {
                    ctx.log("panel", "skipped: already done");
                    self.report.skipped.push(step.title.clone());
                    return Ok(());
                }
                for action in &step.apply {
                    self.apply(action).await?;
                }
                for probe in &step.verify {
                    if !self.passes(probe).await? {
                        return Err(JobFailure::new(format!(
                            "{}: the result did not verify (`{}`)",
                            step.title,
                            probe.command.argv().join(" ")
                        )));
                    }
                }
                Ok(())
            })
            .await
            .map_err(|f| JobFailure {
                message: format!("{}: {}", step.title, f.message),
                ..f
            })?;
        }
        Ok(self.report)
    }

    async fn exec(
        &mut self,
        command: &Command,
        stdin: Option<&Stdin>,
        log: bool,
    ) -> Result<Output, JobFailure> {
        let started = Instant::now();
        let out = if log {
            let mut line = format!("$ {command}");
            if let Some(s) = stdin {
                line.push_str(&if s.sensitive {
                    format!(" (with {} bytes on stdin, not shown)", s.text.len())
                } else {
                    format!(" (with {} bytes on stdin)", s.text.len())
                });
            }
            self.ctx.log("panel", &line);
            let sink = self.ctx.sink();
            match stdin {
                Some(s) => {
                    self.session
                        .run_with_stdin(command, s.text.clone().into_bytes(), COMMAND_TIMEOUT, sink)
                        .await?
                }
                None => self.session.run(command, COMMAND_TIMEOUT, sink).await?,
            }
        } else {
            let quiet = |_: crate::ssh::client::Stream, _: &str| {};
            match stdin {
                Some(s) => {
                    self.session
                        .run_with_stdin(
                            command,
                            s.text.clone().into_bytes(),
                            COMMAND_TIMEOUT,
                            quiet,
                        )
                        .await?
                }
                None => self.session.run(command, COMMAND_TIMEOUT, quiet).await?,
            }
        };
        self.report.remote += started.elapsed();
        self.report.commands += 1;
        Ok(out)
    }

    async fn run_ok(&mut self, command: &Command, stdin: Option<&Stdin>) -> Result<(), JobFailure> {
        let out = self.exec(command, stdin, true).await?;
        if out.success() {
            Ok(())
        } else {
            Err(failure(command.program(), &out))
        }
    }

    /// Whether a probe passes; a waiting probe asks again for a while. Logged as `? command`
    /// with its verdict, not its output.
    pub async fn passes(&mut self, probe: &Probe) -> Result<bool, JobFailure> {
        let deadline = Instant::now() + PROBE_WAIT;
        loop {
            let out = self
                .exec(&probe.command, probe.stdin.as_ref(), false)
                .await?;
            let ok = probe.accepts(out.success(), &out.stdout);
            if ok || !probe.wait || Instant::now() >= deadline {
                self.ctx.log(
                    "panel",
                    &format!("? {} → {}", probe.command, if ok { "yes" } else { "no" }),
                );
                return Ok(ok);
            }
            // Waiting for the node (a socket, a reload) counts as the node's time.
            let pause = Instant::now();
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.report.remote += pause.elapsed();
        }
    }

    async fn all_pass(&mut self, probes: &[Probe]) -> Result<bool, JobFailure> {
        for p in probes {
            if !self.passes(p).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn apply<'b>(
        &'b mut self,
        action: &'b Action,
    ) -> Pin<Box<dyn Future<Output = Result<(), JobFailure>> + Send + 'b>> {
        Box::pin(async move {
            match action {
                Action::Run { command, stdin } => self.run_ok(command, stdin.as_ref()).await,
                Action::Write(file) => self.run_ok(&file.command(), Some(&file.stdin())).await,
                Action::Unless { probe, action } => {
                    if self.passes(probe).await? {
                        Ok(())
                    } else {
                        self.apply(action).await
                    }
                }
                Action::When { probe, action } => {
                    if self.passes(probe).await? {
                        self.apply(action).await
                    } else {
                        Ok(())
                    }
                }
                Action::OrElse(first, second) => match self.apply(first).await {
                    Ok(()) => Ok(()),
                    Err(f) => {
                        self.ctx.log(
                            "panel",
                            &format!("(that failed: {}; trying the alternative)", f.message),
                        );
                        self.apply(second).await
                    }
                },
                Action::Sequence(list) => {
                    for a in list {
                        self.apply(a).await?;
                    }
                    Ok(())
                }
                Action::WriteTested { file, link, test } => {
                    let c = TestedWrite::new(file, link.as_deref());
                    let had_previous = self.exec(&c.exists, None, false).await?.success();
                    if had_previous {
                        self.run_ok(&c.backup, None).await?;
                    } else {
                        self.run_ok(&c.clear_backup, None).await?;
                    }
                    self.run_ok(&file.command(), Some(&file.stdin())).await?;
                    if let Some(l) = &c.link {
                        self.run_ok(l, None).await?;
                    }
                    let out = self.exec(test, None, true).await?;
                    if !out.success() {
                        let why = failure(test.program(), &out);
                        if had_previous {
                            self.run_ok(&c.restore, None).await?;
                        } else {
                            self.run_ok(&c.remove_new, None).await?;
                        }
                        return Err(JobFailure {
                            message: format!(
                                "{} failed its test, so the previous version was put back ({})",
                                file.path, why.message
                            ),
                            ..why
                        });
                    }
                    self.run_ok(&c.drop_backup, None).await
                }
            }
        })
    }
}
