//! `panel deploy SITE [--branch B] [--wait]`: queue a deployment for the running panel to start,
//! and with `--wait` follow its job's log until it ends (exit 1 if it failed).

use std::time::{Duration, Instant};

use super::Failure;
use crate::db::{self};
use crate::deployments::{self, Trigger};
use crate::domain::{DeploymentStatus, DeploymentTrigger, GitBranch, LogStream, SiteDomain};
use crate::error::{AppError, FieldError};
use crate::ids::{DeploymentId, SiteId};
use crate::jobs::follow::{Update, follow};
use crate::state::AppState;

pub(super) async fn run(
    state: &AppState,
    site: &str,
    branch: Option<String>,
    wait: bool,
) -> Result<(), Failure> {
    let pool = &state.db;
    let invalid = |field, m| Failure::from(AppError::Invalid(vec![FieldError::new(field, m)]));
    let branch = branch
        .map(|b| GitBranch::parse(&b).map_err(|m| invalid("branch", m)))
        .transpose()?;
    let found = match site.parse::<SiteId>() {
        Ok(id) => db::sites::get(pool, id).await.map_err(AppError::from)?,
        Err(_) => {
            let domain = SiteDomain::parse(site).map_err(|m| invalid("site", m))?;
            db::sites::by_domain(pool, domain.as_str())
                .await
                .map_err(AppError::from)?
        }
    };
    let site = found.ok_or_else(|| {
        Failure::new(
            1,
            format!(
                "no site {}",
                site.chars().take(100).collect::<String>().escape_debug()
            ),
        )
    })?;
    // Who asked, for the deployment's record: the panel host's account running this command.
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into());
    let id = deployments::queue_deploy(
        state,
        site.id,
        Trigger {
            by: DeploymentTrigger::Cli,
            actor: None,
            detail: Some(format!("panel deploy, run by {who}")),
        },
        branch,
    )
    .await;
    super::audit(state, "sites.deploy", Some(site.id.to_string()), id.is_ok()).await;
    let id = id?;
    let page = format!(
        "{}{}",
        state.config.url.trim_end_matches('/'),
        crate::paths::with_id(crate::paths::DEPLOYMENT, id)
    );
    println!("Queued deployment {id} of {}: {page}", site.domain);
    if wait {
        wait_for(state, id).await?;
    }
    Ok(())
}

/// Wait for the running panel to give the deployment a job, print that job's log as it is
/// stored, then report the deployment's outcome.
async fn wait_for(state: &AppState, id: DeploymentId) -> Result<(), Failure> {
    let pool = &state.db;
    let started = Instant::now();
    let mut hinted = false;
    let job = loop {
        let d = db::deployments::get(pool, id)
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| Failure::new(1, "the deployment was deleted (with its site?)"))?;
        if let Some(job) = d.job_id {
            break job;
        }
        if !hinted && started.elapsed() > Duration::from_secs(10) {
            eprintln!("panel: still queued; is `panel serve` running with this data directory?");
            hinted = true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // Another process runs the job: follow it through the database.
    if let Some(mut updates) = follow(pool.clone(), job, 0, None)
        .await
        .map_err(AppError::from)?
    {
        use futures_util::StreamExt;
        while let Some(update) = updates.next().await {
            match update {
                Update::Line {
                    stream: LogStream::Stderr,
                    line,
                    ..
                } => eprintln!("{line}"),
                Update::Line { line, .. } => println!("{line}"),
                Update::Step { .. } | Update::Status(_) => {}
            }
        }
    }
    // A job is marked finished only once its deployment's row is final.
    let d = db::deployments::get(pool, id)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| Failure::new(1, "the deployment was deleted (with its site?)"))?;
    match d.status {
        DeploymentStatus::Success => {
            println!(
                "Deployment {id} succeeded ({}).",
                d.commit_hash.as_deref().unwrap_or("no commit")
            );
            Ok(())
        }
        DeploymentStatus::Failed => Err(Failure::new(
            1,
            format!(
                "deployment {id} failed: {}",
                d.status_reason.as_deref().unwrap_or("see the log above")
            ),
        )),
        DeploymentStatus::Pending | DeploymentStatus::Running => Err(Failure::new(
            1,
            format!(
                "deployment {id}: its job ended without recording a result; see the panel's log"
            ),
        )),
    }
}
