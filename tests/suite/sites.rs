//! Sites end to end on an isolated Debian node with nginx, PHP-FPM 8.2, MariaDB and PostgreSQL:
//! created through the HTTP UI, served through the node's nginx, reading their own `.env` and
//! connecting to their own databases; isolated from each other; suspended, resumed, deleted;
//! and resumed after a database outage with the finished steps skipped.

use std::time::{Duration, Instant};

use panel::domain::SiteStatus;
use panel::ids::SiteId;

use crate::harness::{
    IsolatedNode, LoggedIn, TestApp, create_site, onboard, panel_for, start_databases, wait_for,
    wait_site,
};

fn stop_mariadb(node: &IsolatedNode) {
    let out = node.root(
        "pkill -x mariadbd; for _ in $(seq 100); do pgrep -x mariadbd >/dev/null || exit 0; sleep 0.1; done; exit 1",
        "",
    );
    assert!(out.status.success(), "mariadbd did not stop");
}

/// A node with a panel, onboarded and active, its databases running.
async fn active_node() -> (IsolatedNode, TestApp, LoggedIn, panel::ids::ServerId) {
    let (node, app, user, id, setup_url) = panel_for(IsolatedNode::start_web()).await;
    onboard(&app, &node, id, &setup_url).await;
    let server = wait_for(&app, id, "active").await;
    assert_eq!(
        server.service_driver.as_str(),
        "direct",
        "no init system on the node"
    );
    start_databases(&node);
    (node, app, user, id)
}

/// `curl` on the node against its own nginx: (status, body). Status 0: no HTTP answer at all.
fn http(node: &IsolatedNode, host: &str, path: &str) -> (u16, String) {
    node.http(host, path)
}

/// A page that parses the site's `.env` (as a dotenv loader would, for these plain values) and
/// connects to the database with the generated credentials.
const DB_PAGE: &str = r#"<?php
$env = [];
$path = $_SERVER['PANEL_ENV'] ?? null;
foreach (file($path, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
    if ($line[0] === '#') continue;
    [$k, $v] = explode('=', $line, 2);
    $env[$k] = trim($v, "'\"");
}
$dsn = $env['DB_CONNECTION'] === 'pgsql'
    ? "pgsql:host={$env['DB_HOST']};port={$env['DB_PORT']};dbname={$env['DB_DATABASE']}"
    : "mysql:host={$env['DB_HOST']};dbname={$env['DB_DATABASE']}";
$pdo = new PDO($dsn, $env['DB_USERNAME'], $env['DB_PASSWORD']);
$who = $env['DB_CONNECTION'] === 'pgsql'
    ? $pdo->query('SELECT current_database() || \' \' || current_user')->fetchColumn()
    : $pdo->query('SELECT CONCAT(DATABASE(), \' \', CURRENT_USER())')->fetchColumn();
echo "OK {$env['APP_URL']} $who\n";
"#;

/// Put the test page where the site serves it, owned by the site user.
fn deploy_page(node: &IsolatedNode, user: &str, root: &str, name: &str, body: &str) {
    let page = body.replace(
        "$_SERVER['PANEL_ENV'] ?? null",
        &format!("'/home/{user}/.env'"),
    );
    let out = node.root(
        &format!("install -m 0644 -o {user} -g {user} /dev/stdin {root}/{name}"),
        &page,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// Multi-threaded: the node's callbacks reach the panel while the test blocks on `ssh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_of_each_type_are_provisioned_isolated_suspended_and_deleted() {
    let (node, app, user, server) = active_node().await;

    let wp = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", "blog.example.com"),
            ("aliases", "www.blog.example.com"),
            ("app_type", "wordpress"),
            ("php_version", "8.2"),
            ("database", "mariadb"),
        ],
    )
    .await;
    let laravel = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", "app.example.com"),
            ("app_type", "laravel"),
            ("php_version", "8.2"),
            ("database", "postgresql"),
        ],
    )
    .await;
    let php = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", "plain.example.com"),
            // The seed's name for it; "php" (used below) is still understood.
            ("app_type", "generic"),
            ("php_version", "8.2"),
            ("database", "mariadb"),
        ],
    )
    .await;
    let wp = wait_site(&app, wp, SiteStatus::Active).await;
    let laravel = wait_site(&app, laravel, SiteStatus::Active).await;
    let php = wait_site(&app, php, SiteStatus::Active).await;
    for s in [&wp, &laravel, &php] {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT created_at, line FROM job_log WHERE job_id = ? ORDER BY seq")
                .bind(s.last_job_id.unwrap())
                .fetch_all(app.db())
                .await
                .unwrap();
        for (at, line) in rows {
            eprintln!(
                "{at} {}: {}",
                s.domain,
                line.chars().take(150).collect::<String>()
            );
        }
        assert!(
            s.confirmed_at.is_some(),
            "{} was confirmed by the node",
            s.domain
        );
        assert!(s.uid.is_some());
    }
    let (wp_user, lv_user, php_user) = (
        wp.username.clone().unwrap(),
        laravel.username.clone().unwrap(),
        php.username.clone().unwrap(),
    );
    assert_eq!([&wp_user, &lv_user, &php_user], ["web1", "web2", "web3"]);

    // Each site has its own PHP-FPM master (so each could run at its own SELinux level), and
    // the SELinux step said why it did nothing on this node.
    let masters = node.root("ps -eo args= | grep '^php-fpm: master' | sort", "");
    assert_eq!(
        String::from_utf8_lossy(&masters.stdout),
        "php-fpm: master process (/etc/panel/php-fpm/web1.conf)\n\
         php-fpm: master process (/etc/panel/php-fpm/web2.conf)\n\
         php-fpm: master process (/etc/panel/php-fpm/web3.conf)\n"
    );
    let log: Vec<String> = panel::db::jobs::log_since(app.db(), php.last_job_id.unwrap(), 0)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect();
    assert!(
        log.iter().any(|l| l == "skipped: SELinux disabled"),
        "{log:#?}"
    );

    // The placeholder answers first; then each site's own PHP reads its .env and its database.
    let (code, body) = http(&node, "plain.example.com", "/");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("plain.example.com is ready"), "{body}");
    deploy_page(
        &node,
        &wp_user,
        "/home/web1/public_html",
        "index.php",
        DB_PAGE,
    );
    deploy_page(
        &node,
        &lv_user,
        "/home/web2/public_html/public",
        "index.php",
        DB_PAGE,
    );
    deploy_page(
        &node,
        &php_user,
        "/home/web3/public_html",
        "index.php",
        DB_PAGE,
    );
    for (host, expect) in [
        (
            "blog.example.com",
            "OK http://blog.example.com blog_example_com blog_example_com@localhost",
        ),
        (
            "www.blog.example.com",
            "OK http://blog.example.com blog_example_com",
        ),
        (
            "app.example.com",
            "OK http://app.example.com app_example_com app_example_com",
        ),
        (
            "plain.example.com",
            "OK http://plain.example.com plain_example_com plain_example_com@localhost",
        ),
    ] {
        let (code, body) = http(&node, host, "/");
        assert_eq!(code, 200, "{host}: {body}");
        assert!(body.starts_with(expect), "{host}: {body}");
    }
    // Laravel's front controller answers any path.
    let (code, body) = http(&node, "app.example.com", "/some/route");
    assert_eq!((code, body.starts_with("OK")), (200, true), "{body}");

    // Dotfiles are never served; an unknown Host gets no answer at all.
    node.root(
        "install -d -o web3 -g web3 /home/web3/public_html/.git /home/web3/public_html/.well-known-x && \
         echo secret | install -o web3 -g web3 /dev/stdin /home/web3/public_html/.git/config && \
         echo secret | install -o web3 -g web3 /dev/stdin /home/web3/public_html/.env && \
         echo secret | install -o web3 -g web3 /dev/stdin /home/web3/public_html/.well-known-x/.env",
        "",
    );
    for path in ["/.env", "/.git/config", "/.well-known-x/.env"] {
        for host in ["plain.example.com", "blog.example.com", "app.example.com"] {
            let (code, body) = http(&node, host, path);
            assert!(matches!(code, 403 | 404), "{host}{path}: {code} {body}");
            assert!(
                !body.contains("secret") && !body.contains("DB_PASSWORD"),
                "{body}"
            );
        }
    }
    let (code, body) = http(&node, "unknown.example.org", "/");
    assert_eq!((code, body.as_str()), (0, ""), "unknown Host answered");

    // Isolation: site 3's PHP cannot read site 1's files, nor can its Unix user.
    let probe = r#"<?php
$r = @file_get_contents('/home/web1/.env');
$d = @scandir('/home/web1');
echo ($r === false && $d === false) ? 'DENIED' : 'LEAK';
"#;
    deploy_page(
        &node,
        &php_user,
        "/home/web3/public_html",
        "peek.php",
        probe,
    );
    let (code, body) = http(&node, "plain.example.com", "/peek.php");
    assert_eq!((code, body.as_str()), (200, "DENIED"));
    for cmd in [
        "cat /home/web1/.env",
        "ls /home/web1",
        "cat /home/web2/public_html/public/index.php",
    ] {
        let out = node.root(&format!("runuser -u web3 -- {cmd}"), "");
        assert!(!out.status.success(), "web3 could run `{cmd}`");
    }
    let out = node.root("stat -c '%U %G %a' /home/web1 /home/web1/.env", "");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "root web1 750\nweb1 web1 600\n"
    );

    // Suspend → 503 with a neutral page; resume → the site again.
    let path = format!("/sites/{}/suspend", php.id);
    assert_eq!(user.post_form(&path, &[]).await.status(), 303);
    wait_site(&app, php.id, SiteStatus::Suspended).await;
    let (code, body) = http(&node, "plain.example.com", "/");
    assert_eq!(code, 503);
    assert!(
        body.contains("temporarily unavailable") && !body.contains("OK"),
        "{body}"
    );
    let pool = node.root(
        "test -S /run/php-fpm/web3.sock || pkill -0 --pidfile /run/php-fpm/web3.pid",
        "",
    );
    assert!(!pool.status.success(), "the pool is stopped");
    let path = format!("/sites/{}/resume", php.id);
    assert_eq!(user.post_form(&path, &[]).await.status(), 303);
    wait_site(&app, php.id, SiteStatus::Active).await;
    let (code, body) = http(&node, "plain.example.com", "/");
    assert_eq!(code, 200, "{body}");

    // Rotate the WordPress site's database password: the server and the .env both change, and
    // the site keeps working with the new one; revealing it is recorded in the server log.
    let old = panel::sites::reveal_password(app.state(), wp.id, None)
        .await
        .unwrap();
    let path = format!("/sites/{}/database/rotate", wp.id);
    assert_eq!(user.post_form(&path, &[]).await.status(), 303);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = panel::db::sites::get(app.db(), wp.id)
            .await
            .unwrap()
            .unwrap();
        let job = panel::db::jobs::get(app.db(), s.last_job_id.unwrap())
            .await
            .unwrap()
            .unwrap();
        if job.kind == "site.rotate_password" && job.status == "success" {
            break;
        }
        assert!(job.status != "failed", "{:?}", job.error);
        assert!(Instant::now() < deadline, "rotation stuck");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let path = format!("/sites/{}/database/reveal", wp.id);
    let resp = user.post_form(&path, &[]).await;
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let page = resp.text().await.unwrap();
    let new = page
        .split("data-revealed-password>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_owned();
    assert!(new.len() == 32 && new != old, "a new password: {new}");
    let env = node.root("cat /home/web1/.env", "");
    let env = String::from_utf8_lossy(&env.stdout);
    assert!(env.contains(&format!("DB_PASSWORD=\"{new}\"")) && !env.contains(&old));
    let (code, body) = http(&node, "blog.example.com", "/");
    assert_eq!(code, 200, "{body}");
    assert!(body.starts_with("OK http://blog.example.com"), "{body}");
    let old_login = node.root(
        &format!("mariadb -u blog_example_com -p'{old}' -e 'SELECT 1'"),
        "",
    );
    assert!(
        !old_login.status.success(),
        "the old password no longer works"
    );
    let logs = panel::db::servers::logs(app.db(), server, 100)
        .await
        .unwrap();
    assert!(
        logs.iter()
            .any(|l| l.message == "database password of blog.example.com revealed")
    );
    assert!(
        logs.iter()
            .all(|l| !l.message.contains(&new) && !l.context.contains(&new))
    );
    let leaked: i64 = sqlx::query_scalar("SELECT count(*) FROM job_log WHERE instr(line, ?) > 0")
        .bind(&new)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(leaked, 0, "the password is never in a job log");

    // The site page shows the steps and the log of the last job.
    let page = user
        .get(&format!("/sites/{}", php.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("data-steps") && page.contains("Start PHP-FPM and check the site answers"),
        "{page}"
    );

    // Delete, with files and database: nothing of the site is left on the node.
    let path = format!("/sites/{}/delete", php.id);
    let wrong = user
        .post_form(
            &path,
            &[("confirm", "plain.example.org"), ("delete_files", "1")],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    let resp = user
        .post_form(
            &path,
            &[
                ("confirm", "plain.example.com"),
                ("delete_files", "1"),
                ("delete_database", "1"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Some(s) = panel::db::sites::get(app.db(), php.id).await.unwrap() {
        if s.status == SiteStatus::Error || Instant::now() > deadline {
            let log = panel::db::jobs::log_since(app.db(), s.last_job_id.unwrap(), 0)
                .await
                .unwrap()
                .into_iter()
                .map(|l| l.line)
                .collect::<Vec<_>>()
                .join("\n");
            panic!(
                "site not deleted: {:?} {:?}\n{log}",
                s.status, s.status_reason
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let left = node.root(
        "test -e /etc/nginx/sites-available/plain.example.com.conf && echo vhost; \
         test -e /etc/nginx/sites-enabled/plain.example.com.conf && echo link; \
         test -e /etc/panel/php-fpm/web3.conf && echo pool; \
         ps -eo args= | grep -q '^php-fpm: [m]aster process (/etc/panel/php-fpm/web3.conf)' && echo master; \
         test -e /run/php-fpm/web3.sock && echo socket; \
         id web3 >/dev/null 2>&1 && echo user; test -e /home/web3 && echo home; \
         mariadb -N -e \"SELECT 'db' FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='plain_example_com' \
                         UNION SELECT 'dbuser' FROM mysql.user WHERE User='plain_example_com'\"; true",
        "",
    );
    assert_eq!(String::from_utf8_lossy(&left.stdout), "", "left behind");
    let (code, _) = http(&node, "plain.example.com", "/");
    assert_eq!(code, 0, "the deleted site's Host now gets no answer");
    // The others still serve.
    assert_eq!(http(&node, "blog.example.com", "/").0, 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_fails_the_site_and_retry_resumes_where_it_stopped() {
    let (node, app, user, server) = active_node().await;
    stop_mariadb(&node);
    let id = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", "shop.example.com"),
            ("app_type", "php"),
            ("php_version", "8.2"),
            ("database", "mariadb"),
        ],
    )
    .await;
    let failed = wait_site(&app, id, SiteStatus::Error).await;
    let reason = failed.status_reason.unwrap();
    assert!(
        reason.contains("Create the MariaDB database") && reason.contains("Can't connect"),
        "{reason}"
    );
    start_databases(&node);
    let path = format!("/sites/{id}/retry");
    assert_eq!(user.post_form(&path, &[]).await.status(), 303);
    let site = wait_site(&app, id, SiteStatus::Active).await;
    let log: Vec<String> = panel::db::jobs::log_since(app.db(), site.last_job_id.unwrap(), 0)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect();
    let skipped = log
        .iter()
        .find(|l| l.starts_with("Already done, skipped:"))
        .unwrap_or_else(|| panic!("{log:#?}"));
    for step in [
        "Create the system user web1",
        "Create the site's directories and .env",
        "Configure the PHP 8.2 FPM pool",
        "Configure the nginx vhost for shop.example.com",
    ] {
        assert!(skipped.contains(step), "{skipped}");
    }
    assert!(!skipped.contains("database"), "{skipped}");
    let logs = panel::db::servers::logs(app.db(), server, 50)
        .await
        .unwrap();
    assert!(
        logs.iter()
            .any(|l| l.message == "shop.example.com: site provisioning failed")
    );
    assert!(
        logs.iter()
            .any(|l| l.message.contains("the node confirmed the site"))
    );
    app.stop().await;
}

/// An active server row with PHP 8.3 installed and one existing site, without a node: the
/// form's checks run before anything is sent anywhere.
async fn seeded_server(app: &TestApp) -> (panel::ids::ServerId, SiteId) {
    use panel::ids::{ServerId, SoftwareInstallationId, SystemUserId};
    let db = app.db();
    let server = ServerId::generate();
    sqlx::query("INSERT INTO servers (id, name, ip_address, hostname, os_version, status) VALUES (?, 'web-1', '192.0.2.10', 'web1.example.com', 'alma_9', 'active')")
        .bind(server)
        .execute(db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO software_installations (id, server_id, software, version, status) VALUES (?, ?, 'php', '8.3', 'installed')")
        .bind(SoftwareInstallationId::generate())
        .bind(server)
        .execute(db)
        .await
        .unwrap();
    let user = SystemUserId::generate();
    sqlx::query("INSERT INTO system_users (id, server_id, username, home_dir) VALUES (?, ?, 'web1', '/home/web1')")
        .bind(user)
        .bind(server)
        .execute(db)
        .await
        .unwrap();
    let site = SiteId::generate();
    sqlx::query("INSERT INTO sites (id, server_id, system_user_id, domain, app_type, php_version, status) VALUES (?, ?, ?, 'taken.example.com', 'php', '8.3', 'active')")
        .bind(site)
        .bind(server)
        .bind(user)
        .execute(db)
        .await
        .unwrap();
    (server, site)
}

async fn site_rows(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as("SELECT domain, aliases FROM sites ORDER BY domain")
        .fetch_all(app.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_create_form_refuses_hostile_input_field_by_field_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let user = app.login_as("ops@example.com", "Ops").await;
    let (server, _) = seeded_server(&app).await;
    let server = server.to_string();
    let before = site_rows(&app).await;
    let long_label = format!("{}.com", "a".repeat(64));
    let long_name = format!("{}.com", ["abcdefghij"; 25].join("."));
    let long_user = "a".repeat(33);
    let long_db = "a".repeat(65);
    let mut cases: Vec<(&str, &str)> = Vec::new();
    for v in [
        "example.com;id",
        "ex$(id).com",
        "ex`id`.com",
        "-oProxyCommand=id",
        "example.com\nserver_name evil",
        "..",
        "a..b.com",
        &long_label,
        &long_name,
        "*.example.com",
        "localhost",
        "192.0.2.1",
    ] {
        cases.push(("domain", v));
        cases.push(("aliases", v));
    }
    for v in [
        "root", "panel", "nginx", "www-data", "../x", "a b", "-l", &long_user, "Web1", "web1",
    ] {
        cases.push(("user", v));
    }
    for v in [
        "test; shutdown",
        "x`id`",
        "a'b",
        "a\"b",
        "a-b",
        "information_schema",
        "mysql",
        "postgres",
        "template0",
        &long_db,
    ] {
        cases.push(("db_name", v));
    }
    cases.push(("php_version", "8.3;id"));
    cases.push(("php_version", "8.2")); // not installed on this server
    cases.push(("app_type", "joomla"));
    cases.push(("database", "oracle"));
    cases.push(("domain", "TAKEN.example.com.")); // another site has it (after normalising)
    for (field, value) in cases {
        let mut form = vec![
            ("server_id", server.as_str()),
            ("domain", "new.example.com"),
            ("app_type", "php"),
            ("php_version", "8.3"),
            ("database", "mariadb"),
        ];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let resp = user.post_form("/sites", &form).await;
        let status = resp.status();
        let html = resp.text().await.unwrap();
        assert_eq!(status, 422, "{field}={value:?} accepted");
        // The error sits under its own field (the form marks that input as invalid).
        assert!(
            html.contains(&format!("data-field-error=\"{field}\"")),
            "{field}={value:?}: no error on the field"
        );
        assert!(!html.contains("<script>"), "echoed values are escaped");
        assert_eq!(
            site_rows(&app).await,
            before,
            "{field}={value:?} changed something"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_env_editor_keeps_values_literally_and_refuses_bad_keys() {
    let app = TestApp::spawn().await;
    let user = app.login_as("ops@example.com", "Ops").await;
    let (_, site) = seeded_server(&app).await;
    let path = format!("/sites/{site}/env");
    for bad in [
        "A B=1",
        "1A=2",
        "=3",
        "PATH=/tmp",
        "LD_PRELOAD=/x.so",
        "DB_PASSWORD=x",
        "no equals sign",
        // Expanded by dotenv loaders: refused, not stored.
        "SECRET=${APP_KEY}",
        "X=${Y:-$(id)}",
    ] {
        let resp = user.post_form(&path, &[("env", bad)]).await;
        assert_eq!(resp.status(), 422, "{bad:?}");
        let sealed: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT env_encrypted FROM sites WHERE id = ?")
                .bind(site)
                .fetch_one(app.db())
                .await
                .unwrap();
        assert!(sealed.is_none(), "{bad:?} was stored");
    }
    // Hostile values are data: stored (sealed, never plaintext) exactly as typed.
    let values =
        "CMD=$(id)\nTICK=`id`\nQUOTES=\"a'b\"\nHASH=x # not a comment\nNEWKEY=a\\nINJECTED=1";
    let resp = user.post_form(&path, &[("env", values)]).await;
    // The server is not reachable here, so the write job fails later; the values are kept.
    assert_eq!(resp.status(), 303);
    let row = panel::db::sites::get(app.db(), site)
        .await
        .unwrap()
        .unwrap();
    let sealed = row.env_encrypted.clone().unwrap();
    assert!(
        !String::from_utf8_lossy(&sealed).contains("$(id)"),
        "sealed at rest"
    );
    let env = panel::sites::env_of(&row, app.secrets()).unwrap();
    let got: Vec<(String, String)> = env
        .into_iter()
        .map(|(k, v)| (k.as_str().to_owned(), v))
        .collect();
    assert_eq!(
        got,
        [
            ("CMD", "$(id)"),
            ("TICK", "`id`"),
            ("QUOTES", "\"a'b\""),
            ("HASH", "x # not a comment"),
            ("NEWKEY", "a\\nINJECTED=1"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    app.stop().await;
}

/// `.env` values round-trip exactly through the loaders sites use — phpdotenv (Laravel's, the
/// Debian package) and python-dotenv with interpolation on (its default) — and never add a
/// second key; what a loader would expand (`${…}`) is refused at the edge.
#[test]
fn env_values_round_trip_through_the_dotenv_loaders_sites_use() {
    use panel::domain::EnvKey;
    use panel::domain::site::{check_env_value, env_line};
    let values = [
        "plain",
        "line one\nINJECTED=1",
        "carriage\rreturn",
        "tab\there",
        "$(id)",
        "`id`",
        "$HOME $PATH $1 $",
        "a{b}c $ {x} {$y}",
        "double \" quote",
        "single ' quote",
        "'wrapped in single quotes'",
        "both ' and \" quotes",
        "a='b=\"c",
        "hash # not a comment",
        "#leading hash",
        "back\\slash \\n not a newline \\\" \\$",
        "= equals =",
        "  spaces around  ",
        "ünïcødé ✓",
        "",
    ];
    for v in values {
        check_env_value(v).unwrap_or_else(|e| panic!("{v:?}: {e}"));
    }
    for refused in [
        "${APP_KEY}",
        "${X:-$(id)}",
        "a${b",
        "trailing \\",
        "nul\0",
        "bell\u{7}",
    ] {
        assert!(check_env_value(refused).is_err(), "{refused:?} accepted");
    }
    let mut file = String::new();
    for (i, v) in values.iter().enumerate() {
        let key = EnvKey::parse(&format!("K{i}")).unwrap();
        file.push_str(&env_line(&key, v));
        file.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, &file).unwrap();
    let loaders: [(&str, Vec<&str>); 2] = [
        (
            "python-dotenv, interpolating",
            vec![
                "/usr/bin/python3",
                "-c",
                "import dotenv, json, sys; print(json.dumps(dotenv.dotenv_values(sys.argv[1], interpolate=True)))",
            ],
        ),
        (
            "phpdotenv",
            vec![
                "/usr/bin/php",
                "-r",
                "require '/usr/share/php/Dotenv/autoload.php'; echo json_encode(Dotenv\\Dotenv::parse(file_get_contents($argv[1])));",
            ],
        ),
    ];
    for (name, argv) in loaders {
        let out = std::process::Command::new(argv[0])
            .args(&argv[1..])
            .arg(&path)
            .output()
            .unwrap_or_else(|e| panic!("{name}: {e} (tests/run.sh installs it)"));
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let parsed: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            parsed.len(),
            values.len(),
            "{name}: no extra keys:\n{file}\n{parsed:?}"
        );
        for (i, v) in values.iter().enumerate() {
            assert_eq!(
                parsed[&format!("K{i}")],
                *v,
                "{name}: value {i}: {v:?}\n{file}"
            );
        }
    }
}
