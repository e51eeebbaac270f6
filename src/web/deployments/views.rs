use maud::{Markup, html};

use crate::db::deployments::DeploymentSummary;
use crate::web::components::{StatusBadge, empty_state, table, time};
use crate::web::layout::{Nav, Page};
use crate::web::paths;

pub fn index(deployments: &[DeploymentSummary]) -> Markup {
    let body = if deployments.is_empty() {
        empty_state(
            "No deployments yet",
            "Deployments pull a site's git repository into a new release, run its deploy script and \
             switch over without downtime. Connect a repository on a site to deploy it.",
            Some(("Go to sites", paths::SITES)),
        )
    } else {
        table(
            &["Site", "Branch", "Commit", "Trigger", "Started", "Status"],
            html! {
                @for d in deployments {
                    tr {
                        td.font-semibold { (d.site_domain) }
                        td.font-mono { (d.branch) }
                        td.font-mono { @if let Some(c) = &d.commit_hash { (c.get(..10).unwrap_or(c)) } @else { "—" } }
                        td { (d.triggered_by) @if let Some(a) = &d.actor_name { " by " (a) } }
                        td { (time(d.started_at.as_deref().unwrap_or(&d.created_at))) }
                        td { (d.status.badge()) }
                    }
                }
            },
        )
    };
    Page::new("Deployments")
        .nav(Nav::Deployments)
        .body(body)
        .render()
}
