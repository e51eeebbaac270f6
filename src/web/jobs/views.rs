use maud::{Markup, html};

use crate::db::jobs::{Job, LogLine, Step};
use crate::web::components::{badge, empty_state, table, time};
use crate::web::layout::{Nav, Page};
use crate::web::paths::{self, with_id};

pub fn status_badge(status: &str) -> Markup {
    let class = match status {
        "queued" => "badge-ghost",
        "running" => "badge-info",
        "success" => "badge-success",
        "failed" => "badge-error",
        _ => "badge-warning",
    };
    html! { span #job-status { (badge(status, class)) } }
}

/// One log line; text from a node is escaped here (maud) and never interpreted.
pub fn log_line(stream: &str, line: &str) -> Markup {
    let class = match stream {
        "stderr" => "text-warning",
        "panel" => "text-info",
        _ => "",
    };
    html! { div.whitespace-pre-wrap.break-all.(class) data-stream=(stream) { (line) } }
}

/// One step of the DaisyUI `steps` list, coloured by its outcome.
pub fn step_item(position: i64, description: &str, status: &str, live: bool) -> Markup {
    let event = format!("step-{position}");
    html! {
        li.step.step-primary[matches!(status, "done" | "skipped")].step-error[status == "failed"]
            data-step-status=(status) data-content=[(status == "skipped").then_some("–")]
            sse-swap=[live.then_some(event.as_str())] hx-swap="outerHTML" {
            (description)
            @if status == "skipped" { span."text-base-content/50" { " (already done)" } }
        }
    }
}

pub fn index(jobs: &[Job]) -> Markup {
    let body = if jobs.is_empty() {
        empty_state(
            "No jobs yet",
            "Every change the panel makes on a server (onboarding, installs, sites, deployments) runs \
             as a job with a live, stored log. They will be listed here.",
            Some(("Go to servers", paths::SERVERS)),
        )
    } else {
        table(
            &["Job", "Started", "Status"],
            html! {
                @for j in jobs {
                    tr {
                        td { a.link href=(with_id(paths::JOB, j.id)) { (j.title) } }
                        td { (time(j.started_at.as_deref().unwrap_or(&j.created_at))) }
                        td { (status_badge(&j.status)) }
                    }
                }
            },
        )
    };
    Page::new("Jobs").nav(Nav::Jobs).body(body).render()
}

pub fn show(job: &Job, steps: &[Step], lines: &[LogLine]) -> Markup {
    Page::new(job.title.clone())
        .nav(Nav::Jobs)
        .body(card(job, steps, lines, true))
        .render()
}

/// A job's status, steps (DaisyUI `steps`) and log, live over SSE while it runs. Also shown on
/// the page of what the job changed (a site's page shows its last job). `retry`: offer the
/// generic retry button (pages with their own retry action say no).
pub fn card(job: &Job, steps: &[Step], lines: &[LogLine], retry: bool) -> Markup {
    let last = lines.last().map_or(0, |l| l.seq);
    let live = matches!(job.status.as_str(), "queued" | "running");
    html! {
            section.card."bg-base-100".shadow-sm
                hx-ext=[live.then_some("sse")]
                sse-connect=[live.then(|| format!("{}?after={last}", with_id(paths::JOB_EVENTS, job.id)))]
                sse-close=[live.then_some("done")] {
                div.card-body {
                    div.flex.items-center."gap-3" {
                        span sse-swap=[live.then_some("status")] hx-swap="outerHTML" hx-target="#job-status" {
                            (status_badge(&job.status))
                        }
                        span.text-sm."text-base-content/60" { "started " (time(job.started_at.as_deref().unwrap_or(&job.created_at))) }
                        @if let Some(code) = job.exit_code { span.text-sm { "exit code " (code) } }
                    }
                    @if live || !steps.is_empty() {
                        // Live: a started step is appended (`step`), an ended one replaces
                        // itself (`step-N`).
                        ul.steps.steps-vertical."lg:steps-horizontal".w-full data-steps
                            sse-swap=[live.then_some("step")] hx-swap="beforeend" {
                            @for st in steps { (step_item(st.position, &st.description, &st.status, live)) }
                        }
                    }
                    @if let Some(err) = &job.error { div.alert.alert-error role="alert" { span { (err) } } }
                    @if retry && matches!(job.status.as_str(), "failed" | "interrupted") && crate::servers::is_retryable(&job.kind) {
                        form method="post" action=(with_id(paths::JOB_RETRY, job.id)) {
                            (crate::web::layout::csrf_field())
                            button.btn.btn-primary.btn-sm type="submit" { "Retry" }
                        }
                    }
                    div #job-log.mockup-code.font-mono.text-xs."p-4"."max-h-[70vh]"."overflow-y-auto"
                        sse-swap=[live.then_some("line")] hx-swap="beforeend" {
                        @for l in lines { (log_line(&l.stream, &l.line)) }
                    }
                }
            }
    }
}
