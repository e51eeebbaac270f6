use maud::{Markup, html};

use crate::db::ssh_keys::SshKeySummary;
use crate::domain::KeyType;
use crate::paths::{self, with_id};
use crate::web::components::{badge, field_error, table, time};
use crate::web::layout::{Nav, Page, csrf_field};

/// What the page shows around its forms after a submission.
#[derive(Debug, Default)]
pub struct PageState {
    /// Which form the errors belong to, and its values to show again.
    pub generate: Option<(
        crate::ssh_keys::forms::GenerateForm,
        Vec<crate::error::FieldError>,
    )>,
    pub import: Option<(ImportName, Vec<crate::error::FieldError>)>,
    pub flash: Option<(Flash, String)>,
}

/// Only the name is echoed back after a failed import: the pasted key text may be a private key,
/// and it is never sent back to the browser.
#[derive(Debug, Default)]
pub struct ImportName(pub String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flash {
    Success,
    Error,
}

pub fn index(keys: &[SshKeySummary], state: &PageState) -> Markup {
    Page::new("SSH keys")
        .nav(Nav::SshKeys)
        .body(html! {
            section #ssh-keys.flex.flex-col."gap-6" {
                @if let Some((kind, message)) = &state.flash {
                    div.alert.alert-success[*kind == Flash::Success].alert-error[*kind == Flash::Error] role="alert" {
                        span."min-w-0".break-all { (message) }
                    }
                }
                (list(keys))
                div.grid."gap-6"."lg:grid-cols-2" {
                    (generate_form(state))
                    (import_form(state))
                }
            }
        })
        .render()
}

fn list(keys: &[SshKeySummary]) -> Markup {
    if keys.is_empty() {
        return html! {
            div.alert role="status" {
                span {
                    "No SSH keys yet. The panel logs in to your servers with a key it keeps encrypted: "
                    "generate one below (or with " code { "panel ssh-key generate --name NAME" } " on the panel host), "
                    "or import one you already use."
                }
            }
        };
    }
    table(
        &[
            "Name",
            "Type",
            "Fingerprint",
            "Private key",
            "Used by",
            "Added",
            "",
        ],
        html! {
            @for k in keys {
                tr {
                    td.font-semibold { (k.name) }
                    td { (k.key_type) }
                    td.font-mono.text-xs.break-all."min-w-40" { (k.fingerprint) }
                    td { @if k.has_private_key { (badge("stored encrypted", "badge-success")) } @else { (badge("public only", "badge-ghost")) } }
                    td { @if let Some(u) = &k.used_by { (u) } @else { "—" } }
                    td.whitespace-nowrap { (time(&k.created_at)) }
                    td.whitespace-nowrap {
                        div.flex."gap-1" {
                            a.btn.btn-ghost.btn-xs href=(with_id(paths::SSH_KEY_PUBLIC, k.id)) download { "Download .pub" }
                            button.btn.btn-ghost.btn-xs type="button"
                                data-copy-from=(with_id(paths::SSH_KEY_PUBLIC, k.id)) { "Copy" }
                            @if k.used_by.is_none() {
                                form method="post" action=(with_id(paths::SSH_KEY_DELETE, k.id))
                                    hx-post=(with_id(paths::SSH_KEY_DELETE, k.id)) hx-target="#ssh-keys"
                                    hx-select="#ssh-keys" hx-swap="outerHTML"
                                    hx-confirm=(format!("Delete the key “{}”? Servers you added it to by hand keep it in authorized_keys.", k.name)) {
                                    (csrf_field())
                                    button.btn.btn-ghost.btn-xs.text-error type="submit" { "Delete" }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn generate_form(state: &PageState) -> Markup {
    let (name, key_type, errors) = match &state.generate {
        Some((form, errors)) => (
            form.name.as_str(),
            form.key_type.as_str(),
            errors.as_slice(),
        ),
        None => ("", "ed25519", &[][..]),
    };
    html! {
        form.card."bg-base-100".shadow-sm method="post" action=(paths::SSH_KEYS)
            hx-post=(paths::SSH_KEYS) hx-target="#ssh-keys" hx-select="#ssh-keys" hx-swap="outerHTML"
            hx-disabled-elt="find button" {
            div.card-body {
                (csrf_field())
                h2.card-title { "Generate a key" }
                p.text-sm."text-base-content/70" { "The private key is created here and stored encrypted; you only ever see the public key." }
                fieldset.fieldset {
                    label.label for="gen-name" { "Name" }
                    input #gen-name.input.w-full.input-error[has(errors, "name")] name="name" value=(name)
                        maxlength="100" required placeholder="e.g. panel-production";
                    (field_error(errors, "name"))
                    label.label for="gen-type" { "Type" }
                    select #gen-type.select.w-full name="key_type" {
                        @for t in KeyType::ALL {
                            option value=(t.as_str()) selected[t.as_str() == key_type] {
                                @match t { KeyType::Ed25519 => "ED25519 (recommended)", KeyType::Rsa => "RSA 4096" }
                            }
                        }
                    }
                    (field_error(errors, "key_type"))
                }
                div.card-actions.justify-end { button.btn.btn-primary type="submit" { "Generate" } }
            }
        }
    }
}

fn import_form(state: &PageState) -> Markup {
    let (name, errors) = match &state.import {
        Some((name, errors)) => (name.0.as_str(), errors.as_slice()),
        None => ("", &[][..]),
    };
    html! {
        form.card."bg-base-100".shadow-sm method="post" action=(paths::SSH_KEYS_IMPORT)
            hx-post=(paths::SSH_KEYS_IMPORT) hx-target="#ssh-keys" hx-select="#ssh-keys" hx-swap="outerHTML"
            hx-disabled-elt="find button" {
            div.card-body {
                (csrf_field())
                h2.card-title { "Import a key" }
                p.text-sm."text-base-content/70" {
                    "Paste an OpenSSH private key without a passphrase, or just a public key line. "
                    "Private keys are encrypted before they are stored."
                }
                fieldset.fieldset {
                    label.label for="imp-name" { "Name" }
                    input #imp-name.input.w-full.input-error[has(errors, "name")] name="name" value=(name)
                        maxlength="100" required;
                    (field_error(errors, "name"))
                    label.label for="imp-key" { "Key" }
                    textarea #imp-key.textarea.w-full.font-mono.text-xs.textarea-error[has(errors, "key")] name="key" rows="6"
                        required spellcheck="false" autocomplete="off"
                        placeholder="-----BEGIN OPENSSH PRIVATE KEY-----  or  ssh-ed25519 AAAA…" {}
                    (field_error(errors, "key"))
                }
                div.card-actions.justify-end { button.btn.btn-primary type="submit" { "Import" } }
            }
        }
    }
}

fn has(errors: &[crate::error::FieldError], field: &str) -> bool {
    errors.iter().any(|e| e.field == field)
}

#[cfg(test)]
mod tests {
    use super::ImportName;
    use super::*;
    use crate::domain::KeyType;
    use crate::error::FieldError;
    use crate::web::testing::assert_self_contained;

    fn key(used_by: Option<&str>) -> SshKeySummary {
        SshKeySummary {
            id: crate::ids::SshKeyId::generate(),
            name: "<script>alert(1)</script>".into(),
            key_type: KeyType::Ed25519,
            fingerprint: "SHA256:abc".into(),
            has_private_key: true,
            created_at: "2026-11-22T10:00:00.000Z".into(),
            used_by: used_by.map(Into::into),
        }
    }

    #[test]
    fn names_are_escaped_and_keys_in_use_have_no_delete_button() {
        let html = index(&[key(None), key(Some("web1"))], &PageState::default()).into_string();
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&lt;script&gt;"));
        assert_eq!(
            html.matches("/delete\"").count(),
            2,
            "one form with action + hx-post"
        );
        assert!(html.contains(">web1<"));
        assert_self_contained(&html);
    }

    #[test]
    fn a_failed_import_shows_field_errors_but_never_echoes_the_key_text() {
        let state = PageState {
            import: Some((
                ImportName("mine".into()),
                vec![FieldError::new("key", "this private key has a passphrase")],
            )),
            ..Default::default()
        };
        let html = index(&[], &state).into_string();
        assert!(html.contains("data-field-error=\"key\""));
        assert!(html.contains("value=\"mine\""));
        assert!(html.contains("No SSH keys yet"));
    }
}
