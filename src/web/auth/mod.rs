//! Login, logout and enrolment. Passkeys are the only way in; there is no registration page:
//! a person enrols only through a one-time link printed on the panel host.

mod handlers;
mod views;

use poem::http::Method;

use super::RouteSpec;
use crate::domain::Perm;
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        RouteSpec::anonymous(Method::GET, paths::LOGIN, handlers::login_page),
        RouteSpec::anonymous(Method::POST, paths::LOGIN_OPTIONS, handlers::login_options),
        RouteSpec::anonymous(Method::POST, paths::LOGIN_FINISH, handlers::login_finish),
        RouteSpec::user(Perm::Own, Method::POST, paths::LOGOUT, handlers::logout),
        RouteSpec::anonymous(Method::GET, paths::ENROL, handlers::enrol_page),
        RouteSpec::anonymous(Method::POST, paths::ENROL_OPTIONS, handlers::enrol_options),
        RouteSpec::anonymous(Method::POST, paths::ENROL_FINISH, handlers::enrol_finish),
    ]
}
