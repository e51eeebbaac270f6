//! The master key: 32 random bytes that encrypt every secret in the database. It comes from
//! `PANEL_KEY` (base64) or from `master.key` in the data dir, created on first start with mode 0600.
//! A key file others can read is refused: it would expose every secret.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// File name of the master key inside the data dir.
pub const KEY_FILE: &str = "master.key";
/// A rotation in progress writes the next key here first (see `secrets::rotate`).
pub const NEXT_KEY_FILE: &str = "master.key.next";

#[derive(Clone)]
pub struct MasterKey {
    bytes: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey(id {:08x})", self.id())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("PANEL_KEY must be 32 bytes in base64 (e.g. from `openssl rand -base64 32`)")]
    BadEnv,
    #[error(
        "{0} is readable by other users (mode {1:o}); run `chmod 600 {0}` — it protects every secret"
    )]
    TooOpen(PathBuf, u32),
    #[error("{0} does not hold a 32-byte base64 key")]
    BadFile(PathBuf),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

impl MasterKey {
    pub fn generate() -> Self {
        Self {
            bytes: Zeroizing::new(super::random::bytes::<32>()),
        }
    }

    pub fn from_base64(text: &str) -> Option<Self> {
        let raw = Zeroizing::new(STANDARD.decode(text.trim()).ok()?);
        let bytes: [u8; 32] = raw.as_slice().try_into().ok()?;
        Some(Self {
            bytes: Zeroizing::new(bytes),
        })
    }

    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(*self.bytes))
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// A short public id (first 4 bytes of SHA-256 of the key), stored with each ciphertext so
    /// the right key is picked and a wrong key is reported as such.
    pub fn id(&self) -> u32 {
        let digest = Sha256::digest(*self.bytes);
        u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
    }

    /// Load from `PANEL_KEY` if set, else from the key file in `data_dir` (creating it).
    pub fn load(data_dir: &Path, env_key: Option<&str>) -> Result<Self, MasterKeyError> {
        match env_key {
            Some(text) => Self::from_base64(text).ok_or(MasterKeyError::BadEnv),
            None => Self::load_or_create_file(&data_dir.join(KEY_FILE)),
        }
    }

    pub fn load_or_create_file(path: &Path) -> Result<Self, MasterKeyError> {
        match Self::read_file(path)? {
            Some(key) => Ok(key),
            None => {
                let key = Self::generate();
                key.write_new_file(path)?;
                tracing::info!("created master key {}", path.display());
                Ok(key)
            }
        }
    }

    /// Read a key file; `None` if it does not exist. Refuses group/world-accessible files.
    pub fn read_file(path: &Path) -> Result<Option<Self>, MasterKeyError> {
        let meta = match fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(MasterKeyError::Io(path.to_owned(), e)),
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(MasterKeyError::TooOpen(path.to_owned(), mode));
        }
        let text = Zeroizing::new(
            fs::read_to_string(path).map_err(|e| MasterKeyError::Io(path.to_owned(), e))?,
        );
        Self::from_base64(&text)
            .map(Some)
            .ok_or_else(|| MasterKeyError::BadFile(path.to_owned()))
    }

    /// Write the key to a file that must not exist yet, created 0600 and synced to disk.
    pub fn write_new_file(&self, path: &Path) -> Result<(), MasterKeyError> {
        let io = |e| MasterKeyError::Io(path.to_owned(), e);
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        let mut text = self.to_base64();
        text.push('\n');
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_load_creates_a_private_file_and_later_loads_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let a = MasterKey::load(dir.path(), None).unwrap();
        let path = dir.path().join(KEY_FILE);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let b = MasterKey::load(dir.path(), None).unwrap();
        assert_eq!(a.bytes(), b.bytes());
        assert!(
            !format!("{a:?}").contains(&*a.to_base64()),
            "Debug never shows the key"
        );
    }

    #[test]
    fn readable_key_files_and_bad_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        MasterKey::load(dir.path(), None).unwrap();
        let path = dir.path().join(KEY_FILE);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = MasterKey::load(dir.path(), None).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        assert!(matches!(
            MasterKey::load(dir.path(), Some("c2hvcnQ=")),
            Err(MasterKeyError::BadEnv)
        ));
        let key = MasterKey::generate();
        let from_env = MasterKey::load(dir.path(), Some(&key.to_base64())).unwrap();
        assert_eq!(from_env.id(), key.id());
    }
}
