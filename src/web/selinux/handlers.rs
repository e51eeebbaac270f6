use futures_util::{StreamExt, stream};
use maud::Markup;
use poem::http::header;
use poem::web::sse::{Event, SSE};
use poem::web::{Data, Path, Query};
use poem::{Request, handler};
use tokio::sync::broadcast;

use super::views;
use crate::db;
use crate::db::selinux::Filter;
use crate::domain::LogLevel;
use crate::error::{AppError, AppResult, FieldError};
use crate::selinux::mcs::McsPair;
use crate::web::AppState;

/// How many audit records the page shows.
const PAGE_SIZE: i64 = 200;

/// The page's filters as typed in the query string.
#[derive(Debug, Default, serde::Deserialize)]
pub struct FilterForm {
    #[serde(default)]
    pub server: String,
    #[serde(default)]
    pub site: String,
    #[serde(default, rename = "type")]
    pub setype: String,
    #[serde(default)]
    pub class: String,
    #[serde(default)]
    pub period: String,
}

/// A policy name (type or class): what the kernel prints, nothing else.
fn policy_name(field: &'static str, text: &str) -> Result<Option<String>, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.len() <= 64
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        Ok(Some(t.to_owned()))
    } else {
        Err(FieldError::new(
            field,
            "a type or class name: lowercase letters, digits and _",
        ))
    }
}

async fn filter(state: &AppState, form: &FilterForm) -> AppResult<Filter> {
    let mut errors = Vec::new();
    let mut f = Filter::default();
    if !form.server.is_empty() {
        match form.server.parse() {
            Ok(id) => f.server = Some(id),
            Err(_) => errors.push(FieldError::new("server", "not a server")),
        }
    }
    if !form.site.is_empty() {
        let site = match form.site.parse() {
            Ok(id) => db::sites::get(&state.db, id).await?,
            Err(_) => None,
        };
        match site.and_then(|s| s.mcs_id).and_then(McsPair::from_id) {
            Some(pair) => f.level = Some(pair.level()),
            None => errors.push(FieldError::new("site", "not a site")),
        }
    }
    match policy_name("type", &form.setype) {
        Ok(t) => f.setype = t,
        Err(e) => errors.push(e),
    }
    match policy_name("class", &form.class) {
        Ok(c) => f.tclass = c,
        Err(e) => errors.push(e),
    }
    let span = match form.period.as_str() {
        "" | "7d" => Some(chrono::Duration::days(7)),
        "1h" => Some(chrono::Duration::hours(1)),
        "24h" => Some(chrono::Duration::days(1)),
        "30d" => Some(chrono::Duration::days(30)),
        "all" => None,
        _ => {
            errors.push(FieldError::new("period", "1h, 24h, 7d, 30d or all"));
            None
        }
    };
    f.since = span.map(|d| {
        (chrono::Utc::now() - d)
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    });
    if errors.is_empty() {
        Ok(f)
    } else {
        Err(AppError::Invalid(errors))
    }
}

#[handler]
pub async fn index(state: Data<&AppState>, Query(form): Query<FilterForm>) -> AppResult<Markup> {
    let f = filter(&state, &form).await?;
    let records = db::selinux::search(&state.db, &f, PAGE_SIZE).await?;
    let days = db::selinux::per_day(&state.db, &f, 30).await?;
    let servers = db::servers::list(&state.db).await?;
    let sites = db::sites::list(&state.db).await?;
    let hour_ago = db::timestamp(chrono::Utc::now() - chrono::Duration::hours(1));
    let rates = db::selinux::rate_per_server(&state.db, &hour_ago).await?;
    let mail = views::MailState {
        configured: state.config.smtp.is_some(),
        recent: db::mail::recent(&state.db, 10).await?,
    };
    Ok(views::index(
        &form, &servers, &sites, &days, &rates, &records, &mail,
    ))
}

/// One stored record with its parsed fields and explanation.
#[handler]
pub async fn record(state: Data<&AppState>, Path(id): Path<String>) -> AppResult<Markup> {
    let id = id.parse().map_err(|_| AppError::NotFound)?;
    let r = db::selinux::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(views::record(&r))
}

/// SSE for every signed-in page: a toast for each denial (and for SELinux being switched off)
/// as the collector stores it. A cross-site `Origin` is refused, as for the job streams.
#[handler]
pub async fn events(state: Data<&AppState>, req: &Request) -> AppResult<SSE> {
    if let Some(origin) = req.header(header::ORIGIN) {
        if origin != state.config.origin() {
            return Err(AppError::Forbidden(
                "Live updates are only served to the panel's own pages.".into(),
            ));
        }
    }
    let rx = state.audit.subscribe();
    let stopping = state.stopping.clone();
    let live = stream::unfold((rx, stopping), |(mut rx, mut stopping)| async move {
        loop {
            let received = tokio::select! {
                r = rx.recv() => r,
                // The panel is shutting down: end the stream (the page reconnects later).
                _ = stopping.wait_for(|s| *s) => return None,
            };
            match received {
                Ok(r) if matches!(r.level, LogLevel::Warning | LogLevel::Error) => {
                    let toast = views::live_toast(&r).into_string();
                    return Some((Event::message(toast).event_type("denial"), (rx, stopping)));
                }
                Ok(_) => continue,
                // A slow page misses toasts, never the records: they are on the SELinux page.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .boxed();
    Ok(SSE::new(live).keep_alive(std::time::Duration::from_secs(15)))
}
