use maud::{Markup, html};

use crate::config::ServersReach;
use crate::db::servers::{Server, ServerLog, ServerSummary};
use crate::db::ssh_keys::SshKeySummary;
use crate::domain::{ListQuery, Page as DbPage, ServerSort, TimeSort};
use crate::domain::{OsVersion, ServerStatus};
use crate::error::FieldError;
use crate::paths::{self, with_id};
use crate::servers::{Health, ServerForm, setup_command};
use crate::web::components::{
    StatusBadge, confirm_action, copy_button, empty_state, field_error, form_errors, form_header,
    no_matches, server_tabs, table_with_header, time,
};
use crate::web::layout::{Nav, Page, csrf_field};
use crate::web::listing::ListView;

/// The servers list: one page, searchable by name, hostname or address, narrowed by status.
pub fn index(
    list: &ListView<'_, ServerSort>,
    page: &DbPage<ServerSummary>,
    total: i64,
    status: Option<ServerStatus>,
    usable_keys: bool,
) -> Markup {
    let body = if total == 0 {
        if usable_keys {
            empty_state(
                "No servers yet",
                "A server joins the panel with a one-line setup command that hardens it, installs what \
                 sites need and tells the panel it is ready.",
                Some(("Add a server", paths::SERVER_NEW)),
            )
        } else {
            empty_state(
                "No servers yet",
                "The panel logs in to servers with one of your SSH keys, kept encrypted. Generate or \
                 import a key first, then add a server.",
                Some(("Add an SSH key", paths::SSH_KEYS)),
            )
        }
    } else {
        let filtered = list.query.search.is_some() || !list.filters.is_empty();
        html! {
            div.flex.flex-wrap.items-end.justify-between."gap-3" {
                div.flex.flex-wrap.items-end."gap-2" {
                    (list.search("Search names, hostnames, addresses"))
                    (status_links(list, status))
                }
                a.btn.btn-primary href=(paths::SERVER_NEW) { "Add a server" }
            }
            (list.region(html! {
            @if page.rows.is_empty() { (no_matches("servers")) } @else {
            (table_with_header(
                html! {
                    (list.header("Name", ServerSort::Name))
                    th { "Address" } th { "OS" } th { "SELinux" } th { "Sites" } th { "Status" }
                    (list.header("Added", ServerSort::Newest))
                },
                html! {
                    @for s in &page.rows {
                        tr {
                            td.font-semibold {
                                a.link href=(with_id(paths::SERVER, s.id)) { (s.name) }
                                div.text-xs."text-base-content/70" { (s.hostname) }
                            }
                            td.font-mono { (s.ip_address) }
                            td { (s.os_version.label()) }
                            td { @match s.selinux_mode { Some(m) => (m.badge()), None => span."text-base-content/70" { "unknown" } } }
                            td { (s.site_count) }
                            td {
                                (s.status.badge())
                                @if let Some(reason) = &s.status_reason { div.text-xs.text-error { (reason) } }
                            }
                            td.whitespace-nowrap { (time(&s.created_at)) }
                        }
                    }
                },
            ))
            }
            (list.pager(page, (!filtered).then_some(total)))
            }))
        }
    };
    Page::new("Servers").nav(Nav::Servers).body(body).render()
}

/// Status links: all, or one status (kept with the search and order).
fn status_links(list: &ListView<'_, ServerSort>, status: Option<ServerStatus>) -> Markup {
    let choices = [
        ServerStatus::Active,
        ServerStatus::Error,
        ServerStatus::Unreachable,
        ServerStatus::Pending,
    ];
    crate::web::listing::status_links(list, status, &choices, ServerStatus::as_str)
}

fn text_field(
    label: &str,
    name: &'static str,
    value: &str,
    errors: &[FieldError],
    hint: &str,
) -> Markup {
    crate::web::components::text_field(label, name, value, errors, hint, true)
}

pub fn new(
    keys: &[SshKeySummary],
    form: &ServerForm,
    errors: &[FieldError],
    config: &crate::config::Config,
) -> Markup {
    let usable: Vec<&SshKeySummary> = keys.iter().filter(|k| k.has_private_key).collect();
    Page::new("Add a server")
        .nav(Nav::Servers)
        .body(html! {
            (reach_warning(config.servers_reach(), config.servers_url()))
            (crate::web::components::error_summary(errors))
            form.card."bg-base-100".shadow-sm."max-w-2xl" method="post" action=(paths::SERVERS) {
                div.card-body {
                    (csrf_field())
                    (text_field("Name", "name", &form.name, errors, "How the panel shows it, e.g. web-1"))
                    div.grid."gap-4"."md:grid-cols-2" {
                        (text_field("IP address", "ip_address", &form.ip_address, errors, ""))
                        (text_field("Host name", "hostname", &form.hostname, errors, "e.g. web1.example.com"))
                    }
                    fieldset.fieldset {
                        label.label for="os_version" { "Operating system" }
                        select #os_version.select.w-full name="os_version" {
                            @for os in OsVersion::ALL {
                                option value=(os.as_str()) selected[os.as_str() == form.os_version] { (os.label()) }
                            }
                        }
                        (field_error(errors, "os_version"))
                    }
                    (text_field("PHP versions", "php_versions", &form.php_versions, errors,
                        "Installed side by side, e.g. 8.2 8.3 (from Remi on AlmaLinux/Rocky; Debian 12 ships 8.2)"))
                    div.grid."gap-4"."md:grid-cols-2" {
                        (text_field("SSH port", "ssh_port", &form.ssh_port, errors, ""))
                        (text_field("SSH user", "ssh_user", &form.ssh_user, errors, "The setup script creates it"))
                    }
                    fieldset.fieldset {
                        label.label for="ssh_key_id" { "SSH key the panel logs in with" }
                        select #ssh_key_id.select.w-full name="ssh_key_id" required {
                            // With several keys, one is chosen on purpose, not by list order.
                            @if usable.len() != 1 { option value="" disabled selected[form.ssh_key_id.is_empty()] { "Choose a key" } }
                            @for k in &usable {
                                option value=(k.id) selected[k.id.to_string() == form.ssh_key_id || usable.len() == 1] { (k.name) " — " (k.fingerprint) }
                            }
                        }
                        (field_error(errors, "ssh_key_id"))
                    }
                    div.card-actions.justify-end { button.btn.btn-primary type="submit" { "Add server" } }
                }
            }
        })
        .render()
}

/// A live setup command for the server page.
pub struct Setup<'a> {
    pub url: &'a str,
    pub expires: &'a str,
    pub reach: ServersReach,
    pub servers_url: &'a str,
}

/// Why a setup command may not work as shown: servers cannot reach a loopback URL; plain http
/// carries the script in clear text. Nothing when servers reach the panel over https.
pub fn reach_warning(reach: ServersReach, servers_url: &str) -> Markup {
    html! {
        @match reach {
            ServersReach::Loopback => div.alert.alert-warning.items-start role="alert" data-reach-warning="loopback" {
                div."min-w-0".break-words {
                    p.font-semibold { "Servers cannot reach this panel at " span.font-mono.break-all { (servers_url) } }
                    p.text-sm {
                        "That address is this machine's loopback: a new server's setup command would fetch "
                        "from itself and wait for ever. Start the panel with the URL your servers reach it at, "
                        "e.g. " code.font-mono.break-all { "PANEL_SERVERS_URL=https://panel.example.com" }
                        " (and " code.font-mono { "PANEL_LISTEN" } " on that address), or set " code.font-mono { "PANEL_URL" } " to it."
                    }
                }
            },
            ServersReach::PlainHttp => div.alert.alert-warning.items-start role="alert" data-reach-warning="http" {
                div."min-w-0".break-words {
                    p.font-semibold { "Setup commands use plain http" }
                    p.text-sm {
                        "The setup script, with the server's callback secret, crosses the network unencrypted "
                        "from " span.font-mono.break-all { (servers_url) } ". Use an https URL where the network is not yours."
                    }
                }
            },
            ServersReach::Fine => {},
        }
    }
}

/// The server's status badge, live while the server onboards.
pub fn live_status(server: &Server) -> Markup {
    crate::web::components::live_status(
        "server-status",
        &with_id(paths::SERVER_STATUS, server.id),
        server.status.as_str(),
        matches!(
            server.status,
            ServerStatus::Pending | ServerStatus::Provisioning
        ),
        server.status.badge(),
    )
}

pub fn show_with_software(
    server: &Server,
    log: Markup,
    setup: Option<Setup<'_>>,
    software: &[crate::db::software::Installation],
) -> Markup {
    let onboarding = matches!(
        server.status,
        ServerStatus::Pending | ServerStatus::Provisioning | ServerStatus::Error
    );
    Page::new(server.name.clone())
        .nav(Nav::Servers)
        .body(html! {
            (server_tabs(server, "overview"))
            section.card."bg-base-100".shadow-sm {
                div.card-body {
                    div.flex.items-center."gap-3" {
                        (live_status(server))
                        @if let Some(r) = &server.status_reason { span.text-error.text-sm { (r) } }
                    }
                    dl.grid."grid-cols-[max-content_1fr]"."gap-x-6"."gap-y-1".text-sm {
                        dt.font-semibold { "Address" } dd.font-mono { (server.ip_address) ":" (server.ssh_port) }
                        dt.font-semibold { "Host name" } dd.font-mono { (server.hostname) }
                        dt.font-semibold { "OS" } dd { (server.os_version.label()) }
                        dt.font-semibold { "SSH user" } dd.font-mono { (server.ssh_user) }
                        dt.font-semibold { "SELinux" } dd { @match server.selinux_mode { Some(m) => (m.badge()), None => "not known yet" } }
                        dt.font-semibold { "Host key" } dd.text-xs {
                            span.font-mono.break-all data-host-key {
                                @match server.host_key.as_deref().and_then(crate::ssh::client::HostKey::parse) {
                                    Some(k) => (k.fingerprint()),
                                    None => "pinned at first contact, if it is one the setup script reported",
                                }
                            }
                            @if server.host_key.is_some() {
                                " "
                                button.btn.btn-ghost.btn-xs type="button"
                                    hx-post=(with_id(paths::SERVER_HOST_KEY_CHECK, server.id))
                                    hx-target="#host-key-check" hx-swap="innerHTML" { "Check" }
                                div #host-key-check {}
                            }
                        }
                    }
                }
            }
            @if server.status == ServerStatus::Active {
                div.flex.justify-end {
                    (confirm_action(
                        "rotate-key",
                        "Rotate SSH key",
                        "btn-outline",
                        &with_id(paths::SERVER_ROTATE_KEY, server.id),
                        html! {},
                        "Rotate the panel's SSH key on this server?",
                        html! {
                            p { "The panel makes a new key, adds it to the server, checks that it logs in with it, "
                                "and only then removes the old one from " span.font-mono { (server.ssh_user) } "'s authorized_keys." }
                            p."mt-2" { "Other servers keep their keys. The old key stops working here." }
                        },
                    ))
                }
                section #health hx-get=(with_id(paths::SERVER_HEALTH, server.id)) hx-trigger="load, every 15s" hx-swap="innerHTML" {
                    div.skeleton."h-24".w-full {}
                }
                (software_card(server, software))
            }
            @if let Some(setup) = &setup {
                section.card."bg-base-100".shadow-sm #setup-command {
                    div.card-body {
                        h2.card-title { "Run this on the server as root" }
                        (reach_warning(setup.reach, setup.servers_url))
                        p.text-sm."text-base-content/80" {
                            "The command works once and expires " (time(setup.expires)) ". The script is idempotent; "
                            "when it is done it tells the panel, which connects, pins the host key and marks the "
                            "server active. This page follows along by itself."
                        }
                        div.flex.items-start."gap-2" {
                            pre.mockup-code.text-sm."p-4".whitespace-pre-wrap.break-all."min-w-0".grow data-setup-command {
                                code #setup-command-text { (setup_command(setup.url)) }
                            }
                            (copy_button("#setup-command-text", "Copy the setup command"))
                        }
                    }
                }
            } @else if onboarding {
                form method="post" action=(with_id(paths::SERVER_SETUP_URL, server.id)) {
                    (csrf_field())
                    p.text-sm."text-base-content/80"."mb-2" {
                        "The setup command was used or has expired. If the server did not finish, run a new one."
                    }
                    button.btn.btn-outline type="submit" { "Show a new setup command" }
                }
            }
            (log)
            section.card."bg-base-100".shadow-sm."border-error/30".border {
                form #server-delete.card-body method="post" action=(with_id(paths::SERVER_DELETE, server.id))
                    hx-post=(with_id(paths::SERVER_DELETE, server.id)) hx-headers=(form_header("server-delete")) {
                    (csrf_field())
                    h2.card-title.text-error { "Delete this server" }
                    p.text-sm {
                        "Removes the server from the panel with its sites, databases, jobs and logs. "
                        "Nothing is changed on the machine itself."
                    }
                    label.label for="server-delete-confirm" { "Type " span.font-mono { (server.name) } " to confirm" }
                    div.flex.flex-wrap."gap-2" {
                        input #server-delete-confirm.input name="confirm" autocomplete="off" required
                            aria-describedby="server-delete-errors";
                        button.btn.btn-error type="submit" { "Delete" }
                    }
                    (form_errors("server-delete"))
                }
            }
        })
        .render()
}

fn kib(kb: u64) -> String {
    let gib = kb as f64 / 1024.0 / 1024.0;
    if gib >= 1.0 {
        format!("{gib:.1} GiB")
    } else {
        format!("{:.0} MiB", kb as f64 / 1024.0)
    }
}

fn duration(seconds: u64) -> String {
    let (d, h, m) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min")
    }
}

/// Health numbers as DaisyUI stats; the numbers come from the node and are rendered as text.
pub fn health(h: &Health) -> Markup {
    html! {
        div.stats.stats-vertical."lg:stats-horizontal".shadow-sm."bg-base-100".w-full data-health {
            div.stat {
                div.stat-title { "Uptime" }
                div.stat-value.text-2xl data-uptime=(h.uptime_seconds) { (duration(h.uptime_seconds)) }
                div.stat-desc { "load " (format!("{:.2} {:.2} {:.2}", h.load[0], h.load[1], h.load[2])) " · " (h.cpus) " CPUs" }
            }
            div.stat {
                div.stat-title { "Memory" }
                div.stat-value.text-2xl { (h.mem_used_percent()) "%" }
                div.stat-desc data-mem-total-kb=(h.mem_total_kb) { (kib(h.mem_total_kb - h.mem_available_kb.min(h.mem_total_kb))) " of " (kib(h.mem_total_kb)) " used" }
                progress.progress.progress-primary value=(h.mem_used_percent()) max="100" {}
            }
            div.stat {
                div.stat-title { "Disk /" }
                div.stat-value.text-2xl { (h.disk_used_percent()) "%" }
                div.stat-desc data-disk-total-kb=(h.disk_total_kb) { (kib(h.disk_used_kb)) " of " (kib(h.disk_total_kb)) " used" }
                progress.progress.progress-primary[h.disk_used_percent() < 90].progress-error[h.disk_used_percent() >= 90] value=(h.disk_used_percent()) max="100" {}
            }
            div.stat {
                div.stat-title { "SELinux" }
                div.stat-value.text-2xl { @match h.selinux { Some(m) => (m.badge()), None => "unknown" } }
            }
        }
    }
}

pub fn health_unavailable(reason: &str) -> Markup {
    html! { div.alert.alert-warning role="status" data-health-unavailable { span { "Health is not available: " (reason) } } }
}

/// The server log with its filter (level, text); htmx refreshes just this card.
/// The server's log, a page at a time (newest first), filtered by level and text; the form and
/// the page links swap this card only.
pub fn log_card(
    id: crate::ids::ServerId,
    logs: &DbPage<ServerLog>,
    query: &ListQuery<TimeSort>,
    level: Option<crate::domain::LogLevel>,
    people: &std::collections::HashMap<String, String>,
) -> Markup {
    let path = with_id(paths::SERVER, id);
    let text = query.search.as_deref();
    let list = ListView::new(&path, query).filter("level", level.map_or("", |l| l.as_str()));
    html! {
        section #server-log.card."bg-base-100".shadow-sm {
            div.card-body {
                h2.card-title { "Server log" }
                form.flex.flex-wrap."gap-2" method="get" action=(with_id(paths::SERVER, id))
                    hx-get=(with_id(paths::SERVER, id)) hx-target="#server-log" hx-swap="outerHTML"
                    hx-trigger="change, keyup changed delay:400ms from:input" {
                    select.select.select-sm name="level" aria-label="Level" {
                        option value="" selected[level.is_none()] { "All levels" }
                        @for l in crate::domain::LogLevel::ALL {
                            option value=(l.as_str()) selected[level == Some(*l)] { (l.as_str()) }
                        }
                    }
                    input.input.input-sm name="q" value=(text.unwrap_or("")) placeholder="Search messages and context" aria-label="Search";
                }
                @if logs.rows.is_empty() { p."text-base-content/70" { "Nothing logged" @if level.is_some() || text.is_some() { " that matches" } "." } }
                @else {
                    // Scrolls sideways on a phone; focusable so the keyboard can scroll it too.
                    div."overflow-x-auto" tabindex="0" role="region" aria-label="Log entries" {
                    table.table.table-sm {
                        tbody {
                            @for l in &logs.rows {
                                tr data-log-row {
                                    td.whitespace-nowrap { (time(&l.created_at)) }
                                    td { (l.level.badge()) }
                                    td { (l.message) }
                                    td.text-xs.break-words { (context_text(&l.context, people)) }
                                }
                            }
                        }
                    }
                    }
                }
                div hx-target="#server-log" hx-select="#server-log" hx-swap="outerHTML" {
                    (list.pager(logs, None))
                }
            }
        }
    }
}

/// A log row's context as a person reads it: `key: value` pairs, the acting user by name (ids
/// mean nothing to a reader), anything else as it was stored.
pub fn context_text(context: &str, people: &std::collections::HashMap<String, String>) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(context)
    else {
        return context.to_owned();
    };
    map.iter()
        .map(|(k, v)| {
            let value = match (k.as_str(), v) {
                ("actor", serde_json::Value::Null) => "the panel".to_owned(),
                ("actor", serde_json::Value::String(id)) => people
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| "a removed user".to_owned()),
                (_, serde_json::Value::String(s)) => s.clone(),
                (_, other) => other.to_string(),
            };
            let key = if k == "actor" { "by" } else { k.as_str() };
            format!("{key}: {value}")
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn software_form(
    server: &Server,
    software: &str,
    version: &str,
    action: &'static str,
    label: &str,
    class: &'static str,
) -> Markup {
    html! {
        form.inline method="post" action=(with_id(paths::SERVER_SOFTWARE, server.id))
            hx-post=(with_id(paths::SERVER_SOFTWARE, server.id)) hx-headers=(form_header("software")) {
            (csrf_field())
            input type="hidden" name="software" value=(software);
            input type="hidden" name="version" value=(version);
            input type="hidden" name="action" value=(action);
            button.btn.btn-xs.(class) type="submit" { (label) }
        }
    }
}

/// Installed software with its status, and a form to install more.
fn software_card(server: &Server, software: &[crate::db::software::Installation]) -> Markup {
    use crate::domain::{PhpVersion, Software};
    html! {
        section #software.card."bg-base-100".shadow-sm {
            div.card-body {
                h2.card-title { "Software" }
                // Refusals of the forms below (an install or upgrade that cannot run now).
                (form_errors("software"))
                @if software.is_empty() {
                    p."text-base-content/70" { "Nothing installed through the panel yet." }
                } @else {
                    table.table.table-sm {
                        tbody {
                            @for s in software {
                                tr data-software=(s.software.as_str()) {
                                    td.font-semibold { (s.software.as_str()) " " (s.version) }
                                    td { (s.status.badge()) @if let Some(r) = &s.status_reason { div.text-xs.text-error { (r) } } }
                                    td.text-right.whitespace-nowrap {
                                        (software_form(server, s.software.as_str(), &s.version, "upgrade", "Upgrade", "btn-ghost"))
                                        @let id = format!("remove-{}-{}", s.software.as_str(), s.version.replace('.', "-"));
                                        @let name = format!("{} {}", s.software.as_str(), s.version);
                                        (confirm_action(
                                            &id,
                                            "Remove",
                                            "btn-ghost",
                                            &with_id(paths::SERVER_SOFTWARE, server.id),
                                            html! {
                                                input type="hidden" name="software" value=(s.software.as_str());
                                                input type="hidden" name="version" value=(s.version);
                                                input type="hidden" name="action" value="remove";
                                            },
                                            &format!("Remove {} from {}?", name.trim(), server.name),
                                            html! {
                                                p { "Its packages are removed from the server. The panel refuses if sites or databases still use it, and says which." }
                                            },
                                        ))
                                    }
                                }
                            }
                        }
                    }
                }
                form.flex.flex-wrap.items-end."gap-2" method="post" action=(with_id(paths::SERVER_SOFTWARE, server.id))
                    hx-post=(with_id(paths::SERVER_SOFTWARE, server.id)) hx-headers=(form_header("software")) {
                    (csrf_field())
                    input type="hidden" name="action" value="install";
                    fieldset.fieldset {
                        label.label for="install-software" { "Software" }
                        select #install-software.select.select-sm name="software" {
                            @for sw in Software::ALL.iter().filter(|s| **s != Software::Bun) {
                                option value=(sw.as_str()) { (sw.as_str()) }
                            }
                        }
                    }
                    fieldset.fieldset {
                        label.label for="install-version" { "PHP version" }
                        select #install-version.select.select-sm name="version" {
                            option value="" { "—" }
                            @for v in PhpVersion::ALL.iter().rev() { option value=(v.as_str()) { (v.as_str()) } }
                        }
                    }
                    button.btn.btn-primary.btn-sm type="submit" { "Install" }
                }
            }
        }
    }
}

/// What the server presents now, beside the pin; a changed key can be confirmed here.
pub fn host_key_check(
    id: crate::ids::ServerId,
    check: &crate::servers::host_key::HostKeyCheck,
) -> Markup {
    html! {
        @if check.matches() {
            div.text-success."mt-1" data-host-key-matches { "The server presents the pinned key." }
        } @else {
            div.alert.alert-warning."mt-1".flex.flex-col.items-start role="alert" data-host-key-changed {
                span {
                    "The server now presents " span.font-mono { (check.presented) }
                    @if let Some(p) = &check.pinned { ", not the pinned " span.font-mono { (p) } }
                    ". If you re-keyed its SSH server yourself, confirm the new key (or run the "
                    "setup command again); otherwise something else answers at its address."
                }
                form method="post" action=(with_id(paths::SERVER_HOST_KEY_CONFIRM, id)) {
                    (csrf_field())
                    input type="hidden" name="fingerprint" value=(check.presented);
                    button.btn.btn-warning.btn-sm type="submit" { "Trust " (check.presented) }
                }
            }
        }
    }
}

pub fn host_key_unreachable(reason: &str) -> Markup {
    html! { div.text-error."mt-1" { (reason) } }
}
