//! The document shell: one [`Page`] builder owns `<head>`, the sidebar, the theme switch and the
//! toast area, so every page looks and behaves the same.

use maud::{DOCTYPE, Markup, html};

use super::{assets, session};
use crate::paths;

/// Entries of the sidebar, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    Dashboard,
    Servers,
    Sites,
    Databases,
    Deployments,
    SshKeys,
    Selinux,
    Jobs,
    Audit,
    Settings,
}

impl Nav {
    pub const ALL: [Nav; 10] = [
        Nav::Dashboard,
        Nav::Servers,
        Nav::Sites,
        Nav::Databases,
        Nav::Deployments,
        Nav::SshKeys,
        Nav::Selinux,
        Nav::Jobs,
        Nav::Audit,
        Nav::Settings,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Nav::Dashboard => "Dashboard",
            Nav::Servers => "Servers",
            Nav::Sites => "Sites",
            Nav::Databases => "Databases",
            Nav::Deployments => "Deployments",
            Nav::SshKeys => "SSH keys",
            Nav::Selinux => "SELinux",
            Nav::Jobs => "Jobs",
            Nav::Audit => "Audit log",
            Nav::Settings => "Settings",
        }
    }

    /// Whether a user of `role` sees the item (the audit log is an admin's and an owner's).
    pub fn shown_to(self, role: Option<crate::domain::Role>) -> bool {
        match self {
            Nav::Audit => role.is_some_and(|r| {
                crate::domain::roles::authorize(
                    &crate::domain::Principal::new(r),
                    crate::domain::Perm::Manage,
                    None,
                )
                .is_ok()
            }),
            _ => true,
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Nav::Dashboard => paths::DASHBOARD,
            Nav::Servers => paths::SERVERS,
            Nav::Sites => paths::SITES,
            Nav::Databases => paths::DATABASES,
            Nav::Deployments => paths::DEPLOYMENTS,
            Nav::SshKeys => paths::SSH_KEYS,
            Nav::Selinux => paths::SELINUX,
            Nav::Jobs => paths::JOBS,
            Nav::Audit => paths::AUDIT,
            Nav::Settings => paths::SETTINGS,
        }
    }

    /// A small outline icon (inline SVG path data, 24×24 viewBox).
    fn icon(self) -> &'static str {
        match self {
            Nav::Dashboard => "M3 12l9-8 9 8M5 10v10h5v-6h4v6h5V10",
            Nav::Servers => "M4 5h16v5H4zM4 14h16v5H4zM7 7.5h.01M7 16.5h.01",
            Nav::Sites => {
                "M12 3a9 9 0 100 18 9 9 0 000-18zM3 12h18M12 3c3 3.5 3 14.5 0 18M12 3c-3 3.5-3 14.5 0 18"
            }
            Nav::Databases => {
                "M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3zM4 6v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3"
            }
            Nav::Deployments => "M12 3v12M7 10l5 5 5-5M4 19h16",
            Nav::SshKeys => "M15 7a4 4 0 11-3.9 5H4v3h3v3h3v-3h1.1A4 4 0 0115 7z",
            Nav::Selinux => "M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z",
            Nav::Jobs => "M4 6h16M4 12h10M4 18h13",
            Nav::Audit => "M9 5h10M9 12h10M9 19h10M4 5h.01M4 12h.01M4 19h.01",
            Nav::Settings => {
                "M12 9a3 3 0 100 6 3 3 0 000-6zM4 12h2M18 12h2M12 4v2M12 18v2M6.3 6.3l1.4 1.4M16.3 16.3l1.4 1.4M6.3 17.7l1.4-1.4M16.3 7.7l1.4-1.4"
            }
        }
    }
}

/// htmx settings: no inline styles (our CSP forbids them) and error responses are swapped too,
/// because they carry the toast or the form with its field errors.
const HTMX_CONFIG: &str = r#"{"includeIndicatorStyles":false,"allowEval":false,"selfRequestsOnly":true,"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"[45]..","swap":true,"error":true}]}"#;

/// A whole HTML page.
pub struct Page {
    title: String,
    nav: Option<Nav>,
    body: Markup,
    scripts: Vec<&'static str>,
}

impl Page {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            nav: None,
            body: html! {},
            scripts: Vec::new(),
        }
    }

    /// Load one more embedded script on this page (e.g. `passkey.js`).
    pub fn script(mut self, name: &'static str) -> Self {
        self.scripts.push(name);
        self
    }

    /// Highlight this sidebar entry.
    pub fn nav(mut self, nav: Nav) -> Self {
        self.nav = Some(nav);
        self
    }

    pub fn body(mut self, body: Markup) -> Self {
        self.body = body;
        self
    }

    fn head(&self) -> Markup {
        let session = session::current();
        html! {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="htmx-config" content=(HTMX_CONFIG);
                @if let Some(s) = &session {
                    meta name="csrf-token" content=(s.csrf);
                }
                title { (self.title) " · Panel" }
                link rel="stylesheet" href=(assets::url("app.css"));
                link rel="icon" href=(assets::url("favicon.svg")) type="image/svg+xml";
                script src=(assets::url("panel.js")) {}
                script src=(assets::url("vendor/htmx.min.js")) defer {}
                script src=(assets::url("vendor/sse.min.js")) defer {}
                @for name in &self.scripts {
                    script src=(assets::url(name)) defer {}
                }
            }
        }
    }

    /// The application shell: sidebar, top bar, content, toasts.
    pub fn render(self) -> Markup {
        let user = session::current().and_then(|s| s.user.clone());
        let theme = user.as_ref().and_then(|u| u.theme.clone());
        html! {
            (DOCTYPE)
            html lang="en" data-theme=(theme.as_deref().unwrap_or("light")) data-theme-pref=[theme.as_deref()] {
                (self.head())
                body.min-h-screen."bg-base-200" {
                    div.drawer."lg:drawer-open" {
                        input #nav-drawer.drawer-toggle type="checkbox" aria-label="Toggle navigation";
                        div."drawer-content".flex.flex-col {
                            header.navbar."bg-base-100".shadow-sm."lg:hidden" {
                                label.btn.btn-ghost.btn-square for="nav-drawer" aria-label="Open navigation" {
                                    (icon("M4 6h16M4 12h16M4 18h16"))
                                }
                                span.text-lg.font-semibold { "Panel" }
                            }
                            main #main."p-4"."lg:p-8".flex.flex-col."gap-6"."max-w-7xl".w-full {
                                (insecure_banner())
                                div.flex.items-center.justify-between."gap-4" {
                                    h1."text-2xl".font-bold { (self.title) }
                                }
                                (self.body)
                            }
                        }
                        // A landmark holds the overlay too. The overlay is a pointer target only:
                        // the keyboard reaches the drawer's checkbox (labelled) instead.
                        nav."drawer-side".z-40 aria-label="Main" {
                            label.drawer-overlay for="nav-drawer" aria-hidden="true" {}
                            aside.min-h-full."w-64"."bg-base-100".flex.flex-col {
                                a.flex.items-center."gap-2"."px-6"."py-5".text-xl.font-bold href=(paths::DASHBOARD) {
                                    img."w-7"."h-7" src=(assets::url("favicon.svg")) alt="";
                                    "Panel"
                                }
                                ul.menu.w-full."gap-1"."px-3" {
                                    @for item in Nav::ALL.into_iter().filter(|i| i.shown_to(user.as_ref().map(|u| u.role))) {
                                        li {
                                            a.menu-active[self.nav == Some(item)] href=(item.path())
                                                aria-current=[(self.nav == Some(item)).then_some("page")] {
                                                (icon(item.icon()))
                                                (item.label())
                                            }
                                        }
                                    }
                                }
                                div.mt-auto."p-4".flex.flex-col."gap-3" {
                                    @if let Some(u) = &user {
                                        div.flex.items-center.justify-between."gap-2" {
                                            div."min-w-0" {
                                                div.font-semibold.truncate data-user-name { (u.name) }
                                                div.text-xs."text-base-content/70".truncate { (u.email) }
                                                div.text-xs."text-base-content/70" data-user-role { (u.role) }
                                            }
                                            form method="post" action=(paths::LOGOUT) {
                                                (csrf_field())
                                                button.btn.btn-ghost.btn-sm type="submit" { "Log out" }
                                            }
                                        }
                                    }
                                    (theme_switch())
                                }
                            }
                        }
                    }
                    @if user.is_some() { (live_toast_area()) } @else { (toast_area()) }
                }
            }
        }
    }

    /// A centred card without navigation (login, enrolment, errors for anonymous visitors).
    pub fn render_bare(self) -> Markup {
        html! {
            (DOCTYPE)
            html lang="en" data-theme="light" {
                (self.head())
                body.min-h-screen."bg-base-200".flex.items-center.justify-center."p-4" {
                    main #main.card."bg-base-100".shadow-xl.w-full."max-w-md" {
                        div."card-body".gap-4 {
                            (insecure_banner())
                            div.flex.items-center."gap-2" {
                                img."w-8"."h-8" src=(assets::url("favicon.svg")) alt="";
                                h1."card-title".text-2xl { (self.title) }
                            }
                            (self.body)
                        }
                    }
                    (toast_area())
                }
            }
        }
    }
}

/// Shown on every page while the panel is served over plain http off loopback.
fn insecure_banner() -> Markup {
    html! {
        @if session::insecure_http() {
            div.alert.alert-warning role="alert" data-insecure-http {
                span {
                    "This panel is served over plain HTTP (--insecure-http): session cookies and "
                    "setup commands cross the network unencrypted. Serve it over HTTPS."
                }
            }
        }
    }
}

/// The hidden CSRF field every state-changing form carries.
pub fn csrf_field() -> Markup {
    html! {
        @if let Some(s) = session::current() {
            input type="hidden" name="csrf_token" value=(s.csrf);
        }
    }
}

fn toast_area() -> Markup {
    html! { div #toasts.toast.toast-end.toast-bottom."z-50" role="status" aria-live="polite" {} }
}

/// The toast area of a signed-in page, subscribed to the live SELinux stream: a new denial
/// appears as a toast on whatever page is open.
fn live_toast_area() -> Markup {
    html! {
        div #toasts.toast.toast-end.toast-bottom."z-50" role="status" aria-live="polite"
            hx-ext="sse" sse-connect=(paths::SELINUX_EVENTS) sse-swap="denial" hx-swap="afterbegin" {}
    }
}

/// Light/dark switch. `panel.js` applies the stored choice before first paint and saves changes.
fn theme_switch() -> Markup {
    html! {
        label.flex.items-center."gap-2".cursor-pointer.text-sm {
            span { "Light" }
            input #theme-toggle.toggle.toggle-sm type="checkbox" aria-label="Dark theme";
            span { "Dark" }
        }
    }
}

/// An outline icon from SVG path data. The path is a compile-time constant, never user data.
pub fn icon(path: &'static str) -> Markup {
    html! {
        svg."w-5"."h-5" xmlns="http://www.w3.org/2000/svg" fill="none" viewBox="0 0 24 24"
            stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"
            aria-hidden="true" {
            path d=(path) {}
        }
    }
}
