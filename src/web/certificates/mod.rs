//! HTTPS: a site's HTTPS tab (its certificate, issue, upload, toggles, remove) and the list of
//! every certificate.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::CERTIFICATES,
            handlers::index,
        ),
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::SITE_HTTPS,
            handlers::tab_page,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_CERT_ISSUE,
            handlers::issue,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_CERT_UPLOAD,
            handlers::upload,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_CERT_DNS,
            handlers::issue_dns,
        ),
        RouteSpec::user(
            Perm::Delete,
            Method::POST,
            paths::SITE_CERT_REMOVE,
            handlers::remove,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_HTTPS_SETTINGS,
            handlers::settings,
        ),
    ]
}
