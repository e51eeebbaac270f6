//! A site's Nginx tab: its own directives inside its server block, checked directive by
//! directive, tested by nginx before they are served.

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
            paths::SITE_NGINX,
            handlers::tab_page,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_NGINX,
            handlers::update,
        ),
    ]
}
