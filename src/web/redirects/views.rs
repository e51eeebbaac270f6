use maud::{Markup, html};

use crate::db::jobs::{Job, LogLine, Step};
use crate::db::sites::Site;
use crate::domain::redirect::Match;
use crate::domain::{Redirect, SiteStatus};
use crate::error::FieldError;
use crate::paths::{self, with_id};
use crate::sites::redirects::RedirectForm;
use crate::web::components::{confirm_action, empty_state, error_summary, field_error, table};
use crate::web::layout::{Nav, Page, csrf_field};

pub fn tab(
    site: &Site,
    rules: &[Redirect],
    form: Option<&RedirectForm>,
    errors: &[FieldError],
    job: Option<&(Vec<Step>, Vec<LogLine>, Job)>,
) -> Markup {
    let empty = RedirectForm {
        kind: "exact".into(),
        status: "301".into(),
        ..RedirectForm::default()
    };
    let form = form.unwrap_or(&empty);
    let invalid = |name: &str| errors.iter().any(|e| e.field == name);
    let rows = html! {
        @for (i, r) in rules.iter().enumerate() {
            tr data-redirect=(r.source.as_str()) {
                td { code.text-sm.break-all { (r.source.as_str()) @if r.kind == Match::Prefix { "/…" } } }
                td { (if r.kind == Match::Prefix { "this path and below (the rest kept)" } else { "exactly" }) }
                td { code.text-sm.break-all { (r.target.as_str()) } }
                td { (r.status) }
                td {
                    (confirm_action(
                        &format!("redirect-{i}-delete"),
                        "Remove",
                        "btn-ghost",
                        &with_id(paths::SITE_REDIRECT_DELETE, site.id),
                        html! { input type="hidden" name="source" value=(r.source.as_str()); },
                        "Remove this redirect?",
                        html! { p { code { (r.source.as_str()) } " is answered by the site again." } },
                    ))
                }
            }
        }
    };
    let body = html! {
        (crate::web::components::site_tabs(site, "redirects"))
        @if site.status != SiteStatus::Active {
            div.alert.alert-info role="status" {
                span { "The site is " (site.status.as_str()) ": redirects saved now are served when it is active again (resumed or retried)." }
            }
        }
        @if let Some((steps, lines, job)) = job {
            h2.text-lg.font-semibold { a.link href=(with_id(paths::JOB, job.id)) { (job.title) } }
            (crate::web::jobs::views::card(job, steps, lines, false))
        }
        section.card."bg-base-100".shadow-sm {
            div.card-body {
                h2.card-title { "Redirects" }
                p.text-sm."text-base-content/80" {
                    "nginx answers these before the site's own code (HTTP and HTTPS alike; the query string goes along unless the target has its own). A set that would send a browser round in a circle is refused. The vhost is tested with " code { "nginx -t" } " before it is loaded."
                }
                @if rules.is_empty() {
                    (empty_state("No redirects", "Add one below: an old path to its new place, or a whole section to another site.", None))
                } @else {
                    (table(&["From", "Match", "To", "Status", ""], rows))
                }
            }
        }
        section.card."bg-base-100".shadow-sm {
            form.card-body method="post" action=(with_id(paths::SITE_REDIRECTS, site.id)) {
                h2.card-title { "Add a redirect" }
                (csrf_field())
                (error_summary(errors))
                div.grid."gap-4"."md:grid-cols-2" {
                    fieldset.fieldset {
                        label.label for="source" { "From (a path on the site)" }
                        input #source.input.w-full.font-mono.input-error[invalid("source")] name="source" value=(form.source) placeholder="/old-page" required autocomplete="off" spellcheck="false";
                        (field_error(errors, "source"))
                    }
                    fieldset.fieldset {
                        label.label for="target" { "To (a path or a URL)" }
                        input #target.input.w-full.font-mono.input-error[invalid("target")] name="target" value=(form.target) placeholder="/new-page or https://example.org/" required autocomplete="off" spellcheck="false";
                        (field_error(errors, "target"))
                    }
                    fieldset.fieldset {
                        label.label for="kind" { "Match" }
                        select #kind.select.w-full name="kind" {
                            option value="exact" selected[form.kind == "exact"] { "Exactly this path" }
                            option value="prefix" selected[form.kind == "prefix"] { "This path and everything below it" }
                        }
                        (field_error(errors, "kind"))
                    }
                    fieldset.fieldset {
                        label.label for="status" { "Status" }
                        select #status.select.w-full name="status" {
                            option value="301" selected[form.status == "301"] { "301 Moved Permanently" }
                            option value="302" selected[form.status == "302"] { "302 Found" }
                            option value="307" selected[form.status == "307"] { "307 Temporary Redirect (keeps the method)" }
                            option value="308" selected[form.status == "308"] { "308 Permanent Redirect (keeps the method)" }
                        }
                        (field_error(errors, "status"))
                    }
                }
                div.card-actions.justify-end { button.btn.btn-primary type="submit" { "Add the redirect" } }
            }
        }
    };
    Page::new(format!("{} · Redirects", site.domain))
        .nav(Nav::Sites)
        .body(body)
        .render()
}
