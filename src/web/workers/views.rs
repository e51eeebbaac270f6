use maud::{Markup, html};

use crate::db::jobs::{Job, LogLine, Step};
use crate::db::sites::Site;
use crate::db::workers::Worker;
use crate::domain::{AppType, SiteStatus, WorkerRestart, WorkerSignal};
use crate::error::FieldError;
use crate::paths::{self, with_id};
use crate::web::components::{
    badge, confirm_action, empty_state, error_summary, field_error, table,
};
use crate::web::layout::{Nav, Page, csrf_field};
use crate::workers::WorkerStatus;
use crate::workers::forms::WorkerForm;

fn worker_path(pattern: &str, site: &Site, w: &Worker) -> String {
    with_id(&with_id(pattern, site.id), w.id)
}

fn restart_words(r: WorkerRestart) -> &'static str {
    match r {
        WorkerRestart::Always => "always restarted",
        WorkerRestart::OnFailure => "restarted when it fails",
        WorkerRestart::Never => "never restarted",
    }
}

fn has_error(errors: &[FieldError], field: &str) -> bool {
    errors.iter().any(|e| e.field == field)
}

/// The form's fields (ids prefixed with `key`: the add form and each edit form on one page).
fn fields(key: &str, form: &WorkerForm, errors: &[FieldError]) -> Markup {
    let id = |f: &str| format!("{key}{f}");
    html! {
        fieldset.fieldset {
            label.label for=(id("command")) { "Command" }
            input.input.w-full.font-mono.input-error[has_error(errors, "command")]
                id=(id("command")) name="command" value=(form.command) required autocomplete="off"
                spellcheck="false" placeholder="php public_html/artisan queue:work";
            p.label.text-xs.whitespace-normal { "Runs with bash -c as the site's user in its home; it should stay in the foreground." }
            (field_error(errors, "command"))
        }
        div.grid."sm:grid-cols-2"."gap-x-4" {
            fieldset.fieldset {
                label.label for=(id("processes")) { "Processes" }
                input.input.w-full.input-error[has_error(errors, "processes")] type="number" min="1" max="20"
                    id=(id("processes")) name="processes" value=(form.processes) required;
                (field_error(errors, "processes"))
            }
            fieldset.fieldset {
                label.label for=(id("restart")) { "Restart" }
                select.select.w-full.select-error[has_error(errors, "restart")] id=(id("restart")) name="restart" {
                    @for r in WorkerRestart::ALL {
                        option value=(r.as_str()) selected[form.restart == r.as_str()] {
                            @match r {
                                WorkerRestart::Always => "Always",
                                WorkerRestart::OnFailure => "When it fails",
                                WorkerRestart::Never => "Never",
                            }
                        }
                    }
                }
                (field_error(errors, "restart"))
            }
            fieldset.fieldset {
                label.label for=(id("stop_signal")) { "Stop signal" }
                select.select.w-full.select-error[has_error(errors, "stop_signal")] id=(id("stop_signal")) name="stop_signal" {
                    @for s in WorkerSignal::ALL {
                        option value=(s.as_str()) selected[form.stop_signal == s.as_str()] { "SIG" (s.as_str()) }
                    }
                }
                (field_error(errors, "stop_signal"))
            }
            fieldset.fieldset {
                label.label for=(id("stop_timeout")) { "Seconds to stop" }
                input.input.w-full.input-error[has_error(errors, "stop_timeout")] type="number" min="1" max="600"
                    id=(id("stop_timeout")) name="stop_timeout" value=(form.stop_timeout) required;
                p.label.text-xs.whitespace-normal { "After the stop signal; then it is killed." }
                (field_error(errors, "stop_timeout"))
            }
        }
    }
}

/// What the tab shows beyond the workers: a form typed wrong or a preset (and which worker it
/// was for), a job that was just started.
pub struct Shown<'a> {
    pub form: Option<(&'a WorkerForm, Option<String>)>,
    pub errors: &'a [FieldError],
    pub job: Option<&'a (Vec<Step>, Vec<LogLine>, Job)>,
}

pub fn tab(site: &Site, list: &[Worker], shown: Shown<'_>) -> Markup {
    let user = site.username.as_deref().unwrap_or("the site's user");
    let empty = WorkerForm::default();
    let (new_form, new_errors) = match &shown.form {
        Some((f, None)) => (*f, shown.errors),
        _ => (&empty, &[][..]),
    };
    let rows = html! {
        @for w in list {
            @let editing = matches!(&shown.form, Some((_, Some(id))) if *id == w.id.to_string());
            @let (form, errors) = match (&shown.form, editing) {
                (Some((f, _)), true) => ((*f).clone(), shown.errors),
                _ => (WorkerForm {
                    command: w.command.clone(),
                    processes: w.processes.to_string(),
                    restart: w.restart.to_string(),
                    stop_signal: w.stop_signal.to_string(),
                    stop_timeout: w.stop_timeout.to_string(),
                }, &[][..]),
            };
            @let key = format!("w-{}-", w.id.to_string().to_ascii_lowercase());
            tr data-worker=(w.id) {
                td { code.text-sm.break-all { (w.command) } }
                td { (w.processes) }
                td.text-sm {
                    (restart_words(w.restart))
                    p.text-xs."text-base-content/70" { "stops on SIG" (w.stop_signal.as_str()) ", killed after " (w.stop_timeout) " s" }
                }
                td {
                    (confirm_action(
                        &format!("{key}delete"),
                        "Delete",
                        "btn-ghost",
                        &worker_path(paths::SITE_WORKER_DELETE, site, w),
                        html! {},
                        "Delete this worker?",
                        html! { p { "Its processes are stopped: " code { (w.command) } } },
                    ))
                    details.mt-1 open[editing] {
                        summary.text-xs.cursor-pointer { "Edit" }
                        form.mt-2 method="post" action=(worker_path(paths::SITE_WORKER, site, w)) {
                            (csrf_field())
                            (error_summary(errors))
                            (fields(&key, &form, errors))
                            button.btn.btn-sm.btn-primary.mt-2 type="submit" { "Save and restart" }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        (crate::web::components::site_tabs(site, "workers"))
        @if !matches!(site.status, SiteStatus::Active | SiteStatus::Provisioning) {
            div.alert.alert-info role="status" {
                span { "The site is " (site.status.as_str()) ": its workers are stopped; changes are kept and they start again when it is active (resumed or retried)." }
            }
        }
        @if let Some((steps, lines, job)) = shown.job {
            h2.text-lg.font-semibold { a.link href=(with_id(paths::JOB, job.id)) { (job.title) } }
            (crate::web::jobs::views::card(job, steps, lines, false))
        }
        section.card."bg-base-100".shadow-sm {
            div.card-body {
                h2.card-title { "Workers" }
                p.text-sm."text-base-content/80" {
                    "Each process runs with " code { "bash -c" } " as " span.font-mono { (user) } " in its home, with its "
                    code { ".env" } " loaded and PHP " (site.php_version) " as " code { "php" } ", in the site's own SELinux domain and categories; "
                    "its output goes to " code { "logs/workers/" } ". Every change, deploy and rollback restarts the site's workers: each gets its stop signal and its seconds to finish."
                }
                @if list.is_empty() {
                    (empty_state("No workers yet", "Add one below: a queue worker, or any process that should keep running.", None))
                } @else {
                    (table(&["Command", "Processes", "Restart", ""], rows))
                }
                @if !list.is_empty() && site.status == SiteStatus::Active {
                    form method="post" action=(with_id(paths::SITE_WORKERS_RESTART, site.id)) {
                        (csrf_field())
                        button.btn.btn-sm type="submit" { "Restart all workers" }
                    }
                }
            }
        }
        @if !list.is_empty() {
            section.card."bg-base-100".shadow-sm {
                div.card-body {
                    h2.card-title { "Running now" }
                    div #worker-status hx-get=(with_id(paths::SITE_WORKERS_STATUS, site.id)) hx-trigger="load, every 5s" hx-swap="innerHTML" aria-live="polite" {
                        p.text-sm."text-base-content/70" { "Asking the server…" }
                    }
                }
            }
        }
        section.card."bg-base-100".shadow-sm {
            form.card-body method="post" action=(with_id(paths::SITE_WORKERS, site.id)) {
                h2.card-title { "Add a worker" }
                @if site.app_type == AppType::Laravel {
                    p.text-sm {
                        a.link href={ (with_id(paths::SITE_WORKERS, site.id)) "?preset=laravel-queue" } { "Fill in Laravel's queue worker" }
                        " (" code { "artisan queue:work" } ")"
                    }
                }
                (csrf_field())
                (error_summary(new_errors))
                (fields("", new_form, new_errors))
                div.card-actions.justify-end { button.btn.btn-primary type="submit" { "Add the worker" } }
            }
        }
    };
    Page::new(format!("{} · Workers", site.domain))
        .nav(Nav::Sites)
        .body(body)
        .render()
}

/// How long a process has been up, the way a person says it.
fn uptime(seconds: u64) -> String {
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3599 => format!("{} min", seconds / 60),
        3600..=86_399 => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
        _ => format!("{} d {} h", seconds / 86_400, seconds % 86_400 / 3600),
    }
}

/// The processes as the node reports them (or why it cannot be asked).
pub fn status(list: &[Worker], read: Result<Vec<WorkerStatus>, String>) -> Markup {
    let all = match read {
        Ok(r) => r,
        Err(e) => {
            return html! { div.alert.alert-warning role="status" { span { "The server cannot be asked right now: " (e) } } };
        }
    };
    html! {
        ul.space-y-3 {
            @for (w, s) in list.iter().zip(all.iter()) {
                li data-worker-status=(w.id) {
                    code.text-sm.break-all { (w.command) }
                    ul.flex.flex-wrap."gap-2".mt-1 {
                        @for (k, p) in s.processes.iter().enumerate() {
                            li data-process=(k + 1) data-pid=(p.pid.map(|p| p.to_string()).unwrap_or_default()) data-state=(p.state) {
                                @if p.running() {
                                    (badge(&format!("#{} running", k + 1), "badge-success"))
                                } @else if p.state == "failed" {
                                    (badge(&format!("#{} failed", k + 1), "badge-error"))
                                } @else {
                                    (badge(&format!("#{} {}", k + 1, p.state), "badge-ghost"))
                                }
                                @if let Some(pid) = p.pid {
                                    span.text-xs."text-base-content/70" { " pid " (pid) ", up " (uptime(p.up_seconds)) }
                                }
                            }
                        }
                    }
                    @if !s.output.is_empty() {
                        pre.text-xs."bg-base-200".p-2.rounded.overflow-x-auto."max-h-48".mt-1 data-worker-output { (s.output) }
                    }
                    a.link.text-xs href={ (with_id(paths::SITE_LOGS, w.site_id)) "?log=" (crate::sites::logs::LogKind::Worker(w.id).name()) } { "The whole log (operators and up): follow, search, download" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uptimes_read_like_a_person_would_say_them() {
        assert_eq!(super::uptime(5), "5 s");
        assert_eq!(super::uptime(125), "2 min");
        assert_eq!(super::uptime(3 * 3600 + 120), "3 h 2 min");
        assert_eq!(super::uptime(2 * 86_400 + 7200), "2 d 2 h");
    }
}
