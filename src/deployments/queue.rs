//! Queueing: every trigger (the UI, the push webhook, `panel deploy`) inserts a `pending` row
//! that the dispatcher turns into a job. A deploy of the site's branch, or a rollback to a kept
//! release; refused with the reason when the site cannot be deployed now.

use super::settings;
use crate::db::deployments::NewDeployment;
use crate::db::sites::Site;
use crate::db::{self};
use crate::domain::{
    DeploymentAction, DeploymentStatus, DeploymentTrigger, GitBranch, ReleaseState, SiteStatus,
};
use crate::error::{AppError, AppResult};
use crate::ids::{DeploymentId, SiteId, UserId};
use crate::state::AppState;

/// Why a site cannot be deployed now, if it cannot.
pub(super) fn deployable(site: &Site) -> AppResult<()> {
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
    state: &AppState,
    site_id: SiteId,
    trigger: Trigger,
    branch: Option<GitBranch>,
) -> AppResult<DeploymentId> {
    let pool = &state.db;
    let (site, repo) = settings::connected(pool, site_id).await?;
    deployable(&site)?;
    // Nothing is fetched from a git host whose key nobody confirmed.
    super::git_host::fetchable(&repo)
        .map_err(|m| AppError::Conflict(format!("Not deployed: {m}.")))?;
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
    // Wake this process's dispatcher (the CLI's queueing is found by its poll).
    state.deploys.notify_one();
    Ok(id)
}

/// Queue a switch back to the release of `target` (a successful deploy whose release is kept).
pub async fn queue_rollback(
    state: &AppState,
    target: DeploymentId,
    actor: Option<UserId>,
) -> AppResult<DeploymentId> {
    let pool = &state.db;
    let t = db::deployments::get(pool, target)
        .await?
        .ok_or(AppError::NotFound)?;
    let (site, repo) = settings::connected(pool, t.site_id).await?;
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
    // Wake this process's dispatcher (the CLI's queueing is found by its poll).
    state.deploys.notify_one();
    Ok(id)
}
