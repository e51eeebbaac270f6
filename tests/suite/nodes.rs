//! Onboarding end to end on an isolated Debian node: add the server over HTTP, run the setup
//! script on the node as its operator would, the node's signed callback arrives, the panel pins
//! the host key and marks the server active. A second run of the script changes nothing.

use panel::ids::ServerId;

use crate::harness::{IsolatedNode, LoggedIn, TestApp, client, panel_for, wait_for, wait_job};

/// A node, a panel on its gateway, a logged-in user and a server row for the node; returns the
/// one-time setup URL too.
async fn panel_for_node() -> (IsolatedNode, TestApp, LoggedIn, ServerId, String) {
    panel_for(IsolatedNode::start()).await
}

/// Key blobs in the panel user's authorized_keys on the node.
fn authorized_blobs(node: &IsolatedNode) -> Vec<String> {
    let out = node.root("cat /home/panel/.ssh/authorized_keys", "");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
        .collect()
}

fn blob(line: &str) -> String {
    line.split_whitespace().nth(1).unwrap().to_owned()
}

// Multi-threaded: the node's callback reaches the panel while the test waits on `ssh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debian_node_is_onboarded_and_a_second_setup_run_changes_nothing() {
    let (node, app, _user, id, setup_url) = panel_for_node().await;

    // The operator's command, run as root on the node (its only route is to the panel); `tee`
    // keeps the script for the second run, since the link works once.
    let command = format!("set -o pipefail; curl -fsSL '{setup_url}' | tee /root/setup.sh | bash");
    let run = node.root(&command, "");
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "setup failed:\n{out}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        out.contains("ok: debian_12") && out.contains("change: create user panel"),
        "{out}"
    );
    assert!(
        out.contains("skipped: no network"),
        "package step reports the missing route: {out}"
    );

    let server = wait_for(&app, id, "active").await;
    // The pinned key is the node's own host key.
    let node_key = node.root("cat /etc/ssh/ssh_host_ed25519_key.pub", "");
    let node_key =
        panel::ssh::client::HostKey::parse(&String::from_utf8_lossy(&node_key.stdout)).unwrap();
    let pinned = panel::ssh::client::HostKey::parse(server.host_key.as_deref().unwrap()).unwrap();
    assert_eq!(pinned.fingerprint(), node_key.fingerprint());
    assert_eq!(server.selinux_mode.map(|m| m.as_str()), Some("disabled"));
    // PHP 8.2 was chosen; the node had no route to install it, and the panel says so.
    let php = panel::db::software::list(app.db(), id).await.unwrap();
    assert_eq!(
        (php[0].version.as_str(), php[0].status.as_str()),
        ("8.2", "failed"),
        "{php:?}"
    );
    assert!(
        php[0]
            .status_reason
            .as_deref()
            .unwrap()
            .contains("not installed")
    );

    // The node now refuses passwords and lets the panel user in with the panel's key only.
    let sshd = node.root(
        "sshd -T 2>/dev/null | grep -E '^(passwordauthentication|permitrootlogin) '",
        "",
    );
    let sshd = String::from_utf8_lossy(&sshd.stdout);
    assert!(sshd.contains("passwordauthentication no"), "{sshd}");

    // Idempotent: the same script again changes nothing, and says so.
    let again = node.root("bash /root/setup.sh", "");
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{out}");
    assert!(
        out.contains("No changes: this server is already set up."),
        "{out}"
    );
    assert!(!out.contains("change:"), "{out}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_a_servers_key_switches_over_and_a_failed_rotation_rolls_back() {
    let (node, app, user, id, setup_url) = panel_for_node().await;
    let script = client()
        .get(&setup_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(node.root("bash -s", &script).status.success());
    let server = wait_for(&app, id, "active").await;
    let old_key = panel::db::ssh_keys::get(app.db(), server.ssh_key_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(authorized_blobs(&node), [blob(&old_key.public_key)]);

    // A rotation whose new key cannot log in changes nothing.
    let job = panel::servers::rotate_key(
        app.state(),
        &server,
        None,
        Some(panel::servers::KeyRotationFault::NewKeyRejected),
    )
    .await
    .unwrap();
    let job = wait_job(&app, job).await;
    assert_eq!(job.status, "failed");
    assert!(job.error.unwrap().contains("could not log in"));
    let steps = panel::db::jobs::steps(app.db(), job.id).await.unwrap();
    let failed: Vec<_> = steps
        .iter()
        .filter(|s| s.status == "failed")
        .map(|s| s.description.as_str())
        .collect();
    assert_eq!(
        failed,
        ["Log in with the new key"],
        "the job shows where it stopped"
    );
    let after = panel::db::servers::get(app.db(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.ssh_key_id, server.ssh_key_id, "still the old key");
    assert_eq!(
        authorized_blobs(&node),
        [blob(&old_key.public_key)],
        "node as before"
    );
    assert_eq!(
        panel::db::ssh_keys::list(app.db()).await.unwrap().len(),
        1,
        "the unused new key is gone"
    );

    // The real thing, from the server page.
    let resp = user
        .post_form(&format!("/servers/{id}/rotate-key"), &[])
        .await;
    assert_eq!(resp.status(), 303);
    let job_url = resp.headers()["location"].to_str().unwrap().to_owned();
    let job_id: panel::ids::JobId = job_url.rsplit('/').next().unwrap().parse().unwrap();
    let job = wait_job(&app, job_id).await;
    assert_eq!(
        job.status,
        "success",
        "{:?}",
        panel::db::jobs::log_since(app.db(), job_id, 0)
            .await
            .unwrap()
    );
    let after = panel::db::servers::get(app.db(), id)
        .await
        .unwrap()
        .unwrap();
    let new_key = panel::db::ssh_keys::get(app.db(), after.ssh_key_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(new_key.id, old_key.id);
    assert_eq!(
        authorized_blobs(&node),
        [blob(&new_key.public_key)],
        "only the new key is authorized"
    );
    // And the panel still gets in.
    let health = user
        .get(&format!("/servers/{id}/health"))
        .await
        .text()
        .await
        .unwrap();
    // The numbers, not the "not available" fragment (whose attribute starts the same).
    assert!(
        health.contains("data-health>") && !health.contains("data-health-unavailable"),
        "{health}"
    );
    app.stop().await;
}

/// `setup.sh --dry-run` for EL renderings, run in a fresh node that reports itself as that OS
/// (a fake os-release): the output is compared with `tests/snapshots/`. Set UPDATE_SNAPSHOTS=1
/// to rewrite them after an intended change.
#[test]
fn dry_run_of_el_renderings_matches_the_snapshots() {
    use panel::domain::OsVersion;
    for (os, id, version) in [
        (OsVersion::Alma9, "almalinux", "9.4"),
        (OsVersion::Rocky8, "rocky", "8.10"),
    ] {
        let node = IsolatedNode::start();
        let mut config = panel::config::Config::for_data_dir(std::path::Path::new("/nonexistent"));
        config.url = "https://panel.example.com".into();
        let server = panel::db::servers::Server {
            id: "01JD0000000000000000000000".parse().unwrap(),
            name: "web-1".into(),
            ip_address: "203.0.113.10".into(),
            hostname: "web1.example.com".into(),
            os_version: os,
            ssh_port: 22,
            ssh_user: "panel".into(),
            ssh_key_id: None,
            host_key: None,
            status: panel::domain::ServerStatus::Provisioning,
            status_reason: None,
            selinux_mode: None,
            service_driver: panel::domain::ServiceDriver::Systemd,
            created_at: String::new(),
            reported_host_keys: None,
        };
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2FYtXTElgudHhceVSR+xAW9GT9VoklanzrubzbEZOq panel:web";
        let script = panel::servers::render_script(&config, &server, key, "not-a-real-secret");
        let os_release =
            format!("ID={id}\nVERSION_ID=\"{version}\"\nPRETTY_NAME=\"{id} {version}\"\n");
        let write = node.root("cat > /tmp/os-release", &os_release);
        assert!(write.status.success());
        let run = node.root(
            "PANEL_OS_RELEASE=/tmp/os-release bash -s -- --dry-run",
            &script,
        );
        let out = String::from_utf8_lossy(&run.stdout).into_owned();
        assert!(
            run.status.success(),
            "{out}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(!out.contains("not-a-real-secret"));
        let check = node.root("id panel 2>&1; ls /etc/sudoers.d/panel 2>&1", "");
        assert!(!check.status.success(), "the dry run changed nothing");
        let path = format!(
            "{}/tests/snapshots/setup-dry-run-{}.txt",
            env!("CARGO_MANIFEST_DIR"),
            os.as_str()
        );
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&path, &out).unwrap();
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("missing snapshot {path}; run with UPDATE_SNAPSHOTS=1"));
        assert_eq!(out, expected, "dry run for {os} differs from {path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn software_is_installed_upgraded_and_removed_through_jobs() {
    let (node, app, user, id, setup_url) = panel_for_node().await;
    let script = client()
        .get(&setup_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(node.root("bash -s", &script).status.success());
    wait_for(&app, id, "active").await;
    let act = |software: &'static str, version: &'static str, action: &'static str| {
        let user = &user;
        async move {
            let resp = user
                .post_form(
                    &format!("/servers/{id}/software"),
                    &[
                        ("software", software),
                        ("version", version),
                        ("action", action),
                    ],
                )
                .await;
            assert_eq!(resp.status(), 303, "{software} {action}");
            let job: panel::ids::JobId = resp.headers()["location"]
                .to_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            job
        }
    };
    // Rows other than the PHP 8.2 chosen at creation (which the offline node could not install).
    let rows = || async {
        panel::db::software::list(app.db(), id)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| !(r.software.as_str() == "php" && r.version == "8.2"))
            .collect::<Vec<_>>()
    };

    let job = wait_job(&app, act("redis", "", "install").await).await;
    assert_eq!(
        job.status,
        "success",
        "{:?}",
        panel::db::jobs::log_since(app.db(), job.id, 0)
            .await
            .unwrap()
    );
    let installed = rows().await;
    assert_eq!(
        (installed[0].software.as_str(), installed[0].status.as_str()),
        ("redis", "installed")
    );
    assert!(
        node.root("redis-server --version", "").status.success(),
        "redis is on the node"
    );
    let page = user
        .get(&format!("/servers/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-software=\"redis\""));

    assert_eq!(
        wait_job(&app, act("redis", "", "upgrade").await)
            .await
            .status,
        "success"
    );
    assert_eq!(
        wait_job(&app, act("redis", "", "remove").await)
            .await
            .status,
        "success"
    );
    assert!(rows().await.is_empty(), "removed");
    assert!(
        !node
            .root("test -x /usr/bin/redis-server", "")
            .status
            .success()
    );

    // Debian 12 has no PHP 8.3 package: the install fails and says why.
    let job = wait_job(&app, act("php", "8.3", "install").await).await;
    assert_eq!(job.status, "failed");
    let row = &rows().await[0];
    assert_eq!(row.status.as_str(), "failed");
    assert!(
        row.status_reason.as_deref().unwrap().contains("apt-get"),
        "{row:?}"
    );
    let bad = user
        .post_form(
            &format!("/servers/{id}/software"),
            &[
                ("software", "php"),
                ("version", "8.3;id"),
                ("action", "install"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    app.stop().await;
}

/// Node numbers are claimed under a lock per number, so a number held by another process (a
/// second test binary, a benchmark) is never given out: `node.sh start K` would stop its node.
#[test]
#[allow(clippy::incompatible_msrv)] // File::try_lock, as in `claim_node_number`
fn a_node_number_another_process_holds_is_never_given_out() {
    use crate::harness::{claim_node_number, node_locks};
    let (a, first) = claim_node_number();
    let (b, _second) = claim_node_number();
    assert_ne!(a, b, "two claims in one process");
    // Hand number `a` to another process: `flock` holds it while it sleeps.
    drop(first);
    let path = node_locks().join(format!("{a}.lock"));
    let mut holder = std::process::Command::new("flock")
        .arg("-x")
        .arg(&path)
        .args(["sleep", "60"])
        .spawn()
        .expect("flock(1) runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let probe = std::fs::File::open(&path).unwrap();
        if probe.try_lock().is_err() {
            break;
        }
        drop(probe);
        assert!(
            std::time::Instant::now() < deadline,
            "flock did not take the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let claims: Vec<_> = (0..5).map(|_| claim_node_number()).collect();
    assert!(
        claims.iter().all(|(n, _)| *n != a),
        "number {a} was given out while another process held it: {:?}",
        claims.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    let _ = holder.kill();
    let _ = holder.wait();
}
