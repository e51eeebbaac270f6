//! A site's PHP settings, redirects and logs through the UI on an isolated node: what is saved
//! is what the site's PHP reports (its pool's `php_admin_value`s, reloaded), nginx lets bodies
//! of the new size through, a form typed wrong is answered field by field with nothing stored
//! or written; redirects answer as set, loops and hostile parts refused; the log viewer follows
//! a request live, escaped, and never shows another site's.

use panel::domain::SiteStatus;

use crate::harness::{
    IsolatedNode, create_site, onboard, panel_for, refused_with, wait_for, wait_job, wait_site,
};

const INFO: &str = "<?php echo implode('|', [ini_get('memory_limit'), ini_get('upload_max_filesize'), ini_get('post_max_size'), ini_get('date.timezone'), ini_get('max_input_vars'), var_export((bool) ini_get('display_errors'), true)]), \"\\n\";";

fn sha(node: &IsolatedNode, path: &str) -> String {
    String::from_utf8_lossy(&node.root(&format!("sha256sum {path}"), "").stdout).into_owned()
}

// Multi-threaded: the node's callbacks reach the panel while the test blocks on `ssh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php_settings_saved_in_the_ui_are_what_the_sites_php_reports() {
    let (node, app, user, server, setup_url) = panel_for(IsolatedNode::start_web()).await;
    onboard(&app, &node, server, &setup_url).await;
    wait_for(&app, server, "active").await;
    let site = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", "php.example.com"),
            ("app_type", "generic"),
            ("php_version", "8.2"),
            ("database", "none"),
        ],
    )
    .await;
    let site = wait_site(&app, site, SiteStatus::Active).await;
    let web = site.username.clone().unwrap();
    let out = node.root(
        &format!("install -m 0644 -o {web} -g {web} /dev/stdin /home/{web}/public_html/info.php"),
        INFO,
    );
    assert!(out.status.success());
    let (code, before) = node.http("php.example.com", "/info.php");
    assert_eq!(code, 200, "{before}");
    assert!(!before.starts_with("200M|"), "{before}");

    // Typed wrong: every field answered at once; nothing stored, the pool untouched.
    let pool = format!("/etc/panel/php-fpm/{web}.conf");
    let pool_before = sha(&node, &pool);
    let body = refused_with(
        &user,
        &format!("/sites/{}/php", site.id),
        &[
            ("memory_limit", "1T"),
            ("upload_max_filesize", "100M"),
            ("post_max_size", "50M"),
            ("max_execution_time", "ten"),
            ("timezone", "Europe/Berlin\nphp_admin_value[open_basedir]=/"),
            ("display_errors", "sometimes"),
        ],
        &[
            "a size in megabytes",
            "at least the upload size (100M)",
            "a whole number of seconds",
            "is not a time zone name",
            "on, off, or PHP",
        ],
    )
    .await;
    assert!(body.contains("data-error-summary"), "{body}");
    let stored = panel::db::sites::get(app.db(), site.id)
        .await
        .unwrap()
        .unwrap()
        .php_settings;
    assert_eq!(stored, None);
    assert_eq!(sha(&node, &pool), pool_before);

    // Saved: applied by a job, then the site's own PHP says so.
    let resp = user
        .post_form(
            &format!("/sites/{}/php", site.id),
            &[
                ("memory_limit", "200M"),
                ("upload_max_filesize", "100M"),
                ("post_max_size", "120M"),
                ("max_execution_time", "90"),
                ("max_input_vars", "5000"),
                ("timezone", "Europe/Berlin"),
                ("display_errors", "off"),
                ("opcache", "on"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let job = location.split_once("?job=").unwrap().1.parse().unwrap();
    let job = wait_job(&app, job).await;
    assert_eq!(job.status.as_str(), "success", "{job:?}");
    let (code, after) = node.http("php.example.com", "/info.php");
    assert_eq!(code, 200, "{after}");
    assert_eq!(after.trim(), "200M|100M|120M|Europe/Berlin|5000|false");
    let vhost = node.root(
        "cat /etc/nginx/sites-available/php.example.com.conf 2>/dev/null || cat /etc/nginx/conf.d/php.example.com.conf",
        "",
    );
    assert!(
        String::from_utf8_lossy(&vhost.stdout).contains("client_max_body_size 120m;"),
        "{}",
        String::from_utf8_lossy(&vhost.stdout)
    );
    // The tab shows what is stored.
    let tab = user.get(&format!("/sites/{}/php", site.id)).await;
    let tab = tab.text().await.unwrap();
    assert!(
        tab.contains("value=\"200M\"") && tab.contains("value=\"Europe/Berlin\""),
        "{tab}"
    );

    redirects(&node, &app, &user, site.id).await;
    custom_block(&node, &app, &user, site.id).await;
    logs(&node, &app, &user, server, site.id, &web).await;
    app.stop().await;
}

/// A custom nginx block: served once applied; a hostile one refused with the reason (nothing
/// stored); one that passes the panel's checks but not nginx's is rolled back, the previous
/// block stored again and still served.
async fn custom_block(
    node: &IsolatedNode,
    app: &crate::harness::TestApp,
    user: &crate::harness::LoggedIn,
    site: panel::ids::SiteId,
) {
    let path = format!("/sites/{site}/nginx");
    let good = "location = /custom-probe {\n    default_type text/plain;\n    return 200 \"custom-ok\";\n}";
    applied(app, user.post_form(&path, &[("block", good)]).await).await;
    assert_eq!(
        node.http("php.example.com", "/custom-probe"),
        (200, "custom-ok".to_owned())
    );
    let stored = || async {
        panel::db::sites::get(app.db(), site)
            .await
            .unwrap()
            .unwrap()
            .nginx_custom
    };
    for (hostile, reason) in [
        ("root /;", "`root` is refused"),
        (
            "include /etc/nginx/nginx.conf;",
            "reads files from outside the site",
        ),
        (
            "location /x {\n    alias /home/other/;\n}",
            "line 2: `alias` is refused",
        ),
    ] {
        let resp = user.post_form(&path, &[("block", hostile)]).await;
        assert_eq!(resp.status(), 422, "{hostile}");
        let body = resp.text().await.unwrap();
        assert!(body.contains(reason), "{hostile}: {body}");
        assert_eq!(stored().await.as_deref(), Some(good));
    }
    // Past the panel's checks, refused by `nginx -t`: rolled back.
    let resp = user
        .post_form(&path, &[("block", "add_header X-Only-One;")])
        .await;
    assert_eq!(resp.status(), 303);
    let job = resp.headers()["location"]
        .to_str()
        .unwrap()
        .split_once("?job=")
        .unwrap()
        .1
        .parse()
        .unwrap();
    let job = wait_job(app, job).await;
    assert_eq!(job.status.as_str(), "failed", "{job:?}");
    assert_eq!(stored().await.as_deref(), Some(good));
    assert_eq!(
        node.http("php.example.com", "/custom-probe"),
        (200, "custom-ok".to_owned())
    );
    let vhost = node.root("cat /etc/nginx/sites-available/php.example.com.conf", "");
    assert!(!String::from_utf8_lossy(&vhost.stdout).contains("X-Only-One"));
}

/// The log viewer: a request shows up in the live view within a second, its hostile request
/// line escaped; search and download find it; PHP's own errors are read; another site's
/// requests never appear.
async fn logs(
    node: &IsolatedNode,
    app: &crate::harness::TestApp,
    user: &crate::harness::LoggedIn,
    server: panel::ids::ServerId,
    site: panel::ids::SiteId,
    web: &str,
) {
    use futures_util::StreamExt;
    let other = create_site(
        app,
        user,
        server,
        &[
            ("domain", "other.example.com"),
            ("app_type", "generic"),
            ("php_version", "8.2"),
            ("database", "none"),
        ],
    )
    .await;
    wait_site(app, other, SiteStatus::Active).await;
    let page = user.get(&format!("/sites/{site}/logs")).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let stream_url = page
        .split("sse-connect=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    let events = user.get(&stream_url).await;
    assert_eq!(events.status(), 200);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = seen.clone();
    let reader = tokio::spawn(async move {
        let mut body = events.bytes_stream();
        while let Some(Ok(chunk)) = body.next().await {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    // Another site's request first, then this site's (with a hostile request line).
    node.root(
        "curl -s -o /dev/null -H 'Host: other.example.com' 'http://127.0.0.1/other-site-probe'",
        "",
    );
    let asked = std::time::Instant::now();
    node.root(
        "curl -s -o /dev/null -H 'Host: php.example.com' 'http://127.0.0.1/<script>alert(1)</script>?probe=live-7'",
        "",
    );
    loop {
        if seen.lock().unwrap().contains("probe=live-7") {
            break;
        }
        assert!(
            asked.elapsed() < std::time::Duration::from_secs(1),
            "the request was not shown within a second: {}",
            seen.lock().unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    println!("request shown in the live log after {:?}", asked.elapsed());
    reader.abort();
    let text = seen.lock().unwrap().clone();
    assert!(
        text.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !text.contains("<script>alert"),
        "{text}"
    );
    assert!(!text.contains("other-site-probe"), "{text}");

    // Search and download find it; the other site's log has nothing of this site's.
    let found = user
        .get(&format!("/sites/{site}/logs?log=access&q=probe%3Dlive-7"))
        .await
        .text()
        .await
        .unwrap();
    assert!(found.contains("data-log-found=\"1\""), "{found}");
    let file = user
        .get(&format!("/sites/{site}/logs/download?log=access"))
        .await;
    assert!(
        file.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let file = file.text().await.unwrap();
    assert!(file.contains("probe=live-7") && !file.contains("other-site-probe"));
    let theirs = user
        .get(&format!("/sites/{other}/logs?log=access"))
        .await
        .text()
        .await
        .unwrap();
    assert!(theirs.contains("other-site-probe") && !theirs.contains("probe=live-7"));

    // PHP's own errors, from the site's home (read as the site's user).
    node.root(
        &format!("install -m 0644 -o {web} -g {web} /dev/stdin /home/{web}/public_html/err.php"),
        "<?php error_log('PHPLOG-MARK from the test');",
    );
    node.http("php.example.com", "/err.php");
    let php = user
        .get(&format!("/sites/{site}/logs?log=php"))
        .await
        .text()
        .await
        .unwrap();
    assert!(php.contains("PHPLOG-MARK from the test"), "{php}");
    // A request still running after five seconds: its backtrace in the slow log (root's file,
    // written by the master).
    node.root(
        &format!("install -m 0644 -o {web} -g {web} /dev/stdin /home/{web}/public_html/slow.php"),
        "<?php function slow_marker_fn() { sleep(7); } slow_marker_fn(); echo 'done';",
    );
    let (code, body) = node.http("php.example.com", "/slow.php");
    assert_eq!(
        (code, body.as_str()),
        (200, "done"),
        "a slow request still answers"
    );
    let slow = user
        .get(&format!("/sites/{site}/logs?log=slow"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        slow.contains("slow_marker_fn()")
            && slow.contains(&format!("/home/{web}/public_html/slow.php")),
        "{slow}"
    );
    // A search typed wrong is answered under its field.
    let resp = user.get(&format!("/sites/{site}/logs?q=a%0Ab")).await;
    assert_eq!(resp.status(), 422);
}

/// What nginx answers for `path` on the site: "STATUS LOCATION".
fn answer(node: &IsolatedNode, path: &str) -> String {
    let out = node.root(
        &format!(
            "curl -s -o /dev/null -w '%{{http_code}} %{{redirect_url}}' -H 'Host: php.example.com' 'http://127.0.0.1{path}'"
        ),
        "",
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

async fn applied(app: &crate::harness::TestApp, resp: reqwest::Response) {
    let status = resp.status();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let body = resp.text().await.unwrap();
    assert_eq!(status, 303, "{body}");
    let job = location
        .unwrap()
        .split_once("?job=")
        .unwrap()
        .1
        .parse()
        .unwrap();
    let job = wait_job(app, job).await;
    assert_eq!(job.status.as_str(), "success", "{job:?}");
}

async fn add(
    user: &crate::harness::LoggedIn,
    path: &str,
    [source, kind, target, status]: [&str; 4],
) -> reqwest::Response {
    user.post_form(
        path,
        &[
            ("source", source),
            ("kind", kind),
            ("target", target),
            ("status", status),
        ],
    )
    .await
}

/// Redirects: the right status and location (the rest of the path and the query kept), a loop
/// and hostile parts refused with the reason, a removed one gone.
async fn redirects(
    node: &IsolatedNode,
    app: &crate::harness::TestApp,
    user: &crate::harness::LoggedIn,
    site: panel::ids::SiteId,
) {
    let path = format!("/sites/{site}/redirects");
    applied(
        app,
        add(user, &path, ["/old", "exact", "/new", "301"]).await,
    )
    .await;
    applied(
        app,
        add(
            user,
            &path,
            ["/blog", "prefix", "https://news.example.org/b/", "308"],
        )
        .await,
    )
    .await;
    assert_eq!(
        answer(node, "/old?x=1"),
        "301 http://php.example.com/new?x=1"
    );
    assert_eq!(answer(node, "/older"), "404");
    assert_eq!(answer(node, "/blog"), "308 https://news.example.org/b/");
    assert_eq!(
        answer(node, "/blog/2024/post?p=2"),
        "308 https://news.example.org/b/2024/post?p=2"
    );
    assert_eq!(answer(node, "/info.php").split(' ').next(), Some("200"));

    // A loop back through the site's own URL, and hostile parts: refused with the reason.
    let resp = add(
        user,
        &path,
        ["/new", "exact", "http://php.example.com/old", "302"],
    )
    .await;
    assert_eq!(resp.status(), 422);
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("round in a loop: /old → /new → /old"),
        "{body}"
    );
    let resp = add(
        user,
        &path,
        ["/x", "exact", "/y\"; include /etc/passwd; \"", "301"],
    )
    .await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("cannot be in a redirect")
    );
    let resp = add(
        user,
        &path,
        ["/.well-known/acme-challenge/t", "exact", "/y", "301"],
    )
    .await;
    assert_eq!(resp.status(), 422);
    let stored = panel::db::sites::get(app.db(), site)
        .await
        .unwrap()
        .unwrap()
        .redirects
        .unwrap();
    assert!(
        !stored.contains("passwd") && !stored.contains("acme"),
        "{stored}"
    );

    // Removed: the site answers the path again.
    applied(
        app,
        user.post_form(&format!("{path}/delete"), &[("source", "/old")])
            .await,
    )
    .await;
    assert_eq!(answer(node, "/old"), "404");
    let tab = user.get(&path).await.text().await.unwrap();
    assert!(
        tab.contains("news.example.org") && !tab.contains("data-redirect=\"/old\""),
        "{tab}"
    );
}
