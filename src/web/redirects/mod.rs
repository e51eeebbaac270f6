//! A site's Redirects tab: its redirects (301/302/307/308, exact or prefix, to a path or a
//! URL), added with every part checked and loops refused, removed; applied by a job.

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
            paths::SITE_REDIRECTS,
            handlers::tab_page,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_REDIRECTS,
            handlers::add,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_REDIRECT_DELETE,
            handlers::remove,
        ),
    ]
}
