use maud::{Markup, html};

use crate::db::databases::DatabaseSummary;
use crate::paths::{self, with_id};
use crate::web::components::{StatusBadge, empty_state, table};
use crate::web::layout::{Nav, Page, csrf_field};

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
            &["Name", "User", "Engine", "Server", "Site", "Status", ""],
            html! {
                @for d in databases {
                    tr {
                        td.font-mono { (d.name) }
                        td.font-mono { (d.username) }
                        td { (d.db_type.label()) }
                        td { (d.server_name) }
                        td {
                            @match (&d.site_id, &d.site_domain) {
                                (Some(id), Some(domain)) => a.link href=(with_id(paths::SITE, id)) { (domain) },
                                _ => "—",
                            }
                        }
                        td { (d.status.badge()) }
                        td {
                            // Reveal (audited) and rotate (the site's .env follows) act on the
                            // site's database; the reveal shows on the site's page.
                            @if let Some(id) = &d.site_id {
                                div.flex."gap-2" {
                                    form method="post" action=(with_id(paths::SITE_DB_REVEAL, id)) {
                                        (csrf_field())
                                        button.btn.btn-xs.btn-ghost type="submit" { "Reveal password" }
                                    }
                                    form method="post" action=(with_id(paths::SITE_DB_ROTATE, id)) {
                                        (csrf_field())
                                        button.btn.btn-xs.btn-outline type="submit" { "Rotate password" }
                                    }
                                }
                            }
                        }
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
