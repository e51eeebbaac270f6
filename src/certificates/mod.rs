//! Site certificates: issue one from the ACME directory (HTTP-01 through the site's own vhost),
//! upload one, toggle the HTTP→HTTPS redirect and HSTS, remove it; and the renewal loop that
//! renews ACME certificates before they expire, backs off after failures, and alerts.
//! Every change to a node is a job in the site's lane (`jobs.rs`).

mod failures;
pub mod forms;
mod jobs;
mod renew;

use crate::crypto::SecretContext;
use crate::db::sites::Site;
use crate::db::{self};
use crate::domain::{CertChallenge, CertSource, SiteStatus};
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{JobId, SiteId, UserId};
use crate::state::AppState;
use crate::tls::acme::{self, Directory};
use crate::tls::dns::Rfc2136;
use crate::tls::explain::Explained;
use crate::tls::inspect;

use forms::{DnsForm, HttpsForm, MAX_PEM, UploadForm};
pub use jobs::key_context;
pub use renew::{renew_due, spawn};

fn account_context(directory: &str) -> SecretContext<'_> {
    SecretContext::new("acme_accounts", "credentials_encrypted", directory)
}

/// The panel's ACME account on `dir` (one per directory, shared by every site and the panel's
/// own certificate): opened from the database, or created and stored sealed (`true`).
pub async fn account(
    state: &AppState,
    dir: &Directory<'_>,
) -> Result<(instant_acme::Account, bool), Explained> {
    let broken = |what: &str| Explained {
        kind: "panel",
        text: format!("The panel's ACME account {what}."),
    };
    let stored = db::certificates::account(&state.db, dir.url)
        .await
        .map_err(|_| broken("cannot be read from the database"))?;
    let stored = match stored {
        Some(sealed) => Some(
            state
                .secrets
                .open(&sealed, account_context(dir.url))
                .map_err(|_| broken("cannot be decrypted"))?,
        ),
        None => None,
    };
    let stored = stored.map(|s| String::from_utf8_lossy(&s).into_owned());
    let (account, created) = acme::account(dir, stored.as_deref()).await?;
    if let Some(json) = &created {
        let sealed = state
            .secrets
            .seal(json.as_bytes(), account_context(dir.url));
        db::certificates::store_account(&state.db, dir.url, &sealed)
            .await
            .map_err(|_| broken("cannot be stored"))?;
    }
    Ok((account, created.is_some()))
}

fn dns_secret_context(site_id: &str) -> SecretContext<'_> {
    SecretContext::new("site_certificates", "dns_secret_encrypted", site_id)
}

/// The RFC 2136 server a DNS-01 certificate is proven through, its TSIG secret opened.
pub fn dns_provider(
    state: &AppState,
    row: &db::certificates::SiteCertificate,
) -> Result<Rfc2136, Explained> {
    let broken = |what: &str| Explained {
        kind: "dns-update",
        text: format!("The site's DNS-01 settings {what}; enter them again on its HTTPS tab."),
    };
    let server = row
        .dns_server
        .as_deref()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| broken("have no server"))?;
    let sealed = row
        .dns_secret_encrypted
        .as_deref()
        .ok_or_else(|| broken("have no TSIG secret"))?;
    let secret = state
        .secrets
        .open(sealed, dns_secret_context(&row.site_id.to_string()))
        .map_err(|_| broken("cannot be decrypted"))?;
    Ok(Rfc2136 {
        server,
        zone: row.dns_zone.clone().ok_or_else(|| broken("have no zone"))?,
        key_name: row
            .dns_key_name
            .clone()
            .ok_or_else(|| broken("have no key name"))?,
        secret: zeroize::Zeroizing::new(secret.to_vec()),
    })
}

/// Issue through DNS-01 (an RFC 2136 server; with the wildcard if asked): the settings are
/// checked per field and stored (the TSIG secret sealed), then the certificate is issued.
pub async fn issue_dns(
    state: &AppState,
    id: SiteId,
    form: &DnsForm,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    let site = load(state, id).await?;
    let existing = db::certificates::get(&state.db, id).await?;
    let stored_secret = existing
        .as_ref()
        .and_then(|c| c.dns_secret_encrypted.clone());
    let mut names = names_of(&site);
    let input =
        forms::parse_dns(form, &names, stored_secret.is_some()).map_err(AppError::Invalid)?;
    ready(&site)?;
    let sealed = match &input.secret {
        Some(secret) => state
            .secrets
            .seal(secret, dns_secret_context(&id.to_string())),
        None => stored_secret.expect("parse_dns requires a secret when none is stored"),
    };
    if input.wildcard {
        names.push(format!("*.{}", site.domain));
    }
    let server = input.server.to_string();
    db::certificates::set_proof(
        &state.db,
        id,
        &names.join(" "),
        &db::certificates::Proof {
            challenge: CertChallenge::Dns01,
            wildcard: input.wildcard,
            dns_server: Some(&server),
            dns_zone: Some(&input.zone),
            dns_key_name: Some(&input.key_name),
            dns_secret_encrypted: Some(&sealed),
        },
    )
    .await?;
    jobs::submit(state, &site, jobs::Work::Acme { renewal: false }, actor).await
}

/// The `[acme]` directory as the ACME client takes it.
pub fn directory(config: &crate::config::AcmeConfig) -> Directory<'_> {
    Directory {
        url: &config.directory,
        ca_root: config.ca_root.as_deref(),
        contact: config.contact.as_deref(),
    }
}

async fn load(state: &AppState, id: SiteId) -> AppResult<Site> {
    db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A site that serves (or is suspended) can have HTTPS; one being made or removed cannot yet.
fn ready(site: &Site) -> AppResult<()> {
    match site.status {
        SiteStatus::Active | SiteStatus::Suspended => Ok(()),
        _ => Err(AppError::Conflict(
            "HTTPS can be set up once the site is active.".into(),
        )),
    }
}

/// The names a certificate must cover: the domain, then its aliases.
pub fn names_of(site: &Site) -> Vec<String> {
    let aliases: Vec<String> = serde_json::from_str(&site.aliases).unwrap_or_default();
    std::iter::once(site.domain.clone())
        .chain(aliases)
        .collect()
}

/// Issue (or re-issue) a certificate from the configured ACME directory.
pub async fn issue(state: &AppState, id: SiteId, actor: Option<UserId>) -> AppResult<JobId> {
    let site = load(state, id).await?;
    ready(&site)?;
    let names = names_of(&site).join(" ");
    match db::certificates::get(&state.db, id).await? {
        None => db::certificates::begin(&state.db, id, CertSource::Acme, &names, None).await?,
        // An uploaded certificate is replaced by an ACME one proven over HTTP.
        Some(c) if c.source == CertSource::Custom => {
            db::certificates::set_proof(
                &state.db,
                id,
                &names,
                &db::certificates::Proof {
                    challenge: CertChallenge::Http01,
                    wildcard: false,
                    dns_server: None,
                    dns_zone: None,
                    dns_key_name: None,
                    dns_secret_encrypted: None,
                },
            )
            .await?
        }
        // ACME already: renewed the way it was issued (HTTP-01, or DNS-01 with its settings).
        Some(_) => {}
    }
    jobs::submit(state, &site, jobs::Work::Acme { renewal: false }, actor).await
}

/// Upload a certificate, its chain and key: every field checked (names, dates, chain order,
/// key) before anything is stored or sent; then installed by a job.
pub async fn upload(
    state: &AppState,
    id: SiteId,
    form: &UploadForm,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    let site = load(state, id).await?;
    let mut too_big = Vec::new();
    for (field, text) in [
        ("certificate", &form.certificate),
        ("chain", &form.chain),
        ("key", &form.key),
    ] {
        if text.len() > MAX_PEM {
            too_big.push(FieldError::new(field, "is larger than 64 KiB"));
        }
    }
    if !too_big.is_empty() {
        return Err(AppError::Invalid(too_big));
    }
    let checked = inspect::check_upload(
        &form.certificate,
        &form.chain,
        &form.key,
        &names_of(&site),
        chrono::Utc::now(),
    )
    .map_err(AppError::Invalid)?;
    ready(&site)?;
    let sealed = state
        .secrets
        .seal(form.key.trim().as_bytes(), key_context(&id.to_string()));
    jobs::submit(
        state,
        &site,
        jobs::Work::Install {
            source: CertSource::Custom,
            chain_pem: checked.chain_pem,
            key_sealed: sealed,
        },
        actor,
    )
    .await
}

/// Turn the HTTP→HTTPS redirect and HSTS on or off; with a certificate served, the vhost is
/// rewritten by a job.
pub async fn set_https(
    state: &AppState,
    id: SiteId,
    form: &HttpsForm,
    actor: Option<UserId>,
) -> AppResult<Option<JobId>> {
    let site = load(state, id).await?;
    if site.tls {
        ready(&site)?;
    }
    db::sites::set_https(&state.db, id, form.redirect(), form.hsts()).await?;
    if !site.tls {
        return Ok(None);
    }
    let site = load(state, id).await?;
    jobs::submit(state, &site, jobs::Work::Rewrite, actor)
        .await
        .map(Some)
}

/// Stop serving HTTPS and forget the certificate.
pub async fn remove(state: &AppState, id: SiteId, actor: Option<UserId>) -> AppResult<JobId> {
    let site = load(state, id).await?;
    ready(&site)?;
    if db::certificates::get(&state.db, id).await?.is_none() {
        return Err(AppError::Conflict("The site has no certificate.".into()));
    }
    jobs::submit(state, &site, jobs::Work::Remove, actor).await
}
