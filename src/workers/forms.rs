//! The worker form: a command, how many processes, the restart policy, the stop signal and
//! timeout; each checked, every error at once.

use serde::Deserialize;

use crate::db::workers::WorkerSettings;
use crate::domain::{CronCommand, StopTimeout, WorkerProcesses, WorkerRestart, WorkerSignal};
use crate::error::{FieldError, FieldErrors};

/// "Add a worker" / "Edit" as submitted.
#[derive(Clone, Debug, Deserialize)]
pub struct WorkerForm {
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub processes: String,
    #[serde(default)]
    pub restart: String,
    #[serde(default)]
    pub stop_signal: String,
    #[serde(default)]
    pub stop_timeout: String,
}

impl Default for WorkerForm {
    /// An empty form's suggestions: one process, always restarted, TERM with a minute to stop.
    fn default() -> Self {
        Self {
            command: String::new(),
            processes: "1".into(),
            restart: WorkerRestart::Always.to_string(),
            stop_signal: WorkerSignal::Term.to_string(),
            stop_timeout: "60".into(),
        }
    }
}

impl WorkerForm {
    /// Laravel's queue worker, as the form offers it: jobs get up to an hour before the worker
    /// starts afresh, and a deploy gives a running job five minutes to finish.
    pub fn laravel_queue() -> Self {
        Self {
            command: "php public_html/artisan queue:work --sleep=3 --tries=3 --max-time=3600"
                .into(),
            stop_timeout: "300".into(),
            ..Self::default()
        }
    }
}

pub fn parse(form: &WorkerForm) -> Result<WorkerSettings, FieldErrors> {
    fn field<T>(errors: &mut FieldErrors, name: &'static str, r: Result<T, String>) -> Option<T> {
        r.map_err(|m| errors.push(FieldError::new(name, m))).ok()
    }
    let mut errors = Vec::new();
    let e = &mut errors;
    let command = field(e, "command", CronCommand::parse(&form.command));
    let processes = field(e, "processes", WorkerProcesses::parse(&form.processes));
    let restart = field(
        e,
        "restart",
        form.restart
            .parse::<WorkerRestart>()
            .map_err(|_| "Choose always, on failure or never".to_owned()),
    );
    let stop_signal = field(
        e,
        "stop_signal",
        form.stop_signal
            .parse::<WorkerSignal>()
            .map_err(|_| "Choose one of the signals offered".to_owned()),
    );
    let stop_timeout = field(e, "stop_timeout", StopTimeout::parse(&form.stop_timeout));
    match (command, processes, restart, stop_signal, stop_timeout) {
        (Some(command), Some(processes), Some(restart), Some(stop_signal), Some(stop_timeout)) => {
            Ok(WorkerSettings {
                command,
                processes,
                restart,
                stop_signal,
                stop_timeout,
            })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_checked_at_once() {
        let errors = parse(&WorkerForm {
            command: "a\nb".into(),
            processes: "0".into(),
            restart: "sometimes".into(),
            stop_signal: "KILL".into(),
            stop_timeout: "9999".into(),
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "command",
                "processes",
                "restart",
                "stop_signal",
                "stop_timeout"
            ]
        );
        let ok = parse(&WorkerForm::laravel_queue()).unwrap();
        assert_eq!(ok.processes.get(), 1);
        assert_eq!(ok.stop_timeout.get(), 300);
        assert_eq!(ok.restart, WorkerRestart::Always);
    }
}
