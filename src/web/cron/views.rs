use maud::{Markup, html};

use crate::cron::LastRun;
use crate::cron::forms::CronForm;
use crate::db::cron::CronJob;
use crate::db::jobs::{Job, LogLine, Step};
use crate::db::sites::Site;
use crate::domain::{CronOrigin, CronSchedule, SiteStatus};
use crate::error::FieldError;
use crate::paths::{self, with_id};
use crate::web::components::{
    badge, confirm_action, empty_state, error_summary, field_error, table, time,
};
use crate::web::layout::{Nav, Page, csrf_field};

/// The five next run times are shown; the timers run in UTC.
const NEXT: usize = 5;

fn job_path(pattern: &str, site: &Site, job: &CronJob) -> String {
    with_id(&with_id(pattern, site.id), job.id)
}

/// Schedules people often want, offered as the schedule field's suggestions.
const SUGGESTIONS: [(&str, &str); 7] = [
    ("* * * * *", "every minute"),
    ("*/5 * * * *", "every 5 minutes"),
    ("*/15 * * * *", "every 15 minutes"),
    ("0 * * * *", "every hour"),
    ("0 3 * * *", "every day at 03:00"),
    ("0 3 * * 1", "every Monday at 03:00"),
    ("0 3 1 * *", "on the 1st of every month at 03:00"),
];

/// The schedule said in words with its next runs (or what is wrong with it): below the
/// schedule field, refreshed as it is typed.
pub fn described(text: &str) -> Markup {
    if text.trim().is_empty() {
        return html! {};
    }
    match CronSchedule::parse(text) {
        Ok(s) => {
            let next = s.next_runs(chrono::Utc::now(), NEXT);
            html! {
                p.text-sm data-schedule-words { "Runs " (s.describe()) " (UTC)." }
                p.text-xs."text-base-content/70" data-next-runs {
                    "Next: "
                    @for (i, t) in next.iter().enumerate() {
                        @if i > 0 { ", " }
                        span.font-mono { (t.format("%Y-%m-%d %H:%M")) }
                    }
                }
            }
        }
        Err(e) => html! { p.text-sm.text-error data-schedule-error { (e) } },
    }
}

fn schedule_field(id: &str, value: &str, site: &Site, errors: &[FieldError], list: &str) -> Markup {
    let said = format!("{id}-said");
    html! {
        fieldset.fieldset {
            label.label for=(id) { "Schedule" }
            input.input.w-full.font-mono.input-error[errors.iter().any(|e| e.field == "schedule")]
                id=(id) name="schedule" value=(value) list=(list) required
                autocomplete="off" spellcheck="false" placeholder="* * * * *"
                hx-get=(with_id(paths::SITE_CRON_DESCRIBE, site.id))
                hx-trigger="input changed delay:300ms" hx-target={ "#" (said) } hx-swap="innerHTML";
            p.label.text-xs.whitespace-normal { "minute hour day-of-month month day-of-week, or @hourly, @daily, @weekly, @monthly" }
            div id=(said) aria-live="polite" { (described(value)) }
            (field_error(errors, "schedule"))
        }
    }
}

fn command_field(id: &str, value: &str, errors: &[FieldError]) -> Markup {
    html! {
        fieldset.fieldset {
            label.label for=(id) { "Command" }
            input.input.w-full.font-mono.input-error[errors.iter().any(|e| e.field == "command")]
                id=(id) name="command" value=(value) required autocomplete="off" spellcheck="false"
                placeholder="php artisan schedule:run";
            (field_error(errors, "command"))
        }
    }
}

fn origin_note(origin: CronOrigin) -> Option<&'static str> {
    match origin {
        CronOrigin::User => None,
        CronOrigin::Laravel => Some("Laravel's scheduler"),
        CronOrigin::WordPress => Some("WP-Cron"),
    }
}

/// What the tab shows beyond the jobs: a form typed wrong (and which job it was for), a job
/// that was just started.
pub struct Shown<'a> {
    pub form: Option<(&'a CronForm, Option<String>)>,
    pub errors: &'a [FieldError],
    pub job: Option<&'a (Vec<Step>, Vec<LogLine>, Job)>,
}

pub fn tab(site: &Site, jobs: &[CronJob], shown: Shown<'_>) -> Markup {
    let user = site.username.as_deref().unwrap_or("the site's user");
    let empty = CronForm {
        enabled: Some("on".into()),
        ..CronForm::default()
    };
    // A new job's form shows what was typed when that is what failed.
    let (new_form, new_errors) = match &shown.form {
        Some((f, None)) => (*f, shown.errors),
        _ => (&empty, &[][..]),
    };
    let rows = html! {
        @for job in jobs {
            @let editing = matches!(&shown.form, Some((_, Some(id))) if *id == job.id.to_string());
            @let (form, errors) = match (&shown.form, editing) {
                (Some((f, _)), true) => ((*f).clone(), shown.errors),
                _ => (CronForm {
                    schedule: job.schedule.clone(),
                    command: job.command.clone(),
                    enabled: job.enabled.then(|| "on".to_owned()),
                }, &[][..]),
            };
            @let key = format!("cron-{}", job.id.to_string().to_ascii_lowercase());
            tr data-cron-job=(job.id) {
                td {
                    code.text-sm { (job.schedule) }
                    @if let Ok(s) = CronSchedule::parse(&job.schedule) {
                        p.text-xs."text-base-content/70" { (s.describe()) }
                        @if job.enabled && site.status == SiteStatus::Active {
                            @if let Some(next) = s.next_after(chrono::Utc::now()) {
                                p.text-xs."text-base-content/70" { "next " (time(&next.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))) }
                            }
                        }
                    }
                }
                td {
                    code.text-sm.break-all { (job.command) }
                    @if let Some(o) = origin_note(job.origin) { p.text-xs."text-base-content/70" { (o) } }
                }
                td {
                    @if job.enabled { (badge("enabled", "badge-success")) } @else { (badge("disabled", "badge-ghost")) }
                }
                td {
                    div.flex.flex-wrap."gap-1" {
                        form method="post" action=(job_path(paths::SITE_CRON_RUN, site, job)) {
                            (csrf_field())
                            button.btn.btn-xs type="submit" disabled[site.status != SiteStatus::Active] { "Run now" }
                        }
                        form method="post" action=(job_path(paths::SITE_CRON_TOGGLE, site, job)) {
                            (csrf_field())
                            @if !job.enabled { input type="hidden" name="enabled" value="on"; }
                            button.btn.btn-xs type="submit" { @if job.enabled { "Disable" } @else { "Enable" } }
                        }
                        (confirm_action(
                            &format!("{key}-delete"),
                            "Delete",
                            "btn-ghost",
                            &job_path(paths::SITE_CRON_DELETE, site, job),
                            html! {},
                            "Delete this cron job?",
                            html! { p { "It stops running: " code { (job.command) } } },
                        ))
                    }
                    details.mt-1 open[editing] {
                        summary.text-xs.cursor-pointer { "Edit" }
                        form.mt-2 method="post" action=(job_path(paths::SITE_CRON_JOB, site, job)) {
                            (csrf_field())
                            (error_summary(errors))
                            (schedule_field(&format!("{key}-schedule"), &form.schedule, site, errors, "cron-suggestions"))
                            (command_field(&format!("{key}-command"), &form.command, errors))
                            label.label { input.checkbox.checkbox-sm type="checkbox" name="enabled" value="on" checked[form.enabled.is_some()]; " Enabled" }
                            button.btn.btn-sm.btn-primary.mt-2 type="submit" { "Save" }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        (crate::web::components::site_tabs(site, "cron"))
        datalist #cron-suggestions {
            @for (value, label) in SUGGESTIONS { option value=(value) { (label) } }
        }
        @if !matches!(site.status, SiteStatus::Active | SiteStatus::Provisioning) {
            div.alert.alert-info role="status" {
                span { "The site is " (site.status.as_str()) ": changes are kept and written to the server when it is active again (resumed or retried)." }
            }
        }
        @if let Some((steps, lines, job)) = shown.job {
            h2.text-lg.font-semibold { a.link href=(with_id(paths::JOB, job.id)) { (job.title) } }
            (crate::web::jobs::views::card(job, steps, lines, false))
        }
        section.card."bg-base-100".shadow-sm {
            div.card-body {
                h2.card-title { "Cron jobs" }
                p.text-sm."text-base-content/80" {
                    "Each job runs with " code { "bash -c" } " as " span.font-mono { (user) } " in its home, with its "
                    code { ".env" } " loaded and PHP " (site.php_version) " as " code { "php" } ", in the site's own SELinux domain and categories. "
                    "Schedules are in UTC. A run still going when the next is due makes that one skip."
                }
                @if jobs.is_empty() {
                    (empty_state("No cron jobs yet", "Add one below. Laravel's scheduler is php public_html/artisan schedule:run every minute.", None))
                } @else {
                    (table(&["Schedule", "Command", "State", ""], rows))
                }
                @if !jobs.is_empty() && site.status == SiteStatus::Active {
                    form method="post" action=(with_id(paths::SITE_CRON_APPLY, site.id)) {
                        (csrf_field())
                        button.btn.btn-xs.btn-ghost type="submit" { "Write them to the server again" }
                    }
                }
            }
        }
        @if !jobs.is_empty() {
            section.card."bg-base-100".shadow-sm {
                div.card-body {
                    h2.card-title { "Last runs" }
                    div #cron-runs hx-get=(with_id(paths::SITE_CRON_RUNS, site.id)) hx-trigger="load, every 15s" hx-swap="innerHTML" aria-live="polite" {
                        p.text-sm."text-base-content/70" { "Asking the server…" }
                    }
                }
            }
        }
        section.card."bg-base-100".shadow-sm {
            form.card-body method="post" action=(with_id(paths::SITE_CRON, site.id)) {
                h2.card-title { "Add a cron job" }
                (csrf_field())
                (error_summary(new_errors))
                (schedule_field("schedule", &new_form.schedule, site, new_errors, "cron-suggestions"))
                (command_field("command", &new_form.command, new_errors))
                label.label { input.checkbox.checkbox-sm type="checkbox" name="enabled" value="on" checked[new_form.enabled.is_some()]; " Enabled" }
                div.card-actions.justify-end { button.btn.btn-primary type="submit" { "Add the cron job" } }
            }
        }
    };
    Page::new(format!("{} · Cron jobs", site.domain))
        .nav(Nav::Sites)
        .body(body)
        .render()
}

/// The last runs as the node reports them (or why it cannot be asked).
pub fn runs(jobs: &[CronJob], runs: Result<Vec<Option<LastRun>>, String>) -> Markup {
    let runs = match runs {
        Ok(r) => r,
        Err(e) => {
            return html! { div.alert.alert-warning role="status" { span { "The server cannot be asked right now: " (e) } } };
        }
    };
    html! {
        ul.space-y-3 {
            @for (job, run) in jobs.iter().zip(runs.iter()) {
                li data-cron-run=(job.id) {
                    div.flex.flex-wrap.items-center."gap-2" {
                        code.text-sm.break-all { (job.command) }
                        @match run {
                            None => span.text-sm."text-base-content/70" { "not run yet" },
                            Some(r) => {
                                @if r.running {
                                    (badge("running", "badge-info"))
                                } @else if r.exit == Some(0) {
                                    span.badge.badge-sm.badge-success data-exit="0" { "exit 0" }
                                } @else {
                                    span.badge.badge-sm.badge-error data-exit=(r.exit.map(|c| c.to_string()).unwrap_or_default()) {
                                        "exit " (r.exit.map(|c| c.to_string()).unwrap_or_else(|| "?".into()))
                                    }
                                }
                                @if let Some(s) = r.started {
                                    span.text-xs { "started " (time(&s.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))) }
                                }
                                @if let (Some(s), Some(e)) = (r.started, r.ended) {
                                    span.text-xs."text-base-content/70" { "took " ((e - s).num_seconds().max(0)) " s" }
                                }
                            }
                        }
                    }
                    @if let Some(r) = run {
                        @if !r.output.is_empty() {
                            pre.text-xs."bg-base-200".p-2.rounded.overflow-x-auto."max-h-48" data-cron-output { (r.output) }
                        }
                    }
                }
            }
        }
    }
}
