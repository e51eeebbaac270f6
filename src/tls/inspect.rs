//! Reading certificates and keys: the names a certificate covers, its dates, whether a chain is
//! in order (each certificate signed by the next), whether a key belongs to a certificate. Every
//! answer is a sentence a person can act on, naming what is wrong.

use chrono::{DateTime, Utc};
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;
use x509_parser::prelude::*;

use crate::error::FieldError;

/// Certificates in one upload or issued chain, at most.
const MAX_CHAIN: usize = 8;
/// The stored chain and names, at most (the columns' CHECKs).
pub const MAX_STORED_CHAIN: usize = 65_536;
pub const MAX_STORED_NAMES: usize = 8_000;

/// What the panel keeps of a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// The DNS names it covers (subjectAltName), lower case.
    pub names: Vec<String>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub issuer: String,
    pub serial: String,
}

impl CertInfo {
    /// Whether this certificate is valid for `name` (an exact name, or a wildcard one label
    /// deep: `*.example.com` covers `www.example.com`, not `example.com` nor `a.b.example.com`).
    pub fn covers(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.names.iter().any(|n| {
            n == &name
                || n.strip_prefix("*.").is_some_and(|rest| {
                    name.split_once('.')
                        .is_some_and(|(label, tail)| !label.is_empty() && tail == rest)
                })
        })
    }
}

/// The DER of each certificate in `pem`, in order; no certificate, something else than
/// certificates, or too many, is an error.
pub fn certificates(pem: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for block in Pem::iter_from_buffer(pem.as_bytes()) {
        let block =
            block.map_err(|_| "is not PEM text (-----BEGIN CERTIFICATE----- …)".to_owned())?;
        if block.label != "CERTIFICATE" {
            return Err(format!(
                "holds a {} block where only certificates belong",
                bounded_label(&block.label)
            ));
        }
        out.push(block.contents);
        if out.len() > MAX_CHAIN {
            return Err(format!("holds more than {MAX_CHAIN} certificates"));
        }
    }
    if out.is_empty() {
        return Err("holds no certificate (-----BEGIN CERTIFICATE----- …)".into());
    }
    Ok(out)
}

fn bounded_label(label: &str) -> String {
    label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .take(40)
        .collect()
}

/// Read one certificate.
pub fn info(der: &[u8]) -> Result<CertInfo, String> {
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|_| "is not a readable X.509 certificate".to_owned())?;
    Ok(info_of(&cert))
}

fn info_of(cert: &X509Certificate<'_>) -> CertInfo {
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let GeneralName::DNSName(n) = name {
                names.push(n.to_ascii_lowercase());
            }
        }
    }
    let time = |t: ASN1Time| DateTime::from_timestamp(t.timestamp(), 0).unwrap_or_default();
    CertInfo {
        names,
        not_before: time(cert.validity().not_before),
        not_after: time(cert.validity().not_after),
        issuer: cert.issuer().to_string().chars().take(400).collect(),
        serial: cert.raw_serial_as_string().chars().take(100).collect(),
    }
}

/// The leaf of an issued or uploaded chain (the first certificate).
pub fn leaf_info(chain_pem: &str) -> Result<CertInfo, String> {
    let ders = certificates(chain_pem)?;
    info(&ders[0])
}

/// Each certificate of `ders` must be signed by the next one; the message says where the order
/// breaks.
pub fn check_order(ders: &[Vec<u8>]) -> Result<(), String> {
    let parsed: Vec<X509Certificate<'_>> = ders
        .iter()
        .enumerate()
        .map(|(i, d)| {
            X509Certificate::from_der(d)
                .map(|(_, c)| c)
                .map_err(|_| format!("certificate {} is not a readable X.509 certificate", i + 1))
        })
        .collect::<Result<_, _>>()?;
    for (i, pair) in parsed.windows(2).enumerate() {
        let (child, parent) = (&pair[0], &pair[1]);
        let signed = child.issuer() == parent.subject()
            && child.verify_signature(Some(parent.public_key())).is_ok();
        if !signed {
            let issuer_elsewhere = parsed
                .iter()
                .position(|c| c.subject() == child.issuer())
                .map(|p| format!(" (its issuer is certificate {}", p + 1))
                .map(|s| format!("{s}; put each issuer right after what it signed)"))
                .unwrap_or_default();
            return Err(format!(
                "certificate {} is not signed by certificate {}{issuer_elsewhere}: the order must be \
                 the site's certificate, then its issuer, then that one's issuer",
                i + 1,
                i + 2,
            ));
        }
    }
    Ok(())
}

/// The public key (SubjectPublicKeyInfo, DER) of a PEM private key.
fn key_spki(key_pem: &str) -> Result<Vec<u8>, String> {
    let key = rcgen::KeyPair::from_pem(key_pem).map_err(|_| {
        "is not a private key the panel can read (PEM: PKCS#8 or EC, \
         ECDSA P-256/P-384, Ed25519 or RSA)"
            .to_owned()
    })?;
    Ok(rcgen::PublicKeyData::subject_public_key_info(&key))
}

/// An uploaded certificate, checked: the chain to serve and what it says.
#[derive(Clone, Debug)]
pub struct Checked {
    /// Leaf then chain, as served.
    pub chain_pem: String,
    pub info: CertInfo,
}

/// Check an upload for a site named `names` at `now`: every problem, each under its field
/// (`certificate`, `chain`, `key`).
pub fn check_upload(
    certificate: &str,
    chain: &str,
    key: &str,
    names: &[String],
    now: DateTime<Utc>,
) -> Result<Checked, Vec<FieldError>> {
    let mut errors = Vec::new();
    let leaf = match certificates(certificate) {
        Ok(ders) if ders.len() == 1 => Some(ders),
        Ok(_) => {
            errors.push(FieldError::new(
                "certificate",
                "holds more than one certificate: paste the site's own here and its issuers under Chain",
            ));
            None
        }
        Err(m) => {
            errors.push(FieldError::new("certificate", m));
            None
        }
    };
    let intermediates = if chain.trim().is_empty() {
        Some(Vec::new())
    } else {
        certificates(chain)
            .map_err(|m| errors.push(FieldError::new("chain", m)))
            .ok()
    };
    let info = match &leaf {
        Some(ders) => match info(&ders[0]) {
            Ok(i) => Some(i),
            Err(m) => {
                errors.push(FieldError::new("certificate", m));
                None
            }
        },
        None => None,
    };
    if let Some(info) = &info {
        if info.not_after <= now {
            errors.push(FieldError::new(
                "certificate",
                format!("expired on {}", info.not_after.format("%Y-%m-%d %H:%M UTC")),
            ));
        } else if info.not_before > now {
            errors.push(FieldError::new(
                "certificate",
                format!(
                    "is not valid before {}",
                    info.not_before.format("%Y-%m-%d %H:%M UTC")
                ),
            ));
        }
        let missing: Vec<&str> = names
            .iter()
            .filter(|n| !info.covers(n))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            let has = if info.names.is_empty() {
                "no DNS names".to_owned()
            } else {
                info.names.join(", ")
            };
            errors.push(FieldError::new(
                "certificate",
                format!("does not cover {} (it names {has})", missing.join(", ")),
            ));
        }
    }
    if let (Some(leaf), Some(rest)) = (&leaf, &intermediates) {
        let all: Vec<Vec<u8>> = leaf.iter().chain(rest).cloned().collect();
        if let Err(m) = check_order(&all) {
            errors.push(FieldError::new("chain", m));
        }
    }
    match key_spki(key) {
        Ok(spki) => {
            if let Some(ders) = &leaf {
                if let Ok((_, cert)) = X509Certificate::from_der(&ders[0]) {
                    if cert.public_key().raw != spki.as_slice() {
                        errors.push(FieldError::new(
                            "key",
                            "does not belong to this certificate (its public key is another one)",
                        ));
                    }
                }
            }
        }
        Err(m) => errors.push(FieldError::new("key", m)),
    }
    let mut chain_pem = certificate.trim().to_owned();
    chain_pem.push('\n');
    if !chain.trim().is_empty() {
        chain_pem.push_str(chain.trim());
        chain_pem.push('\n');
    }
    // What is stored must fit what is kept (checked now, not after the node has changed).
    if chain_pem.len() > MAX_STORED_CHAIN {
        errors.push(FieldError::new(
            "chain",
            "the certificate and its chain together are over 64 KiB",
        ));
    }
    if info
        .as_ref()
        .is_some_and(|i| i.names.join(" ").len() > MAX_STORED_NAMES)
    {
        errors.push(FieldError::new(
            "certificate",
            "names more than 8000 characters of DNS names",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Checked {
        chain_pem,
        info: info.expect("no errors means the leaf was read"),
    })
}

/// When to renew a certificate valid from `not_before` to `not_after`: 30 days before expiry,
/// or, for a lifetime under 90 days, once two thirds of it have passed.
pub fn renew_at(not_before: DateTime<Utc>, not_after: DateTime<Utc>) -> DateTime<Utc> {
    let lifetime = not_after - not_before;
    if lifetime < chrono::Duration::days(90) {
        not_before + lifetime * 2 / 3
    } else {
        not_after - chrono::Duration::days(30)
    }
}

/// From how far before expiry a failing renewal alerts daily: 14 days, or a quarter of a short
/// lifetime.
pub fn warn_window(not_before: DateTime<Utc>, not_after: DateTime<Utc>) -> chrono::Duration {
    let lifetime = not_after - not_before;
    chrono::Duration::days(14).min(lifetime / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca(name: &str) -> (rcgen::CertificateParams, rcgen::Certificate, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        let cert = p.self_signed(&key).unwrap();
        (p, cert, key)
    }

    fn leaf(
        names: &[&str],
        issuer: &rcgen::Issuer<'_, &rcgen::KeyPair>,
        days: (i64, i64),
    ) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        let now = ::time::OffsetDateTime::now_utc();
        p.not_before = now + ::time::Duration::days(days.0);
        p.not_after = now + ::time::Duration::days(days.1);
        (
            p.signed_by(&key, issuer).unwrap().pem(),
            key.serialize_pem(),
        )
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_good_upload_passes_and_every_fault_is_named_under_its_field() {
        let (root_params, root, root_key) = ca("Test Root");
        let mut ip = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ip.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ip.distinguished_name
            .push(rcgen::DnType::CommonName, "Test Intermediate");
        let int_key = rcgen::KeyPair::generate().unwrap();
        let root_issuer = rcgen::Issuer::from_params(&root_params, &root_key);
        let intermediate = ip.signed_by(&int_key, &root_issuer).unwrap();
        let issuer = rcgen::Issuer::from_params(&ip, &int_key);
        let (cert, key) = leaf(&["a.test", "www.a.test"], &issuer, (-1, 30));
        let chain = format!("{}{}", intermediate.pem(), root.pem());
        let want = names(&["a.test", "www.a.test"]);
        let ok = check_upload(&cert, &chain, &key, &want, Utc::now()).unwrap();
        assert_eq!(ok.info.names, want);
        assert!(ok.chain_pem.starts_with(cert.trim()));

        let field = |r: Result<Checked, Vec<FieldError>>| -> Vec<(&'static str, String)> {
            r.unwrap_err()
                .into_iter()
                .map(|e| (e.field, e.message))
                .collect()
        };
        // Wrong key.
        let (_, other_key) = leaf(&["a.test"], &issuer, (-1, 30));
        let e = field(check_upload(&cert, &chain, &other_key, &want, Utc::now()));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, "key");
        assert!(e[0].1.contains("does not belong"), "{e:?}");
        // Wrong names.
        let e = field(check_upload(
            &cert,
            &chain,
            &key,
            &names(&["b.test"]),
            Utc::now(),
        ));
        assert_eq!(e[0].0, "certificate");
        assert!(
            e[0].1
                .contains("does not cover b.test (it names a.test, www.a.test)"),
            "{e:?}"
        );
        // Expired.
        let (old, old_key) = leaf(&["a.test", "www.a.test"], &issuer, (-60, -1));
        let e = field(check_upload(&old, &chain, &old_key, &want, Utc::now()));
        assert_eq!(e[0].0, "certificate");
        assert!(e[0].1.starts_with("expired on "), "{e:?}");
        // Chain out of order.
        let reversed = format!("{}{}", root.pem(), intermediate.pem());
        let e = field(check_upload(&cert, &reversed, &key, &want, Utc::now()));
        assert_eq!(e[0].0, "chain");
        assert!(
            e[0].1
                .contains("certificate 1 is not signed by certificate 2"),
            "{e:?}"
        );
        assert!(e[0].1.contains("its issuer is certificate 3"), "{e:?}");
        // Not PEM at all, in every field, all at once.
        let e = field(check_upload("hello", "x", "y", &want, Utc::now()));
        let fields: Vec<_> = e.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["certificate", "chain", "key"]);
    }

    #[test]
    fn wildcards_cover_one_label() {
        let info = CertInfo {
            names: names(&["*.a.test"]),
            not_before: Utc::now(),
            not_after: Utc::now(),
            issuer: String::new(),
            serial: String::new(),
        };
        assert!(info.covers("www.a.test"));
        assert!(info.covers("WWW.A.TEST"));
        assert!(!info.covers("a.test"));
        assert!(!info.covers("x.www.a.test"));
    }

    #[test]
    fn renewal_is_thirty_days_ahead_or_two_thirds_into_a_short_life() {
        let start = Utc::now();
        let year = renew_at(start, start + chrono::Duration::days(90));
        assert_eq!(year, start + chrono::Duration::days(60));
        let short = renew_at(start, start + chrono::Duration::seconds(60));
        assert_eq!(short, start + chrono::Duration::seconds(40));
        assert_eq!(
            warn_window(start, start + chrono::Duration::days(90)),
            chrono::Duration::days(14)
        );
    }
}
