//! Jobs: every remote operation with its live log.

mod handlers;
pub(crate) mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Perm::View, Method::GET, paths::JOBS, handlers::index),
        RouteSpec::user(Perm::View, Method::GET, paths::JOB, handlers::show),
        RouteSpec::user(Perm::View, Method::GET, paths::JOB_EVENTS, handlers::events),
        RouteSpec::user(
            Perm::Operate,
            Method::POST,
            paths::JOB_RETRY,
            handlers::retry,
        ),
    ]
}

/// A job named in a site tab's address (`?job=ID`, where a change sends the browser), shown on
/// the tab while it runs: only when it is one of `kinds` and of this very site.
pub(crate) async fn of_site(
    state: &crate::state::AppState,
    job: Option<&str>,
    site: crate::ids::SiteId,
    kinds: &[crate::domain::JobKind],
) -> crate::error::AppResult<
    Option<(
        Vec<crate::db::jobs::Step>,
        Vec<crate::db::jobs::LogLine>,
        crate::db::jobs::Job,
    )>,
> {
    let id = job.and_then(|j| j.parse().ok());
    Ok(crate::db::jobs::with_log(&state.db, id)
        .await?
        .filter(|(_, _, j)| {
            kinds.contains(&j.kind)
                && serde_json::from_str::<serde_json::Value>(&j.args)
                    .is_ok_and(|a| a["site_id"].as_str() == Some(&site.to_string()))
        }))
}

/// A site tab's address: the job a change there started, if any (`of_site` shows it).
#[derive(serde::Deserialize)]
pub struct TabQuery {
    #[serde(default)]
    pub job: Option<String>,
}

/// Back to a site's tab (`pattern` with the site's id) after a change, with the job it started.
pub(crate) fn back_to(
    pattern: &str,
    site: crate::ids::SiteId,
    job: Option<crate::ids::JobId>,
) -> poem::Response {
    let tab = crate::paths::with_id(pattern, site);
    match job {
        Some(j) => crate::web::htmx::redirect(&format!("{tab}?job={j}")),
        None => crate::web::htmx::redirect(&tab),
    }
}

/// A site tab's form answered: back to the tab (with the job the change started), or, when a
/// field was typed wrong, the tab again with the form and its errors (422).
pub(crate) async fn answer_form(
    result: crate::error::AppResult<Option<crate::ids::JobId>>,
    pattern: &str,
    site: crate::ids::SiteId,
    again: impl AsyncFnOnce(Vec<crate::error::FieldError>) -> crate::error::AppResult<maud::Markup>,
) -> crate::error::AppResult<poem::Response> {
    use poem::IntoResponse;
    match result {
        Ok(job) => Ok(back_to(pattern, site, job)),
        Err(crate::error::AppError::Invalid(errors)) => Ok(again(errors)
            .await?
            .with_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()),
        Err(e) => Err(e),
    }
}
