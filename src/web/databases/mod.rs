//! Databases: MariaDB and PostgreSQL databases of sites.

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
        paths::DATABASES,
        handlers::index,
    )]
}
