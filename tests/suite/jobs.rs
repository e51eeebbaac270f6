//! Durable jobs: a script on a real node, its log stored and streamed over SSE, failures with
//! reasons, per-server serialisation, and jobs interrupted by a restart.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use panel::ids::ServerId;
use panel::jobs::{JobFailure, JobSpec};
use panel::ssh::client::{Session, probe_host_key};
use panel::ssh::{Command, Script};

use crate::harness::TestApp;
use crate::ssh::node_with_panel_key;

const T: Duration = Duration::from_secs(10);

fn spec(title: &str, server: Option<ServerId>) -> JobSpec {
    JobSpec {
        server_id: server,
        actor_id: None,
        // Any kind: the runner never looks at it (retry does, and this one has none).
        kind: panel::domain::JobKind::ServerSoftware,
        args: serde_json::json!({}),
        title: title.to_owned(),
        lane: None,
    }
}

async fn wait_final(app: &TestApp, id: panel::ids::JobId) -> panel::db::jobs::Job {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let job = panel::db::jobs::get(app.db(), id).await.unwrap().unwrap();
        if matches!(job.status.as_str(), "success" | "failed" | "interrupted") {
            return job;
        }
        assert!(Instant::now() < deadline, "job never finished: {job:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn server_row(app: &TestApp, ip: &str) -> ServerId {
    let id = ServerId::generate();
    sqlx::query("INSERT INTO servers (id, name, ip_address, hostname, os_version) VALUES (?, 'n', ?, 'n', 'debian_12')")
        .bind(id)
        .bind(ip)
        .execute(app.db())
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn a_job_runs_a_script_on_a_node_and_streams_its_log_over_sse() {
    let app = TestApp::spawn().await;
    let user = app.login_as("ops@example.com", "Ops").await;
    let (_node, target, private) = node_with_panel_key(&app).await;
    let pinned = probe_host_key(&target, T).await.unwrap();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let id = app
        .state()
        .jobs
        .submit(spec("Say hello", None), move |ctx| async move {
            // Wait until the test is listening, so the lines are seen live.
            let _ = go_rx.await;
            let session = Session::connect(&target, &private, &pinned, T).await?;
            let script = Script::new(
                "hello",
                "echo 'hello from the node'; echo '<script>alert(1)</script>'; echo warn >&2; sleep 0.3; echo bye",
            );
            ctx.run_script(&session, &script, T).await?;
            Ok(())
        })
        .await
        .unwrap();

    let mut resp = user.get(&format!("/jobs/{id}/events")).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    go_tx.send(()).unwrap();
    let mut body = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !body.contains("event: done") {
        assert!(Instant::now() < deadline, "no end of stream: {body}");
        match tokio::time::timeout(Duration::from_secs(10), resp.chunk()).await {
            Ok(Ok(Some(chunk))) => body.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("stream ended early ({other:?}): {body}"),
        }
    }
    let hello = body.find("hello from the node").expect("stdout line");
    let bye = body.find(">bye<").expect("last line");
    assert!(hello < bye, "in order");
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "node output is escaped"
    );
    assert!(!body.contains("<script>alert"));
    assert!(body.contains("data-stream=\"stderr\">warn<"));
    assert!(body.contains("event: status"));

    let job = wait_final(&app, id).await;
    assert_eq!(job.status, "success");
    let lines = panel::db::jobs::log_since(app.db(), id, 0).await.unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.stream == "panel" && l.line.starts_with("$ 'bash' '-s' '--'"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.stream == "stdout" && l.line == "<script>alert(1)</script>"),
        "stored as data"
    );

    // The finished job's page shows the stored log; its stream replays it and ends.
    let page = user.get(&format!("/jobs/{id}")).await.text().await.unwrap();
    assert!(page.contains("hello from the node") && page.contains("&lt;script&gt;"));
    let replay = user
        .get(&format!("/jobs/{id}/events"))
        .await
        .text()
        .await
        .unwrap();
    assert!(replay.contains("hello from the node") && replay.contains("event: done"));
    app.stop().await;
}

#[tokio::test]
async fn job_events_need_a_session_and_the_panel_origin() {
    let app = TestApp::spawn().await;
    let id = app
        .state()
        .jobs
        .submit(spec("noop", None), |_| async { Ok(()) })
        .await
        .unwrap();
    let anonymous = app.get(&format!("/jobs/{id}/events")).await;
    assert_eq!(anonymous.status(), 303);
    let user = app.login_as("o@example.com", "O").await;
    let foreign = crate::harness::client()
        .get(app.url(&format!("/jobs/{id}/events")))
        .header("Cookie", format!("panel_session={}", user.cookie))
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn failures_carry_the_reason_exit_code_and_a_killed_sshd() {
    let app = TestApp::spawn().await;
    let (mut node, target, private) = node_with_panel_key(&app).await;
    let pinned = probe_host_key(&target, T).await.unwrap();
    let (t2, p2, k2) = (target.clone(), private.clone(), pinned.clone());
    let failing = app
        .state()
        .jobs
        .submit(spec("Exit 3", None), move |ctx| async move {
            let session = Session::connect(&t2, &p2, &k2, T).await?;
            ctx.run_script(&session, &Script::new("three", "echo before; exit 3"), T)
                .await?;
            Ok(())
        })
        .await
        .unwrap();
    let job = wait_final(&app, failing).await;
    assert_eq!((job.status.as_str(), job.exit_code), ("failed", Some(3)));
    assert!(job.error.unwrap().contains("exited with status 3"));

    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let killed = app
        .state()
        .jobs
        .submit(spec("Long sleep", None), move |ctx| async move {
            let session = Session::connect(&target, &private, &pinned, T).await?;
            let _ = started_tx.send(());
            ctx.run(
                &session,
                &Command::new("sleep").operand("30"),
                Duration::from_secs(20),
            )
            .await?;
            Ok::<(), JobFailure>(())
        })
        .await
        .unwrap();
    started_rx.await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    node.kill_all();
    let job = wait_final(&app, killed).await;
    assert_eq!(job.status, "failed");
    let error = job.error.unwrap();
    assert!(
        error.contains("broke") && error.contains("sleep"),
        "{error}"
    );
    app.stop().await;
}

#[tokio::test]
async fn jobs_on_one_server_run_one_at_a_time() {
    let app = TestApp::spawn().await;
    let a = server_row(&app, "192.0.2.1").await;
    let b = server_row(&app, "192.0.2.2").await;
    let spans: Arc<Mutex<Vec<(ServerId, Instant, Instant)>>> = Arc::default();
    let mut ids = Vec::new();
    for server in [a, a, b] {
        let spans = spans.clone();
        ids.push(
            app.state()
                .jobs
                .submit(spec("wait", Some(server)), move |_| async move {
                    let start = Instant::now();
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    spans.lock().unwrap().push((server, start, Instant::now()));
                    Ok(())
                })
                .await
                .unwrap(),
        );
    }
    for id in ids {
        assert_eq!(wait_final(&app, id).await.status, "success");
    }
    let spans = spans.lock().unwrap().clone();
    let on_a: Vec<_> = spans.iter().filter(|s| s.0 == a).collect();
    assert!(
        on_a[0].2 <= on_a[1].1 || on_a[1].2 <= on_a[0].1,
        "server A's jobs overlapped"
    );
    let on_b = spans.iter().find(|s| s.0 == b).unwrap();
    assert!(
        on_b.1 < on_a[0].2.max(on_a[1].2),
        "another server's job did not wait"
    );
    app.stop().await;
}

/// Jobs of one lane (a site) run one after another in the order they were submitted, even with
/// no server limit between them; another lane's job does not wait for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_of_one_lane_run_in_submission_order_one_at_a_time() {
    let app = TestApp::spawn().await;
    let order: Arc<Mutex<Vec<(String, Instant, Instant)>>> = Arc::default();
    let mut ids = Vec::new();
    for (name, lane) in [
        ("a1", "site-a"),
        ("a2", "site-a"),
        ("a3", "site-a"),
        ("b1", "site-b"),
    ] {
        let order = order.clone();
        let mut s = spec(name, None);
        s.lane = Some(lane.to_owned());
        ids.push(
            app.state()
                .jobs
                .submit(s, move |_| async move {
                    let start = Instant::now();
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    order
                        .lock()
                        .unwrap()
                        .push((name.to_owned(), start, Instant::now()));
                    Ok(())
                })
                .await
                .unwrap(),
        );
    }
    for id in ids {
        assert_eq!(wait_final(&app, id).await.status, "success");
    }
    let spans = order.lock().unwrap().clone();
    let lane_a: Vec<_> = spans.iter().filter(|s| s.0.starts_with('a')).collect();
    assert_eq!(
        lane_a.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
        ["a1", "a2", "a3"],
        "submission order"
    );
    for pair in lane_a.windows(2) {
        assert!(
            pair[0].2 <= pair[1].1,
            "{} and {} overlapped",
            pair[0].0,
            pair[1].0
        );
    }
    let b = spans.iter().find(|s| s.0 == "b1").unwrap();
    assert!(b.1 < lane_a[1].1, "the other lane's job waited for lane a");
    app.stop().await;
}

#[tokio::test]
async fn jobs_left_running_by_a_crash_are_marked_interrupted_at_start() {
    let app = TestApp::spawn().await;
    for status in ["running", "queued", "success"] {
        sqlx::query(
            "INSERT INTO jobs (id, kind, title, status) VALUES (?, 'server.onboard', 't', ?)",
        )
        .bind(panel::ids::JobId::generate())
        .bind(status)
        .execute(app.db())
        .await
        .unwrap();
    }
    let dir = app.stop().await;
    let app = TestApp::spawn_in(dir).await;
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM jobs ORDER BY id")
        .fetch_all(app.db())
        .await
        .unwrap();
    assert_eq!(statuses, ["interrupted", "interrupted", "success"]);
    let notes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM job_log WHERE stream = 'panel' AND line LIKE '%interrupted%'",
    )
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(notes, 2);
    app.stop().await;
}

/// The panel binary is SIGKILLed while a job runs; after a restart the job is `interrupted`,
/// and retrying it succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_cut_short_by_sigkill_is_interrupted_and_its_retry_succeeds() {
    use panel::{auth, config::Config, db, secrets, servers, ssh_keys};
    let data = tempfile::tempdir().unwrap();
    let port = crate::harness::free_port();
    let url = format!("http://localhost:{port}");

    // A "server" that accepts TCP but never speaks SSH: first contact hangs there.
    let tarpit = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tarpit_port = tarpit.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in tarpit.incoming().flatten() {
            held.push(s);
        }
    });

    // Prepare with the library on the same data dir: a key, the server, a logged-in session.
    let pool = db::open(data.path()).await.unwrap();
    let sbox = secrets::open_box(&pool, data.path(), None).await.unwrap();
    let mut config = Config::for_data_dir(data.path());
    config.url = url.clone();
    let (state, _) = panel::state::AppState::new(config.clone(), pool.clone(), sbox.clone());
    let key = ssh_keys::generate(&state, "panel", panel::domain::KeyType::Ed25519, None)
        .await
        .unwrap();
    let form = servers::ServerForm {
        name: "slow".into(),
        ip_address: "127.0.0.1".into(),
        hostname: "slow.example.com".into(),
        os_version: "debian_12".into(),
        ssh_port: tarpit_port.to_string(),
        ssh_user: "root".into(),
        ssh_key_id: key.id.to_string(),
        php_versions: String::new(),
    };
    let (server_id, _) = servers::create(&state, &form, None).await.unwrap();
    let secret = panel::nodes::callbacks::secret(&state, server_id)
        .await
        .unwrap();
    let user = panel::ids::UserId::generate();
    db::users::insert(
        &mut pool.acquire().await.unwrap(),
        user,
        "ops@example.com",
        "Ops",
        panel::domain::Role::Owner,
    )
    .await
    .unwrap();
    let (cookie, csrf) = (
        panel::crypto::random::token(),
        panel::crypto::random::token(),
    );
    db::sessions::insert(
        &pool,
        &db::sessions::NewSession {
            token_hash: &auth::hash_token(&cookie),
            user_id: Some(user),
            csrf_token: &csrf,
            ip: None,
            user_agent: None,
            expires_at: auth::after(Duration::from_secs(3600)),
        },
    )
    .await
    .unwrap();

    let panel_process = crate::passkeys::PanelProcess::start(data.path(), port);
    // Any host key: the tarpit never gets as far as presenting one.
    let body = format!(
        r#"{{"server_id":"{server_id}","host_keys":["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"]}}"#
    );
    let ts = chrono::Utc::now().timestamp().to_string();
    let nonce = "sigkill-test-nonce-0001";
    let resp = crate::harness::client()
        .post(format!("{url}/api/callbacks/server-ready"))
        .header("X-Panel-Timestamp", &ts)
        .header("X-Panel-Nonce", nonce)
        .header(
            "X-Panel-Signature",
            format!(
                "sha256={}",
                panel::nodes::callbacks::sign(&secret, &ts, nonce, body.as_bytes())
            ),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let job_id: panel::ids::JobId =
        serde_json::from_str::<serde_json::Value>(&resp.text().await.unwrap()).unwrap()["job"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while db::jobs::get(&pool, job_id).await.unwrap().unwrap().status != "running" {
        assert!(Instant::now() < deadline, "job never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(panel_process); // SIGKILL: no chance to clean up

    let panel_process = crate::passkeys::PanelProcess::start(data.path(), port);
    let job = db::jobs::get(&pool, job_id).await.unwrap().unwrap();
    assert_eq!(job.status, "interrupted");

    // The server is reachable now; the retry resumes and succeeds.
    let node = crate::harness::SshNode::start(&format!("{}\n", key.public_key));
    // What its setup script's report would name: this sshd's key.
    sqlx::query("UPDATE servers SET ssh_port = ?, reported_host_keys = ? WHERE id = ?")
        .bind(i64::from(node.port))
        .bind(node.host_key_line())
        .bind(server_id)
        .execute(&pool)
        .await
        .unwrap();
    let retry = crate::harness::client()
        .post(format!("{url}/jobs/{job_id}/retry"))
        .header("Cookie", format!("panel_session={cookie}"))
        .header("Origin", &url)
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 303);
    let new_job: panel::ids::JobId = retry.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let j = db::jobs::get(&pool, new_job).await.unwrap().unwrap();
        if j.status == "success" {
            break;
        }
        assert!(
            j.status != "failed" && Instant::now() < deadline,
            "retry: {j:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let server = db::servers::get(&pool, server_id).await.unwrap().unwrap();
    assert_eq!(server.status.as_str(), "active");
    panel_process.stop();
    db::close(&pool).await;
}

/// A job that floods its log (a million short lines, then 32 MiB in 1 KiB lines) keeps a
/// bounded number of rows — its beginning, a marker, its end — and a bare `\r` in a line
/// cannot start a field of its own in the job's event stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_job_keeps_a_bounded_log_with_its_beginning_and_its_end() {
    let app = TestApp::spawn().await;
    let user = app.login_as("ops@example.com", "Ops").await;
    let (_node, target, private) = node_with_panel_key(&app).await;
    let pinned = probe_host_key(&target, T).await.unwrap();
    // The panel's own runner, with a small `[retention] job_log_lines`.
    let jobs = panel::jobs::Jobs::with_log_limit(app.db().clone(), 2, 1, 1000);
    let id = jobs
        .submit(spec("Flood", None), move |ctx| async move {
            let session = Session::connect(&target, &private, &pinned, T).await?;
            let script = Script::new(
                "flood",
                "printf 'progress\\rid: injected-id\\revent: injected\\n'
                seq 1 1000000
                head -c 33554432 /dev/zero | tr '\\0' x | fold -w 1024
                echo
                echo the-end",
            );
            ctx.run_script(&session, &script, Duration::from_secs(300))
                .await?;
            Ok(())
        })
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let job = loop {
        let job = panel::db::jobs::get(app.db(), id).await.unwrap().unwrap();
        if job.status.is_final() {
            break job;
        }
        assert!(Instant::now() < deadline, "the flood never ended");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(job.status, "success", "{:?}", job.error);
    let lines = panel::db::jobs::log_since(app.db(), id, 0).await.unwrap();
    assert!(lines.len() <= 1000 + 2, "{} rows", lines.len());
    let text: Vec<&str> = lines.iter().map(|l| l.line.as_str()).collect();
    assert!(text.contains(&"1") && text.contains(&"2"), "the beginning");
    assert!(
        text.iter().any(|l| l.contains("passed 800 lines")),
        "the notice where the head ends"
    );
    let left_out = text
        .iter()
        .find(|l| l.ends_with("lines left out]"))
        .expect("the marker");
    let n: u64 = left_out
        .trim_start_matches('[')
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n > 1_000_000, "{left_out}");
    assert_eq!(*text.last().unwrap(), "the-end", "the end");

    let replay = user
        .get(&format!("/jobs/{id}/events"))
        .await
        .text()
        .await
        .unwrap();
    assert!(replay.contains("progress") && replay.contains("event: done"));
    for line in replay.split(['\n', '\r']) {
        assert!(
            !line.starts_with("id: injected-id") && !line.starts_with("event: injected"),
            "a field was injected: {line:?} in {:?}",
            &replay[replay.find("progress").unwrap_or(0).saturating_sub(200)..][..400]
        );
    }
    app.stop().await;
}
