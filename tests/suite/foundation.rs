//! The HTTP skeleton: health, the anonymous gate, static assets, error rendering.

use panel::web::{Access, assets, routes};

use crate::harness::{TestApp, referenced_urls};

#[tokio::test]
async fn healthz_reports_the_database() {
    let app = TestApp::spawn().await;
    let resp = app.get("/healthz").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");

    // With the database closed underneath it, the health check says so.
    app.db().close().await;
    let resp = app.get("/healthz").await;
    assert_eq!(resp.status(), 503);
    app.stop().await;
}

/// The routes reachable without logging in, listed here on purpose: a route added later that is
/// not meant to be public fails this test instead of slipping through.
const NOT_LOGGED_IN: &[(&str, &str, Access)] = &[
    ("GET", "/healthz", Access::Public),
    ("GET", "/static/*path", Access::Public),
    ("GET", "/login", Access::Anonymous),
    ("POST", "/login/options", Access::Anonymous),
    ("POST", "/login/finish", Access::Anonymous),
    ("GET", "/enrol/:token", Access::Anonymous),
    ("POST", "/enrol/:token/options", Access::Anonymous),
    ("POST", "/enrol/:token/finish", Access::Anonymous),
    // Carry their own secrets: a one-time token, an HMAC signature (a site's webhook secret).
    ("GET", "/setup/:token", Access::Public),
    ("POST", "/api/callbacks/server-ready", Access::Public),
    ("POST", "/api/callbacks/site-created", Access::Public),
    ("POST", "/api/webhooks/deploy/:id", Access::Public),
];

/// Walk the whole route table: every route that is not on the short public list refuses an
/// anonymous request, and the anonymous ones refuse a state change without a CSRF token.
#[tokio::test]
async fn every_non_public_route_refuses_anonymous_requests() {
    let app = TestApp::spawn().await;
    let table = routes();
    let mut open: Vec<(String, &str, Access)> = table
        .iter()
        .filter(|r| !matches!(r.access, Access::User(_)))
        .map(|r| (r.method.to_string(), r.path, r.access))
        .collect();
    open.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    let mut expected: Vec<(String, &str, Access)> = NOT_LOGGED_IN
        .iter()
        .map(|(m, p, a)| (m.to_string(), *p, *a))
        .collect();
    expected.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    assert_eq!(open, expected, "routes reachable without login");
    for route in table
        .iter()
        .filter(|r| r.access == Access::Anonymous && r.method == poem::http::Method::POST)
    {
        let path = panel::paths::with_id(route.path, "x");
        let resp = app
            .client
            .post(app.url(&path))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "POST {path} without a session or token");
    }
    assert!(table.iter().any(|r| matches!(r.access, Access::User(_))));
    for route in table.iter().filter(|r| matches!(r.access, Access::User(_))) {
        let path = panel::paths::with_id(route.path, "01JD000000000000000000000A");
        let resp = app
            .client
            .request(route.method.clone(), app.url(&path))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        if route.method == poem::http::Method::GET {
            assert_eq!(status, 303, "GET {path}");
            // Back to the page asked for after logging in (the dashboard is the default).
            let back = if path == "/" {
                "/login".to_owned()
            } else {
                format!("/login?next={path}")
            };
            assert_eq!(resp.headers()["location"], back.as_str(), "GET {path}");
        } else {
            assert_eq!(status, 401, "{} {path}", route.method);
        }
        // htmx requests are told where to go instead of being redirected.
        let resp = app
            .client
            .request(route.method.clone(), app.url(&path))
            .header("HX-Request", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "htmx {path}");
        assert_eq!(resp.headers()["hx-redirect"], "/login");
    }
    app.stop().await;
}

#[tokio::test]
async fn login_is_by_passkey_only_and_there_is_no_open_registration() {
    let app = TestApp::spawn().await;
    let resp = app.get("/login").await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("data-passkey=\"login\""));
    assert!(!html.contains("type=\"password\""));
    for path in ["/register", "/signup"] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn static_assets_are_hashed_typed_and_cached_for_a_year() {
    let app = TestApp::spawn().await;
    let expect = [
        ("app.css", "text/css; charset=utf-8"),
        ("panel.js", "text/javascript; charset=utf-8"),
        ("vendor/htmx.min.js", "text/javascript; charset=utf-8"),
        ("vendor/sse.min.js", "text/javascript; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ];
    for (name, content_type) in expect {
        let url = assets::url(name);
        let stem = name.rsplit_once('.').unwrap().0;
        assert!(url.starts_with(&format!("/static/{stem}.")), "{url}");
        let resp = app.get(url).await;
        assert_eq!(resp.status(), 200, "{url}");
        assert_eq!(resp.headers()["content-type"], content_type, "{url}");
        assert_eq!(
            resp.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
        let on_disk =
            std::fs::read(format!("{}/static/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert_eq!(resp.bytes().await.unwrap().as_ref(), on_disk.as_slice());
        let again = app
            .client
            .get(app.url(url))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
    }
    // Unhashed names, stale hashes and files outside the embed are not served.
    for url in [
        "/static/app.css",
        "/static/app.0000000000.css",
        "/static/regenerate.sh",
        "/static/src/input.css",
        "/static/../Cargo.toml",
    ] {
        assert_eq!(app.get(url).await.status(), 404, "{url}");
    }
    app.stop().await;
}

#[tokio::test]
async fn pages_reference_nothing_outside_the_panel() {
    let app = TestApp::spawn().await;
    let html = app.get("/login").await.text().await.unwrap();
    let urls = referenced_urls(&html);
    assert!(
        urls.iter().any(|u| u.starts_with("/static/app.")),
        "{urls:?}"
    );
    for u in &urls {
        assert!(
            u.starts_with('/') && !u.starts_with("//"),
            "external reference {u}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn responses_carry_a_strict_content_security_policy() {
    let app = TestApp::spawn().await;
    for path in ["/login", "/healthz", "/nope", "/servers"] {
        let resp = app.get(path).await;
        let csp = resp.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        assert_eq!(resp.headers()["x-frame-options"], "DENY");
    }
    app.stop().await;
}

#[tokio::test]
async fn errors_render_as_a_page_or_as_an_htmx_toast() {
    let app = TestApp::spawn().await;
    let resp = app.get("/no/such/page").await;
    assert_eq!(resp.status(), 404);
    let html = resp.text().await.unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("This page does not exist."));

    let resp = app
        .client
        .get(app.url("/no/such/page"))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["hx-retarget"], "#toasts");
    assert_eq!(resp.headers()["hx-reswap"], "beforeend");
    let fragment = resp.text().await.unwrap();
    assert!(!fragment.contains("<html"));
    assert!(fragment.contains("alert") && fragment.contains("This page does not exist."));

    let resp = app.client.delete(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    app.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = TestApp::spawn().await;
    let big = vec![b'a'; panel::web::MAX_BODY + 1];
    let resp = app
        .client
        .post(app.url("/login"))
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    // Without a declared length (chunked), the limit still holds.
    let stream = futures_util::stream::iter(
        big.chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let resp = app
        .client
        .post(app.url("/login"))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    app.stop().await;
}
