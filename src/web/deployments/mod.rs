//! Deployments: git deploys of sites, newest first.

mod handlers;
mod views;

use poem::http::Method;

use super::{RouteSpec, paths};

pub fn routes() -> Vec<RouteSpec> {
    vec![RouteSpec::user(
        Method::GET,
        paths::DEPLOYMENTS,
        handlers::index,
    )]
}
