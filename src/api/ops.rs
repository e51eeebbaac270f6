//! The API's operations. Each one: ask `authorize` with its permission (and the server its
//! target is on), parse into the action's own form, call the one action the web handler calls,
//! answer with JSON. A target on a server the token may not see is "not found", like one that
//! does not exist.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, SecurityScheme, Tags};

use super::types::*;
use super::{ApiError, ApiResult, caller};
use crate::api_tokens::TokenCaller;
use crate::db;
use crate::domain::roles::authorize;
use crate::domain::{GitBranch, ListForm, ListQuery, Perm, SiteSort, TimeSort};
use crate::ids::{DeploymentId, JobId, ServerId, SiteId};
use crate::state::AppState;

#[derive(Tags)]
pub(super) enum Tag {
    /// Managed servers.
    Servers,
    /// Sites, their databases and `.env`.
    Sites,
    /// Deployments from git and roll-backs.
    Deployments,
    /// Jobs: every remote change, with its log.
    Jobs,
    /// SSH keys, SELinux records, the audit log.
    Panel,
}

/// An API token: `Authorization: Bearer pnl_…`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "pnl_<16>_<43>", checker = "token_of")]
#[allow(dead_code)] // The guard checked the token; operations read the caller from the request.
pub(super) struct Token(TokenCaller);

async fn token_of(req: &Request, _: poem_openapi::auth::Bearer) -> Option<TokenCaller> {
    req.extensions().get::<TokenCaller>().cloned()
}

#[derive(ApiResponse)]
enum CreatedSite {
    /// The site is made; its provisioning runs as `job_id`.
    #[oai(status = 201)]
    Created(Json<Created>),
}

#[derive(ApiResponse)]
pub(super) enum Accepted {
    /// Queued as a job; follow it at `/jobs/{job_id}`.
    #[oai(status = 202)]
    Queued(Json<Queued>),
}

#[derive(ApiResponse)]
enum DeploymentAccepted {
    /// Queued; the deployment's job starts when the site's lane is free.
    #[oai(status = 202)]
    Queued(Json<DeploymentQueued>),
}

/// `authorize` for this request's token; a refusal is a 403 problem, a server the token may not
/// see is a 404 (it is not told the thing exists).
pub(super) fn allow(
    req: &Request,
    perm: Perm,
    server: Option<ServerId>,
) -> ApiResult<&TokenCaller> {
    let who = caller(req)?;
    // Reach first: a token limited elsewhere learns nothing, not even that the thing exists.
    if let Some(server) = server {
        if !who.principal.reaches(server) {
            return Err(ApiError::not_found());
        }
    }
    authorize(
        &crate::domain::Principal::new(who.principal.role),
        perm,
        None,
    )?;
    {}
    Ok(who)
}

pub(super) fn parse_id<T: std::str::FromStr>(text: &str) -> ApiResult<T> {
    text.parse().map_err(|_| ApiError::not_found())
}

/// A list's cursor query as the UI's list form (same checks, same errors).
pub(super) fn list_query<S: crate::domain::SortKey>(
    after: Option<String>,
    default: S,
) -> ApiResult<ListQuery<S>> {
    let form = ListForm {
        after: after.unwrap_or_default(),
        ..ListForm::default()
    };
    Ok(form
        .parse(default)
        .map_err(crate::error::AppError::Invalid)?)
}

pub(super) async fn site_on_reachable(
    state: &AppState,
    req: &Request,
    id: &str,
    perm: Perm,
) -> ApiResult<(db::sites::Site, TokenCaller)> {
    caller(req)?;
    let id: SiteId = parse_id(id)?;
    let site = db::sites::get(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let who = allow(req, perm, Some(site.server_id))?.clone();
    Ok((site, who))
}

pub(super) fn queued(job: JobId) -> Accepted {
    Accepted::Queued(Json(Queued {
        job_id: job.to_string(),
    }))
}

pub struct Api;

#[OpenApi]
impl Api {
    /// Sites, a page at a time (by domain), optionally of one server.
    #[oai(
        path = "/sites",
        method = "get",
        tag = "Tag::Sites",
        operation_id = "sites.list"
    )]
    async fn sites(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(max_length = 200))] after: Query<Option<String>>,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] server_id: Query<Option<String>>,
    ) -> ApiResult<Json<SitePage>> {
        let who = allow(req, Perm::View, None)?;
        let q = list_query(after.0, SiteSort::Domain)?;
        let server = server_id
            .0
            .as_deref()
            .map(parse_id::<ServerId>)
            .transpose()?;
        let filter = db::sites::SiteFilter {
            server,
            status: None,
        };
        let page = db::sites::page_within(&state.db, &q, &filter, who.principal.servers.as_deref())
            .await?;
        Ok(Json(SitePage {
            next: page.next.map(|c| c.encode()),
            items: page.rows.into_iter().map(SiteSummary::from).collect(),
        }))
    }

    /// Make a site: its Unix user, PHP-FPM pool, nginx vhost, database and `.env`, provisioned
    /// by a job.
    #[oai(
        path = "/sites",
        method = "post",
        tag = "Tag::Sites",
        operation_id = "sites.create"
    )]
    async fn create_site(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        body: Json<NewSite>,
    ) -> ApiResult<CreatedSite> {
        caller(req)?;
        let server: ServerId = parse_id(&body.0.server_id)?;
        let who = allow(req, Perm::Manage, Some(server))?;
        let id = crate::sites::create(&state, &body.0.form(), who.user_id).await?;
        let site = db::sites::get(&state.db, id).await?;
        Ok(CreatedSite::Created(Json(Created {
            id: id.to_string(),
            job_id: site.and_then(|s| s.last_job_id).map(|j| j.to_string()),
        })))
    }

    /// One site, with its database's name (not its password).
    #[oai(
        path = "/sites/:id",
        method = "get",
        tag = "Tag::Sites",
        operation_id = "sites.get"
    )]
    async fn site(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Json<Site>> {
        let (site, _) = site_on_reachable(&state, req, &id.0, Perm::View).await?;
        Ok(Json(site.into()))
    }

    /// Suspend an active site (its visitors get 503; nothing is removed).
    #[oai(
        path = "/sites/:id/suspend",
        method = "post",
        tag = "Tag::Sites",
        operation_id = "sites.suspend"
    )]
    async fn suspend(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Accepted> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Operate).await?;
        Ok(queued(
            crate::sites::suspend(&state, site.id, who.user_id).await?,
        ))
    }

    /// Resume a suspended site.
    #[oai(
        path = "/sites/:id/resume",
        method = "post",
        tag = "Tag::Sites",
        operation_id = "sites.resume"
    )]
    async fn resume(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Accepted> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Operate).await?;
        Ok(queued(
            crate::sites::resume(&state, site.id, who.user_id).await?,
        ))
    }

    /// Provision a site whose last job failed, again.
    #[oai(
        path = "/sites/:id/retry",
        method = "post",
        tag = "Tag::Sites",
        operation_id = "sites.retry"
    )]
    async fn retry(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Accepted> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Operate).await?;
        Ok(queued(
            crate::sites::retry(&state, site.id, who.user_id).await?,
        ))
    }

    /// Delete a site (`confirm` is its domain); its files and database only when asked.
    #[oai(
        path = "/sites/:id",
        method = "delete",
        tag = "Tag::Sites",
        operation_id = "sites.delete"
    )]
    // Each query parameter is an argument: that is how the document learns of it.
    #[allow(clippy::too_many_arguments)]
    async fn delete_site(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        #[oai(validator(max_length = 253))] confirm: Query<String>,
        delete_files: Query<Option<bool>>,
        delete_database: Query<Option<bool>>,
    ) -> ApiResult<Accepted> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Delete).await?;
        let yes = |b: Option<bool>| b.unwrap_or(false).then(|| "on".to_owned());
        let form = crate::sites::forms::DeleteForm {
            confirm: confirm.0,
            delete_files: yes(delete_files.0),
            delete_database: yes(delete_database.0),
        };
        Ok(queued(
            crate::sites::delete(&state, site.id, &form, who.user_id).await?,
        ))
    }

    /// The site's `.env` (it holds secrets: needs a role that may reveal them; a POST, so the
    /// audit log records every reveal).
    #[oai(
        path = "/sites/:id/env/reveal",
        method = "post",
        tag = "Tag::Sites",
        operation_id = "sites.env.get"
    )]
    async fn env(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Json<Env>> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Reveal).await?;
        let entries = crate::sites::reveal_env(&state, site.id, who.user_id).await?;
        Ok(Json(Env {
            entries: entries
                .into_iter()
                .map(|(key, value)| EnvEntry {
                    key: key.to_string(),
                    value,
                })
                .collect(),
        }))
    }

    /// Replace the site's own `.env` entries (the panel's database entries stay); written by a
    /// job.
    #[oai(
        path = "/sites/:id/env",
        method = "put",
        tag = "Tag::Sites",
        operation_id = "sites.env.update"
    )]
    async fn put_env(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        body: Json<Env>,
    ) -> ApiResult<Accepted> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Manage).await?;
        let mut text = String::new();
        let mut errors = Vec::new();
        for (i, e) in body.0.entries.iter().enumerate() {
            // One entry is one line: a line break would smuggle in another key.
            if e.value.contains(['\n', '\r'])
                || e.key.contains(['\n', '\r', '='])
                || e.key.starts_with('#')
            {
                errors.push(crate::error::FieldError::new(
                    "entries",
                    format!(
                        "entry {} holds a line break, an `=` in its key or a key that starts with #",
                        i + 1
                    ),
                ));
            }
            text.push_str(&format!("{}={}\n", e.key, e.value));
        }
        if !errors.is_empty() {
            return Err(crate::error::AppError::Invalid(errors).into());
        }
        let form = crate::sites::forms::EnvForm { env: text };
        Ok(queued(
            crate::sites::update_env(&state, site.id, &form, who.user_id).await?,
        ))
    }

    /// A new database password, written to the database and the `.env` by a job.
    #[oai(
        path = "/sites/:id/database/rotate",
        method = "post",
        tag = "Tag::Sites",
        operation_id = "sites.database.rotate"
    )]
    async fn rotate(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Accepted> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Manage).await?;
        Ok(queued(
            crate::sites::rotate_password(&state, site.id, who.user_id).await?,
        ))
    }

    /// The database password (recorded in the server's log and the audit log).
    #[oai(
        path = "/sites/:id/database/reveal",
        method = "post",
        tag = "Tag::Sites",
        operation_id = "sites.database.reveal"
    )]
    async fn reveal(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Json<Secret>> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Reveal).await?;
        let value = crate::sites::reveal_password(&state, site.id, who.user_id).await?;
        Ok(Json(Secret { value }))
    }

    /// A site's deployments, newest first.
    #[oai(
        path = "/sites/:id/deployments",
        method = "get",
        tag = "Tag::Deployments",
        operation_id = "deployments.list"
    )]
    async fn deployments(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        #[oai(validator(max_length = 200))] after: Query<Option<String>>,
    ) -> ApiResult<Json<DeploymentPage>> {
        let (site, _) = site_on_reachable(&state, req, &id.0, Perm::View).await?;
        let q = list_query(after.0, TimeSort::Newest)?;
        let filter = db::deployments::DeploymentFilter {
            site: Some(site.id),
            status: None,
        };
        let page = db::deployments::page(&state.db, &q, &filter).await?;
        Ok(Json(DeploymentPage {
            next: page.next.map(|c| c.encode()),
            items: page.rows.into_iter().map(Deployment::from).collect(),
        }))
    }

    /// Deploy the site's branch (or `branch`) from its repository.
    #[oai(
        path = "/sites/:id/deployments",
        method = "post",
        tag = "Tag::Deployments",
        operation_id = "sites.deploy"
    )]
    async fn deploy(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        body: Json<DeployRequest>,
    ) -> ApiResult<DeploymentAccepted> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Operate).await?;
        let branch = match body.0.branch.as_deref() {
            Some(b) => Some(GitBranch::parse(b).map_err(|m| {
                crate::error::AppError::Invalid(vec![crate::error::FieldError::new("branch", m)])
            })?),
            None => None,
        };
        let trigger = crate::deployments::queue::Trigger {
            by: crate::domain::DeploymentTrigger::Ui,
            actor: who.user_id,
            detail: Some(format!("API token {}", who.name)),
        };
        let id = crate::deployments::queue::queue_deploy(&state, site.id, trigger, branch).await?;
        Ok(DeploymentAccepted::Queued(Json(DeploymentQueued {
            deployment_id: id.to_string(),
        })))
    }

    /// One deployment.
    #[oai(
        path = "/deployments/:id",
        method = "get",
        tag = "Tag::Deployments",
        operation_id = "deployments.get"
    )]
    async fn deployment(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Json<Deployment>> {
        let d = deployment_of(&state, req, &id.0, Perm::View).await?;
        Ok(Json(d.into()))
    }

    /// Switch the site back to this deployment's release (it must be kept and not live).
    #[oai(
        path = "/deployments/:id/rollback",
        method = "post",
        tag = "Tag::Deployments",
        operation_id = "deployments.rollback"
    )]
    async fn rollback(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<DeploymentAccepted> {
        let d = deployment_of(&state, req, &id.0, Perm::Operate).await?;
        let who = caller(req)?;
        let id = crate::deployments::queue::queue_rollback(&state, d.id, who.user_id).await?;
        Ok(DeploymentAccepted::Queued(Json(DeploymentQueued {
            deployment_id: id.to_string(),
        })))
    }
}

async fn deployment_of(
    state: &AppState,
    req: &Request,
    id: &str,
    perm: Perm,
) -> ApiResult<db::deployments::Deployment> {
    caller(req)?;
    let id: DeploymentId = parse_id(id)?;
    let d = db::deployments::get(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let site = db::sites::get(&state.db, d.site_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    allow(req, perm, Some(site.server_id))?;
    Ok(d)
}
