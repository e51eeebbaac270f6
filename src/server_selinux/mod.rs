//! A server's SELinux tab as actions, each a job: install or update the policy module, toggle a boolean,
//! relabel the sites, switch to enforcing. Each runs its plan over SSH with every step
//! recorded and streamed, and leaves a line in the server's log (the module's line also starts
//! the observation window before enforcing is offered).

use chrono::{DateTime, Utc};

use crate::db::{self, servers::Server};
use crate::domain::{JobKind, LogLevel, ServerStatus};
use crate::error::{AppError, AppResult, FieldError, FieldErrors};
use crate::ids::{JobId, ServerId, UserId};
use crate::jobs::{JobContext, JobFailure, JobSpec};
use crate::provision::Plan;
use crate::selinux::manage::{self, Boolean, Observation, Status};
use crate::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    InstallModule,
    SetBoolean(Boolean, bool),
    Relabel,
    Enforce,
}

/// The boolean form of a server's SELinux tab.
#[derive(Debug, Default, serde::Deserialize)]
pub struct BooleanForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub value: String,
}

impl Task {
    /// The task the boolean form asks for; every field checked.
    pub fn set_boolean(form: &BooleanForm) -> Result<Task, FieldErrors> {
        let mut errors = Vec::new();
        let b = Boolean::parse(&form.name);
        if b.is_none() {
            errors.push(FieldError::new(
                "name",
                "not one of the panel's booleans (panel_can_manage_users, panel_can_reload_nginx)",
            ));
        }
        let on = match form.value.as_str() {
            "on" => Some(true),
            "off" => Some(false),
            _ => {
                errors.push(FieldError::new("value", "on or off"));
                None
            }
        };
        match (b, on) {
            (Some(b), Some(on)) => Ok(Task::SetBoolean(b, on)),
            _ => Err(errors),
        }
    }

    fn kind(self) -> JobKind {
        match self {
            Task::InstallModule => JobKind::SelinuxModule,
            Task::SetBoolean(..) => JobKind::SelinuxBoolean,
            Task::Relabel => JobKind::SelinuxRelabel,
            Task::Enforce => JobKind::SelinuxEnforce,
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

/// The SELinux state of a server, read over SSH.
pub async fn status(state: &AppState, server: &Server) -> AppResult<Status> {
    crate::nodes::read_script(
        state,
        server,
        &crate::ssh::Script::new("selinux-status", manage::STATUS_SCRIPT),
    )
    .await
    .map(|out| Status::parse(&out))
}

/// What the panel has seen from a server since its module was installed.
pub async fn observation(state: &AppState, server: ServerId) -> sqlx::Result<Observation> {
    let since = db::selinux::last_log_line(&state.db, server, &installed_message()).await?;
    let since: Option<DateTime<Utc>> = since.and_then(|s| s.parse().ok());
    let (denials, last_denial) = match since {
        Some(t) => {
            let from = db::timestamp(t);
            let last = db::selinux::last_denial_since(&state.db, server, &from).await?;
            (
                db::selinux::denials_since(&state.db, server, &from).await?,
                last.and_then(|s| s.parse().ok()),
            )
        }
        None => (0, None),
    };
    let collecting = db::selinux::collected_any(&state.db, server).await?;
    Ok(Observation {
        since,
        last_denial,
        denials,
        collecting,
    })
}

/// Queue `task` on an active server. Enforcing is refused unless every item of the checklist
/// passes, checked here against the node's current state, not the page the user saw.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    state: &AppState,
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
        let status = status(state, server).await?;
        let seen = observation(state, server.id).await?;
        let failing: Vec<String> = manage::checklist(
            &status,
            &seen,
            Utc::now(),
            state.config.selinux_quiet_window,
        )
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
    queue(state, server, task, actor).await
}

/// Queue `task` without the enforcing checks (the caller made them, or the task needs none).
pub async fn queue(
    state: &AppState,
    server: &Server,
    task: Task,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    let (job_state, server) = (state.clone(), server.clone());
    let spec = JobSpec {
        server_id: Some(server.id),
        actor_id: actor,
        kind: task.kind(),
        args: serde_json::json!({ "server_id": server.id, "task": format!("{task:?}") }),
        title: task.title(&server.name),
        lane: None,
    };
    let id = state
        .jobs
        .submit(spec, move |ctx| async move {
            let state = job_state;
            let result = run(&ctx, &state, &server, task).await;
            let (mut done, failed) = task.outcome();
            // Nothing applied: say so rather than record a change that did not happen (the
            // module's line would start the enforcing window).
            let result = result.map(|applied| {
                if !applied {
                    done = "SELinux is disabled on the server: nothing was changed".into();
                }
            });
            crate::nodes::log_outcome(&state, server.id, &ctx, &result, &done, &failed).await?;
            if task == Task::Enforce && result.is_ok() {
                db::servers::log(
                    &state.db,
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

/// The node's policy name, from its `/etc/selinux/config` (world-readable): enforcing is
/// written with the same one, never assumed.
async fn policy_name(state: &AppState, server: &Server) -> Result<manage::PolicyName, JobFailure> {
    let config = crate::nodes::read_command(
        state,
        server,
        &crate::ssh::Command::new("cat").operand("/etc/selinux/config"),
        std::time::Duration::from_secs(20),
    )
    .await
    .map_err(|e| JobFailure::new(e.public_message()))?;
    manage::PolicyName::from_config(&config).ok_or_else(|| {
        JobFailure::new("/etc/selinux/config names no policy (SELINUXTYPE=): nothing was changed")
    })
}

async fn plan(state: &AppState, server: &Server, task: Task) -> Result<Plan, JobFailure> {
    let profile = crate::nodes::profile(server);
    let driver = crate::nodes::driver(server);
    Ok(match task {
        Task::InstallModule => manage::install_module(profile, driver),
        Task::SetBoolean(b, on) => manage::set_boolean(profile, driver, b, on),
        Task::Enforce => manage::enforce(profile, driver, &policy_name(state, server).await?),
        Task::Relabel => {
            let sites = db::sites::for_server(&state.db, server.id)
                .await
                .map_err(|e| JobFailure::new(e.to_string()))?;
            let mut specs = Vec::new();
            for site in &sites {
                let (spec, _) = crate::sites::spec_of(site, &state.secrets)
                    .map_err(|e| JobFailure::new(format!("{}: {e}", site.domain)))?;
                specs.push(spec);
            }
            manage::relabel(profile, driver, &specs)
        }
    })
}

/// Runs the task's plan; `Ok(false)` when no step applied on this node (SELinux is off).
async fn run(
    ctx: &JobContext,
    state: &AppState,
    server: &Server,
    task: Task,
) -> Result<bool, JobFailure> {
    let plan = plan(state, server, task).await?;
    let session = crate::nodes::open_session(state, ctx, server).await?;
    crate::provision::run::Runner::new(ctx, &session)
        .run(&plan)
        .await
        .map(|report| report.not_applicable.len() < plan.steps.len())
}
