//! Secrets at rest: the master key, the AES-256-GCM secret box that binds every ciphertext to its
//! table, column and row, and SSH key generation/parsing with OpenSSH-compatible fingerprints.

pub mod master_key;
pub mod random;
pub mod secret_box;
pub mod ssh;

pub use master_key::MasterKey;
pub use secret_box::{SecretBox, SecretContext, SecretError};
