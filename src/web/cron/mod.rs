//! A site's Cron jobs tab: the jobs (add, edit, enable or disable, delete, run now, write
//! again), their schedules said in words with the next runs, and the last runs read live.

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
            paths::SITE_CRON,
            handlers::tab_page,
        ),
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::SITE_CRON_RUNS,
            handlers::runs,
        ),
        RouteSpec::user(
            Perm::View,
            Method::GET,
            paths::SITE_CRON_DESCRIBE,
            handlers::describe,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_CRON,
            handlers::create,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_CRON_APPLY,
            handlers::apply,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_CRON_JOB,
            handlers::update,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_CRON_TOGGLE,
            handlers::toggle,
        ),
        RouteSpec::user(
            Perm::Manage,
            Method::POST,
            paths::SITE_CRON_DELETE,
            handlers::delete,
        ),
        RouteSpec::user(
            Perm::Operate,
            Method::POST,
            paths::SITE_CRON_RUN,
            handlers::run,
        ),
    ]
}
