use maud::{Markup, html};

use crate::config::Config;
use crate::web::layout::{Nav, Page};

pub fn index(config: &Config) -> Markup {
    Page::new("Settings")
        .nav(Nav::Settings)
        .body(html! {
            section.card."bg-base-100".shadow-sm {
                div.card-body {
                    h2.card-title { "This panel" }
                    p.text-sm."text-base-content/70" {
                        "Set with flags, PANEL_* environment variables or a TOML file; see the README."
                    }
                    dl.grid."grid-cols-[max-content_1fr]"."gap-x-6"."gap-y-2" {
                        dt.font-semibold { "Public URL" } dd.font-mono { (config.url) }
                        dt.font-semibold { "Listening on" } dd.font-mono { (config.listen) }
                        dt.font-semibold { "Data directory" } dd.font-mono { (config.data_dir.display()) }
                        dt.font-semibold { "Version" } dd.font-mono { (env!("CARGO_PKG_VERSION")) }
                    }
                }
            }
        })
        .render()
}
