//! Settings: the user's passkeys and sessions, preferences, and the panel's configuration.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Perm::View, Method::GET, paths::SETTINGS, handlers::index),
        RouteSpec::user(
            Perm::Credentials,
            Method::POST,
            paths::PASSKEY_OPTIONS,
            handlers::passkey_options,
        ),
        RouteSpec::user(
            Perm::Credentials,
            Method::POST,
            paths::PASSKEY_FINISH,
            handlers::passkey_finish,
        ),
        RouteSpec::user(
            Perm::Credentials,
            Method::POST,
            paths::PASSKEY_DELETE,
            handlers::passkey_delete,
        ),
        RouteSpec::user(
            Perm::Own,
            Method::POST,
            paths::SESSION_REVOKE,
            handlers::session_revoke,
        ),
        RouteSpec::user(
            Perm::Own,
            Method::POST,
            paths::PREFERENCES,
            handlers::preferences,
        ),
        RouteSpec::user(
            Perm::Own,
            Method::GET,
            paths::CONFIRM,
            handlers::confirm_page,
        ),
        RouteSpec::user(
            Perm::Own,
            Method::POST,
            paths::CONFIRM_OPTIONS,
            handlers::confirm_options,
        ),
        RouteSpec::user(
            Perm::Own,
            Method::POST,
            paths::CONFIRM_FINISH,
            handlers::confirm_finish,
        ),
    ]
}
