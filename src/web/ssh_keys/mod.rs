//! SSH keys the panel uses to reach servers: list, generate, import, copy/download the public
//! half, delete. The private half never reaches the browser.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Perm::View, Method::GET, paths::SSH_KEYS, handlers::index),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SSH_KEYS,
            handlers::generate,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SSH_KEYS_IMPORT,
            handlers::import,
        ),
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::SSH_KEY_PUBLIC,
            handlers::download_public,
        ),
        RouteSpec::user(
            Perm::Delete,
            Method::POST,
            paths::SSH_KEY_DELETE,
            handlers::delete,
        ),
    ]
}
