//! A site's PHP tab: its PHP settings (memory, uploads, time limits, errors, OPcache, time
//! zone), checked field by field and applied to its pool by a job.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Perm::View, Method::GET, paths::SITE_PHP, handlers::tab_page),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_PHP,
            handlers::update,
        ),
    ]
}
