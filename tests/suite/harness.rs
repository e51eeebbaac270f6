//! Shared test helpers: boot the real app on 127.0.0.1:0 with a temporary data dir.
//! Later issues add real nodes (sshd), the browser and the SMTP sink here.
#![allow(dead_code)]

use std::path::Path;

use panel::app::{Running, start};
use panel::config::Config;
use panel::db::Pool;
use tempfile::TempDir;

pub struct TestApp {
    running: Option<Running>,
    pub base: String,
    pub dir: TempDir,
    pub client: reqwest::Client,
}

impl TestApp {
    /// A fresh panel with an empty database.
    pub async fn spawn() -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::spawn_in(dir).await
    }

    /// A panel on an existing data dir (to test restarts).
    pub async fn spawn_in(dir: TempDir) -> TestApp {
        // Served on a free loopback port whose `localhost` URL is also the configured public
        // URL, as passkeys and the Origin check require.
        let port = free_port();
        Self::spawn_at(
            dir,
            &format!("127.0.0.1:{port}"),
            &format!("http://localhost:{port}"),
        )
        .await
    }

    /// A panel listening on `listen` with public URL `url` (e.g. a test node's gateway address).
    pub async fn spawn_at(dir: TempDir, listen: &str, url: &str) -> TestApp {
        let mut config = Config::for_data_dir(dir.path());
        config.listen = listen.parse().unwrap();
        config.url = url.to_owned();
        let running = start(config).await.expect("panel starts");
        let base = url.to_owned();
        TestApp {
            running: Some(running),
            base,
            dir,
            client: client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn db(&self) -> &Pool {
        &self.running.as_ref().expect("running").state.db
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// Stop gracefully and hand back the data dir.
    pub async fn stop(mut self) -> TempDir {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("clean stop");
        }
        self.dir
    }
}

/// An HTTP client that never follows redirects (tests look at them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Every `src`, `href` and `action` attribute value in an HTML document.
pub fn referenced_urls(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in [" src=\"", " href=\"", " action=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_owned());
            }
        }
    }
    out
}

impl TestApp {
    pub fn state(&self) -> &panel::web::AppState {
        &self.running.as_ref().expect("running").state
    }

    pub fn secrets(&self) -> &panel::crypto::SecretBox {
        &self.state().secrets
    }
}

/// A real OpenSSH server on a loopback port, logging in as root with the given authorized keys.
/// Stopped (killed) on drop.
pub struct SshNode {
    pub port: u16,
    pub dir: TempDir,
    child: std::process::Child,
}

impl SshNode {
    pub fn start(authorized_keys: &str) -> SshNode {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        std::fs::create_dir_all("/run/sshd").expect("sshd privilege separation dir");
        let host_key = d.join("host_ed25519");
        let ok = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&host_key)
            .status()
            .expect("ssh-keygen runs")
            .success();
        assert!(ok, "host key generated");
        std::fs::write(d.join("authorized_keys"), authorized_keys).unwrap();
        std::fs::set_permissions(
            d.join("authorized_keys"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let port = free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
             Subsystem sftp internal-sftp\n",
            hk = host_key.display(),
            d = d.display()
        );
        let cfg = d.join("sshd_config");
        std::fs::write(&cfg, config).unwrap();
        let child = std::process::Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&cfg)
            .stderr(std::fs::File::create(d.join("sshd.log")).unwrap())
            .spawn()
            .expect("sshd starts (install openssh-server)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "sshd did not listen on {port}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        SshNode { port, dir, child }
    }

    /// Run `command` on the node with OpenSSH's client and the private key in `key_file`.
    pub fn ssh(&self, key_file: &Path, command: &str) -> std::process::Output {
        std::process::Command::new("ssh")
            .args(["-F", "/dev/null", "-i"])
            .arg(key_file)
            .args([
                "-p",
                &self.port.to_string(),
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "LogLevel=ERROR",
                "root@127.0.0.1",
                command,
            ])
            .output()
            .expect("ssh runs")
    }
}

impl SshNode {
    /// Kill sshd and every session process it started (as a crash or a reboot would).
    pub fn kill_all(&mut self) {
        // The per-connection sshd processes are the listener's children.
        let _ = std::process::Command::new("pkill")
            .args(["-KILL", "-P", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SshNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP port free on loopback right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A user logged in through a session row made directly in the database (the passkey ceremony
/// itself is covered by the browser test); requests carry the cookie, Origin and CSRF token.
pub struct LoggedIn {
    pub user_id: panel::ids::UserId,
    pub cookie: String,
    pub csrf: String,
    base: String,
    origin: String,
}

impl TestApp {
    pub async fn login_as(&self, email: &str, name: &str) -> LoggedIn {
        let user_id = panel::ids::UserId::generate();
        let mut conn = self.db().acquire().await.unwrap();
        panel::db::users::insert(&mut conn, user_id, email, name)
            .await
            .unwrap();
        drop(conn);
        let token = panel::crypto::random::token();
        let csrf = panel::crypto::random::token();
        panel::db::sessions::insert(
            self.db(),
            &panel::db::sessions::NewSession {
                token_hash: &panel::auth::hash_token(&token),
                user_id: Some(user_id),
                csrf_token: &csrf,
                ip: Some("127.0.0.1"),
                user_agent: Some("test"),
                expires_at: panel::auth::after(std::time::Duration::from_secs(3600)),
            },
        )
        .await
        .unwrap();
        LoggedIn {
            user_id,
            cookie: token,
            csrf,
            base: self.base.clone(),
            origin: self.state().config.origin(),
        }
    }
}

impl LoggedIn {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        client()
            .get(format!("{}{path}", self.base))
            .header("Cookie", format!("panel_session={}", self.cookie))
            .send()
            .await
            .unwrap()
    }

    /// POST a form as the browser would: with the CSRF field and the panel's Origin.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut body: Vec<(&str, &str)> = fields.to_vec();
        body.push(("csrf_token", &self.csrf));
        client()
            .post(format!("{}{path}", self.base))
            .header("Cookie", format!("panel_session={}", self.cookie))
            .header("Origin", &self.origin)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&body).unwrap())
            .send()
            .await
            .unwrap()
    }

    /// POST without any CSRF token or Origin, to check refusals.
    pub async fn post_raw(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> reqwest::Response {
        let mut req = client()
            .post(format!("{}{path}", self.base))
            .header("Cookie", format!("panel_session={}", self.cookie))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }
}

/// An isolated Debian node (network, mount, PID and UTS namespaces over the cached rootfs; see
/// tests/nodes/node.sh): reachable at `ip` (10.200.K.2), the machine at `gateway` (10.200.K.1).
pub struct IsolatedNode {
    pub number: u32,
    pub ip: String,
    pub gateway: String,
    /// Root's key for the node, to run things as an operator would.
    pub root_key: std::path::PathBuf,
    _keys: TempDir,
}

static NODE_NUMBERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(20);

impl IsolatedNode {
    pub fn start() -> IsolatedNode {
        Self::start_flavor("")
    }

    /// A node with nginx, PHP-FPM 8.2, MariaDB and PostgreSQL installed (not running: like a
    /// server after the packages, before its init system starts them).
    pub fn start_web() -> IsolatedNode {
        Self::start_flavor("web")
    }

    fn start_flavor(flavor: &str) -> IsolatedNode {
        let number = NODE_NUMBERS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let keys = tempfile::tempdir().unwrap();
        let root_key = keys.path().join("root");
        let ok = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&root_key)
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/nodes/node.sh");
        let out = std::process::Command::new(script)
            .args(["start", &number.to_string()])
            .arg(root_key.with_extension("pub"))
            .env("PANEL_NODE_FLAVOR", flavor)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "node {number} did not start (tests/run.sh builds its rootfs): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        IsolatedNode {
            number,
            ip: format!("10.200.{number}.2"),
            gateway: format!("10.200.{number}.1"),
            root_key,
            _keys: keys,
        }
    }

    /// Run `command` as root on the node, with `stdin` piped in.
    pub fn root(&self, command: &str, stdin: &str) -> std::process::Output {
        use std::io::Write;
        let mut child = std::process::Command::new("ssh")
            .args(["-F", "/dev/null", "-i"])
            .arg(&self.root_key)
            .args([
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "LogLevel=ERROR",
            ])
            .arg(format!("root@{}", self.ip))
            .arg(command)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

impl Drop for IsolatedNode {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/nodes/node.sh");
        let _ = std::process::Command::new(script)
            .args(["stop", &self.number.to_string()])
            .status();
    }
}
