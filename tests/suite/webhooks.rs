//! The deploy webhook and the repository settings, without a node: a site row made directly,
//! its repository saved through the form. Every refusal queues nothing; genuine pushes whose
//! payload is full of shell syntax are queued with that text kept as data.

use panel::ids::{ServerId, SiteId};

use crate::harness::{LoggedIn, TestApp, client};

/// An active server and site, rows only (the queued deployments fail to connect, which these
/// tests do not look at).
async fn site_row(app: &TestApp) -> SiteId {
    let server = ServerId::generate();
    sqlx::query("INSERT INTO servers (id, name, ip_address, hostname, os_version, status) VALUES (?, 'n', '192.0.2.40', 'n.example.com', 'debian_12', 'active')")
        .bind(server)
        .execute(app.db())
        .await
        .unwrap();
    let user = panel::ids::SystemUserId::generate();
    sqlx::query("INSERT INTO system_users (id, server_id, username, home_dir) VALUES (?, ?, 'web1', '/home/web1')")
        .bind(user)
        .bind(server)
        .execute(app.db())
        .await
        .unwrap();
    let site = SiteId::generate();
    sqlx::query("INSERT INTO sites (id, server_id, system_user_id, domain, app_type, php_version, status, mcs_id) VALUES (?, ?, ?, 'hook.example.com', 'laravel', '8.2', 'active', 0)")
        .bind(site)
        .bind(server)
        .bind(user)
        .execute(app.db())
        .await
        .unwrap();
    site
}

async fn connect(app: &TestApp, user: &LoggedIn, site: SiteId) -> String {
    let resp = user
        .post_form(
            &format!("/sites/{site}/repository"),
            &[
                ("url", "git@github.com:acme/shop.git"),
                ("branch", "main"),
                ("keep_releases", "5"),
                ("deploy_script", "echo ok\n"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    confirm_github(app, site).await;
    let html = user
        .post_form(&format!("/sites/{site}/webhook/reveal"), &[])
        .await
        .text()
        .await
        .unwrap();
    let rest = &html[html.find("data-revealed-secret").unwrap()..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    rest[..rest.find('<').unwrap()].to_owned()
}

/// GitHub's published ed25519 key, as a scan from the site's server would find it.
const GITHUB_KEY: &str =
    "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";

/// These tests have no server to scan github.com from: the key a scan would have confirmed (it
/// matches GitHub's published fingerprint) is stored directly.
async fn confirm_github(app: &TestApp, site: SiteId) {
    panel::db::deployments::set_host_keys(app.db(), site, None, Some(GITHUB_KEY))
        .await
        .unwrap();
}

async fn deployments(app: &TestApp, site: SiteId) -> usize {
    panel::db::deployments::for_site(app.db(), site, 1000)
        .await
        .unwrap()
        .len()
}

async fn post(
    app: &TestApp,
    site: SiteId,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let mut req = client()
        .post(app.url(&format!("/api/webhooks/deploy/{site}")))
        .header("Content-Type", "application/json")
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

fn github(secret: &str, delivery: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-GitHub-Event", "push".into()),
        ("X-GitHub-Delivery", delivery.into()),
        (
            "X-Hub-Signature-256",
            panel::deployments::webhook::sign_github(secret, body.as_bytes()),
        ),
    ]
}

#[tokio::test]
async fn hostile_repository_settings_are_field_errors_and_store_nothing() {
    let app = TestApp::spawn().await;
    let user = app.login_as("ops@example.com", "Ops").await;
    let site = site_row(&app).await;
    // Before a repository is connected the tab offers the Laravel deploy script.
    let tab = user.text(&format!("/sites/{site}/deployments")).await;
    assert!(
        tab.contains("artisan migrate --force") && tab.contains("Connect a repository"),
        "{tab}"
    );
    for (url, branch, keep) in [
        ("--upload-pack=touch /tmp/x", "main", "5"),
        ("-c core.sshCommand=id", "main", "5"),
        ("ext::sh -c id", "main", "5"),
        ("file:///etc", "main", "5"),
        ("https://user:token@github.com/o/r.git", "main", "5"),
        ("git@github.com:o/r.git", "--orphan", "5"),
        ("git@github.com:o/r.git", "main;id", "5"),
        ("git@github.com:o/r.git", "a..b", "5"),
        ("git@github.com:o/r.git", "@{-1}", "5"),
        ("git@github.com:o/r.git", "main", "0"),
        ("git@github.com:o/r.git", "main", "5; rm -rf /"),
    ] {
        let resp = user
            .post_form(
                &format!("/sites/{site}/repository"),
                &[
                    ("url", url),
                    ("branch", branch),
                    ("keep_releases", keep),
                    ("deploy_script", ""),
                ],
            )
            .await;
        assert_eq!(resp.status(), 422, "{url} {branch} {keep}");
        let html = resp.text().await.unwrap();
        let field = if !url.starts_with("git@") {
            "url"
        } else if branch != "main" {
            "branch"
        } else {
            "keep_releases"
        };
        assert!(
            html.contains(&format!("data-field-error=\"{field}\"")),
            "{field}: {url} {branch} {keep}"
        );
        assert!(
            panel::db::deployments::repository(app.db(), site)
                .await
                .unwrap()
                .is_none()
        );
    }
    // A deploy without a repository is refused with the reason.
    assert_eq!(
        user.post_form(&format!("/sites/{site}/deploy"), &[])
            .await
            .status(),
        409
    );

    let secret = connect(&app, &user, site).await;
    let repo = panel::db::deployments::repository(app.db(), site)
        .await
        .unwrap()
        .unwrap();
    assert!(repo.deploy_key_public.starts_with("ssh-ed25519 "));
    assert!(repo.deploy_key_fingerprint.starts_with("SHA256:"));
    // Sealed at rest: neither the key nor the secret is in the database file in clear.
    let db_bytes = std::fs::read(app.data_dir().join("panel.sqlite")).unwrap();
    let wal = std::fs::read(app.data_dir().join("panel.sqlite-wal")).unwrap_or_default();
    for hay in [&db_bytes, &wal] {
        assert!(!hay.windows(secret.len()).any(|w| w == secret.as_bytes()));
        assert!(!hay.windows(20).any(|w| w == b"OPENSSH PRIVATE KEY-"));
    }
    // A later bad edit keeps what was stored.
    let resp = user
        .post_form(
            &format!("/sites/{site}/repository"),
            &[
                ("url", "ext::sh -c id"),
                ("branch", "main"),
                ("keep_releases", "5"),
                ("deploy_script", ""),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let kept = panel::db::deployments::repository(app.db(), site)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.url, "git@github.com:acme/shop.git");
    assert_eq!(kept.deploy_script, "echo ok\n");
    app.stop().await;
}

#[tokio::test]
async fn the_webhook_refuses_bad_signatures_replays_and_big_bodies_and_keeps_payloads_as_data() {
    let app = TestApp::spawn().await;
    let user = app.login_as("ops@example.com", "Ops").await;
    let site = site_row(&app).await;
    let secret = connect(&app, &user, site).await;
    let push = r#"{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567","pusher":{"name":"mallory; $(id) `id`"},"head_commit":{"message":"fix; $(touch /tmp/pwned) `id` <script>"}}"#;

    // Missing, wrong and stale signatures: 401, nothing queued.
    assert_eq!(post(&app, site, &[], push.into()).await.0, 401);
    let mut forged = github(&secret, "d-1", push);
    forged[2].1 = panel::deployments::webhook::sign_github("not the secret", push.as_bytes());
    assert_eq!(post(&app, site, &forged, push.into()).await.0, 401);
    let tampered = github(&secret, "d-1", push);
    assert_eq!(
        post(&app, site, &tampered, push.replace("main", "mainx").into())
            .await
            .0,
        401
    );
    assert_eq!(
        post(
            &app,
            site,
            &[("X-Gitlab-Token", "guess".into())],
            push.into()
        )
        .await
        .0,
        401
    );
    let old = chrono::Utc::now().timestamp() - 600;
    let stale = vec![
        ("X-Panel-Timestamp", old.to_string()),
        (
            "X-Panel-Signature",
            panel::deployments::webhook::sign_plain(&secret, old, b""),
        ),
    ];
    assert_eq!(post(&app, site, &stale, Vec::new()).await.0, 401);
    assert_eq!(deployments(&app, site).await, 0);

    // Unknown site, ping, another branch, a tag: nothing queued.
    let (status, _) = post(
        &app,
        SiteId::generate(),
        &github(&secret, "d-2", push),
        push.into(),
    )
    .await;
    assert_eq!(status, 404);
    let mut ping = github(&secret, "d-3", "{}");
    ping[0].1 = "ping".into();
    assert_eq!(
        post(&app, site, &ping, b"{}".to_vec()).await,
        (200, serde_json::json!({"status": "pong"}))
    );
    let other =
        r#"{"ref":"refs/heads/feature/x","after":"0123456789abcdef0123456789abcdef01234567"}"#;
    let gitlab = vec![
        ("X-Gitlab-Token", secret.clone()),
        ("X-Gitlab-Event", "Push Hook".into()),
        ("X-Gitlab-Event-UUID", "gl-1".into()),
    ];
    let (status, body) = post(&app, site, &gitlab, other.into()).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (202, Some("ignored")),
        "{body}"
    );
    let tag = r#"{"ref":"refs/tags/v1.0"}"#;
    assert_eq!(
        post(&app, site, &github(&secret, "d-4", tag), tag.into())
            .await
            .1["status"],
        "ignored"
    );
    assert_eq!(deployments(&app, site).await, 0);

    // Bodies over the limit: 413 (over the panel's 2 MiB at once, over the webhook's 1 MiB
    // when read), nothing queued.
    let huge = vec![b'x'; 10 * 1024 * 1024];
    assert_eq!(
        post(&app, site, &github(&secret, "d-5", ""), huge).await.0,
        413
    );
    let big = format!(
        "{{\"ref\":\"refs/heads/main\",\"pad\":\"{}\"}}",
        "a".repeat(1536 * 1024)
    );
    assert_eq!(
        post(
            &app,
            site,
            &github(&secret, "d-6", &big),
            big.clone().into()
        )
        .await
        .0,
        413
    );
    assert_eq!(deployments(&app, site).await, 0);

    // Genuine pushes with shell syntax in every field: accepted, queued, kept literally.
    let (status, body) = post(&app, site, &github(&secret, "d-7", push), push.into()).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "queued");
    let d: panel::ids::DeploymentId = body["deployment"].as_str().unwrap().parse().unwrap();
    let row = panel::db::deployments::get(app.db(), d)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.triggered_by.as_str(), "webhook");
    assert_eq!(row.branch, "main");
    let detail = row.trigger_detail.unwrap();
    assert!(detail.contains("pushed by mallory; $(id) `id`"), "{detail}");
    assert!(
        detail.contains("fix; $(touch /tmp/pwned) `id` <script>"),
        "{detail}"
    );
    assert!(!std::path::Path::new("/tmp/pwned").exists());
    let page = user.text(&format!("/deployments/{d}")).await;
    assert!(
        page.contains("`id` &lt;script&gt;") && !page.contains("`id` <script>"),
        "escaped"
    );
    // The same delivery again: a replay, refused.
    assert_eq!(
        post(&app, site, &github(&secret, "d-7", push), push.into())
            .await
            .0,
        409
    );
    let plain_body = br#"{"branch":"main","note":"; $(id) `id`"}"#.to_vec();
    let now = chrono::Utc::now().timestamp();
    let plain = vec![
        ("X-Panel-Timestamp", now.to_string()),
        (
            "X-Panel-Signature",
            panel::deployments::webhook::sign_plain(&secret, now, &plain_body),
        ),
    ];
    assert_eq!(post(&app, site, &plain, plain_body.clone()).await.0, 202);
    assert_eq!(
        post(&app, site, &plain, plain_body).await.0,
        409,
        "a plain signature is single use"
    );
    let gl_push = vec![
        ("X-Gitlab-Token", secret.clone()),
        ("X-Gitlab-Event", "Push Hook".into()),
        ("X-Gitlab-Event-UUID", "gl-2".into()),
    ];
    assert_eq!(post(&app, site, &gl_push, push.into()).await.0, 202);
    assert_eq!(deployments(&app, site).await, 3);

    // A rotated secret retires the old one.
    assert_eq!(
        user.post_form(&format!("/sites/{site}/webhook/rotate"), &[])
            .await
            .status(),
        303
    );
    assert_eq!(
        post(&app, site, &github(&secret, "d-8", push), push.into())
            .await
            .0,
        401
    );
    // A suspended site queues nothing.
    sqlx::query("UPDATE sites SET status = 'suspended' WHERE id = ?")
        .bind(site)
        .execute(app.db())
        .await
        .unwrap();
    let secret = connect(&app, &user, site).await;
    assert_eq!(
        post(&app, site, &github(&secret, "d-9", push), push.into())
            .await
            .0,
        409
    );
    assert_eq!(deployments(&app, site).await, 3);
    app.stop().await;
}

#[tokio::test]
async fn panel_deploy_refuses_bad_input_by_field() {
    let dir = tempfile::tempdir().unwrap();
    for (args, field) in [
        (vec!["deploy", "ex$(id).com"], "site: "),
        (
            vec!["deploy", "shop.example.com", "--branch", "--orphan"],
            "branch: ",
        ),
        (
            vec!["deploy", "shop.example.com", "--branch", "main;id"],
            "branch: ",
        ),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_panel"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(field), "{args:?}: {err}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_panel"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["deploy", "nowhere.example.com"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no site"));
}

/// No trust on first use: a repository moved to another git host loses the confirmed key, and a
/// genuine push then queues nothing until that host's key is confirmed.
#[tokio::test]
async fn a_push_for_a_git_host_nobody_confirmed_queues_nothing() {
    let app = TestApp::spawn().await;
    let user = app.login_as("ops@example.com", "Ops").await;
    let site = site_row(&app).await;
    let secret = connect(&app, &user, site).await;
    let resp = user
        .post_form(
            &format!("/sites/{site}/repository"),
            &[
                ("url", "git@git.example.com:acme/shop.git"),
                ("branch", "main"),
                ("keep_releases", "5"),
                ("deploy_script", "echo ok\n"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let repo = panel::db::deployments::repository(app.db(), site)
        .await
        .unwrap()
        .unwrap();
    assert!(
        repo.confirmed_host_keys.is_none(),
        "github.com's key says nothing of this host"
    );
    let push = r#"{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567"}"#;
    let (status, body) = post(
        &app,
        site,
        &github(&secret, "d-unconfirmed", push),
        push.into(),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("not confirmed"),
        "{body}"
    );
    assert_eq!(deployments(&app, site).await, 0);
    // So does the UI.
    let resp = user.post_form(&format!("/sites/{site}/deploy"), &[]).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(deployments(&app, site).await, 0);
    app.stop().await;
}
