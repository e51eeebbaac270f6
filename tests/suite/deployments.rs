//! Git deployments end to end: a Debian node with nginx and PHP-FPM serving a site, and a second
//! node as its git host (sshd, `git-shell`, a bare repository) on a private link between the
//! two. Deploys by the UI, the push webhook and `panel deploy --wait`, each serving the new
//! commit with `.env` untouched; a failing deploy script leaving the live release serving;
//! rollback; two deploys at once running one after the other; old releases pruned.

use std::time::{Duration, Instant};

use panel::db::deployments::Deployment;
use panel::domain::{DeploymentStatus, ReleaseState, SiteStatus};
use panel::ids::{DeploymentId, SiteId};

use crate::harness::{
    GitHost, IsolatedNode, LoggedIn, TestApp, client, create_site, onboard, panel_for, wait_for,
    wait_site,
};

const DOMAIN: &str = "app.example.com";

/// The app's one page: which version it is, and whether the release sees the site's `.env`.
fn page(version: &str) -> String {
    format!(
        "<?php\n$env = @file_get_contents(__DIR__ . '/.env');\necho '{version} ', ($env !== false && strpos($env, 'APP_URL=') !== false) ? 'env-linked' : 'no-env', \"\\n\";\n"
    )
}

/// Deploy script used by most deploys: shows its environment, writes to stderr, checks the
/// checkout, and records the commit in the release.
const SCRIPT: &str =
    "echo \"building $COMMIT of $BRANCH in $RELEASE_DIR for $SITE_DOMAIN as $SITE_USER\"
echo \"message: $COMMIT_MESSAGE\"
echo 'a warning on stderr' >&2
test -f index.php
\"$PHP\" -r 'echo \"php \", PHP_VERSION, \"\\n\";'
echo \"$COMMIT\" > REVISION
cat /run/panel-deploy/\"$SITE_USER\"/key
";

/// `curl` on the node against its own nginx for the site: (status, body).
fn http(node: &IsolatedNode, path: &str) -> (u16, String) {
    node.http(DOMAIN, path)
}

fn env_sum(node: &IsolatedNode) -> String {
    node.must("sha256sum /home/web1/.env", "")
}

/// Wait until the deployment ends; its row. Panics with the job's log if it does not.
pub(crate) async fn wait_deployment(app: &TestApp, id: DeploymentId) -> Deployment {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let d = panel::db::deployments::get(app.db(), id)
            .await
            .unwrap()
            .unwrap();
        let done = matches!(
            d.status,
            DeploymentStatus::Success | DeploymentStatus::Failed
        );
        let job_done = match d.job_id {
            Some(j) => {
                let job = panel::db::jobs::get(app.db(), j).await.unwrap().unwrap();
                matches!(job.status.as_str(), "success" | "failed" | "interrupted")
            }
            None => false,
        };
        if done && job_done {
            return d;
        }
        if Instant::now() > deadline {
            let log = match d.job_id {
                Some(j) => job_log(app, j).await,
                None => "(no job)".into(),
            };
            panic!(
                "deployment stuck {:?} ({:?}):\n{log}",
                d.status, d.status_reason
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn job_log(app: &TestApp, job: panel::ids::JobId) -> String {
    panel::db::jobs::log_since(app.db(), job, 0)
        .await
        .unwrap()
        .iter()
        .map(|l| format!("[{}] {}", l.stream, l.line))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) async fn succeeded(app: &TestApp, id: DeploymentId) -> Deployment {
    let d = wait_deployment(app, id).await;
    if d.status != DeploymentStatus::Success {
        panic!(
            "deployment failed: {:?}\n{}",
            d.status_reason,
            job_log(app, d.job_id.unwrap()).await
        );
    }
    d
}

/// The deployment a POST redirected to.
pub(crate) fn redirected(resp: &reqwest::Response) -> DeploymentId {
    let to = resp.headers()["location"].to_str().unwrap();
    to.strip_prefix("/deployments/").unwrap().parse().unwrap()
}

pub(crate) async fn deploy_from_ui(user: &LoggedIn, site: SiteId) -> DeploymentId {
    let resp = user.post_form(&format!("/sites/{site}/deploy"), &[]).await;
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    redirected(&resp)
}

pub(crate) async fn save_settings(
    user: &LoggedIn,
    site: SiteId,
    url: &str,
    keep: &str,
    script: &str,
) {
    let resp = user
        .post_form(
            &format!("/sites/{site}/repository"),
            &[
                ("url", url),
                ("branch", "main"),
                ("keep_releases", keep),
                ("deploy_script", script),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
}

/// The `value` of the first element after `marker`.
pub(crate) fn attr_value(html: &str, marker: &str) -> String {
    let rest = &html[html.find(marker).unwrap_or_else(|| panic!("no {marker}"))..];
    let rest = &rest[rest.find("value=\"").unwrap() + 7..];
    rest[..rest.find('"').unwrap()].to_owned()
}

pub(crate) fn attr<'a>(html: &'a str, marker: &str) -> &'a str {
    let rest = &html[html.find(marker).unwrap_or_else(|| panic!("no {marker}"))..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    &rest[..rest.find('<').unwrap()]
}

/// Connect `site` to the git host's repository and trust the host's key, as its page does:
/// settings saved, the deploy key authorized, the host's key scanned and confirmed.
pub(crate) async fn connect_repository(user: &LoggedIn, site: SiteId, git: &GitHost, script: &str) {
    save_settings(user, site, &git.url, "5", script).await;
    let tab = user.text(&format!("/sites/{site}/deployments")).await;
    git.authorize(attr(&tab, "data-deploy-key").trim());
    let resp = user
        .post_form(&format!("/sites/{site}/git-host/scan"), &[])
        .await;
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    let tab = user.text(&format!("/sites/{site}/deployments")).await;
    let shown = attr_value(&tab, "name=\"fingerprints\"");
    let resp = user
        .post_form(
            &format!("/sites/{site}/git-host/confirm"),
            &[("fingerprints", shown.as_str())],
        )
        .await;
    assert_eq!(resp.status(), 303);
}

fn releases(node: &IsolatedNode) -> Vec<String> {
    node.must("ls -1 /home/web1/deploy/releases", "")
        .lines()
        .map(str::to_owned)
        .collect()
}

// Multi-threaded: the node's callbacks reach the panel while the test blocks on `ssh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploys_by_ui_webhook_and_cli_roll_back_and_never_break_the_live_release() {
    let (node, app, user, server, setup_url) = panel_for(IsolatedNode::start_web()).await;
    let git = GitHost::start_for(&node);
    onboard(&app, &node, server, &setup_url).await;
    wait_for(&app, server, "active").await;
    let site = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", DOMAIN),
            ("app_type", "php"),
            ("php_version", "8.2"),
            ("database", "none"),
        ],
    )
    .await;
    wait_site(&app, site, SiteStatus::Active).await;

    // Connect the repository; the page then shows the site's own deploy key for the git host.
    save_settings(&user, site, &git.url, "5", SCRIPT).await;
    let tab = user.text(&format!("/sites/{site}/deployments")).await;
    let public = attr(&tab, "data-deploy-key").trim().to_owned();
    assert!(public.starts_with("ssh-ed25519 "), "{public}");
    let copied = user.text(&format!("/sites/{site}/deploy-key/public")).await;
    assert_eq!(copied.trim(), public);
    git.authorize(&public);
    let env_before = env_sum(&node);

    // No trust on first use: nobody confirmed the git host's key, so nothing is queued.
    let resp = user.post_form(&format!("/sites/{site}/deploy"), &[]).await;
    assert_eq!(resp.status(), 409);
    assert!(resp.text().await.unwrap().contains("not confirmed"));
    assert!(
        panel::db::deployments::for_site(app.db(), site, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing queued"
    );
    // The key is read from the site's server and shown; trusting it takes a confirmation.
    let resp = user
        .post_form(&format!("/sites/{site}/git-host/scan"), &[])
        .await;
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    let tab = user.text(&format!("/sites/{site}/deployments")).await;
    let git_key = git.node.host_fingerprint();
    assert!(tab.contains(&git_key), "the scanned key is shown: {tab}");
    let shown = attr_value(&tab, "name=\"fingerprints\"");
    // Confirming other fingerprints than the ones found is refused.
    let resp = user
        .post_form(
            &format!("/sites/{site}/git-host/confirm"),
            &[(
                "fingerprints",
                "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            )],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let resp = user
        .post_form(
            &format!("/sites/{site}/git-host/confirm"),
            &[("fingerprints", shown.as_str())],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let tab = user.text(&format!("/sites/{site}/deployments")).await;
    assert!(tab.contains("data-git-host-confirmed"), "{tab}");

    // 1. From the UI, its log streaming live to the deployment's page.
    let v1 = git.commit(&[("index.php", &page("v1"))], "first release");
    let first = deploy_from_ui(&user, site).await;
    let job = {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let d = panel::db::deployments::get(app.db(), first)
                .await
                .unwrap()
                .unwrap();
            if let Some(j) = d.job_id {
                break j;
            }
            assert!(Instant::now() < deadline, "the deployment got no job");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let page_html = user.text(&format!("/deployments/{first}")).await;
    assert!(
        page_html.contains(&format!("href=\"/jobs/{job}\"")),
        "the page shows its job"
    );
    let mut stream = user.get(&format!("/jobs/{job}/events")).await;
    let mut events = String::new();
    while !events.contains("event: done") {
        match tokio::time::timeout(Duration::from_secs(60), stream.chunk()).await {
            Ok(Ok(Some(c))) => events.push_str(&String::from_utf8_lossy(&c)),
            other => panic!("stream ended early ({other:?}): {events}"),
        }
    }
    assert!(
        events.contains("building "),
        "the script's output streamed live: {events}"
    );
    assert!(events.contains("data-stream=\"stderr\">a warning on stderr<"));
    let d = succeeded(&app, first).await;
    assert_eq!(d.commit_hash.as_deref(), Some(v1.as_str()));
    assert_eq!(d.commit_message.as_deref(), Some("first release"));
    assert_eq!(d.actor_name.as_deref(), Some("Ops"));
    assert_eq!(d.release_state, ReleaseState::Kept);
    let release = format!("/home/web1/deploy/releases/{first}");
    assert!(
        d.stdout.contains(&format!(
            "building {v1} of main in {release} for {DOMAIN} as web1"
        )),
        "{}",
        d.stdout
    );
    assert!(
        d.stdout.contains("php 8.2."),
        "$PHP is the site's PHP: {}",
        d.stdout
    );
    assert!(d.stderr.contains("a warning on stderr"), "{}", d.stderr);
    assert!(
        !d.stdout.contains("a warning on stderr"),
        "streams kept apart"
    );
    // The script printed the deploy key: its body is masked in the row (and the job log).
    let key_at = d
        .stdout
        .find("-----BEGIN OPENSSH PRIVATE KEY-----\n")
        .expect("the key's header");
    let body = d.stdout[key_at..].lines().nth(1).unwrap();
    assert_eq!(body, "••••", "{}", d.stdout);
    let (code, body) = http(&node, "/");
    assert_eq!((code, body.trim()), (200, "v1 env-linked"));
    assert_eq!(
        node.must("readlink /home/web1/public_html", "").trim(),
        "deploy/current"
    );
    assert_eq!(node.must(&format!("cat {release}/REVISION"), "").trim(), v1);
    assert_eq!(
        node.must(&format!("stat -c %U {release}/REVISION"), "")
            .trim(),
        "web1",
        "built as the site user"
    );
    assert!(
        node.root("test -e /run/panel-deploy/web1", "")
            .status
            .code()
            == Some(1),
        "the key is gone"
    );
    // What public_html held before (the placeholder) was kept, not lost.
    assert!(
        node.must("ls /home/web1/public_html.before-first-deploy", "")
            .contains("index.html")
    );
    assert_eq!(env_sum(&node), env_before, ".env untouched");

    // 2. From a GitHub push webhook; the payload's shell syntax stays data all the way.
    let hostile = "second; $(touch /tmp/pwned-msg) `touch /tmp/pwned-tick`";
    let v2 = git.commit(&[("index.php", &page("v2"))], hostile);
    let revealed = user
        .post_form(&format!("/sites/{site}/webhook/reveal"), &[])
        .await
        .text()
        .await
        .unwrap();
    let secret = attr(&revealed, "data-revealed-secret").to_owned();
    assert_eq!(secret.len(), 43, "{secret}");
    let payload = serde_json::json!({
        "ref": "refs/heads/main",
        "after": v2,
        "pusher": { "name": "eve<b>; $(id)" },
        "head_commit": { "message": hostile },
    })
    .to_string();
    let hook = |delivery: &'static str, body: String, signature: String| {
        let url = app.url(&format!("/api/webhooks/deploy/{site}"));
        async move {
            client()
                .post(url)
                .header("Content-Type", "application/json")
                .header("X-GitHub-Event", "push")
                .header("X-GitHub-Delivery", delivery)
                .header("X-Hub-Signature-256", signature)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let sig = panel::deployments::webhook::sign_github(&secret, payload.as_bytes());
    let resp = hook("9a1b2c3d-0001", payload.clone(), sig.clone()).await;
    assert_eq!(resp.status(), 202);
    let answer: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(answer["status"], "queued");
    let second: DeploymentId = answer["deployment"].as_str().unwrap().parse().unwrap();
    let d = succeeded(&app, second).await;
    assert_eq!(d.commit_hash.as_deref(), Some(v2.as_str()));
    assert_eq!(d.triggered_by.as_str(), "webhook");
    let detail = d.trigger_detail.clone().unwrap();
    assert!(detail.contains("pushed by eve<b>; $(id)"), "{detail}");
    assert!(
        d.stdout.contains(&format!("message: {hostile}")),
        "{}",
        d.stdout
    );
    // Each payload on its own: `ls a b` fails when either is missing, so it only caught both.
    for trace in ["/tmp/pwned-msg", "/tmp/pwned-tick"] {
        assert_eq!(
            node.root(&format!("test -e {trace}"), "").status.code(),
            Some(1),
            "{trace}: something in the commit message ran"
        );
    }
    let shown = user.text(&format!("/deployments/{second}")).await;
    assert!(
        shown.contains("eve&lt;b&gt;; $(id)") && !shown.contains("eve<b>"),
        "escaped"
    );
    assert_eq!(http(&node, "/").1.trim(), "v2 env-linked");
    // The same delivery again is a replay: refused, nothing queued.
    let before = panel::db::deployments::for_site(app.db(), site, 100)
        .await
        .unwrap()
        .len();
    assert_eq!(hook("9a1b2c3d-0001", payload, sig).await.status(), 409);
    assert_eq!(
        panel::db::deployments::for_site(app.db(), site, 100)
            .await
            .unwrap()
            .len(),
        before
    );
    assert_eq!(env_sum(&node), env_before);

    // 3. From the panel host's command line, waiting for the end.
    let v3 = git.commit(&[("index.php", &page("v3"))], "third");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_panel"))
        .arg("--data-dir")
        .arg(app.data_dir())
        .args(["deploy", DOMAIN, "--wait"])
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains("Queued deployment"), "{printed}");
    assert!(
        printed.contains(&format!("building {v3} of main")),
        "the log was followed: {printed}"
    );
    assert!(printed.contains("succeeded"), "{printed}");
    let third = panel::db::deployments::for_site(app.db(), site, 1)
        .await
        .unwrap()[0]
        .clone();
    assert_eq!(third.triggered_by.as_str(), "cli");
    assert_eq!(third.commit_hash.as_deref(), Some(v3.as_str()));
    assert_eq!(http(&node, "/").1.trim(), "v3 env-linked");
    assert_eq!(env_sum(&node), env_before);

    // 4. A failing deploy script: failed with its stderr; the live release keeps serving, the
    // failed release and the key are gone.
    save_settings(
        &user,
        site,
        &git.url,
        "5",
        "echo 'about to fail'\necho 'composer: dependency resolution failed' >&2\nexit 3\n",
    )
    .await;
    git.commit(&[("index.php", &page("v4-broken"))], "broken");
    let failed = deploy_from_ui(&user, site).await;
    let d = wait_deployment(&app, failed).await;
    assert_eq!(d.status, DeploymentStatus::Failed);
    assert!(
        d.stderr.contains("composer: dependency resolution failed"),
        "{}",
        d.stderr
    );
    assert!(d.stdout.contains("about to fail"), "{}", d.stdout);
    assert!(
        d.status_reason
            .as_deref()
            .unwrap_or("")
            .contains("Run the deploy script"),
        "{:?}",
        d.status_reason
    );
    assert_eq!(d.release_state, ReleaseState::None);
    assert_eq!(
        http(&node, "/").1.trim(),
        "v3 env-linked",
        "the previous release still serves"
    );
    assert!(
        !releases(&node).contains(&failed.to_string()),
        "the failed release was removed"
    );
    assert!(
        node.root("test -e /run/panel-deploy/web1", "")
            .status
            .code()
            == Some(1)
    );
    assert_eq!(env_sum(&node), env_before);

    // 5. Rollback to the first release.
    let resp = user
        .post_form(&format!("/deployments/{first}/rollback"), &[])
        .await;
    assert_eq!(resp.status(), 303);
    let back = succeeded(&app, redirected(&resp)).await;
    assert_eq!(back.commit_hash.as_deref(), Some(v1.as_str()));
    assert_eq!(
        http(&node, "/").1.trim(),
        "v1 env-linked",
        "the old commit serves again"
    );
    let tab = user.text(&format!("/sites/{site}/deployments")).await;
    let row = &tab[tab.find(&format!("data-deployment=\"{first}\"")).unwrap()..];
    assert!(
        row[..row.find("</tr>").unwrap()].contains("data-live"),
        "the first release is live"
    );
    // Rolling back to what is live is refused.
    assert_eq!(
        user.post_form(&format!("/deployments/{first}/rollback"), &[])
            .await
            .status(),
        409
    );

    // 6. Two deploys at once run one after the other; keeping 2 releases prunes the rest.
    save_settings(&user, site, &git.url, "2", SCRIPT).await;
    let v5 = git.commit(&[("index.php", &page("v5"))], "fifth");
    let (a, b) = tokio::join!(deploy_from_ui(&user, site), deploy_from_ui(&user, site));
    let (a, b) = (succeeded(&app, a).await, succeeded(&app, b).await);
    let (earlier, later) = if a.started_at < b.started_at {
        (a, b)
    } else {
        (b, a)
    };
    assert!(
        earlier.finished_at.as_deref().unwrap() <= later.started_at.as_deref().unwrap(),
        "overlapped: {earlier:?} {later:?}"
    );
    assert_eq!(later.commit_hash.as_deref(), Some(v5.as_str()));
    assert_eq!(http(&node, "/").1.trim(), "v5 env-linked");
    let on_disk = releases(&node);
    assert_eq!(on_disk.len(), 2, "{on_disk:?}");
    assert!(on_disk.contains(&later.id.to_string()) && on_disk.contains(&earlier.id.to_string()));
    let first_now = panel::db::deployments::get(app.db(), first)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first_now.release_state, ReleaseState::Pruned);
    let tab = user.text(&format!("/sites/{site}/deployments")).await;
    assert!(
        !tab.contains(&format!("data-rollback=\"{first}\"")),
        "a pruned release offers no rollback"
    );
    assert!(tab.contains(&format!("data-rollback=\"{}\"", earlier.id)));
    assert_eq!(env_sum(&node), env_before, ".env survived every deploy");

    // 7. The git host's key changes after it was confirmed: the fetch is refused, with the
    // reason, and the live release keeps serving.
    git.node.rekey_sshd();
    git.commit(&[("index.php", &page("v6"))], "sixth");
    let refused = deploy_from_ui(&user, site).await;
    let d = wait_deployment(&app, refused).await;
    assert_eq!(d.status, DeploymentStatus::Failed);
    let reason = d.status_reason.clone().unwrap_or_default();
    assert!(reason.contains("other than the one confirmed"), "{reason}");
    assert_eq!(http(&node, "/").1.trim(), "v5 env-linked");

    // Suspending the site holds deploys back with a reason.
    let resp = user.post_form(&format!("/sites/{site}/suspend"), &[]).await;
    assert_eq!(resp.status(), 303);
    wait_site(&app, site, SiteStatus::Suspended).await;
    let resp = user.post_form(&format!("/sites/{site}/deploy"), &[]).await;
    assert_eq!(resp.status(), 409);
    drop(git);
}
