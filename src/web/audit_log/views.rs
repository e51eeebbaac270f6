use maud::{Markup, html};

use crate::db::audit::Entry;
use crate::domain::{AuditOutcome, Page as DbPage, TimeSort};
use crate::paths;
use crate::web::components::{badge, empty_state, no_matches, table, time};
use crate::web::layout::{Nav, Page};
use crate::web::listing::ListView;

pub const CSV_HEADER: &str =
    "at,actor_kind,actor,action,target_kind,target,outcome,status,via,source\n";

/// One CSV field: always quoted, quotes doubled, and a leading `=`, `+`, `-`, `@` or tab made
/// inert (a spreadsheet would run it as a formula: names come from users and nodes).
fn csv_field(text: &str) -> String {
    let inert = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        "'"
    } else {
        ""
    };
    format!("\"{inert}{}\"", text.replace('"', "\"\""))
}

pub fn csv_row(e: &Entry) -> String {
    let fields = [
        e.at.clone(),
        e.actor_kind.to_string(),
        e.actor_name.clone(),
        e.action.clone(),
        e.target_kind.clone().unwrap_or_default(),
        e.target_id.clone().unwrap_or_default(),
        e.outcome.to_string(),
        e.status.map(|s| s.to_string()).unwrap_or_default(),
        e.via.to_string(),
        e.source.clone().unwrap_or_default(),
    ];
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// A link that narrows the list to one value (kept with the other filters).
fn narrow(list: &ListView<'_, TimeSort>, name: &str, value: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = list
        .filters
        .iter()
        .filter(|(k, _)| *k != name)
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    pairs.push((name, value));
    format!(
        "{}?{}",
        paths::AUDIT,
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

/// Where a target lives in the panel, when it is something with a page.
fn target_link(kind: &str, id: &str) -> Option<String> {
    let pattern = match kind {
        "sites" => paths::SITE,
        "servers" => paths::SERVER,
        "deployments" => paths::DEPLOYMENT,
        "jobs" => paths::JOB,
        _ => return None,
    };
    Some(paths::with_id(pattern, id))
}

pub fn index(
    list: &ListView<'_, TimeSort>,
    page: &DbPage<Entry>,
    outcome: Option<AuditOutcome>,
) -> Markup {
    let filtered = list.query.search.is_some() || !list.filters.is_empty();
    let first = list.query.after.is_none() && list.query.before.is_none();
    let export = |format: &str| {
        let mut pairs: Vec<(&str, &str)> =
            list.filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(q) = &list.query.search {
            pairs.push(("q", q));
        }
        pairs.push(("format", format));
        format!(
            "{}?{}",
            paths::AUDIT_EXPORT,
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    let body = if page.rows.is_empty() && !filtered && first {
        empty_state(
            "Nothing recorded yet",
            "Every change made in the panel (in the browser, over the API, on the command line, by a \
             webhook) is recorded here: who, what, on what, with what outcome, from where.",
            None,
        )
    } else {
        html! {
            div.flex.flex-wrap.items-end.justify-between."gap-2" {
                div.flex.flex-wrap.items-end."gap-2" {
                    (list.search("Search actions, people, targets"))
                    (crate::web::listing::status_links(list, outcome, AuditOutcome::ALL, AuditOutcome::as_str))
                }
                div.flex."gap-2" {
                    a.btn.btn-sm.btn-outline href=(export("csv")) download { "Export CSV" }
                    a.btn.btn-sm.btn-outline href=(export("json")) download { "Export JSON" }
                }
            }
            @if !list.filters.is_empty() {
                p.text-sm {
                    "Showing only "
                    @for (i, (k, v)) in list.filters.iter().enumerate() {
                        @if i > 0 { ", " }
                        (k) " " code { (v) }
                    }
                    ". " a.link href=(paths::AUDIT) { "Show everything" }
                }
            }
            (list.region(html! {
                @if page.rows.is_empty() { (no_matches("entries")) } @else {
                    (table(&["When", "Who", "Action", "Target", "Outcome", "Via", "From"], html! {
                        @for e in &page.rows {
                            tr data-audit-row {
                                td.whitespace-nowrap { (time(&e.at)) }
                                td {
                                    a.link href=(narrow(list, "actor", &e.actor_name)) { (e.actor_name) }
                                    " " span.text-xs."text-base-content/70" { (e.actor_kind) }
                                }
                                td.font-mono.text-xs { a.link href=(narrow(list, "action", &e.action)) { (e.action) } }
                                td.font-mono.text-xs {
                                    @match (&e.target_kind, &e.target_id) {
                                        (Some(kind), Some(id)) => {
                                            @if let Some(href) = target_link(kind, id) { a.link href=(href) { (kind) " " (id) } }
                                            @else { (kind) " " (id) }
                                            " " a.link href=(narrow(list, "target", id)) aria-label="Only this target" { "(all)" }
                                        }
                                        _ => { "—" }
                                    }
                                }
                                td { (badge(e.outcome.as_str(), e.outcome.badge_class())) }
                                td { (e.via) }
                                td.font-mono.text-xs { (e.source.as_deref().unwrap_or("—")) }
                            }
                        }
                    }))
                }
                (list.pager(page, None))
            }))
        }
    };
    Page::new("Audit log").nav(Nav::Audit).body(body).render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1+2"), "\"'-1+2\"");
        assert_eq!(csv_field("a,b\nc"), "\"a,b\nc\"");
    }
}
