use maud::{Markup, html};

use crate::db::selinux::{AuditRecord, AuditSummary};
use crate::selinux::collect::LiveRecord;
use crate::web::components::{StatusBadge, empty_state, table, time};
use crate::web::layout::{Nav, Page};
use crate::web::paths::{self, with_id};

/// Longest message shown in the list; the text comes from a managed node and is untrusted.
const MESSAGE_LIMIT: usize = 300;
/// Longest text from a node in a toast.
const TOAST_LIMIT: usize = 160;

pub fn index(records: &[AuditSummary]) -> Markup {
    let body = if records.is_empty() {
        empty_state(
            "No SELinux denials collected",
            "Once a server is onboarded, its audit log is followed and every denial shows up here \
             with a plain-language explanation. No denials is the goal for switching to enforcing.",
            Some(("Go to servers", paths::SERVERS)),
        )
    } else {
        table(
            &["Time", "Server", "Level", "Record"],
            html! {
                @for r in records {
                    tr {
                        td.whitespace-nowrap { a.link href=(with_id(paths::SELINUX_RECORD, r.id)) { (time(&r.created_at)) } }
                        td { @if let Some(s) = &r.server_name { (s) } @else { "panel host" } }
                        td { (r.level.badge()) }
                        td.font-mono.text-xs.break-all { (truncate(&r.message, MESSAGE_LIMIT)) }
                    }
                }
            },
        )
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
