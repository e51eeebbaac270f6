//! Deployments: a site's repository settings and deploy history (its Deployments tab), every
//! deployment's page (steps, live log, output, rollback), the list of all of them, and the push
//! webhook.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::user(Perm::View, Method::GET, paths::DEPLOYMENTS, handlers::index),
        RouteSpec::user(Perm::View, Method::GET, paths::DEPLOYMENT, handlers::show),
        RouteSpec::user(
            Perm::Operate,
            Method::POST,
            paths::DEPLOYMENT_ROLLBACK,
            handlers::rollback,
        ),
        RouteSpec::user(
            Perm::Operate,
            Method::POST,
            paths::DEPLOYMENT_REDEPLOY,
            handlers::redeploy,
        ),
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::SITE_DEPLOYMENTS,
            handlers::site_tab,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_REPOSITORY,
            handlers::save_repository,
        ),
        RouteSpec::user(
            Perm::Operate,
            Method::POST,
            paths::SITE_DEPLOY,
            handlers::deploy,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_DEPLOY_KEY,
            handlers::regenerate_key,
        ),
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::SITE_DEPLOY_KEY_PUBLIC,
            handlers::public_key,
        ),
        RouteSpec::user(
            Perm::Reveal,
            Method::POST,
            paths::SITE_WEBHOOK_REVEAL,
            handlers::reveal_secret,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_WEBHOOK_ROTATE,
            handlers::rotate_secret,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_GIT_HOST_SCAN,
            handlers::scan_git_host,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_GIT_HOST_CONFIRM,
            handlers::confirm_git_host,
        ),
        // Verified by the site's own webhook secret, not by a session.
        RouteSpec::public(Method::POST, paths::WEBHOOK_DEPLOY, handlers::webhook),
    ]
}
