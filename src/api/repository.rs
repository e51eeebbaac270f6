//! A site's repository over the API: its settings, its deploy key, and the git host's key
//! (read from the site's server, trusted only when confirmed, as in the UI: no trust on first
//! use).

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiResult;
use super::ops::{Tag, Token, site_on_reachable};
use crate::db;
use crate::domain::Perm;
use crate::state::AppState;

/// Where a site deploys from.
#[derive(Object)]
pub struct RepositorySettings {
    /// `git@host:owner/repo.git`, `ssh://…` or `https://…`.
    #[oai(validator(min_length = 1, max_length = 500))]
    pub url: String,
    #[oai(validator(min_length = 1, max_length = 255))]
    pub branch: String,
    /// Releases kept for rolling back (1–20; default 5).
    #[oai(validator(minimum(value = "1"), maximum(value = "20")))]
    pub keep_releases: Option<u32>,
    /// Runs in the new release as the site user before it goes live.
    #[oai(default, validator(max_length = 20000))]
    pub deploy_script: String,
}

/// A site's repository as the panel holds it (never the private key or the webhook secret).
#[derive(Object)]
pub struct Repository {
    pub url: String,
    pub branch: String,
    pub keep_releases: i64,
    pub deploy_script: String,
    /// Add this key to the git host (read access).
    pub deploy_key_public: String,
    pub deploy_key_fingerprint: String,
    /// Whether deploys trust the git host's key yet.
    pub git_host_confirmed: bool,
    #[oai(skip_serializing_if_is_none)]
    pub current_release: Option<String>,
}

impl From<db::deployments::Repository> for Repository {
    fn from(r: db::deployments::Repository) -> Self {
        Self {
            url: r.url,
            branch: r.branch,
            keep_releases: r.keep_releases,
            deploy_script: r.deploy_script,
            deploy_key_public: r.deploy_key_public.trim().to_owned(),
            deploy_key_fingerprint: r.deploy_key_fingerprint,
            git_host_confirmed: r.confirmed_host_keys.is_some_and(|k| !k.trim().is_empty()),
            current_release: r.current_release,
        }
    }
}

/// One of the git host's keys.
#[derive(Object)]
pub struct HostKey {
    pub key_type: String,
    /// `SHA256:…`: compare it with what the git host publishes.
    pub fingerprint: String,
}

/// What a scan of the git host found.
#[derive(Object)]
pub struct HostKeys {
    /// A well-known host whose keys all matched its published fingerprints: trusted already.
    pub confirmed: bool,
    pub keys: Vec<HostKey>,
}

/// The fingerprints the caller checked and trusts.
#[derive(Object)]
pub struct Confirm {
    #[oai(validator(min_items = 1, max_items = 20))]
    pub fingerprints: Vec<String>,
}

#[derive(ApiResponse)]
enum Confirmed {
    /// Deploys now trust these keys.
    #[oai(status = 204)]
    Done,
}

pub struct RepoApi;

#[OpenApi]
impl RepoApi {
    /// The site's repository settings and deploy key.
    #[oai(
        path = "/sites/:id/repository",
        method = "get",
        tag = "Tag::Deployments",
        operation_id = "sites.repository.get"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Json<Repository>> {
        let (site, _) = site_on_reachable(&state, req, &id.0, Perm::View).await?;
        let repo = db::deployments::repository(&state.db, site.id)
            .await?
            .ok_or_else(super::ApiError::not_found)?;
        Ok(Json(repo.into()))
    }

    /// Connect (or change) the site's repository; the first time makes its deploy key.
    #[oai(
        path = "/sites/:id/repository",
        method = "put",
        tag = "Tag::Deployments",
        operation_id = "sites.repository.update"
    )]
    async fn put(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        body: Json<RepositorySettings>,
    ) -> ApiResult<Json<Repository>> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Manage).await?;
        let form = crate::deployments::RepositoryForm {
            url: body.0.url,
            branch: body.0.branch,
            keep_releases: body
                .0
                .keep_releases
                .map(|k| k.to_string())
                .unwrap_or_default(),
            deploy_script: body.0.deploy_script,
        };
        crate::deployments::settings::save(&state, site.id, &form, who.user_id).await?;
        let repo = db::deployments::repository(&state.db, site.id)
            .await?
            .ok_or_else(super::ApiError::not_found)?;
        Ok(Json(repo.into()))
    }

    /// Read the git host's keys from the site's server (ssh-keyscan there).
    #[oai(
        path = "/sites/:id/git-host/scan",
        method = "post",
        tag = "Tag::Deployments",
        operation_id = "sites.git_host.scan"
    )]
    async fn scan(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Json<HostKeys>> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Manage).await?;
        let scan = crate::deployments::git_host::scan(&state, site.id, who.user_id).await?;
        let (confirmed, keys) = match scan {
            crate::deployments::git_host::Scan::Confirmed(k) => (true, k),
            crate::deployments::git_host::Scan::Pending(k) => (false, k),
        };
        Ok(Json(HostKeys {
            confirmed,
            keys: keys
                .iter()
                .map(|k| HostKey {
                    key_type: k.key_type().to_owned(),
                    fingerprint: k.fingerprint().to_owned(),
                })
                .collect(),
        }))
    }

    /// Trust the scanned keys whose fingerprints the caller checked (all of them).
    #[oai(
        path = "/sites/:id/git-host/confirm",
        method = "post",
        tag = "Tag::Deployments",
        operation_id = "sites.git_host.confirm"
    )]
    async fn confirm(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        body: Json<Confirm>,
    ) -> ApiResult<Confirmed> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Manage).await?;
        let form = crate::deployments::git_host::ConfirmForm {
            fingerprints: body.0.fingerprints.join(" "),
        };
        crate::deployments::git_host::confirm(&state, site.id, &form, who.user_id).await?;
        Ok(Confirmed::Done)
    }
}
