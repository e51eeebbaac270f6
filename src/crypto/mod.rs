//! Secrets at rest: the master key, the AES-256-GCM secret box that binds every ciphertext to its
//! table, column and row, and SSH key generation/parsing with OpenSSH-compatible fingerprints.

pub mod master_key;
pub mod random;
pub mod secret_box;
pub mod ssh;

pub use master_key::MasterKey;

/// Equal bytes, compared in time that does not depend on where they differ (tokens, MACs).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
pub use secret_box::{SecretBox, SecretContext, SecretError};
