//! The panel's own HTTPS: a certificate resolver whose certificate is swapped while the panel
//! runs (files reloaded on change, ACME renewals), and the rustls server configuration over it
//! (TLS 1.2 and 1.3, ring's cipher suites: all forward-secret AEAD).

use std::sync::{Arc, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// The certificate the panel serves now (none yet: handshakes fail until one is set).
#[derive(Default)]
pub struct CertStore {
    current: RwLock<Option<Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for CertStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CertStore")
    }
}

impl CertStore {
    pub fn new() -> Arc<CertStore> {
        Arc::default()
    }

    /// Serve `chain_pem` (leaf first) with `key_pem` from the next handshake on.
    pub fn set_pem(&self, chain_pem: &str, key_pem: &str) -> Result<(), String> {
        let key = certified_key(chain_pem, key_pem)?;
        *self.current.write().expect("not poisoned") = Some(Arc::new(key));
        Ok(())
    }

    pub fn is_set(&self) -> bool {
        self.current.read().expect("not poisoned").is_some()
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().expect("not poisoned").clone()
    }
}

/// A chain and key rustls can serve; the key must match the leaf.
pub fn certified_key(chain_pem: &str, key_pem: &str) -> Result<CertifiedKey, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| "the certificate file is not PEM certificates".to_owned())?;
    if chain.is_empty() {
        return Err("the certificate file holds no certificate".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|_| "the key file is not a PEM private key".to_owned())?;
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("the key cannot be used: {e}"))?;
    let certified = CertifiedKey::new(chain, signing);
    certified
        .keys_match()
        .map_err(|_| "the key does not belong to the certificate".to_owned())?;
    Ok(certified)
}

/// The server configuration: TLS 1.2 and 1.3 with ring, certificates from `store`.
pub fn server_config(store: Arc<CertStore>) -> Arc<rustls::ServerConfig> {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
    .expect("ring supports TLS 1.2 and 1.3")
    .with_no_client_auth()
    .with_cert_resolver(store);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_must_belong_to_its_certificate() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["panel.test".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let other = rcgen::KeyPair::generate().unwrap();
        let store = CertStore::new();
        assert!(!store.is_set());
        assert!(store.set_pem(&cert.pem(), &key.serialize_pem()).is_ok());
        assert!(store.is_set());
        assert_eq!(
            store.set_pem(&cert.pem(), &other.serialize_pem()),
            Err("the key does not belong to the certificate".into())
        );
        assert!(certified_key("nope", &key.serialize_pem()).is_err());
    }
}
