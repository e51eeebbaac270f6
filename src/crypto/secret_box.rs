//! AES-256-GCM secret box. Format (version 1):
//! `0x01 | key id (4 bytes, big endian) | nonce (12 bytes) | ciphertext + 16-byte tag`.
//! The associated data names the table, column and row the value belongs to, so a ciphertext
//! copied into another row or column fails authentication instead of decrypting.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

use super::MasterKey;
use super::random;

const VERSION: u8 = 1;
const HEADER: usize = 1 + 4 + 12;
const TAG: usize = 16;

/// Where a secret lives; bound into the ciphertext as associated data.
#[derive(Clone, Copy, Debug)]
pub struct SecretContext<'a> {
    pub table: &'static str,
    pub column: &'static str,
    pub row_id: &'a str,
}

impl<'a> SecretContext<'a> {
    pub fn new(table: &'static str, column: &'static str, row_id: &'a str) -> Self {
        Self {
            table,
            column,
            row_id,
        }
    }

    fn aad(&self) -> Vec<u8> {
        format!("panel/v1\0{}\0{}\0{}", self.table, self.column, self.row_id).into_bytes()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("stored secret {table}.{column} of row {row_id} is not in a format this panel knows")]
    Malformed {
        table: &'static str,
        column: &'static str,
        row_id: String,
    },
    #[error(
        "stored secret {table}.{column} of row {row_id} was encrypted with master key {key_id:08x}, which this panel does not have"
    )]
    UnknownKey {
        table: &'static str,
        column: &'static str,
        row_id: String,
        key_id: u32,
    },
    #[error(
        "stored secret {table}.{column} of row {row_id} failed authentication: it was altered or belongs to another row"
    )]
    Tampered {
        table: &'static str,
        column: &'static str,
        row_id: String,
    },
}

/// Seals with the current key; opens with any key it holds (the previous one only during a
/// rotation).
#[derive(Clone, Debug)]
pub struct SecretBox {
    current: MasterKey,
    others: Vec<MasterKey>,
}

impl SecretBox {
    pub fn new(current: MasterKey) -> Self {
        Self {
            current,
            others: Vec::new(),
        }
    }

    /// A box that seals with `current` and can still open values sealed with `others`.
    pub fn with_fallback(current: MasterKey, others: Vec<MasterKey>) -> Self {
        Self { current, others }
    }

    pub fn current_key_id(&self) -> u32 {
        self.current.id()
    }

    pub fn seal(&self, plaintext: &[u8], ctx: SecretContext<'_>) -> Vec<u8> {
        let nonce_bytes = random::bytes::<12>();
        let cipher = Aes256Gcm::new_from_slice(self.current.bytes()).expect("32-byte key");
        let aad = ctx.aad();
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce_bytes),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(HEADER + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&self.current.id().to_be_bytes());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(
        &self,
        sealed: &[u8],
        ctx: SecretContext<'_>,
    ) -> Result<Zeroizing<Vec<u8>>, SecretError> {
        let malformed = || SecretError::Malformed {
            table: ctx.table,
            column: ctx.column,
            row_id: ctx.row_id.to_owned(),
        };
        if sealed.len() < HEADER + TAG || sealed[0] != VERSION {
            return Err(malformed());
        }
        let key_id = u32::from_be_bytes(sealed[1..5].try_into().expect("4 bytes"));
        let key = std::iter::once(&self.current)
            .chain(&self.others)
            .find(|k| k.id() == key_id)
            .ok_or_else(|| SecretError::UnknownKey {
                table: ctx.table,
                column: ctx.column,
                row_id: ctx.row_id.to_owned(),
                key_id,
            })?;
        let nonce: [u8; 12] = sealed[5..HEADER].try_into().expect("12 bytes");
        let cipher = Aes256Gcm::new_from_slice(key.bytes()).expect("32-byte key");
        let aad = ctx.aad();
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &sealed[HEADER..],
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SecretError::Tampered {
                table: ctx.table,
                column: ctx.column,
                row_id: ctx.row_id.to_owned(),
            })
    }

    /// Key id a sealed value names, if it is well-formed.
    pub fn key_id_of(sealed: &[u8]) -> Option<u32> {
        (sealed.len() >= HEADER + TAG && sealed[0] == VERSION)
            .then(|| u32::from_be_bytes(sealed[1..5].try_into().expect("4 bytes")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(row: &str) -> SecretContext<'_> {
        SecretContext::new("databases", "password_encrypted", row)
    }

    #[test]
    fn round_trip_with_a_fresh_nonce_each_time() {
        let b = SecretBox::new(MasterKey::generate());
        let one = b.seal(b"hunter2", ctx("A"));
        let two = b.seal(b"hunter2", ctx("A"));
        assert_ne!(one, two, "fresh nonce per encryption");
        assert_eq!(b.open(&one, ctx("A")).unwrap().as_slice(), b"hunter2");
        assert!(!one.windows(7).any(|w| w == b"hunter2"));
    }

    #[test]
    fn moved_tampered_or_foreign_values_fail_clearly() {
        let b = SecretBox::new(MasterKey::generate());
        let sealed = b.seal(b"secret", ctx("A"));
        assert!(matches!(
            b.open(&sealed, ctx("B")),
            Err(SecretError::Tampered { .. })
        ));
        let other_column = SecretContext::new("ssh_keys", "private_key_encrypted", "A");
        assert!(matches!(
            b.open(&sealed, other_column),
            Err(SecretError::Tampered { .. })
        ));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        let err = b.open(&flipped, ctx("A")).unwrap_err();
        assert!(
            err.to_string()
                .contains("altered or belongs to another row"),
            "{err}"
        );
        assert!(matches!(
            b.open(&sealed[..10], ctx("A")),
            Err(SecretError::Malformed { .. })
        ));
        let stranger = SecretBox::new(MasterKey::generate());
        assert!(matches!(
            stranger.open(&sealed, ctx("A")),
            Err(SecretError::UnknownKey { .. })
        ));
    }

    #[test]
    fn a_fallback_key_still_opens_old_values() {
        let old = MasterKey::generate();
        let sealed = SecretBox::new(old.clone()).seal(b"x", ctx("A"));
        let both = SecretBox::with_fallback(MasterKey::generate(), vec![old]);
        assert_eq!(both.open(&sealed, ctx("A")).unwrap().as_slice(), b"x");
        assert_ne!(
            SecretBox::key_id_of(&both.seal(b"x", ctx("A"))),
            SecretBox::key_id_of(&sealed)
        );
    }
}
