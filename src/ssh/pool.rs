//! A small per-server connection cache: the health poll (every 15 s per open server page) and
//! package jobs reuse one authenticated session instead of a new SSH handshake each time.
//! Entries are keyed by server and by what the connection was made with (address, user, key,
//! pinned host key), so a changed setting never reuses an old connection; idle ones are dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::client::{HostKey, Session, SshError, Target};
use crate::ids::{ServerId, SshKeyId};

/// A cached connection unused this long is closed.
pub const IDLE: Duration = Duration::from_secs(5 * 60);

struct Entry {
    fingerprint: String,
    session: Arc<Session>,
    last_used: Instant,
}

#[derive(Default)]
pub struct SessionPool {
    entries: Mutex<HashMap<ServerId, Entry>>,
}

impl SessionPool {
    /// A live session to `server` made with exactly these settings, reused or new.
    pub async fn get(
        &self,
        server: ServerId,
        target: &Target,
        key: SshKeyId,
        private_key: &str,
        host_key: &HostKey,
        timeout: Duration,
    ) -> Result<Arc<Session>, SshError> {
        let fingerprint = format!("{target}|{key}|{}", host_key.fingerprint());
        {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            entries.retain(|_, e| now.duration_since(e.last_used) < IDLE && !e.session.is_closed());
            if let Some(e) = entries.get_mut(&server) {
                if e.fingerprint == fingerprint {
                    e.last_used = now;
                    return Ok(e.session.clone());
                }
            }
        }
        let session = Arc::new(Session::connect(target, private_key, host_key, timeout).await?);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(
            server,
            Entry {
                fingerprint,
                session: session.clone(),
                last_used: Instant::now(),
            },
        );
        Ok(session)
    }

    /// Forget a server's connection (after a failure, a key rotation or a delete).
    pub fn forget(&self, server: ServerId) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&server);
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
