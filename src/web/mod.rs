//! The HTTP layer: the route table and middleware. One folder per resource holds its routes
//! (`mod.rs`), handlers and views; handlers turn a request into one action call (the action
//! floor, `crate::servers`, `crate::sites`, …) and render one view. The state they share is
//! `crate::state::AppState`, re-exported here for the handlers.

pub mod assets;
pub mod audit;
pub mod components;
pub mod errors;
pub mod gate;
pub mod htmx;
pub mod layout;
pub mod listing;
pub mod session;
pub mod sse;
pub mod tls;

mod audit_log;
mod auth;
mod callbacks;
mod certificates;
mod cron;
mod dashboard;
mod databases;
mod deployments;
mod health;
mod jobs;
mod nginx_block;
mod php;
mod redirects;
mod selinux;
mod server_selinux;
mod servers;
mod settings;
mod site_logs;
mod sites;
mod ssh_keys;
mod tokens;
mod users;
mod workers;

use std::collections::BTreeMap;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Response, Route, RouteMethod};

pub use crate::state::AppState;
pub use gate::Access;

use crate::domain::Perm;

/// Largest request body the panel reads.
pub const MAX_BODY: usize = 2 * 1024 * 1024;
/// Largest body of a login or enrolment request (a WebAuthn response is a few kilobytes).
pub const MAX_SMALL_BODY: usize = 64 * 1024;

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

    /// A page or action for logged-in users whose role has `perm` (`domain::roles`).
    pub fn user<E>(perm: Perm, method: Method, path: &'static str, endpoint: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        Self::new(method, path, Access::User(perm), endpoint)
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
    all.extend(callbacks::routes());
    all.extend(databases::routes());
    all.extend(deployments::routes());
    all.extend(certificates::routes());
    all.extend(cron::routes());
    all.extend(workers::routes());
    all.extend(php::routes());
    all.extend(redirects::routes());
    all.extend(nginx_block::routes());
    all.extend(site_logs::routes());
    all.extend(ssh_keys::routes());
    all.extend(selinux::routes());
    all.extend(settings::routes());
    all.extend(jobs::routes());
    all.extend(tokens::routes());
    all.extend(users::routes());
    all.extend(audit_log::routes());
    all.push(RouteSpec::public(
        Method::GET,
        crate::paths::STATIC_ROUTE,
        assets::serve,
    ));
    all
}

/// The whole application endpoint: routes behind the gate, errors rendered, headers hardened.
pub fn app(state: AppState) -> impl Endpoint<Output = Response> {
    let https = state.config.is_https();
    let mut by_path: BTreeMap<&'static str, RouteMethod> = BTreeMap::new();
    for spec in routes() {
        let endpoint = match spec.access {
            Access::Public => spec.endpoint,
            Access::Anonymous => spec
                .endpoint
                .around(gate::check_csrf_prelogin)
                .around(gate::limit_small_body)
                .boxed(),
            // The user check runs first, so an anonymous request is refused before its body is read.
            Access::User(perm) => spec
                .endpoint
                .around(gate::check_csrf)
                .around(move |next, req| gate::require(next, req, perm))
                .boxed(),
        };
        let pattern = spec.path;
        let endpoint = endpoint
            .around(move |next, req| audit::around_route(next, req, pattern))
            .boxed();
        let entry = by_path.remove(spec.path).unwrap_or_default();
        by_path.insert(spec.path, entry.method(spec.method, endpoint));
    }
    let mut route = Route::new();
    for (path, methods) in by_path {
        route = route.at(path, methods);
    }
    let pages = route
        // Inside the session's scope, so an error page keeps the navigation of a signed-in
        // user; the outer one below renders what fails around it (body limits).
        .around(errors::render_errors)
        .around(session::load);
    // The API takes tokens, never the session cookie (so no CSRF either), and answers every
    // error itself as problem details.
    Route::new()
        .nest(crate::paths::API, crate::api::endpoint())
        .nest("/", pages)
        .data(state)
        // Above the largest legitimate body (a 1 MB paste must reach the form and get a field
        // error); webhook routes set a tighter limit of their own.
        .around(gate::limit_body)
        .around(errors::render_errors)
        .around(move |next, req| gate::security_headers(next, req, https))
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
