//! Roles, API tokens, the REST API and the audit log: the route × role table walked over HTTP,
//! tokens refused when revoked or expired, a viewer that cannot reveal, delete or deploy, an
//! operator that cannot delete, a token limited to one server, Schemathesis against the OpenAPI
//! document, and the audit log's append-only rows.

use std::time::Duration;

use panel::api_tokens::{self, TokenInput};
use panel::domain::Role;
use panel::ids::ServerId;
use panel::web::{Access, routes};

use crate::harness::{LoggedIn, TestApp, client};

/// The least role of every route that needs a login, written out here (not read from the code):
/// the test fails when the route table and this table disagree, or when a cell is not what the
/// gate answers.
fn least_role(method: &str, path: &str) -> Role {
    use panel::paths::*;
    let own = [
        LOGOUT,
        PREFERENCES,
        SESSION_REVOKE,
        PASSKEY_OPTIONS,
        PASSKEY_FINISH,
        PASSKEY_DELETE,
        API_TOKENS,
        API_TOKEN_REVOKE,
        CONFIRM,
        CONFIRM_OPTIONS,
        CONFIRM_FINISH,
    ];
    let operate = [
        SITE_SUSPEND,
        SITE_RESUME,
        SITE_RETRY,
        SITE_DEPLOY,
        DEPLOYMENT_ROLLBACK,
        DEPLOYMENT_REDEPLOY,
        JOB_RETRY,
        SERVER_SELINUX_RELABEL,
        SERVER_HOST_KEY_CHECK,
        SITE_CRON_RUN,
        SITE_WORKERS_RESTART,
    ];
    let owner = [USERS, USER_ROLE, USER_STATUS];
    if own.contains(&path) {
        return Role::Viewer;
    }
    if owner.contains(&path) {
        return Role::Owner;
    }
    if method == "GET" {
        return match path {
            p if p == SERVER_NEW || p == SITE_NEW => Role::Admin,
            p if p == AUDIT || p == AUDIT_EXPORT => Role::Admin,
            p if p == SITE_LOGS || p == SITE_LOGS_STREAM || p == SITE_LOGS_DOWNLOAD => {
                Role::Operator
            }
            _ => Role::Viewer,
        };
    }
    if operate.contains(&path) {
        return Role::Operator;
    }
    // Every other change (create, change, delete, reveal) is an admin's.
    Role::Admin
}

const ID: &str = "01JD000000000000000000000A";

/// A logged-in user of each role.
async fn users(app: &TestApp) -> Vec<(Role, LoggedIn)> {
    let mut out = Vec::new();
    for role in Role::ALL {
        let user = app
            .login_with_role(&format!("{role}@example.com"), role.as_str(), *role)
            .await;
        out.push((*role, user));
    }
    out
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_table_says() {
    let app = TestApp::spawn().await;
    let users = users(&app).await;
    let mut checked = 0;
    // Logging out ends the session the other cells use: it goes last.
    let mut table = routes();
    table.sort_by_key(|r| r.path == panel::paths::LOGOUT);
    for route in table {
        let Access::User(perm) = route.access else {
            continue;
        };
        let method = route.method.to_string();
        let least = least_role(&method, route.path);
        assert_eq!(
            perm.least_role(),
            least,
            "{method} {} declares {perm:?}; the table says {least}",
            route.path
        );
        let path = panel::paths::with_id(route.path, ID);
        for (role, user) in &users {
            let resp = if method == "GET" {
                user.get(&path).await
            } else {
                user.post_form(&path, &[]).await
            };
            let status = resp.status();
            let streaming = resp
                .headers()
                .get("content-type")
                .is_some_and(|c| c.to_str().unwrap_or("").starts_with("text/event-stream"));
            let body = if streaming {
                String::new()
            } else {
                tokio::time::timeout(Duration::from_secs(5), resp.text())
                    .await
                    .map(|b| b.unwrap_or_default())
                    .unwrap_or_default()
            };
            let refused = status == 403 && body.contains("that needs the");
            let should_refuse = role.rank() < least.rank();
            assert_eq!(
                refused,
                should_refuse,
                "{method} {} as {role}: {status} {}",
                route.path,
                &body[..body.len().min(300)]
            );
            checked += 1;
        }
    }
    assert!(checked >= 4 * 70, "{checked} cells");
}

/// A token of `role` (made by nobody: the command line's kind), limited to `servers`.
async fn token(app: &TestApp, name: &str, role: Role, servers: Vec<ServerId>) -> String {
    let input = TokenInput {
        name: name.into(),
        role,
        servers,
        expires_at: api_tokens::parse_expiry("1d").unwrap(),
    };
    api_tokens::create(app.state(), &input, None)
        .await
        .unwrap()
        .0
}

async fn api(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = client()
        .request(method, app.url(&format!("/api/v1{path}")))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .map(|c| c.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    if status >= 400 {
        assert_eq!(kind, "application/problem+json", "{status}: {text}");
    }
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// Two seeded servers with sites each, reachable nowhere (loopback, a closed port): a job
/// queued against them fails without leaving the machine.
async fn seeded(app: &TestApp) -> (Vec<ServerId>, Vec<String>) {
    panel::db::seed::seed(
        app.db(),
        panel::db::seed::Sizes {
            servers: 2,
            sites: 4,
            audit: 0,
        },
    )
    .await
    .unwrap();
    sqlx::query("UPDATE servers SET ip_address = '127.0.0.' || (rowid % 250 + 1), ssh_port = 9")
        .execute(app.db())
        .await
        .unwrap();
    // Seeded passwords are random bytes no key opens; a reveal would rightly fail as the
    // panel's own error. These sites have no database.
    sqlx::query("DELETE FROM databases")
        .execute(app.db())
        .await
        .unwrap();
    let servers: Vec<ServerId> = sqlx::query_scalar("SELECT id FROM servers ORDER BY id")
        .fetch_all(app.db())
        .await
        .unwrap();
    let sites: Vec<String> = sqlx::query_scalar("SELECT id FROM sites ORDER BY server_id, id")
        .fetch_all(app.db())
        .await
        .unwrap();
    (servers, sites)
}

#[tokio::test]
async fn tokens_are_prefixed_stored_hashed_and_refused_when_revoked_expired_or_unknown() {
    let app = TestApp::spawn().await;
    let good = token(&app, "ci", Role::Viewer, vec![]).await;
    assert!(
        good.starts_with("pnl_") && good.len() == 4 + 16 + 1 + 43,
        "{good}"
    );
    // Only the hash is stored: the token's text is nowhere in the database file.
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_all(app.db())
        .await
        .unwrap();
    assert_eq!(stored, vec![panel::auth::hash_token(&good)]);
    let (status, _) = api(&app, &good, reqwest::Method::GET, "/servers", None).await;
    assert_eq!(status, 200);
    // Last use recorded, with the address.
    let row = panel::db::tokens::find_by_name(app.db(), "ci")
        .await
        .unwrap()
        .unwrap();
    assert!(row.last_used_at.is_some());
    assert_eq!(row.last_used_from.as_deref(), Some("127.0.0.1"));

    for bad in [
        "",
        "pnl_",
        "Bearer",
        &good[..good.len() - 1],
        &format!("{}x", &good[..good.len() - 1]),
    ] {
        let (status, body) = api(&app, bad, reqwest::Method::GET, "/servers", None).await;
        assert_eq!(status, 401, "{bad}: {body}");
    }
    let resp = client()
        .get(app.url("/api/v1/servers"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("www-authenticate"));
    // A session cookie is not a token.
    let user = app.login_as("o@example.com", "O").await;
    let resp = client()
        .get(app.url("/api/v1/servers"))
        .header("Cookie", format!("panel_session={}", user.cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // Revoked: refused at once.
    api_tokens::revoke(app.state(), "ci", None).await.unwrap();
    let (status, _) = api(&app, &good, reqwest::Method::GET, "/servers", None).await;
    assert_eq!(status, 401);
    // Expired: refused.
    let old = token(&app, "old", Role::Viewer, vec![]).await;
    sqlx::query("UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00.000Z' WHERE name = 'old'")
        .execute(app.db())
        .await
        .unwrap();
    let (status, _) = api(&app, &old, reqwest::Method::GET, "/servers", None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_token_never_outranks_its_creator_and_forms_say_which_field_is_wrong() {
    let app = TestApp::spawn().await;
    let op = app
        .login_with_role("op@example.com", "Op", Role::Operator)
        .await;
    let form = api_tokens::TokenForm {
        name: "deployer".into(),
        role: "admin".into(),
        servers: vec!["nowhere".into()],
        expires: "3x".into(),
    };
    let Err(panel::error::AppError::Invalid(errors)) =
        api_tokens::parse(app.state(), &form, Role::Operator).await
    else {
        panic!("an operator made an admin token");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
    assert_eq!(fields, ["role", "servers", "expires"], "{errors:?}");
    // Made as an admin, then its creator is demoted: the token acts with the lower role.
    let input = TokenInput {
        name: "t".into(),
        role: Role::Operator,
        servers: vec![],
        expires_at: None,
    };
    let (text, _) = api_tokens::create(app.state(), &input, Some(op.user_id))
        .await
        .unwrap();
    panel::db::users::set_role(app.db(), op.user_id, Role::Viewer)
        .await
        .unwrap();
    let caller = api_tokens::authenticate(app.state(), &text, "127.0.0.1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(caller.principal.role, Role::Viewer);
    // A disabled creator's tokens stop working.
    panel::db::users::set_status(app.db(), op.user_id, panel::domain::UserStatus::Disabled)
        .await
        .unwrap();
    assert!(
        api_tokens::authenticate(app.state(), &text, "127.0.0.1")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn viewers_cannot_reveal_delete_or_deploy_operators_cannot_delete_and_limits_hold() {
    let app = TestApp::spawn().await;
    let (servers, sites) = seeded(&app).await;
    let site = &sites[0];
    let viewer = token(&app, "viewer", Role::Viewer, vec![]).await;
    let operator = token(&app, "operator", Role::Operator, vec![]).await;
    let post = reqwest::Method::POST;
    for (method, path, body) in [
        (post.clone(), format!("/sites/{site}/database/reveal"), None),
        (post.clone(), format!("/sites/{site}/env/reveal"), None),
        (
            reqwest::Method::DELETE,
            format!("/sites/{site}?confirm=x"),
            None,
        ),
        (
            post.clone(),
            format!("/sites/{site}/deployments"),
            Some(serde_json::json!({})),
        ),
        (post.clone(), format!("/sites/{site}/suspend"), None),
        (post.clone(), format!("/sites/{site}/certificate"), None),
        (
            reqwest::Method::DELETE,
            format!("/sites/{site}/certificate"),
            None,
        ),
    ] {
        let (status, problem) = api(&app, &viewer, method.clone(), &path, body).await;
        assert_eq!(status, 403, "viewer {method} {path}: {problem}");
        assert_eq!(problem["status"], 403);
        assert!(
            problem["detail"].as_str().unwrap().contains("viewer"),
            "{problem}"
        );
    }
    // The operator may deploy (refused only because the site has no repository), not delete
    // or reveal.
    let (status, problem) = api(
        &app,
        &operator,
        post.clone(),
        &format!("/sites/{site}/deployments"),
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    let (status, _) = api(
        &app,
        &operator,
        reqwest::Method::DELETE,
        &format!("/sites/{site}?confirm=x"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = api(
        &app,
        &operator,
        post.clone(),
        &format!("/sites/{site}/database/reveal"),
        None,
    )
    .await;
    assert_eq!(status, 403);

    // Limited to the first server: sees it and its sites only; the other's are "not found".
    let limited = token(&app, "limited", Role::Owner, vec![servers[0]]).await;
    let (_, list) = api(&app, &limited, reqwest::Method::GET, "/servers", None).await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [servers[0].to_string()]);
    let (_, list) = api(&app, &limited, reqwest::Method::GET, "/sites", None).await;
    let on: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    let mine: Vec<String> =
        sqlx::query_scalar("SELECT id FROM sites WHERE server_id = ? ORDER BY domain")
            .bind(servers[0])
            .fetch_all(app.db())
            .await
            .unwrap();
    assert!(!mine.is_empty());
    let mut on_sorted = on.clone();
    on_sorted.sort();
    let mut mine_sorted = mine.clone();
    mine_sorted.sort();
    assert_eq!(on_sorted, mine_sorted);
    let other_site: String = sqlx::query_scalar("SELECT id FROM sites WHERE server_id = ? LIMIT 1")
        .bind(servers[1])
        .fetch_one(app.db())
        .await
        .unwrap();
    for path in [
        format!("/servers/{}", servers[1]),
        format!("/sites/{other_site}"),
        format!("/servers/{}/software", servers[1]),
    ] {
        let (status, _) = api(&app, &limited, reqwest::Method::GET, &path, None).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = api(
        &app,
        &limited,
        post,
        &format!("/sites/{other_site}/suspend"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = api(
        &app,
        &limited,
        reqwest::Method::GET,
        &format!("/servers/{}", servers[0]),
        None,
    )
    .await;
    assert_eq!(status, 200);

    // Refusals by a token are in the audit log with its name.
    let refused: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE actor_name = 'viewer' AND outcome = 'refused' AND via = 'api'",
    )
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(refused, 7, "each of the viewer's refused calls");
}

#[tokio::test]
async fn a_sensitive_step_needs_a_passkey_check_from_the_last_five_minutes() {
    let app = TestApp::spawn().await;
    let (_, sites) = seeded(&app).await;
    let admin = app.login_with_role("a@example.com", "A", Role::Admin).await;
    let path = format!("/sites/{}/database/reveal", sites[1]);
    // Fresh from the login: allowed through the gate (the seeded password opens with no key).
    let resp = admin.post_form(&path, &[]).await;
    let body = resp.text().await.unwrap();
    assert!(!body.contains("passkey check"), "{body}");
    sqlx::query("UPDATE sessions SET verified_at = '2020-01-01T00:00:00.000Z'")
        .execute(app.db())
        .await
        .unwrap();
    let resp = admin.post_form(&path, &[]).await;
    assert_eq!(resp.status(), 403);
    let html = resp.text().await.unwrap();
    assert!(html.contains("passkey check"));
    assert!(html.contains("/settings/confirm?next="), "{html}");
    // The passkey script's fetch gets JSON naming the confirmation page.
    let resp = client()
        .post(app.url("/settings/passkeys/options"))
        .header("Cookie", format!("panel_session={}", admin.cookie))
        .header("Origin", app.state().config.origin())
        .header("X-CSRF-Token", &admin.csrf)
        .header("Accept", "application/json")
        .json(&serde_json::json!({ "passkey_name": "another" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        body["confirm"]
            .as_str()
            .unwrap()
            .starts_with("/settings/confirm"),
        "{body}"
    );
    // An operator's own preferences need no fresh check.
    let resp = admin
        .post_form("/settings/preferences", &[("theme", "dark")])
        .await;
    assert_ne!(resp.status(), 403);
}

#[tokio::test]
async fn the_audit_log_is_append_only_and_only_retention_removes_rows() {
    use panel::domain::{AuditActor, AuditOutcome, AuditVia};
    let app = TestApp::spawn().await;
    let entry = panel::db::audit::NewEntry {
        actor_kind: AuditActor::Cli,
        actor_id: None,
        actor_name: "root (command line)".into(),
        action: "users.invite".into(),
        target_kind: None,
        target_id: None,
        outcome: AuditOutcome::Ok,
        status: None,
        via: AuditVia::Cli,
        source: None,
    };
    panel::db::audit::insert(app.db(), &entry).await.unwrap();
    let update = sqlx::query("UPDATE audit_log SET actor_name = 'someone else'")
        .execute(app.db())
        .await;
    assert!(
        update
            .unwrap_err()
            .to_string()
            .contains("cannot be changed")
    );
    let delete = sqlx::query("DELETE FROM audit_log").execute(app.db()).await;
    assert!(
        delete
            .unwrap_err()
            .to_string()
            .contains("only by retention")
    );
    // Retention cannot be turned back to let newer rows go later.
    let pruned = panel::db::audit::prune(app.db(), "2020-01-01T00:00:00.000Z")
        .await
        .unwrap();
    assert_eq!(pruned, 0);
    let back = sqlx::query("UPDATE audit_retention SET cutoff = '2000-01-01'")
        .execute(app.db())
        .await;
    assert!(back.is_err());
    let pruned = panel::db::audit::prune(app.db(), &panel::auth::after(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(pruned, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_schema_violation_or_accepted_invalid_input() {
    let st = std::env::var("PANEL_SCHEMATHESIS").unwrap_or_else(|_| "st".into());
    let app = TestApp::spawn().await;
    seeded(&app).await;
    let owner = token(&app, "schemathesis", Role::Owner, vec![]).await;
    let url = app.url("/api/v1/openapi.json");
    // Its cache (found crashes, the schema's address) goes to a directory of its own, not
    // into the checkout.
    let cwd = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(&st)
        .current_dir(cwd.path())
        .args(["run", &url, "--header"])
        .arg(format!("Authorization: Bearer {owner}"))
        // Every check but "a request valid by the schema is accepted": an id of the right shape
        // that names nothing is rightly a 404.
        .args([
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            "40",
            "--generation-database",
            "none",
            "--no-color",
        ])
        .output()
        .await
        .unwrap_or_else(|e| panic!("{st} (tests/run.sh installs Schemathesis): {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    assert!(
        out.status.success(),
        "Schemathesis failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("passed"), "{text}");
    // It really exercised the operations.
    assert!(!text.contains("Tested: 0"), "{text}");
}

/// Follow a job over the API (the NDJSON stream) until it ends; its final status and its lines.
async fn follow(app: &TestApp, token: &str, job: &str) -> (String, String) {
    let resp = client()
        .get(app.url(&format!("/api/v1/jobs/{job}/log/stream")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let text = tokio::time::timeout(Duration::from_secs(300), resp.text())
        .await
        .expect("the job ends")
        .unwrap();
    let last: serde_json::Value =
        serde_json::from_str(text.lines().last().expect("a line")).unwrap();
    let status = last["status"]
        .as_str()
        .expect("the last line is the status")
        .to_owned();
    (status, text)
}

/// Wait over the API until the deployment ends; its final JSON.
async fn deployment_done(app: &TestApp, token: &str, id: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let (status, d) = api(
            app,
            token,
            reqwest::Method::GET,
            &format!("/deployments/{id}"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        if matches!(d["status"].as_str(), Some("success" | "failed")) {
            if let Some(job) = d["job_id"].as_str() {
                let (job_status, log) = follow(app, token, job).await;
                assert_eq!(d["status"], "success", "{log}");
                assert_eq!(job_status, "success", "{log}");
            }
            return d;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "deployment stuck: {d}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// Multi-threaded: the node's callbacks reach the panel while the test blocks on `ssh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_site_lifecycle_through_the_api_alone_each_action_audited_once() {
    use crate::harness::{GitHost, IsolatedNode, onboard, panel_for, wait_for};
    const DOMAIN: &str = "api.example.com";
    let (node, app, _user, server, setup_url) = panel_for(IsolatedNode::start_web()).await;
    let git = GitHost::start_for(&node);
    onboard(&app, &node, server, &setup_url).await;
    wait_for(&app, server, "active").await;
    let admin = token(&app, "lifecycle", Role::Admin, vec![server]).await;
    let operator = token(&app, "deployer", Role::Operator, vec![server]).await;
    let (get, post, put, delete) = (
        reqwest::Method::GET,
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    );

    // Create → active, following the provisioning job over the API.
    let (status, created) = api(
        &app,
        &admin,
        post.clone(),
        "/sites",
        Some(serde_json::json!({
            "server_id": server.to_string(),
            "domain": DOMAIN,
            "app_type": "generic",
            "php_version": "8.2",
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let site = created["id"].as_str().unwrap().to_owned();
    let (job_status, log) = follow(&app, &admin, created["job_id"].as_str().unwrap()).await;
    assert_eq!(job_status, "success", "{log}");
    let (_, shown) = api(&app, &admin, get.clone(), &format!("/sites/{site}"), None).await;
    assert_eq!(shown["status"], "active", "{shown}");
    assert_eq!(shown["domain"], DOMAIN);

    // Connect the repository and trust the git host's key (scanned on the server, confirmed).
    let (status, repo) = api(
        &app,
        &admin,
        put.clone(),
        &format!("/sites/{site}/repository"),
        Some(serde_json::json!({
            "url": git.url,
            "branch": "main",
            "keep_releases": 5,
            "deploy_script": "test -f index.php",
        })),
    )
    .await;
    assert_eq!(status, 200, "{repo}");
    git.authorize(repo["deploy_key_public"].as_str().unwrap());
    let (status, scan) = api(
        &app,
        &admin,
        post.clone(),
        &format!("/sites/{site}/git-host/scan"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{scan}");
    let fingerprints: Vec<String> = scan["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["fingerprint"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        fingerprints.contains(&git.node.host_fingerprint()),
        "{scan}"
    );
    let (status, _) = api(
        &app,
        &admin,
        post.clone(),
        &format!("/sites/{site}/git-host/confirm"),
        Some(serde_json::json!({ "fingerprints": fingerprints })),
    )
    .await;
    assert_eq!(status, 204);

    // Deploy (the operator may), deploy again, roll back to the first.
    git.commit(&[("index.php", "<?php echo 'v1';\n")], "first");
    let (status, queued) = api(
        &app,
        &operator,
        post.clone(),
        &format!("/sites/{site}/deployments"),
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    let first = queued["deployment_id"].as_str().unwrap().to_owned();
    deployment_done(&app, &operator, &first).await;
    assert_eq!(node.http(DOMAIN, "/").1.trim(), "v1");
    git.commit(&[("index.php", "<?php echo 'v2';\n")], "second");
    let (status, queued) = api(
        &app,
        &admin,
        post.clone(),
        &format!("/sites/{site}/deployments"),
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(status, 202);
    deployment_done(&app, &admin, queued["deployment_id"].as_str().unwrap()).await;
    assert_eq!(node.http(DOMAIN, "/").1.trim(), "v2");
    let (_, list) = api(
        &app,
        &admin,
        get.clone(),
        &format!("/sites/{site}/deployments"),
        None,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let (status, queued) = api(
        &app,
        &operator,
        post.clone(),
        &format!("/deployments/{first}/rollback"),
        None,
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    let back = deployment_done(&app, &operator, queued["deployment_id"].as_str().unwrap()).await;
    assert_eq!(back["action"], "rollback");
    assert_eq!(node.http(DOMAIN, "/").1.trim(), "v1");

    // The operator cannot delete; suspend → 503; resume → served again.
    let (status, _) = api(
        &app,
        &operator,
        delete.clone(),
        &format!("/sites/{site}?confirm={DOMAIN}"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    for (action, want, code) in [("suspend", "suspended", 503), ("resume", "active", 200)] {
        let (status, queued) = api(
            &app,
            &operator,
            post.clone(),
            &format!("/sites/{site}/{action}"),
            None,
        )
        .await;
        assert_eq!(status, 202, "{action}: {queued}");
        let (job_status, log) = follow(&app, &operator, queued["job_id"].as_str().unwrap()).await;
        assert_eq!(job_status, "success", "{action}: {log}");
        let (_, shown) = api(
            &app,
            &operator,
            get.clone(),
            &format!("/sites/{site}"),
            None,
        )
        .await;
        assert_eq!(shown["status"], want);
        assert_eq!(node.http(DOMAIN, "/").0, code, "{action}");
    }

    // Delete: the domain typed again; the job removes it; then the site is gone.
    let (status, problem) = api(
        &app,
        &admin,
        delete.clone(),
        &format!("/sites/{site}?confirm=wrong.example.com"),
        None,
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "confirm");
    let (status, queued) = api(
        &app,
        &admin,
        delete.clone(),
        &format!("/sites/{site}?confirm={DOMAIN}&delete_files=true"),
        None,
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    let (job_status, log) = follow(&app, &admin, queued["job_id"].as_str().unwrap()).await;
    assert_eq!(job_status, "success", "{log}");
    let (status, _) = api(&app, &admin, get.clone(), &format!("/sites/{site}"), None).await;
    assert_eq!(status, 404);

    // The audit log: every state-changing call once, with the token's name, outcome and target.
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT actor_name, action, outcome, target_id FROM audit_log WHERE via = 'api' ORDER BY id",
    )
    .fetch_all(app.db())
    .await
    .unwrap();
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(who, action, outcome, _)| (who.as_str(), action.as_str(), outcome.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("lifecycle", "sites.create", "ok"),
            ("lifecycle", "sites.repository", "ok"),
            ("lifecycle", "sites.git-host.scan", "ok"),
            ("lifecycle", "sites.git-host.confirm", "ok"),
            ("deployer", "sites.deployments", "ok"),
            ("lifecycle", "sites.deployments", "ok"),
            ("deployer", "deployments.rollback", "ok"),
            ("deployer", "sites.delete", "refused"),
            ("deployer", "sites.suspend", "ok"),
            ("deployer", "sites.resume", "ok"),
            ("lifecycle", "sites.delete", "invalid"),
            ("lifecycle", "sites.delete", "ok"),
        ]
    );
    let site_rows = rows
        .iter()
        .filter(|r| r.3.as_deref() == Some(site.as_str()))
        .count();
    assert_eq!(
        site_rows, 10,
        "every call on the site names it as the target"
    );
}

#[tokio::test]
async fn only_those_who_may_add_servers_see_a_setup_command() {
    let app = TestApp::spawn().await;
    let key = panel::ssh_keys::generate(app.state(), "k", panel::domain::KeyType::Ed25519, None)
        .await
        .unwrap();
    let admin = app.login_with_role("a@example.com", "A", Role::Admin).await;
    let resp = admin
        .post_form(
            "/servers",
            &[
                ("name", "web-1"),
                ("ip_address", "127.0.0.9"),
                ("hostname", "web1.example.com"),
                ("os_version", "debian_12"),
                ("ssh_port", "22"),
                ("ssh_user", "panel"),
                ("ssh_key_id", &key.id.to_string()),
                ("php_versions", "8.2"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let page = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        admin.text(&page).await.contains("/setup/"),
        "the admin sees it"
    );
    for role in [Role::Operator, Role::Viewer] {
        let user = app
            .login_with_role(&format!("{role}@example.com"), "U", role)
            .await;
        let html = user.text(&page).await;
        assert!(html.contains("web-1"), "{role} sees the server");
        assert!(!html.contains("/setup/"), "{role} sees no setup command");
    }
}

#[tokio::test]
async fn a_limited_token_whose_servers_are_gone_reaches_none_and_audit_rows_resist_rewrites() {
    let app = TestApp::spawn().await;
    let (servers, _) = seeded(&app).await;
    let limited = token(&app, "limited", Role::Owner, vec![servers[0]]).await;
    sqlx::query("DELETE FROM servers WHERE id = ?")
        .bind(servers[0])
        .execute(app.db())
        .await
        .unwrap();
    let (status, list) = api(&app, &limited, reqwest::Method::GET, "/servers", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
    let (status, _) = api(
        &app,
        &limited,
        reqwest::Method::GET,
        &format!("/servers/{}", servers[1]),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // A prune asked for the future stops at now.
    panel::db::audit::prune(app.db(), "9999-01-01T00:00:00.000Z")
        .await
        .unwrap();
    let cutoff: String = sqlx::query_scalar("SELECT cutoff FROM audit_retention")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert!(cutoff.as_str() < "3000", "{cutoff}");
    // A recorded change, then every way around append-only is refused.
    let (status, _) = api(
        &app,
        &limited,
        reqwest::Method::POST,
        &format!("/sites/{ID}/suspend"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let id: String = sqlx::query_scalar("SELECT id FROM audit_log LIMIT 1")
        .fetch_one(app.db())
        .await
        .unwrap();
    for sql in [
        format!("INSERT OR REPLACE INTO audit_log (id, actor_kind, actor_name, action, outcome, via) VALUES ('{id}', 'cli', 'x', 'x', 'ok', 'cli')"),
        "INSERT INTO audit_log (id, at, actor_kind, actor_name, action, outcome, via) VALUES ('01JD000000000000000000000B', '2001-01-01T00:00:00.000Z', 'cli', 'x', 'x', 'ok', 'cli')".into(),
        "DELETE FROM audit_retention".into(),
        "INSERT OR REPLACE INTO audit_retention (only_row, cutoff) VALUES (1, '9999')".into(),
        "UPDATE audit_retention SET cutoff = '2000-01-01'".into(),
    ] {
        assert!(sqlx::query(&sql).execute(app.db()).await.is_err(), "{sql}");
    }
}

#[tokio::test]
async fn settings_make_and_revoke_tokens_owners_manage_users_and_admins_read_the_audit_log() {
    let app = TestApp::spawn().await;
    let owner = app.login_as("owner@example.com", "Owner").await;
    let op = app
        .login_with_role("op@example.com", "Op", Role::Operator)
        .await;

    // An operator makes a token: never above its own role; shown once, not cached.
    let resp = op
        .post_form(
            "/settings/tokens",
            &[
                ("name", "ci"),
                ("role", "admin"),
                ("servers", ""),
                ("expires", "30d"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("cannot make a token with the admin role"),
        "{html}"
    );
    let resp = op
        .post_form(
            "/settings/tokens",
            &[
                ("name", "ci"),
                ("role", "operator"),
                ("servers", ""),
                ("expires", "30d"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let html = resp.text().await.unwrap();
    let start = html.find("pnl_").expect("the token is shown");
    let token = html[start..start + 64].to_owned();
    assert!(
        !op.text("/settings/tokens").await.contains(&token),
        "shown once"
    );
    let (status, _) = api(&app, &token, reqwest::Method::GET, "/servers", None).await;
    assert_eq!(status, 200);
    let row = panel::db::tokens::find_by_name(app.db(), "ci")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.user_id, Some(op.user_id));
    // Nobody else revokes it; its owner does.
    let path = format!("/settings/tokens/{}/revoke", row.id);
    assert_eq!(owner.post_form(&path, &[]).await.status(), 422);
    assert_eq!(op.post_form(&path, &[]).await.status(), 303);
    let (status, _) = api(&app, &token, reqwest::Method::GET, "/servers", None).await;
    assert_eq!(status, 401);

    // Users: the owner invites with a role; the link is shown once; roles change; the last
    // owner stays an owner.
    let resp = owner
        .post_form(
            "/settings/users",
            &[
                ("email", "new@example.com"),
                ("name", ""),
                ("role", "operator"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("/enrol/"));
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM enrolment_tokens WHERE email = 'new@example.com'")
            .fetch_one(app.db())
            .await
            .unwrap();
    assert_eq!(role.as_deref(), Some("operator"));
    let resp = owner
        .post_form(
            &format!("/settings/users/{}/role", op.user_id),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let user = panel::db::users::get(app.db(), op.user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.role, Role::Admin);
    let resp = owner
        .post_form(
            &format!("/settings/users/{}/role", owner.user_id),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(resp.status(), 422, "the only owner");
    let resp = owner
        .post_form(
            &format!("/settings/users/{}/status", owner.user_id),
            &[("status", "disabled")],
        )
        .await;
    assert_eq!(resp.status(), 422, "the only owner");

    // The audit log: what happened, filtered, exported; an admin reads it (op is one now).
    let html = op.text("/audit").await;
    assert!(html.contains("settings.tokens"), "{html}");
    assert!(html.contains("settings.users.role"), "{html}");
    let html = op
        .text("/audit?actor=owner%40example.com&status=invalid")
        .await;
    // The owner's three refusals: revoking another's token, demoting and disabling the only
    // owner.
    assert_eq!(html.matches("data-audit-row").count(), 3, "{html}");
    let csv = op
        .get("/audit/export?format=csv&actor=owner%40example.com")
        .await
        .text()
        .await
        .unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("at,actor_kind,actor,action")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() >= 4, "{csv}");
    assert!(
        rows.iter().all(|r| r.contains("\"owner@example.com\"")),
        "{csv}"
    );
    let json = op
        .get("/audit/export?format=json")
        .await
        .text()
        .await
        .unwrap();
    for line in json.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["action"].is_string());
    }
    let viewer = app
        .login_with_role("v@example.com", "V", Role::Viewer)
        .await;
    assert_eq!(viewer.get("/audit").await.status(), 403);
    assert!(
        !viewer.text("/settings").await.contains("href=\"/audit\""),
        "no Audit link for a viewer"
    );
}

#[tokio::test]
async fn servers_keys_software_and_selinux_through_the_api_with_their_roles() {
    let app = TestApp::spawn().await;
    let (servers, _) = seeded(&app).await;
    let admin = token(&app, "admin", Role::Admin, vec![]).await;
    let operator = token(&app, "operator", Role::Operator, vec![]).await;
    let limited = token(&app, "limited", Role::Owner, vec![servers[0]]).await;
    let (get, post, delete) = (
        reqwest::Method::GET,
        reqwest::Method::POST,
        reqwest::Method::DELETE,
    );

    // SSH keys: made and imported by an admin, never by a limited token or an operator.
    let key = serde_json::json!({ "name": "deploy", "key_type": "ed25519" });
    let (status, _) = api(&app, &limited, post.clone(), "/ssh-keys", Some(key.clone())).await;
    assert_eq!(status, 403);
    let (status, _) = api(
        &app,
        &operator,
        post.clone(),
        "/ssh-keys",
        Some(key.clone()),
    )
    .await;
    assert_eq!(status, 403);
    let (status, made) = api(&app, &admin, post.clone(), "/ssh-keys", Some(key.clone())).await;
    assert_eq!(status, 201, "{made}");
    assert!(made["fingerprint"].as_str().unwrap().starts_with("SHA256:"));
    assert!(made["created_at"].as_str().unwrap().starts_with("20"));
    let (status, problem) = api(&app, &admin, post.clone(), "/ssh-keys", Some(key)).await;
    assert_eq!(status, 422, "a name in use: {problem}");
    assert_eq!(problem["errors"][0]["field"], "name");

    // A server: added (its setup command once), refused to a limited token, removed by name.
    let new = serde_json::json!({
        "name": "api-1", "ip_address": "127.0.0.77", "hostname": "api1.example.com",
        "os_version": "debian_12", "ssh_key_id": made["id"], "php_versions": ["8.2"],
    });
    let (status, _) = api(&app, &limited, post.clone(), "/servers", Some(new.clone())).await;
    assert_eq!(status, 403);
    let (status, added) = api(&app, &admin, post.clone(), "/servers", Some(new)).await;
    assert_eq!(status, 201, "{added}");
    let command = added["setup_command"].as_str().unwrap();
    assert!(
        command.starts_with("curl -fsSL ")
            && command.contains("/setup/")
            && command.ends_with("| sudo bash"),
        "{command}"
    );
    let id = added["id"].as_str().unwrap();
    let (status, shown) = api(&app, &admin, get.clone(), &format!("/servers/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(shown["status"], "pending");
    let (status, problem) = api(
        &app,
        &admin,
        delete.clone(),
        &format!("/servers/{id}?confirm=wrong"),
        None,
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (status, _) = api(
        &app,
        &operator,
        delete.clone(),
        &format!("/servers/{id}?confirm=api-1"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = api(
        &app,
        &admin,
        delete.clone(),
        &format!("/servers/{id}?confirm=api-1"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = api(&app, &admin, get.clone(), &format!("/servers/{id}"), None).await;
    assert_eq!(status, 404);
    // The key no server uses goes too.
    let (status, _) = api(
        &app,
        &admin,
        delete.clone(),
        &format!("/ssh-keys/{}", made["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 204);

    // Software and SELinux on a server: bad input is a field error; an operator may relabel but
    // not install; the admin's install is queued as a job.
    let server = servers[1];
    let path = format!("/servers/{server}/software");
    let (status, problem) = api(
        &app,
        &admin,
        post.clone(),
        &path,
        Some(serde_json::json!({"software": "php", "version": "5.6", "action": "install"})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "version");
    let body = serde_json::json!({"software": "redis", "action": "install"});
    let (status, _) = api(&app, &operator, post.clone(), &path, Some(body.clone())).await;
    assert_eq!(status, 403);
    let (status, queued) = api(&app, &admin, post.clone(), &path, Some(body)).await;
    assert_eq!(status, 202, "{queued}");
    let (status, job) = api(
        &app,
        &admin,
        get.clone(),
        &format!("/jobs/{}", queued["job_id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(job["kind"], "server.software");
    let (status, queued) = api(
        &app,
        &operator,
        post.clone(),
        &format!("/servers/{server}/selinux/relabel"),
        None,
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    let (status, _) = api(
        &app,
        &operator,
        post.clone(),
        &format!("/servers/{server}/selinux/booleans"),
        Some(serde_json::json!({"name": "httpd_can_network_connect", "value": true})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, problem) = api(
        &app,
        &admin,
        post.clone(),
        &format!("/servers/{server}/selinux/booleans"),
        Some(serde_json::json!({"name": "not_a_boolean_we_offer", "value": true})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
}

#[tokio::test]
async fn two_owners_demoting_each_other_at_once_leave_one_owner() {
    let app = TestApp::spawn().await;
    let a = app.login_as("a@example.com", "A").await;
    let b = app.login_as("b@example.com", "B").await;
    for _ in 0..5 {
        let (x, y) = tokio::join!(
            panel::users::set_role(app.state(), "a@example.com", Role::Viewer),
            panel::users::set_role(app.state(), "b@example.com", Role::Viewer),
        );
        assert!(x.is_ok() != y.is_ok(), "exactly one demotion succeeds");
        assert_eq!(panel::db::users::owners(app.db()).await.unwrap(), 1);
        for email in ["a@example.com", "b@example.com"] {
            panel::db::users::set_role(
                app.db(),
                panel::db::users::find_by_email(app.db(), email)
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
                Role::Owner,
            )
            .await
            .unwrap();
        }
    }
    // Disabling the other owner and oneself at once: one stays.
    let (x, y) = tokio::join!(
        panel::users::disable(app.state(), "a@example.com"),
        panel::users::disable(app.state(), "b@example.com"),
    );
    assert!(x.is_ok() != y.is_ok());
    assert_eq!(panel::db::users::owners(app.db()).await.unwrap(), 1);
    let _ = (a, b);
}

#[tokio::test]
async fn cron_jobs_and_workers_over_the_api_take_the_uis_checks_and_roles() {
    let app = TestApp::spawn().await;
    let (_, sites) = seeded(&app).await;
    let site = &sites[0];
    // Suspended: changes are stored and wait for the site (no job, so no server is asked).
    sqlx::query("UPDATE sites SET status = 'suspended' WHERE id = ?")
        .bind(site)
        .execute(app.db())
        .await
        .unwrap();
    let admin = token(&app, "admin", Role::Admin, vec![]).await;
    let viewer = token(&app, "viewer", Role::Viewer, vec![]).await;
    let operator = token(&app, "operator", Role::Operator, vec![]).await;
    let (get, post, put, delete) = (
        reqwest::Method::GET,
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    );
    let cron = format!("/sites/{site}/cron-jobs");

    // The UI's checks, field by field; nothing stored.
    let (status, problem) = api(
        &app,
        &admin,
        post.clone(),
        &cron,
        Some(serde_json::json!({ "schedule": "61 * * * *", "command": "a\u{7}b" })),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["schedule", "command"], "{problem}");
    let (_, list) = api(&app, &viewer, get.clone(), &cron, None).await;
    assert_eq!(list, serde_json::json!([]));
    // A viewer may look, not add; an admin adds (stored, no job while suspended).
    let body = serde_json::json!({ "schedule": "*/15 * * * *", "command": "php artisan inspire" });
    let (status, _) = api(&app, &viewer, post.clone(), &cron, Some(body.clone())).await;
    assert_eq!(status, 403);
    let (status, created) = api(&app, &admin, post.clone(), &cron, Some(body)).await;
    assert_eq!(status, 201, "{created}");
    assert!(created.get("job_id").is_none(), "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, list) = api(&app, &viewer, get.clone(), &cron, None).await;
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["described"], "every 15 minutes");
    assert_eq!(list[0]["next_runs"].as_array().unwrap().len(), 5);
    assert_eq!(list[0]["origin"], "user");
    let (status, _) = api(
        &app,
        &admin,
        put.clone(),
        &format!("{cron}/{id}"),
        Some(serde_json::json!({ "schedule": "@daily", "command": "true", "enabled": false })),
    )
    .await;
    assert_eq!(status, 200);
    let (_, list) = api(&app, &viewer, get.clone(), &cron, None).await;
    assert_eq!(list[0]["schedule"], "0 0 * * *");
    assert_eq!(list[0]["enabled"], false);
    assert_eq!(list[0]["next_runs"], serde_json::json!([]));
    // Run now: an operator's, and only while the site runs.
    let (status, _) = api(
        &app,
        &viewer,
        post.clone(),
        &format!("{cron}/{id}/run"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, problem) = api(
        &app,
        &operator,
        post.clone(),
        &format!("{cron}/{id}/run"),
        None,
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    let (status, _) = api(
        &app,
        &operator,
        delete.clone(),
        &format!("{cron}/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = api(&app, &admin, delete.clone(), &format!("{cron}/{id}"), None).await;
    assert_eq!(status, 200);
    let (_, list) = api(&app, &viewer, get.clone(), &cron, None).await;
    assert_eq!(list, serde_json::json!([]));

    // Workers: the document's bounds, then the same actions.
    let workers = format!("/sites/{site}/workers");
    for bad in [
        serde_json::json!({ "command": "x", "processes": 0 }),
        serde_json::json!({ "command": "x", "stop_signal": "KILL" }),
        serde_json::json!({ "command": "x", "stop_timeout": 601 }),
        serde_json::json!({ "command": "x", "restart": "sometimes" }),
        serde_json::json!({ "command": "" }),
    ] {
        let (status, problem) = api(&app, &admin, post.clone(), &workers, Some(bad.clone())).await;
        assert!(status == 400 || status == 422, "{bad}: {status} {problem}");
    }
    let (status, problem) = api(
        &app,
        &admin,
        post.clone(),
        &workers,
        Some(serde_json::json!({ "command": "one\ntwo" })),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "command", "{problem}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM site_workers")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(stored, 0);
    let (status, created) = api(
        &app,
        &admin,
        post.clone(),
        &workers,
        Some(serde_json::json!({ "command": "php artisan queue:work", "processes": 3 })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, list) = api(&app, &viewer, get.clone(), &workers, None).await;
    assert_eq!(list[0]["processes"], 3);
    assert_eq!(list[0]["restart"], "always");
    assert_eq!(list[0]["stop_signal"], "TERM");
    assert_eq!(list[0]["stop_timeout"], 60);
    let (status, _) = api(
        &app,
        &admin,
        put.clone(),
        &format!("{workers}/{id}"),
        Some(serde_json::json!({ "command": "php artisan horizon", "stop_signal": "INT", "stop_timeout": 600 })),
    )
    .await;
    assert_eq!(status, 200);
    let (_, list) = api(&app, &viewer, get.clone(), &workers, None).await;
    assert_eq!(list[0]["command"], "php artisan horizon");
    assert_eq!(list[0]["processes"], 1);
    let (status, _) = api(
        &app,
        &viewer,
        post.clone(),
        &format!("{workers}/restart"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = api(
        &app,
        &operator,
        post.clone(),
        &format!("{workers}/restart"),
        None,
    )
    .await;
    assert_eq!(status, 409, "the site is suspended");
    let (status, _) = api(
        &app,
        &admin,
        delete.clone(),
        &format!("{workers}/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, list) = api(&app, &viewer, get, &workers, None).await;
    assert_eq!(list, serde_json::json!([]));
}
