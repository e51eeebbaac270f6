use maud::{Markup, html};

use crate::db::sites::Site;
use crate::error::FieldError;
use crate::paths::{self, with_id};
use crate::sites::logs::{LogKind, Piece, SEARCH_BYTES};
use crate::web::components::field_error;
use crate::web::layout::{Nav, Page};

/// What the tab shows under the log's name.
pub enum Shown<'a> {
    /// The end of the log, followed live from its size.
    Tail(Piece),
    /// The lines a search found.
    Found(Vec<String>),
    Refused(&'a [FieldError]),
    Unreachable(String),
}

/// One line of a log (text from the node: escaped by maud, never interpreted).
pub fn line(text: &str) -> Markup {
    html! { div.whitespace-pre-wrap.break-all { (text) } }
}

pub fn tab(
    site: &Site,
    workers: &[crate::db::workers::Worker],
    kind: LogKind,
    query: &str,
    shown: Shown<'_>,
) -> Markup {
    let base = with_id(paths::SITE_LOGS, site.id);
    let errors: &[FieldError] = match &shown {
        Shown::Refused(e) => e,
        _ => &[],
    };
    let body = html! {
        (crate::web::components::site_tabs(site, "logs"))
        div.tabs.tabs-box.w-fit role="tablist" aria-label="Which log" {
            @for k in LogKind::ALL {
                a.tab.tab-active[k == kind] role="tab" href={ (base) "?log=" (k.name()) } { (k.label()) }
            }
            @for (i, w) in workers.iter().enumerate() {
                @let k = LogKind::Worker(w.id);
                a.tab.tab-active[k == kind] role="tab" href={ (base) "?log=" (k.name()) } title=(w.command) { "worker " (i + 1) }
            }
        }
        section.card."bg-base-100".shadow-sm {
            div.card-body {
                div.flex.flex-wrap.items-end.justify-between."gap-3" {
                    form.flex.items-end."gap-2" method="get" action=(base) role="search" {
                        input type="hidden" name="log" value=(kind.name());
                        fieldset.fieldset {
                            label.label for="q" { "Search the last " (SEARCH_BYTES / 1024 / 1024) " MB" }
                            input #q.input.input-sm.font-mono.input-error[!errors.is_empty()] type="search" name="q" value=(query) placeholder="text, any case";
                            (field_error(errors, "q"))
                        }
                        button.btn.btn-sm type="submit" { "Search" }
                        @if !query.is_empty() { a.btn.btn-sm.btn-ghost href={ (base) "?log=" (kind.name()) } { "Back to the end" } }
                    }
                    a.btn.btn-sm.btn-outline href={ (with_id(paths::SITE_LOGS_DOWNLOAD, site.id)) "?log=" (kind.name()) } download { "Download (last 10 MB)" }
                }
                @match &shown {
                    Shown::Tail(piece) => {
                        p.text-xs."text-base-content/70" { "The end of the log, followed live (new lines appear as they are written)." }
                        div.font-mono.text-xs."bg-base-200".rounded.p-3.overflow-y-auto."max-h-[70vh]" data-log-lines
                            hx-ext="sse" sse-connect={ (with_id(paths::SITE_LOGS_STREAM, site.id)) "?log=" (kind.name()) "&from=" (piece.size) }
                            sse-swap="line" hx-swap="beforeend" sse-close="done" aria-live="off" {
                            @if piece.lines.is_empty() { p."text-base-content/70" data-log-empty { "Nothing logged yet." } }
                            @for l in &piece.lines { (line(l)) }
                        }
                    }
                    Shown::Found(lines) => {
                        p.text-xs."text-base-content/70" data-log-found=(lines.len()) { (lines.len()) " matching lines (the last 500 at most)." }
                        div.font-mono.text-xs."bg-base-200".rounded.p-3.overflow-y-auto."max-h-[70vh]" data-log-lines {
                            @for l in lines { (line(l)) }
                        }
                    }
                    Shown::Refused(_) => {}
                    Shown::Unreachable(e) => div.alert.alert-warning role="status" { span { "The server cannot be asked right now: " (e) } },
                }
            }
        }
    };
    Page::new(format!("{} · Logs", site.domain))
        .nav(Nav::Sites)
        .body(body)
        .render()
}
