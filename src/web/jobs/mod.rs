//! Jobs: every remote operation with its live log.

mod handlers;
pub(crate) mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Method::GET, paths::JOBS, handlers::index),
        RouteSpec::user(Method::GET, paths::JOB, handlers::show),
        RouteSpec::user(Method::GET, paths::JOB_EVENTS, handlers::events),
        RouteSpec::user(Method::POST, paths::JOB_RETRY, handlers::retry),
    ]
}
