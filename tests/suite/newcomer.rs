//! A newcomer's first hour in Debian's Chromium, as the README's user would live it: the
//! first-run link → a passkey → an SSH key → a server (the page warns that servers cannot reach a
//! loopback URL) → the setup page survives a reload → the command is copied and run on a test node
//! → the server turns active on the open page by itself → a site, active live → error paths
//! answered inline. Each step is photographed at 1400×900 and 390×844 (tests/artifacts/),
//! checked for horizontal overflow at both widths, and every page is checked by axe-core in the
//! light and the dark theme: no critical or serious violation.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::browser::Browser;
use crate::harness::{IsolatedNode, free_port, start_databases};
use crate::passkeys::PanelProcess;

/// What the walk found wrong, reported all at once at the end.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    /// Photograph the page at both sizes, check it does not scroll sideways at either, and run
    /// axe-core in both themes.
    async fn check(&mut self, b: &Browser, step: &str) {
        let started = Instant::now();
        for (label, w, h, mobile) in [("desktop", 1400, 900, false), ("phone", 390, 844, true)] {
            b.viewport(w, h, mobile).await;
            // The navigation drawer slides between its desktop and phone forms: let it settle.
            tokio::time::sleep(Duration::from_millis(600)).await;
            let (over, culprits) = b.overflow().await;
            if over > 0 {
                self.0.push(format!(
                    "{step} at {w}px scrolls sideways by {over}px: {}",
                    culprits.join(", ")
                ));
            }
            b.screenshot(&format!("newcomer-{step}-{label}.png")).await;
        }
        b.viewport(1400, 900, false).await;
        for theme in ["light", "dark"] {
            b.execute(&format!(
                "document.documentElement.setAttribute('data-theme', '{theme}');"
            ))
            .await;
            // Colours may ease into the new theme: measure the settled ones.
            tokio::time::sleep(Duration::from_millis(400)).await;
            for v in b.axe().await {
                self.0.push(format!("{step} ({theme}): {v}"));
            }
        }
        eprintln!("checked {step} in {:?}", started.elapsed());
    }
}

/// Wait up to `secs` for `check(url, source)`.
async fn wait(b: &Browser, what: &str, secs: u64, check: impl Fn(&str, &str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (url, src) = (b.url().await, b.source().await);
        if check(&url, &src) {
            return;
        }
        // A load Chromium aborted because other tests changed the network: load it again.
        if b.network_error().await {
            b.goto(&url).await;
            continue;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what} at {url}:\n{}",
            &src[..src.len().min(4000)]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What the Copy button beside `selector`'s text put on the clipboard.
async fn copied(b: &Browser, button: &str) -> String {
    b.click(button).await;
    wait(b, "the Copy button to say so", 5, |_, src| {
        src.contains(">Copied<")
    })
    .await;
    let text = b
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.clipboard.readText().then(done, (e) => done('clipboard: ' + e));",
        )
        .await;
    text.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_newcomer_walks_from_the_first_run_link_to_a_live_site() {
    let node = IsolatedNode::start_web();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://localhost:{port}");
    // The README's defaults: the public URL is loopback. The panel also listens on the node's
    // gateway, where the node can reach it once the operator says so (PANEL_SERVERS_URL).
    let listen = format!("127.0.0.1:{port},{}:{port}", node.gateway);
    let panel = PanelProcess::start_env(data.path(), port, &[("PANEL_LISTEN", listen.clone())]);
    let link = panel.enrolment_link();
    let mut found = Findings::default();

    let b = Browser::start().await;
    b.add_virtual_authenticator().await;
    b.cdp(
        "Browser.grantPermissions",
        json!({"origin": base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}),
    )
    .await;

    // 1. The first-run link: an enrolment form; an empty e-mail is refused at its field.
    b.goto(&link).await;
    found.check(&b, "01-enrol").await;
    b.type_into("#enrol-email", "not an address").await;
    b.type_into("#enrol-name", "Ada Lovelace").await;
    b.click("#enrol-button").await;
    wait(&b, "the e-mail's field error", 10, |_, src| {
        src.contains("data-field-error=\"email\"")
    })
    .await;
    let src = b.source().await;
    assert!(
        !src.contains("email:"),
        "field errors are not raw keys: {src}"
    );
    b.type_into("#enrol-email", "ada@example.com").await;
    b.click("#enrol-button").await;
    wait(&b, "the dashboard after enrolment", 15, |url, src| {
        url == format!("{base}/") && src.contains("Ada Lovelace")
    })
    .await;
    found.check(&b, "02-dashboard").await;

    // 2. An SSH key; a second one of the same name is refused at its field.
    b.goto(&format!("{base}/ssh-keys")).await;
    b.type_into("#gen-name", "panel").await;
    b.click("form[action='/ssh-keys'] button[type=submit]")
        .await;
    wait(&b, "the new key", 15, |_, src| src.contains("SHA256:")).await;
    found.check(&b, "03-ssh-key").await;
    b.type_into("#gen-name", "panel").await;
    b.click("form[action='/ssh-keys'] button[type=submit]")
        .await;
    wait(&b, "the key name's field error", 10, |_, src| {
        src.contains("data-field-error=\"name\"") && src.contains("already in the panel")
    })
    .await;

    // 3. Add the server: the page warns that servers cannot reach a loopback URL; a bad address
    // is answered at its field and in the summary at the top.
    b.goto(&format!("{base}/servers/new")).await;
    let src = b.source().await;
    assert!(
        src.contains("data-reach-warning=\"loopback\""),
        "the loopback warning is shown"
    );
    found.check(&b, "04-add-server").await;
    b.type_into("#name", "web-1").await;
    b.type_into("#ip_address", "300.1.1.1").await;
    b.type_into("#hostname", "web1.example.com").await;
    b.execute("document.getElementById('os_version').value = 'debian_12';")
        .await;
    b.type_into("#php_versions", "8.2").await;
    b.type_into("#ssh_user", "panel").await;
    b.click("form[action='/servers'] button[type=submit]").await;
    wait(&b, "the address's field error", 10, |_, src| {
        src.contains("data-field-error=\"ip_address\"") && src.contains("data-error-summary")
    })
    .await;
    found.check(&b, "05-add-server-error").await;
    b.type_into("#ip_address", &node.ip).await;
    b.click("form[action='/servers'] button[type=submit]").await;
    wait(
        &b,
        "the server page with its setup command",
        15,
        |url, src| {
            url.starts_with(&format!("{base}/servers/01")) && src.contains("data-setup-command")
        },
    )
    .await;
    let server_page = b.url().await;
    found.check(&b, "06-setup-command").await;

    // 4. A reload keeps the command (the add was a POST answered with a redirect).
    let before = copied(&b, "[data-copy-target='#setup-command-text']").await;
    assert!(
        before.starts_with(&format!("curl -fsSL {base}/setup/"))
            && before.ends_with(" | sudo bash"),
        "{before}"
    );
    b.execute("location.reload();").await;
    wait(&b, "the reloaded server page", 10, |url, src| {
        url == server_page && src.contains("data-setup-command")
    })
    .await;
    let token = before
        .trim_end_matches(" | sudo bash")
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        b.source().await.contains(&token),
        "the same command after a reload"
    );

    // 5. The operator does what the warning says: the URL servers reach the panel at, and a
    // restart. The same one-time command now points there.
    panel.stop();
    let servers_url = format!("http://{}:{port}", node.gateway);
    let panel = PanelProcess::start_env(
        data.path(),
        port,
        &[
            ("PANEL_LISTEN", listen),
            ("PANEL_SERVERS_URL", servers_url.clone()),
            ("PANEL_INSECURE_HTTP", "true".into()),
        ],
    );
    b.goto(&server_page).await;
    wait(&b, "the server page after the restart", 10, |_, src| {
        src.contains("data-reach-warning=\"http\"")
            && !src.contains("data-reach-warning=\"loopback\"")
    })
    .await;
    let command = copied(&b, "[data-copy-target='#setup-command-text']").await;
    assert_eq!(
        command,
        format!("curl -fsSL {servers_url}/setup/{token} | sudo bash")
    );

    // 6. Run the copied command on the server; the open page turns active by itself.
    let run = node.root(&format!("set -o pipefail; {command}"), "");
    assert!(
        run.status.success(),
        "the setup command failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    wait(
        &b,
        "the server to turn active on the open page",
        30,
        |url, src| {
            url == server_page
                && src.contains("data-health=\"\"")
                && !src.contains("data-setup-command")
        },
    )
    .await;
    found.check(&b, "07-server-active").await;
    start_databases(&node);

    // 7. A site: a bad domain is answered at its field; a good one turns active live.
    b.goto(&format!("{base}/sites/new")).await;
    b.type_into("#domain", "not a domain!").await;
    b.execute("document.getElementById('app_type').value = 'generic';")
        .await;
    b.click("form[action='/sites'] button[type=submit]").await;
    wait(&b, "the domain's field error", 10, |_, src| {
        src.contains("data-field-error=\"domain\"")
    })
    .await;
    found.check(&b, "08-site-error").await;
    b.type_into("#domain", "shop.example.com").await;
    b.click("form[action='/sites'] button[type=submit]").await;
    wait(&b, "the site page", 10, |url, _| {
        url.starts_with(&format!("{base}/sites/01"))
    })
    .await;
    let site_page = b.url().await;
    wait(
        &b,
        "the site to turn active on the open page",
        120,
        |url, src| {
            url == site_page && src.contains("id=\"site-status\"") && src.contains(">active<")
        },
    )
    .await;
    found.check(&b, "09-site-active").await;

    // 8. Removing PHP 8.2 asks first, in a dialog, and is refused there: the site uses it.
    b.goto(&server_page).await;
    b.click("button[commandfor='remove-php-8-2-dialog']").await;
    let open = b
        .execute("return document.getElementById('remove-php-8-2-dialog').open;")
        .await;
    assert_eq!(open, true, "the dialog opened");
    found.check(&b, "10-confirm-removal").await;
    b.click("#remove-php-8-2 button[type=submit]").await;
    wait(&b, "the refusal inside the dialog", 10, |_, src| {
        src.contains("id=\"remove-php-8-2-errors\"") && src.contains("in use by 1 site")
    })
    .await;
    let inside = b
        .execute("return document.getElementById('remove-php-8-2-errors').textContent;")
        .await;
    assert!(
        inside.as_str().unwrap_or("").contains("shop.example.com"),
        "{inside}"
    );

    // 9. Every other page, in both themes and at both widths.
    let server = server_page.rsplit('/').next().unwrap().to_owned();
    let site = site_page.rsplit('/').next().unwrap().to_owned();
    let job = {
        b.goto(&format!("{base}/jobs")).await;
        let src = b.source().await;
        let at = src.find("href=\"/jobs/01").expect("a job in the list");
        src[at + 12..at + 12 + 26].to_owned()
    };
    let pages = [
        ("11-servers", "/servers".to_owned()),
        ("12-server-selinux", format!("/servers/{server}/selinux")),
        ("13-sites", "/sites".to_owned()),
        ("14-site-deployments", format!("/sites/{site}/deployments")),
        ("15-site-https", format!("/sites/{site}/https")),
        ("15b-site-php", format!("/sites/{site}/php")),
        ("15c-site-redirects", format!("/sites/{site}/redirects")),
        ("15d-site-nginx", format!("/sites/{site}/nginx")),
        ("15e-site-cron", format!("/sites/{site}/cron")),
        ("15e2-site-workers", format!("/sites/{site}/workers")),
        ("15f-site-logs", format!("/sites/{site}/logs")),
        ("16-certificates", "/certificates".to_owned()),
        ("17-databases", "/databases".to_owned()),
        ("18-deployments", "/deployments".to_owned()),
        ("19-selinux", "/selinux".to_owned()),
        ("20-jobs", "/jobs".to_owned()),
        ("21-job", format!("/jobs/{job}")),
        ("22-settings", "/settings".to_owned()),
        ("23-not-found", "/sites/nothing-here".to_owned()),
        (
            "24-selinux-bad-filter",
            "/selinux?period=forever&class=file".to_owned(),
        ),
    ];
    for (step, path) in &pages {
        b.goto(&format!("{base}{path}")).await;
        found.check(&b, step).await;
    }
    // A filter typo is answered on the page it was made on, not with a dead end.
    let src = b.source().await;
    assert!(src.contains("data-field-error"), "the bad filter is named");

    // 10. Log out: the login page says so.
    b.goto(&format!("{base}/")).await;
    b.click("form[action='/logout'] button").await;
    wait(&b, "the login page", 10, |url, src| {
        url.starts_with(&format!("{base}/login")) && src.contains("data-logged-out")
    })
    .await;
    found.check(&b, "25-logged-out").await;
    // Asking for a page logged out, then logging in, lands on that page.
    b.goto(&format!("{base}/sites/{site}")).await;
    wait(&b, "the login page", 10, |url, _| {
        url.starts_with(&format!("{base}/login"))
    })
    .await;
    b.click("#login-button").await;
    wait(&b, "the page asked for", 15, |url, _| url == site_page).await;

    // 11. Deleting the server asks for its name; a wrong one is answered in the form, the
    // right one lands on the servers list.
    b.goto(&server_page).await;
    b.type_into("#server-delete-confirm", "web-2").await;
    b.click("#server-delete button[type=submit]").await;
    wait(&b, "the confirmation's error in the form", 10, |_, src| {
        src.contains("data-field-error=\"confirm\"") && src.contains("type the server's name")
    })
    .await;
    b.type_into("#server-delete-confirm", "web-1").await;
    b.click("#server-delete button[type=submit]").await;
    wait(&b, "the servers list", 10, |url, src| {
        url == format!("{base}/servers") && src.contains("No servers yet")
    })
    .await;

    // The first-run link went to the terminal only, never to the log.
    let log = std::fs::read_to_string(data.path().join("panel.stderr")).unwrap_or_default();
    assert!(!log.contains("/enrol/"), "the enrolment link is in the log");
    panel.stop();

    assert!(
        found.0.is_empty(),
        "{} problems:\n{}",
        found.0.len(),
        found.0.join("\n")
    );
}
