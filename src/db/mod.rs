//! The panel's own database: an SQLite file in the data dir, opened with tuned pragmas and
//! migrated on start. All SQL lives in this module's children, one per table group.

pub mod audit;
pub mod certificates;
pub mod credentials;
pub mod cron;
pub mod dashboard;
pub mod databases;
pub mod deployments;
pub mod enrolment;
pub mod jobs;
pub mod listing;
pub mod mail;
pub mod secrets;
pub mod seed;
pub mod selinux;
pub mod servers;
pub mod sessions;
pub mod sites;
pub mod software;
pub mod ssh_keys;
pub mod tokens;
pub mod users;
pub mod workers;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{
    SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use crate::error::{AppError, FieldError};

pub type Pool = SqlitePool;

/// Connection options with every pragma the panel relies on. sqlx applies them, in this order,
/// to every connection it opens, so pooled connections all behave alike.
/// Pragma reference: <https://www.sqlite.org/pragma.html>.
pub fn connect_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::from_str("sqlite:")
        .expect("static url")
        .filename(path)
        .create_if_missing(true)
        // 32 KiB pages: fewer page reads for log/audit rows; must be set before the first table.
        .page_size(32768)
        // Lets `PRAGMA incremental_vacuum` return freed pages after log pruning; also pre-tables.
        .auto_vacuum(SqliteAutoVacuum::Incremental)
        // WAL: readers never block the writer, so SSE and job log writes run side by side.
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across application crashes in WAL mode and far fewer fsyncs than FULL.
        .synchronous(SqliteSynchronous::Normal)
        // SQLite leaves FK enforcement off by default; the schema's cascades depend on it.
        .foreign_keys(true)
        // Wait up to 5 s for a competing writer instead of failing with SQLITE_BUSY.
        .busy_timeout(Duration::from_millis(5000))
        // ~20 MB page cache per connection (negative = KiB), enough for the working set.
        .pragma("cache_size", "-20000")
        // Sorts and temp indices in memory: nothing sensitive lands in stray temp files.
        .pragma("temp_store", "MEMORY")
        // Memory-map up to 2 GiB of the file: reads skip a syscall + copy per page.
        .pragma("mmap_size", "2147483648")
}

/// Open (creating if needed) the database in `data_dir` and apply pending migrations.
pub async fn open(data_dir: &Path) -> anyhow::Result<Pool> {
    ensure_private_dir(data_dir)?;
    let path = data_dir.join("panel.sqlite");
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(connect_options(&path))
        .await
        .with_context(|| format!("opening database {}", path.display()))?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .context("applying database migrations")?;
    Ok(pool)
}

/// Timestamps are stored as RFC 3339 UTC text with milliseconds, the same shape SQLite's
/// `strftime('%Y-%m-%dT%H:%M:%fZ')` writes, so they compare correctly as text.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The current time as a stored timestamp.
pub fn now() -> String {
    timestamp(chrono::Utc::now())
}

/// Whether the database answers a query (`/healthz`).
pub async fn ping(pool: &Pool) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(pool)
        .await
        .is_ok()
}

/// Checkpoint the WAL into the main file and close every connection, so a stopped panel leaves
/// one self-contained database file.
pub async fn close(pool: &Pool) {
    // A background task's query that was still finishing keeps the checkpoint from truncating
    // (it reports `busy` rather than failing): try again for up to a second.
    for _ in 0..50 {
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(pool)
            .await
        {
            Ok((0, _, _)) => break,
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            Err(e) => {
                tracing::warn!("WAL checkpoint at shutdown failed: {e}");
                break;
            }
        }
    }
    pool.close().await;
    // sqlx's close can return while a connection handed back during it sits idle and open
    // (it waits for the permits, then does not look at the idle queue again); closing again
    // closes that one. Bounded: a connection still checked out elsewhere is not waited for long.
    for _ in 0..100 {
        if pool.size() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        pool.close().await;
    }
    // A background task may have written between that checkpoint and the pool's close (CI saw
    // a WAL left after SIGTERM): one last connection of our own checkpoints again; closing it as
    // the last one removes the WAL. A task aborted mid-query can still be finishing its statement
    // on sqlx's worker thread (cancelling the future does not stop it) and hold its connection
    // open a moment longer, so look at the file and try again for up to two seconds.
    use sqlx::{ConnectOptions, Connection};
    let wal = {
        let mut name = pool.connect_options().get_filename().as_os_str().to_owned();
        name.push("-wal");
        std::path::PathBuf::from(name)
    };
    for attempt in 0..100 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let Ok(mut conn) = pool.connect_options().connect().await else {
            continue;
        };
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await
        {
            tracing::warn!("final WAL checkpoint at shutdown failed: {e}");
        }
        let _ = conn.close().await;
        let left = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        if left == 0 {
            return;
        }
    }
    tracing::warn!("the WAL is still in use at shutdown; SQLite replays it at the next start");
}

/// The data dir holds the database and the master key: owner-only.
fn ensure_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating data dir {}", dir.display()))?;
    } else {
        let meta = std::fs::metadata(dir)?;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                "data dir {} is accessible to other users; consider chmod 700",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Turn a UNIQUE violation into a field error for the form that caused it. `fields` maps the
/// `table.column` SQLite names in its message to the form field and the message the user sees.
/// Any other error passes through unchanged.
pub fn unique_to_field(err: sqlx::Error, fields: &[(&str, &'static str, &str)]) -> AppError {
    if let Some(db) = err.as_database_error() {
        if db.kind() == sqlx::error::ErrorKind::UniqueViolation {
            let message = db.message();
            for (column, field, text) in fields {
                // SQLite says "UNIQUE constraint failed: servers.ip_address".
                if message
                    .rsplit(": ")
                    .next()
                    .is_some_and(|cols| cols.split(", ").any(|c| c == *column))
                {
                    return AppError::Invalid(vec![FieldError::new(field, *text)]);
                }
            }
        }
    }
    AppError::from(err)
}
