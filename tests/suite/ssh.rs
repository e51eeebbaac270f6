//! The SSH client against a real sshd: host-key probe and pinning, hostile arguments kept
//! literal, streaming, exit codes, timeouts, a dropped connection.

use std::time::{Duration, Instant};

use panel::domain::KeyType;
use panel::ssh::client::{HostKey, Session, SshError, Stream, Target, probe_host_key};
use panel::ssh::{Command, Script};
use panel::ssh_keys;

use crate::harness::{SshNode, TestApp};

const T: Duration = Duration::from_secs(10);

/// A node that accepts a freshly generated panel key; returns (node, target, private key).
pub async fn node_with_panel_key(app: &TestApp) -> (SshNode, Target, String) {
    let key = ssh_keys::generate(app.state(), "panel", KeyType::Ed25519, None)
        .await
        .unwrap();
    let private = panel::nodes::keys::private_key(app.state(), key.id)
        .await
        .unwrap()
        .unwrap();
    let node = SshNode::start(&format!("{}\n", key.public_key));
    let target = Target {
        host: "127.0.0.1".into(),
        port: node.port,
        user: "root".into(),
    };
    (node, target, private.to_string())
}

fn keygen_fingerprint(path: &std::path::Path) -> String {
    let out = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn first_contact_reads_the_host_key_and_later_connections_are_pinned_to_it() {
    let app = TestApp::spawn().await;
    let (node, target, private) = node_with_panel_key(&app).await;
    let host_key = probe_host_key(&target, T).await.unwrap();
    assert_eq!(
        host_key.fingerprint(),
        keygen_fingerprint(&node.dir.path().join("host_ed25519.pub"))
    );
    assert_eq!(HostKey::parse(&host_key.to_openssh()).unwrap(), host_key);

    let session = Session::connect(&target, &private, &host_key, T)
        .await
        .unwrap();
    let out = session
        .run(&Command::new("id").flag("-u"), T, |_, _| {})
        .await
        .unwrap();
    assert_eq!(out.stdout.trim(), "0");
    session.disconnect().await;

    // Another key pinned: the connection is refused before authenticating.
    let other_node = SshNode::start("");
    let other = probe_host_key(
        &Target {
            port: other_node.port,
            ..target.clone()
        },
        T,
    )
    .await
    .unwrap();
    let err = Session::connect(&target, &private, &other, T)
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, SshError::HostKeyChanged { .. }), "{err}");
    assert!(err.to_string().contains(&other.fingerprint()));
    app.stop().await;
}

#[tokio::test]
async fn hostile_arguments_arrive_literally_and_output_streams_line_by_line() {
    let app = TestApp::spawn().await;
    let (node, target, private) = node_with_panel_key(&app).await;
    let pinned = probe_host_key(&target, T).await.unwrap();
    let session = Session::connect(&target, &private, &pinned, T)
        .await
        .unwrap();
    let marker = node.dir.path().join("pwned");
    let hostile = [
        format!("$(touch {})", marker.display()),
        format!("`touch {}`", marker.display()),
        format!("a; touch {}", marker.display()),
        "-oProxyCommand=id".to_owned(),
        "it's \"quoted\"".to_owned(),
    ];
    let mut cmd = Command::new("printf").operand("%s\\n");
    for h in &hostile {
        cmd = cmd.operand(h);
    }
    let out = session.run(&cmd, T, |_, _| {}).await.unwrap();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines,
        hostile.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(!marker.exists(), "nothing ran");

    // Lines arrive while the command still runs; stderr is kept apart; the exit code is real.
    let script = Script::new(
        "ticks",
        "for i in 1 2 3; do echo \"tick $i\"; sleep 0.4; done; echo oops >&2; exit 3",
    );
    let start = Instant::now();
    let mut seen = Vec::new();
    let out = session
        .run_script(&script, T, |stream, line| {
            seen.push((stream, line.to_owned(), start.elapsed()))
        })
        .await
        .unwrap();
    assert_eq!(out.exit_code, 3);
    assert_eq!(out.stderr.trim(), "oops");
    let first = seen
        .iter()
        .find(|(s, l, _)| *s == Stream::Stdout && l == "tick 1")
        .unwrap();
    assert!(
        start.elapsed() - first.2 >= Duration::from_millis(600),
        "streamed, not buffered: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(s, l, _)| *s == Stream::Stderr && l == "oops")
    );
    app.stop().await;
}

#[tokio::test]
async fn timeouts_and_a_killed_sshd_end_commands_with_the_reason() {
    let app = TestApp::spawn().await;
    let (mut node, target, private) = node_with_panel_key(&app).await;
    let pinned = probe_host_key(&target, T).await.unwrap();
    let session = Session::connect(&target, &private, &pinned, T)
        .await
        .unwrap();
    let err = session
        .run(
            &Command::new("sleep").operand("5"),
            Duration::from_millis(300),
            |_, _| {},
        )
        .await
        .unwrap_err();
    assert!(matches!(err, SshError::CommandTimeout(..)), "{err}");

    // sshd (and the session's process) killed mid-command.
    let session = Session::connect(&target, &private, &pinned, T)
        .await
        .unwrap();
    let sleep = Command::new("sleep").operand("30");
    let running = session.run(&sleep, T, |_, _| {});
    let killer = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        node.kill_all();
    };
    let (result, ()) = tokio::join!(running, killer);
    let err = result.unwrap_err();
    assert!(
        matches!(err, SshError::Broken { .. } | SshError::CommandTimeout(..)),
        "{err}"
    );
    assert!(err.to_string().contains("sleep"), "{err}");
    app.stop().await;
}
