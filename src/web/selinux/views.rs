use maud::{Markup, html};

use crate::db::mail::Mail;
use crate::db::selinux::{AuditRecord, AuditSummary};
use crate::denials::filter::FilterForm;
use crate::domain::{Page as DbPage, TimeSort};
use crate::paths::{self, with_id};
use crate::selinux::live::LiveRecord;
use crate::web::components::{StatusBadge, empty_state, no_matches, table, time};
use crate::web::layout::{Nav, Page};
use crate::web::listing::ListView;

/// Longest message shown in the list; the text comes from a managed node and is untrusted.
const MESSAGE_LIMIT: usize = 300;
/// Longest text from a node in a toast.
const TOAST_LIMIT: usize = 160;

/// Alert mail: whether it is set up, and the latest messages with how their sending went.
pub struct MailState {
    pub configured: bool,
    pub recent: Vec<Mail>,
}

fn mail_card(mail: &MailState) -> Markup {
    html! {
        section.card."bg-base-100".shadow-sm data-alert-mail {
            div.card-body {
                h2.card-title.text-base { "Alert mail" }
                @if !mail.configured {
                    p.text-sm."text-base-content/70" {
                        "No SMTP settings: denials show here and as toasts only. Add an [smtp] section "
                        "to the configuration file to have them mailed (see the README)."
                    }
                } @else if mail.recent.is_empty() {
                    p.text-sm."text-base-content/70" { "Nothing mailed yet." }
                } @else {
                    ul."space-y-1".text-sm {
                        @for m in &mail.recent {
                            li.flex.flex-wrap."gap-2".items-center data-mail-status=(m.status) {
                                span.badge.badge-sm.badge-success[m.status == "sent"].badge-error[m.status == "failed"].badge-ghost[m.status == "pending"] { (m.status) }
                                span { (truncate(&m.subject, 120)) }
                                span."text-base-content/70" { (time(&m.created_at)) }
                                @if let Some(e) = &m.last_error {
                                    @if m.status != "sent" {
                                        span.text-error { "attempt " (m.attempts) " failed: " (truncate(e, 200)) "; retrying at " (time(&m.next_attempt_at)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn rates_card(rates: &[(String, i64)]) -> Markup {
    html! {
        section.card."bg-base-100".shadow-sm data-denial-rate {
            div.card-body {
                h2.card-title.text-base { "Most denials this hour (UTC)" }
                ul.text-sm {
                    @for (server, n) in rates {
                        li.flex.justify-between."gap-4" { span { (server) } span data-rate=(n) { (n) } }
                    }
                }
            }
        }
    }
}

pub fn index(
    form: &FilterForm,
    list: &ListView<'_, TimeSort>,
    days: Option<&[(String, i64)]>,
    rates: &[(String, i64)],
    records: &DbPage<AuditSummary>,
    mail: &MailState,
) -> Markup {
    let filtered = !list.filters.is_empty() || list.query.search.is_some();
    let first = list.query.after.is_none() && list.query.before.is_none();
    let periods = [
        ("1h", "last hour"),
        ("24h", "last 24 hours"),
        ("7d", "last 7 days"),
        ("30d", "last 30 days"),
        ("all", "all time"),
    ];
    let period = if form.period.is_empty() {
        "7d"
    } else {
        form.period.as_str()
    };
    let max = days
        .unwrap_or_default()
        .iter()
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(1)
        .max(1);
    let body = html! {
        form.card."bg-base-100".shadow-sm method="get" action=(paths::SELINUX) data-filters {
            div.card-body.flex.flex-row.flex-wrap.items-end."gap-3" {
                label.flex.flex-col."gap-1" {
                    span.text-xs { "Server" }
                    input.input.input-sm name="server" value=(form.server) placeholder="name or address" autocomplete="off";
                }
                label.flex.flex-col."gap-1" {
                    span.text-xs { "Site" }
                    input.input.input-sm name="site" value=(form.site) placeholder="domain" autocomplete="off";
                }
                label.flex.flex-col."gap-1" {
                    span.text-xs { "Text" }
                    input.input.input-sm name="q" value=(list.query.search.as_deref().unwrap_or("")) placeholder="comm, path, …" autocomplete="off";
                }
                label.flex.flex-col."gap-1" {
                    span.text-xs { "Type" }
                    input.input.input-sm name="type" value=(form.setype) placeholder="httpd_t" autocomplete="off";
                }
                label.flex.flex-col."gap-1" {
                    span.text-xs { "Class" }
                    input.input.input-sm name="class" value=(form.class) placeholder="file" autocomplete="off";
                }
                label.flex.flex-col."gap-1" {
                    span.text-xs { "Period" }
                    select.select.select-sm name="period" {
                        @for (v, label) in periods { option value=(v) selected[period == v] { (label) } }
                    }
                }
                button.btn.btn-sm.btn-primary type="submit" { "Filter" }
            }
        }
        div.grid."gap-4"."lg:grid-cols-2" {
            (mail_card(mail))
            @if !rates.is_empty() { (rates_card(rates)) }
        }
        @if let Some(days) = days.filter(|d| !d.is_empty()) {
            section.card."bg-base-100".shadow-sm data-per-day {
                div.card-body {
                    h2.card-title.text-base { "Denials per day" }
                    ul."space-y-1" {
                        @for (day, n) in days {
                            li.flex.items-center."gap-3".text-sm {
                                span.font-mono."w-24" { (day) }
                                progress.progress.progress-warning."w-64" value=(n) max=(max) {}
                                span data-count=(n) { (n) }
                            }
                        }
                    }
                }
            }
        }
        @if days.is_none() {
            p.text-sm."text-base-content/70" data-per-day-note {
                "The per-day chart counts denials by server and period; it is left out while a \
                 type, class or site narrows the records."
            }
        }
        @if records.rows.is_empty() && !filtered && first {
            (empty_state(
                "No SELinux denials here",
                "Every active server's audit log is followed and each denial shows up here with a \
                 plain-language explanation. No denials is the goal for switching to enforcing.",
                Some(("Go to servers", paths::SERVERS)),
            ))
        } @else {
            (list.region(html! {
            @if records.rows.is_empty() { (no_matches("records")) } @else {
            (table(
                &["Time", "Server", "Level", "What it means", "Record"],
                html! {
                    @for r in &records.rows {
                        tr {
                            td.whitespace-nowrap { a.link href=(with_id(paths::SELINUX_RECORD, r.id)) { (time(&r.created_at)) } }
                            td { @if let Some(s) = &r.server_name { (s) } @else { "panel host" } }
                            td { (r.level.badge()) }
                            td.text-sm."max-w-md" {
                                @if let Some(sev) = &r.severity { span.badge.badge-sm."mr-1".badge-error[sev == "critical"] { (sev) } }
                                @if let Some(e) = &r.explanation { (truncate(e, MESSAGE_LIMIT)) }
                            }
                            td.font-mono.text-xs.break-all { (truncate(&r.message, MESSAGE_LIMIT)) }
                        }
                    }
                },
            ))
            }
            (list.pager(records, None))
            }))
        }
    };
    Page::new("SELinux").nav(Nav::Selinux).body(body).render()
}

/// One record: what it means first, then every parsed field (all from the node, all escaped).
pub fn record(r: &AuditRecord) -> Markup {
    let context: serde_json::Value = serde_json::from_str(&r.context).unwrap_or_default();
    let explanation = context.get("explanation");
    let text = |v: Option<&serde_json::Value>| -> String {
        v.and_then(|v| v.as_str())
            .map(|s| truncate(s, 2_000))
            .unwrap_or_default()
    };
    Page::new("SELinux record")
        .nav(Nav::Selinux)
        .body(html! {
            @if let Some(e) = explanation {
                section.card."bg-base-100".shadow-sm data-explanation {
                    div.card-body {
                        h2.card-title {
                            "What it means "
                            span.badge.badge-error[text(e.get("severity")) == "critical"].badge-warning[text(e.get("severity")) != "critical"] { (text(e.get("severity"))) }
                        }
                        p { (text(e.get("summary"))) }
                        @let fix = text(e.get("suggestion"));
                        @if !fix.is_empty() { pre.mockup-code.text-sm.whitespace-pre-wrap.break-all."p-3" { code { (fix) } } }
                    }
                }
            }
            section.card."bg-base-100".shadow-sm {
                div.card-body {
                    div.flex."gap-3".items-center {
                        (r.level.badge())
                        span { @if let Some(s) = &r.server_name { (s) } @else { "panel host" } }
                        span."text-base-content/70" { (time(&r.created_at)) }
                    }
                    p.font-mono.text-xs.break-all { (truncate(&r.message, 2_000)) }
                    @if let Some(fields) = context.as_object() {
                        dl.grid."grid-cols-[max-content_1fr]"."gap-x-6"."gap-y-1".text-sm {
                            @for (k, v) in fields.iter().filter(|(k, _)| k.as_str() != "explanation") {
                                dt.font-semibold { (k) }
                                dd.font-mono.break-all { (truncate(&match v { serde_json::Value::String(s) => s.clone(), other => other.to_string() }, 1_000)) }
                            }
                        }
                    }
                }
            }
        })
        .render()
}

/// The toast a new denial shows on every open page; it links to the record.
pub fn live_toast(r: &LiveRecord) -> Markup {
    let critical = r.level == crate::domain::LogLevel::Error;
    let what = match &r.explanation {
        Some(e) => truncate(&e.summary, TOAST_LIMIT),
        None => truncate(&crate::selinux::audit::to_text(&r.record), TOAST_LIMIT),
    };
    html! {
        div.alert.shadow-lg."max-w-md".alert-error[critical].alert-warning[!critical] role="alert" data-toast data-denial=(r.id) {
            div {
                p.font-semibold { "SELinux on " (truncate(&r.server_name, 60)) }
                p.text-sm { (what) }
                a.link.text-sm href=(with_id(paths::SELINUX_RECORD, r.id)) { "Details" }
            }
            button.btn.btn-ghost.btn-xs type="button" data-dismiss aria-label="Dismiss" { "✕" }
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
