//! The nodes' signed callbacks: server-ready (the setup script is done) and site-created (a
//! site's provisioning reached its last step). Public routes: each request carries its own
//! HMAC signature, checked by `nodes::callbacks`.

mod handlers;

use poem::http::Method;

use super::RouteSpec;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::public(
            Method::POST,
            paths::CALLBACK_SERVER_READY,
            handlers::server_ready,
        ),
        RouteSpec::public(
            Method::POST,
            paths::CALLBACK_SITE_CREATED,
            handlers::site_created,
        ),
    ]
}
