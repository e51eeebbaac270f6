//! Sites: the create form parsed into domain types, the rows stored, and the jobs that provision,
//! retry, suspend, resume and delete a site on its server. The lifecycle follows the seed's
//! state diagram: `creating` → `provisioning` → `active` | `error`; `error` → retry (resumes:
//! finished steps are checked, not redone); `active` ↔ `suspended`; delete.

use std::time::Duration;

use serde::Deserialize;

use crate::crypto::{SecretBox, SecretContext, random};
use crate::db::servers::Server;
use crate::db::sites::{NewDatabase, NewSite, Site};
use crate::db::{self, Pool};
use crate::domain::site::{check_env_value, parse_aliases};
use crate::domain::{
    AppType, DatabaseType, DbName, EnvKey, LogLevel, PhpVersion, ServerStatus, ServiceDriver,
    SiteDomain, SiteStatus, SiteUser,
};
use crate::error::{AppError, AppResult, FieldError, FieldErrors};
use crate::ids::{DatabaseId, JobId, SiteId, SystemUserId, UserId};
use crate::jobs::{JobContext, JobFailure, JobSpec};
use crate::provision::steps::{self, Confirm, DeleteScope, PlanSecrets};
use crate::provision::{DbSpec, Driver, Plan, Profile, SiteSpec};
use crate::selinux::mcs::McsPair;
use crate::ssh::client::Session;
use crate::web::AppState;

/// The "New site" form (and `panel site plan`'s options) as submitted.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SiteForm {
    #[serde(default)]
    pub server_id: String,
    #[serde(default)]
    pub domain: String,
    /// Further domains, separated by spaces, commas or new lines.
    #[serde(default)]
    pub aliases: String,
    #[serde(default)]
    pub app_type: String,
    #[serde(default)]
    pub php_version: String,
    /// `none`, `mariadb` or `postgresql`.
    #[serde(default)]
    pub database: String,
    /// Optional: the Unix user (default: the next free `webN`).
    #[serde(default)]
    pub user: String,
    /// Optional: the database and database-user name (default: from the domain).
    #[serde(default)]
    pub db_name: String,
}

/// A site as asked for, every field parsed.
#[derive(Clone, Debug)]
pub struct SiteInput {
    pub domain: SiteDomain,
    pub aliases: Vec<SiteDomain>,
    pub app_type: AppType,
    pub php: PhpVersion,
    pub user: Option<SiteUser>,
    pub database: Option<DbSpec>,
}

/// Parse every field; all errors at once, each naming its field.
pub fn parse_input(form: &SiteForm) -> Result<SiteInput, FieldErrors> {
    let mut errors = Vec::new();
    let domain = SiteDomain::parse(&form.domain)
        .map_err(|m| errors.push(FieldError::new("domain", m)))
        .ok();
    let aliases = parse_aliases(&form.aliases, domain.as_ref())
        .map_err(|m| errors.push(FieldError::new("aliases", m)))
        .ok();
    let app_type = form
        .app_type
        .parse::<AppType>()
        .map_err(|_| {
            errors.push(FieldError::new(
                "app_type",
                "choose WordPress, Laravel or generic PHP",
            ))
        })
        .ok();
    let php = form
        .php_version
        .trim()
        .parse::<PhpVersion>()
        .map_err(|_| {
            errors.push(FieldError::new(
                "php_version",
                format!(
                    "`{}` is not a PHP version the panel offers (7.4, 8.0–8.4)",
                    form.php_version
                        .chars()
                        .take(20)
                        .collect::<String>()
                        .escape_debug()
                ),
            ))
        })
        .ok();
    let user = if form.user.trim().is_empty() {
        Some(None)
    } else {
        SiteUser::parse(&form.user)
            .map(Some)
            .map_err(|m| errors.push(FieldError::new("user", m)))
            .ok()
    };
    let engine = match form.database.trim() {
        "" | "none" => Some(None),
        other => other
            .parse::<DatabaseType>()
            .map(Some)
            .map_err(|_| {
                errors.push(FieldError::new(
                    "database",
                    "choose MariaDB, PostgreSQL or no database",
                ))
            })
            .ok(),
    };
    let db_name = if form.db_name.trim().is_empty() {
        Some(None)
    } else {
        DbName::parse(&form.db_name)
            .map(Some)
            .map_err(|m| errors.push(FieldError::new("db_name", m)))
            .ok()
    };
    let (
        Some(domain),
        Some(aliases),
        Some(app_type),
        Some(php),
        Some(user),
        Some(engine),
        Some(db_name),
    ) = (domain, aliases, app_type, php, user, engine, db_name)
    else {
        return Err(errors);
    };
    let database = engine.map(|engine| match db_name {
        Some(name) => DbSpec {
            engine,
            user: name.clone(),
            name,
        },
        None => steps::default_database(engine, &domain),
    });
    Ok(SiteInput {
        domain,
        aliases,
        app_type,
        php,
        user,
        database,
    })
}

impl SiteInput {
    pub fn spec(&self, user: SiteUser, mcs: McsPair) -> SiteSpec {
        SiteSpec {
            mcs,
            domain: self.domain.clone(),
            aliases: self.aliases.clone(),
            app_type: self.app_type,
            php: self.php,
            user,
            database: self.database.clone(),
            env: Vec::new(),
        }
    }
}

/// A generated database password: 32 letters and digits (~190 bits), nothing any client,
/// dotenv parser or shell could misread.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let bytes = random::bytes::<64>();
    bytes
        .iter()
        .filter_map(|b| {
            let i = usize::from(*b);
            // Rejection sampling keeps every character equally likely.
            (i < ALPHABET.len() * (256 / ALPHABET.len()))
                .then(|| ALPHABET[i % ALPHABET.len()] as char)
        })
        .take(32)
        .collect()
}

fn db_secret_context(id: &str) -> SecretContext<'_> {
    SecretContext::new("databases", "password_encrypted", id)
}

fn env_secret_context(id: &str) -> SecretContext<'_> {
    SecretContext::new("sites", "env_encrypted", id)
}

/// The next free `webN` on a server.
fn next_user(taken: &[String]) -> SiteUser {
    let max = taken
        .iter()
        .filter_map(|u| u.strip_prefix("web").and_then(|n| n.parse::<u32>().ok()))
        .max()
        .unwrap_or(0);
    SiteUser::numbered(max + 1)
}

fn driver(server: &Server) -> Driver {
    match server.service_driver {
        ServiceDriver::Systemd => Driver::Systemd,
        ServiceDriver::Direct => Driver::Direct,
    }
}

/// Create a site from the form: checked, stored `creating` with its user and (encrypted)
/// database password, and its provisioning job queued.
pub async fn create(state: &AppState, form: &SiteForm, actor: Option<UserId>) -> AppResult<SiteId> {
    let pool = &state.db;
    let mut errors = Vec::new();
    let server = match form.server_id.parse() {
        Ok(id) => db::servers::get(pool, id).await?,
        Err(_) => None,
    };
    match &server {
        None => errors.push(FieldError::new("server_id", "choose a server")),
        Some(s) if s.status != ServerStatus::Active => errors.push(FieldError::new(
            "server_id",
            "this server is not active yet; finish its setup first",
        )),
        _ => {}
    }
    let input = match parse_input(form) {
        Ok(i) => Some(i),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let (Some(server), Some(input)) = (server, input) else {
        return Err(AppError::Invalid(errors));
    };
    // Only PHP versions the server has can serve a site.
    let php_installed = crate::software::list(pool, server.id)
        .await?
        .iter()
        .any(|i| {
            i.software == crate::domain::Software::Php
                && i.version == input.php.as_str()
                && i.status == crate::domain::InstallStatus::Installed
        });
    if !php_installed {
        errors.push(FieldError::new(
            "php_version",
            format!(
                "PHP {} is not installed on {}; install it from the server's software tab",
                input.php, server.name
            ),
        ));
    }
    let taken = db::sites::usernames(pool, server.id).await?;
    let user = match &input.user {
        Some(u) if taken.iter().any(|t| t == u.as_str()) => {
            errors.push(FieldError::new(
                "user",
                "this server already has a site user of that name",
            ));
            u.clone()
        }
        Some(u) => u.clone(),
        None => next_user(&taken),
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let site_id = SiteId::generate();
    let db_id = DatabaseId::generate();
    let db_id_text = db_id.to_string();
    let password = input.database.as_ref().map(|_| generate_password());
    let sealed = password.as_ref().map(|p| {
        state
            .secrets
            .seal(p.as_bytes(), db_secret_context(&db_id_text))
    });
    let aliases =
        serde_json::to_string(&input.aliases.iter().map(|a| a.as_str()).collect::<Vec<_>>())
            .map_err(|e| AppError::Internal(e.into()))?;
    let home = user.home();
    let root = crate::provision::templates::root_for(input.app_type, &user);
    let new = NewSite {
        id: site_id,
        server_id: server.id,
        user_id: SystemUserId::generate(),
        username: user.as_str(),
        home: &home,
        domain: input.domain.as_str(),
        aliases: &aliases,
        app_type: input.app_type,
        php_version: input.php,
        document_root: &root,
        database: input
            .database
            .as_ref()
            .zip(sealed.as_deref())
            .map(|(d, sealed)| NewDatabase {
                id: db_id,
                db_type: d.engine,
                name: d.name.as_str(),
                username: d.user.as_str(),
                password_encrypted: sealed,
            }),
    };
    if let Err(e) = db::sites::insert(pool, &new).await {
        return Err(db::unique_to_field(
            e,
            &[
                (
                    "sites.domain",
                    "domain",
                    "another site already uses this domain",
                ),
                (
                    "databases.server_id",
                    "db_name",
                    "this server already has a database of that name; choose another name",
                ),
                (
                    "system_users.server_id",
                    "user",
                    "this server already has a site user of that name",
                ),
            ],
        ));
    }
    db::servers::log(
        pool,
        server.id,
        LogLevel::Info,
        &format!("site {} created as {}", input.domain, user),
        &serde_json::json!({ "site_id": site_id }),
    )
    .await?;
    provision(state, site_id, actor).await?;
    Ok(site_id)
}

/// The site's spec rebuilt from its stored row (values were parsed when stored; parsing again
/// keeps a hand-edited database from reaching a node).
pub(crate) fn spec_of(
    site: &Site,
    secrets: &SecretBox,
) -> Result<(SiteSpec, Option<String>), String> {
    let domain = SiteDomain::parse(&site.domain).map_err(|e| format!("stored domain: {e}"))?;
    let aliases: Vec<String> = serde_json::from_str(&site.aliases).map_err(|e| e.to_string())?;
    let aliases = aliases
        .iter()
        .map(|a| SiteDomain::parse(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("stored alias: {e}"))?;
    let user = SiteUser::parse(site.username.as_deref().unwrap_or_default())
        .map_err(|e| format!("stored user: {e}"))?;
    let (database, password) = match (&site.db_type, &site.db_name, &site.db_username) {
        (Some(engine), Some(name), Some(username)) => {
            let spec = DbSpec {
                engine: *engine,
                name: DbName::parse(name).map_err(|e| format!("stored database: {e}"))?,
                user: DbName::parse(username).map_err(|e| format!("stored database user: {e}"))?,
            };
            let id = site.db_id.map(|i| i.to_string()).unwrap_or_default();
            let sealed = site.db_password_encrypted.as_deref().unwrap_or_default();
            let plain = secrets
                .open(sealed, db_secret_context(&id))
                .map_err(|_| "the database password cannot be decrypted".to_owned())?;
            let pw = String::from_utf8(plain.to_vec()).map_err(|e| e.to_string())?;
            (Some(spec), Some(pw))
        }
        _ => (None, None),
    };
    let env = env_of(site, secrets)?;
    let mcs = site
        .mcs_id
        .and_then(McsPair::from_id)
        .ok_or_else(|| "the site has no SELinux category pair".to_owned())?;
    Ok((
        SiteSpec {
            mcs,
            domain,
            aliases,
            app_type: site.app_type,
            php: site.php_version,
            user,
            database,
            env,
        },
        password,
    ))
}

/// The site's own `.env` entries, decrypted.
pub fn env_of(site: &Site, secrets: &SecretBox) -> Result<Vec<(EnvKey, String)>, String> {
    let Some(sealed) = &site.env_encrypted else {
        return Ok(Vec::new());
    };
    let id = site.id.to_string();
    let plain = secrets
        .open(sealed, env_secret_context(&id))
        .map_err(|_| "the site's .env cannot be decrypted".to_owned())?;
    let map: Vec<(String, String)> = serde_json::from_slice(&plain).map_err(|e| e.to_string())?;
    map.into_iter()
        .map(|(k, v)| {
            Ok((
                EnvKey::parse(&k).map_err(|e| format!("stored key: {e}"))?,
                v,
            ))
        })
        .collect()
}

/// Connect to the site's server for a job.
async fn connect(
    ctx: &JobContext,
    pool: &Pool,
    secrets: &SecretBox,
    server: &Server,
) -> Result<Session, JobFailure> {
    crate::servers::open_session(ctx, pool, secrets, server).await
}

/// What a site job does once connected.
enum Work {
    Provision,
    Suspend,
    Delete(DeleteScope),
    RotatePassword(String),
    WriteEnv,
}

impl Work {
    fn kind(&self) -> &'static str {
        match self {
            Work::Provision => "site.provision",
            Work::Suspend => "site.suspend",
            Work::Delete(_) => "site.delete",
            Work::RotatePassword(_) => "site.rotate_password",
            Work::WriteEnv => "site.write_env",
        }
    }

    fn title(&self, domain: &str) -> String {
        match self {
            Work::Provision => format!("Provision {domain}"),
            Work::Suspend => format!("Suspend {domain}"),
            Work::Delete(_) => format!("Delete {domain}"),
            Work::RotatePassword(_) => format!("Rotate the database password of {domain}"),
            Work::WriteEnv => format!("Write the .env of {domain}"),
        }
    }
}

async fn submit(
    state: &AppState,
    site: &Site,
    work: Work,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    let server = db::servers::get(&state.db, site.server_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let spec = JobSpec {
        server_id: Some(server.id),
        actor_id: actor,
        kind: work.kind(),
        args: serde_json::json!({ "server_id": server.id, "site_id": site.id }),
        title: work.title(&site.domain),
        lane: Some(site.id.to_string()),
    };
    let (pool, secrets, config) = (
        state.db.clone(),
        state.secrets.clone(),
        state.config.clone(),
    );
    let site_id = site.id;
    let job = state
        .jobs
        .submit(spec, move |ctx| async move {
            let site = db::sites::get(&pool, site_id)
                .await?
                .ok_or_else(|| JobFailure::new("the site no longer exists"))?;
            let result = perform(&ctx, &pool, &secrets, &config, &server, &site, &work).await;
            finish(&pool, &server, &site, &work, &result).await?;
            result
        })
        .await?;
    db::sites::set_last_job(&state.db, site.id, job).await?;
    Ok(job)
}

async fn perform(
    ctx: &JobContext,
    pool: &Pool,
    secrets: &SecretBox,
    config: &crate::config::Config,
    server: &Server,
    site: &Site,
    work: &Work,
) -> Result<(), JobFailure> {
    let (spec, password) = spec_of(site, secrets).map_err(JobFailure::new)?;
    let profile = Profile::new(server.os_version);
    let driver = driver(server);
    let mut redact: Vec<String> = password.iter().cloned().collect();
    let plan: Plan = match work {
        Work::Provision => {
            let secret = crate::servers::callback_secret(pool, secrets, server.id)
                .await
                .map_err(|e| JobFailure::new(e.public_message()))?;
            redact.push(secret.clone());
            let confirm = Confirm {
                panel_url: config.url.trim_end_matches('/').to_owned(),
                server_id: server.id.to_string(),
                site_id: site.id.to_string(),
                secret,
            };
            steps::provision(
                profile,
                driver,
                &spec,
                &PlanSecrets {
                    db_password: password,
                },
                Some(&confirm),
            )
        }
        Work::Suspend => steps::suspend(profile, driver, &spec),
        Work::Delete(scope) => steps::delete(profile, driver, &spec, *scope),
        Work::RotatePassword(new) => {
            redact.push(new.clone());
            steps::rotate_password(&spec, new, profile, driver)
        }
        Work::WriteEnv => steps::write_env(&spec, password.as_deref(), profile, driver),
    };
    let session = connect(ctx, pool, secrets, server).await?;
    let started = std::time::Instant::now();
    let result = crate::provision::run::Runner::new(ctx, &session)
        .redacting(redact)
        .run(&plan)
        .await;
    if let Ok(report) = &result {
        // Where the time went: waiting on the node vs the panel's own work (benchmarked).
        let total = started.elapsed();
        ctx.log(
            "panel",
            &format!(
                "Timing: {} remote commands, {} ms on the node, {} ms in the panel",
                report.commands,
                report.remote.as_millis(),
                total.saturating_sub(report.remote).as_millis()
            ),
        );
    }
    if let (Ok(_), Work::Provision) = (&result, work) {
        // The user's uid, for the record.
        if let Ok(out) = session
            .run(
                &crate::ssh::Command::new("id")
                    .flag("-u")
                    .operand(spec.user.as_str()),
                Duration::from_secs(20),
                |_, _| {},
            )
            .await
        {
            if let Ok(uid) = out.stdout.trim().parse::<i64>() {
                db::sites::set_uid(pool, site.id, uid).await?;
            }
        }
    }
    session.disconnect().await;
    let report = result?;
    if !report.skipped.is_empty() {
        ctx.log(
            "panel",
            &format!("Already done, skipped: {}", report.skipped.join("; ")),
        );
    }
    Ok(())
}

/// Record a job's outcome: the site's status and a line in the server's log.
async fn finish(
    pool: &Pool,
    server: &Server,
    site: &Site,
    work: &Work,
    result: &Result<(), JobFailure>,
) -> sqlx::Result<()> {
    let reason = result.as_ref().err().map(|f| f.message.as_str());
    let (status, message) = match (work, result) {
        (Work::Provision, Ok(())) => (Some(SiteStatus::Active), "site is active"),
        (Work::Provision, Err(_)) => (Some(SiteStatus::Error), "site provisioning failed"),
        (Work::Suspend, Ok(())) => (Some(SiteStatus::Suspended), "site suspended"),
        (Work::Suspend, Err(_)) => (Some(SiteStatus::Error), "suspending the site failed"),
        (Work::Delete(_), Ok(())) => (None, "site deleted"),
        (Work::Delete(_), Err(_)) => (Some(SiteStatus::Error), "deleting the site failed"),
        (Work::RotatePassword(_), Ok(())) => (None, "database password rotated"),
        (Work::RotatePassword(_), Err(_)) => (None, "rotating the database password failed"),
        (Work::WriteEnv, Ok(())) => (None, ".env written"),
        (Work::WriteEnv, Err(_)) => (None, "writing the .env failed"),
    };
    let level = if result.is_ok() {
        LogLevel::Info
    } else {
        LogLevel::Error
    };
    db::servers::log(
        pool,
        server.id,
        level,
        &format!("{}: {message}", site.domain),
        &serde_json::json!({ "site_id": site.id, "reason": reason }),
    )
    .await?;
    if let (Work::Delete(_), Ok(())) = (work, result) {
        return db::sites::delete(pool, site).await;
    }
    if site.db_id.is_some() && matches!(work, Work::Provision) {
        db::sites::set_database_status(
            pool,
            site.id,
            if result.is_ok() { "active" } else { "error" },
        )
        .await?;
    }
    if let Some(status) = status {
        db::sites::set_status(pool, site.id, status, reason).await?;
    }
    Ok(())
}

/// Provision (or resume provisioning): `provisioning`, then `active` or `error`.
pub async fn provision(state: &AppState, id: SiteId, actor: Option<UserId>) -> AppResult<JobId> {
    let site = db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    db::sites::set_status(&state.db, id, SiteStatus::Provisioning, None).await?;
    submit(state, &site, Work::Provision, actor).await
}

fn busy(site: &Site) -> AppResult<()> {
    if matches!(
        site.status,
        SiteStatus::Provisioning | SiteStatus::Deleting | SiteStatus::Creating
    ) {
        return Err(AppError::Conflict(
            "The site has a job running; wait for it to finish.".into(),
        ));
    }
    Ok(())
}

async fn load(state: &AppState, id: SiteId) -> AppResult<Site> {
    db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Retry after an error: the steps already done are checked and skipped.
pub async fn retry(state: &AppState, id: SiteId, actor: Option<UserId>) -> AppResult<JobId> {
    let site = load(state, id).await?;
    if site.status != SiteStatus::Error {
        return Err(AppError::Conflict(
            "Only a site in error can be retried.".into(),
        ));
    }
    provision(state, id, actor).await
}

pub async fn suspend(state: &AppState, id: SiteId, actor: Option<UserId>) -> AppResult<JobId> {
    let site = load(state, id).await?;
    if site.status != SiteStatus::Active {
        return Err(AppError::Conflict(
            "Only an active site can be suspended.".into(),
        ));
    }
    submit(state, &site, Work::Suspend, actor).await
}

/// Resume a suspended site: provisioning again puts its vhost and pool back.
pub async fn resume(state: &AppState, id: SiteId, actor: Option<UserId>) -> AppResult<JobId> {
    let site = load(state, id).await?;
    if site.status != SiteStatus::Suspended {
        return Err(AppError::Conflict(
            "Only a suspended site can be resumed.".into(),
        ));
    }
    provision(state, id, actor).await
}

/// The delete form: the domain typed again, and what else goes.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    pub confirm: String,
    #[serde(default)]
    pub delete_files: Option<String>,
    #[serde(default)]
    pub delete_database: Option<String>,
}

pub async fn delete(
    state: &AppState,
    id: SiteId,
    form: &DeleteForm,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    let site = load(state, id).await?;
    busy(&site)?;
    if form.confirm.trim() != site.domain {
        return Err(AppError::Invalid(vec![FieldError::new(
            "confirm",
            format!("type {} to confirm", site.domain),
        )]));
    }
    let scope = DeleteScope {
        files: form.delete_files.is_some(),
        database: form.delete_database.is_some(),
    };
    db::sites::set_status(&state.db, id, SiteStatus::Deleting, None).await?;
    submit(state, &site, Work::Delete(scope), actor).await
}

/// The `.env` editor: `KEY=value` lines; every key and value checked; all errors at once.
pub fn parse_env_text(text: &str) -> Result<Vec<(EnvKey, String)>, FieldErrors> {
    let mut out: Vec<(EnvKey, String)> = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            errors.push(FieldError::new(
                "env",
                format!("line {}: expected KEY=value", n + 1),
            ));
            continue;
        };
        match EnvKey::parse(k) {
            Ok(key) if out.iter().any(|(o, _)| *o == key) => errors.push(FieldError::new(
                "env",
                format!("line {}: {key} is set twice", n + 1),
            )),
            Ok(key) => match check_env_value(v) {
                Ok(()) => out.push((key, v.to_owned())),
                Err(m) => errors.push(FieldError::new("env", format!("line {}: {m}", n + 1))),
            },
            Err(m) => errors.push(FieldError::new("env", format!("line {}: {m}", n + 1))),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Store new `.env` entries (sealed) and write the file on the node.
pub async fn update_env(
    state: &AppState,
    id: SiteId,
    entries: &[(EnvKey, String)],
    actor: Option<UserId>,
) -> AppResult<JobId> {
    let site = load(state, id).await?;
    busy(&site)?;
    let plain: Vec<(&str, &str)> = entries
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let json = serde_json::to_vec(&plain).map_err(|e| AppError::Internal(e.into()))?;
    let id_text = site.id.to_string();
    let sealed = state.secrets.seal(&json, env_secret_context(&id_text));
    db::sites::set_env(&state.db, id, &sealed).await?;
    let site = load(state, id).await?;
    submit(state, &site, Work::WriteEnv, actor).await
}

/// A new generated password: set on the server and in the `.env`; stored once both took.
pub async fn rotate_password(
    state: &AppState,
    id: SiteId,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    let site = load(state, id).await?;
    busy(&site)?;
    let Some(db_id) = site.db_id else {
        return Err(AppError::Conflict("This site has no database.".into()));
    };
    let password = generate_password();
    // Stored before the job runs: if the job fails half-way the retry uses this same value,
    // and the panel never loses the password the server may already have.
    let id_text = db_id.to_string();
    let sealed = state
        .secrets
        .seal(password.as_bytes(), db_secret_context(&id_text));
    db::sites::set_db_password(&state.db, db_id, &sealed).await?;
    submit(state, &site, Work::RotatePassword(password), actor).await
}

/// Show a database password to a logged-in user; every reveal is written to the server log.
pub async fn reveal_password(
    state: &AppState,
    id: SiteId,
    actor: Option<UserId>,
) -> AppResult<String> {
    let site = load(state, id).await?;
    let (_, password) =
        spec_of(&site, &state.secrets).map_err(|m| AppError::Internal(anyhow::anyhow!(m)))?;
    let password =
        password.ok_or_else(|| AppError::Conflict("This site has no database.".into()))?;
    db::servers::log(
        &state.db,
        site.server_id,
        LogLevel::Warning,
        &format!("database password of {} revealed", site.domain),
        &serde_json::json!({ "site_id": site.id, "user_id": actor }),
    )
    .await?;
    Ok(password)
}

/// `POST /api/callbacks/site-created`, verified like server-ready: the site is confirmed.
#[derive(Debug, Deserialize)]
pub struct CreatedReport {
    pub server_id: String,
    pub site_id: String,
    #[serde(default)]
    pub domain: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(domain: &str) -> SiteForm {
        SiteForm {
            domain: domain.into(),
            app_type: "php".into(),
            php_version: "8.2".into(),
            database: "mariadb".into(),
            ..Default::default()
        }
    }

    #[test]
    fn every_field_is_checked_at_once() {
        let f = SiteForm {
            domain: "ex$(id).com".into(),
            aliases: "ok.com -oProxyCommand=id".into(),
            app_type: "joomla".into(),
            php_version: "5.6".into(),
            database: "oracle".into(),
            user: "root".into(),
            db_name: "a'b".into(),
            ..Default::default()
        };
        let errs = parse_input(&f).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "domain",
                "aliases",
                "app_type",
                "php_version",
                "user",
                "database",
                "db_name"
            ]
        );
    }

    #[test]
    fn defaults_come_from_the_domain() {
        let i = parse_input(&form("Shop.Example.com.")).unwrap();
        assert_eq!(i.domain.as_str(), "shop.example.com");
        let db = i.database.unwrap();
        assert_eq!(
            (db.name.as_str(), db.user.as_str()),
            ("shop_example_com", "shop_example_com")
        );
        assert_eq!(
            next_user(&["web1".into(), "web7".into(), "x".into()]).as_str(),
            "web8"
        );
        assert_eq!(next_user(&[]).as_str(), "web1");
    }

    #[test]
    fn passwords_are_long_and_plain() {
        let p = generate_password();
        assert_eq!(p.len(), 32);
        assert!(p.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(p, generate_password());
    }

    #[test]
    fn env_text_is_checked_line_by_line() {
        let ok = parse_env_text("# comment\nMAIL_HOST=smtp.example.com\nAPP_KEY=base64:abc=def\n")
            .unwrap();
        assert_eq!(ok[1].1, "base64:abc=def");
        let errs = parse_env_text("A B=1\nPATH=/x\n1A=2\n=3\nnovalue\nX=1\nX=2").unwrap_err();
        assert_eq!(errs.len(), 6, "{errs:?}");
    }
}
