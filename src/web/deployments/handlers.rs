use maud::Markup;
use poem::handler;
use poem::web::Data;

use super::views;
use crate::db;
use crate::error::AppResult;
use crate::web::AppState;

/// How many deployments the list shows.
const PAGE_SIZE: i64 = 100;

#[handler]
pub async fn index(state: Data<&AppState>) -> AppResult<Markup> {
    Ok(views::index(
        &db::deployments::recent(&state.db, PAGE_SIZE).await?,
    ))
}
