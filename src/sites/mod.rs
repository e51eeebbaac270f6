//! Sites: the create form parsed into domain types, the rows stored, and the jobs that provision,
//! retry, suspend, resume and delete a site on its server. The lifecycle follows the seed's
//! state diagram: `creating` → `provisioning` → `active` | `error`; `error` → retry (resumes:
//! finished steps are checked, not redone); `active` ↔ `suspended`; delete.

pub mod forms;
pub mod jobs;
pub mod lane;
pub mod logs;
pub mod nginx;
pub mod php;
pub mod redirects;
pub mod spec;

use serde::Deserialize;

use crate::db::sites::{NewDatabase, NewSite, Site};
use crate::db::{self};
use crate::domain::{InstallStatus, LogLevel, ServerStatus, SiteStatus, Software};
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{DatabaseId, JobId, ServerId, SiteId, SystemUserId, UserId};
use crate::nodes::callbacks::{self, CallbackError, Signed};
use crate::provision::site::DeleteScope;
use crate::state::AppState;

pub use forms::{DeleteForm, EnvForm, SiteForm, SiteInput, parse_env_text, parse_input};
pub use spec::{env_of, generate_password, spec_of};

use jobs::Work;
use spec::{db_secret_context, env_secret_context};

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
    let php_installed = db::software::list(pool, server.id).await?.iter().any(|i| {
        i.software == Software::Php
            && i.version == input.php.as_str()
            && i.status == InstallStatus::Installed
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
        None => forms::next_user(&taken),
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
    if form.scheduler.is_some() {
        crate::cron::add_preset(state, site_id, input.app_type).await?;
        if input.app_type == crate::domain::AppType::WordPress {
            // WP-Cron runs from the timer, no longer on page views.
            let json = serde_json::to_vec(&[("DISABLE_WP_CRON", "true")])
                .map_err(|e| AppError::Internal(e.into()))?;
            let sealed = state
                .secrets
                .seal(&json, env_secret_context(&site_id.to_string()));
            db::sites::set_env(pool, site_id, &sealed).await?;
        }
    }
    provision(state, site_id, actor).await?;
    Ok(site_id)
}

/// Provision (or resume provisioning): `provisioning`, then `active` or `error`.
pub async fn provision(state: &AppState, id: SiteId, actor: Option<UserId>) -> AppResult<JobId> {
    let site = db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    db::sites::set_status(&state.db, id, SiteStatus::Provisioning, None).await?;
    jobs::submit(state, &site, Work::Provision, actor).await
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
    jobs::submit(state, &site, Work::Suspend, actor).await
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
    jobs::submit(state, &site, Work::Delete(scope), actor).await
}

/// Store new `.env` entries (sealed) and write the file on the node.
pub async fn update_env(
    state: &AppState,
    id: SiteId,
    form: &EnvForm,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    let entries = parse_env_text(&form.env).map_err(AppError::Invalid)?;
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
    jobs::submit(state, &site, Work::WriteEnv, actor).await
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
    jobs::submit(state, &site, Work::RotatePassword(password), actor).await
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

/// Show the site's own `.env` values to edit them (Forge shows them behind a reveal too): the
/// reveal is written to the server log with who asked.
pub async fn reveal_env(
    state: &AppState,
    id: SiteId,
    actor: Option<UserId>,
) -> AppResult<Vec<(crate::domain::EnvKey, String)>> {
    let site = load(state, id).await?;
    let entries =
        env_of(&site, &state.secrets).map_err(|m| AppError::Internal(anyhow::anyhow!(m)))?;
    db::servers::log(
        &state.db,
        site.server_id,
        LogLevel::Warning,
        &format!(".env values of {} revealed", site.domain),
        &serde_json::json!({ "site_id": site.id, "actor": actor }),
    )
    .await?;
    Ok(entries)
}

/// What a node reports when a site's provisioning reached its last step.
#[derive(Debug, Deserialize)]
pub struct CreatedReport {
    pub server_id: String,
    pub site_id: String,
    #[serde(default)]
    pub domain: String,
}

/// `POST /api/callbacks/site-created`, verified like server-ready: the site is confirmed, if
/// it is on the server that signed (a node cannot confirm another's site).
pub async fn confirm_created(
    state: &AppState,
    signed: Signed<'_>,
    body: &[u8],
) -> AppResult<Result<(ServerId, SiteId), CallbackError>> {
    let (server, report) = match callbacks::verify(state, signed, body, |r: &CreatedReport| {
        r.server_id.as_str()
    })
    .await
    {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    let Ok(site) = report.site_id.parse::<SiteId>() else {
        return Ok(Err(CallbackError::Refused));
    };
    if !db::sites::confirm(&state.db, site, server).await? {
        return Ok(Err(CallbackError::Refused));
    }
    db::servers::log(
        &state.db,
        server,
        LogLevel::Info,
        &format!(
            "{}: the node confirmed the site is created",
            report.domain.chars().take(253).collect::<String>()
        ),
        &serde_json::json!({ "site_id": site }),
    )
    .await?;
    Ok(Ok((server, site)))
}
