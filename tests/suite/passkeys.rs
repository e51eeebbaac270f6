//! Passkey login end to end in Debian's Chromium with the WebDriver virtual authenticator:
//! first-run link from the server's output → enrol → log out → log in without a user name →
//! the dashboard shows the user. Also: session rotation, replay refusal, revoke, restart, and
//! a failed login when user verification is off.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::browser::Browser;
use crate::harness::{client, free_port};

/// The real `panel serve`, with its stdout read for the first-run link.
pub(crate) struct PanelProcess {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl PanelProcess {
    pub(crate) fn start(data: &std::path::Path, port: u16) -> PanelProcess {
        Self::start_env(data, port, &[])
    }

    /// As `start`, with more (or other) environment variables.
    pub(crate) fn start_env(
        data: &std::path::Path,
        port: u16,
        env: &[(&str, String)],
    ) -> PanelProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_panel"));
        child
            .arg("serve")
            .env("PANEL_LISTEN", format!("127.0.0.1:{port}"))
            .env("PANEL_URL", format!("http://localhost:{port}"))
            .env("PANEL_DATA_DIR", data)
            .env_remove("PANEL_KEY")
            .env_remove("PANEL_SERVERS_URL");
        for (k, v) in env {
            child.env(k, v);
        }
        let mut child = child
            .stdout(Stdio::piped())
            // The log, kept beside the data (a test reads what it says).
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(data.join("panel.stderr"))
                    .unwrap(),
            )
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "panel did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        PanelProcess { child, lines }
    }

    pub(crate) fn enrolment_link(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                if let Some(i) = line.find("http://") {
                    if line.contains("/enrol/") {
                        return line[i..].trim().to_owned();
                    }
                }
            }
        }
        panic!("no enrolment link printed");
    }

    pub(crate) fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        assert!(self.child.wait().unwrap().success(), "clean exit");
    }
}

impl Drop for PanelProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET `path` with only the given session cookie; returns the status.
async fn status_with_cookie(base: &str, path: &str, cookie: &str) -> u16 {
    client()
        .get(format!("{base}{path}"))
        .header("Cookie", format!("panel_session={cookie}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Log in with the passkey through the login page and wait for the dashboard.
async fn log_in(b: &Browser, base: &str) {
    b.goto(&format!("{base}/login")).await;
    b.click("#login-button").await;
    b.wait_for("the dashboard after login", |url, src| {
        url == format!("{base}/") && src.contains("data-user-name")
    })
    .await;
}

const REPLAY_SCRIPT: &str = r#"
const done = arguments[arguments.length - 1];
const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const unb64 = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), c => c.charCodeAt(0)).buffer;
const csrf = async () => {
  const html = await (await fetch("/", { credentials: "same-origin" })).text();
  return new DOMParser().parseFromString(html, "text/html").querySelector('meta[name="csrf-token"]').content;
};
const post = async (url, body) => {
  const r = await fetch(url, { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": await csrf() },
    body: JSON.stringify(body) });
  return [r.status, await r.text()];
};
(async () => {
  const [, optsText] = await post("/login/options", {});
  const pk = JSON.parse(optsText).publicKey;
  pk.challenge = unb64(pk.challenge);
  const cred = await navigator.credentials.get({ publicKey: pk });
  const body = { id: cred.id, rawId: b64(cred.rawId), type: cred.type, extensions: {},
    response: { authenticatorData: b64(cred.response.authenticatorData), clientDataJSON: b64(cred.response.clientDataJSON),
                signature: b64(cred.response.signature), userHandle: b64(cred.response.userHandle) } };
  const first = await post("/login/finish", body);
  const again = await post("/login/finish", body);
  await post("/login/options", {});
  const replay = await post("/login/finish", body);
  done({ first: first[0], again: again[0], againText: again[1], replay: replay[0], replayText: replay[1] });
})().catch((e) => done({ error: String(e) }));
"#;

#[tokio::test]
async fn enrol_log_out_and_log_in_with_a_passkey_in_chromium() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://localhost:{port}");
    let panel = PanelProcess::start(data.path(), port);
    let link = panel.enrolment_link();
    assert!(link.starts_with(&format!("{base}/enrol/")), "{link}");

    let b = Browser::start().await;
    let authenticator = b.add_virtual_authenticator().await;

    // Enrol through the printed one-time link.
    b.goto(&link).await;
    b.type_into("#enrol-email", "ada@example.com").await;
    b.type_into("#enrol-name", "Ada Lovelace").await;
    b.click("#enrol-button").await;
    b.wait_for("the dashboard after enrolment", |url, src| {
        url == format!("{base}/") && src.contains("Ada Lovelace")
    })
    .await;
    b.screenshot("dashboard.png").await;
    // The link is used up: the same answer as an unknown link.
    let used = client().get(&link).send().await.unwrap();
    assert_eq!(used.status(), 404);

    // Log out, then log in without typing a user name.
    b.click("form[action='/logout'] button").await;
    b.wait_for("the login page", |url, _| {
        url == format!("{base}/login?logged_out=1")
    })
    .await;
    b.screenshot("login.png").await;
    // The login page stores nothing: its token is a cookie; the ceremony makes the session.
    let before_login = b
        .cookie("panel_prelogin")
        .await
        .expect("pre-login token cookie");
    log_in(&b, &base).await;
    let after_login = b.cookie("panel_session").await.unwrap();
    assert_ne!(before_login, after_login, "the session id changes at login");
    assert_eq!(
        status_with_cookie(&base, "/", &before_login).await,
        303,
        "a pre-login token is no session"
    );
    // The pre-login session the ceremony made was replaced by a new one at login.
    let pool = panel::db::open(data.path()).await.unwrap();
    let anonymous: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id IS NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(anonymous, 0, "the pre-login session is gone");
    pool.close().await;
    assert!(b.source().await.contains("Ada Lovelace"));

    // A browser response is good once: the same body again, or against a new challenge, fails.
    let replay = b.execute_async(REPLAY_SCRIPT).await;
    assert!(replay.get("error").is_none(), "{replay}");
    assert_eq!(replay["first"], 200, "{replay}");
    assert_eq!(replay["again"], 400, "{replay}");
    assert!(
        replay["againText"]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{replay}"
    );
    assert_eq!(replay["replay"], 403, "{replay}");
    assert!(
        replay["replayText"]
            .as_str()
            .unwrap()
            .contains("could not be verified"),
        "{replay}"
    );

    // Two sessions: revoking one in Settings logs that one out.
    let first_session = b.cookie("panel_session").await.unwrap();
    assert_eq!(status_with_cookie(&base, "/", &first_session).await, 200);
    b.delete_cookie("panel_session").await;
    log_in(&b, &base).await;
    let second_session = b.cookie("panel_session").await.unwrap();
    b.goto(&format!("{base}/settings")).await;
    let rows = b.source().await.matches("data-session-row").count();
    assert!(rows >= 2, "settings lists both sessions");
    b.click("tr[data-session-row]:not(:has(.badge-primary)) button[data-revoke]")
        .await;
    b.wait_for("the revoke notice", |_, src| {
        src.contains("Session revoked")
    })
    .await;
    assert_eq!(
        status_with_cookie(&base, "/", &first_session).await,
        303,
        "revoked session is logged out"
    );
    assert_eq!(status_with_cookie(&base, "/", &second_session).await, 200);

    // Sessions live in SQLite: a restart keeps the user logged in.
    panel.stop();
    let panel = PanelProcess::start(data.path(), port);
    assert_eq!(
        status_with_cookie(&base, "/", &second_session).await,
        200,
        "still logged in after restart"
    );
    b.goto(&format!("{base}/")).await;
    b.wait_for("the dashboard after restart", |_, src| {
        src.contains("Ada Lovelace")
    })
    .await;

    // Five minutes after the login a sensitive step asks again: the confirmation page's passkey
    // check marks the session fresh and goes back to where it was asked from.
    let pool = panel::db::open(data.path()).await.unwrap();
    sqlx::query("UPDATE sessions SET verified_at = '2020-01-01T00:00:00.000Z'")
        .execute(&pool)
        .await
        .unwrap();
    b.goto(&format!("{base}/settings/confirm?next=/settings/tokens"))
        .await;
    b.click("#confirm-passkey").await;
    b.wait_for("back on the tokens page", |url, _| {
        url == format!("{base}/settings/tokens")
    })
    .await;
    let verified: String = sqlx::query_scalar(
        "SELECT verified_at FROM sessions WHERE user_id IS NOT NULL ORDER BY last_seen_at DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(verified.as_str() > "2026", "{verified}");
    pool.close().await;
    // Now a token can be made in the browser, and it is shown once.
    b.type_into("#name", "from the browser").await;
    b.click("#new-token-form button[type=submit]").await;
    b.wait_for("the new token", |_, src| src.contains("data-new-token"))
        .await;

    // Without user verification the login fails, with a message that says why.
    b.set_user_verified(&authenticator, false).await;
    b.click("form[action='/logout'] button").await;
    b.wait_for("the login page", |url, _| {
        url == format!("{base}/login?logged_out=1")
    })
    .await;
    b.click("#login-button").await;
    b.wait_for("the login error", |_, src| {
        src.contains("data-shown=\"true\"")
    })
    .await;
    let src = b.source().await;
    assert!(src.contains("user verification"), "clear message");
    assert_eq!(
        b.url().await,
        format!("{base}/login?logged_out=1"),
        "still on the login page"
    );
    b.screenshot("login-without-user-verification.png").await;
    drop(b);
    panel.stop();
}
