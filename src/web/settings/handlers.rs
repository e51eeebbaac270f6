use maud::Markup;
use poem::handler;
use poem::web::Data;

use super::views;
use crate::web::AppState;

#[handler]
pub fn index(state: Data<&AppState>) -> Markup {
    views::index(&state.config)
}
