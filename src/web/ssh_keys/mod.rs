//! SSH keys the panel uses to reach servers.

mod handlers;
mod views;

use poem::http::Method;

use super::{RouteSpec, paths};

pub fn routes() -> Vec<RouteSpec> {
    vec![RouteSpec::user(
        Method::GET,
        paths::SSH_KEYS,
        handlers::index,
    )]
}
