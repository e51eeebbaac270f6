//! What every list page shares: the search box, sortable column headers, the pager, and the
//! region htmx swaps. Every link is a plain URL holding the whole state (search, filters,
//! order, cursor), so a page can be bookmarked, reloaded and reached with the back button; htmx
//! fetches the same URL, takes the list region out of it (`hx-select`) and pushes the URL.

use maud::{Markup, html};

use crate::domain::listing::PAGE_SIZE;
use crate::domain::{Cursor, Dir, ListForm, ListQuery, Page, SortKey};
use crate::error::{AppError, AppResult};

/// The id of the region a list's links replace.
const REGION: &str = "list";

/// Parse a list page's query string; bad values are field errors (a 422), never ignored.
pub fn parse<S: SortKey>(form: &ListForm, default: S) -> AppResult<ListQuery<S>> {
    form.parse(default).map_err(AppError::Invalid)
}

/// An optional filter value: empty is none, anything else must parse (or it is a field error).
pub fn filter_value<T: std::str::FromStr>(
    text: &str,
    field: &'static str,
    message: &str,
    errors: &mut Vec<crate::error::FieldError>,
) -> Option<T> {
    if text.is_empty() {
        return None;
    }
    let v = text.parse().ok();
    if v.is_none() {
        errors.push(crate::error::FieldError::new(field, message));
    }
    v
}

/// One list page's state: where it lives, what was asked, and its filters (kept in every link).
pub struct ListView<'a, S> {
    pub path: &'a str,
    pub query: &'a ListQuery<S>,
    pub filters: Vec<(&'static str, String)>,
}

impl<'a, S: SortKey> ListView<'a, S> {
    pub fn new(path: &'a str, query: &'a ListQuery<S>) -> Self {
        Self {
            path,
            query,
            filters: Vec::new(),
        }
    }

    /// Keep a filter in every link (skipped when empty).
    pub fn filter(mut self, name: &'static str, value: impl ToString) -> Self {
        let v = value.to_string();
        if !v.is_empty() {
            self.filters.push((name, v));
        }
        self
    }

    fn href(&self, sort: S, dir: Dir, cursor: Option<(&str, &Cursor)>) -> String {
        let mut pairs: Vec<(&str, String)> =
            self.filters.iter().map(|(k, v)| (*k, v.clone())).collect();
        if let Some(q) = &self.query.search {
            pairs.push(("q", q.clone()));
        }
        if sort != self.default_sort() || dir != sort.default_dir() {
            pairs.push(("sort", sort.name().to_owned()));
            pairs.push(("dir", dir.as_str().to_owned()));
        }
        if let Some((name, c)) = cursor {
            pairs.push((name, c.encode()));
        }
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if qs.is_empty() {
            self.path.to_owned()
        } else {
            format!("{}?{qs}", self.path)
        }
    }

    fn default_sort(&self) -> S {
        S::ALL[0]
    }

    /// The search box: a plain GET form (works without script); with htmx it searches as one
    /// types and replaces only the list.
    pub fn search(&self, placeholder: &str) -> Markup {
        let value = self.query.search.as_deref().unwrap_or("");
        html! {
            form.flex.flex-wrap.items-end."gap-2" method="get" action=(self.path) role="search" data-list-search {
                @for (k, v) in &self.filters { input type="hidden" name=(k) value=(v); }
                @if self.query.sort != self.default_sort() || self.query.dir != self.query.sort.default_dir() {
                    input type="hidden" name="sort" value=(self.query.sort.name());
                    input type="hidden" name="dir" value=(self.query.dir.as_str());
                }
                label.input.input-sm."w-72" {
                    span.sr-only { "Search" }
                    input type="search" name="q" value=(value) placeholder=(placeholder)
                        maxlength=(crate::domain::listing::SEARCH_MAX) autocomplete="off"
                        hx-get=(self.path) hx-trigger="input changed delay:300ms, search"
                        hx-include="closest form" hx-target={"#" (REGION)} hx-select={"#" (REGION)}
                        hx-swap="outerHTML" hx-push-url="true";
                }
                button.btn.btn-sm type="submit" { "Search" }
            }
        }
    }

    /// A column header that sorts by `sort`: ascending first, then descending; an arrow marks
    /// the current order.
    pub fn header(&self, label: &str, sort: S) -> Markup {
        let current = self.query.sort == sort;
        let dir = if current {
            self.query.dir.flip()
        } else {
            sort.default_dir()
        };
        let arrow = match (current, self.query.dir) {
            (false, _) => "",
            (true, Dir::Asc) => " ↑",
            (true, Dir::Desc) => " ↓",
        };
        let aria = match (current, self.query.dir) {
            (false, _) => "none",
            (true, Dir::Asc) => "ascending",
            (true, Dir::Desc) => "descending",
        };
        html! {
            th aria-sort=(aria) {
                @let href = self.href(sort, dir, None);
                a.link.link-hover href=(href) hx-get=(href) hx-push-url="true" data-sort=(sort.name()) { (label) (arrow) }
            }
        }
    }

    /// Previous/next links and what the page shows; `total` when the list is unfiltered.
    pub fn pager<T>(&self, page: &Page<T>, total: Option<i64>) -> Markup {
        let (sort, dir) = (self.query.sort, self.query.dir);
        let first_page = self.query.after.is_none() && self.query.before.is_none();
        html! {
            nav.flex.flex-wrap.items-center.justify-between."gap-3".text-sm."mt-3" aria-label="Pages" data-pager {
                span."text-base-content/70" data-page-rows=(page.rows.len()) {
                    (page.rows.len()) " shown"
                    @if let Some(t) = total { " of " span data-total=(t) { (t) } }
                    @if page.rows.len() as i64 == PAGE_SIZE || !first_page { " · " (PAGE_SIZE) " per page" }
                }
                div.join {
                    @if !first_page {
                        @let href = self.href(sort, dir, None);
                        a.join-item.btn.btn-sm href=(href) hx-get=(href) hx-push-url="true" data-first { "First" }
                    }
                    @if let Some(c) = &page.prev {
                        @let href = self.href(sort, dir, Some(("before", c)));
                        a.join-item.btn.btn-sm href=(href) hx-get=(href) hx-push-url="true" rel="prev" data-prev { "← Previous" }
                    }
                    @if let Some(c) = &page.next {
                        @let href = self.href(sort, dir, Some(("after", c)));
                        a.join-item.btn.btn-sm href=(href) hx-get=(href) hx-push-url="true" rel="next" data-next { "Next →" }
                    }
                }
            }
        }
    }

    /// The swapped region: its header and pager links fetch their page with htmx and push the
    /// URL; other links in it (a row's page, its actions) behave as anywhere else.
    pub fn region(&self, content: Markup) -> Markup {
        html! {
            div id=(REGION) hx-target={"#" (REGION)} hx-select={"#" (REGION)} hx-swap="outerHTML" {
                (content)
            }
        }
    }
}

/// Links that narrow a list to one status (or all), keeping its other filters and search; the
/// order and the page start over.
pub fn status_links<S: SortKey, T: Copy + PartialEq>(
    list: &ListView<'_, S>,
    current: Option<T>,
    choices: &[T],
    name: fn(T) -> &'static str,
) -> Markup {
    let href = |s: Option<T>| {
        let mut pairs: Vec<(&str, &str)> = list
            .filters
            .iter()
            .filter(|(k, _)| *k != "status")
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        if let Some(q) = &list.query.search {
            pairs.push(("q", q));
        }
        if let Some(s) = s {
            pairs.push(("status", name(s)));
        }
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if qs.is_empty() {
            list.path.to_owned()
        } else {
            format!("{}?{qs}", list.path)
        }
    };
    html! {
        // Wraps on a phone instead of pushing the page sideways.
        nav.flex.flex-wrap."gap-1" aria-label="Status" data-status-filter {
            a.btn.btn-sm.btn-active[current.is_none()] aria-current=[current.is_none().then_some("true")] href=(href(None)) { "All" }
            @for s in choices {
                a.btn.btn-sm.btn-active[current == Some(*s)] aria-current=[(current == Some(*s)).then_some("true")]
                    href=(href(Some(*s))) data-status=(name(*s)) { (name(*s)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SiteSort;

    #[test]
    fn links_keep_the_search_filters_and_order() {
        let q = ListQuery {
            search: Some("shop & co".into()),
            sort: SiteSort::Newest,
            dir: Dir::Asc,
            after: None,
            before: None,
        };
        let v = ListView::new("/sites", &q)
            .filter("server", "S1")
            .filter("status", "");
        let c = Cursor {
            key: "2026".into(),
            id: "01J0000000000000000000000A".into(),
        };
        assert_eq!(
            v.href(SiteSort::Newest, Dir::Asc, Some(("after", &c))),
            "/sites?server=S1&q=shop+%26+co&sort=created&dir=asc&after=32303236.01J0000000000000000000000A"
        );
        // The default order leaves the URL short.
        assert_eq!(
            v.href(SiteSort::Domain, Dir::Asc, None),
            "/sites?server=S1&q=shop+%26+co"
        );
        let header = v.header("Created", SiteSort::Newest).into_string();
        assert!(header.contains("dir=desc") && header.contains("aria-sort=\"ascending\""));
    }
}
