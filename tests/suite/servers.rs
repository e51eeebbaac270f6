//! Servers over HTTP: the add form (hostile values refused per field), the one-time setup URL,
//! the signed ready callback (forged, unsigned, replayed and stale ones refused), and first
//! contact against a real sshd: host key pinned, server active.

use std::time::{Duration, Instant};

use panel::ids::ServerId;
use panel::nodes::callbacks::sign;

use crate::harness::{LoggedIn, SshNode, TestApp, client};

/// A panel user with a generated key, and a node (loopback sshd) that accepts that key.
async fn user_key_and_node(app: &TestApp) -> (LoggedIn, String, SshNode) {
    let user = app.login_as("ops@example.com", "Ops").await;
    assert_eq!(
        user.post_form("/ssh-keys", &[("name", "panel"), ("key_type", "ed25519")])
            .await
            .status(),
        303
    );
    let key = &panel::db::ssh_keys::list(app.db()).await.unwrap()[0];
    let public = panel::db::ssh_keys::get(app.db(), key.id)
        .await
        .unwrap()
        .unwrap()
        .public_key;
    let node = SshNode::start(&format!("{public}\n"));
    (user, key.id.to_string(), node)
}

async fn add_server(user: &LoggedIn, key_id: &str, ip: &str, port: u16) -> reqwest::Response {
    user.post_form(
        "/servers",
        &[
            ("name", "web-1"),
            ("ip_address", ip),
            ("hostname", "web1.example.com"),
            ("os_version", "debian_12"),
            ("ssh_port", &port.to_string()),
            ("ssh_user", "root"),
            ("ssh_key_id", key_id),
        ],
    )
    .await
}

fn setup_url_from(html: &str) -> String {
    let start = html
        .find("data-setup-command")
        .expect("setup command shown");
    let rest = &html[start..];
    let url = &rest[rest.find("http").unwrap()..];
    url[..url.find(['\'', '&', ' ', '<']).unwrap()].to_owned()
}

/// A form post that answers "see the server page" (Post/Redirect/Get): that page.
async fn followed(user: &LoggedIn, resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), 303, "redirected to the server page");
    let to = resp.headers()["location"].to_str().unwrap().to_owned();
    user.text(&to).await
}

async fn post_callback(app: &TestApp, ts: &str, nonce: &str, sig: Option<&str>, body: &str) -> u16 {
    let mut req = client()
        .post(app.url("/api/callbacks/server-ready"))
        .header("Content-Type", "application/json")
        .header("X-Panel-Timestamp", ts)
        .header("X-Panel-Nonce", nonce)
        .body(body.to_owned());
    if let Some(s) = sig {
        req = req.header("X-Panel-Signature", format!("sha256={s}"));
    }
    req.send().await.unwrap().status().as_u16()
}

async fn wait_status(app: &TestApp, id: ServerId, want: &str) -> panel::db::servers::Server {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = panel::db::servers::get(app.db(), id)
            .await
            .unwrap()
            .unwrap();
        if s.status.as_str() == want {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "server stuck at {:?}: {:?}",
            s.status,
            s.status_reason
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn onboarding_setup_url_signed_callback_and_first_contact() {
    let app = TestApp::spawn().await;
    let (user, key_id, node) = user_key_and_node(&app).await;
    let resp = add_server(&user, &key_id, "127.0.0.1", node.port).await;
    let html = followed(&user, resp).await;
    let url = setup_url_from(&html);
    assert!(url.starts_with(&format!("{}/setup/", app.base)), "{url}");
    // Written as a person would type it, with a Copy button; a reload shows the same command.
    assert!(
        html.contains(&format!("curl -fsSL {url} | sudo bash")),
        "{html}"
    );
    assert!(html.contains("data-copy-target=\"#setup-command-text\""));
    let id_now: ServerId = sqlx::query_scalar("SELECT id FROM servers")
        .fetch_one(app.db())
        .await
        .unwrap();
    let reloaded = user.text(&format!("/servers/{id_now}")).await;
    assert_eq!(setup_url_from(&reloaded), url, "a reload keeps the command");
    // The token is stored sealed, never as text.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_encrypted FROM setup_tokens")
        .fetch_one(app.db())
        .await
        .unwrap();
    let token = url.rsplit('/').next().unwrap();
    assert!(!stored.windows(token.len()).any(|w| w == token.as_bytes()));
    let id: ServerId = sqlx::query_scalar("SELECT id FROM servers")
        .fetch_one(app.db())
        .await
        .unwrap();

    // The setup script, with the server's values single-quoted at the top.
    let script = client().get(&url).send().await.unwrap();
    assert_eq!(script.status(), 200);
    let script = script.text().await.unwrap();
    assert!(script.starts_with("#!/usr/bin/env bash\n"));
    assert!(script.contains(&format!("PANEL_SERVER_ID='{id}'")));
    assert!(script.contains("PANEL_SSH_KEY='ssh-ed25519 "));
    let check = std::process::Command::new("bash")
        .args(["-n", "-c", &script])
        .status()
        .unwrap();
    assert!(check.success(), "the rendered script parses");
    // A fetch does not spend the link (a chat app's link preview must not burn it); every
    // fetch is logged with its address.
    let again = client().get(&url).send().await.unwrap();
    assert_eq!(again.status(), 200, "fetched twice before the callback");
    let fetches = panel::db::servers::logs(app.db(), id, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.message == "setup script fetched" && l.context.contains("127.0.0.1"))
        .count();
    assert_eq!(fetches, 2);
    let unknown = client()
        .get(app.url(&format!("/setup/{}", "x".repeat(43))))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let unknown = unknown.text().await.unwrap();
    wait_status(&app, id, "provisioning").await;

    // The signed callback; then the panel connects, pins the host key and marks it active.
    let secret = panel::nodes::callbacks::secret(app.state(), id)
        .await
        .unwrap();
    // It reports the node's host key: the only one the panel will then pin.
    let body = format!(
        r#"{{"server_id":"{id}","os":"debian_12","selinux":"disabled","host_keys":["{}"]}}"#,
        node.host_key_line()
    );
    let ts = chrono::Utc::now().timestamp().to_string();
    let nonce = "0123456789abcdef0123456789abcdef";
    let sig = sign(&secret, &ts, nonce, body.as_bytes());
    assert_eq!(
        post_callback(&app, &ts, nonce, Some(&sig), &body).await,
        202
    );
    let server = wait_status(&app, id, "active").await;
    // The callback spent the link: it now answers like an unknown one.
    let spent = client().get(&url).send().await.unwrap();
    assert_eq!(spent.status(), 404, "spent by the callback");
    assert_eq!(spent.text().await.unwrap(), unknown, "one answer");
    let pinned = panel::ssh::client::HostKey::parse(server.host_key.as_deref().unwrap()).unwrap();
    let expected = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(node.dir.path().join("host_ed25519.pub"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&expected.stdout).contains(&pinned.fingerprint()));
    let page = user
        .get(&format!("/servers/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("setup script fetched") && page.contains("server is active"));
    assert!(page.contains(&pinned.fingerprint()));

    // The onboarding job recorded its steps, all done, and its page shows them.
    let job: panel::ids::JobId =
        sqlx::query_scalar("SELECT id FROM jobs WHERE kind = 'server.onboard'")
            .fetch_one(app.db())
            .await
            .unwrap();
    let steps = panel::db::jobs::steps(app.db(), job).await.unwrap();
    let names: Vec<_> = steps
        .iter()
        .map(|s| (s.description.as_str(), s.status.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (
                "Check the host key against the setup script's report",
                "done"
            ),
            ("Log in with the panel's key", "done"),
            ("Read the server's facts", "done")
        ]
    );
    let job_page = user
        .get(&format!("/jobs/{job}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(job_page.contains("data-steps") && job_page.contains("data-step-status=\"done\""));

    // Replaying the same accepted callback is refused.
    assert_eq!(
        post_callback(&app, &ts, nonce, Some(&sig), &body).await,
        401
    );
    app.stop().await;
}

#[tokio::test]
async fn forged_unsigned_stale_and_cross_server_callbacks_are_refused() {
    let app = TestApp::spawn().await;
    let (user, key_id, node) = user_key_and_node(&app).await;
    add_server(&user, &key_id, "127.0.0.1", node.port).await;
    add_server(&user, &key_id, "127.0.0.2", node.port).await;
    let ids: Vec<ServerId> = sqlx::query_scalar("SELECT id FROM servers ORDER BY ip_address")
        .fetch_all(app.db())
        .await
        .unwrap();
    let (a, b) = (ids[0], ids[1]);
    let secret_a = panel::nodes::callbacks::secret(app.state(), a)
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let body_a = format!(r#"{{"server_id":"{a}"}}"#);
    let body_b = format!(r#"{{"server_id":"{b}"}}"#);
    let n = |i: u8| format!("nonce-{i:02}-0123456789abcdef");
    let ts = now.to_string();
    // No signature; a wrong one; A's secret signing B's id; a stale timestamp; an unknown id.
    assert_eq!(post_callback(&app, &ts, &n(1), None, &body_a).await, 401);
    assert_eq!(
        post_callback(&app, &ts, &n(2), Some(&"0".repeat(64)), &body_a).await,
        401
    );
    let forged = sign(&secret_a, &ts, &n(3), body_b.as_bytes());
    assert_eq!(
        post_callback(&app, &ts, &n(3), Some(&forged), &body_b).await,
        401
    );
    let old = (now - 3600).to_string();
    let stale = sign(&secret_a, &old, &n(4), body_a.as_bytes());
    assert_eq!(
        post_callback(&app, &old, &n(4), Some(&stale), &body_a).await,
        401
    );
    let ghost = format!(r#"{{"server_id":"{}"}}"#, ServerId::generate());
    let sig = sign(&secret_a, &ts, &n(5), ghost.as_bytes());
    assert_eq!(
        post_callback(&app, &ts, &n(5), Some(&sig), &ghost).await,
        401
    );
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(jobs, 0, "nothing was started");
    app.stop().await;
}

#[tokio::test]
async fn hostile_server_fields_are_field_errors_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let (user, key_id, _node) = user_key_and_node(&app).await;
    let cases = [
        ("ip_address", "-oProxyCommand=touch /tmp/x"),
        ("ip_address", "host -p 22"),
        ("ip_address", "root@evil"),
        ("hostname", "-oProxyCommand=id"),
        ("hostname", "a..b.com"),
        ("ssh_port", "22;id"),
        ("ssh_port", "0"),
        ("ssh_port", "65536"),
        ("ssh_user", "-l"),
        ("ssh_user", "a:b"),
        ("ssh_user", "a/b"),
        ("os_version", "centos_7"),
        ("ssh_key_id", "not-a-key"),
        ("php_versions", "8.3;id"),
        ("php_versions", "5.6"),
    ];
    for (field, value) in cases {
        let mut form = vec![
            ("name", "web"),
            ("ip_address", "192.0.2.50"),
            ("hostname", "web.example.com"),
            ("os_version", "rocky_9"),
            ("ssh_port", "22"),
            ("ssh_user", "panel"),
            ("ssh_key_id", key_id.as_str()),
            ("php_versions", "8.3"),
        ];
        for f in form.iter_mut() {
            if f.0 == field {
                f.1 = value;
            }
        }
        let resp = user.post_form("/servers", &form).await;
        assert_eq!(resp.status(), 422, "{field}={value}");
        let html = resp.text().await.unwrap();
        assert!(
            html.contains(&format!("data-field-error=\"{field}\"")),
            "{field}={value}"
        );
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM servers")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(stored, 0);
    assert!(!std::path::Path::new("/tmp/x").exists());

    // A duplicate IP is a field error too.
    let ok = add_server(&user, &key_id, "192.0.2.60", 22).await;
    assert_eq!(ok.status(), 303);
    let dup = add_server(&user, &key_id, "192.0.2.60", 22).await;
    assert_eq!(dup.status(), 422);
    assert!(dup.text().await.unwrap().contains("already in the panel"));
    app.stop().await;
}

#[tokio::test]
async fn a_changed_host_key_is_refused_and_logged() {
    let app = TestApp::spawn().await;
    let (user, key_id, node) = user_key_and_node(&app).await;
    add_server(&user, &key_id, "127.0.0.1", node.port).await;
    let id: ServerId = sqlx::query_scalar("SELECT id FROM servers")
        .fetch_one(app.db())
        .await
        .unwrap();
    // Pin a different key, as if the server had been swapped for another machine.
    let other = SshNode::start("");
    let target = panel::ssh::client::Target {
        host: "127.0.0.1".into(),
        port: other.port,
        user: "root".into(),
    };
    let foreign = panel::ssh::client::probe_host_key(&target, Duration::from_secs(5))
        .await
        .unwrap();
    sqlx::query("UPDATE servers SET host_key = ? WHERE id = ?")
        .bind(foreign.to_openssh())
        .bind(id)
        .execute(app.db())
        .await
        .unwrap();
    let server = panel::db::servers::get(app.db(), id)
        .await
        .unwrap()
        .unwrap();
    panel::servers::onboard(app.state(), &server, None)
        .await
        .unwrap();
    let server = wait_status(&app, id, "error").await;
    assert!(
        server.status_reason.unwrap().contains("host key"),
        "reason shown"
    );
    let logs = panel::db::servers::logs(app.db(), id, 10).await.unwrap();
    assert!(
        logs.iter()
            .any(|l| l.level == panel::domain::LogLevel::Error && l.context.contains("host key"))
    );
    app.stop().await;
}

#[test]
fn setup_script_is_shellcheck_clean_and_dry_run_changes_nothing() {
    let root = env!("CARGO_MANIFEST_DIR");
    let sc = std::process::Command::new("shellcheck")
        .arg(format!("{root}/setup/setup.sh"))
        .arg(format!("{root}/setup/facts.sh"))
        .output()
        .expect("shellcheck installed by tests/run.sh");
    assert!(
        sc.status.success(),
        "{}",
        String::from_utf8_lossy(&sc.stdout)
    );

    // A dry run for an EL node (fake os-release) says what it would do and touches nothing.
    let dir = tempfile::tempdir().unwrap();
    let os_release = dir.path().join("os-release");
    std::fs::write(
        &os_release,
        "ID=almalinux\nVERSION_ID=\"9.4\"\nPRETTY_NAME=\"AlmaLinux 9.4\"\n",
    )
    .unwrap();
    let out = std::process::Command::new("bash")
        .arg(format!("{root}/setup/setup.sh"))
        .arg("--dry-run")
        .env("PANEL_URL", "http://localhost:8095")
        .env("PANEL_SERVER_ID", ServerId::generate().to_string())
        .env("PANEL_SSH_KEY", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2FYtXTElgudHhceVSR+xAW9GT9VoklanzrubzbEZOq panel")
        .env("PANEL_CALLBACK_SECRET", "s3cret")
        .env("PANEL_SSH_USER", "panel-dry-run-user")
        .env("PANEL_OS_RELEASE", &os_release)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ok: alma_9"));
    assert!(stdout.contains("would: create user panel-dry-run-user"));
    assert!(stdout.contains("would: POST http://localhost:8095/api/callbacks/server-ready"));
    assert!(stdout.contains("change(s) would be made"));
    assert!(!stdout.contains("s3cret"), "the secret is never printed");
    let exists = std::process::Command::new("id")
        .arg("panel-dry-run-user")
        .output()
        .unwrap();
    assert!(!exists.status.success(), "dry run created nothing");
}

/// kB of `key` in /proc/meminfo of this machine (the loopback node is this machine).
fn meminfo_kb(key: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap();
    let line = text.lines().find(|l| l.starts_with(key)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn health_numbers_match_what_the_node_reports() {
    let app = TestApp::spawn().await;
    let (user, key_id, node) = user_key_and_node(&app).await;
    add_server(&user, &key_id, "127.0.0.1", node.port).await;
    let id: ServerId = sqlx::query_scalar("SELECT id FROM servers")
        .fetch_one(app.db())
        .await
        .unwrap();
    // Before first contact there is nothing to read, and the page says why.
    let early = user
        .get(&format!("/servers/{id}/health"))
        .await
        .text()
        .await
        .unwrap();
    assert!(early.contains("data-health-unavailable"));

    // As the setup script's report would have left it.
    panel::db::servers::set_reported_host_keys(app.db(), id, &node.host_key_line())
        .await
        .unwrap();
    let server = panel::db::servers::get(app.db(), id)
        .await
        .unwrap()
        .unwrap();
    panel::servers::onboard(app.state(), &server, None)
        .await
        .unwrap();
    wait_status(&app, id, "active").await;
    let page = user
        .get(&format!("/servers/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("hx-get=\"/servers/{id}/health\"")),
        "the page polls its health"
    );
    let html = user
        .get(&format!("/servers/{id}/health"))
        .await
        .text()
        .await
        .unwrap();
    let attr = |name: &str| -> u64 {
        let start = html
            .find(&format!("{name}=\""))
            .unwrap_or_else(|| panic!("{name} in {html}"))
            + name.len()
            + 2;
        html[start..start + html[start..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    assert_eq!(attr("data-mem-total-kb"), meminfo_kb("MemTotal:"));
    let df = std::process::Command::new("df")
        .args(["-Pk", "/"])
        .output()
        .unwrap();
    let df = String::from_utf8(df.stdout).unwrap();
    let total: u64 = df
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(attr("data-disk-total-kb"), total);
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((attr("data-uptime") as f64 - uptime).abs() < 30.0);
    app.stop().await;
}

#[tokio::test]
async fn server_logs_filter_and_delete_needs_the_typed_name() {
    let app = TestApp::spawn().await;
    let (user, key_id, _node) = user_key_and_node(&app).await;
    add_server(&user, &key_id, "192.0.2.70", 22).await;
    let id: ServerId = sqlx::query_scalar("SELECT id FROM servers")
        .fetch_one(app.db())
        .await
        .unwrap();
    for (level, message) in [
        ("error", "disk full on /var"),
        ("warning", "load high"),
        ("info", "<b>hello</b>"),
    ] {
        panel::db::servers::log(
            app.db(),
            id,
            level.parse().unwrap(),
            message,
            &serde_json::json!({"k": "v"}),
        )
        .await
        .unwrap();
    }
    let rows = |html: &str| html.matches("data-log-row").count();
    let all = user
        .get(&format!("/servers/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(rows(&all), 4, "three logged + 'server added'");
    assert!(all.contains("&lt;b&gt;hello&lt;/b&gt;"), "escaped");
    let errors = user
        .get(&format!("/servers/{id}?level=error"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(rows(&errors), 1);
    assert!(errors.contains("disk full"));
    let search = user
        .get(&format!("/servers/{id}?q=LOAD"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(rows(&search), 1);

    let wrong = user
        .post_form(&format!("/servers/{id}/delete"), &[("confirm", "web-2")])
        .await;
    assert_eq!(wrong.status(), 422);
    assert!(
        panel::db::servers::get(app.db(), id)
            .await
            .unwrap()
            .is_some()
    );
    let done = user
        .post_form(&format!("/servers/{id}/delete"), &[("confirm", "web-1")])
        .await;
    assert_eq!(done.status(), 303);
    assert!(
        panel::db::servers::get(app.db(), id)
            .await
            .unwrap()
            .is_none()
    );
    let logs: i64 = sqlx::query_scalar("SELECT count(*) FROM server_logs")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(logs, 0, "its logs went with it");
    app.stop().await;
}

#[tokio::test]
async fn php_versions_are_checked_against_the_os_and_rendered_into_the_script() {
    let app = TestApp::spawn().await;
    let (user, key_id, _node) = user_key_and_node(&app).await;
    let form = |os: &'static str, php: &'static str, ip: &'static str| {
        vec![
            ("name", "web"),
            ("ip_address", ip),
            ("hostname", "web.example.com"),
            ("os_version", os),
            ("ssh_port", "22"),
            ("ssh_user", "panel"),
            ("ssh_key_id", key_id.as_str()),
            ("php_versions", php),
        ]
    };
    let debian = user
        .post_form("/servers", &form("debian_12", "8.3", "192.0.2.80"))
        .await;
    assert_eq!(debian.status(), 422);
    assert!(
        debian
            .text()
            .await
            .unwrap()
            .contains("Debian 12 ships PHP 8.2")
    );
    let alma = user
        .post_form("/servers", &form("alma_9", "8.3, 7.4 8.3", "192.0.2.81"))
        .await;
    let html = followed(&user, alma).await;
    let url = setup_url_from(&html);
    let script = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        script.contains("PANEL_PHP_VERSIONS='7.4 8.3'"),
        "deduplicated, sorted, quoted"
    );
    app.stop().await;
}

/// A new setup link revokes the one before it, and fetching a link (a person running the setup
/// again, a link preview) leaves an active server active.
#[tokio::test]
async fn a_new_setup_link_revokes_the_old_and_a_fetch_leaves_an_active_server_alone() {
    let app = TestApp::spawn().await;
    let (user, key_id, node) = user_key_and_node(&app).await;
    let resp = add_server(&user, &key_id, "127.0.0.1", node.port).await;
    let first = setup_url_from(&followed(&user, resp).await);
    let id: ServerId = sqlx::query_scalar("SELECT id FROM servers")
        .fetch_one(app.db())
        .await
        .unwrap();
    let resp = user
        .post_form(&format!("/servers/{id}/setup-url"), &[])
        .await;
    let second = setup_url_from(&followed(&user, resp).await);
    assert_ne!(first, second);
    assert_eq!(
        client().get(&first).send().await.unwrap().status(),
        404,
        "revoked"
    );
    panel::db::servers::set_status(app.db(), id, panel::domain::ServerStatus::Active, None)
        .await
        .unwrap();
    assert_eq!(client().get(&second).send().await.unwrap().status(), 200);
    let server = panel::db::servers::get(app.db(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        server.status.as_str(),
        "active",
        "a fetch changed an active server"
    );
    app.stop().await;
}
