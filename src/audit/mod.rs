//! The panel's audit log: who did what. Every state-changing request of the web and the API is
//! recorded by their middleware through [`record`] (`web::audit`, `api`); the command line records
//! its actions itself; rows are read by the Audit page, the API and the export.

use poem::http::{Method, StatusCode};

use crate::db::{self, audit::NewEntry};
use crate::domain::{AuditActor, AuditOutcome, AuditVia};
use crate::state::AppState;

/// Who made a request, as the audit log names them.
#[derive(Clone, Debug)]
pub struct Who {
    pub kind: AuditActor,
    pub id: Option<String>,
    pub name: String,
}

/// Whether a request changes anything (and so is recorded).
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// `(action, target kind, target id)` from a route pattern (`/sites/:id/suspend`,
/// `/api/v1/sites/{id}/suspend`) and the request's path: the fixed segments joined with dots
/// (`sites.suspend`), `create` for a POST to a collection and `delete`/`update` for those
/// methods on an item. The target is the first parameter, and only when it is a ULID: a path
/// that carries a secret (an enrolment link's token) never reaches the log.
pub fn action_of<'a>(
    method: &Method,
    pattern: &'a str,
    path: &'a str,
) -> (String, Option<String>, Option<String>) {
    let strip = |p: &'a str| p.strip_prefix(crate::paths::API).unwrap_or(p);
    let (mut pattern, mut path) = (strip(pattern), strip(path));
    // `/api/webhooks/…`, `/api/callbacks/…`: the `api` says nothing.
    if let (Some(a), Some(b)) = (pattern.strip_prefix("/api/"), path.strip_prefix("/api/")) {
        (pattern, path) = (a, b);
    }
    let path_segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut fixed: Vec<&str> = Vec::new();
    let mut target = None;
    let mut ends_with_param = false;
    for (i, seg) in pattern.trim_matches('/').split('/').enumerate() {
        let is_param = seg.starts_with(':') || seg.starts_with('{');
        ends_with_param = is_param;
        if is_param {
            if target.is_none() {
                let value = path_segments.get(i).copied().unwrap_or_default();
                let kind = fixed.last().map(|k| (*k).to_owned());
                let id = (value.len() == 26 && value.parse::<ulid::Ulid>().is_ok())
                    .then(|| value.to_owned());
                target = Some((kind, id));
            }
        } else if !seg.is_empty() {
            fixed.push(seg);
        }
    }
    let mut action = fixed.join(".");
    if action.is_empty() {
        action.push_str("root");
    }
    match *method {
        // A POST to a collection (`/sites`, `/ssh-keys`) makes one.
        Method::POST if target.is_none() && fixed.len() == 1 && action.ends_with('s') => {
            action.push_str(".create")
        }
        Method::DELETE if ends_with_param => action.push_str(".delete"),
        Method::PUT | Method::PATCH if ends_with_param => action.push_str(".update"),
        _ => {}
    }
    let (kind, id) = target.unwrap_or((None, None));
    (action, kind, id)
}

/// A request path as a pattern: each ULID segment becomes `{id}` (the API's paths carry no
/// other parameter).
pub fn pattern_of(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.len() == 26 && seg.parse::<ulid::Ulid>().is_ok() {
                "{id}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// How a status reads in the log.
pub fn outcome_of(status: StatusCode) -> AuditOutcome {
    match status.as_u16() {
        s if s < 400 => AuditOutcome::Ok,
        401 | 403 => AuditOutcome::Refused,
        s if s < 500 => AuditOutcome::Invalid,
        _ => AuditOutcome::Failed,
    }
}

/// What a request asked for, taken before it is handed on.
pub struct Asked {
    pub method: Method,
    /// The route's pattern (`/sites/:id/suspend`).
    pub pattern: String,
    pub path: String,
    /// The client's address.
    pub source: String,
}

/// Record the answer to a state-changing request; a failure to record is logged, never
/// turned into the answer.
pub async fn record(state: &AppState, asked: &Asked, who: Who, via: AuditVia, status: StatusCode) {
    let (action, target_kind, target_id) = action_of(&asked.method, &asked.pattern, &asked.path);
    let entry = NewEntry {
        actor_kind: who.kind,
        actor_id: who.id,
        actor_name: who.name,
        action,
        target_kind,
        target_id,
        outcome: outcome_of(status),
        status: Some(status.as_u16()),
        via,
        source: Some(asked.source.clone()),
    };
    if let Err(e) = db::audit::insert(&state.db, &entry).await {
        tracing::error!("could not record {} in the audit log: {e}", entry.action);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "01JD000000000000000000000A";

    #[test]
    fn actions_are_named_from_the_route() {
        let post = Method::POST;
        let cases = [
            (&post, "/sites", "/sites", ("sites.create", None, None)),
            (
                &post,
                "/sites/:id/suspend",
                "/sites/ID/suspend",
                ("sites.suspend", Some("sites"), Some(ID)),
            ),
            (
                &post,
                "/sites/:id/delete",
                "/sites/ID/delete",
                ("sites.delete", Some("sites"), Some(ID)),
            ),
            (
                &Method::DELETE,
                "/api/v1/sites/{id}",
                "/api/v1/sites/ID",
                ("sites.delete", Some("sites"), Some(ID)),
            ),
            (
                &post,
                "/api/v1/sites/{id}/deploy",
                "/api/v1/sites/ID/deploy",
                ("sites.deploy", Some("sites"), Some(ID)),
            ),
            (
                &post,
                "/api/v1/sites",
                "/api/v1/sites",
                ("sites.create", None, None),
            ),
            (
                &post,
                "/servers/:id/selinux/boolean",
                "/servers/ID/selinux/boolean",
                ("servers.selinux.boolean", Some("servers"), Some(ID)),
            ),
            (&post, "/logout", "/logout", ("logout", None, None)),
            (
                &post,
                "/api/webhooks/deploy/:id",
                "/api/webhooks/deploy/ID",
                ("webhooks.deploy", Some("deploy"), Some(ID)),
            ),
        ];
        for (method, pattern, path, (action, kind, id)) in cases {
            let got = action_of(method, pattern, &path.replace("ID", ID));
            assert_eq!(got.0, action, "{pattern}");
            assert_eq!(got.1.as_deref(), kind, "{pattern}");
            assert_eq!(got.2.as_deref(), id, "{pattern}");
        }
    }

    #[test]
    fn a_secret_in_the_path_is_never_the_target() {
        let token = "Zq3v5d0m9O0iYQm5m3y8d1lX2k7T1xRz8HhF1nB9c2Q";
        let (action, kind, id) = action_of(
            &Method::POST,
            "/enrol/:token/finish",
            &format!("/enrol/{token}/finish"),
        );
        assert_eq!(action, "enrol.finish");
        assert_eq!(kind.as_deref(), Some("enrol"));
        assert_eq!(id, None);
    }

    #[test]
    fn outcomes_follow_the_status() {
        assert_eq!(outcome_of(StatusCode::OK), AuditOutcome::Ok);
        assert_eq!(outcome_of(StatusCode::SEE_OTHER), AuditOutcome::Ok);
        assert_eq!(outcome_of(StatusCode::FORBIDDEN), AuditOutcome::Refused);
        assert_eq!(outcome_of(StatusCode::UNAUTHORIZED), AuditOutcome::Refused);
        assert_eq!(
            outcome_of(StatusCode::UNPROCESSABLE_ENTITY),
            AuditOutcome::Invalid
        );
        assert_eq!(outcome_of(StatusCode::BAD_GATEWAY), AuditOutcome::Failed);
    }
}
