//! Deployments: a site's repository settings (with its own deploy key and webhook secret), the
//! queue every trigger feeds (the UI, the push webhook, `panel deploy` on the panel host), the
//! dispatcher that gives each queued deployment a job (one at a time per site, in order), and
//! the job that deploys a commit or rolls back to a kept release on the site's server.
//!
//! A deployment is a row first (`pending`), so the CLI — another process — queues the same way
//! the UI does: the running panel picks rows up within a second, or at once when kicked.

pub mod webhook;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::crypto::{SecretBox, SecretContext, random};
use crate::db::deployments::{Deployment, NewDeployment, Outcome, Settings};
use crate::db::sites::Site;
use crate::db::{self, Pool};
use crate::domain::{
    AppType, DeployScript, DeploymentAction, DeploymentStatus, DeploymentTrigger, GitBranch,
    KeepReleases, KeyType, LogLevel, ReleaseState, RepoUrl, ServiceDriver, SiteStatus, Transport,
};
use crate::error::{AppError, AppResult, FieldError, FieldErrors};
use crate::ids::{DeploymentId, JobId, SiteId, UserId};
use crate::jobs::{JobContext, JobFailure, JobSpec, Jobs};
use crate::provision::deploy::{self as plans, DeploySpec};
use crate::provision::run::{Captured, Runner};
use crate::provision::{Driver, Profile};

/// Output kept per stream in a deployment's row (the job log keeps every line).
pub const MAX_OUTPUT: usize = 256 * 1024;
/// How often the dispatcher looks for deployments queued by another process (the CLI).
const POLL: Duration = Duration::from_secs(1);

const SCRIPT_HEADER: &str = "\
# Runs as the site user in the new release ($RELEASE_DIR) before it goes live. A command that
# fails stops the deploy and the live release keeps serving. Available: $BRANCH, $COMMIT,
# $COMMIT_MESSAGE, $RELEASE_DIR, $SITE_DOMAIN, $SITE_USER, $SITE_HOME, $APP_TYPE, $DEPLOYMENT_ID
# and $PHP (this site's PHP binary). .env and storage/ are already linked in.
";

/// The deploy script a new repository starts with, by application type.
pub fn default_script(app: AppType) -> String {
    let body = match app {
        AppType::Laravel => {
            "composer=$(command -v composer) || { echo 'Composer is not installed on this server' >&2; exit 1; }
\"$PHP\" \"$composer\" install --no-dev --no-interaction --prefer-dist --optimize-autoloader
\"$PHP\" artisan migrate --force
\"$PHP\" artisan config:cache
\"$PHP\" artisan route:cache
\"$PHP\" artisan view:cache
"
        }
        AppType::WordPress | AppType::Php => "",
    };
    format!("{SCRIPT_HEADER}{body}")
}

/// The repository form as submitted.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RepositoryForm {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub branch: String,
    #[serde(default)]
    pub keep_releases: String,
    #[serde(default)]
    pub deploy_script: String,
}

/// The form, every field parsed.
#[derive(Clone, Debug)]
pub struct RepositoryInput {
    pub url: RepoUrl,
    pub branch: GitBranch,
    pub keep: KeepReleases,
    pub script: DeployScript,
}

/// Parse every field; all errors at once, each naming its field.
pub fn parse_form(form: &RepositoryForm) -> Result<RepositoryInput, FieldErrors> {
    let mut errors = Vec::new();
    let url = RepoUrl::parse(&form.url)
        .map_err(|m| errors.push(FieldError::new("url", m)))
        .ok();
    let branch = GitBranch::parse(&form.branch)
        .map_err(|m| errors.push(FieldError::new("branch", m)))
        .ok();
    let keep = if form.keep_releases.trim().is_empty() {
        Some(KeepReleases::DEFAULT)
    } else {
        KeepReleases::parse(&form.keep_releases)
            .map_err(|m| errors.push(FieldError::new("keep_releases", m)))
            .ok()
    };
    let script = DeployScript::parse(&form.deploy_script)
        .map_err(|m| errors.push(FieldError::new("deploy_script", m)))
        .ok();
    match (url, branch, keep, script) {
        (Some(url), Some(branch), Some(keep), Some(script)) => Ok(RepositoryInput {
            url,
            branch,
            keep,
            script,
        }),
        _ => Err(errors),
    }
}

fn key_context(site: &str) -> SecretContext<'_> {
    SecretContext::new("site_repositories", "deploy_key_encrypted", site)
}

fn secret_context(site: &str) -> SecretContext<'_> {
    SecretContext::new("site_repositories", "webhook_secret_encrypted", site)
}

async fn load_site(pool: &Pool, id: SiteId) -> AppResult<Site> {
    db::sites::get(pool, id).await?.ok_or(AppError::NotFound)
}

/// A new ED25519 deploy key for a site: (public line, fingerprint, sealed private half).
fn new_deploy_key(secrets: &SecretBox, site: &Site) -> (String, String, Vec<u8>) {
    let key =
        crate::crypto::ssh::generate(KeyType::Ed25519, &format!("panel-deploy@{}", site.domain));
    let private = key
        .private_openssh
        .expect("a generated key has its private half");
    let id = site.id.to_string();
    let sealed = secrets.seal(private.as_bytes(), key_context(&id));
    (key.public_openssh, key.fingerprint, sealed)
}

fn new_webhook_secret(secrets: &SecretBox, site: SiteId) -> Vec<u8> {
    let id = site.to_string();
    secrets.seal(random::token().as_bytes(), secret_context(&id))
}

async fn log(
    pool: &Pool,
    site: &Site,
    level: LogLevel,
    message: &str,
    actor: Option<UserId>,
) -> sqlx::Result<()> {
    db::servers::log(
        pool,
        site.server_id,
        level,
        &format!("{}: {message}", site.domain),
        &serde_json::json!({ "site_id": site.id, "user_id": actor }),
    )
    .await
}

/// Save a site's repository settings. The first save makes its deploy key and webhook secret.
pub async fn save(
    pool: &Pool,
    secrets: &SecretBox,
    site_id: SiteId,
    form: &RepositoryForm,
    actor: Option<UserId>,
) -> AppResult<()> {
    let site = load_site(pool, site_id).await?;
    let input = parse_form(form).map_err(AppError::Invalid)?;
    let settings = Settings {
        url: input.url.as_str(),
        branch: input.branch.as_str(),
        deploy_script: input.script.as_str(),
        keep_releases: i64::from(input.keep.get()),
    };
    if db::deployments::repository(pool, site.id).await?.is_some() {
        db::deployments::update_settings(pool, site.id, &settings).await?;
    } else {
        let (public, fingerprint, sealed) = new_deploy_key(secrets, &site);
        let key = db::deployments::DeployKey {
            public: &public,
            fingerprint: &fingerprint,
            sealed: &sealed,
        };
        let secret = new_webhook_secret(secrets, site.id);
        db::deployments::create_repository(pool, site.id, &settings, &key, &secret).await?;
    }
    log(
        pool,
        &site,
        LogLevel::Info,
        &format!("deploys {} from {}", input.branch, input.url),
        actor,
    )
    .await?;
    Ok(())
}

/// A site and its repository, or why there is nothing to act on.
async fn connected(pool: &Pool, id: SiteId) -> AppResult<(Site, db::deployments::Repository)> {
    let site = load_site(pool, id).await?;
    let repo = db::deployments::repository(pool, site.id)
        .await?
        .ok_or_else(|| AppError::Conflict("Connect a repository to this site first.".into()))?;
    Ok((site, repo))
}

/// A new deploy key (the old one stops working once removed from the git host).
pub async fn regenerate_key(
    pool: &Pool,
    secrets: &SecretBox,
    site_id: SiteId,
    actor: Option<UserId>,
) -> AppResult<()> {
    let (site, _) = connected(pool, site_id).await?;
    let (public, fingerprint, sealed) = new_deploy_key(secrets, &site);
    db::deployments::set_deploy_key(
        pool,
        site.id,
        &db::deployments::DeployKey {
            public: &public,
            fingerprint: &fingerprint,
            sealed: &sealed,
        },
    )
    .await?;
    log(
        pool,
        &site,
        LogLevel::Warning,
        &format!("new deploy key {fingerprint}"),
        actor,
    )
    .await?;
    Ok(())
}

/// A new webhook secret: the git host's hook must be given it before pushes deploy again.
pub async fn rotate_webhook_secret(
    pool: &Pool,
    secrets: &SecretBox,
    site_id: SiteId,
    actor: Option<UserId>,
) -> AppResult<()> {
    let (site, _) = connected(pool, site_id).await?;
    db::deployments::set_webhook_secret(pool, site.id, &new_webhook_secret(secrets, site.id))
        .await?;
    log(
        pool,
        &site,
        LogLevel::Warning,
        "webhook secret rotated",
        actor,
    )
    .await?;
    Ok(())
}

/// The site's webhook secret in clear, for the webhook check.
pub fn webhook_secret(
    secrets: &SecretBox,
    repo: &db::deployments::Repository,
) -> Result<Zeroizing<String>, AppError> {
    let id = repo.site_id.to_string();
    let plain = secrets
        .open(&repo.webhook_secret_encrypted, secret_context(&id))
        .map_err(|e| AppError::Internal(e.into()))?;
    String::from_utf8(plain.to_vec())
        .map(Zeroizing::new)
        .map_err(|e| AppError::Internal(e.into()))
}

/// Show the webhook secret to a logged-in user (to paste into the git host); audited.
pub async fn reveal_webhook_secret(
    pool: &Pool,
    secrets: &SecretBox,
    site_id: SiteId,
    actor: Option<UserId>,
) -> AppResult<Zeroizing<String>> {
    let (site, repo) = connected(pool, site_id).await?;
    let secret = webhook_secret(secrets, &repo)?;
    log(
        pool,
        &site,
        LogLevel::Warning,
        "webhook secret revealed",
        actor,
    )
    .await?;
    Ok(secret)
}

/// Why a site cannot be deployed now, if it cannot.
fn deployable(site: &Site) -> AppResult<()> {
    match site.status {
        SiteStatus::Active => Ok(()),
        SiteStatus::Suspended => Err(AppError::Conflict(
            "The site is suspended; resume it before deploying.".into(),
        )),
        other => Err(AppError::Conflict(format!(
            "The site is {other}; it can be deployed once it is active."
        ))),
    }
}

/// What started a deployment.
#[derive(Clone, Debug)]
pub struct Trigger {
    pub by: DeploymentTrigger,
    pub actor: Option<UserId>,
    /// Untrusted words of the trigger (webhook delivery and pusher, CLI user); bounded here.
    pub detail: Option<String>,
}

/// Queue a deploy of the site's branch (or `branch`). The dispatcher runs it.
pub async fn queue_deploy(
    pool: &Pool,
    site_id: SiteId,
    trigger: Trigger,
    branch: Option<GitBranch>,
) -> AppResult<DeploymentId> {
    let (site, repo) = connected(pool, site_id).await?;
    deployable(&site)?;
    let branch = match branch {
        Some(b) => b,
        None => GitBranch::parse(&repo.branch)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("stored branch: {e}")))?,
    };
    let id = DeploymentId::generate();
    let release = id.to_string();
    let detail = trigger
        .detail
        .as_deref()
        .map(|d| crate::domain::untrusted_text(d, 500));
    db::deployments::insert(
        pool,
        &NewDeployment {
            id,
            site_id: site.id,
            actor_id: trigger.actor,
            triggered_by: trigger.by,
            trigger_detail: detail.as_deref(),
            action: DeploymentAction::Deploy,
            branch: branch.as_str(),
            release: &release,
            commit_hash: None,
            commit_message: None,
        },
    )
    .await?;
    Ok(id)
}

/// Queue a switch back to the release of `target` (a successful deploy whose release is kept).
pub async fn queue_rollback(
    pool: &Pool,
    target: DeploymentId,
    actor: Option<UserId>,
) -> AppResult<DeploymentId> {
    let t = db::deployments::get(pool, target)
        .await?
        .ok_or(AppError::NotFound)?;
    let (site, repo) = connected(pool, t.site_id).await?;
    deployable(&site)?;
    let release = t.release.clone().unwrap_or_default();
    if t.action != DeploymentAction::Deploy
        || t.status != DeploymentStatus::Success
        || t.release_state != ReleaseState::Kept
    {
        return Err(AppError::Conflict(
            "Only a successful deployment whose release is still kept can be rolled back to."
                .into(),
        ));
    }
    if repo.current_release.as_deref() == Some(release.as_str()) {
        return Err(AppError::Conflict("This release is already live.".into()));
    }
    let id = DeploymentId::generate();
    db::deployments::insert(
        pool,
        &NewDeployment {
            id,
            site_id: site.id,
            actor_id: actor,
            triggered_by: DeploymentTrigger::Ui,
            trigger_detail: Some(&format!("rollback to the deployment of {}", t.created_at)),
            action: DeploymentAction::Rollback,
            branch: &t.branch,
            release: &release,
            commit_hash: t.commit_hash.as_deref(),
            commit_message: t.commit_message.as_deref(),
        },
    )
    .await?;
    Ok(id)
}

/// What the dispatcher needs to start deployment jobs.
#[derive(Clone)]
pub struct Dispatcher {
    pub pool: Pool,
    pub secrets: Arc<SecretBox>,
    pub jobs: Jobs,
    pub kick: Arc<tokio::sync::Notify>,
}

impl Dispatcher {
    /// Give every queued deployment its job, oldest first. Only the dispatcher's own task
    /// calls this, so a deployment is never given two jobs.
    pub async fn dispatch(&self) -> sqlx::Result<usize> {
        let ids = db::deployments::undispatched(&self.pool).await?;
        for id in &ids {
            let Some(d) = db::deployments::get(&self.pool, *id).await? else {
                continue;
            };
            let Some(site) = db::sites::get(&self.pool, d.site_id).await? else {
                continue;
            };
            let job = self.submit(&d, &site).await?;
            db::deployments::set_job(&self.pool, *id, job).await?;
        }
        Ok(ids.len())
    }

    async fn submit(&self, d: &Deployment, site: &Site) -> sqlx::Result<JobId> {
        let title = match d.action {
            DeploymentAction::Deploy => format!("Deploy {} ({})", site.domain, d.branch),
            DeploymentAction::Rollback => format!(
                "Roll {} back to release {}",
                site.domain,
                d.release.as_deref().unwrap_or("?")
            ),
        };
        let spec = JobSpec {
            server_id: Some(site.server_id),
            actor_id: None,
            kind: "site.deploy",
            args: serde_json::json!({ "deployment_id": d.id, "site_id": site.id }),
            title,
            // One at a time per site, in order, behind any other job of the site.
            lane: Some(site.id.to_string()),
        };
        let (pool, secrets, id) = (self.pool.clone(), self.secrets.clone(), d.id);
        self.jobs
            .submit(
                spec,
                move |ctx| async move { run(ctx, pool, secrets, id).await },
            )
            .await
    }

    /// Run until `stopping`: dispatch when kicked, and every second for other processes' rows.
    pub fn spawn(
        self,
        mut stopping: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(e) = self.dispatch().await {
                    tracing::warn!("dispatching deployments failed: {e}");
                }
                tokio::select! {
                    _ = self.kick.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                    _ = stopping.changed() => return,
                }
                if self.pool.is_closed() {
                    return;
                }
            }
        })
    }
}

/// At start: deployments a crash left running failed; queued ones are dispatched again.
pub async fn recover(pool: &Pool) -> sqlx::Result<()> {
    let (failed, queued) = db::deployments::recover(pool).await?;
    if failed + queued > 0 {
        tracing::warn!(
            "after the restart: {failed} running deployment(s) marked failed, {queued} queued again"
        );
    }
    Ok(())
}

fn driver(server: &db::servers::Server) -> Driver {
    match server.service_driver {
        ServiceDriver::Systemd => Driver::Systemd,
        ServiceDriver::Direct => Driver::Direct,
    }
}

/// The job of one deployment: run it, then record how it went in its row and the server log.
async fn run(
    ctx: JobContext,
    pool: Pool,
    secrets: Arc<SecretBox>,
    id: DeploymentId,
) -> Result<(), JobFailure> {
    let d = db::deployments::get(&pool, id)
        .await?
        .ok_or_else(|| JobFailure::new("the deployment no longer exists"))?;
    db::deployments::mark_running(&pool, id).await?;
    let capture = Captured::new(MAX_OUTPUT);
    let result = match d.action {
        DeploymentAction::Deploy => deploy(&ctx, &pool, &secrets, &d, capture.clone()).await,
        DeploymentAction::Rollback => rollback(&ctx, &pool, &secrets, &d, capture.clone())
            .await
            .map(|()| ReleaseState::None),
    };
    let (stdout, stderr) = {
        let c = capture.lock().unwrap_or_else(|e| e.into_inner());
        (c.stdout.finish(), c.stderr.finish())
    };
    let (status, reason, state) = match &result {
        Ok(state) => (DeploymentStatus::Success, None, *state),
        Err(f) => (
            DeploymentStatus::Failed,
            Some(f.message.as_str()),
            ReleaseState::None,
        ),
    };
    db::deployments::finish(
        &pool,
        id,
        &Outcome {
            status,
            reason,
            stdout: &stdout,
            stderr: &stderr,
            release_state: state,
        },
    )
    .await?;
    if let Some(site) = db::sites::get(&pool, d.site_id).await? {
        let release = d.release.as_deref().unwrap_or("?");
        let (level, message) = match (d.action, &result) {
            (DeploymentAction::Deploy, Ok(_)) => (
                LogLevel::Info,
                format!("deployed {} as release {release}", d.branch),
            ),
            (DeploymentAction::Deploy, Err(f)) => (
                LogLevel::Error,
                format!("deploying {} failed: {}", d.branch, f.message),
            ),
            (DeploymentAction::Rollback, Ok(_)) => {
                (LogLevel::Info, format!("rolled back to release {release}"))
            }
            (DeploymentAction::Rollback, Err(f)) => (
                LogLevel::Error,
                format!("rolling back to release {release} failed: {}", f.message),
            ),
        };
        log(&pool, &site, level, &message, None).await?;
    }
    result.map(|_| ())
}

/// Everything a deploy or rollback job needs about its site, checked again when it starts
/// (the site may have been suspended while the deployment waited).
struct Target {
    site: Site,
    server: db::servers::Server,
    repo: db::deployments::Repository,
    spec: crate::provision::SiteSpec,
    profile: Profile,
    driver: Driver,
}

async fn target(pool: &Pool, secrets: &SecretBox, d: &Deployment) -> Result<Target, JobFailure> {
    let site = db::sites::get(pool, d.site_id)
        .await?
        .ok_or_else(|| JobFailure::new("the site no longer exists"))?;
    deployable(&site).map_err(|e| JobFailure::new(e.public_message()))?;
    let server = db::servers::get(pool, site.server_id)
        .await?
        .ok_or_else(|| JobFailure::new("the site's server no longer exists"))?;
    let repo = db::deployments::repository(pool, site.id)
        .await?
        .ok_or_else(|| JobFailure::new("the site has no repository"))?;
    let (spec, _) = crate::sites::spec_of(&site, secrets).map_err(JobFailure::new)?;
    Ok(Target {
        profile: Profile::new(server.os_version),
        driver: driver(&server),
        site,
        server,
        repo,
        spec,
    })
}

fn release_of(d: &Deployment) -> Result<DeploymentId, JobFailure> {
    d.release
        .as_deref()
        .and_then(|r| r.parse().ok())
        .ok_or_else(|| JobFailure::new("the deployment names no release"))
}

/// Deploy: fetch, link, build, label, switch, reload, prune. A failure before the switch
/// leaves the live release serving; one after it (the site does not answer) switches back to
/// the release that was live before. Returns what is left of the new release.
async fn deploy(
    ctx: &JobContext,
    pool: &Pool,
    secrets: &SecretBox,
    d: &Deployment,
    capture: Arc<Mutex<Captured>>,
) -> Result<ReleaseState, JobFailure> {
    let t = target(pool, secrets, d).await?;
    let release = release_of(d)?;
    let url = RepoUrl::parse(&t.repo.url)
        .map_err(|e| JobFailure::new(format!("stored repository: {e}")))?;
    let branch =
        GitBranch::parse(&d.branch).map_err(|e| JobFailure::new(format!("branch: {e}")))?;
    let script = DeployScript::parse(&t.repo.deploy_script)
        .map_err(|e| JobFailure::new(format!("stored deploy script: {e}")))?;
    let keep = KeepReleases::from_stored(t.repo.keep_releases);
    let key = match url.transport() {
        Transport::Ssh => {
            let id = t.site.id.to_string();
            let plain = secrets
                .open(&t.repo.deploy_key_encrypted, key_context(&id))
                .map_err(|_| JobFailure::new("the deploy key cannot be decrypted"))?;
            Some(Zeroizing::new(String::from_utf8(plain.to_vec()).map_err(
                |_| JobFailure::new("the deploy key is not text"),
            )?))
        }
        Transport::Https => None,
    };
    let plan = plans::deploy(
        t.profile,
        t.driver,
        &DeploySpec {
            site: &t.spec,
            release,
            url: &url,
            branch: &branch,
            deploy_key: key.as_deref().map(String::as_str),
            script: &script,
            keep,
        },
    );
    let previous = t.repo.current_release.clone();
    let session = crate::servers::open_session(ctx, pool, secrets, &t.server).await?;
    // A deploy script can read the key while it runs (it is the site user's); should it print
    // it, the log and the row show a mask instead.
    let redact: Vec<String> = key
        .as_deref()
        .map(|k| {
            k.lines()
                .filter(|l| l.len() >= 16 && !l.starts_with("-----"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let (report, mut result) = Runner::new(ctx, &session)
        .redacting(redact)
        .capturing(capture.clone())
        .run_partial(&plan.plan)
        .await;
    if report.completed > plan.fetch {
        let (commit, subject) = plans::fetched(&report.stdout[plan.fetch]);
        if let Some(c) = &commit {
            db::deployments::set_commit(pool, d.id, c, subject.as_deref()).await?;
            ctx.log("panel", &format!("Fetched commit {c}"));
        }
    }
    let went_live = report.completed > plan.switch;
    let mut state = ReleaseState::Kept;
    let mut unused = None;
    match &result {
        Ok(()) => {
            db::deployments::set_current_release(pool, t.site.id, &release.to_string()).await?;
            let pruned = plans::pruned(&report.stdout[plan.prune]);
            if !pruned.is_empty() {
                db::deployments::mark_pruned(pool, t.site.id, &pruned).await?;
                ctx.log(
                    "panel",
                    &format!("Removed old releases: {}", pruned.join(", ")),
                );
            }
        }
        Err(f) if went_live => {
            db::deployments::set_current_release(pool, t.site.id, &release.to_string()).await?;
            match previous
                .as_deref()
                .and_then(|p| p.parse::<DeploymentId>().ok())
            {
                Some(before) => {
                    ctx.log(
                        "panel",
                        &format!("The new release is live but failed ({}); switching back to release {before}", f.message),
                    );
                    let back = plans::rollback(t.profile, t.driver, &t.spec, before);
                    match Runner::new(ctx, &session)
                        .capturing(capture.clone())
                        .run(&back)
                        .await
                    {
                        Ok(_) => {
                            db::deployments::set_current_release(
                                pool,
                                t.site.id,
                                &before.to_string(),
                            )
                            .await?;
                            unused = Some(release);
                            state = ReleaseState::None;
                            result = Err(JobFailure::new(format!(
                                "{}; release {before} is serving again",
                                f.message
                            )));
                        }
                        Err(e) => {
                            ctx.log(
                                "panel",
                                &format!("Switching back failed too: {}", e.message),
                            );
                        }
                    }
                }
                None => ctx.log(
                    "panel",
                    "There is no earlier release to switch back to: the new release stays live.",
                ),
            }
        }
        Err(_) => {
            unused = Some(release);
            state = ReleaseState::None;
        }
    }
    // The key and script never stay on the server, whatever happened above.
    let cleanup = plans::cleanup(t.profile, t.driver, &t.spec, unused);
    if let Err(e) = Runner::new(ctx, &session).run(&cleanup).await {
        ctx.log("panel", &format!("Cleaning up failed: {}", e.message));
    }
    session.disconnect().await;
    result.map(|()| state)
}

/// Rollback: switch to a kept release and reload.
async fn rollback(
    ctx: &JobContext,
    pool: &Pool,
    secrets: &SecretBox,
    d: &Deployment,
    capture: Arc<Mutex<Captured>>,
) -> Result<(), JobFailure> {
    let t = target(pool, secrets, d).await?;
    let release = release_of(d)?;
    let plan = plans::rollback(t.profile, t.driver, &t.spec, release);
    let session = crate::servers::open_session(ctx, pool, secrets, &t.server).await?;
    let (report, result) = Runner::new(ctx, &session)
        .capturing(capture)
        .run_partial(&plan)
        .await;
    session.disconnect().await;
    // Past the switch step the release is live, even if the reload's check then failed.
    if report.completed > 1 {
        db::deployments::set_current_release(pool, t.site.id, &release.to_string()).await?;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_checked_field_by_field() {
        let errs = parse_form(&RepositoryForm {
            url: "ext::sh -c id".into(),
            branch: "--orphan".into(),
            keep_releases: "0".into(),
            deploy_script: "a\0b".into(),
        })
        .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["url", "branch", "keep_releases", "deploy_script"]);
        let ok = parse_form(&RepositoryForm {
            url: "git@github.com:o/r.git".into(),
            branch: "main".into(),
            keep_releases: String::new(),
            deploy_script: default_script(AppType::Laravel),
        })
        .unwrap();
        assert_eq!(ok.keep, KeepReleases::DEFAULT);
        assert!(!ok.script.is_empty());
        assert!(
            DeployScript::parse(&default_script(AppType::Php))
                .unwrap()
                .is_empty()
        );
    }
}
