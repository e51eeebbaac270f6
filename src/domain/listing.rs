//! Lists of any length, one bounded page at a time. A page is found by a keyset cursor (the
//! sort value and id of the row next to it), not an offset: the database seeks to it through an
//! index, so page 400 costs what page 1 costs, and rows added meanwhile never shift a page.
//! What a list page was asked for (search text, sort, direction, cursor) is parsed here once;
//! the SQL each sort means is fixed text chosen by the list, never taken from the request.

use crate::error::FieldError;

/// Rows on one page of every list.
pub const PAGE_SIZE: i64 = 50;
/// Longest search text accepted.
pub const SEARCH_MAX: usize = 100;
/// Longest sort value a cursor may carry (domains are the longest sort keys: 253).
const CURSOR_KEY_MAX: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Asc,
    Desc,
}

impl Dir {
    pub fn as_str(self) -> &'static str {
        match self {
            Dir::Asc => "asc",
            Dir::Desc => "desc",
        }
    }
    pub fn sql(self) -> &'static str {
        match self {
            Dir::Asc => "ASC",
            Dir::Desc => "DESC",
        }
    }
    pub fn flip(self) -> Self {
        match self {
            Dir::Asc => Dir::Desc,
            Dir::Desc => Dir::Asc,
        }
    }
}

/// Where a page starts (after it) or ends (before it): the sort value and the id of the row at
/// the page's edge. In a URL it is `HEX(value).ID`, so any sort value survives the trip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", hex::encode(self.key.as_bytes()), self.id)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let (key, id) = text.rsplit_once('.')?;
        if key.len() > CURSOR_KEY_MAX * 2 {
            return None;
        }
        // Ids are stored in the canonical upper-case form; compare like with like.
        let id = ulid::Ulid::from_string(id).ok()?.to_string();
        let key = String::from_utf8(hex::decode(key).ok()?).ok()?;
        Some(Self { key, id })
    }
}

/// The orders a list offers. The database maps each to its column (`db::listing::SortColumn`),
/// every one with an index `(column, id)`.
pub trait SortKey: Copy + Eq + Sized + std::fmt::Debug + 'static {
    const ALL: &'static [Self];
    /// The value in the URL (`sort=`).
    fn name(self) -> &'static str;
    /// Newest-first lists start descending, names ascending.
    fn default_dir(self) -> Dir;
}

macro_rules! sort_keys {
    ($($(#[$meta:meta])* $ty:ident { $($variant:ident = $name:literal $dir:ident),+ $(,)? })+) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $ty { $($variant),+ }
        impl SortKey for $ty {
            const ALL: &'static [Self] = &[$($ty::$variant),+];
            fn name(self) -> &'static str { match self { $($ty::$variant => $name),+ } }
            fn default_dir(self) -> Dir { match self { $($ty::$variant => Dir::$dir),+ } }
        }
    )+};
}

sort_keys! {
    ServerSort { Name = "name" Asc, Newest = "created" Desc }
    SiteSort { Domain = "domain" Asc, Newest = "created" Desc }
    DatabaseSort { Name = "name" Asc, Newest = "created" Desc }
    /// Certificates: failing first, then soonest to expire.
    CertificateSort { Urgency = "urgency" Asc }
    /// Histories (deployments, jobs, SELinux records, server logs): newest first, or oldest.
    TimeSort { Newest = "created" Desc }
}

/// A list page's query string as typed.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ListForm {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
    #[serde(default)]
    pub after: String,
    #[serde(default)]
    pub before: String,
}

/// What a list page was asked for, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery<S> {
    /// Text the rows' names must contain (case-insensitive).
    pub search: Option<String>,
    pub sort: S,
    pub dir: Dir,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
}

impl<S: SortKey> ListQuery<S> {
    /// The first page in the list's default order.
    pub fn first(sort: S) -> Self {
        Self {
            search: None,
            sort,
            dir: sort.default_dir(),
            after: None,
            before: None,
        }
    }

    /// Whether the page shows the list unfiltered (then the total is worth printing).
    pub fn is_unfiltered(&self) -> bool {
        self.search.is_none()
    }
}

/// Search text: trimmed, one line, bounded.
pub fn search_text(text: &str) -> Result<Option<String>, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > SEARCH_MAX || t.chars().any(char::is_control) {
        return Err(FieldError::new(
            "q",
            format!("search text is one line of at most {SEARCH_MAX} characters"),
        ));
    }
    Ok(Some(t.to_owned()))
}

impl ListForm {
    /// Every part checked; all errors at once, each on its field.
    pub fn parse<S: SortKey>(&self, default: S) -> Result<ListQuery<S>, Vec<FieldError>> {
        let mut errors = Vec::new();
        let search = search_text(&self.q).unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        let sort = if self.sort.is_empty() {
            default
        } else {
            match S::ALL.iter().find(|s| s.name() == self.sort) {
                Some(s) => *s,
                None => {
                    let names: Vec<_> = S::ALL.iter().map(|s| s.name()).collect();
                    errors.push(FieldError::new(
                        "sort",
                        format!("one of: {}", names.join(", ")),
                    ));
                    default
                }
            }
        };
        let dir = match self.dir.as_str() {
            "" => sort.default_dir(),
            "asc" => Dir::Asc,
            "desc" => Dir::Desc,
            _ => {
                errors.push(FieldError::new("dir", "asc or desc"));
                sort.default_dir()
            }
        };
        let mut cursor = |field: &'static str, text: &str| {
            if text.is_empty() {
                return None;
            }
            let c = Cursor::parse(text);
            if c.is_none() {
                errors.push(FieldError::new(field, "not a page of this list"));
            }
            c
        };
        let after = cursor("after", &self.after);
        let before = cursor("before", &self.before);
        if after.is_some() && before.is_some() {
            errors.push(FieldError::new(
                "before",
                "a page is after a row or before one",
            ));
        }
        if errors.is_empty() {
            Ok(ListQuery {
                search,
                sort,
                dir,
                after,
                before,
            })
        } else {
            Err(errors)
        }
    }
}

/// One page of rows and the cursors of its neighbours.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub rows: Vec<T>,
    /// The page after this one, when there is one.
    pub next: Option<Cursor>,
    /// The page before this one, when there is one.
    pub prev: Option<Cursor>,
}

impl<T> Page<T> {
    pub fn empty() -> Self {
        Self {
            rows: Vec::new(),
            next: None,
            prev: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Sort {
        Name,
        Newest,
    }
    impl SortKey for Sort {
        const ALL: &'static [Self] = &[Sort::Name, Sort::Newest];
        fn name(self) -> &'static str {
            match self {
                Sort::Name => "name",
                Sort::Newest => "created",
            }
        }
        fn default_dir(self) -> Dir {
            match self {
                Sort::Name => Dir::Asc,
                Sort::Newest => Dir::Desc,
            }
        }
    }

    #[test]
    fn cursors_carry_any_sort_value_and_only_ulid_ids() {
        let c = Cursor {
            key: "a.b&c=d é".into(),
            id: "01J0000000000000000000000A".into(),
        };
        assert_eq!(Cursor::parse(&c.encode()), Some(c));
        for bad in [
            "",
            "zz.01J0000000000000000000000A",
            "61.notanid",
            "61",
            "61.01J0000000000000000000000A;",
            &format!("{}.01J0000000000000000000000A", "61".repeat(600)),
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn forms_parse_to_queries_with_field_errors() {
        let q = ListForm::default().parse(Sort::Name).unwrap();
        assert_eq!(q, ListQuery::first(Sort::Name));
        let q = ListForm {
            sort: "created".into(),
            q: "  shop ".into(),
            ..Default::default()
        }
        .parse(Sort::Name)
        .unwrap();
        assert_eq!(
            (q.sort, q.dir, q.search.as_deref()),
            (Sort::Newest, Dir::Desc, Some("shop"))
        );
        let bad = ListForm {
            q: "a\nb".into(),
            sort: "id; DROP TABLE sites".into(),
            dir: "up".into(),
            after: "x".into(),
            before: "y".into(),
        }
        .parse(Sort::Name)
        .unwrap_err();
        let fields: Vec<_> = bad.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["q", "sort", "dir", "after", "before"]);
        assert!(bad[1].message.contains("name, created"));
    }
}
