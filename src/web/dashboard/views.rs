use maud::{Markup, html};

use crate::db::dashboard::DashboardCounts;
use crate::paths;
use crate::web::components::stat;
use crate::web::layout::{Nav, Page};

pub fn dashboard(c: &DashboardCounts) -> Markup {
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
            @if c.sites_total == 0 {
                (getting_started(c))
            }
        })
        .render()
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
            c.servers_total > 0,
            "Add a server",
            "Run the one-line setup command on an AlmaLinux, Rocky Linux or Debian server.",
            paths::SERVERS,
        ),
        (
            c.sites_total > 0,
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
        let html = dashboard(&counts).into_string();
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
            "hidden once a site exists"
        );
        assert!(html.contains("aria-current=\"page\""));
        assert_self_contained(&html);
    }

    #[test]
    fn an_empty_panel_says_what_to_do_next() {
        let counts = DashboardCounts {
            ssh_keys_total: 1,
            ..Default::default()
        };
        let html = dashboard(&counts).into_string();
        assert!(html.contains("Getting started"));
        assert!(html.contains("data-done=\"true\""), "the key step is done");
        assert_eq!(html.matches("data-done=\"false\"").count(), 2);
        assert_self_contained(&html);
    }
}
