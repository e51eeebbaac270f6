//! Panel-wide operations: servers, jobs and their logs, SSH keys, SELinux records, the audit log.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, OpenApi};

use super::ops::{Tag, Token, allow, list_query, parse_id};
use super::types::*;
use super::{ApiError, ApiResult, caller};
use crate::db;
use crate::domain::{Perm, TimeSort};
use crate::ids::{JobId, ServerId};
use crate::state::AppState;

#[derive(ApiResponse)]
enum LogStream {
    /// One JSON object per line: `{"seq", "stream", "line"}` for log lines, `{"step", …}` when a
    /// step changes, and last `{"status"}` with the job's final status.
    #[oai(status = 200, content_type = "application/x-ndjson")]
    Lines(Binary<poem::Body>),
}

pub struct PanelApi;

#[OpenApi]
impl PanelApi {
    /// One job.
    #[oai(
        path = "/jobs/:id",
        method = "get",
        tag = "Tag::Jobs",
        operation_id = "jobs.get"
    )]
    async fn job(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Json<Job>> {
        let job = job_of(&state, req, &id.0).await?;
        Ok(Json(job.into()))
    }

    /// A job's log lines after `after` (0: from the start), at most a page.
    #[oai(
        path = "/jobs/:id/log",
        method = "get",
        tag = "Tag::Jobs",
        operation_id = "jobs.log"
    )]
    async fn log(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        #[oai(validator(minimum(value = "0")))] after: Query<Option<i64>>,
    ) -> ApiResult<Json<LogPage>> {
        let job = job_of(&state, req, &id.0).await?;
        let after = after.0.unwrap_or(0);
        let (lines, more) = db::jobs::log_after(&state.db, job.id, after).await?;
        let next = lines.last().map_or(after, |l| l.seq);
        Ok(Json(LogPage {
            lines: lines
                .into_iter()
                .map(|l| LogLine {
                    seq: l.seq,
                    stream: l.stream.to_string(),
                    line: l.line,
                })
                .collect(),
            next,
            more,
        }))
    }

    /// Follow a job: its log after `after`, then live until it ends, as JSON lines.
    #[oai(
        path = "/jobs/:id/log/stream",
        method = "get",
        tag = "Tag::Jobs",
        operation_id = "jobs.follow"
    )]
    async fn follow(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        #[oai(validator(minimum(value = "0")))] after: Query<Option<i64>>,
    ) -> ApiResult<LogStream> {
        use futures_util::StreamExt;
        let job = job_of(&state, req, &id.0).await?;
        let live = state.jobs.subscribe();
        let updates =
            crate::jobs::follow::follow(state.db.clone(), job.id, after.0.unwrap_or(0), Some(live))
                .await?
                .ok_or_else(ApiError::not_found)?;
        let lines = updates.map(|u| {
            let value = match u {
                crate::jobs::follow::Update::Line { seq, stream, line } => {
                    serde_json::json!({"seq": seq, "stream": stream.as_str(), "line": line})
                }
                crate::jobs::follow::Update::Step {
                    position,
                    description,
                    status,
                } => serde_json::json!({"step": position, "description": description, "status": status.as_str()}),
                crate::jobs::follow::Update::Status(s) => serde_json::json!({"status": s.as_str()}),
            };
            Ok::<_, std::io::Error>(format!("{value}\n"))
        });
        Ok(LogStream::Lines(Binary(poem::Body::from_bytes_stream(
            lines,
        ))))
    }

    /// SELinux records (denials and events) collected from servers, newest first.
    #[oai(
        path = "/selinux/records",
        method = "get",
        tag = "Tag::Panel",
        operation_id = "selinux.records"
    )]
    async fn records(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(max_length = 200))] after: Query<Option<String>>,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] server_id: Query<Option<String>>,
    ) -> ApiResult<Json<RecordPage>> {
        let who = allow(req, Perm::View, None)?;
        let mut server = server_id
            .0
            .as_deref()
            .map(parse_id::<ServerId>)
            .transpose()?;
        match (&who.principal.servers, server) {
            (Some(only), Some(s)) if !only.contains(&s) => return Err(ApiError::not_found()),
            (Some(only), None) if only.len() == 1 => server = Some(only[0]),
            (Some(_), None) => {
                return Err(
                    crate::error::AppError::Invalid(vec![crate::error::FieldError::new(
                        "server_id",
                        "this token is limited to some servers: name one",
                    )])
                    .into(),
                );
            }
            _ => {}
        }
        let q = list_query(after.0, TimeSort::Newest)?;
        let filter = db::selinux::Filter {
            server,
            ..Default::default()
        };
        let page = db::selinux::page(&state.db, &q, &filter).await?;
        Ok(Json(RecordPage {
            next: page.next.map(|c| c.encode()),
            items: page
                .rows
                .into_iter()
                .map(|r| SelinuxRecord {
                    id: r.id.to_string(),
                    server_name: r.server_name,
                    level: r.level.to_string(),
                    message: r.message,
                    explanation: r.explanation,
                    created_at: r.created_at,
                })
                .collect(),
        }))
    }

    /// The panel's audit log: who did what, newest first (an admin's or owner's token).
    #[oai(
        path = "/audit",
        method = "get",
        tag = "Tag::Panel",
        operation_id = "audit.list"
    )]
    async fn audit(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(max_length = 200))] after: Query<Option<String>>,
        #[oai(validator(max_length = 300))] actor: Query<Option<String>>,
        #[oai(validator(max_length = 100))] action: Query<Option<String>>,
    ) -> ApiResult<Json<AuditPage>> {
        let who = allow(req, Perm::Manage, None)?;
        if who.principal.servers.is_some() {
            // The log spans every server; a limited token does not read it.
            return Err(ApiError::new(
                poem::http::StatusCode::FORBIDDEN,
                "A token limited to some servers cannot read the audit log.",
            ));
        }
        let q = list_query(after.0, TimeSort::Newest)?;
        let filter = db::audit::AuditFilter {
            actor: actor.0.filter(|a| !a.is_empty()),
            action: action.0.filter(|a| !a.is_empty()),
            ..Default::default()
        };
        let page = db::audit::page(&state.db, &q, &filter).await?;
        Ok(Json(AuditPage {
            next: page.next.map(|c| c.encode()),
            items: page.rows.into_iter().map(AuditEntry::from).collect(),
        }))
    }
}

async fn job_of(state: &AppState, req: &Request, id: &str) -> ApiResult<db::jobs::Job> {
    caller(req)?;
    let id: JobId = parse_id(id)?;
    let job = db::jobs::get(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    // A job of no server (a panel-wide one) is seen by unlimited tokens only.
    let who = caller(req)?;
    match job.server_id {
        Some(server) => allow(req, Perm::View, Some(server))?,
        None if who.principal.servers.is_some() => return Err(ApiError::not_found()),
        None => allow(req, Perm::View, None)?,
    };
    Ok(job)
}
