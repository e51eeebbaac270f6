//! Login. Passkeys are the only way in; until the passkey flow exists the page says so plainly.

mod views;

use poem::handler;
use poem::http::Method;

use super::{RouteSpec, paths};

pub fn routes() -> Vec<RouteSpec> {
    vec![RouteSpec::public(Method::GET, paths::LOGIN, login_page)]
}

#[handler]
fn login_page() -> maud::Markup {
    views::login_not_set_up()
}
