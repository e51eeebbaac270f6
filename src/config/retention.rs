//! `[retention]`: how much history the panel keeps.

use serde::Deserialize;

use super::ConfigError;

/// `[retention]`: how much history the panel keeps, so no node or tenant can fill its disk.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RetentionFile {
    days: Option<u32>,
    audit_records_per_minute: Option<u32>,
    job_log_lines: Option<usize>,
    audit_log_days: Option<u32>,
}

/// How much history is kept (defaults in `Retention::default`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Finished jobs (with their logs), server log lines and SELinux records older than this
    /// are removed (hourly).
    pub days: u32,
    /// SELinux records stored per server per minute; the excess is counted, not stored.
    pub audit_records_per_minute: u32,
    /// Log lines kept per job: the first four fifths and the last fifth, with a marker between.
    pub job_log_lines: usize,
    /// Rows of the panel's own audit log (who did what) older than this are removed.
    pub audit_log_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            days: 90,
            audit_records_per_minute: 1_000,
            job_log_lines: 20_000,
            audit_log_days: 365,
        }
    }
}

/// `field: lo to hi` unless `v` is in that range.
fn within<T: PartialOrd + std::fmt::Display>(
    v: T,
    lo: T,
    hi: T,
    field: &str,
) -> Result<(), ConfigError> {
    let ok = v >= lo && v <= hi;
    ok.then_some(())
        .ok_or_else(|| ConfigError::Retention(format!("{field}: {lo} to {hi}")))
}

pub(super) fn retention(f: RetentionFile) -> Result<Retention, ConfigError> {
    let d = Retention::default();
    let r = Retention {
        days: f.days.unwrap_or(d.days),
        audit_records_per_minute: f
            .audit_records_per_minute
            .unwrap_or(d.audit_records_per_minute),
        job_log_lines: f.job_log_lines.unwrap_or(d.job_log_lines),
        audit_log_days: f.audit_log_days.unwrap_or(d.audit_log_days),
    };
    within(r.days, 1, 3650, "days")?;
    within(
        r.audit_records_per_minute,
        10,
        1_000_000,
        "audit_records_per_minute",
    )?;
    within(r.job_log_lines, 100, 10_000_000, "job_log_lines")?;
    within(r.audit_log_days, 30, 3650, "audit_log_days")?;
    Ok(r)
}
