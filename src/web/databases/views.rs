use maud::{Markup, html};

use crate::db::databases::DatabaseSummary;
use crate::web::components::{StatusBadge, empty_state, table};
use crate::web::layout::{Nav, Page};
use crate::web::paths;

pub fn index(databases: &[DatabaseSummary]) -> Markup {
    let body = if databases.is_empty() {
        empty_state(
            "No databases yet",
            "Databases are created with a site: pick MariaDB or PostgreSQL on the site form and the \
             panel creates the database, a user limited to it and a strong password, stored encrypted.",
            Some(("Go to sites", paths::SITES)),
        )
    } else {
        table(
            &["Name", "User", "Engine", "Server", "Site", "Status"],
            html! {
                @for d in databases {
                    tr {
                        td.font-mono { (d.name) }
                        td.font-mono { (d.username) }
                        td { (d.db_type.label()) }
                        td { (d.server_name) }
                        td { @if let Some(site) = &d.site_domain { (site) } @else { "—" } }
                        td { (d.status.badge()) }
                    }
                }
            },
        )
    };
    Page::new("Databases")
        .nav(Nav::Databases)
        .body(body)
        .render()
}
