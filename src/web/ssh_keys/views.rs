use maud::{Markup, html};

use crate::db::ssh_keys::SshKeySummary;
use crate::web::components::{badge, empty_state, table, time};
use crate::web::layout::{Nav, Page};

pub fn index(keys: &[SshKeySummary]) -> Markup {
    let body = if keys.is_empty() {
        empty_state(
            "No SSH keys yet",
            "The panel logs in to your servers with an SSH key it keeps encrypted. Generate one on \
             the panel host with `panel ssh-key generate --name NAME`.",
            None,
        )
    } else {
        table(
            &[
                "Name",
                "Type",
                "Fingerprint",
                "Private key",
                "Used by",
                "Added",
            ],
            html! {
                @for k in keys {
                    tr {
                        td.font-semibold { (k.name) }
                        td { (k.key_type) }
                        td.font-mono.text-xs { (k.fingerprint) }
                        td { @if k.has_private_key { (badge("stored encrypted", "badge-success")) } @else { (badge("public only", "badge-ghost")) } }
                        td { @if let Some(u) = &k.used_by { (u) } @else { "—" } }
                        td { (time(&k.created_at)) }
                    }
                }
            },
        )
    };
    Page::new("SSH keys").nav(Nav::SshKeys).body(body).render()
}
