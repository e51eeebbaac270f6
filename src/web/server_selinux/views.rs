use maud::{Markup, html};

use crate::db::servers::Server;
use crate::domain::{SelinuxMode, ServerStatus};
use crate::paths::{self, with_id};
use crate::selinux::manage::{self, Check, Observation, Status};
use crate::web::components::{StatusBadge, server_tabs};
use crate::web::layout::{Nav, Page, csrf_field};

pub fn show(server: &Server) -> Markup {
    Page::new(format!("{} · SELinux", server.name))
        .nav(Nav::Servers)
        .body(html! {
            (server_tabs(server, "selinux"))
            @if server.status == ServerStatus::Active {
                section #selinux-status hx-get=(with_id(paths::SERVER_SELINUX_STATUS, server.id)) hx-trigger="load" hx-swap="innerHTML" {
                    div.skeleton."h-48".w-full {}
                }
            } @else {
                div.alert.alert-info role="status" {
                    span { "SELinux can be managed once the server is active." }
                }
            }
        })
        .render()
}

fn post_button(
    server: &Server,
    path: &str,
    label: &str,
    class: &'static str,
    disabled: bool,
) -> Markup {
    html! {
        form method="post" action=(with_id(path, server.id)) {
            (csrf_field())
            button.btn.btn-sm.(class) type="submit" disabled[disabled] { (label) }
        }
    }
}

pub fn status(server: &Server, status: &Status, seen: &Observation, checks: &[Check]) -> Markup {
    let on = status.mode.is_some_and(|m| m != SelinuxMode::Disabled);
    let bundled = manage::module_version();
    html! {
        div.grid."gap-4"."lg:grid-cols-2" data-selinux-status {
            section.card."bg-base-100".shadow-sm {
                div.card-body {
                    h2.card-title { "Mode" }
                    div.flex.items-center."gap-3" {
                        span data-mode { @match status.mode { Some(m) => (m.badge()), None => "unknown" } }
                        @if let Some(c) = status.configured {
                            @if Some(c) != status.mode {
                                span.text-sm."text-base-content/70" { "after the next boot: " (c.as_str()) }
                            }
                        }
                    }
                    @if !on {
                        p.text-sm."text-base-content/70" {
                            "SELinux is off on this server, so the panel's SELinux steps are skipped. "
                            "On Alma and Rocky Linux, setup configures it permissive; it takes a reboot."
                        }
                    }
                }
            }
            section.card."bg-base-100".shadow-sm {
                div.card-body {
                    h2.card-title { "Policy module" }
                    p.text-sm data-module {
                        @match (&status.module_version, status.module_loaded) {
                            (Some(v), true) if v == bundled => { "panel " (v) " is loaded." }
                            (Some(v), true) => { "panel " (v) " is loaded; the panel carries " (bundled) "." }
                            _ => { "Not installed. The panel carries version " (bundled) "." }
                        }
                    }
                    div.card-actions.justify-end {
                        (post_button(server, paths::SERVER_SELINUX_MODULE,
                            if status.module_loaded { "Update the module" } else { "Install the module" },
                            "btn-primary", !on || status.module_current()))
                        (post_button(server, paths::SERVER_SELINUX_RELABEL, "Relabel the sites", "btn-outline", !on))
                    }
                }
            }
            section.card."bg-base-100".shadow-sm {
                div.card-body {
                    h2.card-title { "Booleans" }
                    ul."space-y-3" {
                        @for (b, value) in &status.booleans {
                            li.flex.items-center.justify-between."gap-4" data-boolean=(b.name()) {
                                div {
                                    div.font-mono.text-sm { (b.name()) }
                                    div.text-xs."text-base-content/70" { (b.description()) }
                                }
                                @match value {
                                    None => span.badge.badge-ghost { "not available" },
                                    Some(current) => {
                                        form method="post" action=(with_id(paths::SERVER_SELINUX_BOOLEAN, server.id)) {
                                            (csrf_field())
                                            input type="hidden" name="name" value=(b.name());
                                            input type="hidden" name="value" value=(if *current { "off" } else { "on" });
                                            span.badge.badge-success[*current].badge-ghost[!*current]."mr-2" { (if *current { "on" } else { "off" }) }
                                            button.btn.btn-xs.btn-outline type="submit" { (if *current { "Turn off" } else { "Turn on" }) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section.card."bg-base-100".shadow-sm data-enforcing {
                div.card-body {
                    h2.card-title { "Switch to enforcing" }
                    @if status.mode == Some(SelinuxMode::Enforcing) {
                        p.text-sm { "This server enforces its policy." }
                    } @else {
                        p.text-sm."text-base-content/70" {
                            "Enforcing is offered after a window in permissive mode without a single denial from this server (the last item below)."
                            @if seen.denials > 0 { " " a.link href=(paths::SELINUX) { "See the denials." } }
                        }
                        ul."space-y-1" {
                            @for c in checks {
                                li.flex."gap-2".text-sm data-check=(c.ok) {
                                    span.badge.badge-sm.badge-success[c.ok].badge-warning[!c.ok] { (if c.ok { "ok" } else { "not yet" }) }
                                    span { span.font-semibold { (c.label) } " — " (c.detail) }
                                }
                            }
                        }
                        div.card-actions.justify-end {
                            (post_button(server, paths::SERVER_SELINUX_ENFORCE, "Switch to enforcing", "btn-warning", !checks.iter().all(|c| c.ok)))
                        }
                    }
                }
            }
        }
    }
}

pub fn status_unavailable(reason: &str) -> Markup {
    html! { div.alert.alert-warning role="status" data-selinux-unavailable { span { "The server's SELinux state is not available: " (reason) } } }
}
