//! SSH to managed nodes: key authentication with the server's decrypted key, the host key pinned
//! on first contact and checked on every connection after (a changed key is refused), connect
//! and per-command timeouts, and stdout/stderr streamed line by line as they arrive.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_ssh2_tokio::{AuthMethod, Client, ServerCheckMethod};
use ssh_key::{HashAlg, PublicKey};
use tokio::sync::mpsc;

use super::command::{Command, CommandError, Script};

/// Longest line kept from a node; the rest of it is replaced by a marker (untrusted output).
pub const MAX_LINE: usize = 64 * 1024;
/// Output kept per stream per command in the returned result (the job log keeps every line).
pub const MAX_CAPTURE: usize = 1024 * 1024;

/// Where to connect.
#[derive(Clone, Debug)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
}

/// A server's host key, as pinned in `servers.host_key` (OpenSSH public key line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostKey {
    key: PublicKey,
}

impl HostKey {
    pub fn parse(openssh: &str) -> Option<Self> {
        PublicKey::from_openssh(openssh.trim())
            .ok()
            .map(|key| Self { key })
    }

    /// `ssh-ed25519 AAAA…` (no comment), the stored form.
    pub fn to_openssh(&self) -> String {
        let mut key = self.key.clone();
        key.set_comment("");
        key.to_openssh().unwrap_or_default().trim().to_owned()
    }

    /// `SHA256:…`, as `ssh-keygen -lf` shows it.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint(HashAlg::Sha256).to_string()
    }

    /// The base64 key body, as async-ssh2-tokio's pinning wants it.
    fn base64(&self) -> String {
        self.to_openssh()
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("could not connect to {0} within {1:?}")]
    ConnectTimeout(String, Duration),
    #[error("could not connect to {target}: {message}")]
    Connect { target: String, message: String },
    #[error(
        "the host key of {target} changed: expected {expected}, the server offered another key. Refusing to connect (possible man-in-the-middle, or the server was reinstalled)"
    )]
    HostKeyChanged { target: String, expected: String },
    #[error("the server refused the panel's SSH key for {0}")]
    AuthFailed(String),
    #[error("the panel's private key could not be used: {0}")]
    BadKey(String),
    #[error("`{0}` did not finish within {1:?}")]
    CommandTimeout(String, Duration),
    #[error("the connection to {target} broke while running `{program}`: {message}")]
    Broken {
        target: String,
        program: String,
        message: String,
    },
    #[error(transparent)]
    Command(#[from] CommandError),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}:{}", self.user, self.host, self.port)
    }
}

/// Which stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A finished command.
#[derive(Clone, Debug)]
pub struct Output {
    pub exit_code: u32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.exit_code == 0
    }
}

/// First contact: read the key the server presents, without authenticating. The caller shows
/// its fingerprint and pins it.
pub async fn probe_host_key(target: &Target, timeout: Duration) -> Result<HostKey, SshError> {
    struct Recorder(Arc<Mutex<Option<PublicKey>>>);
    impl russh::client::Handler for Recorder {
        type Error = russh::Error;
        async fn check_server_key(&mut self, key: &PublicKey) -> Result<bool, Self::Error> {
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(key.clone());
            // Stop here: nothing is sent to a server we have not pinned yet.
            Ok(false)
        }
    }
    let seen = Arc::new(Mutex::new(None));
    let config = Arc::new(russh::client::Config::default());
    let addr = (target.host.as_str(), target.port);
    let attempt = russh::client::connect(config, addr, Recorder(seen.clone()));
    let result = tokio::time::timeout(timeout, attempt).await;
    if let Some(key) = seen.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Ok(HostKey { key });
    }
    match result {
        Err(_) => Err(SshError::ConnectTimeout(target.to_string(), timeout)),
        Ok(Err(e)) => Err(SshError::Connect {
            target: target.to_string(),
            message: e.to_string(),
        }),
        Ok(Ok(_)) => Err(SshError::Connect {
            target: target.to_string(),
            message: "the server presented no host key".into(),
        }),
    }
}

/// An authenticated connection to a node with a pinned host key.
pub struct Session {
    client: Client,
    target: Target,
}

impl Session {
    pub async fn connect(
        target: &Target,
        private_key: &str,
        pinned: &HostKey,
        timeout: Duration,
    ) -> Result<Session, SshError> {
        let auth = AuthMethod::with_key(private_key, None);
        let check = ServerCheckMethod::PublicKey(pinned.base64());
        let attempt = Client::connect(
            (target.host.as_str(), target.port),
            &target.user,
            auth,
            check,
        );
        let client = match tokio::time::timeout(timeout, attempt).await {
            Err(_) => return Err(SshError::ConnectTimeout(target.to_string(), timeout)),
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(classify(target, pinned, e)),
        };
        Ok(Session {
            client,
            target: target.clone(),
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Run a command; `on_line` sees every line as it arrives (for the job log and SSE).
    pub async fn run(
        &self,
        command: &Command,
        timeout: Duration,
        on_line: impl FnMut(Stream, &str) + Send,
    ) -> Result<Output, SshError> {
        self.exec(command, None, timeout, on_line).await
    }

    /// Run an embedded script (`bash -s -- ARGS`), its body sent on stdin.
    pub async fn run_script(
        &self,
        script: &Script,
        timeout: Duration,
        on_line: impl FnMut(Stream, &str) + Send,
    ) -> Result<Output, SshError> {
        self.exec(
            &script.command(),
            Some(script.body().as_bytes().to_vec()),
            timeout,
            on_line,
        )
        .await
    }

    /// Run a command with `stdin` as its standard input (file contents, SQL with a password:
    /// data that must not appear in the command line, where `ps` would show it).
    pub async fn run_with_stdin(
        &self,
        command: &Command,
        stdin: Vec<u8>,
        timeout: Duration,
        on_line: impl FnMut(Stream, &str) + Send,
    ) -> Result<Output, SshError> {
        self.exec(command, Some(stdin), timeout, on_line).await
    }

    async fn exec(
        &self,
        command: &Command,
        stdin: Option<Vec<u8>>,
        timeout: Duration,
        mut on_line: impl FnMut(Stream, &str) + Send,
    ) -> Result<Output, SshError> {
        // A constant prefix: the administration tools live in sbin, which Debian's sshd leaves
        // out of a non-root user's PATH (`getenforce`, `selinuxenabled`, `matchpathcon`).
        let line = format!("{REMOTE_PATH}{}", command.render()?);
        let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(64);
        let (err_tx, mut err_rx) = mpsc::channel::<Vec<u8>>(64);
        // One sender stays open (`_stdin_open`) until the command has finished: async-ssh2-tokio's
        // `execute_io` polls a closed stdin channel again at once on every turn of its loop, so
        // a channel closed after the EOF spun a core for as long as the command ran (a
        // long-polling audit read for all its 25 s).
        let (stdin_rx, _stdin_open) = match stdin {
            Some(body) => {
                let (tx, rx) = mpsc::channel::<Vec<u8>>(2);
                let open = tx.clone();
                tokio::spawn(async move {
                    let _ = tx.send(body).await;
                    // An empty message closes stdin (EOF) for the remote side.
                    let _ = tx.send(Vec::new()).await;
                });
                (Some(rx), Some(open))
            }
            None => (None, None),
        };
        let exec = self
            .client
            .execute_io(&line, out_tx, Some(err_tx), stdin_rx, false, None);
        tokio::pin!(exec);
        let mut out = Lines::default();
        let mut err = Lines::default();
        let run = async {
            let result = loop {
                tokio::select! {
                    r = &mut exec => break r,
                    Some(chunk) = out_rx.recv() => out.push(&chunk, |l| on_line(Stream::Stdout, l)),
                    Some(chunk) = err_rx.recv() => err.push(&chunk, |l| on_line(Stream::Stderr, l)),
                }
            };
            while let Ok(chunk) = out_rx.try_recv() {
                out.push(&chunk, |l| on_line(Stream::Stdout, l));
            }
            while let Ok(chunk) = err_rx.try_recv() {
                err.push(&chunk, |l| on_line(Stream::Stderr, l));
            }
            out.finish(|l| on_line(Stream::Stdout, l));
            err.finish(|l| on_line(Stream::Stderr, l));
            result
        };
        let program = command.program().to_owned();
        match tokio::time::timeout(timeout, run).await {
            Err(_) => Err(SshError::CommandTimeout(program, timeout)),
            Ok(Err(e)) => Err(SshError::Broken {
                target: self.target.to_string(),
                program,
                message: e.to_string(),
            }),
            Ok(Ok(exit_code)) => Ok(Output {
                exit_code,
                stdout: out.captured,
                stderr: err.captured,
            }),
        }
    }

    pub async fn disconnect(self) {
        let _ = self.client.disconnect().await;
    }
}

fn classify(target: &Target, pinned: &HostKey, e: async_ssh2_tokio::Error) -> SshError {
    use async_ssh2_tokio::Error as E;
    match e {
        E::ServerCheckFailed | E::SshError(russh::Error::UnknownKey) => SshError::HostKeyChanged {
            target: target.to_string(),
            expected: pinned.fingerprint(),
        },
        E::KeyAuthFailed => SshError::AuthFailed(target.to_string()),
        E::KeyInvalid(k) => SshError::BadKey(k.to_string()),
        other => SshError::Connect {
            target: target.to_string(),
            message: other.to_string(),
        },
    }
}

/// Every remote command line starts with this (constant text, no data).
pub const REMOTE_PATH: &str =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH; ";

/// Splits a byte stream into lines: lossy UTF-8, `\r` dropped, each line bounded.
#[derive(Default)]
struct Lines {
    partial: Vec<u8>,
    captured: String,
}

impl Lines {
    fn push(&mut self, chunk: &[u8], mut emit: impl FnMut(&str)) {
        for &b in chunk {
            if b == b'\n' {
                self.flush(&mut emit);
            } else if self.partial.len() < MAX_LINE {
                self.partial.push(b);
            } else if self.partial.len() == MAX_LINE {
                self.partial
                    .extend_from_slice(" [line truncated]".as_bytes());
            }
        }
    }

    fn flush(&mut self, emit: &mut impl FnMut(&str)) {
        let text = String::from_utf8_lossy(&self.partial);
        let line = text.trim_end_matches('\r');
        emit(line);
        if self.captured.len() + line.len() < MAX_CAPTURE {
            self.captured.push_str(line);
            self.captured.push('\n');
        }
        self.partial.clear();
    }

    fn finish(&mut self, mut emit: impl FnMut(&str)) {
        if !self.partial.is_empty() {
            self.flush(&mut emit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_bounded_and_lossy() {
        let mut l = Lines::default();
        let mut seen = Vec::new();
        l.push(b"one\r\ntw", |s| seen.push(s.to_owned()));
        l.push(b"o\n\xff\xfebad\n", |s| seen.push(s.to_owned()));
        l.push(&vec![b'x'; MAX_LINE + 10], |s| seen.push(s.to_owned()));
        l.finish(|s| seen.push(s.to_owned()));
        assert_eq!(seen[0], "one");
        assert_eq!(seen[1], "two");
        assert_eq!(seen[2], "\u{fffd}\u{fffd}bad");
        assert!(seen[3].ends_with("[line truncated]") && seen[3].len() < MAX_LINE + 20);
    }
}
