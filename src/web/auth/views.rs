use maud::{Markup, html};

use crate::paths::{self, with_id};
use crate::web::layout::Page;

fn address_warning(wrong: Option<&str>, url: &str) -> Markup {
    html! {
        @if let Some(host) = wrong {
            div.alert.alert-warning role="alert" data-wrong-address {
                span {
                    "You opened the panel at " code { (host) } ", but it is configured for "
                    a.link href=(url) { (url) } ". Passkeys only work at the configured address."
                }
            }
        }
    }
}

fn error_box() -> Markup {
    html! { div #passkey-error.alert.alert-error role="alert" hidden {} }
}

/// Why the login page is shown, when it is not the first visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginNotice {
    LoggedOut,
    Expired,
}

pub fn login(
    csrf: &str,
    wrong: Option<&str>,
    url: &str,
    unavailable: Option<&str>,
    notice: Option<LoginNotice>,
    next: &str,
) -> Markup {
    Page::new("Log in")
        .script("passkey.js")
        .body(html! {
            (address_warning(wrong, url))
            @match notice {
                Some(LoginNotice::LoggedOut) => div.alert.alert-success role="status" data-logged-out { span { "You are logged out." } },
                Some(LoginNotice::Expired) => div.alert.alert-info role="status" data-session-expired { span { "Your session ended. Log in again to go on where you were." } },
                None => {},
            }
            @if let Some(hint) = unavailable {
                div.alert.alert-error role="alert" data-passkeys-unavailable { span { (hint) } }
            }
            p."text-base-content/70" {
                "Panel has no passwords. Log in with the passkey you created when you enrolled: "
                "your browser will ask you to confirm with your fingerprint, face, PIN or security key."
            }
            (error_box())
            button #login-button.btn.btn-primary.w-full type="button" data-passkey="login"
                data-options=(paths::LOGIN_OPTIONS) data-finish=(paths::LOGIN_FINISH) data-csrf=(csrf)
                data-next=(next) {
                "Log in with a passkey"
            }
            p.text-sm."text-base-content/70" {
                "Lost your passkey? On the panel host, run "
                code { "panel user recover EMAIL" } " for a one-time link to add a new one."
            }
        })
        .render_bare()
}

pub fn enrol(
    token: &str,
    csrf: &str,
    recover: bool,
    fixed: Option<(&str, &str)>,
    wrong: Option<&str>,
    url: &str,
) -> Markup {
    let title = if recover {
        "Add a new passkey"
    } else {
        "Create your passkey"
    };
    Page::new(title)
        .script("passkey.js")
        .body(html! {
            (address_warning(wrong, url))
            p."text-base-content/70" {
                @if recover {
                    "This one-time link adds a new passkey to your account. Your browser will ask you to "
                    "create it and to confirm with your fingerprint, face, PIN or security key."
                } @else {
                    "This one-time link creates your account. Panel has no passwords: your browser will "
                    "create a passkey and ask you to confirm with your fingerprint, face, PIN or security key."
                }
            }
            form #enrol-form.flex.flex-col."gap-2" {
                @match fixed {
                    Some((email, name)) => {
                        div { span.font-semibold { (name) } " · " span.font-mono { (email) } }
                    }
                    None => {
                        label.label for="enrol-email" { "E-mail" }
                        input #enrol-email.input.w-full type="email" name="email" required autocomplete="email" maxlength="254";
                        label.label for="enrol-name" { "Your name" }
                        input #enrol-name.input.w-full name="name" required autocomplete="name" maxlength="100";
                    }
                }
                label.label for="enrol-passkey-name" { "Name this passkey" }
                input #enrol-passkey-name.input.w-full name="passkey_name" value="My passkey" maxlength="100";
            }
            (error_box())
            button #enrol-button.btn.btn-primary.w-full type="button" data-passkey="register"
                data-form="enrol-form" data-csrf=(csrf)
                data-options=(with_id(paths::ENROL_OPTIONS, token))
                data-finish=(with_id(paths::ENROL_FINISH, token)) {
                @if recover { "Add passkey" } @else { "Create passkey and log in" }
            }
        })
        .render_bare()
}

pub fn link_unusable() -> Markup {
    Page::new("Link not valid")
        .body(html! {
            p {
                "This enrolment link is not valid: it is unknown, already used or expired. "
                "Ask the panel's operator for a new one."
            }
            p.text-sm."text-base-content/70" {
                "On the panel host: " code { "panel user invite EMAIL" } " or " code { "panel user recover EMAIL" } "."
            }
        })
        .render_bare()
}
