//! What a newcomer meets, checked over HTTP where a browser is not needed: the login comes back
//! to the page asked for and says why it is shown; a filter typo is answered on a form, not a
//! dead end; an htmx form shows its refusal inside itself; removing software that sites use is
//! refused with their names; the jobs list names servers, sites and people; key names are unique;
//! revealing a site's `.env` to edit it is logged.

use panel::ids::{JobId, ServerId, SiteId, SystemUserId};

use crate::harness::{TestApp, client};

/// A page's HTML for a visitor without a session.
async fn anonymous_page(app: &TestApp, path: &str, query: &[(&str, &str)]) -> String {
    client()
        .get(app.url(path))
        .query(query)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// An active server `web-1` with PHP 8.2 installed and a site `shop.example.com` on PHP 8.2.
async fn server_with_a_site(app: &TestApp) -> (ServerId, SiteId) {
    let db = app.db();
    let server = ServerId::generate();
    sqlx::query("INSERT INTO servers (id, name, ip_address, hostname, os_version, status) VALUES (?, 'web-1', '192.0.2.10', 'web1.example.com', 'debian_12', 'active')")
        .bind(server)
        .execute(db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO software_installations (id, server_id, software, version, status) VALUES (?, ?, 'php', '8.2', 'installed')")
        .bind(ulid::Ulid::generate().to_string())
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
    sqlx::query("INSERT INTO sites (id, server_id, system_user_id, domain, app_type, php_version, status) VALUES (?, ?, ?, 'shop.example.com', 'php', '8.2', 'active')")
        .bind(site)
        .bind(server)
        .bind(user)
        .execute(db)
        .await
        .unwrap();
    (server, site)
}

#[tokio::test]
async fn the_login_comes_back_to_the_page_asked_for_and_says_why_it_is_shown() {
    let app = TestApp::spawn().await;
    let http = no_redirects();
    let asked = http
        .get(app.url("/sites?q=shop&status=error"))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 303);
    assert_eq!(
        asked.headers()["location"],
        "/login?next=/sites%3Fq%3Dshop%26status%3Derror"
    );
    // A session cookie that names no session any more: the session ended.
    let stale = http
        .get(app.url("/servers"))
        .header("Cookie", format!("panel_session={}", "x".repeat(43)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        stale.headers()["location"],
        "/login?expired=1&next=/servers"
    );
    let page = anonymous_page(&app, "/login?expired=1&next=/servers", &[]).await;
    assert!(page.contains("data-session-expired"));
    assert!(page.contains("data-next=\"/servers\""));
    // Only a path on this panel is a place to come back to.
    for evil in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let page = anonymous_page(&app, "/login", &[("next", evil)]).await;
        assert!(page.contains("data-next=\"/\""), "{evil}");
    }
    // Logging out says so.
    let user = app.login_as("ada@example.com", "Ada").await;
    let out = user.post_form("/logout", &[]).await;
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers()["location"], "/login?logged_out=1");
    let page = anonymous_page(&app, "/login?logged_out=1", &[]).await;
    assert!(page.contains("data-logged-out"));
    app.stop().await;
}

#[tokio::test]
async fn a_filter_typo_is_answered_on_a_form_with_the_navigation_not_a_dead_end() {
    let app = TestApp::spawn().await;
    let user = app.login_as("ada@example.com", "Ada").await;
    let resp = user.get("/selinux?period=forever&class=file").await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("data-user-name"),
        "the page keeps its navigation"
    );
    assert!(html.contains("data-field-error=\"period\""));
    assert!(html.contains("data-error-summary"));
    assert!(html.contains("action=\"/selinux\""));
    assert!(html.contains("name=\"period\" value=\"forever\""));
    assert!(
        html.contains("type=\"hidden\" name=\"class\" value=\"file\""),
        "the good filters are kept"
    );
    assert!(html.contains("Clear the filters"));
    // A page that does not exist keeps the navigation too.
    let missing = user.get("/sites/nothing-here").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("data-user-name"));
    app.stop().await;
}

#[tokio::test]
async fn an_htmx_form_shows_its_errors_inside_itself_and_other_failures_toast() {
    let app = TestApp::spawn().await;
    let user = app.login_as("ada@example.com", "Ada").await;
    let (server, _) = server_with_a_site(&app).await;
    let path = format!("/servers/{server}/delete");
    let body = format!("csrf_token={}&confirm=web-2", user.csrf);
    let origin = app.state().config.origin();
    let headers = [
        ("HX-Request", "true"),
        ("X-Panel-Form", "server-delete"),
        ("Origin", origin.as_str()),
    ];
    let resp = user.post_raw(&path, &headers, &body).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(resp.headers()["hx-retarget"], "#server-delete-errors");
    assert_eq!(resp.headers()["hx-reswap"], "innerHTML");
    let html = resp.text().await.unwrap();
    assert!(html.contains("data-field-error=\"confirm\""), "{html}");
    assert!(html.contains("web-1"), "it says what to type");
    // A form name that is not an id is ignored: a toast, as for any other htmx failure.
    let odd = [
        ("HX-Request", "true"),
        ("X-Panel-Form", "x\"><script>"),
        ("Origin", origin.as_str()),
    ];
    let resp = user.post_raw(&path, &odd, &body).await;
    assert_eq!(resp.headers()["hx-retarget"], "#toasts");
    let still: i64 = sqlx::query_scalar("SELECT count(*) FROM servers")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(still, 1, "nothing was deleted");
    // Without htmx, the same action answers with a plain 303.
    let plain = user
        .post_form(&format!("/servers/{server}/setup-url"), &[])
        .await;
    assert_eq!(plain.status(), 303);
    // The server page's delete form names its slot.
    let page = user.text(&format!("/servers/{server}")).await;
    assert!(page.contains("id=\"server-delete-errors\""));
    assert!(page.contains("X-Panel-Form&quot;:&quot;server-delete"));
    // Done: htmx is told where to go in a 200 (a 303 would be followed by the browser and the
    // next page swapped into the form).
    let body = format!("csrf_token={}&confirm=web-1", user.csrf);
    let done = user.post_raw(&path, &headers, &body).await;
    assert_eq!(done.status(), 200);
    assert_eq!(done.headers()["hx-redirect"], "/servers");
    assert!(done.headers().get("location").is_none());
    app.stop().await;
}

#[tokio::test]
async fn removing_software_that_sites_use_is_refused_with_their_names() {
    let app = TestApp::spawn().await;
    let user = app.login_as("ada@example.com", "Ada").await;
    let (server, _) = server_with_a_site(&app).await;
    // The page asks in a dialog before it removes anything.
    let page = user.text(&format!("/servers/{server}")).await;
    assert!(page.contains("commandfor=\"remove-php-8-2-dialog\""));
    assert!(page.contains("<dialog class=\"modal\" id=\"remove-php-8-2-dialog\""));
    let resp = user
        .post_form(
            &format!("/servers/{server}/software"),
            &[
                ("software", "php"),
                ("version", "8.2"),
                ("action", "remove"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 409);
    let html = resp.text().await.unwrap();
    assert!(html.contains("shop.example.com"), "{html}");
    assert!(html.contains("in use by 1 site on this server"));
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(jobs, 0, "no job was started");
    let status: String =
        sqlx::query_scalar("SELECT status FROM software_installations WHERE server_id = ?")
            .bind(server)
            .fetch_one(app.db())
            .await
            .unwrap();
    assert_eq!(status, "installed");
    app.stop().await;
}

#[tokio::test]
async fn the_jobs_list_and_a_job_page_name_the_server_the_site_and_the_person() {
    let app = TestApp::spawn().await;
    let user = app.login_as("ada@example.com", "Ada Lovelace").await;
    let (server, site) = server_with_a_site(&app).await;
    // Recent, finished jobs (the housekeeper, running at start, prunes old ones).
    for _ in 0..2 {
        sqlx::query("INSERT INTO jobs (id, server_id, actor_id, kind, args, title, status, started_at, finished_at) VALUES (?, ?, ?, 'site.provision', ?, 'Create shop.example.com', 'success', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-5 seconds'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-0.8 seconds'))")
            .bind(JobId::generate())
            .bind(server)
            .bind(user.user_id)
            .bind(serde_json::json!({ "server_id": server, "site_id": site }).to_string())
            .execute(app.db())
            .await
            .unwrap();
    }
    let html = user.text("/jobs").await;
    for text in [
        ">web-1</a>",
        ">shop.example.com</a>",
        "Ada Lovelace",
        "4.2 s",
        &format!("href=\"/servers/{server}\""),
        &format!("href=\"/sites/{site}\""),
    ] {
        assert!(html.contains(text), "missing {text}: {html}");
    }
    assert!(
        html.matches("id=\"job-status\"").count() <= 1,
        "an id once a page"
    );
    let id: String = sqlx::query_scalar("SELECT id FROM jobs LIMIT 1")
        .fetch_one(app.db())
        .await
        .unwrap();
    let page = user.text(&format!("/jobs/{id}")).await;
    assert!(page.contains("data-job-context"));
    assert!(page.contains(&format!("href=\"/servers/{server}\"")));
    assert!(page.contains(&format!("href=\"/sites/{site}\"")));
    app.stop().await;
}

#[tokio::test]
async fn key_names_are_unique_and_a_site_env_reveal_is_logged() {
    let app = TestApp::spawn().await;
    let user = app.login_as("ada@example.com", "Ada").await;
    let generate = || user.post_form("/ssh-keys", &[("name", "panel"), ("key_type", "ed25519")]);
    assert_eq!(generate().await.status(), 303);
    let again = generate().await;
    assert_eq!(again.status(), 422);
    assert!(again.text().await.unwrap().contains("already in the panel"));
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM ssh_keys")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(keys, 1);

    let (server, site) = server_with_a_site(&app).await;
    let resp = user
        .post_form(
            &format!("/sites/{site}/env"),
            &[("env", "MAIL_HOST=mail.internal.test")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let page = user.text(&format!("/sites/{site}")).await;
    assert!(!page.contains("mail.internal.test"), "values stay hidden");
    // The overview says where the site answers and what its certificate is.
    assert!(page.contains("href=\"http://shop.example.com/\""));
    assert!(page.contains("no certificate: add one"));
    assert!(page.contains("data-env-reveal"));
    let shown = user
        .post_form(&format!("/sites/{site}/env/reveal"), &[])
        .await;
    assert_eq!(shown.status(), 200);
    assert_eq!(shown.headers()["cache-control"], "no-store");
    let html = shown.text().await.unwrap();
    assert!(
        html.contains("MAIL_HOST=mail.internal.test"),
        "shown to edit"
    );
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM server_logs WHERE server_id = ? AND message LIKE '.env values of shop.example.com revealed'",
    )
    .bind(server)
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(logged, 1);
    // The server log names who did it, not an id.
    let log = user.text(&format!("/servers/{server}")).await;
    assert!(log.contains("by: Ada"), "the actor by name");
    app.stop().await;
}
