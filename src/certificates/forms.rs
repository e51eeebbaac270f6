//! The HTTPS forms: a certificate upload and the redirect/HSTS toggles.

use serde::Deserialize;

/// "Upload a certificate": the site's certificate, its issuers, its key (all PEM).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct UploadForm {
    #[serde(default)]
    pub certificate: String,
    #[serde(default)]
    pub chain: String,
    #[serde(default)]
    pub key: String,
}

/// The per-site HTTPS toggles (checkboxes: present means on).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct HttpsForm {
    #[serde(default)]
    pub redirect: Option<String>,
    #[serde(default)]
    pub hsts: Option<String>,
}

impl HttpsForm {
    pub fn redirect(&self) -> bool {
        self.redirect.is_some()
    }
    pub fn hsts(&self) -> bool {
        self.hsts.is_some()
    }
}

/// Uploads larger than this are refused before they are read as certificates.
pub const MAX_PEM: usize = 64 * 1024;
