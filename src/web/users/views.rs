use maud::{Markup, html};

use crate::db::users::UserListing;
use crate::domain::{Role, UserStatus};
use crate::error::FieldError;
use crate::paths::{self, with_id};
use crate::users::InviteForm;
use crate::web::components::{
    confirm_action, copy_button, error_summary, field_error, table, text_field, time,
};
use crate::web::layout::{Nav, Page, csrf_field};

pub fn index(
    users: &[UserListing],
    form: &InviteForm,
    errors: &[FieldError],
    link: Option<(&str, &str)>,
) -> Markup {
    Page::new("Users")
        .nav(Nav::Settings)
        .body(html! {
            p.text-sm."text-base-content/70" {
                "Everyone logs in with passkeys. Roles: "
                @for (i, r) in Role::ALL.iter().enumerate() {
                    @if i > 0 { "; " }
                    strong { (r) } " — " (r.describe())
                }
                ". " a.link href=(paths::SETTINGS) { "Back to settings" }
            }
            @if let Some((email, link)) = link {
                div.alert.alert-success.flex-col.items-start role="status" data-invite-link {
                    span.font-semibold { "Send " (email) " this one-time link (valid 30 minutes; shown once):" }
                    div.flex.flex-wrap.items-center."gap-2".w-full {
                        code #invite-link.font-mono.break-all { (link) }
                        (copy_button("#invite-link", "Copy the link"))
                    }
                }
            }
            (table(&["User", "Role", "Status", "Passkeys", "Last login", ""], html! {
                @for u in users {
                    tr data-user-row=(u.email) {
                        td { div.font-semibold { (u.name) } div.text-xs."text-base-content/70" { (u.email) } }
                        td {
                            form.flex."gap-2" method="post" action=(with_id(paths::USER_ROLE, u.id)) {
                                (csrf_field())
                                label.sr-only for={ "role-" (u.id) } { "Role of " (u.email) }
                                select.select.select-sm id={ "role-" (u.id) } name="role" {
                                    @for r in Role::ALL {
                                        option value=(r.as_str()) selected[*r == u.role] { (r) }
                                    }
                                }
                                button.btn.btn-sm.btn-outline type="submit" { "Change" }
                            }
                        }
                        td { (u.status) }
                        td { (u.passkeys) }
                        td { @if let Some(t) = &u.last_login_at { (time(t)) } @else { "never" } }
                        td.text-right {
                            @if u.status == UserStatus::Active {
                                (confirm_action(
                                    &format!("disable-{}", u.id),
                                    "Disable",
                                    "btn-ghost",
                                    &with_id(paths::USER_STATUS, u.id),
                                    html! { input type="hidden" name="status" value="disabled"; },
                                    &format!("Disable {}?", u.email),
                                    html! { p { "Their sessions end now and they cannot log in; their API tokens stop working. Enable them again at any time." } },
                                ))
                            } @else {
                                form method="post" action=(with_id(paths::USER_STATUS, u.id)) {
                                    (csrf_field())
                                    input type="hidden" name="status" value="active";
                                    button.btn.btn-sm.btn-outline type="submit" { "Enable" }
                                }
                            }
                        }
                    }
                }
            }))
            section.card."bg-base-100".shadow-sm {
                form #invite-form.card-body method="post" action=(paths::USERS) {
                    (csrf_field())
                    h2.card-title { "Invite someone" }
                    (error_summary(errors))
                    div.grid."gap-4"."md:grid-cols-3" {
                        (text_field("E-mail", "email", &form.email, errors, "", true))
                        (text_field("Name (optional)", "name", &form.name, errors, "", false))
                        fieldset.fieldset {
                            label.label for="invite-role" { "Role" }
                            select #invite-role.select name="role" {
                                @for r in Role::ALL {
                                    option value=(r.as_str()) selected[form.role == r.as_str()] { (r) }
                                }
                            }
                            (field_error(errors, "role"))
                        }
                    }
                    div.card-actions.justify-end { button.btn.btn-primary type="submit" { "Make an invitation link" } }
                }
            }
        })
        .render()
}
