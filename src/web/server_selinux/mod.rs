//! A server's SELinux tab: mode, the panel's policy module, its booleans, relabelling, and the
//! checklist that must pass before the server is switched to enforcing.

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
            paths::SERVER_SELINUX,
            handlers::show,
        ),
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::SERVER_SELINUX_STATUS,
            handlers::status,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SERVER_SELINUX_MODULE,
            handlers::module,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SERVER_SELINUX_BOOLEAN,
            handlers::boolean,
        ),
        RouteSpec::user(
            Perm::Operate,
            Method::POST,
            paths::SERVER_SELINUX_RELABEL,
            handlers::relabel,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SERVER_SELINUX_ENFORCE,
            handlers::enforce,
        ),
    ]
}
