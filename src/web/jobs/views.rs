use maud::{Markup, html};

use crate::db::jobs::{Job, LogLine, Step};
use crate::domain::{JobStatus, LogStream, Page as DbPage, StepStatus, TimeSort};
use crate::paths::{self, with_id};
use crate::web::components::{badge, empty_state, no_matches, table, time};
use crate::web::layout::{Nav, Page};
use crate::web::listing::ListView;

pub fn status_badge(status: JobStatus) -> Markup {
    html! { span #job-status { (list_status_badge(status)) } }
}

/// The badge alone, for rows of a list (an element id appears once a page).
fn list_status_badge(status: JobStatus) -> Markup {
    let class = match status {
        JobStatus::Queued => "badge-ghost",
        JobStatus::Running => "badge-info",
        JobStatus::Success => "badge-success",
        JobStatus::Failed => "badge-error",
        JobStatus::Interrupted => "badge-warning",
    };
    badge(status.as_str(), class)
}

/// One log line; text from a node is escaped here (maud) and never interpreted.
pub fn log_line(stream: LogStream, line: &str) -> Markup {
    let class = match stream {
        LogStream::Stderr => "text-warning",
        LogStream::Panel => "text-info",
        LogStream::Stdout => "",
    };
    html! { div.whitespace-pre-wrap.break-all.(class) data-stream=(stream) { (line) } }
}

/// One step of the DaisyUI `steps` list, coloured by its outcome.
pub fn step_item(position: i64, description: &str, status: StepStatus, live: bool) -> Markup {
    let event = format!("step-{position}");
    let finished = matches!(status, StepStatus::Done | StepStatus::Skipped);
    let skipped = status == StepStatus::Skipped;
    html! {
        li.step.step-primary[finished].step-error[status == StepStatus::Failed]
            data-step-status=(status) data-content=[skipped.then_some("–")]
            sse-swap=[live.then_some(event.as_str())] hx-swap="outerHTML" {
            (description)
            @if skipped { span."text-base-content/70" { " (already done)" } }
        }
    }
}

/// Every job, newest first, a page at a time; searchable by title, narrowed by status.
pub fn index(
    list: &ListView<'_, TimeSort>,
    page: &DbPage<Job>,
    status: Option<JobStatus>,
) -> Markup {
    let filtered = list.query.search.is_some() || !list.filters.is_empty();
    let first = list.query.after.is_none() && list.query.before.is_none();
    let body = if page.rows.is_empty() && !filtered && first {
        empty_state(
            "No jobs yet",
            "Every change the panel makes on a server (onboarding, installs, sites, deployments) runs \
             as a job with a live, stored log. They will be listed here.",
            Some(("Go to servers", paths::SERVERS)),
        )
    } else {
        let choices = [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Success,
            JobStatus::Failed,
            JobStatus::Interrupted,
        ];
        html! {
            div.flex.flex-wrap.items-end."gap-2" {
                (list.search("Search job titles"))
                (crate::web::listing::status_links(list, status, &choices, JobStatus::as_str))
            }
            (list.region(html! {
                @if page.rows.is_empty() { (no_matches("jobs")) } @else {
                    (table(
                        &["Job", "Server", "Site", "Started by", "Started", "Took", "Status"],
                        html! {
                            @for j in &page.rows {
                                tr {
                                    td { a.link href=(with_id(paths::JOB, j.id)) { (j.title) } }
                                    td { (server_link(j)) }
                                    td { (site_link(j)) }
                                    td { (started_by(j)) }
                                    td.whitespace-nowrap { (time(j.started_at.as_deref().unwrap_or(&j.created_at))) }
                                    td.whitespace-nowrap { (crate::web::components::duration(j.started_at.as_deref(), j.finished_at.as_deref()).unwrap_or_else(|| "—".into())) }
                                    td { (list_status_badge(j.status)) }
                                }
                            }
                        },
                    ))
                }
                (list.pager(page, None))
            }))
        }
    };
    Page::new("Jobs").nav(Nav::Jobs).body(body).render()
}

/// The job's server as a link, when it has one.
fn server_link(j: &Job) -> Markup {
    html! {
        @match (j.server_id, &j.server_name) {
            (Some(id), Some(name)) => a.link href=(with_id(paths::SERVER, id)) { (name) },
            _ => span."text-base-content/70" { "—" },
        }
    }
}

/// The site the job was about, as a link, when it names one that still exists.
fn site_link(j: &Job) -> Markup {
    html! {
        @match (&j.site_id, &j.site_domain) {
            (Some(id), Some(domain)) => a.link href=(paths::SITE.replace(":id", id)) { (domain) },
            _ => span."text-base-content/70" { "—" },
        }
    }
}

/// Who started the job: a person, or the panel itself (webhooks, schedules, the CLI).
fn started_by(j: &Job) -> Markup {
    html! {
        @match (&j.actor_name, &j.actor_id) {
            (Some(name), _) => (name),
            (None, Some(_)) => span."text-base-content/70" { "a removed user" },
            (None, None) => span."text-base-content/70" { "the panel" },
        }
    }
}

/// The part of a job's log a page shows: the newest lines (followed live while it runs) or a
/// page of its history, with whether there is more either side.
pub struct LogWindow {
    pub lines: Vec<LogLine>,
    pub earlier: bool,
    pub later: bool,
    /// A page of history: not followed live.
    pub history: bool,
}

pub fn show(job: &Job, steps: &[Step], log: &LogWindow) -> Markup {
    let url = with_id(paths::JOB, job.id);
    let first = log.lines.first().map(|l| l.seq);
    let last = log.lines.last().map(|l| l.seq);
    let nav = html! {
        nav.flex."gap-2".text-sm data-log-pager {
            @if let (true, Some(first)) = (log.earlier, first) {
                a.btn.btn-sm href={ (url) "?before=" (first) } rel="prev" { "← Earlier lines" }
            }
            @if log.history {
                @if let (true, Some(last)) = (log.later, last) {
                    a.btn.btn-sm href={ (url) "?after=" (last) } rel="next" { "Later lines →" }
                }
                a.btn.btn-sm href=(url) { "Newest lines" }
            }
        }
    };
    Page::new(job.title.clone())
        .nav(Nav::Jobs)
        .body(html! {
            dl.flex.flex-wrap."gap-x-6"."gap-y-1".text-sm data-job-context {
                div.flex."gap-2" { dt.font-semibold { "Server" } dd { (server_link(job)) } }
                div.flex."gap-2" { dt.font-semibold { "Site" } dd { (site_link(job)) } }
                div.flex."gap-2" { dt.font-semibold { "Started by" } dd { (started_by(job)) } }
                @if let Some(took) = crate::web::components::duration(job.started_at.as_deref(), job.finished_at.as_deref()) {
                    div.flex."gap-2" { dt.font-semibold { "Took" } dd { (took) } }
                }
            }
            (nav)
            (card_with(job, steps, &log.lines, true, !log.history, false))
        })
        .render()
}

/// A job's status, steps (DaisyUI `steps`) and log, live over SSE while it runs. Also shown on
/// the page of what the job changed (a site's page shows its last job). `retry`: offer the
/// generic retry button (pages with their own retry action say no).
pub fn card(job: &Job, steps: &[Step], lines: &[LogLine], retry: bool) -> Markup {
    // Pages showing the card carry the newest lines only; the job's page has the rest.
    let cut = lines.len() as i64 >= crate::db::jobs::LOG_PAGE;
    card_with(job, steps, lines, retry, true, cut)
}

/// `card`; `follow`: stream new lines while the job runs (not for a page of its history);
/// `full_log_link`: say where the rest of a long log is.
fn card_with(
    job: &Job,
    steps: &[Step],
    lines: &[LogLine],
    retry: bool,
    follow: bool,
    full_log_link: bool,
) -> Markup {
    let last = lines.last().map_or(0, |l| l.seq);
    let live = follow && !job.status.is_final();
    html! {
            section.card."bg-base-100".shadow-sm
                hx-ext=[live.then_some("sse")]
                sse-connect=[live.then(|| format!("{}?after={last}", with_id(paths::JOB_EVENTS, job.id)))]
                sse-close=[live.then_some("done")] {
                div.card-body {
                    div.flex.items-center."gap-3" {
                        span sse-swap=[live.then_some("status")] hx-swap="outerHTML" hx-target="#job-status" {
                            (status_badge(job.status))
                        }
                        span.text-sm."text-base-content/70" { "started " (time(job.started_at.as_deref().unwrap_or(&job.created_at))) }
                        @if let Some(code) = job.exit_code { span.text-sm { "exit code " (code) } }
                    }
                    @if live || !steps.is_empty() {
                        // Live: a started step is appended (`step`), an ended one replaces
                        // itself (`step-N`).
                        ul.steps.steps-vertical."lg:steps-horizontal".w-full data-steps
                            sse-swap=[live.then_some("step")] hx-swap="beforeend" {
                            @for st in steps { (step_item(st.position, &st.description, st.status, live)) }
                        }
                    }
                    @if let Some(err) = &job.error { div.alert.alert-error role="alert" { span { (err) } } }
                    @if retry && matches!(job.status, JobStatus::Failed | JobStatus::Interrupted) && crate::servers::is_retryable(job.kind) {
                        form method="post" action=(with_id(paths::JOB_RETRY, job.id)) {
                            (crate::web::layout::csrf_field())
                            button.btn.btn-primary.btn-sm type="submit" { "Retry" }
                        }
                    }
                    @if full_log_link {
                        a.link.text-sm href=(with_id(paths::JOB, job.id)) data-full-log { "The newest " (lines.len()) " lines; the whole log is on the job's page" }
                    }
                    // Focusable, so a keyboard can scroll it; announced as a log.
                    div #job-log.mockup-code.font-mono.text-xs."p-4"."max-h-[70vh]"."overflow-y-auto"
                        tabindex="0" role="log" aria-label="Job output"
                        sse-swap=[live.then_some("line")] hx-swap="beforeend" {
                        @for l in lines { (log_line(l.stream, &l.line)) }
                    }
                }
            }
    }
}
