//! Sites: isolated PHP applications on managed servers.

mod handlers;
mod views;

use poem::http::Method;

use super::{RouteSpec, paths};

pub fn routes() -> Vec<RouteSpec> {
    vec![RouteSpec::user(Method::GET, paths::SITES, handlers::index)]
}
