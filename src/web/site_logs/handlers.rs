use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream as streams;
use poem::http::header;
use poem::web::sse::{Event, SSE};
use poem::web::{Data, Path, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::views;
use crate::db;
use crate::db::servers::Server;
use crate::db::sites::Site;
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::SiteId;
use crate::sites::logs::{self, LogKind};
use crate::web::{AppState, sse};

/// How often the live view asks the node for more (a request shows within a second), and for how long one stream lasts (the page
/// offers to follow again after).
const POLL: Duration = Duration::from_millis(250);
const LIVE_FOR: Duration = Duration::from_secs(600);

#[derive(Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    log: Option<String>,
    #[serde(default)]
    q: Option<String>,
    /// The stream's starting offset (the size the page was drawn at).
    #[serde(default)]
    from: Option<u64>,
}

async fn load(state: &AppState, id: &str) -> AppResult<(Site, Server)> {
    let id: SiteId = id.parse().map_err(|_| AppError::NotFound)?;
    let site = db::sites::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let server = db::servers::get(&state.db, site.server_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((site, server))
}

fn kind_of(q: &LogQuery) -> AppResult<LogKind> {
    match q.log.as_deref() {
        None | Some("") => Ok(LogKind::Access),
        Some(name) => LogKind::parse(name).ok_or(AppError::NotFound),
    }
}

#[handler]
pub async fn tab(
    state: Data<&AppState>,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> AppResult<Response> {
    let (site, server) = load(&state, &id).await?;
    let kind = kind_of(&q)?;
    let workers = db::workers::for_site(&state.db, site.id).await?;
    let query = match logs::parse_query(q.q.as_deref().unwrap_or("")) {
        Ok(query) => query,
        Err(m) => {
            let errors = [FieldError::new("q", m)];
            let page = views::tab(
                &site,
                &workers,
                kind,
                q.q.as_deref().unwrap_or(""),
                views::Shown::Refused(&errors),
            );
            return Ok(page
                .with_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY)
                .into_response());
        }
    };
    let shown = match &query {
        Some(text) => match logs::search(&state, &server, &site, kind, text).await {
            Ok(lines) => views::Shown::Found(lines),
            Err(e) => views::Shown::Unreachable(e.to_string()),
        },
        None => match logs::read(&state, &server, &site, kind, None).await {
            Ok(piece) => views::Shown::Tail(piece),
            Err(e) => views::Shown::Unreachable(e.to_string()),
        },
    };
    Ok(views::tab(&site, &workers, kind, query.as_deref().unwrap_or(""), shown).into_response())
}

/// New lines as they are written: the node is asked four times a second for what was added
/// since the last offset (a rotated log starts again from its beginning).
#[handler]
pub async fn stream(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> AppResult<SSE> {
    crate::web::gate::same_origin_stream(req, &state.config)?;
    let (site, server) = load(&state, &id).await?;
    let kind = kind_of(&q)?;
    let state = (*state).clone();
    let until = Instant::now() + LIVE_FOR;
    let start = (state, server, site, kind, q.from.unwrap_or(0), false);
    let events = streams::unfold(
        start,
        move |(state, server, site, kind, offset, ended)| async move {
            if ended {
                return None;
            }
            if Instant::now() > until {
                let done = vec![sse::event("done", "done")];
                return Some((done, (state, server, site, kind, offset, true)));
            }
            tokio::time::sleep(POLL).await;
            let (events, next) = match logs::read(&state, &server, &site, kind, Some(offset)).await
            {
                Ok(piece) => {
                    let events: Vec<Event> = piece
                        .lines
                        .iter()
                        .map(|l| sse::event("line", views::line(l).into_string()))
                        .collect();
                    (events, piece.size)
                }
                // The node could not be asked this time: the next poll tries again.
                Err(_) => (Vec::new(), offset),
            };
            Some((events, (state, server, site, kind, next, false)))
        },
    )
    .flat_map(streams::iter);
    Ok(SSE::new(events).keep_alive(Duration::from_secs(15)))
}

/// The end of the log (the last 10 MiB) as a text file.
#[handler]
pub async fn download(
    state: Data<&AppState>,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> AppResult<Response> {
    let (site, server) = load(&state, &id).await?;
    let kind = kind_of(&q)?;
    let text = logs::download(&state, &server, &site, kind).await?;
    let name = format!("{}-{}.log", site.domain, kind.name());
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        )
        .header("X-Content-Type-Options", "nosniff")
        .body(text))
}
