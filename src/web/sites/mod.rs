//! Sites: isolated PHP applications on managed servers.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Method::GET, paths::SITES, handlers::index),
        RouteSpec::user(Method::GET, paths::SITE_NEW, handlers::new),
        RouteSpec::user(Method::POST, paths::SITES, handlers::create),
        RouteSpec::user(Method::GET, paths::SITE, handlers::show),
        RouteSpec::user(Method::GET, paths::SITE_STATUS, handlers::live_status),
        RouteSpec::user(Method::POST, paths::SITE_RETRY, handlers::retry),
        RouteSpec::user(Method::POST, paths::SITE_SUSPEND, handlers::suspend),
        RouteSpec::user(Method::POST, paths::SITE_RESUME, handlers::resume),
        RouteSpec::user(Method::POST, paths::SITE_DELETE, handlers::delete),
        RouteSpec::user(Method::POST, paths::SITE_ENV, handlers::env),
        RouteSpec::user(Method::POST, paths::SITE_ENV_REVEAL, handlers::reveal_env),
        RouteSpec::user(
            Method::POST,
            paths::SITE_DB_ROTATE,
            handlers::rotate_password,
        ),
        RouteSpec::user(
            Method::POST,
            paths::SITE_DB_REVEAL,
            handlers::reveal_password,
        ),
    ]
}
