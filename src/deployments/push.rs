//! A push webhook as an action: verified before its body is parsed, its delivery id used up
//! only by a genuine request, then a push to the site's branch queued and anything else
//! acknowledged and ignored. The HTTP face maps each outcome to its status.

use super::webhook::{self as hooks, Event, Headers, Refusal};
use super::{Trigger, queue_deploy};
use crate::db;
use crate::domain::{DeploymentTrigger, SiteStatus};
use crate::error::{AppError, AppResult};
use crate::ids::{DeploymentId, SiteId};
use crate::state::AppState;

/// How a webhook request ended.
#[derive(Debug)]
pub enum Outcome {
    /// No such site, or it has no repository.
    NotFound,
    /// Bad or missing signature, stale timestamp, no delivery id.
    Refused(Refusal),
    /// This delivery was received before.
    Replayed,
    /// A genuine request whose body is not an event the panel understands.
    Malformed(String),
    Pong,
    /// Another branch, a tag, a deletion, another event: nothing deployed.
    Ignored(String),
    /// The site cannot be deployed now (suspended, in error).
    SiteNotActive(SiteStatus),
    /// The site is active but cannot be deployed yet (its git host's key is not confirmed).
    NotReady(String),
    Queued(DeploymentId),
}

/// Handle one webhook request for `site`.
pub async fn receive(
    state: &AppState,
    site: SiteId,
    headers: &Headers<'_>,
    body: &[u8],
) -> AppResult<Outcome> {
    let (Some(row), Some(repo)) = (
        db::sites::get(&state.db, site).await?,
        db::deployments::repository(&state.db, site).await?,
    ) else {
        return Ok(Outcome::NotFound);
    };
    let secret = super::webhook_secret(&state.secrets, &repo)?;
    let verified = match hooks::verify(headers, body, &secret, chrono::Utc::now().timestamp()) {
        Ok(v) => v,
        Err(refusal) => return Ok(Outcome::Refused(refusal)),
    };
    // Only a genuine request may use up a delivery id, so nobody can block a future one.
    if !db::deployments::use_delivery(&state.db, site, &verified.delivery).await? {
        return Ok(Outcome::Replayed);
    }
    let (branch, pusher, subject) = match hooks::event(verified.provider, headers, body) {
        Err(m) => return Ok(Outcome::Malformed(m)),
        Ok(Event::Ping) => return Ok(Outcome::Pong),
        Ok(Event::Ignored(reason)) => return Ok(Outcome::Ignored(reason)),
        Ok(Event::Push {
            branch,
            pusher,
            subject,
            ..
        }) => (branch, pusher, subject),
    };
    if let Some(b) = &branch {
        if b.as_str() != repo.branch {
            return Ok(Outcome::Ignored(format!(
                "a push to {b}; this site deploys {}",
                repo.branch
            )));
        }
    }
    if row.status != SiteStatus::Active {
        return Ok(Outcome::SiteNotActive(row.status));
    }
    let mut detail = format!(
        "{} delivery {}",
        verified.provider.name(),
        verified.delivery
    );
    if let Some(p) = pusher {
        detail.push_str(&format!(", pushed by {p}"));
    }
    if let Some(s) = subject {
        detail.push_str(&format!(": {s}"));
    }
    let trigger = Trigger {
        by: DeploymentTrigger::Webhook,
        actor: None,
        detail: Some(detail),
    };
    match queue_deploy(state, site, trigger, None).await {
        Ok(id) => Ok(Outcome::Queued(id)),
        Err(AppError::Conflict(reason)) => Ok(Outcome::NotReady(reason)),
        Err(e) => Err(e),
    }
}
