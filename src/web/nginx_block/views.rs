use maud::{Markup, html};

use crate::db::jobs::{Job, LogLine, Step};
use crate::db::sites::Site;
use crate::domain::SiteStatus;
use crate::error::FieldError;
use crate::paths::{self, with_id};
use crate::web::components::{error_summary, field_error};
use crate::web::layout::{Nav, Page, csrf_field};

pub fn tab(
    site: &Site,
    text: &str,
    errors: &[FieldError],
    job: Option<&(Vec<Step>, Vec<LogLine>, Job)>,
) -> Markup {
    let home = site.user().map(|u| u.home()).unwrap_or_default();
    let body = html! {
        (crate::web::components::site_tabs(site, "nginx"))
        @if site.status != SiteStatus::Active {
            div.alert.alert-info role="status" {
                span { "The site is " (site.status.as_str()) ": the block saved now is served when it is active again (resumed or retried)." }
            }
        }
        @if let Some((steps, lines, job)) = job {
            h2.text-lg.font-semibold { a.link href=(with_id(paths::JOB, job.id)) { (job.title) } }
            (crate::web::jobs::views::card(job, steps, lines, false))
        }
        section.card."bg-base-100".shadow-sm {
            form.card-body method="post" action=(with_id(paths::SITE_NGINX, site.id)) {
                h2.card-title { "Custom nginx directives" }
                p.text-sm."text-base-content/80" {
                    "Placed inside the site's own server block, after the panel's redirects. Each directive is checked first: "
                    code { "include" } ", " code { "load_module" } ", Lua/Perl/njs, " code { "*_pass" } " to PHP or a " code { "unix:" } " socket, log and certificate files, and "
                    code { "root" } "/" code { "alias" } " outside " span.font-mono { (home) } " are refused with the reason. Then nginx tests the whole configuration ("
                    code { "nginx -t" } "); if it refuses, the previous configuration and the previous block come back."
                }
                (csrf_field())
                (error_summary(errors))
                fieldset.fieldset {
                    label.label for="block" { "Directives" }
                    textarea #block.textarea.w-full.font-mono.text-xs.textarea-error[!errors.is_empty()] name="block" rows="14" spellcheck="false"
                        placeholder="location ~* \\.(css|js|png)$ {\n    expires 30d;\n}" { (text) }
                    p.label.text-xs.whitespace-normal { "At most 8000 characters. Empty removes the block." }
                    (field_error(errors, "block"))
                }
                div.card-actions.justify-end { button.btn.btn-primary type="submit" { "Test and apply" } }
            }
        }
    };
    Page::new(format!("{} · Nginx", site.domain))
        .nav(Nav::Sites)
        .body(body)
        .render()
}
