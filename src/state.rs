//! What the actions and the background tasks share: the database, the configuration, the secret
//! box, the job runner, the SSH connection pool and the live channels. Every action takes it as
//! `&AppState` first; the web layer hands its copy to handlers as request data, the CLI opens one
//! of its own (`AppState::open`), and `app::start` builds the one the server runs with.

use std::sync::Arc;

use tokio::sync::{Notify, broadcast, watch};

use crate::auth::ratelimit::RateLimiter;
use crate::config::Config;
use crate::crypto::SecretBox;
use crate::db::{self, Pool};
use crate::error::{AppError, AppResult};
use crate::jobs::Jobs;
use crate::selinux::live::LiveRecord;
use crate::ssh::pool::SessionPool;

/// Remote jobs at once, in all and per server (one at a time keeps a node's package manager and
/// config files free of races).
const JOBS_GLOBAL: usize = 8;
const JOBS_PER_SERVER: usize = 1;

#[derive(Clone)]
pub struct AppState {
    pub db: Pool,
    pub config: Arc<Config>,
    /// Seals and opens every secret stored in the database.
    pub secrets: Arc<SecretBox>,
    /// The WebAuthn relying party (from PANEL_URL); `None` when the URL cannot be one (an IP
    /// address), in which case login explains what to change.
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// Login and enrolment attempt limits.
    pub limiter: Arc<RateLimiter>,
    /// The durable job runner (remote operations).
    pub jobs: Jobs,
    /// Reused SSH connections per server.
    pub ssh: Arc<SessionPool>,
    /// SELinux audit records as the collector stores them (live toasts and alerts).
    pub audit: broadcast::Sender<LiveRecord>,
    /// Wakes the deployment dispatcher (a deployment was queued in this process).
    pub deploys: Arc<Notify>,
    /// ACME HTTP-01 answers for the panel's own certificate (token → key authorization),
    /// served by the plain-HTTP listener while an order is checked.
    pub acme_challenges: Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
    /// Turns true when the panel starts shutting down: endless streams end, so the graceful
    /// shutdown does not wait out its grace period on open pages.
    pub stopping: watch::Receiver<bool>,
}

impl AppState {
    /// The state over an open database and secret box; the sender ends the live streams.
    pub fn new(config: Config, pool: Pool, secrets: SecretBox) -> (AppState, watch::Sender<bool>) {
        let (stop, stopping) = watch::channel(false);
        let state = AppState {
            webauthn: crate::auth::webauthn(&config).ok().map(Arc::new),
            secrets: Arc::new(secrets),
            limiter: Arc::default(),
            jobs: Jobs::with_log_limit(
                pool.clone(),
                JOBS_GLOBAL,
                JOBS_PER_SERVER,
                config.retention.job_log_lines,
            ),
            ssh: Arc::default(),
            audit: broadcast::channel(1024).0,
            deploys: Arc::default(),
            acme_challenges: Arc::default(),
            stopping,
            db: pool,
            config: Arc::new(config),
        };
        (state, stop)
    }

    /// Open the data directory's database (migrated) and master key, for a command of the CLI.
    pub async fn open(config: &Config) -> anyhow::Result<AppState> {
        let pool = db::open(&config.data_dir).await?;
        let secrets = crate::secrets::open_box(&pool, &config.data_dir, config.env_key()).await?;
        Ok(AppState::new(config.clone(), pool, secrets).0)
    }

    /// The relying party, or a clear refusal when PANEL_URL cannot host passkeys.
    pub fn webauthn(&self) -> AppResult<&webauthn_rs::Webauthn> {
        self.webauthn
            .as_deref()
            .ok_or_else(|| AppError::Conflict(crate::auth::NO_PASSKEYS_HINT.to_owned()))
    }

    /// Close the database (checkpointing the WAL).
    pub async fn close(&self) {
        db::close(&self.db).await;
    }
}
