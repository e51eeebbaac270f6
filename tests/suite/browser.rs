//! A small WebDriver client for Debian's Chromium through chromedriver: enough to click through
//! pages, use the WebAuthn virtual authenticator and take screenshots.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::harness::free_port;

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    /// Start chromedriver and a headless Chromium with a fresh profile.
    pub async fn start() -> Browser {
        Self::start_with(&[], None).await
    }

    /// As `start`, with more Chromium flags, and `home` as its home directory (where it finds
    /// the NSS database of the CAs it trusts: `home/.pki/nssdb`).
    pub async fn start_with(extra: &[String], home: Option<&std::path::Path>) -> Browser {
        let port = free_port();
        let mut driver = Command::new("chromedriver");
        if let Some(home) = home {
            driver.env("HOME", home);
        }
        let driver = driver
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (install chromium-driver)");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--window-size=1280,900",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.extend(extra.iter().cloned());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": args,
            }
        }}});
        let resp: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {resp}"))
            .to_owned();
        Browser {
            driver,
            base,
            session,
            http,
            _profile: profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp: Value = req.send().await.unwrap().json().await.unwrap();
        if let Some(err) = resp["value"].get("error") {
            panic!("WebDriver {path}: {err} {}", resp["value"]["message"]);
        }
        resp["value"].clone()
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Navigate to `url`. Tests that start and stop network namespaces beside this one change
    /// the machine's interfaces, and Chromium then aborts a load with ERR_NETWORK_CHANGED: such
    /// a load (a GET) is tried again.
    pub async fn goto(&self, url: &str) {
        for _ in 0..20 {
            self.post("/url", json!({ "url": url })).await;
            if !self.network_error().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!("{url} did not load: the network kept changing");
    }

    /// Whether the page is Chromium's own "connection interrupted" page.
    pub async fn network_error(&self) -> bool {
        self.execute("return !!(document.body && document.body.classList.contains('neterror'));")
            .await
            .as_bool()
            .unwrap_or(false)
    }

    pub async fn url(&self) -> String {
        self.get("/url").await.as_str().unwrap().to_owned()
    }

    pub async fn source(&self) -> String {
        self.get("/source").await.as_str().unwrap().to_owned()
    }

    pub async fn find(&self, css: &str) -> String {
        let url = format!("{}/session/{}/element", self.base, self.session);
        let resp: Value = self
            .http
            .post(url)
            .json(&json!({"using": "css selector", "value": css}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match resp["value"][ELEMENT_KEY].as_str() {
            Some(id) => id.to_owned(),
            None => {
                let src = self.source().await;
                panic!(
                    "no element {css} at {} ({resp}): {}",
                    self.url().await,
                    &src[..src.len().min(300)]
                );
            }
        }
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.post(&format!("/element/{id}/click"), json!({})).await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.post(&format!("/element/{id}/clear"), json!({})).await;
        self.post(&format!("/element/{id}/value"), json!({ "text": text }))
            .await;
    }

    /// Run a script that calls its last argument when done.
    pub async fn execute_async(&self, script: &str) -> Value {
        self.post("/execute/async", json!({ "script": script, "args": [] }))
            .await
    }

    pub async fn execute(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    /// Wait until `check(url, page source)` holds.
    pub async fn wait_for(&self, what: &str, check: impl Fn(&str, &str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (url, src) = (self.url().await, self.source().await);
            if check(&url, &src) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}; at {url}:\n{}",
                    &src[..src.len().min(3000)]
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn cookie(&self, name: &str) -> Option<String> {
        let url = format!("{}/session/{}/cookie/{name}", self.base, self.session);
        let resp: Value = self.http.get(url).send().await.ok()?.json().await.ok()?;
        resp["value"]["value"].as_str().map(str::to_owned)
    }

    pub async fn delete_cookie(&self, name: &str) {
        self.call(reqwest::Method::DELETE, &format!("/cookie/{name}"), None)
            .await;
    }

    /// Add a CTAP2 platform authenticator with resident keys and user verification.
    pub async fn add_virtual_authenticator(&self) -> String {
        let v = self
            .post(
                "/webauthn/authenticator",
                json!({"protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
                       "hasUserVerification": true, "isUserVerified": true}),
            )
            .await;
        v.as_str().unwrap().to_owned()
    }

    pub async fn set_user_verified(&self, authenticator: &str, verified: bool) {
        self.post(
            &format!("/webauthn/authenticator/{authenticator}/uv"),
            json!({ "isUserVerified": verified }),
        )
        .await;
    }

    /// A Chrome DevTools Protocol command through chromedriver.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.post("/goog/cdp/execute", json!({ "cmd": cmd, "params": params }))
            .await
    }

    /// Make the page's viewport `width`×`height` CSS pixels (`mobile`: a phone's, with touch
    /// and its viewport meta tag honoured).
    pub async fn viewport(&self, width: u32, height: u32, mobile: bool) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        )
        .await;
    }

    /// How far the page is wider than its viewport (0: no horizontal scrolling), with the
    /// widest elements that stick out, to say what to fix.
    pub async fn overflow(&self) -> (i64, Vec<String>) {
        let v = self
            .execute(
                r##"const w = document.documentElement.clientWidth;
                const over = document.documentElement.scrollWidth - w;
                const culprits = [];
                if (over > 0) {
                  // What sticks out of the page itself: not inside a box that scrolls or clips.
                  const clipped = (el) => {
                    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
                      if (getComputedStyle(a).overflowX !== "visible") { return true; }
                    }
                    return false;
                  };
                  for (const el of document.querySelectorAll("body *")) {
                    const r = el.getBoundingClientRect();
                    if (r.right > w + 1 && r.width > 0 && !clipped(el)) {
                      culprits.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "." + [...el.classList].slice(0, 4).join(".") + " right=" + Math.round(r.right) + " " + JSON.stringify((el.textContent || "").trim().slice(0, 40)));
                    }
                  }
                }
                return { over, culprits: culprits.slice(0, 8) };"##,
            )
            .await;
        let culprits = v["culprits"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| c.as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default();
        (v["over"].as_i64().unwrap_or(0), culprits)
    }

    /// Run axe-core (vendored under tests/vendor, for tests only) on the page as it is now;
    /// the critical and serious violations, each as "rule (impact): target…".
    pub async fn axe(&self) -> Vec<String> {
        static AXE: &str = include_str!("../vendor/axe-core/axe.min.js");
        let script = format!(
            "{AXE}\n;const done = arguments[arguments.length - 1];\n{}",
            r#"axe.run(document, { resultTypes: ["violations"] }).then((r) => {
                 done(r.violations.filter((v) => v.impact === "critical" || v.impact === "serious")
                   .map((v) => v.id + " (" + v.impact + "): " + v.nodes.slice(0, 6).map((n) => n.target.join(" ") + (n.any[0] && n.any[0].message ? " [" + n.any[0].message + "]" : "")).join(" | ")));
               }).catch((e) => done(["axe failed: " + e]));"#
        );
        let v = self.execute_async(&script).await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Save a PNG of the viewport under `tests/artifacts/`.
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let b64 = self.get("/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // End the browser session first: chromedriver leaves Chromium running otherwise.
        if let Some(addr) = self.base.strip_prefix("http://") {
            if let Ok(mut stream) = std::net::TcpStream::connect(addr) {
                use std::io::{Read, Write};
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = write!(
                    stream,
                    "DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    self.session
                );
                let _ = stream.read(&mut [0u8; 512]);
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
