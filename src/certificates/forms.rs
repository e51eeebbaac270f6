//! The HTTPS forms: a certificate upload and the redirect/HSTS toggles.

use serde::Deserialize;

/// "Upload a certificate": the site's certificate, its issuers, its key (all PEM).
#[derive(Clone, Default, Deserialize)]
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

/// "Wildcard or DNS-01 certificate": an RFC 2136 server and its TSIG key.
#[derive(Clone, Default, Deserialize)]
pub struct DnsForm {
    #[serde(default)]
    pub dns_server: String,
    #[serde(default)]
    pub dns_zone: String,
    #[serde(default)]
    pub dns_key_name: String,
    /// Base64, as `tsig-keygen` prints it; empty keeps the stored one.
    #[serde(default)]
    pub dns_secret: String,
    #[serde(default)]
    pub wildcard: Option<String>,
}

/// A DNS-01 set-up, every field checked.
pub struct DnsInput {
    pub server: std::net::SocketAddr,
    pub zone: String,
    pub key_name: String,
    /// None: keep the stored secret.
    pub secret: Option<zeroize::Zeroizing<Vec<u8>>>,
    pub wildcard: bool,
}

fn dns_name(text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !t.is_empty()
        && t.len() <= 253
        && t.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    ok.then_some(t)
}

/// Parse the DNS form for a site answering to `names` (its domain first); `have_secret`: one
/// is stored already.
pub fn parse_dns(
    form: &DnsForm,
    names: &[String],
    have_secret: bool,
) -> Result<DnsInput, Vec<crate::error::FieldError>> {
    use crate::error::FieldError;
    use base64::Engine;
    let mut errors = Vec::new();
    let text = form.dns_server.trim();
    let server = text.parse::<std::net::SocketAddr>().ok().or_else(|| {
        text.parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| std::net::SocketAddr::new(ip, 53))
    });
    if server.is_none() {
        errors.push(FieldError::new(
            "dns_server",
            "an IP address, optionally with a port (192.0.2.53 or 192.0.2.53:5353)",
        ));
    }
    let zone = dns_name(&form.dns_zone);
    match &zone {
        None => errors.push(FieldError::new(
            "dns_zone",
            "a DNS zone name such as example.com",
        )),
        Some(z) => {
            let outside: Vec<&str> = names
                .iter()
                .filter(|n| !(*n == z || n.ends_with(&format!(".{z}"))))
                .map(String::as_str)
                .collect();
            if !outside.is_empty() {
                errors.push(FieldError::new(
                    "dns_zone",
                    format!(
                        "{} {} not inside the zone {z}",
                        outside.join(", "),
                        if outside.len() == 1 { "is" } else { "are" }
                    ),
                ));
            }
        }
    }
    let key_name = dns_name(&form.dns_key_name);
    if key_name.is_none() {
        errors.push(FieldError::new(
            "dns_key_name",
            "the TSIG key's name, as in the server's configuration (e.g. panel-acme)",
        ));
    }
    let secret = if form.dns_secret.trim().is_empty() && have_secret {
        None
    } else {
        match base64::engine::general_purpose::STANDARD.decode(form.dns_secret.trim()) {
            Ok(bytes) if (16..=128).contains(&bytes.len()) => Some(zeroize::Zeroizing::new(bytes)),
            _ => {
                errors.push(FieldError::new(
                    "dns_secret",
                    "the TSIG secret in base64 (hmac-sha256, as tsig-keygen prints it)",
                ));
                None
            }
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(DnsInput {
        server: server.expect("checked"),
        zone: zone.expect("checked"),
        key_name: key_name.expect("checked"),
        secret,
        wildcard: form.wildcard.is_some(),
    })
}

// Printed without the key or the secret, whoever prints them.
impl std::fmt::Debug for UploadForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadForm")
            .field("certificate", &self.certificate.len())
            .field("chain", &self.chain.len())
            .field("key", &"(redacted)")
            .finish()
    }
}

impl std::fmt::Debug for DnsForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsForm")
            .field("dns_server", &self.dns_server)
            .field("dns_zone", &self.dns_zone)
            .field("dns_key_name", &self.dns_key_name)
            .field("dns_secret", &"(redacted)")
            .field("wildcard", &self.wildcard)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(zone: &str, secret: &str) -> DnsForm {
        DnsForm {
            dns_server: "192.0.2.53".into(),
            dns_zone: zone.into(),
            dns_key_name: "panel-acme".into(),
            dns_secret: secret.into(),
            wildcard: Some("1".into()),
        }
    }

    #[test]
    fn every_name_must_be_inside_the_zone_and_the_secret_is_never_printed() {
        let names = vec!["shop.test".to_owned(), "shop.example".to_owned()];
        let secret = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
        let e = parse_dns(&form("shop.test", secret), &names, false)
            .err()
            .unwrap();
        assert_eq!(e[0].field, "dns_zone");
        assert_eq!(
            e[0].message,
            "shop.example is not inside the zone shop.test"
        );
        let ok = parse_dns(&form("shop.test", secret), &names[..1], false)
            .ok()
            .unwrap();
        assert_eq!(ok.server.port(), 53);
        assert!(ok.wildcard);
        // Empty keeps a stored secret; without one it is required.
        assert!(
            parse_dns(&form("shop.test", ""), &names[..1], true)
                .ok()
                .unwrap()
                .secret
                .is_none()
        );
        assert_eq!(
            parse_dns(&form("shop.test", ""), &names[..1], false)
                .err()
                .unwrap()[0]
                .field,
            "dns_secret"
        );
        assert!(!format!("{:?}", form("shop.test", secret)).contains(secret));
        let upload = UploadForm {
            key: "-----BEGIN PRIVATE KEY-----".into(),
            ..UploadForm::default()
        };
        assert!(!format!("{upload:?}").contains("PRIVATE KEY"));
    }
}
