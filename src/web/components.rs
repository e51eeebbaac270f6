//! Small view pieces shared by every resource: stat cards, empty states, status badges, tables,
//! toasts and field errors.

use maud::{Markup, html};

use crate::domain::{
    DatabaseStatus, DeploymentStatus, InstallStatus, LogLevel, SelinuxMode, ServerStatus,
    SiteStatus,
};
use crate::error::FieldError;

/// One DaisyUI `stat` inside a `stats` group.
pub fn stat(title: &str, value: i64, desc: &str, href: &str) -> Markup {
    html! {
        a.stat."hover:bg-base-200" href=(href) {
            div.stat-title { (title) }
            div.stat-value { (value) }
            div.stat-desc { (desc) }
        }
    }
}

/// What a list shows when it has nothing yet: what the thing is, and what to do next.
pub fn empty_state(title: &str, text: &str, next: Option<(&str, &str)>) -> Markup {
    html! {
        div.card."bg-base-100".shadow-sm {
            div."card-body".items-center.text-center."py-12" {
                h2.card-title { (title) }
                p."text-base-content/70"."max-w-prose" { (text) }
                @if let Some((label, href)) = next {
                    div.card-actions."mt-2" { a.btn.btn-primary href=(href) { (label) } }
                }
            }
        }
    }
}

/// A status value as a coloured badge. The colour class comes from a fixed table.
pub fn badge(text: &str, class: &'static str) -> Markup {
    html! { span.badge.badge-sm.(class) { (text) } }
}

pub trait StatusBadge {
    fn badge(self) -> Markup;
}

macro_rules! status_badges {
    ($($ty:ty { $($variant:ident => $class:literal),+ $(,)? })+) => {$(
        impl StatusBadge for $ty {
            fn badge(self) -> Markup {
                let class = match self { $(<$ty>::$variant => $class),+ };
                badge(self.as_str(), class)
            }
        }
    )+};
}

status_badges! {
    ServerStatus { Pending => "badge-ghost", Provisioning => "badge-info", Active => "badge-success",
                   Error => "badge-error", Unreachable => "badge-warning" }
    SiteStatus { Creating => "badge-ghost", Provisioning => "badge-info", Active => "badge-success",
                 Suspended => "badge-warning", Error => "badge-error", Deleting => "badge-neutral" }
    DatabaseStatus { Creating => "badge-ghost", Active => "badge-success", Error => "badge-error",
                     Deleting => "badge-neutral" }
    DeploymentStatus { Pending => "badge-ghost", Running => "badge-info", Success => "badge-success",
                       Failed => "badge-error" }
    InstallStatus { Pending => "badge-ghost", Installing => "badge-info", Installed => "badge-success",
                    Failed => "badge-error" }
    LogLevel { Debug => "badge-ghost", Info => "badge-info", Warning => "badge-warning",
               Error => "badge-error" }
    SelinuxMode { Enforcing => "badge-success", Permissive => "badge-warning", Disabled => "badge-error" }
}

/// A zebra table inside a card; `rows` are already-rendered `<tr>`s.
pub fn table(headers: &[&str], rows: Markup) -> Markup {
    html! {
        div.card."bg-base-100".shadow-sm."overflow-x-auto" {
            table.table.table-zebra {
                thead { tr { @for h in headers { th { (h) } } } }
                tbody { (rows) }
            }
        }
    }
}

/// `table` with a header row made by the caller (sortable headers from `web::listing`).
pub fn table_with_header(header: Markup, rows: Markup) -> Markup {
    html! {
        div.card."bg-base-100".shadow-sm."overflow-x-auto" {
            table.table.table-zebra {
                thead { tr { (header) } }
                tbody { (rows) }
            }
        }
    }
}

/// What a filtered list shows when nothing matches.
pub fn no_matches(what: &str) -> Markup {
    html! {
        div.card."bg-base-100".shadow-sm data-no-matches {
            div.card-body.items-center.text-center."py-8" {
                p."text-base-content/70" { "No " (what) " match. Change the search or the filters." }
            }
        }
    }
}

/// A toast fragment for `#toasts`; `kind` is a DaisyUI alert modifier.
pub fn toast(kind: &'static str, message: &str, fields: &[FieldError]) -> Markup {
    html! {
        div.alert.(kind).shadow-lg."max-w-md" role="alert" data-toast {
            div {
                p { (message) }
                @if !fields.is_empty() {
                    ul.list-disc."ml-5".text-sm {
                        @for f in fields { li { span.font-semibold { (f.field) } ": " (f.message) } }
                    }
                }
            }
            button.btn.btn-ghost.btn-xs type="button" data-dismiss aria-label="Dismiss" { "✕" }
        }
    }
}

/// The error text under a form field, if that field has one.
pub fn field_error(errors: &[FieldError], field: &str) -> Markup {
    html! {
        @for e in errors.iter().filter(|e| e.field == field) {
            p.text-error.text-sm."mt-1" data-field-error=(field) { (e.message) }
        }
    }
}

/// Timestamps are stored as RFC 3339 UTC; show them to the minute.
pub fn time(ts: &str) -> Markup {
    let short = ts.get(..16).unwrap_or(ts).replace('T', " ");
    html! { time datetime=(ts) { (short) " UTC" } }
}

/// A labelled text input with its hint and its field error.
pub fn text_field(
    label: &str,
    name: &'static str,
    value: &str,
    errors: &[FieldError],
    hint: &str,
    required: bool,
) -> Markup {
    let invalid = errors.iter().any(|e| e.field == name);
    html! {
        fieldset.fieldset {
            label.label for=(name) { (label) }
            input.input.w-full.input-error[invalid] id=(name) name=(name) value=(value) required[required];
            @if !hint.is_empty() { p.label.text-xs { (hint) } }
            (field_error(errors, name))
        }
    }
}

/// The tabs every server page shows.
pub fn server_tabs(server: &crate::db::servers::Server, active: &str) -> Markup {
    html! {
        div.tabs.tabs-border role="tablist" {
            a.tab.tab-active[active == "overview"] role="tab" href=(crate::paths::with_id(crate::paths::SERVER, server.id)) { "Overview" }
            a.tab.tab-active[active == "selinux"] role="tab" href=(crate::paths::with_id(crate::paths::SERVER_SELINUX, server.id)) { "SELinux" }
        }
    }
}

/// How long something took, from two RFC 3339 timestamps: `850 ms`, `4.2 s`, `3 min 20 s`.
/// `None` while it has not finished (or a timestamp cannot be read).
pub fn duration(started: Option<&str>, finished: Option<&str>) -> Option<String> {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    let (a, b) = (parse(started?)?, parse(finished?)?);
    let ms = (b - a).num_milliseconds().max(0);
    Some(match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    })
}

/// The tabs every site page shows.
pub fn site_tabs(site: &crate::db::sites::Site, active: &str) -> Markup {
    use crate::paths::{SITE, SITE_DEPLOYMENTS, SITE_HTTPS, with_id};
    html! {
        div.tabs.tabs-border role="tablist" {
            a.tab.tab-active[active == "overview"] role="tab" href=(with_id(SITE, site.id)) { "Overview" }
            a.tab.tab-active[active == "deployments"] role="tab" href=(with_id(SITE_DEPLOYMENTS, site.id)) { "Deployments" }
            a.tab.tab-active[active == "https"] role="tab" href=(with_id(SITE_HTTPS, site.id)) { "HTTPS" }
        }
    }
}

#[cfg(test)]
mod duration_tests {
    use super::duration;

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        let d = |a, b| duration(Some(a), Some(b)).unwrap();
        assert_eq!(
            d("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.850Z"),
            "850 ms"
        );
        assert_eq!(
            d("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:04.250Z"),
            "4.2 s"
        );
        assert_eq!(
            d("2026-01-01T00:00:00.000Z", "2026-01-01T00:03:20.000Z"),
            "3 min 20 s"
        );
        assert_eq!(duration(Some("2026-01-01T00:00:00Z"), None), None);
    }
}
