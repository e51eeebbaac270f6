use maud::Markup;
use poem::http::StatusCode;
use poem::web::{Data, Form, Json, Path, Query};
use poem::{Body, IntoResponse, Request, Response, handler};

use super::views;
use crate::db;
use crate::deployments::push::{self, Outcome};
use crate::deployments::webhook::{self as hooks, Headers, Refusal};
use crate::deployments::{self, RepositoryForm, Trigger};
use crate::domain::{DeploymentTrigger, ListForm, TimeSort};
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{DeploymentId, SiteId};
use crate::paths;
use crate::web::listing::{self, ListView};
use crate::web::session;
use crate::web::{AppState, htmx};

/// How many deployments the lists show.
const PAGE_SIZE: i64 = 100;

fn site_id(id: &str) -> AppResult<SiteId> {
    id.parse().map_err(|_| AppError::NotFound)
}

fn deployment_id(id: &str) -> AppResult<DeploymentId> {
    id.parse().map_err(|_| AppError::NotFound)
}

#[handler]
pub async fn index(
    state: Data<&AppState>,
    Query(form): Query<DeploymentListForm>,
) -> AppResult<Markup> {
    let query = listing::parse(&form.list, TimeSort::Newest)?;
    let mut errors = Vec::new();
    let filter = db::deployments::DeploymentFilter {
        site: listing::filter_value(&form.site, "site", "not a site", &mut errors),
        status: listing::filter_value(
            &form.status,
            "status",
            "not a deployment status",
            &mut errors,
        ),
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let page = db::deployments::page(&state.db, &query, &filter).await?;
    let list = ListView::new(paths::DEPLOYMENTS, &query)
        .filter("site", &form.site)
        .filter("status", &form.status);
    Ok(views::index(&list, &page, filter.status))
}

/// The deployments list's query string: the list's own fields, a site and a status.
#[derive(Debug, Default, serde::Deserialize)]
pub struct DeploymentListForm {
    #[serde(flatten)]
    list: ListForm,
    #[serde(default)]
    site: String,
    #[serde(default)]
    status: String,
}

#[handler]
pub async fn show(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Markup> {
    let d = db::deployments::get(&state.db, deployment_id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let job = db::jobs::with_log(&state.db, d.job_id).await?;
    let repo = db::deployments::repository(&state.db, d.site_id).await?;
    let live = repo.as_ref().and_then(|r| r.current_release.clone());
    Ok(views::show(&d, job.as_ref(), live.as_deref()))
}

fn to_deployment(id: DeploymentId) -> Response {
    htmx::redirect(&paths::with_id(paths::DEPLOYMENT, id))
}

#[handler]
pub async fn rollback(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let new = deployments::queue_rollback(&state, deployment_id(&id)?, session::actor(req)).await?;
    Ok(to_deployment(new))
}

/// Deploy the same branch again (a new release of its newest commit).
#[handler]
pub async fn redeploy(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let d = db::deployments::get(&state.db, deployment_id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let branch = crate::domain::GitBranch::parse(&d.branch).ok();
    let new = deployments::queue_deploy(
        &state,
        d.site_id,
        Trigger {
            by: DeploymentTrigger::Ui,
            actor: session::actor(req),
            detail: None,
        },
        branch,
    )
    .await?;
    Ok(to_deployment(new))
}

/// The Deployments tab of a site, with `form` and its `errors` when a save was refused.
async fn tab(
    state: &AppState,
    id: SiteId,
    form: Option<&RepositoryForm>,
    errors: &[FieldError],
    secret: Option<&str>,
    host_key_notice: Option<&str>,
) -> AppResult<Markup> {
    let site = db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let repo = db::deployments::repository(&state.db, id).await?;
    let history = db::deployments::for_site(&state.db, id, PAGE_SIZE).await?;
    let form = match (form, &repo) {
        (Some(f), _) => f.clone(),
        (None, Some(r)) => RepositoryForm {
            url: r.url.clone(),
            branch: r.branch.clone(),
            keep_releases: r.keep_releases.to_string(),
            deploy_script: r.deploy_script.clone(),
        },
        (None, None) => RepositoryForm {
            branch: "main".into(),
            keep_releases: "5".into(),
            deploy_script: deployments::default_script(site.app_type),
            ..Default::default()
        },
    };
    let webhook_url = format!(
        "{}{}",
        state.config.url.trim_end_matches('/'),
        paths::with_id(paths::WEBHOOK_DEPLOY, id)
    );
    Ok(views::site_tab(&views::SiteTab {
        site: &site,
        repo: repo.as_ref(),
        history: &history,
        form: &form,
        errors,
        webhook_url: &webhook_url,
        revealed_secret: secret,
        host_key_notice,
    }))
}

fn back(id: SiteId) -> Response {
    htmx::redirect(&paths::with_id(paths::SITE_DEPLOYMENTS, id))
}

#[handler]
pub async fn site_tab(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Markup> {
    tab(&state, site_id(&id)?, None, &[], None, None).await
}

#[handler]
pub async fn save_repository(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<RepositoryForm>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    match deployments::save(&state, id, &form, session::actor(req)).await {
        Ok(()) => Ok(back(id)),
        Err(AppError::Invalid(errors)) => Ok(tab(&state, id, Some(&form), &errors, None, None)
            .await?
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()),
        Err(e) => Err(e),
    }
}

#[handler]
pub async fn deploy(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let new = deployments::queue_deploy(
        &state,
        site_id(&id)?,
        Trigger {
            by: DeploymentTrigger::Ui,
            actor: session::actor(req),
            detail: None,
        },
        None,
    )
    .await?;
    Ok(to_deployment(new))
}

#[handler]
pub async fn regenerate_key(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    deployments::regenerate_key(&state, id, session::actor(req)).await?;
    Ok(back(id))
}

/// The deploy key's public half as text (what the copy button fetches).
#[handler]
pub async fn public_key(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Response> {
    let repo = db::deployments::repository(&state.db, site_id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Response::builder()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{}\n", repo.deploy_key_public)))
}

/// Reveal on demand (a POST: CSRF-checked, never cached or linked); audited.
#[handler]
pub async fn reveal_secret(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    let secret = deployments::reveal_webhook_secret(&state, id, session::actor(req)).await?;
    Ok(tab(&state, id, None, &[], Some(&secret), None)
        .await?
        .with_header("Cache-Control", "no-store")
        .into_response())
}

#[handler]
pub async fn rotate_secret(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    deployments::rotate_webhook_secret(&state, id, session::actor(req)).await?;
    Ok(back(id))
}

/// Read the git host's keys from the site's server; the tab shows them (or that they matched a
/// well-known host's published fingerprints, or why they could not be read).
#[handler]
pub async fn scan_git_host(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    match deployments::git_host::scan(&state, id, session::actor(req)).await {
        Ok(_) => Ok(back(id)),
        Err(AppError::Conflict(reason)) => Ok(tab(&state, id, None, &[], None, Some(&reason))
            .await?
            .with_status(StatusCode::CONFLICT)
            .into_response()),
        Err(e) => Err(e),
    }
}

/// Trust the scanned keys the tab showed.
#[handler]
pub async fn confirm_git_host(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<deployments::git_host::ConfirmForm>,
) -> AppResult<Response> {
    let id = site_id(&id)?;
    match deployments::git_host::confirm(&state, id, &form, session::actor(req)).await {
        Ok(()) => Ok(back(id)),
        Err(AppError::Invalid(errors)) => {
            let reason = errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            Ok(tab(&state, id, None, &[], None, Some(&reason))
                .await?
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
        Err(AppError::Conflict(reason)) => Ok(tab(&state, id, None, &[], None, Some(&reason))
            .await?
            .with_status(StatusCode::CONFLICT)
            .into_response()),
        Err(e) => Err(e),
    }
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    Json(body).with_status(status).into_response()
}

/// `POST /api/webhooks/deploy/{site}`: a push from GitHub, GitLab or a plain-HMAC sender. The
/// body is verified before it is parsed; a genuine push to the site's branch is queued (202),
/// a push to another branch or any other event is acknowledged and ignored (202), and nothing
/// is queued for a bad signature (401), a replay (409) or an oversized body (413).
#[handler]
pub async fn webhook(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    body: Body,
) -> AppResult<Response> {
    let body = match body.into_bytes_limit(hooks::MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return Ok(answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                serde_json::json!({ "error": format!("the body is larger than {} KiB", hooks::MAX_BODY / 1024) }),
            ));
        }
    };
    let Ok(id) = id.parse::<SiteId>() else {
        return Ok(answer(
            StatusCode::NOT_FOUND,
            serde_json::json!({ "error": "no webhook here" }),
        ));
    };
    let headers = Headers {
        github_signature: req.header("X-Hub-Signature-256"),
        github_delivery: req.header("X-GitHub-Delivery"),
        github_event: req.header("X-GitHub-Event"),
        gitlab_token: req.header("X-Gitlab-Token"),
        gitlab_event_uuid: req.header("X-Gitlab-Event-UUID"),
        gitlab_event: req.header("X-Gitlab-Event"),
        idempotency_key: req.header("Idempotency-Key"),
        panel_signature: req.header("X-Panel-Signature"),
        panel_timestamp: req.header("X-Panel-Timestamp"),
    };
    let (status, body) = match push::receive(&state, id, &headers, &body).await? {
        Outcome::NotFound => (
            StatusCode::NOT_FOUND,
            serde_json::json!({ "error": "no webhook here" }),
        ),
        Outcome::Refused(refusal) => {
            tracing::warn!(site = %id, ip = %session::client_ip(req, &state.config), "deploy webhook refused: {refusal}");
            let status = match refusal {
                Refusal::NoDeliveryId => StatusCode::BAD_REQUEST,
                _ => StatusCode::UNAUTHORIZED,
            };
            (status, serde_json::json!({ "error": refusal.to_string() }))
        }
        Outcome::Replayed => (
            StatusCode::CONFLICT,
            serde_json::json!({ "error": "this delivery was received before; push again or deploy from the panel" }),
        ),
        Outcome::Malformed(m) => (StatusCode::BAD_REQUEST, serde_json::json!({ "error": m })),
        Outcome::Pong => (StatusCode::OK, serde_json::json!({ "status": "pong" })),
        Outcome::Ignored(reason) => (
            StatusCode::ACCEPTED,
            serde_json::json!({ "status": "ignored", "reason": reason }),
        ),
        Outcome::SiteNotActive(status) => (
            StatusCode::CONFLICT,
            serde_json::json!({ "error": format!("the site is {status}; nothing was deployed") }),
        ),
        Outcome::NotReady(reason) => (StatusCode::CONFLICT, serde_json::json!({ "error": reason })),
        Outcome::Queued(deployment) => (
            StatusCode::ACCEPTED,
            serde_json::json!({ "status": "queued", "deployment": deployment }),
        ),
    };
    Ok(answer(status, body))
}
