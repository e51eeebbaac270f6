//! The Audit log page: who did what, newest first, filtered and searched, exported as CSV or
//! JSON with the same filters.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Perm::Manage, Method::GET, paths::AUDIT, handlers::index),
        RouteSpec::user(
            Perm::Manage,
            Method::GET,
            paths::AUDIT_EXPORT,
            handlers::export,
        ),
    ]
}
