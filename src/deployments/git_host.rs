//! The git host's SSH keys for a site's repository. Nothing is trusted on first use: the keys are
//! read by `ssh-keyscan` on the site's own server (the connection deploys will use), then either
//! match the fingerprints a well-known host publishes (confirmed at once) or wait for a person to
//! confirm the fingerprints the tab shows. Deploys write only confirmed keys to known_hosts and
//! check them strictly; an https repository needs none (TLS checks the host).

use std::time::Duration;

use serde::Deserialize;

use super::settings;
use crate::db::{self, deployments::Repository};
use crate::domain::known_hosts::{self, KnownHost};
use crate::domain::{LogLevel, RepoUrl, Transport};
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{SiteId, UserId};
use crate::ssh::Command;
use crate::state::AppState;

/// How long the scan may wait for the git host.
const SCAN_TIMEOUT: Duration = Duration::from_secs(30);

/// The keys deploys trust for this repository (none for an https one, or none confirmed).
pub fn confirmed(repo: &Repository) -> Vec<KnownHost> {
    keys_of(repo, repo.confirmed_host_keys.as_deref())
}

/// The keys a scan found that await confirmation.
pub fn scanned(repo: &Repository) -> Vec<KnownHost> {
    keys_of(repo, repo.scanned_host_keys.as_deref())
}

fn keys_of(repo: &Repository, text: Option<&str>) -> Vec<KnownHost> {
    match RepoUrl::parse(&repo.url)
        .ok()
        .as_ref()
        .and_then(RepoUrl::known_hosts_pattern)
    {
        Some(p) => KnownHost::parse_all(text.unwrap_or_default(), &p),
        None => Vec::new(),
    }
}

/// Why a deploy of this repository cannot fetch yet, if it cannot.
pub fn fetchable(repo: &Repository) -> Result<(), String> {
    let url = RepoUrl::parse(&repo.url).map_err(|e| format!("stored repository: {e}"))?;
    if url.transport() == Transport::Ssh && confirmed(repo).is_empty() {
        return Err(format!(
            "the SSH key of {} is not confirmed yet: fetch and confirm it on the site's Deployments tab before deploying",
            url.host()
        ));
    }
    Ok(())
}

/// What a scan did.
#[derive(Clone, Debug)]
pub enum Scan {
    /// The host is a well-known one and every key matched its published fingerprints.
    Confirmed(Vec<KnownHost>),
    /// Keys to show for confirmation.
    Pending(Vec<KnownHost>),
}

/// Read the git host's keys from the site's server.
pub async fn scan(state: &AppState, site: SiteId, actor: Option<UserId>) -> AppResult<Scan> {
    let (row, repo) = settings::connected(&state.db, site).await?;
    let url = RepoUrl::parse(&repo.url)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored repository: {e}")))?;
    let Some(pattern) = url.known_hosts_pattern() else {
        return Err(AppError::Conflict(
            "An https repository needs no SSH host key: TLS checks the host.".into(),
        ));
    };
    let server = db::servers::get(&state.db, row.server_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let command = Command::new("ssh-keyscan")
        .flag("-T")
        .value("10")
        .flag("-p")
        .value(url.port().to_string())
        .operand(url.host());
    let out = crate::nodes::read_command(state, &server, &command, SCAN_TIMEOUT).await?;
    let keys = KnownHost::parse_all(&out, &pattern);
    if keys.is_empty() {
        return Err(AppError::Conflict(format!(
            "{} did not answer with an SSH key from {} (is it an SSH server, reachable from there?)",
            pattern, server.name
        )));
    }
    let fingerprints: Vec<&str> = keys.iter().map(KnownHost::fingerprint).collect();
    if let Some(published) = known_hosts::published(url.host()) {
        let unknown: Vec<&str> = fingerprints
            .iter()
            .filter(|f| !published.contains(f))
            .copied()
            .collect();
        if !unknown.is_empty() {
            settings::log(
                &state.db,
                &row,
                LogLevel::Error,
                &format!(
                    "{} presented a key it does not publish ({}): nothing was trusted",
                    url.host(),
                    unknown.join(", ")
                ),
                actor,
            )
            .await?;
            return Err(AppError::Conflict(format!(
                "{} presented a key whose fingerprint it does not publish ({}): the connection from {} may be intercepted, and nothing was trusted.",
                url.host(),
                unknown.join(", "),
                server.name
            )));
        }
        let text = known_hosts::to_text(&keys);
        db::deployments::set_host_keys(&state.db, site, None, Some(&text)).await?;
        settings::log(
            &state.db,
            &row,
            LogLevel::Info,
            &format!(
                "git host key of {} confirmed: it matches the fingerprints {} publishes",
                pattern,
                url.host()
            ),
            actor,
        )
        .await?;
        return Ok(Scan::Confirmed(keys));
    }
    let text = known_hosts::to_text(&keys);
    db::deployments::set_host_keys(
        &state.db,
        site,
        Some(&text),
        repo.confirmed_host_keys.as_deref(),
    )
    .await?;
    Ok(Scan::Pending(keys))
}

/// The confirm form: the fingerprints the page showed, so a scan that changed since is not
/// confirmed unseen.
#[derive(Debug, Default, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub fingerprints: String,
}

/// Trust the scanned keys, if they are the ones the person saw.
pub async fn confirm(
    state: &AppState,
    site: SiteId,
    form: &ConfirmForm,
    actor: Option<UserId>,
) -> AppResult<()> {
    let (row, repo) = settings::connected(&state.db, site).await?;
    let keys = scanned(&repo);
    if keys.is_empty() {
        return Err(AppError::Conflict(
            "There is no scanned key to confirm: fetch the git host's key first.".into(),
        ));
    }
    let mut shown: Vec<&str> = form
        .fingerprints
        .split([',', ' ', '\n'])
        .filter(|f| !f.is_empty())
        .collect();
    let mut found: Vec<&str> = keys.iter().map(KnownHost::fingerprint).collect();
    shown.sort_unstable();
    found.sort_unstable();
    if shown != found {
        return Err(AppError::Invalid(vec![FieldError::new(
            "fingerprints",
            "the git host's keys changed since they were shown; fetch them again and compare",
        )]));
    }
    let text = known_hosts::to_text(&keys);
    db::deployments::set_host_keys(&state.db, site, None, Some(&text)).await?;
    settings::log(
        &state.db,
        &row,
        LogLevel::Warning,
        &format!(
            "the git host key was confirmed by a user: {}",
            found.join(", ")
        ),
        actor,
    )
    .await?;
    Ok(())
}
