//! Static files (stylesheet, htmx, its SSE extension, our small script) embedded in the binary
//! and served under content-hashed names (`app.1a2b3c4d5e.css`) with a one-year immutable cache:
//! a new build changes the name, so browsers never run stale code. Nothing comes from a CDN.

use std::collections::HashMap;
use std::sync::LazyLock;

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{Request, Response, handler};

#[derive(rust_embed::Embed)]
#[folder = "static/"]
#[exclude = "*.sh"]
#[exclude = "*.md"]
#[exclude = "src/*"]
struct Static;

struct Entry {
    logical: String,
    etag: String,
}

struct Table {
    /// logical name → public URL with the hash in it
    urls: HashMap<String, &'static str>,
    /// hashed file name → what it is
    by_hashed: HashMap<String, Entry>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut urls = HashMap::new();
    let mut by_hashed = HashMap::new();
    for name in Static::iter() {
        let file = Static::get(&name).expect("listed file exists");
        let hash = hex::encode(file.metadata.sha256_hash());
        let hashed = hashed_name(&name, &hash[..10]);
        let url: &'static str =
            Box::leak(format!("{}/{}", crate::paths::STATIC, hashed).into_boxed_str());
        urls.insert(name.to_string(), url);
        by_hashed.insert(
            hashed,
            Entry {
                logical: name.to_string(),
                etag: format!("\"{hash}\""),
            },
        );
    }
    Table { urls, by_hashed }
});

/// `dir/app.css` + `abc` → `dir/app.abc.css`.
fn hashed_name(name: &str, hash: &str) -> String {
    match name.rfind('.') {
        Some(dot) if !name[dot..].contains('/') => {
            format!("{}.{hash}{}", &name[..dot], &name[dot..])
        }
        _ => format!("{name}.{hash}"),
    }
}

/// The public URL of an embedded file. Unknown names are a programming error: they panic in
/// tests (every page is rendered there) rather than ship a broken link.
pub fn url(name: &str) -> &'static str {
    TABLE
        .urls
        .get(name)
        .copied()
        .unwrap_or_else(|| panic!("no embedded static file named {name}"))
}

/// All logical names with their URLs (for tests and diagnostics).
pub fn all() -> Vec<(String, &'static str)> {
    let mut v: Vec<_> = TABLE.urls.iter().map(|(k, v)| (k.clone(), *v)).collect();
    v.sort();
    v
}

#[handler]
pub fn serve(Path(path): Path<String>, req: &Request) -> Response {
    let Some(entry) = TABLE.by_hashed.get(&path) else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    };
    if req.header(header::IF_NONE_MATCH) == Some(entry.etag.as_str()) {
        return Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, entry.etag.as_str())
            .finish();
    }
    let file = Static::get(&entry.logical).expect("table built from embedded files");
    let mime = file.metadata.mimetype();
    let content_type = if mime.starts_with("text/") || mime.ends_with("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .header(header::ETAG, entry.etag.as_str())
        .body(file.data.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_hash_before_the_extension() {
        assert_eq!(hashed_name("app.css", "abc"), "app.abc.css");
        assert_eq!(
            hashed_name("vendor/htmx.min.js", "abc"),
            "vendor/htmx.min.abc.js"
        );
        assert_eq!(hashed_name("LICENSE", "abc"), "LICENSE.abc");
    }

    #[test]
    fn every_page_asset_is_embedded() {
        for name in [
            "app.css",
            "vendor/htmx.min.js",
            "vendor/sse.min.js",
            "panel.js",
        ] {
            assert!(url(name).starts_with("/static/"), "{name}");
        }
    }
}
