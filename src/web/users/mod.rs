//! Settings → Users (owners): invite people with a role, change roles, disable and enable.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Perm::Users, Method::GET, paths::USERS, handlers::index),
        RouteSpec::user(Perm::Users, Method::POST, paths::USERS, handlers::invite),
        RouteSpec::user(Perm::Users, Method::POST, paths::USER_ROLE, handlers::role),
        RouteSpec::user(
            Perm::Users,
            Method::POST,
            paths::USER_STATUS,
            handlers::status,
        ),
    ]
}
