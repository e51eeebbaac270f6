//! SELinux: denials collected from every server.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Perm::View, Method::GET, paths::SELINUX, handlers::index),
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::SELINUX_EVENTS,
            handlers::events,
        ),
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::SELINUX_RECORD,
            handlers::record,
        ),
    ]
}
