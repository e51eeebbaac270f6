use maud::{Markup, html};

use crate::db::jobs::{Job, LogLine, Step};
use crate::db::sites::Site;
use crate::domain::SiteStatus;
use crate::error::FieldError;
use crate::paths::{self, with_id};
use crate::sites::php::PhpForm;
use crate::web::components::{error_summary, field_error};
use crate::web::layout::{Nav, Page, csrf_field};

fn input(
    label: &str,
    name: &'static str,
    value: &str,
    errors: &[FieldError],
    hint: &str,
    placeholder: &str,
) -> Markup {
    let invalid = errors.iter().any(|e| e.field == name);
    html! {
        fieldset.fieldset {
            label.label for=(name) { (label) }
            input.input.w-full.font-mono.input-error[invalid] id=(name) name=(name) value=(value)
                placeholder=(placeholder) autocomplete="off" spellcheck="false";
            p.label.text-xs.whitespace-normal { (hint) }
            (field_error(errors, name))
        }
    }
}

fn switch(label: &str, name: &'static str, value: &str, errors: &[FieldError]) -> Markup {
    html! {
        fieldset.fieldset {
            label.label for=(name) { (label) }
            select.select.w-full id=(name) name=(name) {
                option value="" selected[value.is_empty()] { "PHP's default" }
                option value="on" selected[value == "on"] { "On" }
                option value="off" selected[value == "off"] { "Off" }
            }
            (field_error(errors, name))
        }
    }
}

pub fn tab(
    site: &Site,
    form: &PhpForm,
    errors: &[FieldError],
    job: Option<&(Vec<Step>, Vec<LogLine>, Job)>,
) -> Markup {
    let body = html! {
        (crate::web::components::site_tabs(site, "php"))
        @if site.status != SiteStatus::Active {
            div.alert.alert-info role="status" {
                span { "The site is " (site.status.as_str()) ": settings saved now are applied when it is active again (resumed or retried)." }
            }
        }
        @if let Some((steps, lines, job)) = job {
            h2.text-lg.font-semibold { a.link href=(with_id(paths::JOB, job.id)) { (job.title) } }
            (crate::web::jobs::views::card(job, steps, lines, false))
        }
        section.card."bg-base-100".shadow-sm {
            form.card-body method="post" action=(with_id(paths::SITE_PHP, site.id)) {
                h2.card-title { "PHP " (site.php_version) " settings" }
                p.text-sm."text-base-content/80" {
                    "Written into the site's own PHP-FPM pool as " code { "php_admin_value" }
                    "s (the site's code cannot change them), checked with " code { "php-fpm -t" }
                    " before the pool is reloaded gracefully: requests in flight finish. Leave a field empty for PHP's default. nginx accepts request bodies as large as the larger upload size (at least 64M)."
                }
                (csrf_field())
                (error_summary(errors))
                div.grid."gap-4"."md:grid-cols-2" {
                    (input("memory_limit", "memory_limit", &form.memory_limit, errors, "Megabytes (16M–4096M), e.g. 256M or 1G", "128M"))
                    (input("max_execution_time", "max_execution_time", &form.max_execution_time, errors, "Seconds (0–86400; 0: no limit)", "30"))
                    (input("upload_max_filesize", "upload_max_filesize", &form.upload_max_filesize, errors, "Megabytes (1M–2048M); post_max_size must be at least as large", "2M"))
                    (input("post_max_size", "post_max_size", &form.post_max_size, errors, "Megabytes (1M–2048M)", "8M"))
                    (input("max_input_vars", "max_input_vars", &form.max_input_vars, errors, "100–1000000", "1000"))
                    (input("date.timezone", "timezone", &form.timezone, errors, "A tz database name: UTC, Europe/Berlin, America/New_York", "UTC"))
                    (switch("display_errors", "display_errors", &form.display_errors, errors))
                    (switch("OPcache (opcache.enable)", "opcache", &form.opcache, errors))
                }
                div.card-actions.justify-end { button.btn.btn-primary type="submit" { "Save and apply" } }
            }
        }
    };
    Page::new(format!("{} · PHP", site.domain))
        .nav(Nav::Sites)
        .body(body)
        .render()
}
