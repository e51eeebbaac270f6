//! Login and session rules over HTTP: enrolment links, CSRF and Origin, cookies, rate limits,
//! the pages behind the gate, and the operator's `panel user` commands.

use std::process::Command;

use panel::auth::{self, Purpose};

use crate::harness::{TestApp, client};

#[tokio::test]
async fn unknown_used_and_expired_links_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let config = app.state().config.clone();
    let fresh = auth::issue_enrolment(
        app.db(),
        &config,
        Purpose::Invite,
        Some("a@example.com"),
        None,
        None,
        None,
    )
    .await
    .unwrap();
    let used = auth::issue_enrolment(
        app.db(),
        &config,
        Purpose::Invite,
        Some("b@example.com"),
        None,
        None,
        None,
    )
    .await
    .unwrap();
    let expired = auth::issue_enrolment(
        app.db(),
        &config,
        Purpose::Invite,
        Some("c@example.com"),
        None,
        None,
        None,
    )
    .await
    .unwrap();
    let hash = |url: &str| auth::hash_token(url.rsplit('/').next().unwrap());
    sqlx::query("UPDATE enrolment_tokens SET used_at = expires_at WHERE token_hash = ?")
        .bind(hash(&used))
        .execute(app.db())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE enrolment_tokens SET expires_at = '2000-01-01T00:00:00.000Z' WHERE token_hash = ?",
    )
    .bind(hash(&expired))
    .execute(app.db())
    .await
    .unwrap();
    let unknown = format!("{}/enrol/{}", app.base, "A".repeat(43));

    let ok = client().get(&fresh).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("a@example.com"));
    let mut answers = Vec::new();
    for url in [&used, &expired, &unknown] {
        let resp = client().get(url).send().await.unwrap();
        assert_eq!(resp.status(), 404, "{url}");
        answers.push(resp.text().await.unwrap());
    }
    assert!(
        answers.iter().all(|a| a == &answers[0]),
        "one answer for all three"
    );
    assert!(answers[0].contains("unknown, already used or expired"));
    // No stored link is the token itself.
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM enrolment_tokens")
        .fetch_all(app.db())
        .await
        .unwrap();
    assert!(
        stored
            .iter()
            .all(|h| h.len() == 64 && !fresh.contains(h.as_str()))
    );
    app.stop().await;
}

/// A pre-login token from the login page: (`NAME=VALUE` of its cookie, csrf). No session row
/// exists yet: the first ceremony step makes it.
async fn prelogin(app: &TestApp) -> (String, String) {
    let resp = client().get(app.url("/login")).send().await.unwrap();
    let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    assert!(
        !set_cookie.contains("Secure"),
        "plain http URL: no Secure flag"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with("panel_prelogin="), "{cookie}");
    let html = resp.text().await.unwrap();
    let csrf = html
        .split("data-csrf=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    (cookie, csrf)
}

#[tokio::test]
async fn state_changes_need_the_panel_origin_and_the_csrf_token() {
    let app = TestApp::spawn().await;
    let (cookie, csrf) = prelogin(&app).await;
    let origin = app.state().config.origin();
    let post = |headers: Vec<(&'static str, String)>| {
        let mut req = client()
            .post(app.url("/login/options"))
            .header("Cookie", cookie.clone())
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .body("{}");
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    let ok = post(vec![
        ("Origin", origin.clone()),
        ("X-CSRF-Token", csrf.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(ok.status(), 200);
    let options: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(options["publicKey"]["userVerification"], "required");

    let wrong_origin = post(vec![
        ("Origin", "http://evil.example".into()),
        ("X-CSRF-Token", csrf.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(wrong_origin.status(), 403);
    let body: serde_json::Value = wrong_origin.json().await.unwrap();
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("http://evil.example") && message.contains(&app.state().config.url),
        "{message}"
    );

    let no_origin = post(vec![("X-CSRF-Token", csrf.clone())]).await.unwrap();
    assert_eq!(no_origin.status(), 403);
    let missing = post(vec![("Origin", origin.clone())]).await.unwrap();
    assert_eq!(missing.status(), 403);
    let wrong = post(vec![
        ("Origin", origin.clone()),
        ("X-CSRF-Token", "x".repeat(43)),
    ])
    .await
    .unwrap();
    assert_eq!(wrong.status(), 403);
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("security token"));

    // A finish without a started ceremony is refused (nothing to replay against).
    let finish = client()
        .post(app.url("/login/finish"))
        .header("Cookie", cookie.clone())
        .header("Origin", &origin)
        .header("X-CSRF-Token", &csrf)
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .body(r#"{"id":"AAAA","rawId":"AAAA","type":"public-key","extensions":{},"response":{"authenticatorData":"AAAA","clientDataJSON":"AAAA","signature":"AAAA","userHandle":null}}"#)
        .send()
        .await
        .unwrap();
    assert!(finish.status().is_client_error(), "{}", finish.status());
    app.stop().await;
}

#[tokio::test]
async fn logged_in_forms_need_csrf_and_pages_render_behind_the_gate() {
    let app = TestApp::spawn().await;
    let user = app.login_as("grace@example.com", "Grace Hopper").await;
    for path in [
        "/",
        "/servers",
        "/sites",
        "/databases",
        "/deployments",
        "/ssh-keys",
        "/selinux",
        "/settings",
    ] {
        let resp = user.get(path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let html = resp.text().await.unwrap();
        assert!(html.contains("Grace Hopper"), "{path} shows the user");
        assert!(
            html.contains("name=\"csrf-token\""),
            "{path} carries the CSRF token"
        );
        for u in crate::harness::referenced_urls(&html) {
            assert!(
                u.starts_with('/') && !u.starts_with("//"),
                "{path}: external reference {u}"
            );
        }
    }
    // Without the token or from another origin nothing changes.
    let no_token = user
        .post_raw(
            "/ssh-keys",
            &[("Origin", &app.state().config.origin())],
            "name=x&key_type=ed25519",
        )
        .await;
    assert_eq!(no_token.status(), 403);
    let cross = user
        .post_raw(
            "/ssh-keys",
            &[("Origin", "http://evil.example")],
            &format!("name=x&key_type=ed25519&csrf_token={}", user.csrf),
        )
        .await;
    assert_eq!(cross.status(), 403);
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM ssh_keys")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(keys, 0);

    // With both, the SSH key forms work: generate, then a 1 MB paste is a field error.
    let made = user
        .post_form("/ssh-keys", &[("name", "web-key"), ("key_type", "ed25519")])
        .await;
    assert_eq!(made.status(), 303);
    let page = user.get("/ssh-keys").await.text().await.unwrap();
    assert!(page.contains("web-key") && page.contains("SHA256:"));
    // "openssh-key-v1" in base64: the start of every OpenSSH private key body.
    assert!(
        !page.contains("b3BlbnNzaC1rZXktdjE"),
        "the private key never reaches the browser"
    );
    let huge = "A".repeat(1024 * 1024);
    let resp = user
        .post_form("/ssh-keys/import", &[("name", "huge"), ("key", &huge)])
        .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("data-field-error=\"key\"") && html.contains("at most 16 KiB"));
    assert!(
        !html.contains(&huge[..100]),
        "the pasted text is not echoed back"
    );
    let bad_type = user
        .post_form("/ssh-keys", &[("name", "x"), ("key_type", "dsa")])
        .await;
    assert_eq!(bad_type.status(), 422);
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM ssh_keys")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(keys, 1);

    // Preferences are stored per user; a bad value is a field error.
    assert_eq!(
        user.post_form("/settings/preferences", &[("theme", "dark")])
            .await
            .status(),
        303
    );
    assert!(
        user.get("/")
            .await
            .text()
            .await
            .unwrap()
            .contains("data-theme=\"dark\"")
    );
    assert_eq!(
        user.post_form("/settings/preferences", &[("theme", "neon")])
            .await
            .status(),
        422
    );

    // Logging out ends the session.
    assert_eq!(user.post_form("/logout", &[]).await.status(), 303);
    assert_eq!(user.get("/").await.status(), 303);
    app.stop().await;
}

#[tokio::test]
async fn the_last_passkey_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let user = app.login_as("k@example.com", "K").await;
    let mut conn = app.db().acquire().await.unwrap();
    let only = panel::db::credentials::insert(&mut conn, user.user_id, "cred-1", "Laptop", "{}")
        .await
        .unwrap();
    drop(conn);
    let resp = user
        .post_form(&format!("/settings/passkeys/{only}/delete"), &[])
        .await;
    assert_eq!(resp.status(), 409);
    assert!(resp.text().await.unwrap().contains("only passkey"));
    let mut conn = app.db().acquire().await.unwrap();
    panel::db::credentials::insert(&mut conn, user.user_id, "cred-2", "Phone", "{}")
        .await
        .unwrap();
    drop(conn);
    assert_eq!(
        user.post_form(&format!("/settings/passkeys/{only}/delete"), &[])
            .await
            .status(),
        303
    );
    app.stop().await;
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_address_and_forwarded_for_is_not_trusted() {
    let app = TestApp::spawn().await;
    let (cookie, csrf) = prelogin(&app).await;
    let origin = app.state().config.origin();
    let mut statuses = Vec::new();
    for i in 0..35 {
        let resp = client()
            .post(app.url("/login/options"))
            .header("Cookie", cookie.clone())
            .header("Origin", &origin)
            .header("X-CSRF-Token", &csrf)
            // A client cannot escape the limit by claiming other addresses.
            .header("X-Forwarded-For", format!("203.0.113.{i}"))
            .header("Content-Type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    assert!(statuses[..30].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses[30..].iter().all(|s| *s == 429), "{statuses:?}");
    app.stop().await;
}

#[test]
fn operators_invite_recover_list_and_disable_users_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let panel = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_panel"))
            .args(args)
            .env("PANEL_DATA_DIR", dir.path())
            .env("PANEL_URL", "https://panel.example.com")
            .output()
            .unwrap()
    };
    let out = panel(&["user", "invite", "lin@example.com", "--name", "Lin"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("https://panel.example.com/enrol/"),
        "{stdout}"
    );
    let bad = panel(&["user", "invite", "not-an-email"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("email:"));
    let missing = panel(&["user", "recover", "nobody@example.com"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no user"));
    assert!(
        String::from_utf8(panel(&["user", "list"]).stdout)
            .unwrap()
            .contains("No users yet")
    );
}

#[tokio::test]
async fn idle_and_expired_sessions_are_refused_and_purged() {
    let app = TestApp::spawn().await;
    let idle = app.login_as("idle@example.com", "Idle").await;
    let old = app.login_as("old@example.com", "Old").await;
    assert_eq!(idle.get("/").await.status(), 200);
    sqlx::query("UPDATE sessions SET last_seen_at = '2000-01-01T00:00:00.000Z' WHERE user_id = ?")
        .bind(idle.user_id)
        .execute(app.db())
        .await
        .unwrap();
    sqlx::query("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000Z' WHERE user_id = ?")
        .bind(old.user_id)
        .execute(app.db())
        .await
        .unwrap();
    assert_eq!(idle.get("/").await.status(), 303, "idle timeout");
    assert_eq!(old.get("/").await.status(), 303, "absolute timeout");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id IN (?, ?)")
        .bind(idle.user_id)
        .bind(old.user_id)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(left, 0, "refused sessions are deleted");
    app.stop().await;
}

#[tokio::test]
async fn an_ip_address_url_starts_the_panel_and_explains_that_passkeys_need_a_name() {
    let port = crate::harness::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let app = TestApp::spawn_at(
        tempfile::tempdir().unwrap(),
        &format!("127.0.0.1:{port}"),
        &url,
    )
    .await;
    let (cookie, csrf) = prelogin(&app).await;
    let page = client()
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("data-passkeys-unavailable") && page.contains("host name, not an IP address")
    );
    let resp = client()
        .post(app.url("/login/options"))
        .header("Cookie", cookie.clone())
        .header("Origin", &url)
        .header("X-CSRF-Token", &csrf)
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    app.stop().await;
}
