//! Servers: the machines Panel manages over SSH.

mod handlers;
mod views;

use poem::http::Method;

use super::{RouteSpec, paths};

pub fn routes() -> Vec<RouteSpec> {
    vec![RouteSpec::user(
        Method::GET,
        paths::SERVERS,
        handlers::index,
    )]
}
