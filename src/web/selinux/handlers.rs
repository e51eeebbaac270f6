use futures_util::{StreamExt, stream};
use maud::Markup;
use poem::web::sse::SSE;
use poem::web::{Data, Path, Query};
use poem::{Request, handler};
use tokio::sync::broadcast;

use super::views;
use crate::db;
use crate::denials::filter::FilterForm;
use crate::domain::{LogLevel, TimeSort};
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::listing::{self, ListView};

/// How many servers the denial-rate card names.
const RATE_SERVERS: i64 = 10;

#[handler]
pub async fn index(state: Data<&AppState>, Query(form): Query<FilterForm>) -> AppResult<Markup> {
    let query = listing::parse(&form.list, TimeSort::Newest)?;
    let f = crate::denials::filter::parse(&state, &form).await?;
    let records = db::selinux::page(&state.db, &query, &f).await?;
    let days = db::selinux::per_day(&state.db, &f, 30).await?;
    let now = db::timestamp(chrono::Utc::now());
    let rates = db::selinux::rate_per_server(&state.db, &now, RATE_SERVERS).await?;
    let mail = views::MailState {
        configured: state.config.smtp.is_some(),
        recent: db::mail::recent(&state.db, 10).await?,
    };
    let list = ListView::new(crate::paths::SELINUX, &query)
        .filter("server", form.server.trim())
        .filter("site", form.site.trim())
        .filter("type", form.setype.trim())
        .filter("class", form.class.trim())
        .filter("period", &form.period);
    Ok(views::index(
        &form,
        &list,
        days.as_deref(),
        &rates,
        &records,
        &mail,
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
    crate::web::gate::same_origin_stream(req, &state.config)?;
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
                    return Some((crate::web::sse::event("denial", toast), (rx, stopping)));
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
