use maud::Markup;
use poem::handler;
use poem::web::Data;

use super::views;
use crate::db;
use crate::error::AppResult;
use crate::web::AppState;

#[handler]
pub async fn index(state: Data<&AppState>) -> AppResult<Markup> {
    let counts = db::dashboard::counts(&state.db).await?;
    let attention = db::dashboard::attention(&state.db, 10).await?;
    Ok(views::dashboard(&counts, &attention))
}
