use maud::{Markup, html};

use crate::db::servers::ServerSummary;
use crate::web::components::{StatusBadge, empty_state, table};
use crate::web::layout::{Nav, Page};
use crate::web::paths;

pub fn index(servers: &[ServerSummary]) -> Markup {
    let body = if servers.is_empty() {
        empty_state(
            "No servers yet",
            "A server joins the panel with a one-line setup command that hardens it and installs \
             nginx, PHP, databases and the SELinux policy. The panel logs in with one of your SSH \
             keys, so start by adding a key.",
            Some(("Add an SSH key", paths::SSH_KEYS)),
        )
    } else {
        table(
            &["Name", "Address", "OS", "SELinux", "Sites", "Status"],
            html! {
                @for s in servers {
                    tr {
                        td.font-semibold { (s.name) div.text-xs."text-base-content/60" { (s.hostname) } }
                        td.font-mono { (s.ip_address) }
                        td { (s.os_version.label()) }
                        td { @match s.selinux_mode { Some(m) => (m.badge()), None => span."text-base-content/50" { "unknown" } } }
                        td { (s.site_count) }
                        td {
                            (s.status.badge())
                            @if let Some(reason) = &s.status_reason { div.text-xs.text-error { (reason) } }
                        }
                    }
                }
            },
        )
    };
    Page::new("Servers").nav(Nav::Servers).body(body).render()
}
