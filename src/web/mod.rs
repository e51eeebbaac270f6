//! The HTTP layer: the route table, shared state and middleware. One folder per resource holds
//! its routes (`mod.rs`), handlers and views.

pub mod assets;
pub mod components;
pub mod errors;
pub mod gate;
pub mod htmx;
pub mod layout;
pub mod paths;
pub mod session;

mod auth;
mod dashboard;
mod databases;
mod deployments;
mod health;
mod jobs;
mod selinux;
mod server_selinux;
mod servers;
mod settings;
mod sites;
mod ssh_keys;

use std::collections::BTreeMap;
use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Response, Route, RouteMethod};

use crate::config::Config;
use crate::crypto::SecretBox;
use crate::db::Pool;
pub use gate::Access;

/// Largest request body the panel reads.
pub const MAX_BODY: usize = 2 * 1024 * 1024;

/// What handlers share: the database pool and the resolved configuration.
#[derive(Clone)]
pub struct AppState {
    pub db: Pool,
    pub config: Arc<Config>,
    /// Seals and opens every secret stored in the database.
    pub secrets: Arc<SecretBox>,
    /// The WebAuthn relying party (from PANEL_URL); `None` when the URL cannot be one (an IP
    /// address), in which case login explains what to change.
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// Login and enrolment attempt limits.
    pub limiter: Arc<crate::auth::ratelimit::RateLimiter>,
    /// The durable job runner (remote operations).
    pub jobs: crate::jobs::Jobs,
    /// Reused SSH connections per server.
    pub ssh: Arc<crate::ssh::pool::SessionPool>,
    /// SELinux audit records as the collector stores them (live toasts and alerts).
    pub audit: tokio::sync::broadcast::Sender<crate::selinux::collect::LiveRecord>,
    /// Wakes the deployment dispatcher (a deployment was queued in this process).
    pub deploys: Arc<tokio::sync::Notify>,
    /// Turns true when the panel starts shutting down: endless streams end, so the graceful
    /// shutdown does not wait out its grace period on open pages.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

impl AppState {
    /// The relying party, or a clear refusal when PANEL_URL cannot host passkeys.
    pub fn webauthn(&self) -> crate::error::AppResult<&webauthn_rs::Webauthn> {
        self.webauthn.as_deref().ok_or_else(|| {
            crate::error::AppError::Conflict(crate::auth::NO_PASSKEYS_HINT.to_owned())
        })
    }
}

/// One row of the route table.
pub struct RouteSpec {
    pub method: Method,
    /// poem path pattern, e.g. `/servers/:id`.
    pub path: &'static str,
    pub access: Access,
    endpoint: BoxEndpoint<'static, Response>,
}

impl RouteSpec {
    pub fn new<E>(method: Method, path: &'static str, access: Access, endpoint: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        Self {
            method,
            path,
            access,
            endpoint: endpoint.into_endpoint().map_to_response().boxed(),
        }
    }

    /// A page or action for logged-in users only.
    pub fn user<E>(method: Method, path: &'static str, endpoint: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        Self::new(method, path, Access::User, endpoint)
    }

    /// A login/enrolment route: pre-login session, CSRF-checked.
    pub fn anonymous<E>(method: Method, path: &'static str, endpoint: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        Self::new(method, path, Access::Anonymous, endpoint)
    }

    /// A route anyone may call (it must carry its own secret if it changes anything).
    pub fn public<E>(method: Method, path: &'static str, endpoint: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        Self::new(method, path, Access::Public, endpoint)
    }
}

/// Every route of the panel. Tests walk this table, so a route cannot exist outside it.
pub fn routes() -> Vec<RouteSpec> {
    let mut all = Vec::new();
    all.extend(health::routes());
    all.extend(auth::routes());
    all.extend(dashboard::routes());
    all.extend(servers::routes());
    all.extend(server_selinux::routes());
    all.extend(sites::routes());
    all.extend(databases::routes());
    all.extend(deployments::routes());
    all.extend(ssh_keys::routes());
    all.extend(selinux::routes());
    all.extend(settings::routes());
    all.extend(jobs::routes());
    all.push(RouteSpec::public(
        Method::GET,
        paths::STATIC_ROUTE,
        assets::serve,
    ));
    all
}

/// The whole application endpoint: routes behind the gate, errors rendered, headers hardened.
pub fn app(state: AppState) -> impl Endpoint<Output = Response> {
    let mut by_path: BTreeMap<&'static str, RouteMethod> = BTreeMap::new();
    for spec in routes() {
        let endpoint = match spec.access {
            Access::Public => spec.endpoint,
            Access::Anonymous => spec.endpoint.around(gate::check_csrf).boxed(),
            // The user check runs first, so an anonymous request is refused before its body is read.
            Access::User => spec
                .endpoint
                .around(gate::check_csrf)
                .around(gate::require_user)
                .boxed(),
        };
        let entry = by_path.remove(spec.path).unwrap_or_default();
        by_path.insert(spec.path, entry.method(spec.method, endpoint));
    }
    let mut route = Route::new();
    for (path, methods) in by_path {
        route = route.at(path, methods);
    }
    route
        .around(session::load)
        .data(state)
        // Above the largest legitimate body (a 1 MB paste must reach the form and get a field
        // error); webhook routes set a tighter limit of their own.
        .around(gate::limit_body)
        .around(errors::render_errors)
        .around(gate::security_headers)
        .map_to_response()
}

/// Test helpers shared by the views' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    /// Every `src`/`href`/`action` in `html` points into the panel itself (no CDN, no tracker).
    pub fn assert_self_contained(html: &str) {
        for attr in [" src=\"", " href=\"", " action=\""] {
            for (i, _) in html.match_indices(attr) {
                let value = &html[i + attr.len()..];
                let value = &value[..value.find('"').unwrap_or(value.len())];
                assert!(
                    value.starts_with('/') && !value.starts_with("//"),
                    "external reference {value}"
                );
            }
        }
    }
}
