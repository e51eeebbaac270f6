//! Onboarding after setup: the setup script's signed "ready" callback, then first contact as a
//! job — read and pin the host key, log in with the panel's key, read the node's facts, mark
//! the server active (or `error` with the reason) — and, on an EL server with SELinux on, the
//! policy module queued at once.

use std::time::Duration;

use serde::Deserialize;

use crate::db::{self, servers::Server};
use crate::domain::{InstallStatus, JobKind, LogLevel, SelinuxMode, ServerStatus, ServiceDriver};
use crate::error::{AppError, AppResult};
use crate::ids::{JobId, ServerId, UserId};
use crate::jobs::{JobContext, JobFailure, JobSpec};
use crate::nodes::callbacks::{self, CallbackError, Signed};
use crate::ssh::Script;
use crate::ssh::client::{HostKey, Session, probe_host_key};
use crate::state::AppState;

/// Reads the facts the panel records at first contact.
const FACTS_SCRIPT: &str = include_str!("../../setup/facts.sh");

/// What the setup script reports when it is done.
#[derive(Debug, Deserialize)]
pub struct ReadyReport {
    pub server_id: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub selinux: String,
    /// The public halves of the host keys sshd serves (`TYPE BASE64`).
    #[serde(default)]
    pub host_keys: Vec<String>,
}

/// At most this many reported host keys are kept (sshd serves one per key type).
const MAX_HOST_KEYS: usize = 8;

/// The reported keys that parse, each once, in their stored form.
fn reported(keys: &[String]) -> Vec<HostKey> {
    let mut out: Vec<HostKey> = Vec::new();
    for k in keys.iter().filter_map(|k| HostKey::parse(k)) {
        if out.len() < MAX_HOST_KEYS && !out.iter().any(|o| o.fingerprint() == k.fingerprint()) {
            out.push(k);
        }
    }
    out
}

/// The host keys stored for a server (from its setup script's last report).
pub fn reported_keys(server: &Server) -> Vec<HostKey> {
    server
        .reported_host_keys
        .as_deref()
        .unwrap_or_default()
        .lines()
        .filter_map(HostKey::parse)
        .collect()
}

fn fingerprints(keys: &[HostKey]) -> String {
    keys.iter()
        .map(HostKey::fingerprint)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `POST /api/callbacks/server-ready`: a verified report starts first contact.
pub async fn ready(
    state: &AppState,
    signed: Signed<'_>,
    body: &[u8],
) -> AppResult<Result<JobId, CallbackError>> {
    let (id, report) = match callbacks::verify(state, signed, body, |r: &ReadyReport| {
        r.server_id.as_str()
    })
    .await
    {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    let server = db::servers::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    // The script ran: its setup link is spent.
    db::servers::spend_setup_tokens(&state.db, id).await?;
    let keys = reported(&report.host_keys);
    let text: String = keys.iter().map(|k| k.to_openssh() + "\n").collect();
    db::servers::set_reported_host_keys(&state.db, id, &text).await?;
    db::servers::log(
        &state.db,
        id,
        LogLevel::Info,
        "setup finished on the server",
        &serde_json::json!({
            "os": crate::domain::untrusted_text(&report.os, 40),
            "selinux": crate::domain::untrusted_text(&report.selinux, 20),
            "host_keys": keys.iter().map(HostKey::fingerprint).collect::<Vec<_>>(),
        }),
    )
    .await?;
    // A run of the setup script is the documented way to tell the panel its keys changed: a
    // pin the script no longer reports is dropped, and first contact pins one it does.
    if let Some(pinned) = server.host_key.as_deref().and_then(HostKey::parse) {
        if !keys.iter().any(|k| k.fingerprint() == pinned.fingerprint()) {
            db::servers::set_host_key(&state.db, id, None).await?;
            state.ssh.forget(id);
            db::servers::log(
                &state.db,
                id,
                LogLevel::Warning,
                "the setup script reports new SSH host keys: the old pin is dropped",
                &serde_json::json!({
                    "old": pinned.fingerprint(),
                    "reported": keys.iter().map(HostKey::fingerprint).collect::<Vec<_>>(),
                }),
            )
            .await?;
        }
    }
    let server = db::servers::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Ok(onboard(state, &server, None).await?))
}

/// First contact as a job.
pub async fn onboard(
    state: &AppState,
    server: &Server,
    actor: Option<UserId>,
) -> sqlx::Result<JobId> {
    let (state, server) = (state.clone(), server.clone());
    let spec = JobSpec {
        server_id: Some(server.id),
        actor_id: actor,
        kind: JobKind::ServerOnboard,
        args: serde_json::json!({ "server_id": server.id }),
        title: format!("Connect to {}", server.name),
        lane: None,
    };
    state
        .jobs
        .clone()
        .submit(spec, move |ctx| async move {
            let result = first_contact(&ctx, &state, &server).await;
            let (status, reason) = match &result {
                Ok(()) => (ServerStatus::Active, None),
                Err(f) => (ServerStatus::Error, Some(f.message.as_str())),
            };
            crate::nodes::log_outcome(
                &state,
                server.id,
                &ctx,
                &result,
                "server is active",
                "first contact failed",
            )
            .await?;
            // The log row first: whoever sees the new status finds its reason logged.
            db::servers::set_status(&state.db, server.id, status, reason).await?;
            if result.is_ok() {
                install_selinux_module(&state, server.id, actor).await;
            }
            result
        })
        .await
}

/// A server with SELinux on (any OS) gets the panel's policy module right after onboarding,
/// which also starts its observation window before enforcing is offered.
async fn install_selinux_module(state: &AppState, id: ServerId, actor: Option<UserId>) {
    let Ok(Some(server)) = db::servers::get(&state.db, id).await else {
        return;
    };
    let selinux_on = matches!(
        server.selinux_mode,
        Some(SelinuxMode::Permissive | SelinuxMode::Enforcing)
    );
    if !selinux_on {
        return;
    }
    use crate::server_selinux::{Task, queue};
    if let Err(e) = queue(state, &server, Task::InstallModule, actor).await {
        tracing::warn!(server = %server.id, error = %e, "queueing the SELinux module install failed");
    }
}

async fn first_contact(
    ctx: &JobContext,
    state: &AppState,
    server: &Server,
) -> Result<(), JobFailure> {
    const T: Duration = Duration::from_secs(20);
    let crate::nodes::Reach {
        target,
        private_key: private,
        host_key: pinned,
        ..
    } = crate::nodes::reach(state, server)
        .await
        .map_err(JobFailure::new)?;
    // Pin on first contact, and only a key the setup script reported in its signed callback:
    // an answer from anyone else on the way is refused. Later connections must present it.
    let host_key = ctx
        .step(
            "Check the host key against the setup script's report",
            async {
                if let Some(k) = pinned {
                    ctx.note(&format!("Host key already pinned: {}", k.fingerprint()));
                    return Ok(k);
                }
                let reported = reported_keys(server);
                if reported.is_empty() {
                    return Err(JobFailure::new(
                        "the setup script reported no SSH host keys, so the server's key cannot be \
                     checked; run the setup command on the server again",
                    ));
                }
                let k = probe_host_key(&target, T).await?;
                if !reported.iter().any(|r| r.fingerprint() == k.fingerprint()) {
                    return Err(JobFailure::new(format!(
                        "the server presented host key {}, but its setup script reported {}: \
                     nothing was pinned. If the server's SSH keys were changed since setup, run \
                     the setup command again; otherwise something answers in its place",
                        k.fingerprint(),
                        fingerprints(&reported)
                    )));
                }
                ctx.note(&format!(
                    "Pinned host key {} (reported by the setup script)",
                    k.fingerprint()
                ));
                Ok(k)
            },
        )
        .await?;
    let session = ctx
        .step("Log in with the panel's key", async {
            Ok(Session::connect(&target, &private, &host_key, T).await?)
        })
        .await?;
    let facts = ctx
        .step(
            "Read the server's facts",
            ctx.run_script(&session, &Script::new("facts", FACTS_SCRIPT), T),
        )
        .await?;
    let selinux = facts
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("selinux="))
        .and_then(|m| m.trim().parse::<SelinuxMode>().ok());
    let driver = if facts.stdout.lines().any(|l| l.trim() == "init=systemd") {
        ServiceDriver::Systemd
    } else {
        ServiceDriver::Direct
    };
    ctx.note(&format!("Service control: {driver}"));
    db::servers::record_contact(
        &state.db,
        server.id,
        &host_key.to_openssh(),
        selinux,
        driver,
    )
    .await?;
    // The PHP versions chosen at creation: installed if the node has their FPM binary.
    let present: Vec<&str> = facts
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("php="))
        .collect();
    for (row, version) in db::software::php(&state.db, server.id).await? {
        let (status, reason) = if present.contains(&version.as_str()) {
            (InstallStatus::Installed, None)
        } else {
            (
                InstallStatus::Failed,
                Some("not installed by the setup script (no network, or no package for this OS)"),
            )
        };
        db::software::set_status(&state.db, row, status, reason).await?;
        ctx.note(&format!("PHP {version}: {status}"));
    }
    session.disconnect().await;
    ctx.note("The server is active.");
    Ok(())
}
