//! Settings → API tokens: a user's own tokens for `/api/v1`, made (shown once) and revoked.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Perm::Own, Method::GET, paths::API_TOKENS, handlers::index),
        RouteSpec::user(
            Perm::Credentials,
            Method::POST,
            paths::API_TOKENS,
            handlers::create,
        ),
        RouteSpec::user(
            Perm::Own,
            Method::POST,
            paths::API_TOKEN_REVOKE,
            handlers::revoke,
        ),
    ]
}
