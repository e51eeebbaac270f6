//! The job of one deployment on the site's server: deploy (fetch, link, build, label, switch,
//! reload, prune — switching back if the new release stops the site answering) or roll back to a
//! kept release; then its outcome recorded in the deployment's row and the server's log.

use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use super::{git_host, queue, settings};
use crate::db::deployments::{Deployment, Outcome};
use crate::db::sites::Site;
use crate::db::{self};
use crate::domain::known_hosts;
use crate::domain::{
    DeployScript, DeploymentAction, DeploymentStatus, GitBranch, KeepReleases, LogLevel,
    ReleaseState, RepoUrl, Transport,
};
use crate::ids::DeploymentId;
use crate::jobs::{JobContext, JobFailure};
use crate::provision::deploy::{self as plans, DeploySpec};
use crate::provision::run::{Captured, Runner};
use crate::provision::{Driver, Profile};
use crate::state::AppState;

/// Output kept per stream in a deployment's row (the job log keeps every line).
pub const MAX_OUTPUT: usize = 256 * 1024;

/// The job of one deployment: run it, then record how it went in its row and the server log.
pub(super) async fn run(
    ctx: JobContext,
    state: AppState,
    id: DeploymentId,
) -> Result<(), JobFailure> {
    let pool = &state.db;
    let d = db::deployments::get(pool, id)
        .await?
        .ok_or_else(|| JobFailure::new("the deployment no longer exists"))?;
    db::deployments::mark_running(pool, id).await?;
    let capture = Captured::new(MAX_OUTPUT);
    let result = match d.action {
        DeploymentAction::Deploy => deploy(&ctx, &state, &d, capture.clone()).await,
        DeploymentAction::Rollback => rollback(&ctx, &state, &d, capture.clone())
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
        pool,
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
    if let Some(site) = db::sites::get(pool, d.site_id).await? {
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
        settings::log(pool, &site, level, &message, None).await?;
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

async fn target(state: &AppState, d: &Deployment) -> Result<Target, JobFailure> {
    let pool = &state.db;
    let site = db::sites::get(pool, d.site_id)
        .await?
        .ok_or_else(|| JobFailure::new("the site no longer exists"))?;
    queue::deployable(&site).map_err(|e| JobFailure::new(e.public_message()))?;
    let server = db::servers::get(pool, site.server_id)
        .await?
        .ok_or_else(|| JobFailure::new("the site's server no longer exists"))?;
    let repo = db::deployments::repository(pool, site.id)
        .await?
        .ok_or_else(|| JobFailure::new("the site has no repository"))?;
    let (spec, _) = crate::sites::spec_of(&site, &state.secrets).map_err(JobFailure::new)?;
    Ok(Target {
        profile: crate::nodes::profile(&server),
        driver: crate::nodes::driver(&server),
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
    state: &AppState,
    d: &Deployment,
    capture: Arc<Mutex<Captured>>,
) -> Result<ReleaseState, JobFailure> {
    let pool = &state.db;
    let t = target(state, d).await?;
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
            let plain = state
                .secrets
                .open(&t.repo.deploy_key_encrypted, settings::key_context(&id))
                .map_err(|_| JobFailure::new("the deploy key cannot be decrypted"))?;
            Some(Zeroizing::new(String::from_utf8(plain.to_vec()).map_err(
                |_| JobFailure::new("the deploy key is not text"),
            )?))
        }
        Transport::Https => None,
    };
    // Only the git host's confirmed keys are trusted, checked strictly by ssh.
    git_host::fetchable(&t.repo).map_err(JobFailure::new)?;
    let known_hosts = match url.transport() {
        Transport::Ssh => Some(known_hosts::to_text(&git_host::confirmed(&t.repo))),
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
            known_hosts: known_hosts.as_deref(),
            script: &script,
            keep,
        },
    );
    let previous = t.repo.current_release.clone();
    let session = crate::nodes::open_session(state, ctx, &t.server).await?;
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
    if report.completed == plan.fetch && result.is_err() && host_key_refused(&capture) {
        result = Err(JobFailure::new(
            "the git host presented an SSH key other than the one confirmed for this site, so \
             nothing was fetched; if its key really changed, fetch and confirm it again on the \
             Deployments tab",
        ));
    }
    if report.completed > plan.fetch {
        let (commit, subject) =
            plans::fetched(report.stdout.get(plan.fetch).map_or("", String::as_str));
        if let Some(c) = &commit {
            db::deployments::set_commit(pool, d.id, c, subject.as_deref()).await?;
            ctx.note(&format!("Fetched commit {c}"));
        }
    }
    let went_live = report.completed > plan.switch;
    let mut state = ReleaseState::Kept;
    let mut unused = None;
    match &result {
        Ok(()) => {
            db::deployments::set_current_release(pool, t.site.id, &release.to_string()).await?;
            let pruned = plans::pruned(report.stdout.get(plan.prune).map_or("", String::as_str));
            if !pruned.is_empty() {
                db::deployments::mark_pruned(pool, t.site.id, &pruned).await?;
                ctx.note(&format!("Removed old releases: {}", pruned.join(", ")));
            }
        }
        Err(f) if went_live => {
            db::deployments::set_current_release(pool, t.site.id, &release.to_string()).await?;
            match previous
                .as_deref()
                .and_then(|p| p.parse::<DeploymentId>().ok())
            {
                Some(before) => {
                    ctx.note(&format!("The new release is live but failed ({}); switching back to release {before}", f.message),
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
                            ctx.note(&format!("Switching back failed too: {}", e.message));
                        }
                    }
                }
                None => ctx.note(
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
        ctx.note(&format!("Cleaning up failed: {}", e.message));
    }
    result.map(|()| state)
}

/// Whether ssh refused the git host's key (what OpenSSH prints when the key is not the known one).
fn host_key_refused(capture: &Arc<Mutex<Captured>>) -> bool {
    let c = capture.lock().unwrap_or_else(|e| e.into_inner());
    let err = c.stderr.finish();
    err.contains("Host key verification failed")
        || err.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
}

/// Rollback: switch to a kept release and reload.
async fn rollback(
    ctx: &JobContext,
    state: &AppState,
    d: &Deployment,
    capture: Arc<Mutex<Captured>>,
) -> Result<(), JobFailure> {
    let pool = &state.db;
    let t = target(state, d).await?;
    let release = release_of(d)?;
    let plan = plans::rollback(t.profile, t.driver, &t.spec, release);
    let session = crate::nodes::open_session(state, ctx, &t.server).await?;
    let (report, result) = Runner::new(ctx, &session)
        .capturing(capture)
        .run_partial(&plan)
        .await;
    // Past the switch step the release is live, even if the reload's check then failed.
    if report.completed > 1 {
        db::deployments::set_current_release(pool, t.site.id, &release.to_string()).await?;
    }
    result
}
