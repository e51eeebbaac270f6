//! SELinux work on a server as jobs: install or update the policy module, toggle a boolean,
//! relabel the sites, switch to enforcing. Each runs its plan over SSH with every step
//! recorded and streamed, and leaves a line in the server's log (the module's line also starts
//! the observation window before enforcing is offered).

use chrono::{DateTime, Utc};

use super::manage::{self, Boolean, Observation, Status};
use crate::crypto::SecretBox;
use crate::db::{self, Pool, servers::Server};
use crate::domain::{LogLevel, ServerStatus, ServiceDriver};
use crate::error::{AppError, AppResult};
use crate::ids::{JobId, ServerId, UserId};
use crate::jobs::{JobFailure, JobSpec, Jobs};
use crate::provision::{Driver, Plan, Profile};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    InstallModule,
    SetBoolean(Boolean, bool),
    Relabel,
    Enforce,
}

impl Task {
    fn kind(self) -> &'static str {
        match self {
            Task::InstallModule => "server.selinux.module",
            Task::SetBoolean(..) => "server.selinux.boolean",
            Task::Relabel => "server.selinux.relabel",
            Task::Enforce => "server.selinux.enforce",
        }
    }

    fn title(self, server: &str) -> String {
        match self {
            Task::InstallModule => format!(
                "Install the SELinux policy module {} on {server}",
                manage::module_version()
            ),
            Task::SetBoolean(b, on) => {
                format!(
                    "Set {} {} on {server}",
                    b.name(),
                    if on { "on" } else { "off" }
                )
            }
            Task::Relabel => format!("Relabel the sites on {server}"),
            Task::Enforce => format!("Switch {server} to SELinux enforcing"),
        }
    }

    fn outcome(self) -> (String, String) {
        match self {
            Task::InstallModule => (
                installed_message(),
                "SELinux policy module installation failed".into(),
            ),
            Task::SetBoolean(b, on) => (
                format!(
                    "SELinux boolean {} set {}",
                    b.name(),
                    if on { "on" } else { "off" }
                ),
                format!("setting the SELinux boolean {} failed", b.name()),
            ),
            Task::Relabel => ("sites relabelled".into(), "relabelling failed".into()),
            Task::Enforce => (
                "SELinux switched to enforcing".into(),
                "switching SELinux to enforcing failed".into(),
            ),
        }
    }
}

/// The server-log line that marks the current module version as installed.
fn installed_message() -> String {
    format!(
        "SELinux policy module {} installed",
        manage::module_version()
    )
}

fn driver(server: &Server) -> Driver {
    match server.service_driver {
        ServiceDriver::Systemd => Driver::Systemd,
        ServiceDriver::Direct => Driver::Direct,
    }
}

/// The SELinux state of a server, read over SSH.
pub async fn status(
    pool: &Pool,
    secrets: &SecretBox,
    sessions: &crate::ssh::pool::SessionPool,
    server: &Server,
) -> AppResult<Status> {
    crate::servers::read_script(
        pool,
        secrets,
        sessions,
        server,
        &crate::ssh::Script::new("selinux-status", manage::STATUS_SCRIPT),
    )
    .await
    .map(|out| Status::parse(&out))
}

/// What the panel has seen from a server since its module was installed.
pub async fn observation(pool: &Pool, server: ServerId) -> sqlx::Result<Observation> {
    let since: Option<String> = sqlx::query_scalar(
        "SELECT max(created_at) FROM server_logs WHERE server_id = ? AND message = ?",
    )
    .bind(server)
    .bind(installed_message())
    .fetch_one(pool)
    .await?;
    let since: Option<DateTime<Utc>> = since.and_then(|s| s.parse().ok());
    let denials: i64 = match since {
        Some(t) => {
            sqlx::query_scalar(
                "SELECT count(*) FROM selinux_audit_logs
                 WHERE server_id = ? AND level IN ('warning', 'error') AND created_at >= ?",
            )
            .bind(server)
            .bind(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            .fetch_one(pool)
            .await?
        }
        None => 0,
    };
    let collecting: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM selinux_audit_logs WHERE server_id = ?)")
            .bind(server)
            .fetch_one(pool)
            .await?;
    Ok(Observation {
        since,
        denials,
        collecting,
    })
}

/// Queue `task` on an active server. Enforcing is refused unless every item of the checklist
/// passes, checked here against the node's current state, not the page the user saw.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    jobs: &Jobs,
    pool: &Pool,
    secrets: &SecretBox,
    sessions: &crate::ssh::pool::SessionPool,
    server: &Server,
    task: Task,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    if server.status != ServerStatus::Active {
        return Err(AppError::Conflict(
            "SELinux can be managed once the server is active.".into(),
        ));
    }
    if task == Task::Enforce {
        let status = status(pool, secrets, sessions, server).await?;
        let seen = observation(pool, server.id).await?;
        let failing: Vec<String> = manage::checklist(&status, &seen, Utc::now())
            .into_iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{}: {}", c.label, c.detail))
            .collect();
        if !failing.is_empty() {
            return Err(AppError::Conflict(format!(
                "Not switching to enforcing yet. {}",
                failing.join("; ")
            )));
        }
    }
    queue(jobs, pool, secrets, server, task, actor).await
}

/// Queue `task` without the enforcing checks (the caller made them, or the task needs none).
pub async fn queue(
    jobs: &Jobs,
    pool: &Pool,
    secrets: &SecretBox,
    server: &Server,
    task: Task,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    let (pool, secrets, server) = (pool.clone(), secrets.clone(), server.clone());
    let spec = JobSpec {
        server_id: Some(server.id),
        actor_id: actor,
        kind: task.kind(),
        args: serde_json::json!({ "server_id": server.id, "task": format!("{task:?}") }),
        title: task.title(&server.name),
        lane: None,
    };
    let id = jobs
        .submit(spec, move |ctx| async move {
            let result = run(&ctx, &pool, &secrets, &server, task).await;
            let (mut done, failed) = task.outcome();
            // Nothing applied: say so rather than record a change that did not happen (the
            // module's line would start the enforcing window).
            let result = result.map(|applied| {
                if !applied {
                    done = "SELinux is disabled on the server: nothing was changed".into();
                }
            });
            crate::servers::log_outcome(&pool, server.id, &ctx, &result, &done, &failed).await?;
            if task == Task::Enforce && result.is_ok() {
                db::servers::log(
                    &pool,
                    server.id,
                    LogLevel::Warning,
                    "SELinux now blocks what it used to log: watch the SELinux page for denials",
                    &serde_json::json!({ "job": ctx.id() }),
                )
                .await?;
            }
            result
        })
        .await?;
    Ok(id)
}

async fn plan(
    pool: &Pool,
    secrets: &SecretBox,
    server: &Server,
    task: Task,
) -> Result<Plan, JobFailure> {
    let profile = Profile::new(server.os_version);
    let driver = driver(server);
    Ok(match task {
        Task::InstallModule => manage::install_module(profile, driver),
        Task::SetBoolean(b, on) => manage::set_boolean(profile, driver, b, on),
        Task::Enforce => manage::enforce(profile, driver),
        Task::Relabel => {
            let sites = db::sites::for_server(pool, server.id)
                .await
                .map_err(|e| JobFailure::new(e.to_string()))?;
            let mut specs = Vec::new();
            for site in &sites {
                let (spec, _) = crate::sites::spec_of(site, secrets)
                    .map_err(|e| JobFailure::new(format!("{}: {e}", site.domain)))?;
                specs.push(spec);
            }
            manage::relabel(profile, driver, &specs)
        }
    })
}

/// Runs the task's plan; `Ok(false)` when no step applied on this node (SELinux is off).
async fn run(
    ctx: &crate::jobs::JobContext,
    pool: &Pool,
    secrets: &SecretBox,
    server: &Server,
    task: Task,
) -> Result<bool, JobFailure> {
    let plan = plan(pool, secrets, server, task).await?;
    let session = crate::servers::open_session(ctx, pool, secrets, server).await?;
    let result = crate::provision::run::Runner::new(ctx, &session)
        .run(&plan)
        .await
        .map(|report| report.not_applicable.len() < plan.steps.len());
    session.disconnect().await;
    result
}
