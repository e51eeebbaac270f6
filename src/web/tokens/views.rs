use maud::{Markup, html};

use crate::api_tokens::TokenForm;
use crate::db::tokens::ApiToken;
use crate::domain::Role;
use crate::error::FieldError;
use crate::paths::{self, with_id};
use crate::web::components::{
    badge, confirm_action, copy_button, error_summary, field_error, table, text_field, time,
};
use crate::web::layout::{Nav, Page, csrf_field};
use crate::web::session::CurrentUser;

pub fn index(
    user: &CurrentUser,
    tokens: &[ApiToken],
    form: &TokenForm,
    errors: &[FieldError],
    made: Option<&str>,
) -> Markup {
    let now = crate::db::now();
    Page::new("API tokens")
        .nav(Nav::Settings)
        .body(html! {
            p.text-sm."text-base-content/70" {
                "Tokens call the panel's REST API at " code { (paths::API) } " (its OpenAPI document: "
                a.link href=(paths::API_OPENAPI) { (paths::API_OPENAPI) } "). A token can do what its role allows, "
                "never more than yours, optionally on some servers only. "
                a.link href=(paths::SETTINGS) { "Back to settings" }
            }
            @if let Some(token) = made {
                div.alert.alert-success.flex-col.items-start role="status" data-new-token {
                    span.font-semibold { "Your new token. It is shown this once; only its hash is kept." }
                    div.flex.flex-wrap.items-center."gap-2".w-full {
                        code #new-token.font-mono.break-all { (token) }
                        (copy_button("#new-token", "Copy the token"))
                    }
                }
            }
            @if tokens.is_empty() {
                p { "You have no API tokens yet." }
            } @else {
                (table(&["Name", "Token", "Role", "Servers", "Last used", "Expires", ""], html! {
                    @for t in tokens {
                        tr data-token-row=(t.name) {
                            td.font-semibold { (t.name) }
                            td.font-mono.text-xs { "pnl_" (t.prefix) "_…" }
                            td { (t.role) }
                            td {
                                @if !t.limited { "every server" }
                                @else if let Some(names) = &t.server_names { (names) }
                                @else { "none (its servers were deleted)" }
                            }
                            td {
                                @match &t.last_used_at {
                                    Some(at) => { (time(at)) @if let Some(from) = &t.last_used_from { " from " span.font-mono { (from) } } }
                                    None => { "never" }
                                }
                            }
                            td {
                                @match (&t.revoked_at, &t.expires_at) {
                                    (Some(at), _) => { (badge("revoked", "badge-ghost")) " " (time(at)) }
                                    (None, Some(e)) if e.as_str() <= now.as_str() => { (badge("expired", "badge-warning")) }
                                    (None, Some(e)) => { (time(e)) }
                                    (None, None) => { "never" }
                                }
                            }
                            td.text-right {
                                @if t.revoked_at.is_none() {
                                    (confirm_action(
                                        &format!("revoke-{}", t.id),
                                        "Revoke",
                                        "btn-ghost",
                                        &with_id(paths::API_TOKEN_REVOKE, t.id),
                                        html! {},
                                        &format!("Revoke the token {}?", t.name),
                                        html! { p { "Anything using it stops working at once." } },
                                    ))
                                }
                            }
                        }
                    }
                }))
            }
            section.card."bg-base-100".shadow-sm {
                form #new-token-form.card-body method="post" action=(paths::API_TOKENS) {
                    (csrf_field())
                    h2.card-title { "New token" }
                    (error_summary(errors))
                    div.grid."gap-4"."md:grid-cols-2" {
                        (text_field("Name", "name", &form.name, errors, "What uses it, e.g. “CI deploys”.", true))
                        fieldset.fieldset {
                            label.label for="role" { "Role" }
                            select #role.select name="role" {
                                @for r in Role::ALL.iter().filter(|r| user.role.may_grant(**r)) {
                                    option value=(r.as_str()) selected[form.role == r.as_str()] { (r) " — " (r.describe()) }
                                }
                            }
                            (field_error(errors, "role"))
                        }
                        (text_field("Only these servers (optional)", "servers", &form.servers.join(", "), errors, "Names or ids, separated by commas; empty: every server.", false))
                        fieldset.fieldset {
                            label.label for="expires" { "Expires after" }
                            select #expires.select name="expires" {
                                @for (value, label) in [("30d", "30 days"), ("90d", "90 days"), ("365d", "a year"), ("never", "never")] {
                                    option value=(value) selected[form.expires == value] { (label) }
                                }
                            }
                            (field_error(errors, "expires"))
                        }
                    }
                    p.text-xs."text-base-content/70" { "Making a token asks for a passkey check from the last five minutes." }
                    div.card-actions.justify-end { button.btn.btn-primary type="submit" { "Make the token" } }
                }
            }
        })
        .render()
}
