//! SSH keys: generate ED25519 / RSA-4096, parse what a user pastes or imports (an OpenSSH private
//! key or a public key line), and fingerprint them exactly as `ssh-keygen -lf` does.

use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey};
use zeroize::Zeroizing;

use crate::domain::KeyType;

/// Longest key text accepted: an RSA-16384 private key is ~12 KiB; anything bigger is not a key.
pub const MAX_KEY_TEXT: usize = 16 * 1024;
/// Weakest RSA modulus accepted on import.
const MIN_RSA_BITS: u32 = 2048;

/// A key pair or public key, ready to store.
pub struct ParsedKey {
    pub key_type: KeyType,
    /// `ssh-ed25519 AAAA… comment`
    pub public_openssh: String,
    /// `SHA256:…`, as `ssh-keygen -lf` prints it.
    pub fingerprint: String,
    /// OpenSSH PEM, unencrypted; only ever held in memory and sealed before storage.
    pub private_openssh: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for ParsedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedKey")
            .field("key_type", &self.key_type)
            .field("fingerprint", &self.fingerprint)
            .field("has_private", &self.private_openssh.is_some())
            .finish()
    }
}

/// Why key text was refused; each message is meant for the form field it came from.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("paste a key: the field is empty")]
    Empty,
    #[error("this is {0} KiB; an SSH key is at most 16 KiB")]
    TooLarge(usize),
    #[error(
        "this private key has a passphrase; the panel needs it without one. Remove it on your machine with `ssh-keygen -p -f KEYFILE` (empty new passphrase), then import that copy"
    )]
    Encrypted,
    #[error(
        "this is a PEM/PKCS#8 private key; convert it to OpenSSH format with `ssh-keygen -p -f KEYFILE` and import that"
    )]
    NotOpenSsh,
    #[error("only ED25519 and RSA keys are supported, not {0}")]
    Unsupported(String),
    #[error("RSA keys must have at least 2048 bits; this one has {0}")]
    WeakRsa(u32),
    #[error("this is not an OpenSSH private key or public key line")]
    Malformed,
}

/// Generate a new key pair. RSA-4096 takes a moment: call on a blocking thread.
pub fn generate(key_type: KeyType, comment: &str) -> ParsedKey {
    let algorithm = match key_type {
        KeyType::Ed25519 => Algorithm::Ed25519,
        KeyType::Rsa => Algorithm::Rsa {
            hash: Some(HashAlg::Sha512),
        },
    };
    let mut key = PrivateKey::random(&mut super::random::rng(), algorithm)
        .expect("ED25519 and RSA generation are compiled in");
    key.set_comment(comment);
    from_private(&key).expect("a freshly generated key encodes")
}

/// Parse pasted or imported key text: an OpenSSH private key (unencrypted) or a public key line.
pub fn parse(text: &str) -> Result<ParsedKey, KeyError> {
    if text.len() > MAX_KEY_TEXT {
        return Err(KeyError::TooLarge(text.len().div_ceil(1024)));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(KeyError::Empty);
    }
    if text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----") {
        let key = PrivateKey::from_openssh(text).map_err(|_| KeyError::Malformed)?;
        if key.is_encrypted() {
            return Err(KeyError::Encrypted);
        }
        return from_private(&key);
    }
    if text.starts_with("-----BEGIN ") {
        if text.contains("ENCRYPTED") {
            return Err(KeyError::Encrypted);
        }
        return Err(KeyError::NotOpenSsh);
    }
    // A public key is one line; refuse several so nothing extra rides along.
    if text.lines().count() != 1 {
        return Err(KeyError::Malformed);
    }
    let public = PublicKey::from_openssh(text).map_err(|_| KeyError::Malformed)?;
    from_public(&public)
}

fn key_type_of(algorithm: &Algorithm) -> Result<KeyType, KeyError> {
    match algorithm {
        Algorithm::Ed25519 => Ok(KeyType::Ed25519),
        Algorithm::Rsa { .. } => Ok(KeyType::Rsa),
        other => Err(KeyError::Unsupported(other.as_str().to_owned())),
    }
}

fn check_strength(public: &PublicKey) -> Result<(), KeyError> {
    if let Some(rsa) = public.key_data().rsa() {
        let bits = rsa_bits(rsa.n().as_positive_bytes().unwrap_or_default());
        if bits < MIN_RSA_BITS {
            return Err(KeyError::WeakRsa(bits));
        }
    }
    Ok(())
}

fn rsa_bits(modulus: &[u8]) -> u32 {
    match modulus.iter().position(|b| *b != 0) {
        Some(i) => (modulus.len() - i) as u32 * 8 - modulus[i].leading_zeros(),
        None => 0,
    }
}

fn from_private(key: &PrivateKey) -> Result<ParsedKey, KeyError> {
    let mut parsed = from_public(key.public_key())?;
    parsed.private_openssh = Some(
        key.to_openssh(LineEnding::LF)
            .map_err(|_| KeyError::Malformed)?,
    );
    Ok(parsed)
}

fn from_public(public: &PublicKey) -> Result<ParsedKey, KeyError> {
    let key_type = key_type_of(&public.algorithm())?;
    check_strength(public)?;
    Ok(ParsedKey {
        key_type,
        public_openssh: public.to_openssh().map_err(|_| KeyError::Malformed)?,
        fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
        private_openssh: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ed25519_keys_parse_back_to_the_same_fingerprint() {
        let key = generate(KeyType::Ed25519, "panel-test");
        assert!(key.public_openssh.starts_with("ssh-ed25519 "));
        assert!(key.public_openssh.ends_with(" panel-test"));
        assert!(key.fingerprint.starts_with("SHA256:"));
        let private = key.private_openssh.as_ref().unwrap();
        let again = parse(private).unwrap();
        assert_eq!(again.fingerprint, key.fingerprint);
        let public = parse(&key.public_openssh).unwrap();
        assert_eq!(public.fingerprint, key.fingerprint);
        assert!(public.private_openssh.is_none());
        assert!(
            !format!("{key:?}").contains("PRIVATE"),
            "Debug hides the private key"
        );
    }

    #[test]
    fn bad_key_text_is_refused_with_a_reason() {
        assert_eq!(parse("   ").unwrap_err(), KeyError::Empty);
        assert_eq!(
            parse(&"A".repeat(1 << 20)).unwrap_err(),
            KeyError::TooLarge(1024)
        );
        assert_eq!(
            parse("ssh-ed25519 not-base64!").unwrap_err(),
            KeyError::Malformed
        );
        assert_eq!(parse("hello").unwrap_err(), KeyError::Malformed);
        assert_eq!(
            parse("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----")
                .unwrap_err(),
            KeyError::NotOpenSsh
        );
        let key = generate(KeyType::Ed25519, "x");
        let two_lines = format!("{}\n{}", key.public_openssh, key.public_openssh);
        assert_eq!(parse(&two_lines).unwrap_err(), KeyError::Malformed);
    }

    #[test]
    fn rsa_bit_length_counts_from_the_top_bit() {
        assert_eq!(rsa_bits(&[0x00, 0x80, 0, 0]), 24);
        assert_eq!(rsa_bits(&[0x01, 0]), 9);
        assert_eq!(rsa_bits(&[]), 0);
    }
}
