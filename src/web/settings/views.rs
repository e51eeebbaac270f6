use maud::{Markup, html};

use crate::config::Config;
use crate::db::credentials::CredentialListing;
use crate::db::sessions::SessionListing;
use crate::domain::{DatabaseType, PhpVersion};
use crate::ids::SessionId;
use crate::paths::{self, with_id};
use crate::web::components::time;
use crate::web::layout::{Nav, Page, csrf_field};
use crate::web::session::CurrentUser;

pub struct Notice {
    ok: bool,
    text: String,
}

impl Notice {
    pub fn ok(text: &str) -> Self {
        Self {
            ok: true,
            text: text.into(),
        }
    }
    pub fn error(text: &str) -> Self {
        Self {
            ok: false,
            text: text.into(),
        }
    }
}

pub struct SettingsView<'a> {
    pub config: &'a Config,
    pub user: &'a CurrentUser,
    pub current_session: SessionId,
    pub passkeys: &'a [CredentialListing],
    pub sessions: &'a [SessionListing],
    pub preferences: &'a [(String, String)],
    pub notice: Option<Notice>,
}

pub fn index(v: &SettingsView<'_>) -> Markup {
    let pref = |key: &str| {
        v.preferences
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, val)| val.as_str())
    };
    Page::new("Settings")
        .nav(Nav::Settings)
        .script("passkey.js")
        .body(html! {
            section #settings.flex.flex-col."gap-6" hx-target="#settings" hx-select="#settings" hx-swap="outerHTML" {
                @if let Some(n) = &v.notice {
                    div.alert.alert-success[n.ok].alert-error[!n.ok] role="alert" { span { (n.text) } }
                }
                nav.flex.flex-wrap."gap-2" aria-label="More settings" {
                    a.btn.btn-outline.btn-sm href=(paths::API_TOKENS) { "API tokens" }
                    a.btn.btn-outline.btn-sm href=(paths::CONFIRM) { "Confirm it is you" }
                    @if v.user.role == crate::domain::Role::Owner {
                        a.btn.btn-outline.btn-sm href=(paths::USERS) { "Users and roles" }
                    }
                    span.text-sm."text-base-content/70".self-center { "Your role: " strong data-role { (v.user.role) } " — " (v.user.role.describe()) }
                }
                (passkeys(v))
                (sessions(v))
                section.card."bg-base-100".shadow-sm {
                    form.card-body method="post" action=(paths::PREFERENCES) hx-post=(paths::PREFERENCES) {
                        (csrf_field())
                        h2.card-title { "Preferences" }
                        div.grid."gap-4"."md:grid-cols-3" {
                            fieldset.fieldset {
                                label.label for="pref-theme" { "Theme" }
                                select #pref-theme.select name="theme" {
                                    @for t in ["light", "dark"] {
                                        option value=(t) selected[pref("theme") == Some(t)] { (t) }
                                    }
                                }
                            }
                            fieldset.fieldset {
                                label.label for="pref-php" { "Default PHP version for new sites" }
                                select #pref-php.select name="default_php_version" {
                                    @for p in PhpVersion::ALL.iter().rev() {
                                        option value=(p.as_str()) selected[pref("default_php_version") == Some(p.as_str())] { "PHP " (p.as_str()) }
                                    }
                                }
                            }
                            fieldset.fieldset {
                                label.label for="pref-db" { "Default database for new sites" }
                                select #pref-db.select name="default_database_type" {
                                    @for t in DatabaseType::ALL {
                                        option value=(t.as_str()) selected[pref("default_database_type") == Some(t.as_str())] { (t.label()) }
                                    }
                                    option value="none" selected[pref("default_database_type") == Some("none")] { "None" }
                                }
                            }
                        }
                        div.card-actions.justify-end { button.btn.btn-primary type="submit" { "Save preferences" } }
                    }
                }
                section.card."bg-base-100".shadow-sm {
                    div.card-body {
                        h2.card-title { "This panel" }
                        p.text-sm."text-base-content/70" {
                            "Set with flags, PANEL_* environment variables or a TOML file; see the README."
                        }
                        dl.grid."grid-cols-[max-content_1fr]"."gap-x-6"."gap-y-2" {
                            dt.font-semibold { "Public URL" } dd.font-mono { (v.config.url) }
                            dt.font-semibold { "Listening on" } dd.font-mono { (v.config.listen) }
                            dt.font-semibold { "Data directory" } dd.font-mono { (v.config.data_dir.display()) }
                            dt.font-semibold { "Version" } dd.font-mono { (env!("CARGO_PKG_VERSION")) }
                        }
                    }
                }
            }
        })
        .render()
}

fn passkeys(v: &SettingsView<'_>) -> Markup {
    let only_one = v.passkeys.len() <= 1;
    html! {
        section.card."bg-base-100".shadow-sm #passkeys {
            div.card-body {
                h2.card-title { "Your passkeys" }
                p.text-sm."text-base-content/70" { "Passkeys are the only way to log in as " (v.user.email) ". Keep at least two, on different devices." }
                div."overflow-x-auto" {
                    table.table {
                        thead { tr { th { "Name" } th { "Added" } th { "Last used" } th { span.sr-only { "Actions" } } } }
                        tbody {
                            @for p in v.passkeys {
                                tr data-passkey-row {
                                    td.font-semibold { (p.name) }
                                    td { (time(&p.created_at)) }
                                    td { @if let Some(t) = &p.last_used_at { (time(t)) } @else { "never" } }
                                    td.text-right {
                                        @if only_one {
                                            span.text-xs."text-base-content/70" { "your only passkey" }
                                        } @else {
                                            form method="post" action=(with_id(paths::PASSKEY_DELETE, p.id))
                                                hx-post=(with_id(paths::PASSKEY_DELETE, p.id))
                                                hx-confirm=(format!("Delete the passkey “{}”?", p.name)) {
                                                (csrf_field())
                                                button.btn.btn-ghost.btn-xs.text-error type="submit" { "Delete" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                form #add-passkey-form.flex.flex-wrap.items-end."gap-2" {
                    fieldset.fieldset {
                        label.label for="new-passkey-name" { "New passkey name" }
                        input #new-passkey-name.input name="passkey_name" value="Another passkey" maxlength="100";
                    }
                    button #add-passkey.btn.btn-outline type="button" data-passkey="register" data-form="add-passkey-form"
                        data-options=(paths::PASSKEY_OPTIONS) data-finish=(paths::PASSKEY_FINISH) { "Add a passkey" }
                }
                div #passkey-error.alert.alert-error role="alert" hidden {}
            }
        }
    }
}

fn sessions(v: &SettingsView<'_>) -> Markup {
    html! {
        section.card."bg-base-100".shadow-sm #sessions {
            div.card-body {
                h2.card-title { "Active sessions" }
                div."overflow-x-auto" {
                    table.table {
                        thead { tr { th { "Browser" } th { "Address" } th { "Logged in" } th { "Last active" } th { span.sr-only { "Actions" } } } }
                        tbody {
                            @for s in v.sessions {
                                tr data-session-row {
                                    td.text-xs."max-w-xs".truncate title=[s.user_agent.as_deref()] {
                                        (s.user_agent.as_deref().unwrap_or("unknown"))
                                        @if s.id == v.current_session { " " span.badge.badge-primary.badge-sm { "this session" } }
                                    }
                                    td.font-mono { (s.ip.as_deref().unwrap_or("—")) }
                                    td { (time(&s.created_at)) }
                                    td { (time(&s.last_seen_at)) }
                                    td.text-right {
                                        form method="post" action=(with_id(paths::SESSION_REVOKE, s.id))
                                            hx-post=(with_id(paths::SESSION_REVOKE, s.id)) {
                                            (csrf_field())
                                            button.btn.btn-ghost.btn-xs.text-error type="submit" data-revoke=(s.id) {
                                                @if s.id == v.current_session { "Log out" } @else { "Revoke" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The passkey check before a sensitive step.
pub fn confirm(next: &str, fresh: bool) -> Markup {
    let finish = format!(
        "{}?{}",
        paths::CONFIRM_FINISH,
        serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
    );
    Page::new("Confirm it is you")
        .nav(Nav::Settings)
        .script("passkey.js")
        .body(html! {
            section.card."bg-base-100".shadow-sm."max-w-xl" {
                div.card-body {
                    p {
                        "Revealing secrets, adding passkeys, making API tokens and changing roles ask for a "
                        "passkey check from the last five minutes."
                    }
                    @if fresh { p.text-success { "You confirmed a moment ago; you can go back." } }
                    div.card-actions."gap-2" {
                        button #confirm-passkey.btn.btn-primary type="button" data-passkey="login"
                            data-options=(paths::CONFIRM_OPTIONS) data-finish=(finish) { "Confirm with your passkey" }
                        a.btn.btn-ghost href=(next) { "Back" }
                    }
                    div #passkey-error.alert.alert-error role="alert" hidden {}
                }
            }
        })
        .render()
}
