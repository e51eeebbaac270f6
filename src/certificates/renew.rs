//! Renewal, driven by the panel: every `[acme] check_interval`, ACME certificates past their
//! renewal time get a renewal job; a failure backs off (the interval, doubling, at most a day),
//! is shown on the site and mailed, and while a failing certificate is inside its warning
//! window (14 days, or a quarter of a short lifetime) the alert repeats daily.

use std::time::Duration;

use chrono::{DateTime, Utc};
use maud::html;
use tokio::task::JoinHandle;

use crate::db::servers::Server;
use crate::db::sites::Site;
use crate::db::{self};
use crate::domain::LogLevel;
use crate::jobs::JobFailure;
use crate::state::AppState;
use crate::tls::explain::Explained;
use crate::tls::inspect;

/// Renewals started per pass (the rest wait for the next one).
const BATCH: i64 = 50;
/// How often a failing certificate's alert repeats.
const ALERT_EVERY: chrono::Duration = chrono::Duration::hours(24);

pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.acme.check_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if state.db.is_closed() {
                return;
            }
            if let Err(e) = renew_due(&state).await {
                tracing::warn!("looking for certificates to renew failed: {e}");
            }
            if let Err(e) = alert_expiring(&state).await {
                tracing::warn!("checking failing certificates failed: {e}");
            }
        }
    })
}

/// Start a renewal job for every certificate due now (one pass of the loop).
pub async fn renew_due(state: &AppState) -> anyhow::Result<usize> {
    let now = Utc::now();
    let due = db::certificates::due(&state.db, &db::timestamp(now), BATCH).await?;
    let mut started = 0;
    for site_id in due {
        let Some(site) = db::sites::get(&state.db, site_id).await? else {
            continue;
        };
        // Not again until this attempt has had time to finish; success clears it, a failure
        // replaces it with the back-off.
        let hold = now + chrono::Duration::from_std(state.config.acme.check_interval * 10)?;
        db::certificates::fail_later(&state.db, site_id, &db::timestamp(hold)).await?;
        match super::jobs::submit(
            state,
            &site,
            super::jobs::Work::Acme { renewal: true },
            None,
        )
        .await
        {
            Ok(_) => started += 1,
            Err(e) => tracing::warn!("could not start the renewal of {}: {e}", site.domain),
        }
    }
    Ok(started)
}

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
    super::jobs::log(
        state,
        server,
        site,
        LogLevel::Error,
        &format!("certificate {what} failed ({}): {}", why.kind, why.text),
    )
    .await?;
    let last = cert.and_then(|c| c.last_alert_at);
    if alert_due(last.as_deref(), Utc::now()) {
        let subject = if renewal {
            format!("The certificate of {} could not be renewed", site.domain)
        } else {
            format!("A certificate for {} could not be issued", site.domain)
        };
        mail(state, site, &subject, &why.text, None).await?;
    }
    Ok(())
}

fn alert_due(last: Option<&str>, now: DateTime<Utc>) -> bool {
    match last.and_then(|t| DateTime::parse_from_rfc3339(t).ok()) {
        Some(t) => now - t.with_timezone(&Utc) >= ALERT_EVERY,
        None => true,
    }
}

/// Daily, for every served certificate whose renewal keeps failing inside its warning window.
async fn alert_expiring(state: &AppState) -> anyhow::Result<()> {
    let now = Utc::now();
    for cert in db::certificates::failing(&state.db).await? {
        let (Some(nb), Some(na)) = (&cert.not_before, &cert.not_after) else {
            continue;
        };
        let (Ok(nb), Ok(na)) = (
            DateTime::parse_from_rfc3339(nb),
            DateTime::parse_from_rfc3339(na),
        ) else {
            continue;
        };
        let (nb, na) = (nb.with_timezone(&Utc), na.with_timezone(&Utc));
        if now < na - inspect::warn_window(nb, na) || !alert_due(cert.last_alert_at.as_deref(), now)
        {
            continue;
        }
        let Some(site) = db::sites::get(&state.db, cert.site_id).await? else {
            continue;
        };
        let subject = format!(
            "The certificate of {} expires {} without a renewal",
            site.domain,
            na.format("%Y-%m-%d %H:%M UTC")
        );
        mail(
            state,
            &site,
            &subject,
            cert.error.as_deref().unwrap_or("The last renewal failed."),
            Some(na),
        )
        .await?;
    }
    Ok(())
}

async fn mail(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_doubling_up_to_a_day() {
        let hour = Duration::from_secs(3600);
        assert_eq!(backoff(hour, 1), hour * 2);
        assert_eq!(backoff(hour, 3), hour * 8);
        assert_eq!(backoff(hour, 9), Duration::from_secs(24 * 3600));
        assert!(alert_due(None, Utc::now()));
        assert!(!alert_due(Some(&db::now()), Utc::now()));
    }
}
