//! A site's certificate over the API: its state, issuing one from the ACME directory (HTTP-01;
//! re-issued the way it was first proven), removing it. Uploads and DNS-01 settings stay in the
//! UI for now.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::ApiResult;
use super::ops::{Accepted, Tag, Token, queued, site_on_reachable};
use crate::db;
use crate::domain::Perm;
use crate::state::AppState;

/// A site's certificate (never its key).
#[derive(Object)]
pub struct Certificate {
    /// acme or custom.
    pub source: String,
    /// pending or active.
    pub status: String,
    pub names: Vec<String>,
    /// http-01 or dns-01.
    pub challenge: String,
    #[oai(skip_serializing_if_is_none)]
    pub not_after: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub issuer: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub renew_at: Option<String>,
    /// Why the last attempt failed, when it did.
    #[oai(skip_serializing_if_is_none)]
    pub error: Option<String>,
    pub failures: i64,
    #[oai(skip_serializing_if_is_none)]
    pub last_job_id: Option<String>,
}

pub struct CertApi;

#[OpenApi]
impl CertApi {
    /// The site's certificate, if it has one (404 when it has none).
    #[oai(
        path = "/sites/:id/certificate",
        method = "get",
        tag = "Tag::Sites",
        operation_id = "sites.certificate.get"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Json<Certificate>> {
        let (site, _) = site_on_reachable(&state, req, &id.0, Perm::View).await?;
        let c = db::certificates::get(&state.db, site.id)
            .await?
            .ok_or_else(super::ApiError::not_found)?;
        Ok(Json(Certificate {
            source: c.source.to_string(),
            status: c.status.to_string(),
            names: c.names.split_whitespace().map(str::to_owned).collect(),
            challenge: c.challenge.to_string(),
            not_after: c.not_after,
            issuer: c.issuer,
            renew_at: c.renew_at,
            error: c.error,
            failures: c.failures,
            last_job_id: c.last_job_id.map(|j| j.to_string()),
        }))
    }

    /// Issue (or re-issue) the site's certificate from the panel's ACME directory.
    #[oai(
        path = "/sites/:id/certificate",
        method = "post",
        tag = "Tag::Sites",
        operation_id = "sites.certificate.issue"
    )]
    async fn issue(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Accepted> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Manage).await?;
        let job = crate::certificates::issue(&state, site.id, who.user_id).await?;
        Ok(queued(job))
    }

    /// Stop serving HTTPS and forget the certificate.
    #[oai(
        path = "/sites/:id/certificate",
        method = "delete",
        tag = "Tag::Sites",
        operation_id = "sites.certificate.delete"
    )]
    async fn remove(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Accepted> {
        let (site, who) = site_on_reachable(&state, req, &id.0, Perm::Delete).await?;
        let job = crate::certificates::remove(&state, site.id, who.user_id).await?;
        Ok(queued(job))
    }
}
