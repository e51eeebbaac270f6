//! No trust on first use, on real nodes: the panel pins a node's host key only if the node's
//! signed setup callback reported it; the callback secret never shows in a process's argv or
//! environment on the node while setup runs; a re-keyed node is trusted again only through the
//! setup command or a fingerprint a user confirms.

use std::time::Duration;

use crate::harness::{IsolatedNode, panel_for, wait_for};

/// A stand-in for curl in front of the real one: the server-ready callback is written down
/// (its arguments, NUL-separated) instead of sent, so the test decides when it arrives.
const CAPTURING_CURL: &str = r#"#!/bin/bash
for a in "$@"; do
  case $a in
    */api/callbacks/server-ready) printf '%s\0' "$@" >/root/callback.args; exit 0 ;;
  esac
done
exec /usr/bin/curl "$@"
"#;

/// Samples every process's argv and environment on the node until /root/stop exists, printing
/// the files that hold the needle (the secret is in a root-only file, never in an argument).
const SAMPLER: &str = r#"
while [ ! -e /root/stop ]; do
  grep -laFf /root/needle /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null
done >/root/hits
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_key_other_than_the_reported_one_is_never_pinned_and_the_secret_stays_hidden() {
    let node = IsolatedNode::start();
    let (node, app, user, id, setup_url) = panel_for(node).await;
    let secret = panel::nodes::callbacks::secret(app.state(), id)
        .await
        .unwrap();
    let reported = node.host_fingerprint();
    let reported_key = node.must("cut -d' ' -f2 /etc/ssh/ssh_host_ed25519_key.pub", "");

    // Setup runs as the operator would, under strace (every program it starts, with its
    // arguments and environment) and beside a sampler of /proc; its callback is held back.
    node.must("install -m 0600 /dev/stdin /root/needle", &secret);
    node.must(
        "install -d /root/capture && install -m 0755 /dev/stdin /root/capture/curl",
        CAPTURING_CURL,
    );
    let mut sampler = node.root_with_stdin("bash -s");
    {
        use std::io::Write;
        let mut stdin = sampler.stdin.take().unwrap();
        stdin.write_all(SAMPLER.as_bytes()).unwrap();
    }
    let run = node.root(
        &format!(
            "set -o pipefail; curl -fsSL '{setup_url}' >/root/setup.sh && \
             PATH=/root/capture:$PATH strace -f -qq -v -s 65536 -e trace=execve -o /root/trace bash /root/setup.sh"
        ),
        "",
    );
    node.must("touch /root/stop", "");
    sampler.wait().unwrap();
    assert!(
        run.status.success(),
        "setup failed:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let trace = node.must("cat /root/trace", "");
    assert!(
        trace.contains("/api/callbacks/server-ready"),
        "the trace saw the callback"
    );
    assert!(
        !trace.contains(secret.as_str()),
        "a program setup.sh started got the callback secret in its argv or environment"
    );
    let hits = node.must("cat /root/hits", "");
    assert!(hits.trim().is_empty(), "processes held the secret: {hits}");
    assert!(
        node.must("cat /root/callback.args", "")
            .contains(reported_key.trim()),
        "the callback reports the node's host keys"
    );

    // The node's sshd is re-keyed before the callback arrives: what answers is not what the
    // signed report named. First contact refuses it, names both keys, and pins nothing.
    let presented = node.rekey_sshd();
    assert_ne!(presented, reported);
    node.must("xargs -0 -a /root/callback.args /usr/bin/curl", "");
    let server = wait_for(&app, id, "error").await;
    let reason = server.status_reason.clone().unwrap_or_default();
    assert!(
        reason.contains(&presented) && reason.contains(&reported),
        "{reason}"
    );
    assert!(server.host_key.is_none(), "nothing was pinned");
    let page = user.text(&format!("/servers/{id}")).await;
    assert!(
        page.contains(&presented) && page.contains(&reported),
        "the page shows both"
    );

    // The documented way on: run the setup command again; its report names the new key.
    let resp = user
        .post_form(&format!("/servers/{id}/setup-url"), &[])
        .await;
    assert_eq!(resp.status(), 303);
    let html = user.text(&format!("/servers/{id}")).await;
    let url = crate::harness::setup_url_in(&html).to_owned();
    let run = node.root(&format!("set -o pipefail; curl -fsSL '{url}' | bash"), "");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let server = wait_for(&app, id, "active").await;
    let pinned = panel::ssh::client::HostKey::parse(server.host_key.as_deref().unwrap()).unwrap();
    assert_eq!(pinned.fingerprint(), presented);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_keyed_server_is_trusted_again_only_with_the_fingerprint_a_user_confirms() {
    let (node, app, user, id, setup_url) = panel_for(IsolatedNode::start()).await;
    crate::harness::onboard(&app, &node, id, &setup_url).await;
    wait_for(&app, id, "active").await;
    let old = node.host_fingerprint();

    // Unchanged: the check says so.
    let resp = user
        .post_form(&format!("/servers/{id}/host-key/check"), &[])
        .await;
    assert!(resp.text().await.unwrap().contains("data-host-key-matches"));

    let new = node.rekey_sshd();
    // The pin holds: the panel no longer gets in.
    let health = user.text(&format!("/servers/{id}/health")).await;
    assert!(health.contains("data-health-unavailable"), "{health}");
    let check = user
        .post_form(&format!("/servers/{id}/host-key/check"), &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(check.contains("data-host-key-changed"), "{check}");
    assert!(check.contains(&new) && check.contains(&old), "{check}");

    // A fingerprint other than the one presented is refused, and nothing changes.
    let resp = user
        .post_form(
            &format!("/servers/{id}/host-key/confirm"),
            &[("fingerprint", old.as_str())],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let server = panel::db::servers::get(app.db(), id)
        .await
        .unwrap()
        .unwrap();
    let pinned = panel::ssh::client::HostKey::parse(server.host_key.as_deref().unwrap()).unwrap();
    assert_eq!(pinned.fingerprint(), old);

    // The one shown is pinned, the panel gets in again, and the change is in the server log.
    let resp = user
        .post_form(
            &format!("/servers/{id}/host-key/confirm"),
            &[("fingerprint", new.as_str())],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let health = user.text(&format!("/servers/{id}/health")).await;
        if health.contains("data-uptime=") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{health}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let logs = panel::db::servers::logs(app.db(), id, 50).await.unwrap();
    let line = logs
        .iter()
        .find(|l| l.message.contains("SSH host key changed"))
        .expect("the change is logged");
    assert!(line.context.contains(&new) && line.context.contains(&old));
    app.stop().await;
}

/// The HMAC the node scripts compute with shell builtins is the panel's, byte for byte, for keys
/// whose bytes XOR to NUL and messages with quotes, backslashes and non-ASCII; setup.sh (served
/// alone) and site-created.sh carry the same function.
#[test]
fn the_node_scripts_sign_exactly_as_the_panel_verifies() {
    let function = |script: &str| {
        let start = script.find("hmac_sha256() {").unwrap();
        let end = start + script[start..].find("\n}\n").unwrap() + 3;
        script[start..end].to_owned()
    };
    let setup = function(panel::servers::SETUP_SCRIPT);
    let site = function(include_str!("../../setup/site-created.sh"));
    assert_eq!(setup, site, "one function in both scripts");
    let keys = [
        "666666".to_owned(),
        panel::crypto::random::token(),
        "k\\n'\"$(id)`".to_owned(),
        "x".repeat(64),
    ];
    for key in &keys {
        let body = r#"{"server_id":"01J","os":"débian","x":"a\\b'c"}"#;
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("{setup}\nhmac_sha256 \"$1\" \"$2\""))
            .arg("hmac")
            .arg(key)
            .arg(format!("1700000000.nonce.{body}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            panel::nodes::callbacks::sign(key, "1700000000", "nonce", body.as_bytes()),
            "key {key:?}"
        );
    }
}
