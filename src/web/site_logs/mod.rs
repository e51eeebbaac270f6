//! A site's Logs tab: nginx's access and error logs, PHP's errors and the PHP-FPM master's log,
//! each shown from its end and followed live (SSE), searched over its last megabytes, or
//! downloaded. Operators and up: logs hold visitors' addresses and PHP's error details.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Perm::Operate, Method::GET, paths::SITE_LOGS, handlers::tab),
        RouteSpec::user(
            Perm::Operate,
            Method::GET,
            paths::SITE_LOGS_STREAM,
            handlers::stream,
        ),
        RouteSpec::user(
            Perm::Operate,
            Method::GET,
            paths::SITE_LOGS_DOWNLOAD,
            handlers::download,
        ),
    ]
}
