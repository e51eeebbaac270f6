use maud::Markup;
use poem::web::{Data, Query};
use poem::{Body, Response, handler};
use serde::Deserialize;

use super::views;
use crate::db::{self, audit::AuditFilter};
use crate::domain::{AuditOutcome, Cursor, ListForm, ListQuery, TimeSort};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;
use crate::web::listing::{self, ListView};

/// The page's (and the export's) query string.
#[derive(Debug, Default, Deserialize)]
pub struct AuditListForm {
    #[serde(flatten)]
    list: ListForm,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
    /// The outcome (`status` like every list's state filter).
    #[serde(default)]
    status: String,
    /// `csv` or `json` (the export).
    #[serde(default)]
    format: String,
}

/// The filters checked: one line each, bounded; the outcome one of its values.
fn filter(form: &AuditListForm) -> AppResult<AuditFilter> {
    let mut errors = Vec::new();
    let mut text = |value: &str, field: &'static str, max: usize| {
        let v = value.trim();
        if v.is_empty() {
            return None;
        }
        if v.chars().count() > max || v.chars().any(char::is_control) {
            errors.push(FieldError::new(
                field,
                format!("one line of at most {max} characters"),
            ));
            return None;
        }
        Some(v.to_owned())
    };
    let actor = text(&form.actor, "actor", 300);
    let action = text(&form.action, "action", 100);
    let target = text(&form.target, "target", 64);
    let outcome = listing::filter_value(
        &form.status,
        "status",
        "ok, refused, invalid or failed",
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(AuditFilter {
        actor,
        action,
        target,
        outcome,
    })
}

#[handler]
pub async fn index(state: Data<&AppState>, Query(form): Query<AuditListForm>) -> AppResult<Markup> {
    let query = listing::parse(&form.list, TimeSort::Newest)?;
    let filter = filter(&form)?;
    let page = db::audit::page(&state.db, &query, &filter).await?;
    let list = ListView::new(crate::paths::AUDIT, &query)
        .filter("actor", &form.actor)
        .filter("action", &form.action)
        .filter("target", &form.target)
        .filter("status", &form.status);
    Ok(views::index(&list, &page, filter.outcome))
}

/// At most this many rows in one export (a page at a time, streamed).
const EXPORT_MAX: usize = 100_000;

/// The rows the page shows (same filters and search), newest first, as CSV or JSON lines.
#[handler]
pub async fn export(
    state: Data<&AppState>,
    Query(form): Query<AuditListForm>,
) -> AppResult<Response> {
    let query = listing::parse(&form.list, TimeSort::Newest)?;
    let filter = filter(&form)?;
    let csv = match form.format.as_str() {
        "" | "csv" => true,
        "json" => false,
        _ => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "format",
                "csv or json",
            )]));
        }
    };
    let pool = state.db.clone();
    let start = ListQuery {
        after: None,
        before: None,
        ..query
    };
    // (next cursor, rows sent, finished)
    let first: Option<Cursor> = None;
    let stream = futures_util::stream::unfold(
        (first, 0usize, false, true),
        move |(cursor, sent, done, header)| {
            let (pool, filter, start) = (pool.clone(), filter.clone(), start.clone());
            async move {
                if done {
                    return None;
                }
                if sent >= EXPORT_MAX {
                    // Said in the file itself: a partial export must not pass for a whole one.
                    let note = if csv {
                        format!("\"# cut at {EXPORT_MAX} rows: narrow the filters for the rest\"\n")
                    } else {
                        format!("{{\"truncated\":true,\"rows\":{EXPORT_MAX}}}\n")
                    };
                    return Some((Ok(note), (None, sent, true, false)));
                }
                let q = ListQuery {
                    after: cursor,
                    ..start
                };
                let page = match db::audit::page(&pool, &q, &filter).await {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::error!("audit export: {e}");
                        return Some((
                            Err(std::io::Error::other("export failed")),
                            (None, sent, true, false),
                        ));
                    }
                };
                let mut chunk = String::new();
                if header && csv {
                    chunk.push_str(views::CSV_HEADER);
                }
                let n = page.rows.len();
                for e in &page.rows {
                    if csv {
                        chunk.push_str(&views::csv_row(e));
                    } else {
                        chunk.push_str(&serde_json::to_string(e).expect("a row serializes"));
                        chunk.push('\n');
                    }
                }
                let finished = page.next.is_none();
                Some((
                    Ok::<_, std::io::Error>(chunk),
                    (page.next, sent + n, finished, false),
                ))
            }
        },
    );
    let (kind, name) = if csv {
        ("text/csv; charset=utf-8", "audit-log.csv")
    } else {
        ("application/x-ndjson", "audit-log.jsonl")
    };
    Ok(Response::builder()
        .content_type(kind)
        .header(
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        )
        .header("Cache-Control", "no-store")
        .body(Body::from_bytes_stream(stream)))
}

impl AuditOutcome {
    /// The badge class of an outcome.
    pub fn badge_class(self) -> &'static str {
        match self {
            AuditOutcome::Ok => "badge-success",
            AuditOutcome::Refused => "badge-warning",
            AuditOutcome::Invalid => "badge-ghost",
            AuditOutcome::Failed => "badge-error",
        }
    }
}
