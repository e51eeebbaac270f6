//! Onboarding end to end on an isolated Debian node: add the server over HTTP, run the setup
//! script on the node as its operator would, the node's signed callback arrives, the panel pins
//! the host key and marks the server active. A second run of the script changes nothing.

use std::time::{Duration, Instant};

use panel::ids::ServerId;

use crate::harness::{IsolatedNode, TestApp, client, free_port};

// Multi-threaded: the node's callback reaches the panel while the test waits on `ssh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debian_node_is_onboarded_and_a_second_setup_run_changes_nothing() {
    let node = IsolatedNode::start();
    // The panel listens where the node can reach it: the node's gateway address.
    let port = free_port();
    let url = format!("http://{}:{port}", node.gateway);
    let app = TestApp::spawn_at(
        tempfile::tempdir().unwrap(),
        &format!("{}:{port}", node.gateway),
        &url,
    )
    .await;
    let user = app.login_as("ops@example.com", "Ops").await;
    assert_eq!(
        user.post_form("/ssh-keys", &[("name", "panel"), ("key_type", "ed25519")])
            .await
            .status(),
        303
    );
    let key_id = panel::db::ssh_keys::list(app.db()).await.unwrap()[0]
        .id
        .to_string();
    let resp = user
        .post_form(
            "/servers",
            &[
                ("name", "node-1"),
                ("ip_address", &node.ip),
                ("hostname", "node1.example.com"),
                ("os_version", "debian_12"),
                ("ssh_port", "22"),
                ("ssh_user", "panel"),
                ("ssh_key_id", &key_id),
            ],
        )
        .await;
    assert_eq!(resp.status(), 201);
    let html = resp.text().await.unwrap();
    let rest = &html[html.find("data-setup-command").unwrap()..];
    let setup_url = &rest[rest.find("http").unwrap()..];
    let setup_url = &setup_url[..setup_url.find('\'').unwrap()];
    let id: ServerId = sqlx::query_scalar("SELECT id FROM servers")
        .fetch_one(app.db())
        .await
        .unwrap();

    // What `curl -fsSL URL | sudo bash` does, with the script fetched here and piped over SSH
    // (the node's only route is to the panel, which is where the callback goes).
    let script = client()
        .get(setup_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let run = node.root("bash -s", &script);
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

    let deadline = Instant::now() + Duration::from_secs(30);
    let server = loop {
        let s = panel::db::servers::get(app.db(), id)
            .await
            .unwrap()
            .unwrap();
        if s.status.as_str() == "active" {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "not active: {:?} {:?}",
            s.status,
            s.status_reason
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The pinned key is the node's own host key.
    let node_key = node.root("cat /etc/ssh/ssh_host_ed25519_key.pub", "");
    let node_key =
        panel::ssh::client::HostKey::parse(&String::from_utf8_lossy(&node_key.stdout)).unwrap();
    let pinned = panel::ssh::client::HostKey::parse(server.host_key.as_deref().unwrap()).unwrap();
    assert_eq!(pinned.fingerprint(), node_key.fingerprint());
    assert_eq!(server.selinux_mode.map(|m| m.as_str()), Some("disabled"));

    // The node now refuses passwords and lets the panel user in with the panel's key only.
    let sshd = node.root(
        "sshd -T 2>/dev/null | grep -E '^(passwordauthentication|permitrootlogin) '",
        "",
    );
    let sshd = String::from_utf8_lossy(&sshd.stdout);
    assert!(sshd.contains("passwordauthentication no"), "{sshd}");

    // Idempotent: the same script again changes nothing, and says so.
    let again = node.root("bash -s", &script);
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{out}");
    assert!(
        out.contains("No changes: this server is already set up."),
        "{out}"
    );
    assert!(!out.contains("change:"), "{out}");
    app.stop().await;
}
