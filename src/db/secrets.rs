//! The sealed columns as a whole, for the master key's rotation and start-up check. Table and
//! column names come from the constant list in `crate::secrets`, never from input.

use sqlx::{Executor, Row, Sqlite};

/// Every sealed value of `table.column`: `(the row's key, ciphertext)`.
pub async fn sealed<'c, E>(
    conn: E,
    table: &str,
    key: &str,
    column: &str,
) -> sqlx::Result<Vec<(String, Vec<u8>)>>
where
    E: Executor<'c, Database = Sqlite>,
{
    let rows = sqlx::query(&format!(
        "SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL"
    ))
    .fetch_all(conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<Vec<u8>, _>(1)))
        .collect())
}

/// Replace one row's sealed value.
pub async fn replace<'c, E>(
    conn: E,
    (table, key, column): (&str, &str, &str),
    id: &str,
    sealed: &[u8],
) -> sqlx::Result<()>
where
    E: Executor<'c, Database = Sqlite>,
{
    sqlx::query(&format!("UPDATE {table} SET {column} = ? WHERE {key} = ?"))
        .bind(sealed)
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}
