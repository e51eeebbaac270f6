use maud::{Markup, html};

use crate::db::selinux::AuditSummary;
use crate::web::components::{StatusBadge, empty_state, table, time};
use crate::web::layout::{Nav, Page};
use crate::web::paths;

/// Longest message shown in the list; the text comes from a managed node and is untrusted.
const MESSAGE_LIMIT: usize = 300;

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
                        td.whitespace-nowrap { (time(&r.created_at)) }
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

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
