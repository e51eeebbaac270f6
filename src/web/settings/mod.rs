//! Settings: the panel's effective configuration and per-user preferences.

mod handlers;
mod views;

use poem::http::Method;

use super::{RouteSpec, paths};

pub fn routes() -> Vec<RouteSpec> {
    vec![RouteSpec::user(
        Method::GET,
        paths::SETTINGS,
        handlers::index,
    )]
}
