//! HTTPS for sites against a real ACME server: Debian's `pebble`, with `pebble-challtestsrv`
//! answering its DNS (every test name resolves to the node), both on the node's private link.
//! A site gets a certificate for its domain and alias over HTTP-01 through its own vhost, is
//! served over https (checked with curl against pebble's root), redirects and sends HSTS as
//! toggled, is renewed by the panel alone, reports and mails a broken renewal with its cause and
//! recovers, refuses bad uploads field by field, serves a good upload, and leaves nothing on
//! the node when deleted.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use panel::domain::SiteStatus;
use tempfile::TempDir;

use crate::harness::{
    IsolatedNode, SmtpSink, TestNode, create_site, free_port, onboard, panel_on_configured,
    wait_for, wait_job, wait_site,
};

/// pebble and its DNS, for one node: listening on the node's gateway only.
pub struct Pebble {
    pub directory: String,
    /// Trusts pebble's own HTTPS (the directory).
    pub ca_root: PathBuf,
    /// The root that signs what pebble issues (regenerated at every start).
    pub issued_root: PathBuf,
    management: String,
    dns_management: String,
    children: Vec<Child>,
    _dir: TempDir,
}

/// Whether something listens at `addr` within 20 s.
fn port_opens(addr: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

impl Pebble {
    /// Start pebble for `node`, its certificates valid `validity` seconds, every name
    /// resolving to the node.
    pub fn start(node: &impl TestNode, validity: u64) -> Pebble {
        Pebble::start_at(node.gateway(), node.ip(), validity)
    }

    /// pebble listening on `host`, every name resolving to `target`.
    pub fn start_at(host: &str, target: &str, validity: u64) -> Pebble {
        Pebble::start_full(host, target, validity, None)
    }

    /// As `start_at`, asking `dns` (a real DNS server) instead of the challenge test server.
    pub fn start_full(host: &str, target: &str, validity: u64, resolver: Option<&str>) -> Pebble {
        let dir = tempfile::tempdir().unwrap();
        let host = host.to_owned();
        // pebble's own HTTPS: a throwaway CA and a certificate for its address.
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "pebble test directory CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec![host.clone()])
            .unwrap()
            .signed_by(&leaf_key, &rcgen::Issuer::from_params(&ca, &ca_key))
            .unwrap();
        let ca_root = dir.path().join("directory-ca.pem");
        std::fs::write(&ca_root, ca_cert.pem()).unwrap();
        std::fs::write(dir.path().join("cert.pem"), leaf.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), leaf_key.serialize_pem()).unwrap();
        // Up to three tries, each on ports picked afresh.
        let mut attempt = 0;
        let (port, mport, dns_mgmt, dns_server, pebble) = loop {
            attempt += 1;
            let (port, mport, dns, dns_mgmt) = (free_port(), free_port(), free_port(), free_port());
            let config = serde_json::json!({ "pebble": {
                "listenAddress": format!("{host}:{port}"),
                "managementListenAddress": format!("{host}:{mport}"),
                "certificate": dir.path().join("cert.pem"),
                "privateKey": dir.path().join("key.pem"),
                "httpPort": 80,
                "tlsPort": 443,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false,
                "certificateValidityPeriod": validity,
            }});
            let config_path = dir.path().join("pebble.json");
            std::fs::write(&config_path, config.to_string()).unwrap();
            let log = |name: &str| std::fs::File::create(dir.path().join(name)).unwrap();
            let dns_server = Command::new("pebble-challtestsrv")
                .args(["-defaultIPv4", target, "-defaultIPv6", ""])
                .args(["-dns01", &format!("{host}:{dns}")])
                .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
                .args(["-management", &format!("{host}:{dns_mgmt}")])
                .stdout(log("challtestsrv.log"))
                .stderr(Stdio::null())
                .spawn()
                .expect("pebble-challtestsrv (tests/run.sh installs Debian's pebble)");
            let pebble = Command::new("pebble")
                .arg("-config")
                .arg(&config_path)
                .args([
                    "-dnsserver",
                    &resolver
                        .map(str::to_owned)
                        .unwrap_or(format!("{host}:{dns}")),
                ])
                .env("PEBBLE_VA_NOSLEEP", "1")
                .env("PEBBLE_WFE_NONCEREJECT", "0")
                // Every order is validated afresh: a renewal whose challenge cannot be reached
                // must fail, not ride on an earlier authorization.
                .env("PEBBLE_AUTHZREUSE", "0")
                .stdout(log("pebble.log"))
                .stderr(Stdio::null())
                .spawn()
                .expect("pebble");
            let addrs = [
                format!("{host}:{port}"),
                format!("{host}:{mport}"),
                format!("{host}:{dns_mgmt}"),
            ];
            if addrs.iter().all(|a| port_opens(a)) {
                break (port, mport, dns_mgmt, dns_server, pebble);
            }
            // A port picked free was taken before pebble bound it (other tests pick theirs
            // at the same time): stop both and start again on other ports.
            for mut child in [dns_server, pebble] {
                let _ = child.kill();
                let _ = child.wait();
            }
            assert!(attempt < 3, "pebble did not open {addrs:?} in three tries");
        };
        let mut p = Pebble {
            directory: format!("https://{host}:{port}/dir"),
            ca_root,
            issued_root: dir.path().join("issued-root.pem"),
            management: format!("https://{host}:{mport}"),
            dns_management: format!("http://{host}:{dns_mgmt}"),
            children: vec![dns_server, pebble],
            _dir: dir,
        };
        let root = p.curl_management("/roots/0");
        assert!(root.contains("BEGIN CERTIFICATE"), "pebble root: {root}");
        std::fs::write(&p.issued_root, root).unwrap();
        p.children.shrink_to_fit();
        p
    }

    fn curl_management(&self, path: &str) -> String {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "10", "--cacert"])
            .arg(&self.ca_root)
            .arg(format!("{}{path}", self.management))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Make `host` resolve to `ip` for the CA (or back to the node with `None`).
    pub fn point(&self, host: &str, ip: Option<&str>) {
        let (path, body) = match ip {
            Some(ip) => (
                "/add-a",
                serde_json::json!({ "host": format!("{host}."), "addresses": [ip] }),
            ),
            None => (
                "/clear-a",
                serde_json::json!({ "host": format!("{host}.") }),
            ),
        };
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "10", "-d"])
            .arg(body.to_string())
            .arg(format!("{}{path}", self.dns_management))
            .output()
            .unwrap();
        assert!(out.status.success(), "challtestsrv {path}");
    }

    pub fn configure(&self, acme: &mut panel::config::AcmeConfig) {
        acme.directory = self.directory.clone();
        acme.ca_root = Some(self.ca_root.clone());
        acme.contact = Some("ops@example.com".into());
        acme.check_interval = Duration::from_secs(2);
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `curl` from the machine to the node over https for `host`, trusting only `root`:
/// (status, headers and body).
fn https(node: &impl TestNode, root: &Path, host: &str, path: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "-i", "--max-time", "10", "--cacert"])
        .arg(root)
        .args(["--resolve", &format!("{host}:443:{}", node.ip())])
        .arg(format!("https://{host}{path}"))
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

/// Plain http from the machine to the node: (status, headers).
fn http(node: &impl TestNode, host: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "-I", "--max-time", "10"])
        .args(["--resolve", &format!("{host}:80:{}", node.ip())])
        .arg(format!("http://{host}/"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// The serial of the certificate the node serves for `host`.
fn served_serial(node: &impl TestNode, host: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(
            "openssl s_client -connect \"$1:443\" -servername \"$2\" </dev/null 2>/dev/null \
             | openssl x509 -noout -serial",
        )
        .args(["sh", node.ip(), host])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("serial=")
        .to_ascii_lowercase()
}

async fn cert(
    app: &crate::harness::TestApp,
    site: panel::ids::SiteId,
) -> panel::db::certificates::SiteCertificate {
    panel::db::certificates::get(app.db(), site)
        .await
        .unwrap()
        .unwrap()
}

async fn wait_cert(
    app: &crate::harness::TestApp,
    site: panel::ids::SiteId,
    what: &str,
    timeout: Duration,
    done: impl Fn(&panel::db::certificates::SiteCertificate) -> bool,
) -> panel::db::certificates::SiteCertificate {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(c) = panel::db::certificates::get(app.db(), site).await.unwrap() {
            if done(&c) {
                return c;
            }
            if Instant::now() > deadline {
                let log = match c.last_job_id {
                    Some(j) => panel::db::jobs::log_since(app.db(), j, 0)
                        .await
                        .unwrap()
                        .iter()
                        .map(|l| l.line.clone())
                        .collect::<Vec<_>>()
                        .join("\n"),
                    None => String::new(),
                };
                panic!("certificate never {what}: {c:?}\n{log}");
            }
        } else {
            assert!(Instant::now() < deadline, "no certificate row ({what})");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn job_log(app: &crate::harness::TestApp, job: Option<panel::ids::JobId>) -> String {
    match job {
        Some(j) => panel::db::jobs::log_since(app.db(), j, 0)
            .await
            .unwrap()
            .iter()
            .map(|l| l.line.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        None => String::new(),
    }
}

fn serial_hex(db_serial: &str) -> String {
    db_serial.replace(':', "").to_ascii_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_get_certificates_from_acme_renew_them_and_explain_failures() {
    let node = IsolatedNode::start_web();
    // Certificates live 60 s: renewal is due 40 s after issue.
    let pebble = Pebble::start(&node, 60);
    let sink = SmtpSink::start().await;
    let smtp = sink.config(Duration::from_secs(3));
    let (app, user) = panel_on_configured(&node, |c| {
        pebble.configure(&mut c.acme);
        c.smtp = Some(smtp);
    })
    .await;
    let (id, setup_url) = crate::harness::add_server(&app, &user, &node).await;
    onboard(&app, &node, id, &setup_url).await;
    wait_for(&app, id, "active").await;
    let site = create_site(
        &app,
        &user,
        id,
        &[
            ("domain", "shop.test"),
            ("aliases", "www.shop.test"),
            ("app_type", "generic"),
            ("php_version", "8.2"),
            ("database", "none"),
        ],
    )
    .await;
    let user_name = wait_site(&app, site, SiteStatus::Active)
        .await
        .username
        .unwrap();
    let tab = format!("/sites/{site}/https");

    // Issue through the HTTPS tab: HTTP-01 for the domain and its alias.
    assert_eq!(
        user.post_form(&format!("{tab}/issue"), &[]).await.status(),
        303
    );
    let c = wait_cert(&app, site, "issued", Duration::from_secs(90), |c| {
        c.status.as_str() == "active" || c.error.is_some()
    })
    .await;
    assert_eq!(
        c.error,
        None,
        "{c:?}\n{}",
        job_log(&app, c.last_job_id).await
    );
    assert_eq!(c.names, "shop.test www.shop.test");
    assert!(c.renew_at.is_some());
    for host in ["shop.test", "www.shop.test"] {
        let (status, body) = https(&node, &pebble.issued_root, host, "/");
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("is ready"), "{body}");
    }
    assert_eq!(
        served_serial(&node, "shop.test"),
        serial_hex(c.serial.as_deref().unwrap())
    );
    // The redirect is on by default; the key is root's alone.
    let (status, headers) = http(&node, "shop.test");
    assert_eq!(status, 301, "{headers}");
    assert!(
        headers.contains("Location: https://shop.test/"),
        "{headers}"
    );
    let perms = node.must(
        &format!("stat -c '%a %U' /etc/nginx/panel-tls/{user_name}.key /etc/nginx/panel-tls/{user_name}.crt"),
        "",
    );
    assert_eq!(perms.trim(), "600 root\n644 root");
    let page = user.text(&tab).await;
    assert!(
        page.contains("shop.test www.shop.test") && page.contains("served"),
        "{page}"
    );
    let list = user.text("/certificates").await;
    assert!(list.contains("data-certificate=\"shop.test\""), "{list}");
    // The site's overview links it over https and says until when its certificate holds.
    let overview = user.text(&format!("/sites/{site}")).await;
    assert!(
        overview.contains("href=\"https://shop.test/\"") && overview.contains("certificate until"),
        "{overview}"
    );

    // testssl.sh: no HIGH or CRITICAL finding, nothing below TLS 1.2.
    testssl(&node, &pebble.issued_root, "shop.test");

    // Suspended, the site keeps HTTPS (and answers 503); resumed, it serves again.
    assert_eq!(
        user.post_form(&format!("/sites/{site}/suspend"), &[])
            .await
            .status(),
        303
    );
    wait_site(&app, site, SiteStatus::Suspended).await;
    assert_eq!(https(&node, &pebble.issued_root, "shop.test", "/").0, 503);
    assert_eq!(
        user.post_form(&format!("/sites/{site}/resume"), &[])
            .await
            .status(),
        303
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while https(&node, &pebble.issued_root, "shop.test", "/").0 != 200 {
        assert!(
            Instant::now() < deadline,
            "not served over https after resume"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    wait_site(&app, site, SiteStatus::Active).await;

    // HSTS on, redirect off.
    assert_eq!(
        user.post_form(&format!("{tab}/settings"), &[("hsts", "1")])
            .await
            .status(),
        303
    );
    let job = cert(&app, site).await.last_job_id.unwrap();
    assert_eq!(wait_job(&app, job).await.status.as_str(), "success");
    // nginx's reload is asynchronous: old workers may answer for a moment.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = https(&node, &pebble.issued_root, "shop.test", "/");
        if status == 200
            && body
                .to_ascii_lowercase()
                .contains("strict-transport-security: max-age=31536000")
        {
            break;
        }
        assert!(Instant::now() < deadline, "no HSTS: {body}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while http(&node, "shop.test").0 != 200 {
        assert!(Instant::now() < deadline, "plain http still redirects");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Renewal by the panel alone: a new certificate is issued and served.
    let first = c.serial.clone().unwrap();
    let renewed = wait_cert(&app, site, "renewed", Duration::from_secs(120), |c| {
        c.serial.as_deref() != Some(first.as_str()) && c.error.is_none()
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while served_serial(&node, "shop.test") != serial_hex(renewed.serial.as_deref().unwrap()) {
        assert!(
            Instant::now() < deadline,
            "the renewed certificate is not served"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A broken renewal: the CA's DNS sends shop.test where nothing listens on port 80.
    pebble.point("shop.test", Some(node.gateway()));
    let failed = wait_cert(&app, site, "failed", Duration::from_secs(120), |c| {
        c.error.is_some()
    })
    .await;
    assert_eq!(failed.error_kind.as_deref(), Some("port80"), "{failed:?}");
    assert!(failed.next_attempt_at.is_some());
    let page = user.text(&tab).await;
    assert!(page.contains("Port 80 unreachable"), "{page}");
    assert!(page.contains("renewal failing"), "{page}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mails = sink.messages();
        if mails.iter().any(|m| {
            m.contains("The certificate of shop.test could not be renewed")
                && m.contains("Port 80 unreachable")
        }) {
            break;
        }
        assert!(Instant::now() < deadline, "no renewal alert: {mails:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Still failing inside its last quarter of life (15 s here): the alert repeats daily, the
    // day made to have passed.
    sqlx::query("UPDATE site_certificates SET last_alert_at = ? WHERE site_id = ?")
        .bind(panel::db::timestamp(
            chrono::Utc::now() - chrono::Duration::hours(25),
        ))
        .bind(site)
        .execute(app.db())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mails = sink.messages();
        if mails.iter().any(|m| {
            m.contains("The certificate of shop.test expires") && m.contains("without a renewal")
        }) {
            break;
        }
        assert!(Instant::now() < deadline, "no expiry alert: {mails:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Fixed: the next attempt (after its back-off) succeeds and clears the failure.
    pebble.point("shop.test", None);
    wait_cert(&app, site, "recovered", Duration::from_secs(120), |c| {
        c.error.is_none() && c.failures == 0
    })
    .await;

    // Uploads: each fault refused under its field, nothing changed; a good one is served.
    uploads(&app, &user, &node, site).await;

    // Delete: the certificate, key and challenge directory leave the node.
    assert_eq!(
        user.post_form(
            &format!("/sites/{site}/delete"),
            &[("confirm", "shop.test")]
        )
        .await
        .status(),
        303
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while panel::db::sites::get(app.db(), site)
        .await
        .unwrap()
        .is_some()
    {
        assert!(Instant::now() < deadline, "site not deleted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let left = node.must(
        "ls /etc/nginx/panel-tls/ /var/www/panel-acme/ 2>&1; true",
        "",
    );
    assert!(!left.contains(&user_name), "{left}");
    assert!(
        panel::db::certificates::get(app.db(), site)
            .await
            .unwrap()
            .is_none()
    );
    drop(pebble);
}

/// Run Debian's testssl.sh against the node for `host`: protocols, cipher categories, forward
/// secrecy and the known vulnerabilities. Nothing HIGH or CRITICAL, and SSLv2, SSLv3, TLS 1.0
/// and TLS 1.1 not offered.
fn testssl(node: &impl TestNode, root: &Path, host: &str) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("testssl.json");
    let out = Command::new("testssl")
        .args(["--quiet", "--color", "0", "--warnings", "off", "--sneaky"])
        .args(["--ip", node.ip(), "--add-ca"])
        .arg(root)
        .arg("--jsonfile")
        .arg(&json)
        .args(["-p", "-s", "-f", "-U"])
        .arg(format!("https://{host}/"))
        .output()
        .expect("testssl (tests/run.sh installs Debian's testssl.sh)");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|_| {
        panic!(
            "testssl wrote no report: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let findings: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let severe: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| matches!(f["severity"].as_str(), Some("HIGH" | "CRITICAL")))
        .collect();
    assert!(severe.is_empty(), "testssl: {severe:#?}");
    for old in ["SSLv2", "SSLv3", "TLS1", "TLS1_1"] {
        let f = findings
            .iter()
            .find(|f| f["id"] == old)
            .unwrap_or_else(|| panic!("testssl did not test {old}: {text}"));
        assert!(
            f["finding"]
                .as_str()
                .unwrap_or("")
                .starts_with("not offered"),
            "{old}: {f}"
        );
    }
    for new in ["TLS1_2", "TLS1_3"] {
        let f = findings.iter().find(|f| f["id"] == new).unwrap();
        assert!(
            f["finding"].as_str().unwrap_or("").starts_with("offered"),
            "{new}: {f}"
        );
    }
}

/// A CA of the test's own and certificates it signs.
struct OwnCa {
    params: rcgen::CertificateParams,
    key: rcgen::KeyPair,
    pem: String,
}

impl OwnCa {
    fn new(name: &str) -> OwnCa {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let pem = params.self_signed(&key).unwrap().pem();
        OwnCa { params, key, pem }
    }

    /// A certificate for `names` valid from `from` to `to` days from now, and its key.
    fn issue(&self, names: &[&str], from: i64, to: i64) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let now = time::OffsetDateTime::now_utc();
        p.not_before = now + time::Duration::days(from);
        p.not_after = now + time::Duration::days(to);
        let cert = p
            .signed_by(&key, &rcgen::Issuer::from_params(&self.params, &self.key))
            .unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

async fn uploads(
    app: &crate::harness::TestApp,
    user: &crate::harness::LoggedIn,
    node: &IsolatedNode,
    site: panel::ids::SiteId,
) {
    let root = OwnCa::new("Upload Test Root");
    // An intermediate the root signs, and the site's certificate the intermediate signs.
    let int_key = rcgen::KeyPair::generate().unwrap();
    let mut int = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    int.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    int.distinguished_name
        .push(rcgen::DnType::CommonName, "Upload Test Intermediate");
    let int_pem = int
        .signed_by(
            &int_key,
            &rcgen::Issuer::from_params(&root.params, &root.key),
        )
        .unwrap()
        .pem();
    let int_ca = OwnCa {
        params: int,
        key: int_key,
        pem: int_pem.clone(),
    };
    let names = ["shop.test", "www.shop.test"];
    let (good, good_key) = int_ca.issue(&names, -1, 30);
    let (_, other_key) = int_ca.issue(&names, -1, 30);
    let (wrong_names, wrong_names_key) = int_ca.issue(&["shop.test"], -1, 30);
    let (expired, expired_key) = int_ca.issue(&names, -60, -1);
    let before = cert(app, site).await;
    let tab = format!("/sites/{site}/https");
    let cases: [(&str, &str, &str, &str, &str); 4] = [
        (
            &good,
            &int_ca.pem,
            &other_key,
            "key",
            "does not belong to this certificate",
        ),
        (
            &wrong_names,
            &int_ca.pem,
            &wrong_names_key,
            "certificate",
            "does not cover www.shop.test",
        ),
        (
            &expired,
            &int_ca.pem,
            &expired_key,
            "certificate",
            "expired on",
        ),
        (
            &good,
            &root.pem,
            &good_key,
            "chain",
            "is not signed by certificate 2",
        ),
    ];
    let _ = int_pem;
    for (certificate, chain, key, field, message) in cases {
        let chain = if field == "chain" {
            // Out of order: the root before the intermediate.
            format!("{}{}", root.pem, int_ca.pem)
        } else {
            chain.to_owned()
        };
        let resp = user
            .post_form(
                &format!("{tab}/upload"),
                &[
                    ("certificate", certificate),
                    ("chain", &chain),
                    ("key", key),
                ],
            )
            .await;
        assert_eq!(resp.status(), 422, "{field}");
        let page = resp.text().await.unwrap();
        let marker = format!("data-field-error=\"{field}\"");
        let at = page
            .find(&marker)
            .unwrap_or_else(|| panic!("no {field} error: {page}"));
        assert!(
            page[at..].contains(message),
            "{field}: {}",
            &page[at..at + 300]
        );
        assert!(
            !page.contains(key.lines().nth(1).unwrap()),
            "the key came back into the page"
        );
    }
    let after = cert(app, site).await;
    assert_eq!(
        after.serial, before.serial,
        "a refused upload changed the certificate"
    );
    assert_eq!(after.source.as_str(), "acme");

    // The good one, with its chain in order.
    let resp = user
        .post_form(
            &format!("{tab}/upload"),
            &[
                ("certificate", &good),
                ("chain", &int_ca.pem),
                ("key", &good_key),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let c = wait_cert(app, site, "uploaded", Duration::from_secs(60), |c| {
        c.source.as_str() == "custom"
    })
    .await;
    assert_eq!(c.renew_at, None);
    let root_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(root_file.path(), &root.pem).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = https(node, root_file.path(), "www.shop.test", "/");
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the upload is not served: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// BIND, authoritative for one zone whose every name points at a node, accepting RFC 2136
/// updates signed with one TSIG key.
struct Bind {
    child: std::process::Child,
    addr: String,
    dir: TempDir,
}

impl Bind {
    fn start(host: &str, zone: &str, target: &str, key_name: &str, secret_b64: &str) -> Bind {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let d = dir.path().display();
        std::fs::write(
            dir.path().join("named.conf"),
            format!(
                "options {{
    directory \"{d}\";
    pid-file \"{d}/named.pid\";
    session-keyfile \"{d}/session.key\";
    listen-on port {port} {{ {host}; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    allow-query {{ any; }};
}};
key \"{key_name}\" {{ algorithm hmac-sha256; secret \"{secret_b64}\"; }};
zone \"{zone}\" {{
    type primary;
    file \"{d}/zone.db\";
    allow-update {{ key \"{key_name}\"; }};
}};
"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("zone.db"),
            format!(
                "$TTL 60
@ IN SOA ns.{zone}. admin.{zone}. ( 1 60 60 600 60 )
@ IN NS ns.{zone}.
ns IN A {host}
@ IN A {target}
* IN A {target}
"
            ),
        )
        .unwrap();
        let child = Command::new("named")
            .args(["-g", "-n", "1", "-c"])
            .arg(dir.path().join("named.conf"))
            .stdout(std::fs::File::create(dir.path().join("named.log")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("named.err")).unwrap())
            .spawn()
            .expect("named (tests/run.sh installs Debian's bind9)");
        let addr = format!("{host}:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&addr).is_err() {
            if Instant::now() > deadline {
                panic!(
                    "named did not start: {}",
                    std::fs::read_to_string(dir.path().join("named.err")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Bind { child, addr, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("named.err")).unwrap_or_default()
    }
}

impl Drop for Bind {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The DNS names the certificate served for `host` lists.
fn served_names(node: &impl TestNode, host: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(
            "openssl s_client -connect \"$1:443\" -servername \"$2\" </dev/null 2>/dev/null \
             | openssl x509 -noout -ext subjectAltName",
        )
        .args(["sh", node.ip(), host])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wildcard_certificate_is_issued_through_rfc2136_dns_updates() {
    use base64::Engine;
    let node = IsolatedNode::start_web();
    let secret = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let wrong = base64::engine::general_purpose::STANDARD.encode([8u8; 32]);
    let bind = Bind::start(
        node.gateway(),
        "wild.test",
        node.ip(),
        "panel-acme",
        &secret,
    );
    let pebble = Pebble::start_full(node.gateway(), node.ip(), 3600, Some(&bind.addr));
    let (app, user) = panel_on_configured(&node, |c| pebble.configure(&mut c.acme)).await;
    let (id, setup_url) = crate::harness::add_server(&app, &user, &node).await;
    onboard(&app, &node, id, &setup_url).await;
    wait_for(&app, id, "active").await;
    let site = create_site(
        &app,
        &user,
        id,
        &[
            ("domain", "wild.test"),
            ("aliases", "www.wild.test"),
            ("app_type", "generic"),
            ("php_version", "8.2"),
            ("database", "none"),
        ],
    )
    .await;
    wait_site(&app, site, SiteStatus::Active).await;
    let dns = format!("/sites/{site}/https/dns");

    // Each bad field is named; nothing is stored.
    let resp = user
        .post_form(
            &dns,
            &[
                ("dns_server", "not an address"),
                ("dns_zone", "other.test"),
                ("dns_key_name", "panel-acme"),
                ("dns_secret", "!!!"),
                ("wildcard", "1"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let page = resp.text().await.unwrap();
    for (field, message) in [
        ("dns_server", "an IP address"),
        (
            "dns_zone",
            "wild.test, www.wild.test are not inside the zone other.test",
        ),
        ("dns_secret", "base64"),
    ] {
        let marker = format!("data-field-error=\"{field}\"");
        let at = page
            .find(&marker)
            .unwrap_or_else(|| panic!("no {field} error"));
        assert!(page[at..].contains(message), "{field}");
    }
    assert!(
        panel::db::certificates::get(app.db(), site)
            .await
            .unwrap()
            .is_none()
    );

    // A TSIG key the server does not know: the update is refused, and said so.
    let form = |secret: &str| {
        vec![
            ("dns_server", bind.addr.clone()),
            ("dns_zone", "wild.test".to_owned()),
            ("dns_key_name", "panel-acme".to_owned()),
            ("dns_secret", secret.to_owned()),
            ("wildcard", "1".to_owned()),
        ]
    };
    let fields = form(&wrong);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(user.post_form(&dns, &fields).await.status(), 303);
    let failed = wait_cert(&app, site, "refused", Duration::from_secs(60), |c| {
        c.error.is_some()
    })
    .await;
    assert_eq!(
        failed.error_kind.as_deref(),
        Some("dns-update"),
        "{failed:?}"
    );
    assert!(
        failed.error.as_deref().unwrap().contains("NOTAUTH"),
        "{failed:?}"
    );

    // The right key: the wildcard is issued and served.
    let fields = form(&secret);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(user.post_form(&dns, &fields).await.status(), 303);
    let c = wait_cert(&app, site, "issued", Duration::from_secs(90), |c| {
        c.status.as_str() == "active"
    })
    .await;
    assert_eq!(c.error, None, "{c:?}\n{}", bind.log());
    assert!(c.names.split(' ').any(|n| n == "*.wild.test"), "{c:?}");
    let names = served_names(&node, "www.wild.test");
    assert!(
        names.contains("DNS:*.wild.test") && names.contains("DNS:wild.test"),
        "{names}"
    );
    let (status, body) = https(&node, &pebble.issued_root, "www.wild.test", "/");
    assert_eq!(status, 200, "{body}");
    // The secret is sealed; the page never shows it.
    let stored = panel::db::certificates::get(app.db(), site)
        .await
        .unwrap()
        .unwrap();
    let sealed = stored.dns_secret_encrypted.unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains(&secret));
    let page = user.text(&format!("/sites/{site}/https")).await;
    assert!(!page.contains(&secret));
}
