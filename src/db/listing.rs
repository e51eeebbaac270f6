//! Keyset pages: where every list's SQL is put together. A list is fixed text (its columns,
//! tables, id, searched columns); a request adds only bound values (filters, search text,
//! cursor). A page is `LIMIT 51` rows from an index seek to the cursor, so its cost does not
//! grow with the table; `tests` below checks the plan of every list in every order.

use sqlx::sqlite::SqliteRow;

use super::Pool;
use crate::domain::listing::PAGE_SIZE;
use crate::domain::{Cursor, Dir, ListQuery, Page, SortKey};

/// One list: fixed SQL pieces. The rows select `sort_key` (the sort column) and `id`.
pub struct Listing<S> {
    pub columns: &'static str,
    pub from: &'static str,
    /// The id column, the tie-breaker of every order.
    pub id: &'static str,
    /// Columns the search text is looked for in (case-insensitive substring).
    pub search: &'static [&'static str],
    /// The SQL expression each order sorts by (with the collation its index was built with);
    /// every one leads an index `(expression, id)`.
    pub order: fn(S) -> &'static str,
}

/// Conditions a page adds: fixed SQL text with `?` placeholders and the values bound to them.
#[derive(Default)]
pub struct Filters {
    sql: String,
    binds: Vec<String>,
    /// A condition true on either of two columns (a record's source or target type): each side
    /// leads its own index, so the page reads both in order and merges them.
    either: Option<[(&'static str, Vec<String>); 2]>,
}

impl Filters {
    pub fn new() -> Self {
        Self::default()
    }

    /// `AND (sql)`, its placeholders bound to `binds` in order.
    pub fn and(mut self, sql: &'static str, binds: impl IntoIterator<Item = String>) -> Self {
        self.sql.push_str(" AND (");
        self.sql.push_str(sql);
        self.sql.push(')');
        self.binds.extend(binds);
        self
    }

    /// The conditions as ` AND (…)` text, for queries other than pages.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub fn binds(&self) -> &[String] {
        &self.binds
    }

    /// Whether any condition narrows the rows (then the plan must seek, not walk).
    pub fn is_empty(&self) -> bool {
        self.sql.is_empty() && self.either.is_none()
    }

    /// `AND (a OR b)`, read as two index seeks merged. One such condition per page; a second
    /// is an ordinary `and`.
    pub fn either(self, a: (&'static str, Vec<String>), b: (&'static str, Vec<String>)) -> Self {
        if self.either.is_some() {
            return self.and_or(a, b);
        }
        Self {
            either: Some([a, b]),
            ..self
        }
    }

    fn and_or(mut self, a: (&'static str, Vec<String>), b: (&'static str, Vec<String>)) -> Self {
        self.sql.push_str(&format!(" AND (({}) OR ({}))", a.0, b.0));
        self.binds.extend(a.1);
        self.binds.extend(b.1);
        self
    }

    /// `AND (sql)` with `?` bound to the ids as a JSON array, when there are ids (an API token
    /// limited to some servers): `sql` reads them with `json_each`.
    pub fn within<T: ToString>(self, sql: &'static str, ids: Option<&[T]>) -> Self {
        match ids {
            Some(ids) => {
                let list: Vec<String> = ids.iter().map(ToString::to_string).collect();
                let json = serde_json::to_string(&list).expect("strings serialize");
                self.and(sql, [json])
            }
            None => self,
        }
    }

    /// `and` when there is a value.
    pub fn and_some<V: ToString>(self, sql: &'static str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.and(sql, [v.to_string()]),
            None => self,
        }
    }
}

/// Rows that know where they sit in their list.
pub trait Keyed {
    fn cursor(&self) -> Cursor;
}

/// `impl Keyed` for row structs with `id` and `sort_key` fields.
#[macro_export]
macro_rules! keyed {
    ($($ty:ty),+ $(,)?) => {$(
        impl $crate::db::listing::Keyed for $ty {
            fn cursor(&self) -> $crate::domain::Cursor {
                $crate::domain::Cursor { key: self.sort_key.clone(), id: self.id.to_string() }
            }
        }
    )+};
}

/// `%text%` for LIKE with `\` as the escape: the user's `%` and `_` match themselves.
fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The SQL of one page and its values; `reversed` when it reads backwards (a previous page).
pub struct PageSql {
    pub sql: String,
    pub binds: Vec<String>,
    pub reversed: bool,
}

impl<S: SortKey> Listing<S> {
    pub fn page_sql(&self, q: &ListQuery<S>, filters: &Filters) -> PageSql {
        let Some([a, b]) = &filters.either else {
            return self.plain_sql(q, filters, self.columns, None);
        };
        // Either side: the best page of each (an index seek each), merged and cut to a page.
        let col = (self.order)(q.sort);
        let side =
            |s: &(&'static str, Vec<String>)| self.plain_sql(q, filters, "", Some((s.0, &s.1)));
        let (pa, pb) = (side(a), side(b));
        let d = if pa.reversed { q.dir.flip() } else { q.dir }.sql();
        let sql = format!(
            "SELECT {}, {col} AS sort_key FROM {} WHERE {} IN \
             (SELECT pick FROM ({}) UNION ALL SELECT pick FROM ({})) \
             ORDER BY {col} {d}, {} {d} LIMIT {}",
            self.columns,
            self.from,
            self.id,
            pa.sql,
            pb.sql,
            self.id,
            PAGE_SIZE + 1
        );
        let mut binds = pa.binds;
        binds.extend(pb.binds);
        PageSql {
            sql,
            binds,
            reversed: pa.reversed,
        }
    }

    /// A page without an either-side condition, or (with `side`) one side's ids for merging.
    fn plain_sql(
        &self,
        q: &ListQuery<S>,
        filters: &Filters,
        columns: &str,
        side: Option<(&str, &[String])>,
    ) -> PageSql {
        let col = (self.order)(q.sort);
        let id = self.id;
        let mut binds = filters.binds.clone();
        let mut sql = match side {
            None => format!(
                "SELECT {columns}, {col} AS sort_key FROM {} WHERE 1 = 1{}",
                self.from, filters.sql
            ),
            Some(_) => format!(
                "SELECT {id} AS pick FROM {} WHERE 1 = 1{}",
                self.from, filters.sql
            ),
        };
        if let Some((cond, values)) = side {
            sql.push_str(&format!(" AND ({cond})"));
            binds.extend(values.iter().cloned());
        }
        if let (Some(text), false) = (&q.search, self.search.is_empty()) {
            let any: Vec<String> = self
                .search
                .iter()
                .map(|c| format!("{c} LIKE ? ESCAPE '\\'"))
                .collect();
            sql.push_str(&format!(" AND ({})", any.join(" OR ")));
            binds.extend(std::iter::repeat_n(like_pattern(text), self.search.len()));
        }
        let (cursor, reversed) = match (&q.after, &q.before) {
            (Some(c), _) => (Some(c), false),
            (None, Some(c)) => (Some(c), true),
            (None, None) => (None, false),
        };
        let scan = if reversed { q.dir.flip() } else { q.dir };
        if let Some(c) = cursor {
            let op = match scan {
                Dir::Asc => ">",
                Dir::Desc => "<",
            };
            // The first term lets the index seek (row values under a collation do not); the
            // second breaks ties on the id.
            sql.push_str(&format!(" AND {col} {op}= ? AND ({col}, {id}) {op} (?, ?)"));
            binds.extend([c.key.clone(), c.key.clone(), c.id.clone()]);
        }
        let d = scan.sql();
        sql.push_str(&format!(
            " ORDER BY {col} {d}, {id} {d} LIMIT {}",
            PAGE_SIZE + 1
        ));
        PageSql {
            sql,
            binds,
            reversed,
        }
    }

    /// One page of the list as asked for.
    pub async fn fetch<T>(
        &self,
        pool: &Pool,
        q: &ListQuery<S>,
        filters: &Filters,
    ) -> sqlx::Result<Page<T>>
    where
        T: for<'r> sqlx::FromRow<'r, SqliteRow> + Send + Unpin + Keyed,
    {
        let p = self.page_sql(q, filters);
        let mut query = sqlx::query_as::<_, T>(&p.sql);
        for b in &p.binds {
            query = query.bind(b);
        }
        let mut rows = query.fetch_all(pool).await?;
        let more = rows.len() as i64 > PAGE_SIZE;
        rows.truncate(PAGE_SIZE as usize);
        if p.reversed {
            if !more {
                // Back at the start: show a full first page rather than the few rows left.
                let first = ListQuery {
                    after: None,
                    before: None,
                    ..q.clone()
                };
                return Box::pin(self.fetch(pool, &first, filters)).await;
            }
            rows.reverse();
            let prev = rows.first().map(Keyed::cursor);
            let next = rows.last().map(Keyed::cursor);
            return Ok(Page { rows, next, prev });
        }
        let next = if more {
            rows.last().map(Keyed::cursor)
        } else {
            None
        };
        let prev = if q.after.is_some() {
            rows.first().map(Keyed::cursor)
        } else {
            None
        };
        Ok(Page { rows, next, prev })
    }
}

/// `EXPLAIN QUERY PLAN` of a page's SQL: (parent step, detail) per line (for the plan tests;
/// parent 0 is the outermost query).
pub async fn plan(pool: &Pool, p: &PageSql) -> sqlx::Result<Vec<(i64, String)>> {
    let sql = format!("EXPLAIN QUERY PLAN {}", p.sql);
    let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&sql);
    for b in &p.binds {
        q = q.bind(b);
    }
    Ok(q.fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.1, r.3))
        .collect())
}

/// What a plan line must not say: a table read whole, rows sorted after reading them all, or
/// (for a page narrowed by a filter) an index walked instead of sought.
pub fn plan_problem(line: &str, filtered: bool) -> Option<&'static str> {
    if line.contains("TEMP B-TREE") {
        return Some("sorts rows after reading them (no index in the list's order)");
    }
    if line.starts_with("SCAN ") && !line.contains("USING") {
        return Some("reads a whole table without an index");
    }
    if filtered && line.starts_with("SCAN ") {
        return Some("walks a whole index although a filter could seek");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db;
    use crate::domain::{DatabaseSort, ServerSort, SiteSort, TimeSort};

    /// Every page shape a list can be asked for: each order both ways, first/next/previous
    /// pages, with and without search text.
    fn queries<S: SortKey>() -> Vec<ListQuery<S>> {
        let c = Cursor {
            key: "m".into(),
            id: "01J0000000000000000000000A".into(),
        };
        let mut out = Vec::new();
        for &sort in S::ALL {
            for dir in [Dir::Asc, Dir::Desc] {
                for (after, before) in [
                    (None, None),
                    (Some(c.clone()), None),
                    (None, Some(c.clone())),
                ] {
                    for search in [None, Some("shop".to_owned())] {
                        out.push(ListQuery {
                            search,
                            sort,
                            dir,
                            after: after.clone(),
                            before: before.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    async fn check<S: SortKey>(
        pool: &Pool,
        name: &str,
        listing: &Listing<S>,
        filters: Vec<Filters>,
        problems: &mut Vec<String>,
    ) -> usize {
        let mut n = 0;
        for f in &filters {
            for q in queries::<S>() {
                let p = listing.page_sql(&q, f);
                let merged = p.sql.contains(" UNION ");
                for (parent, line) in plan(pool, &p).await.unwrap() {
                    // A filter on either side of a record merges two pages of ids (each an
                    // index seek): the outer query orders at most two pages' rows.
                    if merged && parent == 0 && line.contains("TEMP B-TREE") {
                        continue;
                    }
                    if merged && line.starts_with("SCAN (subquery-") {
                        continue;
                    }
                    if let Some(why) = plan_problem(&line, !f.is_empty()) {
                        problems.push(format!("{name}: {why}: {line}\n  {}", p.sql));
                    }
                }
                n += 1;
            }
        }
        n
    }

    /// `EXPLAIN QUERY PLAN` of every list query in every order, page and filter: each seeks or
    /// walks an index in the list's order (no table read whole, no sort of all rows), and a
    /// filtered one seeks. The counters behind totals and charts are looked up, not counted.
    #[tokio::test]
    async fn every_list_query_reads_an_index_in_its_order() {
        let dir = tempfile::tempdir().unwrap();
        let pool = db::open(dir.path()).await.unwrap();
        let id = || crate::ids::ServerId::generate();
        let mut problems = Vec::new();
        let mut n = 0;
        n += check(
            &pool,
            "servers",
            &db::servers::LISTING,
            vec![
                db::servers::filters(None),
                db::servers::filters(Some(crate::domain::ServerStatus::Active)),
            ],
            &mut problems,
        )
        .await;
        n += check(
            &pool,
            "sites",
            &db::sites::LISTING,
            vec![
                db::sites::SiteFilter::default().filters(),
                db::sites::SiteFilter {
                    server: Some(id()),
                    status: None,
                }
                .filters(),
                db::sites::SiteFilter {
                    server: None,
                    status: Some(crate::domain::SiteStatus::Error),
                }
                .filters(),
            ],
            &mut problems,
        )
        .await;
        n += check(
            &pool,
            "databases",
            &db::databases::LISTING,
            vec![
                db::databases::filters(None),
                db::databases::filters(Some(id())),
            ],
            &mut problems,
        )
        .await;
        n += check(
            &pool,
            "deployments",
            &db::deployments::LISTING,
            vec![
                db::deployments::DeploymentFilter::default().filters(),
                db::deployments::DeploymentFilter {
                    site: Some(crate::ids::SiteId::generate()),
                    status: None,
                }
                .filters(),
                db::deployments::DeploymentFilter {
                    site: None,
                    status: Some(crate::domain::DeploymentStatus::Failed),
                }
                .filters(),
            ],
            &mut problems,
        )
        .await;
        n += check(
            &pool,
            "audit log",
            &db::audit::LISTING,
            vec![
                db::audit::AuditFilter::default().filters(),
                db::audit::AuditFilter {
                    actor: Some("a@example.com".into()),
                    ..Default::default()
                }
                .filters(),
                db::audit::AuditFilter {
                    action: Some("sites.create".into()),
                    ..Default::default()
                }
                .filters(),
                db::audit::AuditFilter {
                    target: Some(id().to_string()),
                    ..Default::default()
                }
                .filters(),
                db::audit::AuditFilter {
                    outcome: Some(crate::domain::AuditOutcome::Refused),
                    ..Default::default()
                }
                .filters(),
            ],
            &mut problems,
        )
        .await;
        n += check(
            &pool,
            "jobs",
            &db::jobs::LISTING,
            vec![
                db::jobs::JobFilter::default().filters(),
                db::jobs::JobFilter {
                    server: Some(id()),
                    status: None,
                }
                .filters(),
                db::jobs::JobFilter {
                    server: None,
                    status: Some(crate::domain::JobStatus::Failed),
                }
                .filters(),
            ],
            &mut problems,
        )
        .await;
        let audit = |f: db::selinux::Filter| f.filters();
        n += check(
            &pool,
            "selinux records",
            &db::selinux::LISTING,
            vec![
                audit(Default::default()),
                audit(db::selinux::Filter {
                    server: Some(id()),
                    ..Default::default()
                }),
                audit(db::selinux::Filter {
                    since: Some("2026-01-01T00:00:00.000Z".into()),
                    ..Default::default()
                }),
                audit(db::selinux::Filter {
                    tclass: Some("file".into()),
                    ..Default::default()
                }),
                audit(db::selinux::Filter {
                    setype: Some("httpd_t".into()),
                    ..Default::default()
                }),
                audit(db::selinux::Filter {
                    level: Some("s0:c1,c2".into()),
                    ..Default::default()
                }),
                audit(db::selinux::Filter {
                    level: Some("s0:c1,c2".into()),
                    setype: Some("httpd_t".into()),
                    server: Some(id()),
                    ..Default::default()
                }),
            ],
            &mut problems,
        )
        .await;
        n += check(
            &pool,
            "certificates",
            &db::certificates::LISTING,
            vec![Filters::new()],
            &mut problems,
        )
        .await;
        n += check(
            &pool,
            "server log",
            &db::servers::LOG_LISTING,
            vec![
                db::servers::log_filters(id(), None),
                db::servers::log_filters(id(), Some(crate::domain::LogLevel::Error)),
            ],
            &mut problems,
        )
        .await;
        let _ = (
            ServerSort::Name,
            SiteSort::Domain,
            DatabaseSort::Name,
            TimeSort::Newest,
        );
        // Aggregates: looked up in counters or an index range, never a table read whole.
        for (name, sql, binds) in [
            ("dashboard", db::dashboard::COUNTS, vec![]),
            (
                "per-day chart",
                db::selinux::PER_DAY_COUNTED,
                vec!["*".to_owned(), "2026-01-01T00".into(), "30".into()],
            ),
            (
                "denial rate",
                db::selinux::RATE_PER_SERVER,
                vec!["2026-01-01T00".into(), "10".into()],
            ),
        ] {
            let p = PageSql {
                sql: sql.to_owned(),
                binds,
                reversed: false,
            };
            for (_, line) in plan(&pool, &p).await.unwrap() {
                if line.starts_with("SCAN ")
                    && !line.contains("USING")
                    && !line.contains("SCAN t")
                    && !line.contains("CONSTANT ROW")
                {
                    problems.push(format!("{name}: reads a table whole: {line}"));
                }
            }
        }
        assert!(n > 300, "{n} page queries checked");
        assert!(
            problems.is_empty(),
            "{} plans read too much:\n{}",
            problems.len(),
            problems.join("\n")
        );
        db::close(&pool).await;
    }

    #[test]
    fn search_text_matches_itself_not_wildcards() {
        assert_eq!(like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
