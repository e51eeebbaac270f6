use maud::Markup;
use poem::handler;
use poem::web::{Data, Query};

use super::views;
use crate::db;
use crate::domain::{DatabaseSort, ListForm};
use crate::error::{AppError, AppResult};
use crate::paths;
use crate::web::AppState;
use crate::web::listing::{self, ListView};

/// The databases list's query string: the list's own fields and a server.
#[derive(Debug, Default, serde::Deserialize)]
pub struct DatabaseListForm {
    #[serde(flatten)]
    list: ListForm,
    #[serde(default)]
    server: String,
}

#[handler]
pub async fn index(
    state: Data<&AppState>,
    Query(form): Query<DatabaseListForm>,
) -> AppResult<Markup> {
    let query = listing::parse(&form.list, DatabaseSort::Name)?;
    let mut errors = Vec::new();
    let server = listing::filter_value(&form.server, "server", "not a server", &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let page = db::databases::page(&state.db, &query, server).await?;
    let total = db::dashboard::total(&state.db, "databases").await?;
    let list = ListView::new(paths::DATABASES, &query).filter("server", &form.server);
    Ok(views::index(&list, &page, total))
}
