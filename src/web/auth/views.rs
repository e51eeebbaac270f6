use maud::{Markup, html};

use crate::web::layout::Page;

pub fn login_not_set_up() -> Markup {
    Page::new("Log in")
        .body(html! {
            div.alert.alert-info role="status" {
                span { "Login is not set up yet." }
            }
            p."text-base-content/70" {
                "Panel uses passkeys only: there are no passwords. Passkey enrolment is not "
                "available in this build yet, so no one can log in."
            }
        })
        .render_bare()
}
