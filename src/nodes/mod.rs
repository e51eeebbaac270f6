//! The one door to a managed node. Every feature that touches a server comes through here: how
//! to reach it (address, the decrypted private key, the pinned host key), a session for a job
//! (a recorded step), a read-only script over the pooled connection (pages and the audit
//! collector), how the node's two signed callbacks are checked, and the line a server job leaves
//! in the server's log. The out-of-process SSH key holder (panel-ssh-manager) will sit behind
//! these same functions.

pub mod callbacks;
pub mod keys;

use std::sync::Arc;
use std::time::Duration;

use crate::db::servers::Server;
use crate::db::{self};
use crate::domain::{LogLevel, ServiceDriver};
use crate::error::{AppError, AppResult};
use crate::ids::{ServerId, SshKeyId};
use crate::jobs::{JobContext, JobFailure};
use crate::provision::{Driver, Profile};
use crate::ssh::client::{HostKey, Session, Target};
use crate::ssh::{Command, Script};
use crate::state::AppState;

/// How long a read-only script may take unless its caller says otherwise.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long logging in may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a pooled connection may take to run `true` before a job logs in afresh.
const ALIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// How to reach a server: its address, the decrypted private key of its SSH key, and (once
/// contacted) its pinned host key. Errors are sentences for a job log or the page.
pub struct Reach {
    pub target: Target,
    pub key_id: SshKeyId,
    pub private_key: zeroize::Zeroizing<String>,
    pub host_key: Option<HostKey>,
}

impl Reach {
    /// The pinned host key, required for everything after first contact.
    pub fn pinned(&self) -> Result<&HostKey, String> {
        self.host_key
            .as_ref()
            .ok_or_else(|| "the server has not been contacted yet".to_owned())
    }
}

pub async fn reach(state: &AppState, server: &Server) -> Result<Reach, String> {
    let key_id = server.ssh_key_id.ok_or("the server has no SSH key")?;
    let private_key = keys::private_key(state, key_id)
        .await
        .map_err(|e| e.public_message())?
        .ok_or("the server's SSH key has no private half")?;
    Ok(Reach {
        target: Target {
            host: server.ip_address.clone(),
            port: u16::try_from(server.ssh_port).map_err(|_| "bad SSH port")?,
            user: server.ssh_user.clone(),
        },
        key_id,
        private_key,
        host_key: server.host_key.as_deref().and_then(HostKey::parse),
    })
}

/// The session a job works over (as a recorded step): the server's pooled connection when
/// one is open (a login costs ~100 ms, a site's whole plan ~500), checked with a no-op command
/// first, since a connection can die without a word (no FIN) and a plan must not hang on it;
/// otherwise a new one with the pinned host key, kept in the pool for what follows.
pub async fn open_session(
    state: &AppState,
    ctx: &JobContext,
    server: &Server,
) -> Result<Arc<Session>, JobFailure> {
    let r = reach(state, server).await.map_err(JobFailure::new)?;
    let host_key = r.pinned().map_err(JobFailure::new)?.clone();
    ctx.step("Connect to the server", async {
        let get = || {
            state.ssh.get(
                server.id,
                &r.target,
                r.key_id,
                &r.private_key,
                &host_key,
                CONNECT_TIMEOUT,
            )
        };
        let session = get().await?;
        let alive = session
            .run(&Command::new("true"), ALIVE_TIMEOUT, |_, _| {})
            .await
            .is_ok_and(|o| o.success());
        if alive {
            return Ok(session);
        }
        state.ssh.forget(server.id);
        Ok(get().await?)
    })
    .await
}

/// Run a read-only script on the server over the pooled connection (pages poll these) and
/// return its stdout; it comes from the node, so callers parse it into known values.
pub async fn read_script(state: &AppState, server: &Server, script: &Script) -> AppResult<String> {
    read_script_within(state, server, script, READ_TIMEOUT).await
}

/// `read_script` for a script that may take up to `timeout` (a long poll of the audit log).
pub async fn read_script_within(
    state: &AppState,
    server: &Server,
    script: &Script,
    timeout: Duration,
) -> AppResult<String> {
    let session = pooled(state, server).await?;
    let out = session.run_script(script, timeout, |_, _| {}).await;
    stdout_of(state, server, out)
}

/// Run one read-only command (no sudo) over the pooled connection and return its stdout.
pub async fn read_command(
    state: &AppState,
    server: &Server,
    command: &Command,
    timeout: Duration,
) -> AppResult<String> {
    let session = pooled(state, server).await?;
    let out = session.run(command, timeout, |_, _| {}).await;
    stdout_of(state, server, out)
}

/// The server's cached connection (made on first use, with its pinned host key).
async fn pooled(state: &AppState, server: &Server) -> AppResult<Arc<Session>> {
    let unavailable = |m: String| AppError::Conflict(m);
    let r = reach(state, server).await.map_err(unavailable)?;
    let host_key = r.pinned().map_err(unavailable)?;
    state
        .ssh
        .get(
            server.id,
            &r.target,
            r.key_id,
            &r.private_key,
            host_key,
            READ_TIMEOUT,
        )
        .await
        .map_err(|e| unavailable(e.to_string()))
}

fn stdout_of(
    state: &AppState,
    server: &Server,
    out: Result<crate::ssh::client::Output, crate::ssh::client::SshError>,
) -> AppResult<String> {
    match out {
        Ok(out) => Ok(out.stdout),
        Err(e) => {
            // A broken cached connection is not reused.
            state.ssh.forget(server.id);
            Err(AppError::Conflict(e.to_string()))
        }
    }
}

/// Record how a server job ended in the server's log (with the job and the reason), so the
/// server page tells the story even without opening the job.
pub async fn log_outcome(
    state: &AppState,
    server: ServerId,
    ctx: &JobContext,
    result: &Result<(), JobFailure>,
    done: &str,
    failed: &str,
) -> sqlx::Result<()> {
    let (level, message) = match result {
        Ok(()) => (LogLevel::Info, done),
        Err(_) => (LogLevel::Error, failed),
    };
    let reason = result.as_ref().err().map(|f| f.message.as_str());
    db::servers::log(
        &state.db,
        server,
        level,
        message,
        &serde_json::json!({ "job": ctx.id(), "reason": reason }),
    )
    .await
}

/// How the server's services are controlled, as learnt at first contact.
pub fn driver(server: &Server) -> Driver {
    match server.service_driver {
        ServiceDriver::Systemd => Driver::Systemd,
        ServiceDriver::Direct => Driver::Direct,
    }
}

/// The server's OS profile (paths, packages, service names).
pub fn profile(server: &Server) -> Profile {
    use crate::domain::SelinuxMode;
    let on = match server.selinux_mode {
        Some(SelinuxMode::Enforcing | SelinuxMode::Permissive) => true,
        Some(SelinuxMode::Disabled) => false,
        // Not reported yet (a server onboarded before the panel asked): as its OS ships.
        None => Profile::new(server.os_version).selinux,
    };
    Profile::new(server.os_version).with_selinux(on)
}
