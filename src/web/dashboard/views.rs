use maud::{Markup, html};

use crate::db::dashboard::{Attention, DashboardCounts};
use crate::paths;
use crate::web::components::{stat, time};
use crate::web::layout::{Nav, Page};

pub fn dashboard(c: &DashboardCounts, attention: &(Vec<Attention>, i64)) -> Markup {
    Page::new("Dashboard")
        .nav(Nav::Dashboard)
        .body(html! {
            div.stats.stats-vertical."lg:stats-horizontal".shadow-sm."bg-base-100" {
                (stat("Servers", c.servers_total,
                    &format!("{} active · {} need attention", c.servers_active, c.servers_attention),
                    paths::SERVERS))
                (stat("Sites", c.sites_total,
                    &format!("{} active · {} in error", c.sites_active, c.sites_error), paths::SITES))
                (stat("Databases", c.databases_total, "MariaDB and PostgreSQL", paths::DATABASES))
                (stat("Deployments", c.deployments_7d,
                    &format!("last 7 days · {} failed", c.deployments_failed_7d), paths::DEPLOYMENTS))
                (stat("SELinux denials", c.denials_24h, "last 24 hours", paths::SELINUX))
            }
            @if !attention.0.is_empty() {
                (attention_card(attention))
            }
            // Until a site is up: a failed first attempt still needs the guide.
            @if c.sites_active == 0 {
                (getting_started(c))
            }
        })
        .render()
}

/// Servers and sites that failed or are stuck, each with its reason and a link to it.
fn attention_card(attention: &(Vec<Attention>, i64)) -> Markup {
    let (rows, total) = attention;
    html! {
        section.card."bg-base-100".shadow-sm.border."border-warning" data-attention=(total) {
            div.card-body {
                h2.card-title { "Needs attention" span.badge.badge-warning { (total) } }
                ul.flex.flex-col."gap-2" {
                    @for a in rows {
                        @let href = if a.kind == "server" { paths::SERVER } else { paths::SITE };
                        @let stuck = matches!(a.status.as_str(), "pending" | "provisioning" | "creating");
                        li.flex.flex-wrap.items-baseline."gap-x-2" {
                            a.link.font-semibold href=(href.replace(":id", &a.id)) { (a.name) }
                            span.text-sm { (a.kind) " · " (a.status) }
                            span.text-sm."text-base-content/80" {
                                @if let Some(r) = &a.status_reason { (r) }
                                @else if stuck && a.kind == "server" { "no word from its setup command since " (time(&a.updated_at)) ": run a new one from its page" }
                                @else if stuck { "still being created since " (time(&a.updated_at)) }
                            }
                        }
                    }
                }
                @if *total > rows.len() as i64 {
                    p.text-sm { "and " (total - rows.len() as i64) " more: see the " a.link href=(paths::SERVERS) { "servers" } " and " a.link href=(paths::SITES) { "sites" } " lists, filtered by status." }
                }
            }
        }
    }
}

/// The first steps, ticked off from real counts.
fn getting_started(c: &DashboardCounts) -> Markup {
    let steps = [
        (
            c.ssh_keys_total > 0,
            "Add an SSH key",
            "Generate or import the key the panel logs in with.",
            paths::SSH_KEYS,
        ),
        (
            c.servers_active > 0,
            "Add a server",
            "Run the one-line setup command on an AlmaLinux, Rocky Linux or Debian server; it is done when the server is active.",
            paths::SERVERS,
        ),
        (
            c.sites_active > 0,
            "Create a site",
            "WordPress, Laravel or plain PHP, each with its own user, pool and database.",
            paths::SITES,
        ),
    ];
    html! {
        section.card."bg-base-100".shadow-sm {
            div.card-body {
                h2.card-title { "Getting started" }
                ul.steps.steps-vertical {
                    @for (done, title, text, href) in steps {
                        li.step.step-primary[done] data-done=(done) {
                            div.text-left {
                                a.link.link-hover.font-semibold href=(href) { (title) }
                                p.text-sm."text-base-content/70" { (text) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::testing::assert_self_contained;

    #[test]
    fn stat_cards_show_the_counts_and_link_to_their_pages() {
        let counts = DashboardCounts {
            servers_total: 3,
            servers_active: 2,
            servers_attention: 1,
            sites_total: 7,
            sites_active: 6,
            sites_error: 1,
            databases_total: 5,
            deployments_7d: 12,
            deployments_failed_7d: 2,
            denials_24h: 42,
            ssh_keys_total: 1,
        };
        let html = dashboard(&counts, &(Vec::new(), 0)).into_string();
        for text in [
            "<div class=\"stat-value\">3</div>",
            "2 active · 1 need attention",
            "<div class=\"stat-value\">7</div>",
            "<div class=\"stat-value\">12</div>",
            "last 7 days · 2 failed",
            "<div class=\"stat-value\">42</div>",
            "href=\"/selinux\"",
        ] {
            assert!(html.contains(text), "missing {text}");
        }
        assert!(
            !html.contains("Getting started"),
            "hidden once a site is active"
        );
        assert!(!html.contains("data-attention"), "nothing needs attention");
        assert!(html.contains("aria-current=\"page\""));
        assert_self_contained(&html);
    }

    #[test]
    fn an_empty_panel_says_what_to_do_next() {
        let counts = DashboardCounts {
            ssh_keys_total: 1,
            ..Default::default()
        };
        let html = dashboard(&counts, &(Vec::new(), 0)).into_string();
        assert!(html.contains("Getting started"));
        assert!(html.contains("data-done=\"true\""), "the key step is done");
        assert_eq!(html.matches("data-done=\"false\"").count(), 2);
        assert_self_contained(&html);
    }

    #[test]
    fn a_failed_first_site_and_a_stuck_server_keep_the_guide_and_are_listed() {
        let counts = DashboardCounts {
            ssh_keys_total: 1,
            servers_total: 1,
            servers_attention: 1,
            sites_total: 1,
            sites_error: 1,
            ..Default::default()
        };
        let stuck = Attention {
            kind: "server".into(),
            id: "01J0000000000000000000000S".into(),
            name: "web-<1>".into(),
            status: "pending".into(),
            status_reason: None,
            updated_at: "2026-01-01T00:00:00.000Z".into(),
        };
        let failed = Attention {
            kind: "site".into(),
            id: "01J0000000000000000000000T".into(),
            name: "shop.example.com".into(),
            status: "error".into(),
            status_reason: Some("php-fpm did not start".into()),
            updated_at: "2026-01-01T00:00:00.000Z".into(),
        };
        let html = dashboard(&counts, &(vec![stuck, failed], 2)).into_string();
        assert!(html.contains("Getting started"), "no site is active yet");
        assert!(html.contains("data-attention=\"2\""));
        assert!(html.contains("web-&lt;1&gt;"), "names are escaped");
        assert!(html.contains("href=\"/servers/01J0000000000000000000000S\""));
        assert!(html.contains("run a new one from its page"));
        assert!(html.contains("php-fpm did not start"));
        assert!(html.contains("1 need attention"));
        assert_self_contained(&html);
    }
}
