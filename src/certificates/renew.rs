//! Renewal, driven by the panel: every `[acme] check_interval`, ACME certificates past their
//! renewal time get a renewal job; a failure backs off (the interval, doubling, at most a day),
//! is shown on the site and mailed, and while a failing certificate is inside its warning
//! window (14 days, or a quarter of a short lifetime) the alert repeats daily.

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use super::failures;
use crate::db::{self};
use crate::state::AppState;
use crate::tls::inspect;

/// Renewals started per pass (the rest wait for the next one).
const BATCH: i64 = 50;

pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        // The first pass one interval after start: nothing is due in the first moments, and a
        // panel stopped right after it started has no query of this loop in flight.
        let every = state.config.acme.check_interval;
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
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
        if now < na - inspect::warn_window(nb, na)
            || !failures::alert_due(cert.last_alert_at.as_deref(), now)
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
        failures::mail(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_doubling_up_to_a_day() {
        use std::time::Duration;
        let hour = Duration::from_secs(3600);
        assert_eq!(failures::backoff(hour, 1), hour * 2);
        assert_eq!(failures::backoff(hour, 3), hour * 8);
        assert_eq!(failures::backoff(hour, 9), Duration::from_secs(24 * 3600));
        assert!(failures::alert_due(None, Utc::now()));
        assert!(!failures::alert_due(Some(&db::now()), Utc::now()));
    }
}
