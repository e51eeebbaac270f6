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
        let config = Config::for_data_dir(dir.path());
        let running = start(config).await.expect("panel starts");
        let base = format!("http://{}", running.addr);
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
