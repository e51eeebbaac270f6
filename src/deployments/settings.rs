//! A site's repository settings: saving them (the first save makes the site's deploy key and
//! webhook secret, both sealed at rest), a new deploy key, a new webhook secret, and revealing
//! the secret (audited).

use zeroize::Zeroizing;

use super::forms::{RepositoryForm, parse_form};
use crate::crypto::{SecretBox, SecretContext, random};
use crate::db::deployments::Settings;
use crate::db::sites::Site;
use crate::db::{self, Pool};
use crate::domain::{KeyType, LogLevel, RepoUrl};
use crate::error::{AppError, AppResult};
use crate::ids::{SiteId, UserId};
use crate::state::AppState;

pub(super) fn key_context(site: &str) -> SecretContext<'_> {
    SecretContext::new("site_repositories", "deploy_key_encrypted", site)
}

fn secret_context(site: &str) -> SecretContext<'_> {
    SecretContext::new("site_repositories", "webhook_secret_encrypted", site)
}

pub(super) async fn load_site(pool: &Pool, id: SiteId) -> AppResult<Site> {
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

pub(super) async fn log(
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
    state: &AppState,
    site_id: SiteId,
    form: &RepositoryForm,
    actor: Option<UserId>,
) -> AppResult<()> {
    let (pool, secrets) = (&state.db, &*state.secrets);
    let site = load_site(pool, site_id).await?;
    let input = parse_form(form).map_err(AppError::Invalid)?;
    let settings = Settings {
        url: input.url.as_str(),
        branch: input.branch.as_str(),
        deploy_script: input.script.as_str(),
        keep_releases: i64::from(input.keep.get()),
    };
    if let Some(before) = db::deployments::repository(pool, site.id).await? {
        db::deployments::update_settings(pool, site.id, &settings).await?;
        // Keys confirmed for one host say nothing about another.
        let old = RepoUrl::parse(&before.url).ok();
        if old.as_ref().and_then(RepoUrl::known_hosts_pattern) != input.url.known_hosts_pattern() {
            db::deployments::set_host_keys(pool, site.id, None, None).await?;
        }
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
pub(super) async fn connected(
    pool: &Pool,
    id: SiteId,
) -> AppResult<(Site, db::deployments::Repository)> {
    let site = load_site(pool, id).await?;
    let repo = db::deployments::repository(pool, site.id)
        .await?
        .ok_or_else(|| AppError::Conflict("Connect a repository to this site first.".into()))?;
    Ok((site, repo))
}

/// A new deploy key (the old one stops working once removed from the git host).
pub async fn regenerate_key(
    state: &AppState,
    site_id: SiteId,
    actor: Option<UserId>,
) -> AppResult<()> {
    let (pool, secrets) = (&state.db, &*state.secrets);
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
    state: &AppState,
    site_id: SiteId,
    actor: Option<UserId>,
) -> AppResult<()> {
    let (pool, secrets) = (&state.db, &*state.secrets);
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
    state: &AppState,
    site_id: SiteId,
    actor: Option<UserId>,
) -> AppResult<Zeroizing<String>> {
    let (pool, secrets) = (&state.db, &*state.secrets);
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
