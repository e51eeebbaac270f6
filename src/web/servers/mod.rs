//! Servers: the machines Panel manages over SSH; onboarding with a one-time setup URL.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Perm::View, Method::GET, paths::SERVERS, handlers::index),
        RouteSpec::user(Perm::Manage, Method::GET, paths::SERVER_NEW, handlers::new),
        RouteSpec::user(Perm::Manage, Method::POST, paths::SERVERS, handlers::create),
        RouteSpec::user(Perm::View, Method::GET, paths::SERVER, handlers::show),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SERVER_SETUP_URL,
            handlers::setup_url,
        ),
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::SERVER_HEALTH,
            handlers::health,
        ),
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::SERVER_STATUS,
            handlers::live_status,
        ),
        RouteSpec::user(
            Perm::Delete,
            Method::POST,
            paths::SERVER_DELETE,
            handlers::delete,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SERVER_ROTATE_KEY,
            handlers::rotate_key,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SERVER_SOFTWARE,
            handlers::software,
        ),
        RouteSpec::user(
            Perm::Operate,
            Method::POST,
            paths::SERVER_HOST_KEY_CHECK,
            handlers::host_key_check,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SERVER_HOST_KEY_CONFIRM,
            handlers::host_key_confirm,
        ),
        // The setup URL carries its own secret (a one-time token).
        RouteSpec::public(Method::GET, paths::SETUP_SCRIPT, handlers::setup_script),
    ]
}
