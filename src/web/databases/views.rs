use maud::{Markup, html};

use crate::db::databases::DatabaseSummary;
use crate::domain::{DatabaseSort, Page as DbPage};
use crate::paths::{self, with_id};
use crate::web::components::{StatusBadge, empty_state, no_matches, table_with_header, time};
use crate::web::layout::{Nav, Page, csrf_field};
use crate::web::listing::ListView;

/// The databases list: one page, searchable by database or user name.
pub fn index(
    list: &ListView<'_, DatabaseSort>,
    page: &DbPage<DatabaseSummary>,
    total: i64,
) -> Markup {
    let body = if total == 0 {
        empty_state(
            "No databases yet",
            "Databases are created with a site: pick MariaDB or PostgreSQL on the site form and the \
             panel creates the database, a user limited to it and a strong password, stored encrypted.",
            Some(("Go to sites", paths::SITES)),
        )
    } else {
        let filtered = list.query.search.is_some() || !list.filters.is_empty();
        html! {
        (list.search("Search database and user names"))
        (list.region(html! {
        @if page.rows.is_empty() { (no_matches("databases")) } @else {
        (table_with_header(
            html! {
                (list.header("Name", DatabaseSort::Name))
                th { "User" } th { "Engine" } th { "Server" } th { "Site" } th { "Status" }
                (list.header("Created", DatabaseSort::Newest))
                th { span.sr-only { "Actions" } }
            },
            html! {
                @for d in &page.rows {
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
                        td.whitespace-nowrap { (time(&d.created_at)) }
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
        ))
        }
        (list.pager(page, (!filtered).then_some(total)))
        }))
        }
    };
    Page::new("Databases")
        .nav(Nav::Databases)
        .body(body)
        .render()
}
