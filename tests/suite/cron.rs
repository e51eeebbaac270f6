//! A site's cron jobs on an isolated node (the direct driver's minute runner): added through
//! the UI, run every minute as the site user in its home with its `.env` and PHP, the last run
//! shown (output escaped), disabled (and then not run), run on demand, refused field by field
//! when typed wrong, and gone with the site.

use std::time::{Duration, Instant};

use panel::domain::SiteStatus;
use panel::ids::SiteId;

use crate::harness::{
    IsolatedNode, LoggedIn, create_site, delete_site, job_succeeded, onboard, panel_for,
    started_job, wait_for, wait_job, wait_site,
};

fn lines(node: &IsolatedNode, path: &str) -> usize {
    let out = node.root(&format!("cat {path} 2>/dev/null || true"), "");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// Seconds to the next minute boundary of the node's (and this machine's) UTC clock.
fn to_next_minute() -> Duration {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    Duration::from_secs(60) - Duration::from_millis((now.as_millis() % 60_000) as u64)
}

/// What the node says when a job did not run: the runner, the job files, the last run.
fn diagnose(node: &IsolatedNode, user: &str) -> String {
    let out = node.root(
        &format!(
            "ps -eo pid,user,args | grep -v grep | grep panel-site-job; cat /run/panel-site-jobs.pid; \
             ls -la /etc/panel/site-jobs/{user}; cat /etc/panel/site-jobs/{user}/*; \
             ls -la /home/{user}/logs/cron; cat /home/{user}/logs/cron/*; date -u"
        ),
        "",
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn tab(user: &LoggedIn, site: SiteId, path: &str) -> String {
    let resp = user.get(&format!("/sites/{site}/cron{path}")).await;
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

// Multi-threaded: the node's callbacks reach the panel while the test blocks on `ssh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_job_runs_each_minute_as_the_site_user_and_stops_when_disabled() {
    let (node, app, user, server, setup_url) = panel_for(IsolatedNode::start_web()).await;
    onboard(&app, &node, server, &setup_url).await;
    wait_for(&app, server, "active").await;

    // A WordPress site with the scheduler offered at creation: WP-Cron from a timer, and its
    // .env says page views no longer run it.
    let wp = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", "wp.example.com"),
            ("app_type", "wordpress"),
            ("php_version", "8.2"),
            ("database", "none"),
            ("scheduler", "on"),
        ],
    )
    .await;
    let site = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", "cron.example.com"),
            ("app_type", "generic"),
            ("php_version", "8.2"),
            ("database", "none"),
        ],
    )
    .await;
    let wp = wait_site(&app, wp, SiteStatus::Active).await;
    let site = wait_site(&app, site, SiteStatus::Active).await;
    let wp_user = wp.username.clone().unwrap();
    let env = node.root(&format!("cat /home/{wp_user}/.env"), "");
    assert!(
        String::from_utf8_lossy(&env.stdout).contains("DISABLE_WP_CRON=\"true\""),
        "{}",
        String::from_utf8_lossy(&env.stdout)
    );
    let page = tab(&user, wp.id, "").await;
    assert!(
        page.contains("php public_html/wp-cron.php") && page.contains("every 5 minutes"),
        "{page}"
    );
    let job = node.root(&format!("cat /etc/panel/site-jobs/{wp_user}/*.job"), "");
    assert!(
        String::from_utf8_lossy(&job.stdout).contains("minute=0,5,10,15,20,25,30,35,40,45,50,55"),
        "{}",
        String::from_utf8_lossy(&job.stdout)
    );

    let site_user = site.username.clone().unwrap();
    let proof = format!("/home/{site_user}/storage/cron-proof");

    // Typed wrong: both fields answered, nothing stored.
    let resp = user
        .post_form(
            &format!("/sites/{}/cron", site.id),
            &[
                ("schedule", "61 * * * *"),
                ("command", ""),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let body = resp.text().await.unwrap();
    assert!(body.contains("outside 0–59"), "{body}");
    assert!(body.contains("Enter the command to run"), "{body}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM site_cron_jobs WHERE site_id = ?")
        .bind(site.id)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // The schedule is said in words with its next runs as it is typed.
    let said = tab(&user, site.id, "/describe?schedule=*/15+9-17+*+*+mon-fri").await;
    assert!(said.contains("every 15 minutes"), "{said}");
    assert!(said.contains("Monday, Tuesday"), "{said}");

    // Every minute: a line in a file of its home, who it runs as, its PHP and its .env, and a
    // line of hostile markup.
    let command = "date +%s >> ~/storage/cron-proof; id -un; pwd; php -r 'echo PHP_VERSION, PHP_EOL;'; echo \"url=$APP_URL\"; echo '<script>alert(1)</script>'";
    let resp = user
        .post_form(
            &format!("/sites/{}/cron", site.id),
            &[
                ("schedule", "* * * * *"),
                ("command", command),
                ("enabled", "on"),
            ],
        )
        .await;
    let log = job_succeeded(&app, started_job(resp).await.unwrap()).await;
    assert!(log.contains("Start the site job runner"), "{log}");
    let page = tab(&user, site.id, "").await;
    assert!(page.contains("every minute"), "{page}");
    assert!(page.contains("data-cron-job="), "{page}");

    let deadline = Instant::now() + Duration::from_secs(80);
    while lines(&node, &proof) == 0 {
        assert!(
            Instant::now() < deadline,
            "the job did not run within a minute: {}",
            diagnose(&node, &site_user)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let owner = node.root(&format!("stat -c %U {proof}"), "");
    assert_eq!(String::from_utf8_lossy(&owner.stdout).trim(), site_user);

    // The last run, as the UI shows it: exit 0, the output, escaped.
    let deadline = Instant::now() + Duration::from_secs(20);
    let runs = loop {
        let runs = tab(&user, site.id, "/runs").await;
        if runs.contains("data-exit=\"0\"") {
            break runs;
        }
        assert!(Instant::now() < deadline, "no finished run shown: {runs}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(runs.contains(&site_user), "runs as the site user: {runs}");
    assert!(
        runs.contains(&format!("/home/{site_user}")),
        "in its home: {runs}"
    );
    assert!(runs.contains("8.2."), "its PHP: {runs}");
    assert!(
        runs.contains("url=http://cron.example.com"),
        "its .env: {runs}"
    );
    assert!(
        runs.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !runs.contains("<script>alert"),
        "escaped: {runs}"
    );

    // Disabled: no run at the next minute.
    let cron_id: String = sqlx::query_scalar("SELECT id FROM site_cron_jobs WHERE site_id = ?")
        .bind(site.id)
        .fetch_one(app.db())
        .await
        .unwrap();
    let resp = user
        .post_form(&format!("/sites/{}/cron/{cron_id}/toggle", site.id), &[])
        .await;
    job_succeeded(&app, started_job(resp).await.unwrap()).await;
    // A run started at this very minute may still be writing its line.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = lines(&node, &proof);
    tokio::time::sleep(to_next_minute() + Duration::from_secs(4)).await;
    assert_eq!(lines(&node, &proof), before, "a disabled job ran");
    assert!(tab(&user, site.id, "").await.contains("disabled"));

    // Run now (disabled or not): once, at once, its output in the job's log.
    let resp = user
        .post_form(&format!("/sites/{}/cron/{cron_id}/run", site.id), &[])
        .await;
    let log = job_succeeded(&app, started_job(resp).await.unwrap()).await;
    assert_eq!(lines(&node, &proof), before + 1);
    assert!(
        log.contains(&site_user) && log.contains("url=http://cron.example.com"),
        "{log}"
    );

    // A job that fails says so, with its exit code.
    let resp = user
        .post_form(
            &format!("/sites/{}/cron/{cron_id}", site.id),
            &[("schedule", "@daily"), ("command", "echo broken; exit 3")],
        )
        .await;
    job_succeeded(&app, started_job(resp).await.unwrap()).await;
    let resp = user
        .post_form(&format!("/sites/{}/cron/{cron_id}/run", site.id), &[])
        .await;
    let failed = wait_job(&app, started_job(resp).await.unwrap()).await;
    assert_eq!(failed.status.as_str(), "failed");
    let runs = tab(&user, site.id, "/runs").await;
    assert!(
        runs.contains("data-exit=\"3\"") && runs.contains("broken"),
        "{runs}"
    );

    // Deleting the site takes its jobs off the server.
    delete_site(&app, &user, site.id, "cron.example.com").await;
    let gone = node.root(&format!("test -e /etc/panel/site-jobs/{site_user}"), "");
    assert!(!gone.status.success(), "the site's job files are gone");
    app.stop().await;
}
