//! Retention: the hourly housekeeping removes history older than `[retention] days` —
//! finished jobs with their logs and steps, server log lines, SELinux records — and expired
//! sessions, and keeps everything recent, every job still running, and each site's last job
//! (its page shows it).

use panel::ids::{JobId, ServerId, SiteId, SystemUserId};

use crate::harness::TestApp;

const OLD: &str = "2000-01-01T00:00:00.000Z";

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(app.db()).await.unwrap()
}

/// A job with three log lines.
async fn job(
    tx: &mut sqlx::SqliteConnection,
    server: ServerId,
    created: &str,
    finished: Option<&str>,
) -> JobId {
    let id = JobId::generate();
    let status = if finished.is_some() {
        "success"
    } else {
        "running"
    };
    sqlx::query(
        "INSERT INTO jobs (id, server_id, kind, title, status, created_at, finished_at)
         VALUES (?, ?, 'site.provision', 'a job', ?, ?, ?)",
    )
    .bind(id)
    .bind(server)
    .bind(status)
    .bind(created)
    .bind(finished)
    .execute(&mut *tx)
    .await
    .unwrap();
    for n in 0..3 {
        sqlx::query("INSERT INTO job_log (job_id, stream, line) VALUES (?, 'stdout', ?)")
            .bind(id)
            .bind(format!("line {n}"))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    id
}

async fn exists(app: &TestApp, id: JobId) -> bool {
    panel::db::jobs::get(app.db(), id).await.unwrap().is_some()
}

#[tokio::test]
async fn history_past_the_retention_period_goes_and_the_rest_stays() {
    let app = TestApp::spawn().await;
    let db = app.db();
    let now = panel::db::now();
    let server = ServerId::generate();
    sqlx::query("INSERT INTO servers (id, name, ip_address, hostname, os_version, status) VALUES (?, 'web-1', '192.0.2.10', 'web1.example.com', 'alma_9', 'active')")
        .bind(server)
        .execute(db)
        .await
        .unwrap();

    // One transaction: the panel's own housekeeping (run at its start, perhaps only now under
    // load) sees all of it or none of it.
    let mut tx = db.begin().await.unwrap();
    let old_done = job(&mut tx, server, OLD, Some(OLD)).await;
    let old_running = job(&mut tx, server, OLD, None).await;
    let recent_done = job(&mut tx, server, &now, Some(&now)).await;
    let old_last_of_site = job(&mut tx, server, OLD, Some(OLD)).await;
    let user = SystemUserId::generate();
    sqlx::query("INSERT INTO system_users (id, server_id, username, home_dir) VALUES (?, ?, 'web1', '/home/web1')")
        .bind(user)
        .bind(server)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("INSERT INTO sites (id, server_id, system_user_id, domain, app_type, php_version, status, last_job_id) VALUES (?, ?, ?, 'kept.example.com', 'php', '8.3', 'active', ?)")
        .bind(SiteId::generate())
        .bind(server)
        .bind(user)
        .bind(old_last_of_site)
        .execute(&mut *tx)
        .await
        .unwrap();
    for (created, message) in [(OLD, "old"), (now.as_str(), "recent")] {
        sqlx::query("INSERT INTO server_logs (id, server_id, level, message, created_at) VALUES (?, ?, 'info', ?, ?)")
            .bind(ulid::Ulid::generate().to_string())
            .bind(server)
            .bind(message)
            .bind(created)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("INSERT INTO selinux_audit_logs (id, server_id, level, message, created_at) VALUES (?, ?, 'warning', ?, ?)")
            .bind(ulid::Ulid::generate().to_string())
            .bind(server)
            .bind(message)
            .bind(created)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, csrf_token, expires_at) VALUES (?, ?, 'x', ?)",
    )
    .bind(ulid::Ulid::generate().to_string())
    .bind("0".repeat(64))
    .bind(OLD)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    panel::app::housekeep_once(app.state()).await;

    assert!(!exists(&app, old_done).await, "an old finished job goes");
    assert!(exists(&app, old_running).await, "a job still running stays");
    assert!(exists(&app, recent_done).await, "a recent job stays");
    assert!(
        exists(&app, old_last_of_site).await,
        "a site's last job stays"
    );
    let orphans = count(
        &app,
        "SELECT count(*) FROM job_log WHERE job_id NOT IN (SELECT id FROM jobs)",
    )
    .await;
    assert_eq!(orphans, 0, "its log went with it");
    assert_eq!(count(&app, "SELECT count(*) FROM job_log").await, 9);
    for table in ["server_logs", "selinux_audit_logs"] {
        let left: Vec<String> = sqlx::query_scalar(&format!("SELECT message FROM {table}"))
            .fetch_all(db)
            .await
            .unwrap();
        assert_eq!(left, ["recent"], "{table}");
    }
    assert_eq!(count(&app, "SELECT count(*) FROM sessions").await, 0);
    app.stop().await;
}
