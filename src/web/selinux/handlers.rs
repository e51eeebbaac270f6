use futures_util::{StreamExt, stream};
use maud::Markup;
use poem::http::header;
use poem::web::sse::{Event, SSE};
use poem::web::{Data, Path};
use poem::{Request, handler};
use tokio::sync::broadcast;

use super::views;
use crate::db;
use crate::domain::LogLevel;
use crate::error::{AppError, AppResult};
use crate::web::AppState;

/// How many audit records the page shows.
const PAGE_SIZE: i64 = 200;

#[handler]
pub async fn index(state: Data<&AppState>) -> AppResult<Markup> {
    Ok(views::index(
        &db::selinux::recent(&state.db, PAGE_SIZE).await?,
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
    let live = stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(r) if matches!(r.level, LogLevel::Warning | LogLevel::Error) => {
                    let toast = views::live_toast(&r).into_string();
                    return Some((Event::message(toast).event_type("denial"), rx));
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
