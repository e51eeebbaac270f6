//! Deployments: a site's repository settings (with its own deploy key and webhook secret), the
//! queue every trigger feeds (the UI, the push webhook, `panel deploy` on the panel host), the
//! dispatcher that gives each queued deployment a job (one at a time per site, in order), and
//! the job that deploys a commit or rolls back to a kept release on the site's server.
//!
//! A deployment is a row first (`pending`), so the CLI — another process — queues the same way
//! the UI does: the running panel picks rows up within a second, or at once when kicked.

pub mod dispatch;
pub mod forms;
pub mod git_host;
mod job;
pub mod push;
pub mod queue;
pub mod settings;
pub mod webhook;

use crate::db;
use crate::state::AppState;

pub use forms::{RepositoryForm, default_script, parse_form};
pub use job::MAX_OUTPUT;
pub use queue::{Trigger, queue_deploy, queue_rollback};
pub use settings::{
    regenerate_key, reveal_webhook_secret, rotate_webhook_secret, save, webhook_secret,
};

/// At start: deployments a crash left running failed; queued ones are dispatched again.
pub async fn recover(state: &AppState) -> sqlx::Result<()> {
    let (failed, queued) = db::deployments::recover(&state.db).await?;
    if failed + queued > 0 {
        tracing::warn!(
            "after the restart: {failed} running deployment(s) marked failed, {queued} queued again"
        );
    }
    Ok(())
}
