//! The audit log's door on the web side: every state-changing request (any method but GET and
//! HEAD) of every route is recorded once, after it is answered, with who made it, the action and
//! its target (from the route's pattern), the outcome and the address (`crate::audit`). Handlers
//! do nothing for it, so no route can forget.

use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Request, Response};

use super::session::SessionInfo;
use crate::audit::{Asked, Who, changes_state, outcome_of, record};
use crate::domain::{AuditActor, AuditOutcome, AuditVia};
use crate::state::AppState;

/// Who made a web request: the logged-in user, a git host's webhook, a node's callback, or
/// nobody yet (a login).
fn web_caller(req: &Request, pattern: &str) -> (Who, AuditVia) {
    if pattern.starts_with("/api/webhooks/") {
        let who = Who {
            kind: AuditActor::Webhook,
            id: None,
            name: "push webhook".into(),
        };
        return (who, AuditVia::Webhook);
    }
    if pattern.starts_with("/api/callbacks/") || pattern == crate::paths::SETUP_SCRIPT {
        let who = Who {
            kind: AuditActor::Node,
            id: None,
            name: "node callback".into(),
        };
        return (who, AuditVia::Callback);
    }
    let user = req
        .extensions()
        .get::<Arc<SessionInfo>>()
        .and_then(|s| s.user.clone());
    let who = match user {
        Some(u) => Who {
            kind: AuditActor::User,
            id: Some(u.id.to_string()),
            name: u.email,
        },
        None => Who {
            kind: AuditActor::Anonymous,
            id: None,
            name: "not logged in".into(),
        },
    };
    (who, AuditVia::Web)
}

/// Middleware for one web route (`web::app` puts it on every state-changing one).
pub async fn around_route<E: Endpoint>(
    next: E,
    req: Request,
    pattern: &'static str,
) -> poem::Result<Response> {
    // Fetching a setup script is a GET that changes things: it spends the one-time token and
    // hands out the server's callback secret.
    // So is exporting the audit log: the log records who took a copy of it.
    let setup = pattern == crate::paths::SETUP_SCRIPT || pattern == crate::paths::AUDIT_EXPORT;
    if !changes_state(req.method()) && !setup {
        return Ok(next.call(req).await?.into_response());
    }
    let Some(state) = req.data::<AppState>().cloned() else {
        return Ok(next.call(req).await?.into_response());
    };
    let asked = Asked {
        method: req.method().clone(),
        pattern: pattern.to_owned(),
        path: req.uri().path().to_owned(),
        source: super::session::client_ip(&req, &state.config),
    };
    let (who, via) = web_caller(&req, pattern);
    let answer = next.call(req).await.map(IntoResponse::into_response);
    let status = match &answer {
        Ok(resp) => resp.status(),
        Err(e) => e.status(),
    };
    // Anyone can send a request that is refused before it does anything (a forged webhook, a
    // login without a passkey): those from nobody in particular are not actions, and writing a
    // row for each would let anyone fill the panel's disk. A user's refusals are kept.
    // Starting a login or enrolment ceremony (`…/options`) changes nothing either; only its
    // finish (with a passkey) is an action.
    let noise = who.kind != AuditActor::User
        && (outcome_of(status) != AuditOutcome::Ok || pattern.ends_with("/options"));
    if noise {
        return answer;
    }
    record(&state, &asked, who, via, status).await;
    answer
}
