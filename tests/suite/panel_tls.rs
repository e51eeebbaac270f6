//! The panel's own HTTPS: certificate files served and reloaded when they change (a bad pair is
//! refused and the old one kept), HSTS, plain HTTP redirected to the public URL, TLS below 1.2
//! refused; a certificate for its host from a real ACME server (pebble), renewed by the panel,
//! and passkey login through it in Chromium, which trusts only pebble's root.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use panel::config::TlsSource;

use crate::browser::Browser;
use crate::certificates::Pebble;
use crate::harness::{TestApp, free_port};

/// A CA of the test's own, and certificates for `panel.test` it signs.
struct Ca {
    params: rcgen::CertificateParams,
    key: rcgen::KeyPair,
    pem: String,
}

impl Ca {
    fn new() -> Ca {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Panel TLS Test CA");
        let pem = params.self_signed(&key).unwrap().pem();
        Ca { params, key, pem }
    }

    fn issue(&self, dir: &Path) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["panel.test".to_owned()])
            .unwrap()
            .signed_by(&key, &rcgen::Issuer::from_params(&self.params, &self.key))
            .unwrap();
        // Written beside and renamed over, as certbot and friends do.
        std::fs::write(dir.join("cert.tmp"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.tmp"), key.serialize_pem()).unwrap();
        std::fs::rename(dir.join("key.tmp"), dir.join("key.pem")).unwrap();
        std::fs::rename(dir.join("cert.tmp"), dir.join("cert.pem")).unwrap();
        serial_of(&cert.pem())
    }
}

fn serial_of(pem: &str) -> String {
    let info = panel::tls::inspect::leaf_info(pem).unwrap();
    info.serial.replace(':', "").to_ascii_lowercase()
}

/// The serial of the certificate served at `addr` for `panel.test`.
fn served_serial(addr: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(
            "openssl s_client -connect \"$1\" -servername panel.test </dev/null 2>/dev/null \
             | openssl x509 -noout -serial",
        )
        .args(["sh", addr])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("serial=")
        .to_ascii_lowercase()
}

/// curl over https to `panel.test` at `ip:port`, trusting `ca` only: (status, headers).
fn curl(ca: &Path, ip: &str, port: u16, path: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "--max-time",
            "10",
            "--cacert",
        ])
        .arg(ca)
        .args(["--resolve", &format!("panel.test:{port}:{ip}")])
        .arg(format!("https://panel.test:{port}{path}"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (
        status,
        format!("{text}{}", String::from_utf8_lossy(&out.stderr)),
    )
}

async fn files_panel(dir: &Path, port: u16, http: u16) -> TestApp {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    TestApp::spawn_configured(
        tempfile::tempdir().unwrap(),
        &format!("127.0.0.1:{port}"),
        &format!("https://panel.test:{port}"),
        |c| {
            c.tls = Some(TlsSource::Files { cert, key });
            c.http_listen = Some(format!("127.0.0.1:{http}").parse().unwrap());
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_panel_serves_https_from_files_reloads_them_and_redirects_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let first = ca.issue(dir.path());
    let (port, http) = (free_port(), free_port());
    let app = files_panel(dir.path(), port, http).await;
    let addr = format!("127.0.0.1:{port}");

    let (status, headers) = curl(&ca_file, "127.0.0.1", port, "/login");
    assert_eq!(status, 200, "{headers}");
    assert!(
        headers
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "{headers}"
    );
    assert_eq!(served_serial(&addr), first);
    // Nothing below TLS 1.2.
    let old = Command::new("sh")
        .arg("-c")
        .arg("openssl s_client -tls1_1 -connect \"$1\" -servername panel.test </dev/null >/dev/null 2>&1")
        .args(["sh", &addr])
        .status()
        .unwrap();
    assert!(!old.success(), "TLS 1.1 was accepted");

    // Plain HTTP goes to the public URL (not to whatever Host the request named).
    let out = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "-H",
            "Host: evil.example",
        ])
        .arg(format!("http://127.0.0.1:{http}/sites?x=1"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("HTTP/1.1 301"), "{text}");
    assert!(
        text.contains(&format!("location: https://panel.test:{port}/sites?x=1")),
        "{text}"
    );

    // A renewed certificate is served without a restart.
    let second = ca.issue(dir.path());
    assert_ne!(first, second);
    let deadline = Instant::now() + Duration::from_secs(15);
    while served_serial(&addr) != second {
        assert!(
            Instant::now() < deadline,
            "the new certificate was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A broken pair is refused; the served certificate stays.
    std::fs::write(
        dir.path().join("key.pem"),
        rcgen::KeyPair::generate().unwrap().serialize_pem(),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(served_serial(&addr), second);
    assert_eq!(curl(&ca_file, "127.0.0.1", port, "/login").0, 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_panel_gets_its_certificate_from_acme_and_renews_it() {
    // The CA checks http://panel.test/ on port 80: the panel's plain-HTTP listener on a
    // loopback address of its own, where every test name resolves.
    let ip = "127.0.0.80";
    let pebble = Pebble::start_at(ip, ip, 30);
    let port = free_port();
    let app = TestApp::spawn_configured(
        tempfile::tempdir().unwrap(),
        &format!("{ip}:{port}"),
        &format!("https://panel.test:{port}"),
        |c| {
            pebble.configure(&mut c.acme);
            c.tls = Some(TlsSource::Acme);
            c.http_listen = Some(format!("{ip}:80").parse().unwrap());
        },
    )
    .await;
    let addr = format!("{ip}:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = curl(&pebble.issued_root, ip, port, "/login");
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no certificate from pebble: {body}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let first = served_serial(&addr);
    let stored = panel::db::certificates::panel_get(app.db(), "panel.test")
        .await
        .unwrap()
        .expect("stored");
    assert!(stored.chain_pem.contains("BEGIN CERTIFICATE"));
    assert!(!String::from_utf8_lossy(&stored.key_encrypted).contains("PRIVATE KEY"));
    // Renewed at two thirds of its 30 s life, without help, and served.
    let deadline = Instant::now() + Duration::from_secs(60);
    while served_serial(&addr) == first {
        assert!(
            Instant::now() < deadline,
            "the panel's certificate was not renewed"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(curl(&pebble.issued_root, ip, port, "/login").0, 200);
    // Passkeys through it, trusting pebble's root only.
    passkey_login_in_chromium(
        &app,
        &format!("https://panel.test:{port}"),
        ip,
        &pebble.issued_root,
    )
    .await;
    app.stop().await;
}

/// Enrol and log in with a passkey in Chromium at `base`, which resolves `panel.test` to `ip`
/// and trusts `ca_file` (its NSS database) and nothing else: no certificate error is ignored,
/// so the page is the secure context passkeys require.
async fn passkey_login_in_chromium(app: &TestApp, base: &str, ip: &str, ca_file: &Path) {
    let link = panel::auth::first_run_link(app.db(), &app.state().config)
        .await
        .unwrap()
        .unwrap();
    assert!(link.starts_with(&format!("{base}/enrol/")), "{link}");
    let home = tempfile::tempdir().unwrap();
    let nssdb = home.path().join(".pki/nssdb");
    std::fs::create_dir_all(&nssdb).unwrap();
    let db = format!("sql:{}", nssdb.display());
    for args in [
        vec!["-N", "-d", &db, "--empty-password"],
        vec![
            "-A",
            "-d",
            &db,
            "-n",
            "panel-test-ca",
            "-t",
            "C,,",
            "-i",
            ca_file.to_str().unwrap(),
        ],
    ] {
        let ok = Command::new("certutil").args(&args).status().unwrap();
        assert!(ok.success(), "certutil {args:?}");
    }
    let b = Browser::start_with(
        &[format!("--host-resolver-rules=MAP panel.test {ip}")],
        Some(home.path()),
    )
    .await;
    b.add_virtual_authenticator().await;
    b.goto(&link).await;
    b.type_into("#enrol-email", "ada@example.com").await;
    b.type_into("#enrol-name", "Ada Lovelace").await;
    b.click("#enrol-button").await;
    b.wait_for("the dashboard after enrolment over https", |url, src| {
        url == format!("{base}/") && src.contains("Ada Lovelace")
    })
    .await;
    b.click("form[action='/logout'] button").await;
    b.wait_for("the login page", |url, _| {
        url == format!("{base}/login?logged_out=1")
    })
    .await;
    b.goto(&format!("{base}/login")).await;
    b.click("#login-button").await;
    b.wait_for("the dashboard after login over https", |url, src| {
        url == format!("{base}/") && src.contains("data-user-name")
    })
    .await;
    // Over https the session cookie is `__Host-` prefixed (Secure, whole host, path /).
    let cookie = b
        .cookie("__Host-panel_session")
        .await
        .expect("session cookie");
    assert!(!cookie.is_empty());
}
