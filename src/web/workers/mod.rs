//! A site's Workers tab: its long-running processes (add, edit, delete, restart them all), each
//! process's state, pid and time up, and each worker's recent output, read live.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::SITE_WORKERS,
            handlers::tab_page,
        ),
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::SITE_WORKERS_STATUS,
            handlers::status,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_WORKERS,
            handlers::create,
        ),
        RouteSpec::user(
            Perm::Operate,
            Method::POST,
            paths::SITE_WORKERS_RESTART,
            handlers::restart,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_WORKER,
            handlers::update,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_WORKER_DELETE,
            handlers::delete,
        ),
    ]
}
