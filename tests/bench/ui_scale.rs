//! Benchmark: every list page of a panel seeded to hosting-company size, side by side with
//! `/healthz` in one run, at 8 concurrent connections; prints each page's size, p50 and p99,
//! its p99 as a multiple of `/healthz`'s, and the panel's anonymous memory idle and under load
//! (targets: every page p99 ≤ 25 ms and ≤ 300 KB; RSS < 60 MB idle, < 80 MB under load).
//!
//! `cargo bench --bench ui_scale` seeds 1,000 servers, 20,000 sites and 200,000 SELinux
//! records (`panel dev seed`) and drives each page for 3 s. Without `--bench` (CI runs every
//! target through `cargo test --all-targets`) it seeds a small panel and drives each page
//! briefly: it then checks only that every page answers 200 within the size bound.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 8;

fn anon_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("RssAnon:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

struct Panel(Child);

impl Drop for Panel {
    fn drop(&mut self) {
        // SIGTERM: the panel closes its database cleanly.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

/// One page driven by `CONNECTIONS` clients for `span`: sorted latencies.
async fn drive(client: &reqwest::Client, url: &str, cookie: &str, span: Duration) -> Vec<Duration> {
    let until = Instant::now() + span;
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (client, url, cookie) = (client.clone(), url.to_owned(), cookie.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while Instant::now() < until {
                let start = Instant::now();
                let r = client
                    .get(&url)
                    .header("Cookie", &cookie)
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                r.bytes().await.unwrap();
                assert!(status.is_success(), "{url}: {status}");
                times.push(start.elapsed());
            }
            times
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    all
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (servers, sites, audit, span) = if full {
        (1_000, 20_000, 200_000, Duration::from_secs(3))
    } else {
        (10, 300, 3_000, Duration::from_millis(200))
    };
    let bin = env!("CARGO_BIN_EXE_panel");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();

    let started = Instant::now();
    let out = Command::new(bin)
        .args(["--data-dir", data, "dev", "seed"])
        .args([
            "--servers",
            &servers.to_string(),
            "--sites",
            &sites.to_string(),
        ])
        .args(["--audit", &audit.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "seed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "seeded {servers} servers, {sites} sites, {audit} SELinux records in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // A signed-in session, made the way the login makes one (the benchmark has no passkey).
    let token = format!("{:064x}", rand_u128() ^ 0x5eed);
    {
        let pool = panel::db::open(dir.path()).await.unwrap();
        let user = panel::ids::UserId::generate();
        let mut conn = pool.acquire().await.unwrap();
        panel::db::users::insert(
            &mut conn,
            user,
            "bench@example.com",
            "Bench",
            panel::domain::Role::Owner,
        )
        .await
        .unwrap();
        drop(conn);
        panel::db::sessions::insert(
            &pool,
            &panel::db::sessions::NewSession {
                token_hash: &panel::auth::hash_token(&token),
                user_id: Some(user),
                csrf_token: "bench",
                ip: None,
                user_agent: None,
                expires_at: panel::db::timestamp(chrono::Utc::now() + chrono::Duration::hours(1)),
            },
        )
        .await
        .unwrap();
        panel::db::close(&pool).await;
    }
    let cookie = format!("panel_session={token}");

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(bin)
        .args([
            "--data-dir",
            data,
            "--listen",
            &format!("127.0.0.1:{port}"),
            "serve",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let panel = Panel(child);
    let pid = panel.0.id();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = anon_rss_mb(pid);

    // A deep page: the sites list 40 pages in (or as far as a small panel goes).
    let mut deep = "/sites".to_owned();
    for _ in 0..40 {
        let html = client
            .get(format!("{base}{deep}"))
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        match next_link(&html) {
            Some(next) => deep = next,
            None => break,
        }
    }
    // The first seeded site and server (`db::seed` ids).
    let site = "/sites/0SEED300000000000000000000".to_owned();
    let pages: Vec<String> = [
        "/healthz",
        "/",
        "/servers",
        "/sites",
        "/databases",
        "/selinux",
        "/jobs",
        "/deployments",
        "/certificates",
        "/servers/0SEED100000000000000000000",
        &site,
        "/sites?q=site1999",
        "/selinux?type=laravel_php_fpm_t",
        &deep,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();

    let peak = Arc::new(std::sync::Mutex::new(idle));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                let now = anon_rss_mb(pid);
                {
                    let mut p = peak.lock().unwrap();
                    *p = p.max(now);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    println!(
        "{:<44} {:>9} {:>9} {:>9} {:>8} {:>9}",
        "page", "size", "p50 ms", "p99 ms", "req/s", "p99/healthz"
    );
    let mut healthz_p99 = 0.0;
    let mut over = 0;
    for page in &pages {
        let url = format!("{base}{page}");
        let body = client
            .get(&url)
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert!(body.status().is_success(), "{page}: {}", body.status());
        let size = body.bytes().await.unwrap().len();
        assert!(
            size <= 300_000,
            "{page} is {size} bytes: a page must stay bounded"
        );
        let times = drive(&client, &url, &cookie, span).await;
        let (p50, p99) = (pct(&times, 0.50), pct(&times, 0.99));
        if page == "/healthz" {
            healthz_p99 = p99.max(0.001);
        }
        if p99 > 25.0 {
            over += 1;
        }
        let shown: String = page.chars().take(44).collect();
        println!(
            "{shown:<44} {size:>9} {p50:>9.2} {p99:>9.2} {:>8.0} {:>8.1}×",
            times.len() as f64 / span.as_secs_f64(),
            p99 / healthz_p99
        );
    }
    sampler.abort();
    let peak = *peak.lock().unwrap();
    println!(
        "anonymous RSS: {idle:.1} MB idle (target < 60), {peak:.1} MB peak under load (target < 80); {over} page(s) over 25 ms p99"
    );
    drop(panel);
}

/// The pager's "Next" link of a list page.
fn next_link(html: &str) -> Option<String> {
    let at = html.find("rel=\"next\"")?;
    let tag_start = html[..at].rfind("<a ")?;
    let tag = &html[tag_start..at];
    let href = tag.split("href=\"").nth(1)?.split('"').next()?;
    Some(href.replace("&amp;", "&"))
}

fn rand_u128() -> u128 {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).unwrap();
    u128::from_le_bytes(b)
}
