//! The certificate jobs, in the site's lane: ACME issue or renewal (order, publish the
//! challenges over SSH, let the CA check them, install), install an upload, rewrite the vhost
//! after a toggle, remove. A failure is stored explained on the certificate and alerted.

use std::sync::Mutex;
use std::time::Duration;

use crate::crypto::SecretContext;
use crate::db::servers::Server;
use crate::db::sites::Site;
use crate::db::{self};
use crate::domain::{CertChallenge, CertSource, JobKind, LogLevel, SiteStatus};
use crate::error::AppResult;
use crate::ids::{JobId, SiteId, UserId};
use crate::jobs::{JobContext, JobFailure};
use crate::provision::run::Runner;
use crate::provision::{Plan, SiteSpec, SiteTls, tls as plans};
use crate::sites::spec_of;
use crate::state::AppState;
use crate::tls::acme;
use crate::tls::dns::DnsProvider;

use crate::tls::explain::{self, Explained};
use crate::tls::inspect;

/// How long the CA may take to check the challenges.
const PATIENCE: Duration = Duration::from_secs(90);

pub fn key_context(site_id: &str) -> SecretContext<'_> {
    SecretContext::new("site_certificates", "key_encrypted", site_id)
}

/// What a certificate job does.
pub enum Work {
    Acme {
        renewal: bool,
    },
    Install {
        source: CertSource,
        chain_pem: String,
        key_sealed: Vec<u8>,
    },
    Rewrite,
    Remove,
}

impl Work {
    fn title(&self, domain: &str) -> String {
        match self {
            Work::Acme { renewal: false } => format!("Issue a certificate for {domain}"),
            Work::Acme { renewal: true } => format!("Renew the certificate of {domain}"),
            Work::Install { .. } => format!("Install the uploaded certificate of {domain}"),
            Work::Rewrite => format!("Apply the HTTPS settings of {domain}"),
            Work::Remove => format!("Remove the certificate of {domain}"),
        }
    }
}

pub async fn submit(
    state: &AppState,
    site: &Site,
    work: Work,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    let spec = crate::sites::lane::LaneJob {
        kind: JobKind::SiteCertificate,
        title: work.title(&site.domain),
        args: Default::default(),
        failure_log: None,
    };
    let job =
        crate::sites::lane::submit(
            state,
            site,
            spec,
            actor,
            move |ctx, state, server, site| async move {
                perform(&ctx, &state, &server, &site, work).await
            },
        )
        .await?;
    if db::certificates::get(&state.db, site.id).await?.is_some() {
        db::certificates::set_job(&state.db, site.id, job).await?;
    }
    Ok(job)
}

async fn perform(
    ctx: &JobContext,
    state: &AppState,
    server: &Server,
    site: &Site,
    work: Work,
) -> Result<(), JobFailure> {
    let (spec, _) = spec_of(site, &state.secrets).map_err(JobFailure::new)?;
    let tls = SiteTls {
        redirect: site.https_redirect,
        hsts: site.hsts,
    };
    let suspended = site.status == SiteStatus::Suspended;
    match work {
        Work::Acme { renewal } => {
            let why = Mutex::new(None);
            let result = acme(ctx, state, server, site, &spec, tls, &why).await;
            if let Err(failure) = &result {
                let explained = why
                    .lock()
                    .expect("not poisoned")
                    .take()
                    .unwrap_or_else(|| explain::node(&failure.message));
                super::failures::failed(state, server, site, renewal, &explained).await?;
            }
            result
        }
        Work::Install {
            source,
            chain_pem,
            key_sealed,
        } => {
            let key = state
                .secrets
                .open(&key_sealed, key_context(&site.id.to_string()))
                .map_err(|_| JobFailure::new("the uploaded key cannot be decrypted"))?;
            let key = String::from_utf8_lossy(&key).into_owned();
            let plan = plans::install(
                crate::nodes::profile(server),
                crate::nodes::driver(server),
                &spec,
                suspended,
                tls,
                &chain_pem,
                &key,
            );
            run(ctx, state, server, &plan).await?;
            store(state, server, site, source, &chain_pem, &key_sealed).await
        }
        Work::Rewrite => {
            let (chain, key) = served(state, site.id).await?;
            let plan = plans::install(
                crate::nodes::profile(server),
                crate::nodes::driver(server),
                &spec,
                suspended,
                tls,
                &chain,
                &key,
            );
            run(ctx, state, server, &plan).await
        }
        Work::Remove => {
            let plan = plans::remove(
                crate::nodes::profile(server),
                crate::nodes::driver(server),
                &spec,
                suspended,
            );
            run(ctx, state, server, &plan).await?;
            db::certificates::remove(&state.db, site.id).await?;
            super::failures::log(state, server, site, LogLevel::Info, "certificate removed").await
        }
    }
}

/// The served chain and its key, opened.
async fn served(state: &AppState, site: SiteId) -> Result<(String, String), JobFailure> {
    let cert = db::certificates::get(&state.db, site)
        .await?
        .ok_or_else(|| JobFailure::new("the site has no certificate"))?;
    let (Some(chain), Some(sealed)) = (cert.chain_pem, cert.key_encrypted) else {
        return Err(JobFailure::new("the site's certificate is not issued yet"));
    };
    let key = state
        .secrets
        .open(&sealed, key_context(&site.to_string()))
        .map_err(|_| JobFailure::new("the certificate's key cannot be decrypted"))?;
    Ok((chain, String::from_utf8_lossy(&key).into_owned()))
}

async fn run(
    ctx: &JobContext,
    state: &AppState,
    server: &Server,
    plan: &Plan,
) -> Result<(), JobFailure> {
    let session = crate::nodes::open_session(state, ctx, server).await?;
    let result = Runner::new(ctx, &session).run(plan).await;
    result.map(|_| ())
}

/// Store a served certificate (its renewal time for ACME) and log it.
async fn store(
    state: &AppState,
    server: &Server,
    site: &Site,
    source: CertSource,
    chain_pem: &str,
    key_sealed: &[u8],
) -> Result<(), JobFailure> {
    let info = inspect::leaf_info(chain_pem)
        .map_err(|m| JobFailure::new(format!("the certificate {m}")))?;
    // The site's domain first, then the others in order (a CA lists them as it likes).
    let mut names = info.names.clone();
    names.sort_by_key(|n| (n != &site.domain, n.clone()));
    let renew_at = (source == CertSource::Acme)
        .then(|| db::timestamp(inspect::renew_at(info.not_before, info.not_after)));
    db::certificates::store(
        &state.db,
        site.id,
        &db::certificates::Served {
            source,
            names: &names.join(" "),
            chain_pem,
            key_encrypted: key_sealed,
            not_before: &db::timestamp(info.not_before),
            not_after: &db::timestamp(info.not_after),
            issuer: &info.issuer,
            serial: &info.serial,
            renew_at: renew_at.as_deref(),
        },
    )
    .await?;
    super::failures::log(
        state,
        server,
        site,
        LogLevel::Info,
        &format!(
            "certificate installed (serial {}, valid until {})",
            info.serial,
            info.not_after.format("%Y-%m-%d %H:%M UTC")
        ),
    )
    .await
}

/// The ACME flow; a failure leaves its explanation in `why`.
async fn acme(
    ctx: &JobContext,
    state: &AppState,
    server: &Server,
    site: &Site,
    spec: &SiteSpec,
    tls: SiteTls,
    why: &Mutex<Option<Explained>>,
) -> Result<(), JobFailure> {
    let fail = |e: Explained| {
        let f = JobFailure::new(e.text.clone());
        *why.lock().expect("not poisoned") = Some(e);
        f
    };
    let dir = super::directory(&state.config.acme);
    // DNS-01 (and the wildcard) when the site's certificate is set up for it; HTTP-01 else.
    let row = db::certificates::get(&state.db, site.id).await?;
    let dns = match row.as_ref().filter(|r| r.challenge == CertChallenge::Dns01) {
        Some(r) => Some(super::dns_provider(state, r).map_err(fail)?),
        None => None,
    };
    let mut names = super::names_of(site);
    if dns.is_some() && row.as_ref().is_some_and(|r| r.wildcard) {
        names.push(format!("*.{}", site.domain));
    }
    let proof = if dns.is_some() {
        acme::Proof::Dns01
    } else {
        acme::Proof::Http01
    };
    let account = ctx
        .step(
            &format!("Use the panel's ACME account at {}", dir.url),
            async {
                let (account, created) = super::account(state, &dir).await.map_err(fail)?;
                if created {
                    ctx.note(
                        "Created a new ACME account (its key is sealed in the panel's database).",
                    );
                }
                Ok(account)
            },
        )
        .await?;
    let pending = ctx
        .step(
            &format!("Order a certificate for {}", names.join(", ")),
            async {
                let pending = acme::start(&dir, &account, &names, proof)
                    .await
                    .map_err(fail)?;
                for c in &pending.challenges {
                    if proof == acme::Proof::Http01 && !plans::valid_token(&c.token) {
                        return Err(fail(Explained {
                            kind: "ca",
                            text: "The CA sent a challenge token that is not base64url; refused."
                                .into(),
                        }));
                    }
                }
                Ok(pending)
            },
        )
        .await?;
    let records: Vec<(String, String)> = pending
        .challenges
        .iter()
        .map(|c| (c.dns_name.clone(), c.dns_value.clone()))
        .collect();
    let challenges: Vec<(String, String)> = match dns {
        Some(_) => Vec::new(),
        None => pending
            .challenges
            .iter()
            .map(|c| (c.token.clone(), c.key_authorization.clone()))
            .collect(),
    };
    let profile = crate::nodes::profile(server);
    let driver = crate::nodes::driver(server);
    let suspended = site.status == SiteStatus::Suspended;
    let session = crate::nodes::open_session(state, ctx, server).await?;
    let result = async {
        if !challenges.is_empty() {
            let publish = plans::publish(profile, driver, spec, suspended, &challenges);
            Runner::new(ctx, &session)
                .run(&publish)
                .await
                .map_err(|f| fail(explain::node(&f.message)))?;
        }
        if let Some(provider) = &dns {
            ctx.step(
                &format!("Publish {} DNS-01 TXT record(s)", records.len()),
                async {
                    for (name, value) in &records {
                        ctx.note(&format!("TXT {name}"));
                        provider
                            .publish(name, value)
                            .await
                            .map_err(|e| fail(explain::dns_update(&e)))?;
                    }
                    Ok(())
                },
            )
            .await?;
        }
        let issued = ctx
            .step("Let the CA check the challenges and issue", async {
                acme::finish(&dir, pending, PATIENCE).await.map_err(fail)
            })
            .await;
        if let Some(provider) = &dns {
            for (name, value) in &records {
                // Best effort: a leftover record is harmless (its value is spent).
                if let Err(e) = provider.remove(name, value).await {
                    ctx.note(&format!("Could not remove TXT {name}: {e}"));
                }
            }
        }
        if !challenges.is_empty() {
            let tokens: Vec<String> = challenges.iter().map(|(t, _)| t.clone()).collect();
            // Best effort: a leftover challenge file is harmless (its token is spent).
            let _ = Runner::new(ctx, &session)
                .run(&plans::unpublish(profile, driver, spec, &tokens))
                .await;
        }
        let issued = issued?;
        let sealed = state
            .secrets
            .seal(issued.key_pem.as_bytes(), key_context(&site.id.to_string()));
        let install = plans::install(
            profile,
            driver,
            spec,
            suspended,
            tls,
            &issued.chain_pem,
            &issued.key_pem,
        );
        Runner::new(ctx, &session)
            .run(&install)
            .await
            .map_err(|f| fail(explain::node(&f.message)))?;
        Ok::<_, JobFailure>((issued.chain_pem, sealed))
    }
    .await;
    let (chain, sealed) = result?;
    store(state, server, site, CertSource::Acme, &chain, &sealed).await
}
