//! Shared test helpers: boot the real app on 127.0.0.1:0 with a temporary data dir.
//! Later issues add real nodes (sshd), the browser and the SMTP sink here.
#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

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
        Self::spawn_with(dir, listen, url, None).await
    }

    /// As `spawn_at`, mailing SELinux alerts through `smtp`.
    pub async fn spawn_with(
        dir: TempDir,
        listen: &str,
        url: &str,
        smtp: Option<panel::config::SmtpConfig>,
    ) -> TestApp {
        Self::spawn_configured(dir, listen, url, |c| c.smtp = smtp).await
    }

    /// As `spawn_at`, with further settings made by `configure`.
    pub async fn spawn_configured(
        dir: TempDir,
        listen: &str,
        url: &str,
        configure: impl FnOnce(&mut Config),
    ) -> TestApp {
        let mut config = Config::for_data_dir(dir.path());
        config.listen = listen.parse().unwrap();
        config.url = url.to_owned();
        configure(&mut config);
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

    /// The sshd's host key as a setup script reports it (`TYPE BASE64`).
    pub fn host_key_line(&self) -> String {
        let line = std::fs::read_to_string(self.dir.path().join("host_ed25519.pub")).unwrap();
        line.split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
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
    /// A new owner, logged in (a session as a passkey login makes it).
    pub async fn login_as(&self, email: &str, name: &str) -> LoggedIn {
        self.login_with_role(email, name, panel::domain::Role::Owner)
            .await
    }

    /// A new user with this role, logged in.
    pub async fn login_with_role(
        &self,
        email: &str,
        name: &str,
        role: panel::domain::Role,
    ) -> LoggedIn {
        let user_id = panel::ids::UserId::generate();
        let mut conn = self.db().acquire().await.unwrap();
        panel::db::users::insert(&mut conn, user_id, email, name, role)
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
    /// A page's HTML.
    pub async fn text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

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
    /// The lock on `number`, released after `drop` has stopped the node.
    _claim: std::fs::File,
}

/// Where node numbers are claimed: `K.lock`, locked while node K lives.
pub fn node_locks() -> std::path::PathBuf {
    std::env::temp_dir().join("panel-test-nodes")
}

/// A free node number, claimed by a lock on `node_locks()/K.lock` that is held as long as the
/// returned file is open. `node.sh start K` first stops whatever node K was, so test processes
/// running at once (the suite, a benchmark, a second `cargo test`) must never pick the same K;
/// a counter per process did (each began at 20).
// `File::try_lock` is newer than the panel's MSRV (1.85); only the tests use it, and they need a
// stable toolchain from 1.89 on (the build image has 1.95).
#[allow(clippy::incompatible_msrv)]
pub fn claim_node_number() -> (u32, std::fs::File) {
    let dir = node_locks();
    std::fs::create_dir_all(&dir).unwrap();
    for n in 20..250 {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!("{n}.lock")))
            .unwrap();
        match file.try_lock() {
            Ok(()) => return (n, file),
            Err(std::fs::TryLockError::WouldBlock) => continue,
            Err(std::fs::TryLockError::Error(e)) => panic!("locking node number {n}: {e}"),
        }
    }
    panic!("no free test node number in 20..250");
}

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
        let (number, claim) = claim_node_number();
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
            _claim: claim,
            number,
            ip: format!("10.200.{number}.2"),
            gateway: format!("10.200.{number}.1"),
            root_key,
            _keys: keys,
        }
    }

    /// OpenSSH's client running `command` as root on the node.
    fn ssh_root(&self, command: &str) -> std::process::Command {
        ssh_root_at(&self.root_key, &self.ip, command)
    }

    /// Start `command` as root on the node and hand back the running `ssh` with its stdin open.
    pub fn root_with_stdin(&self, command: &str) -> std::process::Child {
        self.ssh_root(command)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// `curl` on the node against its own nginx for `host`: (status, body); status 0 when
    /// nothing answered at all.
    pub fn http(&self, host: &str, path: &str) -> (u16, String) {
        http_on(self, host, path)
    }

    /// Run `command` as root on the node, with `stdin` piped in.
    pub fn root(&self, command: &str, stdin: &str) -> std::process::Output {
        run_with_stdin(self.ssh_root(command), stdin)
    }
}

impl IsolatedNode {
    /// The SHA256 fingerprint of the node's ed25519 host key, as its files say.
    pub fn host_fingerprint(&self) -> String {
        self.must("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub", "")
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_owned()
    }

    /// Give the node's sshd new host keys, as an administrator re-keying it would (SIGHUP makes
    /// sshd read them), and wait until it serves them; the new ed25519 fingerprint.
    pub fn rekey_sshd(&self) -> String {
        // The new key's fingerprint is read before the HUP: sshd stops listening for a moment.
        let out = self.must(
            "rm -f /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && \
             ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub && kill -HUP \"$(pgrep -o -x sshd)\"",
            "",
        );
        let new = out.split_whitespace().nth(1).unwrap().to_owned();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let served = self.root(
                "ssh-keyscan -t ed25519 127.0.0.1 2>/dev/null | ssh-keygen -lf - 2>/dev/null",
                "",
            );
            if String::from_utf8_lossy(&served.stdout).contains(&new) {
                return new;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "node {}: sshd does not serve its new key",
                self.number
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// A private link from this node to `other` (tests/nodes/node.sh link); `other`'s address
    /// as this node reaches it.
    pub fn link(&self, other: &IsolatedNode) -> String {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/nodes/node.sh");
        let out = std::process::Command::new(script)
            .args(["link", &self.number.to_string(), &other.number.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "nodes {} and {} were not linked: {}",
            self.number,
            other.number,
            String::from_utf8_lossy(&out.stderr)
        );
        format!("10.201.{}.2", self.number)
    }

    /// Run `command` as root and insist that it worked; its stdout.
    pub fn must(&self, command: &str, stdin: &str) -> String {
        let out = self.root(command, stdin);
        assert!(
            out.status.success(),
            "`{command}` failed on node {}: {}{}",
            self.number,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// A git host: an isolated node running sshd, whose `git` user has only `git-shell` and one bare
/// repository, `/srv/git/app.git` (branch `main`), reached from a site's node over a private
/// link. Commits are made on the node itself and pushed to it.
pub struct GitHost {
    pub node: IsolatedNode,
    /// `git@ADDRESS:/srv/git/app.git`, as the site's node reaches it.
    pub url: String,
}

impl GitHost {
    pub fn start_for(site_node: &IsolatedNode) -> GitHost {
        let node = IsolatedNode::start();
        let address = site_node.link(&node);
        node.must(
            "set -e
            useradd --create-home --shell /usr/bin/git-shell git
            install -d -o git -g git -m 0700 /home/git/.ssh
            install -o git -g git -m 0600 /dev/null /home/git/.ssh/authorized_keys
            install -d -o git -g git /srv/git
            runuser -u git -- git init --quiet --bare --initial-branch=main /srv/git/app.git
            git init --quiet --initial-branch=main /root/work
            git -C /root/work remote add origin /srv/git/app.git
            # Root pushes into the git user's repository (a test's shortcut for a developer).
            git config --global --add safe.directory /srv/git/app.git",
            "",
        );
        GitHost {
            url: format!("git@{address}:/srv/git/app.git"),
            node,
        }
    }

    /// Let `public_key` (a deploy key) fetch over ssh.
    pub fn authorize(&self, public_key: &str) {
        self.node.must(
            "cat >>/home/git/.ssh/authorized_keys",
            &format!("{}\n", public_key.trim()),
        );
    }

    /// Commit `files` (path, content) with `message` on `branch` and push; the commit's hash.
    pub fn commit_on(&self, branch: &str, files: &[(&str, &str)], message: &str) -> String {
        for (path, content) in files {
            self.node.must(
                &format!("install -D -m 0644 /dev/stdin '/root/work/{path}'"),
                content,
            );
        }
        let out = self.node.must(
            &format!(
                "set -e; cd /root/work; git checkout --quiet -B '{branch}'; git add -A
                git -c user.name=Dev -c user.email=dev@example.com commit --quiet --allow-empty -F -
                git push --quiet --force origin 'HEAD:{branch}' 2>&1
                chown -R git:git /srv/git
                git rev-parse HEAD"
            ),
            message,
        );
        out.lines().last().unwrap_or_default().trim().to_owned()
    }

    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        self.commit_on("main", files, message)
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

/// What the panel's tests need of a node: where it is, how the panel reaches it (`gateway`,
/// the machine's address on the node's link, where a panel listens for its callbacks), and a
/// root shell on it, as its operator has.
/// OpenSSH's client running `command` as root at `ip` with `key` (no configuration, no known
/// hosts: the test's own nodes only).
pub fn ssh_root_at(key: &std::path::Path, ip: &str, command: &str) -> std::process::Command {
    let mut ssh = std::process::Command::new("ssh");
    ssh.args(["-F", "/dev/null", "-i"])
        .arg(key)
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
        .arg(format!("root@{ip}"))
        .arg(command);
    ssh
}

/// Run `command` with `stdin` piped in; its output.
pub fn run_with_stdin(mut command: std::process::Command, stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = command
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

/// `curl` on `node` against its own nginx for `host`: (status, body); status 0 when nothing
/// answered at all.
pub fn http_on(node: &impl TestNode, host: &str, path: &str) -> (u16, String) {
    let out = node.root(
        &format!(
            "curl -s -o /tmp/body -w '%{{http_code}}' -H 'Host: {host}' 'http://127.0.0.1{path}'; cat /tmp/body 2>/dev/null; rm -f /tmp/body"
        ),
        "",
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (code, body) = text.split_at(3.min(text.len()));
    (code.parse().unwrap_or(0), body.to_owned())
}

pub trait TestNode {
    fn ip(&self) -> &str;
    fn gateway(&self) -> &str;
    /// A short name for the server row (`node-20`).
    fn label(&self) -> String;
    fn root(&self, command: &str, stdin: &str) -> std::process::Output;
}

impl TestNode for IsolatedNode {
    fn ip(&self) -> &str {
        &self.ip
    }
    fn gateway(&self) -> &str {
        &self.gateway
    }
    fn label(&self) -> String {
        format!("node-{}", self.number)
    }
    fn root(&self, command: &str, stdin: &str) -> std::process::Output {
        IsolatedNode::root(self, command, stdin)
    }
}

/// A panel for `node`, a logged-in user, and a server row for the node with its setup URL.
pub async fn panel_for<N: TestNode>(
    node: N,
) -> (N, TestApp, LoggedIn, panel::ids::ServerId, String) {
    let (app, user) = panel_on(&node).await;
    let (id, setup_url) = add_server(&app, &user, &node).await;
    (node, app, user, id, setup_url)
}

/// A panel listening on `node`'s gateway (the address nodes reach it at), a logged-in user and
/// an SSH key for servers.
pub async fn panel_on(node: &impl TestNode) -> (TestApp, LoggedIn) {
    panel_on_with(node, None).await
}

/// As `panel_on`, with alert mail settings.
pub async fn panel_on_with(
    node: &impl TestNode,
    smtp: Option<panel::config::SmtpConfig>,
) -> (TestApp, LoggedIn) {
    panel_on_configured(node, |c| c.smtp = smtp).await
}

/// As `panel_on`, with further settings made by `configure`.
pub async fn panel_on_configured(
    node: &impl TestNode,
    configure: impl FnOnce(&mut Config),
) -> (TestApp, LoggedIn) {
    let port = free_port();
    let url = format!("http://{}:{port}", node.gateway());
    let app = TestApp::spawn_configured(
        tempfile::tempdir().unwrap(),
        &format!("{}:{port}", node.gateway()),
        &url,
        configure,
    )
    .await;
    let user = app.login_as("ops@example.com", "Ops").await;
    assert_eq!(
        user.post_form("/ssh-keys", &[("name", "panel"), ("key_type", "ed25519")])
            .await
            .status(),
        303
    );
    (app, user)
}

/// Add `node` as a Debian 12 server with PHP 8.2 through the form; its id and setup URL.
pub async fn add_server(
    app: &TestApp,
    user: &LoggedIn,
    node: &impl TestNode,
) -> (panel::ids::ServerId, String) {
    let key_id = panel::db::ssh_keys::list(app.db()).await.unwrap()[0]
        .id
        .to_string();
    let name = node.label();
    let hostname = format!("{}.example.com", node.label().replace('-', ""));
    let resp = user
        .post_form(
            "/servers",
            &[
                ("name", &name),
                ("ip_address", node.ip()),
                ("hostname", &hostname),
                ("os_version", "debian_12"),
                ("ssh_port", "22"),
                ("ssh_user", "panel"),
                ("ssh_key_id", &key_id),
                ("php_versions", "8.2"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303, "adding a server redirects to its page");
    let page = resp.headers()["location"].to_str().unwrap().to_owned();
    let html = user.text(&page).await;
    let setup_url = setup_url_in(&html);
    let id: panel::ids::ServerId =
        sqlx::query_scalar("SELECT id FROM servers WHERE ip_address = ?")
            .bind(node.ip())
            .fetch_one(app.db())
            .await
            .unwrap();
    let setup_url = setup_url.to_owned();
    (id, setup_url)
}

/// The setup URL in a server page's setup command (`curl -fsSL URL | sudo bash`).
pub fn setup_url_in(html: &str) -> &str {
    let rest = &html[html.find("data-setup-command").expect("a setup command")..];
    let url = &rest[rest.find("http").unwrap()..];
    &url[..url.find([' ', '<', '\'']).unwrap()]
}

/// Run the setup script on `node` as its operator would, and wait for the server to be active.
pub async fn onboard(
    app: &TestApp,
    node: &impl TestNode,
    id: panel::ids::ServerId,
    setup_url: &str,
) {
    let script = client()
        .get(setup_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let run = node.root("bash -s", &script);
    assert!(
        run.status.success(),
        "setup failed: {}",
        String::from_utf8_lossy(&run.stdout)
    );
    wait_for(app, id, "active").await;
}

/// Start a web node's database servers, as its init system would (idempotent).
pub fn start_databases(node: &IsolatedNode) {
    let out = node.root(
        "set -e
        install -d -o mysql -g mysql /run/mysqld
        pgrep -x mariadbd >/dev/null || setsid -f /usr/sbin/mariadbd --user=mysql >>/var/log/mariadbd.log 2>&1 </dev/null
        for _ in $(seq 100); do mariadb -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done
        mariadb -e 'SELECT 1' >/dev/null
        pg_ctlcluster 15 main status >/dev/null || pg_ctlcluster 15 main start",
        "",
    );
    assert!(
        out.status.success(),
        "databases did not start: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub async fn wait_for(
    app: &TestApp,
    id: panel::ids::ServerId,
    status: &str,
) -> panel::db::servers::Server {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = panel::db::servers::get(app.db(), id)
            .await
            .unwrap()
            .unwrap();
        if s.status.as_str() == status {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "not {status}: {:?} {:?}",
            s.status,
            s.status_reason
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn wait_job(app: &TestApp, id: panel::ids::JobId) -> panel::db::jobs::Job {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let j = panel::db::jobs::get(app.db(), id).await.unwrap().unwrap();
        if matches!(j.status.as_str(), "success" | "failed" | "interrupted") {
            return j;
        }
        assert!(Instant::now() < deadline, "job stuck: {j:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Create a site through the form; its id.
pub async fn create_site(
    app: &TestApp,
    user: &LoggedIn,
    server: panel::ids::ServerId,
    fields: &[(&str, &str)],
) -> panel::ids::SiteId {
    let server = server.to_string();
    let mut form = vec![("server_id", server.as_str())];
    form.extend_from_slice(fields);
    let resp = user.post_form("/sites", &form).await;
    let status = resp.status();
    let body = resp.text().await.unwrap();
    assert_eq!(status, 303, "{body}");
    let domain = fields.iter().find(|(k, _)| *k == "domain").unwrap().1;
    sqlx::query_scalar("SELECT id FROM sites WHERE domain = ?")
        .bind(domain)
        .fetch_one(app.db())
        .await
        .unwrap()
}

/// Wait until the site has `want` and its last job finished; panics with the job's log when it
/// settles otherwise.
pub async fn wait_site(
    app: &TestApp,
    id: panel::ids::SiteId,
    want: panel::domain::SiteStatus,
) -> panel::db::sites::Site {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let s = panel::db::sites::get(app.db(), id).await.unwrap().unwrap();
        if s.status == want {
            return s;
        }
        // Settled: a final status and the site's last job finished (a suspend runs while the
        // site is still `active`).
        let job_done = match s.last_job_id {
            Some(j) => {
                let job = panel::db::jobs::get(app.db(), j).await.unwrap().unwrap();
                matches!(job.status.as_str(), "success" | "failed" | "interrupted")
            }
            None => false,
        };
        let settled = job_done
            && matches!(
                s.status,
                panel::domain::SiteStatus::Active
                    | panel::domain::SiteStatus::Error
                    | panel::domain::SiteStatus::Suspended
            );
        if settled || Instant::now() > deadline {
            let log = match s.last_job_id {
                Some(j) => panel::db::jobs::log_since(app.db(), j, 0)
                    .await
                    .unwrap()
                    .iter()
                    .map(|l| l.line.clone())
                    .collect::<Vec<_>>()
                    .join("\n"),
                None => String::new(),
            };
            if settled && s.status != want {
                panic!(
                    "site is {:?} ({:?}), not {want:?}:\n{log}",
                    s.status, s.status_reason
                );
            }
            assert!(
                Instant::now() < deadline,
                "site stuck {:?}:\n{log}",
                s.status
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A real SMTP server over TCP on loopback that keeps every message it accepts (a sink). With
/// `refuse` set it answers MAIL FROM with a temporary failure, as a relay that is down would.
pub struct SmtpSink {
    pub port: u16,
    pub messages: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    pub refuse: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let refuse = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (store, refusing) = (messages.clone(), refuse.clone());
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (store, refusing) = (store.clone(), refusing.clone());
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
                    let mut data: Option<String> = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(body) = data.as_mut() {
                            if line == "." {
                                store.lock().unwrap().push(std::mem::take(body));
                                data = None;
                                let _ = write.write_all(b"250 queued\r\n").await;
                            } else {
                                body.push_str(line.strip_prefix('.').unwrap_or(&line));
                                body.push('\n');
                            }
                            continue;
                        }
                        let verb = line
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250-sink.test\r\n250 8BITMIME\r\n",
                            "MAIL" if refusing.load(Ordering::SeqCst) => b"451 try again later\r\n",
                            "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
                            "DATA" => {
                                data = Some(String::new());
                                b"354 go on\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"502 not implemented\r\n",
                        };
                        let _ = write.write_all(reply).await;
                    }
                });
            }
        });
        SmtpSink {
            port,
            messages,
            refuse,
        }
    }

    pub fn config(&self, digest: Duration) -> panel::config::SmtpConfig {
        panel::config::SmtpConfig {
            host: "127.0.0.1".into(),
            port: self.port,
            tls: panel::config::SmtpTls::None,
            username: None,
            password: None,
            from: "panel@example.com".parse().unwrap(),
            to: vec!["ops@example.com".parse().unwrap()],
            digest,
        }
    }

    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }
}

/// Wait until the audit collector has found the panel's server and stored its first position
/// in the audit log (so a line appended now is a new one).
pub async fn wait_first_audit_read(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while sqlx::query_scalar::<_, i64>("SELECT count(*) FROM selinux_log_positions")
        .fetch_one(app.db())
        .await
        .unwrap()
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the collector never read the node's log"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The job a change started, from the address it answers with (`…?job=ID`, a 303); `None`
/// when it started none (the change waits for the site to run again).
pub async fn started_job(resp: reqwest::Response) -> Option<panel::ids::JobId> {
    let status = resp.status();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let body = resp.text().await.unwrap();
    assert_eq!(status, 303, "{body}");
    location?
        .split_once("?job=")
        .map(|(_, j)| j.parse().unwrap())
}

/// Wait for `job` to end and insist it succeeded; its log.
pub async fn job_succeeded(app: &TestApp, job: panel::ids::JobId) -> String {
    let j = wait_job(app, job).await;
    let log = panel::db::jobs::log_since(app.db(), job, 0)
        .await
        .unwrap()
        .iter()
        .map(|l| l.line.clone())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(j.status.as_str(), "success", "{j:?}\n{log}");
    log
}

/// Post a form typed wrong: insist on a 422 that says every one of `messages`; the answer.
pub async fn refused_with(
    user: &LoggedIn,
    path: &str,
    fields: &[(&str, &str)],
    messages: &[&str],
) -> String {
    let resp = user.post_form(path, fields).await;
    assert_eq!(resp.status(), 422);
    let body = resp.text().await.unwrap();
    for message in messages {
        assert!(body.contains(message), "{message}: {body}");
    }
    body
}

/// Delete a site through the UI, its files too, and wait until it is gone.
pub async fn delete_site(app: &TestApp, user: &LoggedIn, site: panel::ids::SiteId, domain: &str) {
    let resp = user
        .post_form(
            &format!("/sites/{site}/delete"),
            &[("confirm", domain), ("delete_files", "1")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let deadline = Instant::now() + Duration::from_secs(60);
    while panel::db::sites::get(app.db(), site)
        .await
        .unwrap()
        .is_some()
    {
        assert!(Instant::now() < deadline, "the site was not deleted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
