use maud::{Markup, html};

use crate::db::sites::SiteSummary;
use crate::web::components::{StatusBadge, empty_state, table};
use crate::web::layout::{Nav, Page};
use crate::web::paths;

pub fn index(sites: &[SiteSummary]) -> Markup {
    let body = if sites.is_empty() {
        empty_state(
            "No sites yet",
            "Each site gets its own Unix user, PHP-FPM pool, nginx vhost, optional database and \
             SELinux categories. Sites live on servers, so add a server first.",
            Some(("Go to servers", paths::SERVERS)),
        )
    } else {
        table(
            &["Domain", "Server", "Type", "PHP", "Status"],
            html! {
                @for s in sites {
                    tr {
                        td.font-semibold { (s.domain) }
                        td { (s.server_name) }
                        td { (s.app_type.label()) }
                        td { (s.php_version) }
                        td {
                            (s.status.badge())
                            @if let Some(reason) = &s.status_reason { div.text-xs.text-error { (reason) } }
                        }
                    }
                }
            },
        )
    };
    Page::new("Sites").nav(Nav::Sites).body(body).render()
}
