//! Sites: isolated PHP applications on managed servers.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Perm::View, Method::GET, paths::SITES, handlers::index),
        RouteSpec::user(Perm::Manage, Method::GET, paths::SITE_NEW, handlers::new),
        RouteSpec::user(Perm::Manage, Method::POST, paths::SITES, handlers::create),
        RouteSpec::user(Perm::View, Method::GET, paths::SITE, handlers::show),
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::SITE_STATUS,
            handlers::live_status,
        ),
        RouteSpec::user(
            Perm::Operate,
            Method::POST,
            paths::SITE_RETRY,
            handlers::retry,
        ),
        RouteSpec::user(
            Perm::Operate,
            Method::POST,
            paths::SITE_SUSPEND,
            handlers::suspend,
        ),
        RouteSpec::user(
            Perm::Operate,
            Method::POST,
            paths::SITE_RESUME,
            handlers::resume,
        ),
        RouteSpec::user(
            Perm::Delete,
            Method::POST,
            paths::SITE_DELETE,
            handlers::delete,
        ),
        RouteSpec::user(Perm::Manage, Method::POST, paths::SITE_ENV, handlers::env),
        RouteSpec::user(
            Perm::Reveal,
            Method::POST,
            paths::SITE_ENV_REVEAL,
            handlers::reveal_env,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_DB_ROTATE,
            handlers::rotate_password,
        ),
        RouteSpec::user(
            Perm::Reveal,
            Method::POST,
            paths::SITE_DB_REVEAL,
            handlers::reveal_password,
        ),
    ]
}
