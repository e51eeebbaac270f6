use maud::{Markup, html};

use crate::db::deployments::{Deployment, Repository};
use crate::db::jobs::{Job, LogLine, Step};
use crate::db::sites::Site;
use crate::deployments::RepositoryForm;
use crate::domain::{
    DeploymentAction, DeploymentStatus, Page as DbPage, ReleaseState, SiteStatus, TimeSort,
};
use crate::error::FieldError;
use crate::paths::{self, with_id};
use crate::web::components::{
    StatusBadge, duration, empty_state, field_error, no_matches, site_tabs, table, text_field, time,
};
use crate::web::layout::{Nav, Page, csrf_field};
use crate::web::listing::ListView;

fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}

/// Whether a deployment's release can be switched back to now.
fn can_roll_back(d: &Deployment, live: Option<&str>) -> bool {
    d.action == DeploymentAction::Deploy
        && d.status == DeploymentStatus::Success
        && d.release_state == ReleaseState::Kept
        && d.release.as_deref() != live
}

fn is_live(d: &Deployment, live: Option<&str>) -> bool {
    d.action == DeploymentAction::Deploy && live.is_some() && d.release.as_deref() == live
}

fn what(d: &Deployment) -> Markup {
    html! {
        @match d.action {
            DeploymentAction::Deploy => { "Deploy " span.font-mono { (d.branch) } }
            DeploymentAction::Rollback => { "Rollback to " span.font-mono { (d.release.as_deref().map(short).unwrap_or("?")) } }
        }
    }
}

fn commit(d: &Deployment) -> Markup {
    html! {
        @if let Some(c) = &d.commit_hash {
            span.font-mono title=(c) { (short(c)) }
            @if let Some(m) = &d.commit_message { " " span."text-base-content/70" { (m) } }
        } @else { span."text-base-content/70" { "—" } }
    }
}

fn trigger(d: &Deployment) -> Markup {
    html! {
        (d.triggered_by)
        @if let Some(a) = &d.actor_name { " by " (a) }
    }
}

fn rollback_button(d: &Deployment) -> Markup {
    html! {
        form method="post" action=(with_id(paths::DEPLOYMENT_ROLLBACK, d.id)) {
            (csrf_field())
            button.btn.btn-xs.btn-outline.whitespace-nowrap type="submit" data-rollback=(d.id) { "Roll back to this" }
        }
    }
}

/// Rows of deployments; `live`: the site's live release (only on one site's list).
fn rows(
    deployments: &[Deployment],
    site_column: bool,
    live: Option<&str>,
    actions: bool,
) -> Markup {
    html! {
        @for d in deployments {
            tr data-deployment=(d.id) {
                @if site_column { td.font-semibold { (d.site_domain) } }
                td { a.link href=(with_id(paths::DEPLOYMENT, d.id)) { (what(d)) } }
                td { (commit(d)) }
                td { (trigger(d)) }
                td { (time(d.started_at.as_deref().unwrap_or(&d.created_at))) }
                td { (duration(d.started_at.as_deref(), d.finished_at.as_deref()).unwrap_or_default()) }
                td {
                    (d.status.badge())
                    @if is_live(d, live) { " " span.badge.badge-sm.badge-primary data-live { "live" } }
                    @if d.release_state == ReleaseState::Pruned { " " span.badge.badge-sm.badge-ghost { "pruned" } }
                    @if let Some(r) = &d.status_reason { div.text-xs.text-error."max-w-md" { (r) } }
                }
                @if actions { td { @if can_roll_back(d, live) { (rollback_button(d)) } } }
            }
        }
    }
}

/// Every site's deployments, newest first, a page at a time; narrowed by site or status.
pub fn index(
    list: &ListView<'_, TimeSort>,
    page: &DbPage<Deployment>,
    status: Option<DeploymentStatus>,
) -> Markup {
    let filtered = !list.filters.is_empty();
    let first = list.query.after.is_none() && list.query.before.is_none();
    let body = if page.rows.is_empty() && !filtered && first {
        empty_state(
            "No deployments yet",
            "Deployments pull a site's git repository into a new release, run its deploy script and \
             switch over without downtime. Connect a repository on a site's Deployments tab to deploy it.",
            Some(("Go to sites", paths::SITES)),
        )
    } else {
        let choices = [
            DeploymentStatus::Running,
            DeploymentStatus::Success,
            DeploymentStatus::Failed,
        ];
        html! {
            (crate::web::listing::status_links(list, status, &choices, DeploymentStatus::as_str))
            (list.region(html! {
                @if page.rows.is_empty() { (no_matches("deployments")) } @else {
                    (table(
                        &["Site", "What", "Commit", "Trigger", "Started", "Took", "Status"],
                        rows(&page.rows, true, None, false),
                    ))
                }
                (list.pager(page, None))
            }))
        }
    };
    Page::new("Deployments")
        .nav(Nav::Deployments)
        .body(body)
        .render()
}

fn output(title: &str, name: &str, text: &str) -> Markup {
    html! {
        @if !text.is_empty() {
            details.collapse.collapse-arrow."bg-base-200" open {
                summary.collapse-title.text-sm.font-semibold { (title) }
                div.collapse-content {
                    pre.font-mono.text-xs.whitespace-pre-wrap.break-all."max-h-[50vh]"."overflow-y-auto" data-output=(name) { (text) }
                }
            }
        }
    }
}

/// A deployment's page: what and why, its job's steps and live log, and once it ended, its
/// stdout and stderr. While it waits for its job the page asks again every second; while it
/// runs the summary refreshes itself (the log streams over SSE).
pub fn show(
    d: &Deployment,
    job: Option<&(Vec<Step>, Vec<LogLine>, Job)>,
    live: Option<&str>,
) -> Markup {
    let url = with_id(paths::DEPLOYMENT, d.id);
    let finished = matches!(
        d.status,
        DeploymentStatus::Success | DeploymentStatus::Failed
    );
    let waiting = job.is_none() && !finished;
    let title = match d.action {
        DeploymentAction::Deploy => format!("Deployment of {}", d.site_domain),
        DeploymentAction::Rollback => format!("Rollback of {}", d.site_domain),
    };
    let body = html! {
        div #deployment hx-get=[waiting.then_some(url.as_str())] hx-trigger=[waiting.then_some("every 1s")]
            hx-select=[waiting.then_some("#deployment")] hx-swap=[waiting.then_some("outerHTML")] {
            p.text-sm { a.link href=(with_id(paths::SITE_DEPLOYMENTS, d.site_id)) { "← " (d.site_domain) " deployments" } }
            section #deployment-summary.card."bg-base-100".shadow-sm
                hx-get=[(!finished && !waiting).then_some(url.as_str())] hx-trigger=[(!finished && !waiting).then_some("every 2s")]
                hx-select=[(!finished && !waiting).then_some("#deployment-summary")] hx-swap=[(!finished && !waiting).then_some("outerHTML")] {
                div.card-body {
                    div.flex.flex-wrap.items-center."gap-3" {
                        span data-deployment-status=(d.status) { (d.status.badge()) }
                        @if is_live(d, live) { span.badge.badge-primary.badge-sm data-live { "live" } }
                        span.font-semibold { (what(d)) }
                        span.text-sm { (commit(d)) }
                    }
                    div.text-sm."text-base-content/70" {
                        (trigger(d))
                        @if let Some(detail) = &d.trigger_detail { " · " span.break-all { (detail) } }
                    }
                    div.text-sm."text-base-content/70" {
                        "queued " (time(&d.created_at))
                        @if let Some(took) = duration(d.started_at.as_deref(), d.finished_at.as_deref()) { " · took " (took) }
                        @if let Some(r) = &d.release { " · release " span.font-mono { (r) } }
                        @if d.release_state == ReleaseState::Pruned { " (pruned)" }
                    }
                    @if waiting { div.alert role="status" { span { "Waiting for its turn: a site runs one job at a time." } } }
                    @if let Some(r) = &d.status_reason { div.alert.alert-error role="alert" { span { (r) } } }
                    div.flex.flex-wrap."gap-2" {
                        @if can_roll_back(d, live) { (rollback_button(d)) }
                        @if finished && d.action == DeploymentAction::Deploy {
                            form method="post" action=(with_id(paths::DEPLOYMENT_REDEPLOY, d.id)) {
                                (csrf_field())
                                button.btn.btn-xs.btn-primary type="submit" { "Deploy " (d.branch) " again" }
                            }
                        }
                    }
                    @if finished {
                        (output("Standard output", "stdout", &d.stdout))
                        (output("Standard error", "stderr", &d.stderr))
                    }
                }
            }
            @if let Some((steps, lines, job)) = job {
                h2.text-lg.font-semibold { a.link href=(with_id(paths::JOB, job.id)) { (job.title) } }
                (crate::web::jobs::views::card(job, steps, lines, false))
            }
        }
    };
    Page::new(title).nav(Nav::Deployments).body(body).render()
}

/// Everything the Deployments tab of a site shows.
pub struct SiteTab<'a> {
    pub site: &'a Site,
    pub repo: Option<&'a Repository>,
    pub history: &'a [Deployment],
    pub form: &'a RepositoryForm,
    pub errors: &'a [FieldError],
    pub webhook_url: &'a str,
    pub revealed_secret: Option<&'a str>,
    /// Why fetching or confirming the git host's key did not work.
    pub host_key_notice: Option<&'a str>,
}

fn settings_form(t: &SiteTab<'_>) -> Markup {
    let action = with_id(paths::SITE_REPOSITORY, t.site.id);
    let invalid = t.errors.iter().any(|e| e.field == "deploy_script");
    html! {
        form.card."bg-base-100".shadow-sm method="post" action=(action) {
            div.card-body {
                h2.card-title { @if t.repo.is_some() { "Settings" } @else { "Connect a repository" } }
                @if t.repo.is_none() {
                    p.text-sm."text-base-content/70" {
                        "Each deploy fetches the branch into a new release, links the site's .env and storage/, runs the deploy script there as "
                        span.font-mono { (t.site.username.as_deref().unwrap_or("the site user")) }
                        ", then switches to it in one step. Saving makes the site its own deploy key and webhook secret."
                    }
                }
                (csrf_field())
                (text_field("Repository", "url", &t.form.url, t.errors, "git@github.com:owner/repo.git, ssh://… or https://… (public)", true))
                div.grid."gap-4"."md:grid-cols-2" {
                    (text_field("Branch", "branch", &t.form.branch, t.errors, "Pushes to this branch deploy", true))
                    (text_field("Releases to keep", "keep_releases", &t.form.keep_releases, t.errors, "1–50, the live one included; older ones are removed", false))
                }
                fieldset.fieldset {
                    label.label for="deploy_script" { "Deploy script" }
                    textarea #deploy_script.textarea.w-full.font-mono.text-xs.textarea-error[invalid] name="deploy_script" rows="10" spellcheck="false" { (t.form.deploy_script) }
                    p.label.text-xs { "Bash, run with set -e in the new release; values such as $BRANCH and $COMMIT come as environment variables." }
                    (field_error(t.errors, "deploy_script"))
                }
                div.card-actions.justify-end { button.btn.btn-primary type="submit" { @if t.repo.is_some() { "Save" } @else { "Connect" } } }
            }
        }
    }
}

fn key_card(t: &SiteTab<'_>, repo: &Repository) -> Markup {
    html! {
        section.card."bg-base-100".shadow-sm {
            div.card-body {
                h2.card-title { "Deploy key" }
                p.text-sm."text-base-content/70" {
                    "Add this key to the repository as a read-only deploy key (GitHub: Settings → Deploy keys; GitLab: Settings → Repository → Deploy keys). "
                    "Its private half never leaves the panel except for the seconds a fetch runs, in a tmpfs only the site user can read."
                }
                p.text-xs.font-mono data-fingerprint { (repo.deploy_key_fingerprint) }
                textarea.textarea.w-full.font-mono.text-xs readonly rows="2" data-deploy-key { (repo.deploy_key_public) }
                div.flex.flex-wrap."gap-2" {
                    button.btn.btn-sm.btn-ghost type="button" data-copy-from=(with_id(paths::SITE_DEPLOY_KEY_PUBLIC, t.site.id)) { "Copy" }
                    form method="post" action=(with_id(paths::SITE_DEPLOY_KEY, t.site.id)) {
                        (csrf_field())
                        button.btn.btn-sm.btn-outline type="submit" { "Generate a new key" }
                    }
                }
            }
        }
    }
}

/// The git host's SSH key: confirmed, awaiting confirmation, or not fetched yet.
fn host_key_card(t: &SiteTab<'_>, repo: &Repository) -> Markup {
    use crate::deployments::git_host;
    let https = repo.url.starts_with("https://");
    let confirmed = git_host::confirmed(repo);
    let scanned = git_host::scanned(repo);
    html! {
        section.card."bg-base-100".shadow-sm #git-host-key {
            div.card-body {
                h2.card-title { "Git host key" }
                @if https {
                    p.text-sm."text-base-content/70" { "An https repository: TLS checks the host, no SSH key is needed." }
                } @else {
                    p.text-sm."text-base-content/70" {
                        "Deploys trust only the git host keys confirmed here (read from the site's server, the "
                        "connection deploys use). GitHub, GitLab, Bitbucket and Codeberg are confirmed by their "
                        "published fingerprints; any other host's fingerprints are shown for you to compare with "
                        "what its administrator publishes."
                    }
                    @if let Some(notice) = t.host_key_notice {
                        div.alert.alert-error role="alert" data-git-host-notice { span { (notice) } }
                    }
                    @if confirmed.is_empty() && scanned.is_empty() {
                        p.text-sm.text-warning data-git-host-unconfirmed { "Not confirmed yet: deploys are refused until it is." }
                    }
                    @if !confirmed.is_empty() {
                        ul.text-xs.font-mono data-git-host-confirmed {
                            @for k in &confirmed { li { (k.key_type()) " " (k.fingerprint()) } }
                        }
                    }
                    @if !scanned.is_empty() {
                        div.alert.alert-warning.flex.flex-col.items-start role="alert" {
                            span { "The git host presents these keys. Compare them with the fingerprints its administrator publishes:" }
                            ul.text-xs.font-mono data-git-host-scanned {
                                @for k in &scanned { li { (k.key_type()) " " (k.fingerprint()) } }
                            }
                            form method="post" action=(with_id(paths::SITE_GIT_HOST_CONFIRM, t.site.id)) {
                                (csrf_field())
                                input type="hidden" name="fingerprints"
                                    value=(scanned.iter().map(|k| k.fingerprint()).collect::<Vec<_>>().join(","));
                                button.btn.btn-sm.btn-warning type="submit" data-git-host-confirm { "Trust these keys" }
                            }
                        }
                    }
                    form method="post" action=(with_id(paths::SITE_GIT_HOST_SCAN, t.site.id)) {
                        (csrf_field())
                        button.btn.btn-sm.btn-outline type="submit" data-git-host-scan {
                            @if confirmed.is_empty() { "Fetch the git host's key" } @else { "Fetch it again" }
                        }
                    }
                }
            }
        }
    }
}

fn webhook_card(t: &SiteTab<'_>, repo: &Repository) -> Markup {
    html! {
        section.card."bg-base-100".shadow-sm {
            div.card-body {
                h2.card-title { "Push to deploy" }
                p.text-sm."text-base-content/70" { "A push to " span.font-mono { (repo.branch) } " deploys when the git host calls:" }
                div.flex.items-start."gap-2" {
                    code #webhook-url.font-mono.text-xs.break-all."min-w-0".grow data-webhook-url { (t.webhook_url) }
                    (crate::web::components::copy_button("#webhook-url", "Copy the webhook URL"))
                }
                ul.text-sm.list-disc."ml-5" {
                    li { "GitHub: Settings → Webhooks, content type application/json, the secret below; signed with X-Hub-Signature-256." }
                    li { "GitLab: Settings → Webhooks, push events, the secret below as the secret token." }
                    li { "Anything else: POST with X-Panel-Timestamp (UNIX seconds) and X-Panel-Signature: sha256=HMAC-SHA256(secret, TIMESTAMP.BODY); the body may name {\"branch\": …}." }
                }
                @if let Some(secret) = t.revealed_secret {
                    div.alert.alert-warning role="alert" {
                        span."min-w-0" { "Secret: " code #webhook-secret.font-mono.break-all data-revealed-secret { (secret) } " — this reveal is recorded in the server log." }
                        (crate::web::components::copy_button("#webhook-secret", "Copy the webhook secret"))
                    }
                }
                div.flex.flex-wrap."gap-2" {
                    form method="post" action=(with_id(paths::SITE_WEBHOOK_REVEAL, t.site.id)) {
                        (csrf_field())
                        button.btn.btn-sm.btn-ghost type="submit" { "Reveal secret" }
                    }
                    form method="post" action=(with_id(paths::SITE_WEBHOOK_ROTATE, t.site.id)) {
                        (csrf_field())
                        button.btn.btn-sm.btn-outline type="submit" { "Rotate secret" }
                    }
                }
            }
        }
    }
}

pub fn site_tab(t: &SiteTab<'_>) -> Markup {
    let live = t.repo.and_then(|r| r.current_release.as_deref());
    let body = html! {
        (site_tabs(t.site, "deployments"))
        @if let Some(repo) = t.repo {
            section.card."bg-base-100".shadow-sm {
                div.card-body {
                    div.flex.flex-wrap.items-center.justify-between."gap-3" {
                        div {
                            p.font-mono.text-sm.break-all data-repository { (repo.url) }
                            p.text-sm."text-base-content/70" { "branch " span.font-mono { (repo.branch) } " · keeps " (repo.keep_releases) " releases"
                                @if let Some(r) = live { " · live release " span.font-mono { (r) } } }
                        }
                        @if t.site.status == SiteStatus::Active {
                            form method="post" action=(with_id(paths::SITE_DEPLOY, t.site.id)) {
                                (csrf_field())
                                button.btn.btn-primary type="submit" data-deploy { "Deploy now" }
                            }
                        } @else {
                            span.text-sm."text-base-content/70" { "The site is " (t.site.status) "; deploys wait until it is active." }
                        }
                    }
                }
            }
            @if t.history.is_empty() {
                p.text-sm."text-base-content/70" { "No deployments yet." }
            } @else {
                (table(&["What", "Commit", "Trigger", "Started", "Took", "Status", ""], rows(t.history, false, live, true)))
            }
            div.grid."gap-4"."lg:grid-cols-2" {
                (key_card(t, repo))
                (host_key_card(t, repo))
                (webhook_card(t, repo))
            }
        }
        (settings_form(t))
    };
    Page::new(format!("{} — deployments", t.site.domain))
        .nav(Nav::Sites)
        .body(body)
        .render()
}
