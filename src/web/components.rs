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
    html! { span.badge.badge-sm.whitespace-nowrap.(class) { (text) } }
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
                // A column without a heading holds actions: say so to screen readers.
                thead { tr { @for h in headers { th { @if h.is_empty() { span.sr-only { "Actions" } } @else { (h) } } } } }
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

/// A status badge that follows a state which changes by itself (a server onboarding, a site
/// being created): while `changing`, it asks `poll` (a status route with `?shown=STATUS`) every
/// two seconds; the route reloads the page once the state is not the one shown.
pub fn live_status(id: &str, poll: &str, shown: &str, changing: bool, badge: Markup) -> Markup {
    html! {
        span id=(id) aria-live="polite"
            hx-get=[changing.then(|| format!("{poll}?shown={shown}"))]
            hx-trigger=[changing.then_some("every 2s")] hx-swap="outerHTML" {
            (badge)
            @if changing { span.loading.loading-dots.loading-xs."ml-2" role="img" aria-label="working" {} }
        }
    }
}

/// The answer to a status poll: the badge again, and a full reload once the state changed.
pub fn live_status_response(markup: Markup, now: &str, shown: &str) -> poem::Response {
    use poem::IntoResponse;
    let mut resp = markup.into_response();
    if now != shown {
        resp.headers_mut()
            .insert("HX-Refresh", poem::http::HeaderValue::from_static("true"));
    }
    resp
}

/// The answer to a status poll for something deleted meanwhile: reload (the page then says it
/// is gone), rather than an error toast every two seconds.
pub fn gone_response() -> poem::Response {
    poem::Response::builder()
        .header("HX-Refresh", "true")
        .body("")
}

/// The `?shown=` of a status poll: the status the page was rendered with.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ShownStatus {
    #[serde(default)]
    pub shown: String,
}

/// The attributes and slot that make an htmx form show its errors inside itself: the panel's
/// error renderer answers a failed request from a form named `id` into `#{id}-errors`.
pub fn form_errors(id: &str) -> Markup {
    html! { div id={ (id) "-errors" } aria-live="assertive" {} }
}

/// `hx-headers` naming the form whose error slot a failure goes to (see `form_errors`).
pub fn form_header(id: &str) -> String {
    serde_json::json!({ "X-Panel-Form": id }).to_string()
}

/// A destructive action behind a modal: `label` opens a dialog that says what happens and asks
/// again; the dialog's form posts to `action` (with `fields`) and shows a refusal inside itself.
/// `id` is unique on the page (ASCII letters, digits and dashes).
pub fn confirm_action(
    id: &str,
    label: &str,
    class: &'static str,
    action: &str,
    fields: Markup,
    title: &str,
    text: Markup,
) -> Markup {
    let dialog = format!("{id}-dialog");
    html! {
        button.btn.btn-sm.(class) type="button" command="show-modal" commandfor=(dialog) { (label) }
        dialog.modal id=(dialog) aria-labelledby={ (id) "-title" } {
            div.modal-box {
                h3.text-lg.font-bold id={ (id) "-title" } { (title) }
                div."py-3".text-sm { (text) }
                form id=(id) method="post" action=(action) hx-post=(action) hx-headers=(form_header(id)) {
                    (crate::web::layout::csrf_field())
                    (fields)
                    (form_errors(id))
                    div.modal-action {
                        button.btn type="button" command="close" commandfor=(dialog) { "Cancel" }
                        button.btn.btn-error type="submit" { (label) }
                    }
                }
            }
        }
    }
}

/// A button that copies the text of the element `target` (a CSS selector) to the clipboard.
pub fn copy_button(target: &str, label: &str) -> Markup {
    html! {
        button.btn.btn-sm.btn-outline type="button" data-copy-target=(target) aria-label=(label) { "Copy" }
    }
}

/// A form's errors at its top, each a link to its field (the fields show them again inline):
/// a long form's error is not missed below the fold, and a screen reader hears them first.
pub fn error_summary(errors: &[FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.alert.alert-error.items-start role="alert" data-error-summary {
                div {
                    p.font-semibold { @if errors.len() == 1 { "1 field needs a change" } @else { (errors.len()) " fields need a change" } }
                    ul.list-disc."ml-5".text-sm {
                        @for e in errors { li { a.link href=(format!("#{}", e.field)) { (e.message) } } }
                    }
                }
            }
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

/// Timestamps are stored as RFC 3339 UTC: shown as a person says it ("5 min ago", "in 3 h"),
/// the exact UTC minute on hover (and to screen readers through `datetime`).
pub fn time(ts: &str) -> Markup {
    let exact = format!("{} UTC", ts.get(..16).unwrap_or(ts).replace('T', " "));
    let said = chrono::DateTime::parse_from_rfc3339(ts)
        .map(|t| relative(t.with_timezone(&chrono::Utc), chrono::Utc::now()))
        .unwrap_or_else(|_| exact.clone());
    html! { time datetime=(ts) title=(exact) { (said) } }
}

/// `then` as seen from `now`: seconds to days either way; the date beyond a month.
pub fn relative(then: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    let secs = (now - then).num_seconds();
    let ago = secs >= 0;
    let n = secs.unsigned_abs();
    let amount = match n {
        0..=44 => return "just now".to_owned(),
        45..=5_399 => format!("{} min", (n + 30) / 60),
        5_400..=129_599 => format!("{} h", (n + 1_800) / 3_600),
        129_600..=2_591_999 => format!("{} days", (n + 43_200) / 86_400),
        _ => return then.format("%Y-%m-%d").to_string(),
    };
    if ago {
        format!("{amount} ago")
    } else {
        format!("in {amount}")
    }
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
    use crate::paths::{
        SITE, SITE_CRON, SITE_DEPLOYMENTS, SITE_HTTPS, SITE_LOGS, SITE_NGINX, SITE_PHP,
        SITE_REDIRECTS, SITE_WORKERS, with_id,
    };
    html! {
        div.tabs.tabs-border role="tablist" {
            a.tab.tab-active[active == "overview"] role="tab" href=(with_id(SITE, site.id)) { "Overview" }
            a.tab.tab-active[active == "deployments"] role="tab" href=(with_id(SITE_DEPLOYMENTS, site.id)) { "Deployments" }
            a.tab.tab-active[active == "https"] role="tab" href=(with_id(SITE_HTTPS, site.id)) { "HTTPS" }
            a.tab.tab-active[active == "php"] role="tab" href=(with_id(SITE_PHP, site.id)) { "PHP" }
            a.tab.tab-active[active == "redirects"] role="tab" href=(with_id(SITE_REDIRECTS, site.id)) { "Redirects" }
            a.tab.tab-active[active == "nginx"] role="tab" href=(with_id(SITE_NGINX, site.id)) { "Nginx" }
            a.tab.tab-active[active == "cron"] role="tab" href=(with_id(SITE_CRON, site.id)) { "Cron jobs" }
            a.tab.tab-active[active == "workers"] role="tab" href=(with_id(SITE_WORKERS, site.id)) { "Workers" }
            a.tab.tab-active[active == "logs"] role="tab" href=(with_id(SITE_LOGS, site.id)) { "Logs" }
        }
    }
}

#[cfg(test)]
mod duration_tests {
    use super::{duration, relative};

    #[test]
    fn times_read_like_a_person_would_say_them() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-06-15T12:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let at = |s: &str| {
            relative(
                chrono::DateTime::parse_from_rfc3339(s)
                    .unwrap()
                    .with_timezone(&chrono::Utc),
                now,
            )
        };
        assert_eq!(at("2026-06-15T11:59:50Z"), "just now");
        assert_eq!(at("2026-06-15T11:55:00Z"), "5 min ago");
        assert_eq!(at("2026-06-15T09:00:00Z"), "3 h ago");
        assert_eq!(at("2026-06-12T12:00:00Z"), "3 days ago");
        assert_eq!(at("2026-06-15T13:00:00Z"), "in 60 min");
        assert_eq!(at("2026-06-18T12:00:00Z"), "in 3 days");
        assert_eq!(at("2026-01-02T00:00:00Z"), "2026-01-02");
        let html = super::time("2026-06-15T11:55:00.000Z").into_string();
        assert!(html.contains("title=\"2026-06-15 11:55 UTC\""), "{html}");
        assert!(html.contains("datetime=\"2026-06-15T11:55:00.000Z\""));
    }

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
