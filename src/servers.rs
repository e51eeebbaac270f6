//! Servers: adding one (with its one-time setup URL), serving the rendered setup script,
//! verifying the script's signed "ready" callback, and the onboarding job that pins the host key
//! and marks the server active.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::config::Config;
use crate::crypto::{SecretBox, SecretContext, random};
use crate::db::servers::{NewServer, Server};
use crate::db::{self, Pool};
use crate::domain::{KeyName, LogLevel, OsVersion, SelinuxMode, ServerConnection, ServerStatus};
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{ServerId, SshKeyId, UserId};
use crate::jobs::{JobFailure, JobSpec, Jobs};
use crate::ssh::Script;
use crate::ssh::client::{Session, Target, probe_host_key};

/// A setup URL works this long.
pub const SETUP_TTL: Duration = Duration::from_secs(60 * 60);
/// Callbacks older or newer than this (clock skew included) are refused.
pub const CALLBACK_WINDOW: i64 = 300;
/// The node setup script, rendered with the server's values in front of it.
pub const SETUP_SCRIPT: &str = include_str!("../setup/setup.sh");
/// Reads the facts the panel records at first contact.
const FACTS_SCRIPT: &str = include_str!("../setup/facts.sh");

const SECRET_TABLE: &str = "servers";
const SECRET_COLUMN: &str = "callback_secret_encrypted";

/// The "Add server" form as submitted.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ServerForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub ip_address: String,
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub os_version: String,
    #[serde(default)]
    pub ssh_port: String,
    #[serde(default)]
    pub ssh_user: String,
    #[serde(default)]
    pub ssh_key_id: String,
    /// PHP versions to install side by side, separated by spaces or commas (e.g. `8.2 8.3`).
    #[serde(default)]
    pub php_versions: String,
}

/// Parse the PHP versions field for an OS: known versions, no duplicates; Debian 12 ships 8.2
/// only (other versions need a third-party repository the panel does not add).
pub fn parse_php_versions(
    text: &str,
    os: Option<OsVersion>,
) -> Result<Vec<crate::domain::PhpVersion>, String> {
    let mut out = Vec::new();
    for token in text.split([' ', ',']).filter(|t| !t.is_empty()) {
        let v: crate::domain::PhpVersion = token.parse().map_err(|_| {
            format!(
                "`{}` is not a PHP version the panel offers (7.4, 8.0–8.4)",
                token.escape_debug()
            )
        })?;
        if os == Some(OsVersion::Debian12) && v != crate::domain::PhpVersion::V82 {
            return Err(format!(
                "Debian 12 ships PHP 8.2 only; PHP {v} is not available there"
            ));
        }
        if !out.contains(&v) {
            out.push(v);
        }
    }
    if out.len() > 6 {
        return Err("at most six versions".into());
    }
    Ok(out)
}

/// Add a server: every field checked (all errors at once), the row stored `pending` with a fresh
/// callback secret, and a one-time setup URL returned.
pub async fn create(
    pool: &Pool,
    secrets: &SecretBox,
    config: &Config,
    form: &ServerForm,
    actor: Option<UserId>,
) -> AppResult<(ServerId, String)> {
    let mut errors = Vec::new();
    let name = KeyName::parse(&form.name)
        .map_err(|m| errors.push(FieldError::new("name", m.replace("the key", "the server"))))
        .ok();
    let conn = ServerConnection::parse(
        &form.ip_address,
        &form.hostname,
        &form.ssh_port,
        &form.ssh_user,
    )
    .map_err(|e| errors.extend(e))
    .ok();
    let os = form
        .os_version
        .parse::<OsVersion>()
        .map_err(|_| {
            errors.push(FieldError::new(
                "os_version",
                "choose an operating system from the list",
            ))
        })
        .ok();
    let key = match form.ssh_key_id.parse::<SshKeyId>() {
        Ok(id) => match db::ssh_keys::get(pool, id).await? {
            Some(k) if k.has_private_key => Some(k),
            Some(_) => {
                errors.push(FieldError::new(
                    "ssh_key_id",
                    "this key has no private half; the panel cannot log in with it",
                ));
                None
            }
            None => {
                errors.push(FieldError::new("ssh_key_id", "choose one of your SSH keys"));
                None
            }
        },
        Err(_) => {
            errors.push(FieldError::new("ssh_key_id", "choose one of your SSH keys"));
            None
        }
    };
    let php = parse_php_versions(&form.php_versions, os)
        .map_err(|m| errors.push(FieldError::new("php_versions", m)))
        .ok();
    let (Some(name), Some(conn), Some(os), Some(key), Some(php)) = (name, conn, os, key, php)
    else {
        return Err(AppError::Invalid(errors));
    };
    let id = ServerId::generate();
    let id_text = id.to_string();
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::bytes::<32>());
    let sealed = secrets.seal(
        secret.as_bytes(),
        SecretContext::new(SECRET_TABLE, SECRET_COLUMN, &id_text),
    );
    db::servers::insert(
        pool,
        &NewServer {
            id,
            name: name.as_str(),
            ip_address: &conn.ip.to_string(),
            hostname: conn.hostname.as_str(),
            os_version: os,
            ssh_port: conn.port.get(),
            ssh_user: conn.user.as_str(),
            ssh_key_id: key.id,
            callback_secret_encrypted: &sealed,
        },
    )
    .await
    .map_err(|e| {
        db::unique_to_field(
            e,
            &[(
                "servers.ip_address",
                "ip_address",
                "A server with this IP address is already in the panel.",
            )],
        )
    })?;
    for v in &php {
        sqlx::query("INSERT INTO software_installations (id, server_id, software, version) VALUES (?, ?, 'php', ?)")
            .bind(crate::ids::SoftwareInstallationId::generate())
            .bind(id)
            .bind(v.as_str())
            .execute(pool)
            .await?;
    }
    db::servers::log(
        pool,
        id,
        LogLevel::Info,
        "server added",
        &serde_json::json!({ "actor": actor }),
    )
    .await?;
    let url = new_setup_url(pool, config, id).await?;
    Ok((id, url))
}

/// A fresh one-time setup URL for a server (the page offers a new one when the last expired).
pub async fn new_setup_url(pool: &Pool, config: &Config, id: ServerId) -> AppResult<String> {
    let token = random::token();
    db::servers::insert_setup_token(
        pool,
        id,
        &crate::auth::hash_token(&token),
        &crate::auth::after(SETUP_TTL),
    )
    .await?;
    Ok(format!("{}/setup/{token}", config.url))
}

/// The command an operator runs on the new server, built like every other command line.
pub fn setup_command(url: &str) -> String {
    use crate::ssh::Command;
    let fetch = Command::new("curl")
        .flag("-fsSL")
        .operand_without_separator(url);
    let run = Command::new("sudo").flag("bash");
    [fetch.to_string(), run.to_string()].join(" | ")
}

/// Redeem a setup token and render the script for its server. `None` for unknown, used and
/// expired tokens alike.
pub async fn render_setup(
    pool: &Pool,
    secrets: &SecretBox,
    config: &Config,
    token: &str,
    client_ip: &str,
) -> AppResult<Option<String>> {
    if token.len() > 128 {
        return Ok(None);
    }
    let Some(id) = db::servers::redeem_setup_token(pool, &crate::auth::hash_token(token)).await?
    else {
        return Ok(None);
    };
    let server = db::servers::get(pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let key_id = server
        .ssh_key_id
        .ok_or_else(|| AppError::Conflict("this server has no SSH key".into()))?;
    let key = db::ssh_keys::get(pool, key_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let secret = open_secret(pool, secrets, id).await?;
    db::servers::set_status(pool, id, ServerStatus::Provisioning, None).await?;
    db::servers::log(
        pool,
        id,
        LogLevel::Info,
        "setup script fetched",
        &serde_json::json!({ "ip": client_ip, "at": db::now() }),
    )
    .await?;
    let php: Vec<String> = sqlx::query_scalar(
        "SELECT version FROM software_installations WHERE server_id = ? AND software = 'php' ORDER BY version",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let mut script = render_script(config, &server, &key.public_key, &secret);
    if !php.is_empty() {
        // Versions were validated when chosen; quoted like every other value.
        let line = format!(
            "PANEL_PHP_VERSIONS={}\n",
            crate::ssh::command::quote(&php.join(" "))
        );
        let at = script.find("PANEL_URL=").unwrap_or(0);
        script.insert_str(at, &line);
    }
    Ok(Some(script))
}

/// The script with the server's values assigned at the top, each single-quoted.
pub fn render_script(
    config: &Config,
    server: &Server,
    panel_public_key: &str,
    secret: &str,
) -> String {
    use crate::ssh::command::quote;
    let assignments = [
        ("PANEL_URL", config.url.as_str()),
        ("PANEL_SERVER_ID", &server.id.to_string()),
        ("PANEL_OS", server.os_version.as_str()),
        ("PANEL_SSH_USER", &server.ssh_user),
        ("PANEL_SSH_KEY", panel_public_key),
        ("PANEL_CALLBACK_SECRET", secret),
    ]
    .map(|(k, v)| format!("{k}={}\n", quote(v)))
    .concat();
    let body = SETUP_SCRIPT
        .strip_prefix("#!/usr/bin/env bash\n")
        .unwrap_or(SETUP_SCRIPT);
    format!(
        "#!/usr/bin/env bash\n# Rendered by Panel for server {} ({}).\n{assignments}{body}",
        server.id, server.os_version
    )
}

async fn open_secret(pool: &Pool, secrets: &SecretBox, id: ServerId) -> AppResult<String> {
    let sealed = db::servers::callback_secret(pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let id_text = id.to_string();
    let plain = secrets
        .open(
            &sealed,
            SecretContext::new(SECRET_TABLE, SECRET_COLUMN, &id_text),
        )
        .map_err(|e| AppError::Internal(e.into()))?;
    String::from_utf8(plain.to_vec()).map_err(|e| AppError::Internal(e.into()))
}

/// What the setup script reports when it is done.
#[derive(Debug, Deserialize)]
pub struct ReadyReport {
    pub server_id: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub selinux: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallbackError {
    /// Unknown server, bad or missing signature, replay, stale timestamp: one answer for all.
    #[error("invalid or expired signature")]
    Refused,
    #[error("malformed callback body")]
    Malformed,
}

/// Verify a `server-ready` callback: HMAC-SHA256 over `TIMESTAMP.NONCE.BODY` with the server's
/// secret, a timestamp within the window, a nonce never seen before, a server being set up.
pub async fn verify_ready(
    pool: &Pool,
    secrets: &SecretBox,
    timestamp: Option<&str>,
    nonce: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Result<(ServerId, ReadyReport), CallbackError> {
    verify_signed(
        pool,
        secrets,
        [timestamp, nonce, signature],
        body,
        |r: &ReadyReport| r.server_id.as_str(),
    )
    .await
}

/// Verify any signed node callback (server-ready, site-created): the body names its server,
/// whose secret must have signed it, within the time window, with a fresh nonce.
pub async fn verify_signed<T: serde::de::DeserializeOwned>(
    pool: &Pool,
    secrets: &SecretBox,
    [timestamp, nonce, signature]: [Option<&str>; 3],
    body: &[u8],
    server_of: impl Fn(&T) -> &str,
) -> Result<(ServerId, T), CallbackError> {
    let (Some(timestamp), Some(nonce), Some(signature)) = (timestamp, nonce, signature) else {
        return Err(CallbackError::Refused);
    };
    let report: T = serde_json::from_slice(body).map_err(|_| CallbackError::Malformed)?;
    let id: ServerId = server_of(&report)
        .parse()
        .map_err(|_| CallbackError::Refused)?;
    let ts: i64 = timestamp.parse().map_err(|_| CallbackError::Refused)?;
    if (chrono::Utc::now().timestamp() - ts).abs() > CALLBACK_WINDOW {
        return Err(CallbackError::Refused);
    }
    if !(16..=128).contains(&nonce.len())
        || !nonce
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(CallbackError::Refused);
    }
    let secret = match open_secret(pool, secrets, id).await {
        Ok(s) => s,
        Err(_) => return Err(CallbackError::Refused),
    };
    let expected = sign(&secret, timestamp, nonce, body);
    let given = signature.strip_prefix("sha256=").unwrap_or(signature);
    let Ok(given) = hex::decode(given) else {
        return Err(CallbackError::Refused);
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(&signed_bytes(timestamp, nonce, body));
    if mac.verify_slice(&given).is_err() {
        let _ = expected;
        return Err(CallbackError::Refused);
    }
    match db::servers::use_nonce(pool, id, nonce).await {
        Ok(true) => Ok((id, report)),
        _ => Err(CallbackError::Refused),
    }
}

fn signed_bytes(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 2);
    v.extend_from_slice(timestamp.as_bytes());
    v.push(b'.');
    v.extend_from_slice(nonce.as_bytes());
    v.push(b'.');
    v.extend_from_slice(body);
    v
}

/// `hex(HMAC-SHA256(secret, TIMESTAMP.NONCE.BODY))`, as the setup script computes it.
pub fn sign(secret: &str, timestamp: &str, nonce: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(&signed_bytes(timestamp, nonce, body));
    hex::encode(mac.finalize().into_bytes())
}

/// Test and tooling access to a server's callback secret (the setup script gets it rendered).
pub async fn callback_secret(pool: &Pool, secrets: &SecretBox, id: ServerId) -> AppResult<String> {
    open_secret(pool, secrets, id).await
}

/// How to reach a server: its address, the decrypted private key of its SSH key, and (once
/// contacted) its pinned host key. Errors are sentences for a job log or the page.
pub struct Reach {
    pub target: Target,
    pub key_id: SshKeyId,
    pub private_key: zeroize::Zeroizing<String>,
    pub host_key: Option<crate::ssh::client::HostKey>,
}

pub async fn reach(pool: &Pool, secrets: &SecretBox, server: &Server) -> Result<Reach, String> {
    let key_id = server.ssh_key_id.ok_or("the server has no SSH key")?;
    let private_key = crate::keys::private_key(pool, secrets, key_id)
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
        host_key: server
            .host_key
            .as_deref()
            .and_then(crate::ssh::client::HostKey::parse),
    })
}

impl Reach {
    /// The pinned host key, required for everything after first contact.
    pub fn pinned(&self) -> Result<&crate::ssh::client::HostKey, String> {
        self.host_key
            .as_ref()
            .ok_or_else(|| "the server has not been contacted yet".to_owned())
    }
}

/// Log in to an active server for a job (as a recorded step), with its pinned host key.
pub async fn open_session(
    ctx: &crate::jobs::JobContext,
    pool: &Pool,
    secrets: &SecretBox,
    server: &Server,
) -> Result<Session, JobFailure> {
    let r = reach(pool, secrets, server)
        .await
        .map_err(JobFailure::new)?;
    let host_key = r.pinned().map_err(JobFailure::new)?.clone();
    ctx.step("Connect to the server", async {
        Ok(Session::connect(
            &r.target,
            &r.private_key,
            &host_key,
            Duration::from_secs(20),
        )
        .await?)
    })
    .await
}

/// First contact as a job: read and pin the host key, log in with the panel's key, read the
/// node's facts, mark the server active (or `error` with the reason).
pub async fn onboard(
    jobs: &Jobs,
    pool: &Pool,
    secrets: &SecretBox,
    server: &Server,
    actor: Option<UserId>,
) -> sqlx::Result<crate::ids::JobId> {
    let pool = pool.clone();
    let secrets = secrets.clone();
    let server = server.clone();
    let queue = jobs.clone();
    let spec = JobSpec {
        server_id: Some(server.id),
        actor_id: actor,
        kind: "server.onboard",
        args: serde_json::json!({ "server_id": server.id }),
        title: format!("Connect to {}", server.name),
        lane: None,
    };
    jobs.submit(spec, move |ctx| async move {
        let result = first_contact(&ctx, &pool, &secrets, &server).await;
        let (status, reason) = match &result {
            Ok(()) => (ServerStatus::Active, None),
            Err(f) => (ServerStatus::Error, Some(f.message.as_str())),
        };
        log_outcome(
            &pool,
            server.id,
            &ctx,
            &result,
            "server is active",
            "first contact failed",
        )
        .await?;

        // The log row first: whoever sees the new status finds its reason logged.
        db::servers::set_status(&pool, server.id, status, reason).await?;
        if result.is_ok() {
            install_selinux_module(&queue, &pool, &secrets, server.id, actor).await;
        }
        result
    })
    .await
}

/// An EL server with SELinux on gets the panel's policy module right after onboarding, which
/// also starts its observation window before enforcing is offered.
async fn install_selinux_module(
    jobs: &Jobs,
    pool: &Pool,
    secrets: &SecretBox,
    id: ServerId,
    actor: Option<UserId>,
) {
    let Ok(Some(server)) = db::servers::get(pool, id).await else {
        return;
    };
    let selinux_on = matches!(
        server.selinux_mode,
        Some(SelinuxMode::Permissive | SelinuxMode::Enforcing)
    );
    if !crate::provision::Profile::new(server.os_version).is_el() || !selinux_on {
        return;
    }
    use crate::selinux::jobs::{Task, queue};
    if let Err(e) = queue(jobs, pool, secrets, &server, Task::InstallModule, actor).await {
        tracing::warn!(server = %server.id, error = %e, "queueing the SELinux module install failed");
    }
}

/// Record how a server job ended in the server's log (with the job and the reason), so the
/// server page tells the story even without opening the job.
pub(crate) async fn log_outcome(
    pool: &Pool,
    server: ServerId,
    ctx: &crate::jobs::JobContext,
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
        pool,
        server,
        level,
        message,
        &serde_json::json!({ "job": ctx.id(), "reason": reason }),
    )
    .await
}

async fn first_contact(
    ctx: &crate::jobs::JobContext,
    pool: &Pool,
    secrets: &SecretBox,
    server: &Server,
) -> Result<(), JobFailure> {
    const T: Duration = Duration::from_secs(20);
    let Reach {
        target,
        private_key: private,
        host_key: pinned,
        ..
    } = reach(pool, secrets, server)
        .await
        .map_err(JobFailure::new)?;
    // Pin on first contact; later connections must present the same key.
    let host_key = ctx
        .step("Read and pin the host key", async {
            match pinned {
                Some(k) => {
                    ctx.log(
                        "panel",
                        &format!("Host key already pinned: {}", k.fingerprint()),
                    );
                    Ok(k)
                }
                None => {
                    let k = probe_host_key(&target, T).await?;
                    ctx.log("panel", &format!("Pinned host key {}", k.fingerprint()));
                    Ok(k)
                }
            }
        })
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
        crate::domain::ServiceDriver::Systemd
    } else {
        crate::domain::ServiceDriver::Direct
    };
    ctx.log("panel", &format!("Service control: {driver}"));
    db::servers::record_contact(pool, server.id, &host_key.to_openssh(), selinux, driver).await?;
    // The PHP versions chosen at creation: installed if the node has their FPM binary.
    let present: Vec<&str> = facts
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("php="))
        .collect();
    let wanted: Vec<(crate::ids::SoftwareInstallationId, String)> = sqlx::query_as(
        "SELECT id, version FROM software_installations WHERE server_id = ? AND software = 'php'",
    )
    .bind(server.id)
    .fetch_all(pool)
    .await?;
    for (row, version) in wanted {
        let (status, reason) = if present.contains(&version.as_str()) {
            ("installed", None)
        } else {
            (
                "failed",
                Some("not installed by the setup script (no network, or no package for this OS)"),
            )
        };
        sqlx::query("UPDATE software_installations SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?")
            .bind(status)
            .bind(reason)
            .bind(db::now())
            .bind(row)
            .execute(pool)
            .await?;
        ctx.log("panel", &format!("PHP {version}: {status}"));
    }
    session.disconnect().await;
    ctx.log("panel", "The server is active.");
    Ok(())
}

/// Health numbers read from a node (`setup/health.sh`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Health {
    pub uptime_seconds: u64,
    pub load: [f64; 3],
    pub cpus: u32,
    pub mem_total_kb: u64,
    pub mem_available_kb: u64,
    pub disk_total_kb: u64,
    pub disk_used_kb: u64,
    pub selinux: Option<SelinuxMode>,
}

impl Health {
    /// Parse the script's `key=value` lines; unknown keys and junk are ignored (node output is
    /// untrusted), missing numbers stay 0.
    pub fn parse(text: &str) -> Health {
        let mut h = Health::default();
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = v.trim();
            match k {
                "uptime_seconds" => h.uptime_seconds = v.parse().unwrap_or(0),
                "load" => {
                    for (slot, n) in h.load.iter_mut().zip(v.split_whitespace()) {
                        *slot = n.parse().unwrap_or(0.0);
                    }
                }
                "cpus" => h.cpus = v.parse().unwrap_or(0),
                "mem_total_kb" => h.mem_total_kb = v.parse().unwrap_or(0),
                "mem_available_kb" => h.mem_available_kb = v.parse().unwrap_or(0),
                "disk_total_kb" => h.disk_total_kb = v.parse().unwrap_or(0),
                "disk_used_kb" => h.disk_used_kb = v.parse().unwrap_or(0),
                "selinux" => h.selinux = v.parse().ok(),
                _ => {}
            }
        }
        h
    }

    pub fn mem_used_percent(&self) -> u64 {
        percent(
            self.mem_total_kb.saturating_sub(self.mem_available_kb),
            self.mem_total_kb,
        )
    }

    pub fn disk_used_percent(&self) -> u64 {
        percent(self.disk_used_kb, self.disk_total_kb)
    }
}

fn percent(part: u64, whole: u64) -> u64 {
    (part * 100).checked_div(whole).unwrap_or(0)
}

const HEALTH_SCRIPT: &str = include_str!("../setup/health.sh");

/// Read a server's health now (a read, not a change: not recorded as a job), over the server's
/// cached connection.
pub async fn health(
    pool: &Pool,
    secrets: &SecretBox,
    sessions: &crate::ssh::pool::SessionPool,
    server: &Server,
) -> AppResult<Health> {
    read_script(
        pool,
        secrets,
        sessions,
        server,
        &Script::new("health", HEALTH_SCRIPT),
    )
    .await
    .map(|out| Health::parse(&out))
}

/// Run a read-only script on the server over the pooled connection (pages poll these) and
/// return its stdout; it comes from the node, so callers parse it into known values.
pub async fn read_script(
    pool: &Pool,
    secrets: &SecretBox,
    sessions: &crate::ssh::pool::SessionPool,
    server: &Server,
    script: &Script,
) -> AppResult<String> {
    read_script_within(
        pool,
        secrets,
        sessions,
        server,
        script,
        Duration::from_secs(10),
    )
    .await
}

/// `read_script` for a script that may take up to `timeout` (a long poll of the audit log).
pub async fn read_script_within(
    pool: &Pool,
    secrets: &SecretBox,
    sessions: &crate::ssh::pool::SessionPool,
    server: &Server,
    script: &Script,
    timeout: Duration,
) -> AppResult<String> {
    const T: Duration = Duration::from_secs(10);
    let unavailable = |m: String| AppError::Conflict(m);
    let r = reach(pool, secrets, server).await.map_err(unavailable)?;
    let host_key = r.pinned().map_err(unavailable)?;
    let session = sessions
        .get(server.id, &r.target, r.key_id, &r.private_key, host_key, T)
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    match session.run_script(script, timeout, |_, _| {}).await {
        Ok(out) => Ok(out.stdout),
        Err(e) => {
            // A broken cached connection is not reused.
            sessions.forget(server.id);
            Err(unavailable(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_output_is_parsed_and_junk_ignored() {
        let h = Health::parse(
            "uptime_seconds=3600\nload=0.50 0.25 0.10\ncpus=2\nmem_total_kb=1000\nmem_available_kb=250\n\
             disk_total_kb=200\ndisk_used_kb=50\nselinux=enforcing\n<script>=1\ngarbage\nload=x y z\n",
        );
        assert_eq!(h.uptime_seconds, 3600);
        assert_eq!(
            h.load,
            [0.0, 0.0, 0.0],
            "the last (junk) load line wins, as zeros"
        );
        assert_eq!((h.mem_used_percent(), h.disk_used_percent()), (75, 25));
        assert_eq!(h.selinux, Some(SelinuxMode::Enforcing));
        assert_eq!(Health::parse("").disk_used_percent(), 0);
    }
}

const AUTHORIZED_KEYS_SCRIPT: &str = include_str!("../setup/authorized-keys.sh");

/// For tests: make the rotation authorize a key other than the one it then logs in with, as if
/// the node had refused the new key, to exercise the rollback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRotationFault {
    NewKeyRejected,
}

/// Rotate the SSH key of a server (as a job): generate a key, authorize it on the node, prove a
/// login with it, switch the server over, then remove the old key from the node. If the new key
/// cannot log in, everything is rolled back and the server keeps its old key: the panel is never
/// locked out.
pub async fn rotate_key(
    jobs: &Jobs,
    pool: &Pool,
    secrets: &SecretBox,
    server: &Server,
    actor: Option<UserId>,
    fault: Option<KeyRotationFault>,
) -> sqlx::Result<crate::ids::JobId> {
    let (pool, secrets, server) = (pool.clone(), secrets.clone(), server.clone());
    let spec = JobSpec {
        server_id: Some(server.id),
        actor_id: actor,
        kind: "server.rotate_key",
        args: serde_json::json!({ "server_id": server.id }),
        title: format!("Rotate the SSH key of {}", server.name),
        lane: None,
    };
    jobs.submit(spec, move |ctx| async move {
        let result = rotate(&ctx, &pool, &secrets, &server, actor, fault).await;
        let failed = "SSH key rotation failed; the old key is still in use";
        log_outcome(&pool, server.id, &ctx, &result, "SSH key rotated", failed).await?;
        result
    })
    .await
}

async fn rotate(
    ctx: &crate::jobs::JobContext,
    pool: &Pool,
    secrets: &SecretBox,
    server: &Server,
    actor: Option<UserId>,
    fault: Option<KeyRotationFault>,
) -> Result<(), JobFailure> {
    const T: Duration = Duration::from_secs(20);
    let current = reach(pool, secrets, server)
        .await
        .map_err(JobFailure::new)?;
    let host_key = current.pinned().map_err(JobFailure::new)?.clone();
    let (target, old_id, old_private) = (current.target, current.key_id, current.private_key);
    let old_public = db::ssh_keys::get(pool, old_id)
        .await?
        .ok_or_else(|| JobFailure::new("current key missing"))?;

    let name = format!(
        "{} (rotated {})",
        server.name,
        chrono::Utc::now().format("%Y-%m-%d %H:%M")
    );
    let new_key =
        crate::keys::generate(pool, secrets, &name, crate::domain::KeyType::Ed25519, actor)
            .await
            .map_err(|e| JobFailure::new(e.public_message()))?;
    ctx.log(
        "panel",
        &format!("New key {} generated", new_key.fingerprint),
    );
    let new_private = crate::keys::private_key(pool, secrets, new_key.id)
        .await
        .map_err(|e| JobFailure::new(e.public_message()))?
        .ok_or_else(|| JobFailure::new("new key has no private half"))?;

    let session = Session::connect(&target, &old_private, &host_key, T).await?;
    let authorize = match fault {
        // A stand-in key: the node authorizes something, but not the key we then log in with.
        Some(KeyRotationFault::NewKeyRejected) => {
            crate::crypto::ssh::generate(crate::domain::KeyType::Ed25519, "decoy").public_openssh
        }
        None => new_key.public_key.clone(),
    };
    let add = Script::new("authorized-keys", AUTHORIZED_KEYS_SCRIPT)
        .arg("add")
        .arg(&authorize);
    ctx.run_script(&session, &add, T).await?;

    // Prove the new key works before anything depends on it.
    let (step, _) = db::jobs::start_step(pool, ctx.id(), "Log in with the new key").await?;
    let proof = async {
        let s = Session::connect(&target, &new_private, &host_key, T).await?;
        let out = s
            .run(&crate::ssh::Command::new("true"), T, |_, _| {})
            .await?;
        s.disconnect().await;
        Ok::<_, crate::ssh::client::SshError>(out.success())
    }
    .await;
    db::jobs::finish_step(
        pool,
        step,
        if matches!(proof, Ok(true)) {
            "done"
        } else {
            "failed"
        },
    )
    .await?;
    if !matches!(proof, Ok(true)) {
        let why = match proof {
            Err(e) => e.to_string(),
            Ok(_) => "the test command failed".into(),
        };
        ctx.log(
            "panel",
            &format!("The new key could not log in ({why}); rolling back"),
        );
        let undo = Script::new("authorized-keys", AUTHORIZED_KEYS_SCRIPT)
            .arg("remove")
            .arg(&authorize);
        if let Err(e) = ctx.run_script(&session, &undo, T).await {
            ctx.log(
                "panel",
                &format!("Could not remove the new key from the node: {}", e.message),
            );
        }
        let _ = crate::keys::delete(pool, new_key.id).await;
        session.disconnect().await;
        return Err(JobFailure::new(format!(
            "the new key could not log in ({why}); nothing was changed"
        )));
    }
    ctx.log("panel", "Logged in with the new key");

    sqlx::query("UPDATE servers SET ssh_key_id = ?, updated_at = ? WHERE id = ?")
        .bind(new_key.id)
        .bind(db::now())
        .bind(server.id)
        .execute(pool)
        .await?;
    ctx.log("panel", "The server now uses the new key");
    session.disconnect().await;

    // Remove the old key with the new one, so the old key's loss is proven harmless.
    let session = Session::connect(&target, &new_private, &host_key, T).await?;
    let remove = Script::new("authorized-keys", AUTHORIZED_KEYS_SCRIPT)
        .arg("remove")
        .arg(&old_public.public_key);
    if let Err(e) = ctx.run_script(&session, &remove, T).await {
        ctx.log(
            "panel",
            &format!("The old key is still authorized on the node: {}", e.message),
        );
    }
    session.disconnect().await;
    Ok(())
}

/// Run an interrupted or failed job again, rebuilt from its kind and arguments. Steps are
/// idempotent (checked before applied), so a retry resumes rather than repeats.
pub async fn retry_job(
    jobs: &Jobs,
    pool: &Pool,
    secrets: &SecretBox,
    job: &db::jobs::Job,
    actor: Option<UserId>,
) -> AppResult<crate::ids::JobId> {
    if !matches!(job.status.as_str(), "failed" | "interrupted") {
        return Err(AppError::Conflict(
            "Only a failed or interrupted job can be retried.".into(),
        ));
    }
    let args: serde_json::Value =
        serde_json::from_str(&job.args).map_err(|e| AppError::Internal(e.into()))?;
    let server_id: ServerId = args["server_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| AppError::Conflict("This job cannot be retried.".into()))?;
    let server = db::servers::get(pool, server_id)
        .await?
        .ok_or_else(|| AppError::Conflict("The job's server no longer exists.".into()))?;
    let id = match job.kind.as_str() {
        "server.onboard" => onboard(jobs, pool, secrets, &server, actor).await?,
        "server.rotate_key" => rotate_key(jobs, pool, secrets, &server, actor, None).await?,
        _ => {
            return Err(AppError::Conflict(
                "This kind of job cannot be retried.".into(),
            ));
        }
    };
    Ok(id)
}

/// Job kinds `retry_job` can run again.
pub fn is_retryable(kind: &str) -> bool {
    matches!(kind, "server.onboard" | "server.rotate_key")
}
