//! Servers: the machines Panel manages over SSH; onboarding with a one-time setup URL.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Method::GET, paths::SERVERS, handlers::index),
        RouteSpec::user(Method::GET, paths::SERVER_NEW, handlers::new),
        RouteSpec::user(Method::POST, paths::SERVERS, handlers::create),
        RouteSpec::user(Method::GET, paths::SERVER, handlers::show),
        RouteSpec::user(Method::POST, paths::SERVER_SETUP_URL, handlers::setup_url),
        RouteSpec::user(Method::GET, paths::SERVER_HEALTH, handlers::health),
        RouteSpec::user(Method::GET, paths::SERVER_STATUS, handlers::live_status),
        RouteSpec::user(Method::POST, paths::SERVER_DELETE, handlers::delete),
        RouteSpec::user(Method::POST, paths::SERVER_ROTATE_KEY, handlers::rotate_key),
        RouteSpec::user(Method::POST, paths::SERVER_SOFTWARE, handlers::software),
        RouteSpec::user(
            Method::POST,
            paths::SERVER_HOST_KEY_CHECK,
            handlers::host_key_check,
        ),
        RouteSpec::user(
            Method::POST,
            paths::SERVER_HOST_KEY_CONFIRM,
            handlers::host_key_confirm,
        ),
        // The setup URL carries its own secret (a one-time token).
        RouteSpec::public(Method::GET, paths::SETUP_SCRIPT, handlers::setup_script),
    ]
}
