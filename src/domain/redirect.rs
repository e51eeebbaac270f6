//! A site's redirects as values: the path asked for (exactly, or it and everything below it),
//! where to send the browser (a path on the site, or an http(s) URL), and with which status.
//! Every part is held to characters that cannot end a value in nginx's configuration (no
//! quotes, `;`, braces, `$`, backslashes, spaces or control characters), and a set of redirects
//! that would send a browser round in a circle is refused (`find_loop`).

/// The statuses a redirect answers with.
pub const STATUSES: [u16; 4] = [301, 302, 307, 308];

/// Paths that stay the panel's: ACME challenges must reach their files.
const RESERVED: &str = "/.well-known/acme-challenge";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// This path only.
    Exact,
    /// This path and every path below it (`/old` covers `/old` and `/old/a`, not `/older`);
    /// what follows is kept (`/old/a` → `/new/a`).
    Prefix,
}

impl Match {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "exact" => Ok(Match::Exact),
            "prefix" => Ok(Match::Prefix),
            _ => Err("exact or prefix".into()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Match::Exact => "exact",
            Match::Prefix => "prefix",
        }
    }
}

fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '/' | '.' | '_' | '~' | '-' | '%' | '+' | '@' | '!' | ',' | '=' | ':'
        )
}

/// The path a redirect answers for: `/` and path characters only, no `..` segment, no query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectSource(String);

impl RedirectSource {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if !t.starts_with('/') {
            return Err("a path on the site, starting with /".into());
        }
        if t.len() > 300 {
            return Err("at most 300 characters".into());
        }
        // nginx matches the decoded path: a `%` escape would never match.
        if let Some(c) = t.chars().find(|c| !path_char(*c) || *c == '%') {
            return Err(format!(
                "`{}` cannot be in a redirect's path (letters, digits and / . _ ~ - + @ ! , = : only; no query, no %-escapes)",
                c.escape_debug()
            ));
        }
        if t.split('/').any(|s| s == ".." || s == ".") || t.contains("//") {
            return Err("no `.`, `..` or empty segments".into());
        }
        if t.starts_with(RESERVED) {
            return Err(
                "ACME challenges under /.well-known/acme-challenge/ stay the panel's".into(),
            );
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a redirect sends the browser: a path on the site (with a query if wanted) or an
/// absolute http(s) URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectTarget(String);

impl RedirectTarget {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("a path such as /new or a URL such as https://example.org/".into());
        }
        if t.len() > 1000 {
            return Err("at most 1000 characters".into());
        }
        let ok = |c: char| path_char(c) || matches!(c, '?' | '&' | '#');
        if let Some(c) = t.chars().find(|c| !ok(*c)) {
            return Err(format!(
                "`{}` cannot be in a redirect's target (encode it as %XX)",
                c.escape_debug()
            ));
        }
        if t.starts_with('/') {
            if t.starts_with("//") {
                return Err("a path starts with one /; a URL with https://".into());
            }
            return Ok(Self(t.to_owned()));
        }
        let rest = t
            .strip_prefix("https://")
            .or_else(|| t.strip_prefix("http://"))
            .ok_or("a path starting with /, or a URL starting with https:// or http://")?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = authority.split(':').next().unwrap_or_default();
        let port = authority.split_once(':').map(|(_, p)| p);
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
        if !host_ok || !port_ok || authority.contains('@') {
            return Err(
                "the URL's host is not a host name (user@ and odd ports are refused)".into(),
            );
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path on this site it leads to, if it leads to this site (a path, or a URL of one of
    /// `names`), without its query.
    fn local_path(&self, names: &[String]) -> Option<String> {
        let t = &self.0;
        let path = if t.starts_with('/') {
            t.as_str()
        } else {
            let rest = t.split_once("://").map(|(_, r)| r)?;
            let (authority, path) = match rest.find(['/', '?', '#']) {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, "/"),
            };
            let host = authority
                .split(':')
                .next()?
                .trim_end_matches('.')
                .to_ascii_lowercase();
            if !names.contains(&host) {
                return None;
            }
            if path.starts_with('/') { path } else { "/" }
        };
        Some(path.split(['?', '#']).next().unwrap_or("/").to_owned())
    }
}

/// One redirect, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    pub source: RedirectSource,
    pub kind: Match,
    pub target: RedirectTarget,
    pub status: u16,
}

impl Redirect {
    /// Where this redirect sends `path`, if it answers for it.
    fn apply(&self, path: &str, names: &[String]) -> Option<Option<String>> {
        let from = self.source.as_str();
        let rest = match self.kind {
            Match::Exact => (path == from).then_some("")?,
            Match::Prefix => {
                let base = from.trim_end_matches('/');
                let rest = path.strip_prefix(base)?;
                (rest.is_empty() || rest.starts_with('/') || base.is_empty()).then_some(rest)?
            }
        };
        Some(self.target.local_path(names).map(|p| {
            if rest.is_empty() {
                p
            } else {
                format!("{}{rest}", p.trim_end_matches('/'))
            }
        }))
    }
}

/// The redirect nginx picks for `path`: the exact one, else the longest prefix.
fn pick<'a>(rules: &'a [Redirect], path: &str) -> Option<&'a Redirect> {
    rules
        .iter()
        .find(|r| r.kind == Match::Exact && r.source.as_str() == path)
        .or_else(|| {
            rules
                .iter()
                .filter(|r| r.kind == Match::Prefix && r.apply(path, &[]).is_some())
                .max_by_key(|r| r.source.as_str().len())
        })
}

/// A browser sent round in a circle (or down a chain longer than ten) by `rules`, said as the
/// paths it visits; `names` are the site's domain and aliases (a URL to one of them is local).
pub fn find_loop(rules: &[Redirect], names: &[String]) -> Option<String> {
    for start in rules {
        let mut path = match start.kind {
            Match::Exact => start.source.as_str().to_owned(),
            Match::Prefix => format!(
                "{}/panel-probe",
                start.source.as_str().trim_end_matches('/')
            ),
        };
        let mut seen = vec![path.clone()];
        while let Some(rule) = pick(rules, &path) {
            let Some(Some(next)) = rule.apply(&path, names) else {
                break;
            };
            if seen.contains(&next) || seen.len() > 10 {
                seen.push(next);
                return Some(seen.join(" → "));
            }
            seen.push(next.clone());
            path = next;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(from: &str, kind: Match, to: &str) -> Redirect {
        Redirect {
            source: RedirectSource::parse(from).unwrap(),
            kind,
            target: RedirectTarget::parse(to).unwrap(),
            status: 301,
        }
    }

    #[test]
    fn hostile_parts_are_refused() {
        for bad in [
            "old",
            "/a b",
            "/a;b",
            "/a\"",
            "/a$x",
            "/a{",
            "/../etc",
            "/a//b",
            "/a?x=1",
            "/.well-known/acme-challenge/x",
            "/a\nb",
        ] {
            assert!(RedirectSource::parse(bad).is_err(), "{bad:?}");
        }
        for bad in [
            "",
            "new",
            "//evil.com",
            "javascript:alert(1)",
            "https://",
            "https://a b",
            "https://x.com/\";include /etc/passwd;\"",
            "https://u@x.com/",
            "https://x.com:99999/",
            "https://x.com/$host",
            "ftp://x.com/",
        ] {
            assert!(RedirectTarget::parse(bad).is_err(), "{bad:?}");
        }
        assert!(RedirectTarget::parse("https://example.org/news?a=1&b=2#top").is_ok());
        assert!(RedirectTarget::parse("/new-page").is_ok());
    }

    #[test]
    fn loops_are_found_directly_through_prefixes_and_through_own_urls() {
        let names = vec!["shop.example.com".to_owned()];
        assert_eq!(find_loop(&[r("/a", Match::Exact, "/b")], &names), None);
        assert!(find_loop(&[r("/a", Match::Exact, "/a")], &names).is_some());
        let two = [
            r("/a", Match::Exact, "/b"),
            r("/b", Match::Exact, "https://shop.example.com/a"),
        ];
        assert_eq!(find_loop(&two, &names).unwrap(), "/a → /b → /a");
        // A prefix into itself grows the path forever.
        assert!(find_loop(&[r("/blog", Match::Prefix, "/blog/archive")], &names).is_some());
        // Elsewhere is not a loop, nor a prefix to a sibling.
        assert_eq!(
            find_loop(
                &[r("/blog", Match::Prefix, "https://other.example/blog")],
                &names
            ),
            None
        );
        assert_eq!(
            find_loop(&[r("/blog", Match::Prefix, "/news")], &names),
            None
        );
    }
}
