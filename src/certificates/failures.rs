//! A certificate's failures and alerts: the explained failure stored on it, a line in the
//! server's log, and mail through the outbox (at once, then at most daily).

use std::time::Duration;

use chrono::{DateTime, Utc};
use maud::html;

use crate::db::servers::Server;
use crate::db::sites::Site;
use crate::db::{self};
use crate::domain::LogLevel;
use crate::jobs::JobFailure;
use crate::state::AppState;
use crate::tls::explain::Explained;

/// How often a failing certificate's alert repeats.
const ALERT_EVERY: chrono::Duration = chrono::Duration::hours(24);

/// The wait after the `failures`-th failure in a row.
pub fn backoff(interval: Duration, failures: i64) -> Duration {
    let doubled = interval.saturating_mul(1 << failures.clamp(1, 16));
    doubled.min(Duration::from_secs(24 * 3600))
}

/// Record an issue or renewal failure, explained, and alert.
pub(super) async fn failed(
    state: &AppState,
    server: &Server,
    site: &Site,
    renewal: bool,
    why: &Explained,
) -> Result<(), JobFailure> {
    let cert = db::certificates::get(&state.db, site.id).await?;
    let failures = cert.as_ref().map_or(0, |c| c.failures) + 1;
    let next = renewal.then(|| {
        let wait = backoff(state.config.acme.check_interval, failures);
        db::timestamp(Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default())
    });
    db::certificates::fail(&state.db, site.id, why.kind, &why.text, next.as_deref()).await?;
    let what = if renewal { "renewal" } else { "issue" };
    log(
        state,
        server,
        site,
        LogLevel::Error,
        &format!("certificate {what} failed ({}): {}", why.kind, why.text),
    )
    .await?;
    // A renewal is mailed on the first failure of a streak; later retries are shown on the
    // site, and the daily alert of a certificate near its expiry (`renew::alert_expiring`)
    // takes over. An issue someone asked for is mailed each time (at most daily).
    let last = cert.and_then(|c| c.last_alert_at);
    if (failures == 1 || !renewal) && alert_due(last.as_deref(), Utc::now()) {
        let subject = if renewal {
            format!("The certificate of {} could not be renewed", site.domain)
        } else {
            format!("A certificate for {} could not be issued", site.domain)
        };
        mail(state, site, &subject, &why.text, None).await?;
    }
    Ok(())
}

pub(super) fn alert_due(last: Option<&str>, now: DateTime<Utc>) -> bool {
    match last.and_then(|t| DateTime::parse_from_rfc3339(t).ok()) {
        Some(t) => now - t.with_timezone(&Utc) >= ALERT_EVERY,
        None => true,
    }
}

pub(super) async fn mail(
    state: &AppState,
    site: &Site,
    subject: &str,
    why: &str,
    expires: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    let link = format!(
        "{}{}",
        state.config.url.trim_end_matches('/'),
        crate::paths::with_id(crate::paths::SITE_HTTPS, site.id)
    );
    let expiry = expires
        .map(|t| format!("It expires {}.", t.format("%Y-%m-%d %H:%M UTC")))
        .unwrap_or_default();
    let text = format!("{subject}.\n\n{why}\n\n{expiry}\n\nSee {link}\n");
    let html = html! {
        (maud::DOCTYPE)
        html { head { meta charset="utf-8"; title { (subject) } }
            body style="font-family: sans-serif" {
                h2 { (subject) }
                p { (why) }
                @if !expiry.is_empty() { p { (expiry) } }
                p { a href=(link) { "Open the site's HTTPS page" } }
            }
        }
    }
    .into_string();
    db::mail::enqueue(&state.db, "alert", subject, &text, &html).await?;
    db::certificates::set_alerted(&state.db, site.id, &db::now()).await
}

pub(super) async fn log(
    state: &AppState,
    server: &Server,
    site: &Site,
    level: LogLevel,
    message: &str,
) -> Result<(), JobFailure> {
    db::servers::log(
        &state.db,
        server.id,
        level,
        &format!("{}: {message}", site.domain),
        &serde_json::json!({ "site_id": site.id }),
    )
    .await?;
    Ok(())
}
