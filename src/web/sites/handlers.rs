use maud::Markup;
use poem::handler;
use poem::web::Data;

use super::views;
use crate::db;
use crate::error::AppResult;
use crate::web::AppState;

#[handler]
pub async fn index(state: Data<&AppState>) -> AppResult<Markup> {
    Ok(views::index(&db::sites::list(&state.db).await?))
}
