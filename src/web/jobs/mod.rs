//! Jobs: every remote operation with its live log.

mod handlers;
pub(crate) mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Perm::View, Method::GET, paths::JOBS, handlers::index),
        RouteSpec::user(Perm::View, Method::GET, paths::JOB, handlers::show),
        RouteSpec::user(Perm::View, Method::GET, paths::JOB_EVENTS, handlers::events),
        RouteSpec::user(
            Perm::Operate,
            Method::POST,
            paths::JOB_RETRY,
            handlers::retry,
        ),
    ]
}
