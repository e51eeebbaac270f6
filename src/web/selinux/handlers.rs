use maud::Markup;
use poem::handler;
use poem::web::Data;

use super::views;
use crate::db;
use crate::error::AppResult;
use crate::web::AppState;

/// How many audit records the page shows.
const PAGE_SIZE: i64 = 200;

#[handler]
pub async fn index(state: Data<&AppState>) -> AppResult<Markup> {
    Ok(views::index(
        &db::selinux::recent(&state.db, PAGE_SIZE).await?,
    ))
}
