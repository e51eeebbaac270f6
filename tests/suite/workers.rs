//! A site's workers on an isolated node (the direct driver's root supervisors): added through
//! the UI, run as the site user in its home with its `.env`, as many processes as asked; a
//! killed process restarted by its policy; every process restarted after a deploy (new pids)
//! without losing a job of a file queue filled while it happens; stopped on suspend, started on
//! resume, gone with the site; refused field by field when typed wrong.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use panel::domain::SiteStatus;
use panel::ids::SiteId;

use crate::deployments::{connect_repository, deploy_from_ui, succeeded};
use crate::harness::{
    GitHost, IsolatedNode, LoggedIn, create_site, delete_site, job_succeeded, onboard, panel_for,
    refused_with, started_job, wait_for, wait_site,
};

/// A queue worker on files: claims a job by moving it (one process gets it), takes a moment
/// over it, records which process did it, and on TERM (or QUIT) finishes the job in hand, then
/// stops.
const CONSUMER: &str = "trap 'stop=1' TERM QUIT; stop=0; q=~/storage/queue; mkdir -p $q/new $q/work $q/done; echo \"ready pid $$ url=$APP_URL key=$QUEUE_SECRET\"; while [ $stop = 0 ]; do for f in $q/new/*.job; do [ $stop = 0 ] || break; [ -e \"$f\" ] || continue; n=${f##*/}; mv \"$f\" $q/work/$n.$$ 2>/dev/null || continue; sleep 0.3; echo $$ > $q/done/$n; rm -f $q/work/$n.$$; done; sleep 0.1; done; echo \"stopped pid $$\"";

/// The pids of the site's running worker processes, as the tab shows them.
async fn shown_pids(user: &LoggedIn, site: SiteId) -> (Vec<u32>, String) {
    let html = user.text(&format!("/sites/{site}/workers/status")).await;
    let pids = html
        .split("data-pid=\"")
        .skip(1)
        .filter_map(|rest| rest[..rest.find('"').unwrap()].parse().ok())
        .collect();
    (pids, html)
}

/// Wait until the tab shows `n` running processes, none of them in `not`; their pids.
async fn running(
    user: &LoggedIn,
    site: SiteId,
    n: usize,
    not: &[u32],
    node: &IsolatedNode,
) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (pids, html) = shown_pids(user, site).await;
        let fresh = pids.iter().all(|p| !not.contains(p));
        if pids.len() == n && fresh && html.matches(" running").count() == n {
            return pids;
        }
        assert!(
            Instant::now() < deadline,
            "not {n} fresh processes: {html}\n{}",
            diagnose(node)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn diagnose(node: &IsolatedNode) -> String {
    let out = node.root(
        "ps -eo pid,pgid,user,args | grep -v grep | grep -E 'panel-site-job|sleep|bash -c'; \
         ls -laR /run/panel-site-workers /etc/panel/site-workers; cat /home/web*/logs/workers/*.log",
        "",
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn owner_of(node: &IsolatedNode, pid: u32) -> String {
    let out = node.root(&format!("ps -o user= -p {pid}"), "");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Whether any of `pids` is still a live process on the node.
fn any_alive(node: &IsolatedNode, pids: &[u32]) -> bool {
    pids.iter().any(|p| {
        let out = node.root(&format!("ps -o stat= -p {p}"), "");
        let stat = String::from_utf8_lossy(&out.stdout);
        !stat.trim().is_empty() && !stat.trim().starts_with('Z')
    })
}

/// Start putting `n` jobs in the queue on the node, one each 100 ms (each written aside, then
/// moved in whole, as the site's user); the running `ssh`.
fn enqueue(node: &IsolatedNode, user: &str, n: usize) -> std::process::Child {
    node.root_with_stdin(&format!(
        "runuser -u {user} -- bash -c 'q=~/storage/queue; mkdir -p $q/new; for i in $(seq -w 1 {n}); do : > $q/j$i.tmp && mv $q/j$i.tmp $q/new/j$i.job; sleep 0.1; done'"
    ))
}

fn listing(node: &IsolatedNode, user: &str, dir: &str) -> BTreeSet<String> {
    let out = node.root(
        &format!("ls -1 /home/{user}/storage/queue/{dir} 2>/dev/null"),
        "",
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

// Multi-threaded: the node's callbacks reach the panel while the test blocks on `ssh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_run_restart_after_a_deploy_without_losing_a_job_and_stop_with_the_site() {
    let (node, app, user, server, setup_url) = panel_for(IsolatedNode::start_web()).await;
    let git = GitHost::start_for(&node);
    onboard(&app, &node, server, &setup_url).await;
    wait_for(&app, server, "active").await;
    let site = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", "queue.example.com"),
            ("app_type", "laravel"),
            ("php_version", "8.2"),
            ("database", "none"),
        ],
    )
    .await;
    let site = wait_site(&app, site, SiteStatus::Active).await;
    let site_user = site.username.clone().unwrap();
    let tab = user.text(&format!("/sites/{}/workers", site.id)).await;
    assert!(tab.contains("No workers yet"), "{tab}");
    // Laravel's queue worker is offered, filled in.
    let preset = user
        .text(&format!("/sites/{}/workers?preset=laravel-queue", site.id))
        .await;
    assert!(
        preset.contains("php public_html/artisan queue:work --sleep=3 --tries=3"),
        "{preset}"
    );

    // Typed wrong: every field answered, nothing stored.
    refused_with(
        &user,
        &format!("/sites/{}/workers", site.id),
        &[
            ("command", ""),
            ("processes", "0"),
            ("restart", "sometimes"),
            ("stop_signal", "KILL"),
            ("stop_timeout", "9999"),
        ],
        &[
            "Enter the command to run",
            "A whole number from 1 to 20",
            "Choose always, on failure or never",
            "Choose one of the signals offered",
            "Seconds, a whole number from 1 to 600",
        ],
    )
    .await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM site_workers WHERE site_id = ?")
        .bind(site.id)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // A secret in its .env, which the worker's output will print.
    let resp = user
        .post_form(
            &format!("/sites/{}/env", site.id),
            &[("env", "QUEUE_SECRET=s3cr3t-Queue-Value-77")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !node
        .root(&format!("grep -q QUEUE_SECRET /home/{site_user}/.env"), "")
        .status
        .success()
    {
        assert!(Instant::now() < deadline, "the .env was not written");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Two processes of a queue worker, as the site's user.
    let resp = user
        .post_form(
            &format!("/sites/{}/workers", site.id),
            &[
                ("command", CONSUMER),
                ("processes", "2"),
                ("restart", "always"),
                ("stop_signal", "TERM"),
                ("stop_timeout", "30"),
            ],
        )
        .await;
    let log = job_succeeded(&app, started_job(resp).await.expect("a job")).await;
    assert!(
        log.contains("Restart the workers of queue.example.com"),
        "{log}"
    );
    let first = running(&user, site.id, 2, &[], &node).await;
    for pid in &first {
        assert_eq!(owner_of(&node, *pid), site_user, "runs as the site user");
    }
    let (_, html) = shown_pids(&user, site.id).await;
    assert!(
        html.contains("ready pid") && html.contains("url=http://queue.example.com"),
        "its output, with its .env: {html}"
    );
    assert!(
        html.contains("key=[hidden]") && !html.contains("s3cr3t-Queue"),
        "secrets blanked: {html}"
    );

    // The whole log in the Logs tab (followed, searched, downloaded like the others).
    let id: String = sqlx::query_scalar("SELECT id FROM site_workers WHERE site_id = ?")
        .bind(site.id)
        .fetch_one(app.db())
        .await
        .unwrap();
    let full = user
        .text(&format!("/sites/{}/logs?log=worker-{id}&q=ready", site.id))
        .await;
    assert!(full.contains("data-log-found=\"2\""), "{full}");
    let tail = user
        .text(&format!("/sites/{}/logs?log=worker-{id}", site.id))
        .await;
    assert!(
        tail.contains("key=[hidden]") && !tail.contains("s3cr3t-Queue"),
        "{tail}"
    );
    // Neither a search (no guessing it a character at a time) nor a download shows it.
    let guess = user
        .text(&format!(
            "/sites/{}/logs?log=worker-{id}&q=key%3Ds3c",
            site.id
        ))
        .await;
    assert!(guess.contains("data-log-found=\"0\""), "{guess}");
    let file = user
        .text(&format!("/sites/{}/logs/download?log=worker-{id}", site.id))
        .await;
    assert!(
        file.contains("ready pid") && !file.contains("s3cr3t-Queue"),
        "{file}"
    );
    // A process that dies is started again (restart: always).
    node.must(&format!("kill -KILL {}", first[0]), "");
    let second = running(&user, site.id, 2, &[first[0]], &node).await;
    assert!(second.contains(&first[1]), "the other process kept running");

    // A deploy while jobs keep arriving: new processes after it, and every job done once.
    connect_repository(&user, site.id, &git, "echo built").await;
    git.commit(
        &[
            ("public/index.php", "<?php echo 'v1';\n"),
            ("index.php", "<?php echo 'v1';\n"),
        ],
        "v1",
    );
    let mut producer = enqueue(&node, &site_user, 60);
    drop(producer.stdin.take());
    // The deploy starts once the processes from before it have done a job.
    let deadline = Instant::now() + Duration::from_secs(30);
    while listing(&node, &site_user, "done").is_empty() {
        assert!(
            Instant::now() < deadline,
            "no job done: {}",
            diagnose(&node)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deployment = deploy_from_ui(&user, site.id).await;
    let d = succeeded(&app, deployment).await;
    let log = crate::deployments::job_log(&app, d.job_id.unwrap()).await;
    assert!(log.contains("Restart the site's workers"), "{log}");
    assert!(producer.wait().unwrap().success(), "the jobs were queued");
    let third = running(&user, site.id, 2, &second, &node).await;
    assert!(!any_alive(&node, &second), "the old processes are gone");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = listing(&node, &site_user, "done");
        let left =
            listing(&node, &site_user, "new").len() + listing(&node, &site_user, "work").len();
        if done.len() == 60 && left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "jobs lost or stuck: {} done, {left} left\n{}",
            done.len(),
            diagnose(&node)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Jobs were done by the processes from before the deploy and by those after it.
    let out = node.root(&format!("cat /home/{site_user}/storage/queue/done/*"), "");
    let by: Vec<u32> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let before = by.iter().filter(|p| second.contains(p)).count();
    let after = by.iter().filter(|p| third.contains(p)).count();
    eprintln!("jobs done before the deploy's restart: {before}, after: {after}");
    assert!(before > 0 && after > 0 && before + after == 60, "{by:?}");
    let out = node.root(&format!("cat /home/{site_user}/logs/workers/*.log"), "");
    let worker_log = String::from_utf8_lossy(&out.stdout);
    for pid in &second {
        assert!(
            worker_log.contains(&format!("stopped pid {pid}")),
            "process {pid} finished its job and stopped on TERM: {worker_log}"
        );
    }

    // Fewer processes: one runs.
    let resp = user
        .post_form(
            &format!("/sites/{}/workers/{id}", site.id),
            &[
                ("command", CONSUMER),
                ("processes", "1"),
                ("restart", "on-failure"),
                ("stop_signal", "QUIT"),
                ("stop_timeout", "30"),
            ],
        )
        .await;
    job_succeeded(&app, started_job(resp).await.expect("a job")).await;
    let fourth = running(&user, site.id, 1, &third, &node).await;
    assert!(!any_alive(&node, &third));

    // Suspended: stopped. Resumed: running again.
    let resp = user
        .post_form(&format!("/sites/{}/suspend", site.id), &[])
        .await;
    assert_eq!(resp.status(), 303);
    wait_site(&app, site.id, SiteStatus::Suspended).await;
    assert!(!any_alive(&node, &fourth), "suspending stops the workers");
    // With its own stop signal, which reached it (a shell's background commands ignore QUIT
    // unless started with job control).
    let out = node.root(&format!("cat /home/{site_user}/logs/workers/*.log"), "");
    let worker_log = String::from_utf8_lossy(&out.stdout);
    assert!(
        worker_log.contains(&format!("stopped pid {}", fourth[0])),
        "{worker_log}"
    );
    let resp = user
        .post_form(&format!("/sites/{}/resume", site.id), &[])
        .await;
    assert_eq!(resp.status(), 303);
    wait_site(&app, site.id, SiteStatus::Active).await;
    let fifth = running(&user, site.id, 1, &fourth, &node).await;

    // Deleted: the processes and the files go with it.
    delete_site(&app, &user, site.id, "queue.example.com").await;
    assert!(!any_alive(&node, &fifth), "deleting stops the workers");
    let gone = node.root(
        &format!("test -e /etc/panel/site-workers/{site_user} || test -e /run/panel-site-workers/{site_user}"),
        "",
    );
    assert!(!gone.status.success(), "the site's worker files are gone");
    let left = node.root("pgrep -f 'panel-site-job supervise'", "");
    assert!(!left.status.success(), "no supervisor is left");
    app.stop().await;
}
