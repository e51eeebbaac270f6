//! The dashboard: counts across the panel and what to do next.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![RouteSpec::user(
        Perm::View,
        Method::GET,
        paths::DASHBOARD,
        handlers::index,
    )]
}
