//! The cron job form: a schedule and a command, each checked, both errors at once.

use serde::Deserialize;

use crate::domain::{CronCommand, CronSchedule};
use crate::error::{FieldError, FieldErrors};

/// "Add a cron job" / "Edit" as submitted (the checkbox: present means enabled).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CronForm {
    #[serde(default)]
    pub schedule: String,
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub enabled: Option<String>,
}

/// A job as asked for.
#[derive(Clone, Debug)]
pub struct CronInput {
    pub schedule: CronSchedule,
    pub command: CronCommand,
    pub enabled: bool,
}

pub fn parse(form: &CronForm) -> Result<CronInput, FieldErrors> {
    let mut errors = Vec::new();
    let schedule = CronSchedule::parse(&form.schedule)
        .map_err(|m| errors.push(FieldError::new("schedule", m)))
        .ok();
    let command = CronCommand::parse(&form.command)
        .map_err(|m| errors.push(FieldError::new("command", m)))
        .ok();
    match (schedule, command) {
        (Some(schedule), Some(command)) if errors.is_empty() => Ok(CronInput {
            schedule,
            command,
            enabled: form.enabled.is_some(),
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_fields_are_checked_at_once() {
        let errors = parse(&CronForm {
            schedule: "61 * * * *".into(),
            command: "a\nb".into(),
            enabled: Some("1".into()),
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["schedule", "command"]);
        let ok = parse(&CronForm {
            schedule: " @hourly ".into(),
            command: "php artisan inspire".into(),
            enabled: None,
        })
        .unwrap();
        assert_eq!(ok.schedule.as_str(), "0 * * * *");
        assert!(!ok.enabled);
    }
}
