//! Hostile HTTP against the `panel` binary as an operator runs it: bodies without a length
//! over plain-TCP HTTP/2, floods of cookie-less login page views and of ceremony starts, and
//! the rules for plain-http public URLs (refused off loopback unless allowed, then bannered;
//! HSTS when https). The panel's memory is read from /proc, its database with SQLite.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;

use crate::binary::{panel, sigterm, start};

const URL: &str = "http://localhost:8095";

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A body of `total` bytes in 64 KiB chunks, with no length announced; `sent` counts what the
/// server actually took.
fn endless(total: usize, sent: Arc<AtomicUsize>) -> reqwest::Body {
    const CHUNK: usize = 64 * 1024;
    let chunk = bytes_of(CHUNK);
    let stream = futures_util::stream::iter(0..total / CHUNK).map(move |_| {
        sent.fetch_add(CHUNK, Ordering::Relaxed);
        Ok::<_, std::io::Error>(chunk.clone())
    });
    reqwest::Body::wrap_stream(stream)
}

fn bytes_of(n: usize) -> Vec<u8> {
    vec![b'{'; n]
}

/// The pre-login cookie (`NAME=VALUE`) and CSRF token a login page hands out.
async fn prelogin(resp: reqwest::Response) -> (String, String) {
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = resp.text().await.unwrap();
    let csrf = html
        .split("data-csrf=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    (cookie, csrf)
}

async fn sessions(data: &std::path::Path) -> i64 {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(data.join("panel.sqlite"))
        .read_only(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let n = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_bodies_without_a_length_are_cut_off_and_page_views_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut child, addr, _) = start(
        &["serve"],
        &[
            ("PANEL_LISTEN", "127.0.0.1:0"),
            ("PANEL_DATA_DIR", data.to_str().unwrap()),
            ("PANEL_URL", URL),
        ],
    );
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let page = h2.get(format!("http://{addr}/login")).send().await.unwrap();
    assert_eq!(
        page.version(),
        reqwest::Version::HTTP_2,
        "plain-TCP h2 is spoken"
    );
    assert_eq!(page.status(), 200);
    // With a valid pre-login token, the ceremony's end would read its JSON body.
    let (cookie, csrf) = prelogin(page).await;

    // 100 MB bodies, no Content-Length, over h2: to the end of the login ceremony (which reads
    // a JSON body), a signed-in-only form and the public webhook; three at once to the first.
    let before = rss_kib(child.id());
    let hundred_mb = 100 * 1024 * 1024;
    let routes = [
        "/login/finish",
        "/sites",
        "/api/webhooks/deploy/01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "/login/finish",
        "/login/finish",
        "/login/finish",
    ];
    let sent: Vec<Arc<AtomicUsize>> = routes.iter().map(|_| Arc::default()).collect();
    let requests = routes.iter().zip(&sent).map(|(route, sent)| {
        h2.post(format!("http://{addr}{route}"))
            .header("Origin", URL)
            .header("Cookie", &cookie)
            .header("X-CSRF-Token", &csrf)
            .header("Content-Type", "application/json")
            .body(endless(hundred_mb, sent.clone()))
            .send()
    });
    let (first, rest) = routes.split_at(3);
    let mut answers = Vec::new();
    // The first three one after the other, the last three at once.
    let mut requests = requests.collect::<Vec<_>>().into_iter();
    for _ in first {
        answers.push(requests.next().unwrap().await);
    }
    answers.extend(futures_util::future::join_all(requests.take(rest.len())).await);
    for ((route, answer), sent) in routes.iter().zip(answers).zip(&sent) {
        let resp = answer.unwrap_or_else(|e| panic!("{route}: {e:?}"));
        assert_eq!(resp.status(), 413, "{route}");
        let took = sent.load(Ordering::Relaxed);
        assert!(
            took < 16 * 1024 * 1024,
            "{route}: the panel stopped reading early, not after {took} bytes"
        );
    }
    let after = rss_kib(child.id());
    println!(
        "RSS before {before} KiB, after six 100 MB h2 bodies {after} KiB (+{} KiB)",
        after.saturating_sub(before)
    );
    assert!(
        after < before + 32 * 1024,
        "the panel's memory grew from {before} to {after} KiB"
    );
    // It still answers.
    assert_eq!(
        h2.get(format!("http://{addr}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // 10,000 cookie-less views of the login page: nothing stored.
    let h1 = reqwest::Client::new();
    let ok = futures_util::stream::iter(0..10_000)
        .map(|_| {
            let h1 = h1.clone();
            let url = format!("http://{addr}/login");
            async move { h1.get(url).send().await.map(|r| r.status()) }
        })
        .buffer_unordered(16)
        .filter(|s| std::future::ready(matches!(s, Ok(s) if *s == 200)))
        .count()
        .await;
    assert_eq!(ok, 10_000);
    assert_eq!(sessions(&data).await, 0, "page views store no session");

    // Ceremony starts make the pre-login session: a client that never keeps its cookie makes
    // a new one each time, up to the per-address rate limit, then is refused.
    let (cookie, csrf) =
        prelogin(h1.get(format!("http://{addr}/login")).send().await.unwrap()).await;
    let mut refused = 0;
    for _ in 0..200 {
        let status = h1
            .post(format!("http://{addr}/login/options"))
            .header("Cookie", &cookie)
            .header("Origin", URL)
            .header("X-CSRF-Token", &csrf)
            .header("Content-Type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap()
            .status();
        assert!(status == 200 || status == 429, "{status}");
        refused += usize::from(status == 429);
    }
    let rows = sessions(&data).await;
    assert!(
        rows <= i64::from(panel::auth::ratelimit::PER_IP_PER_MINUTE),
        "{rows} sessions"
    );
    assert_eq!(refused, 200 - rows as usize, "the rest were refused");

    sigterm(&child);
    assert!(child.wait().unwrap().success());
}

#[tokio::test]
async fn plain_http_off_loopback_needs_insecure_http_and_shows_a_banner() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let env = |url: &'static str| {
        vec![
            ("PANEL_LISTEN", "127.0.0.1:0"),
            ("PANEL_DATA_DIR", data),
            ("PANEL_URL", url),
        ]
    };

    // Refused, naming the way out.
    let out = panel()
        .env("PANEL_URL", "http://panel.example.com")
        .env("PANEL_DATA_DIR", data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("plain http") && stderr.contains("--insecure-http"),
        "{stderr}"
    );

    // Allowed: every page says so; no HSTS over http.
    let mut allowed = env("http://panel.example.com");
    allowed.push(("PANEL_INSECURE_HTTP", "true"));
    let (mut child, addr, _) = start(&["serve"], &allowed);
    let resp = reqwest::get(format!("http://{addr}/login")).await.unwrap();
    assert!(resp.headers().get("strict-transport-security").is_none());
    let page = resp.text().await.unwrap();
    assert!(page.contains("data-insecure-http"), "{page}");
    sigterm(&child);
    assert!(child.wait().unwrap().success());

    // Loopback: no banner.
    let (mut child, addr, _) = start(&["serve"], &env("http://127.0.0.1:8095"));
    let page = reqwest::get(format!("http://{addr}/login"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("data-insecure-http"));
    sigterm(&child);
    assert!(child.wait().unwrap().success());

    // https (behind a TLS proxy until the panel terminates TLS itself): HSTS on every answer.
    let (mut child, addr, _) = start(&["serve"], &env("https://panel.example.com"));
    let resp = reqwest::get(format!("http://{addr}/login")).await.unwrap();
    let hsts = resp.headers()["strict-transport-security"]
        .to_str()
        .unwrap();
    assert!(hsts.contains("max-age="), "{hsts}");
    // Its cookies carry the `__Host-` prefix: no neighbouring subdomain can set them.
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("__Host-panel_prelogin=")
            && cookie.contains("; Secure")
            && cookie.contains("Path=/")
            && !cookie.contains("Domain"),
        "{cookie}"
    );
    assert!(!resp.text().await.unwrap().contains("data-insecure-http"));
    sigterm(&child);
    assert!(child.wait().unwrap().success());
}
