//! A git host's SSH keys as `known_hosts` lines (`HOST TYPE BASE64`, `[HOST]:PORT` off port 22):
//! what a scan from a site's server found, what a person confirmed, and the fingerprints the
//! well-known hosts publish, which confirm a scan by themselves. Text from a node is parsed
//! here into these values and nothing else is kept of it.

use base64::Engine;
use sha2::{Digest, Sha256};

/// At most this many keys of one host are kept (a host serves one per key type).
pub const MAX_KEYS: usize = 8;

/// Key types a git host may present (what the panel's ssh client accepts).
const KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
];

/// The published SHA256 fingerprints of the well-known git hosts (their documentation pages:
/// GitHub "GitHub's SSH key fingerprints", GitLab.com settings, Bitbucket Cloud "Configure SSH",
/// Codeberg "Verifying you're connected to Codeberg"). A scan of one of these hosts is confirmed
/// only if every key it found is listed here.
const PUBLISHED: &[(&str, &[&str])] = &[
    (
        "github.com",
        &[
            "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU",
            "SHA256:p2QAMXNIC1TJYWeIOttrVc98/R1BUFWu3/LiyKgUfQM",
            "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
        ],
    ),
    (
        "gitlab.com",
        &[
            "SHA256:eUXGGm1YGsMAS7vkcx6JOJdOGHPem5gQp4taiCfCLB8",
            "SHA256:HbW3g8zUjNSksFbqTiUWPWg2Bq1x8xdGUrliXFzSnUw",
            "SHA256:ROQFvPThGrW4RuWLoL9tq9I9zJ42fK4XywyRtbOz/EQ",
        ],
    ),
    (
        "bitbucket.org",
        &[
            "SHA256:ybgmFkzwOSotHTHLJgHO0QN8L0xErw6vd0VhFA9m3SM",
            "SHA256:FC73VB6C4OQLSCrjEayhMp9UMxS97caD/Yyi2bhW/J0",
            "SHA256:46OSHA1Rmj8E8ERTC6xkNcmGOw9oFxYr0WF6zWW8l1E",
        ],
    ),
    (
        "codeberg.org",
        &[
            "SHA256:mIlxA9k46MmM6qdJOdMnAQpzGxF4WIVVL+fj+wZbw0g",
            "SHA256:T9FYDEHELhVkulEKKwge5aVhVTbqCW0MIRwAfpARs/E",
            "SHA256:6QQmYi4ppFS4/+zSZ5S4IU+4sa6rwvQ4PbhCtPEBekQ",
        ],
    ),
];

/// The fingerprints a well-known host publishes, if `host` is one.
pub fn published(host: &str) -> Option<&'static [&'static str]> {
    PUBLISHED
        .iter()
        .find(|(h, _)| *h == host)
        .map(|(_, fps)| *fps)
}

/// How `known_hosts` names a host on a port.
pub fn pattern(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    }
}

/// One host key line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownHost {
    pattern: String,
    key_type: String,
    key: String,
    fingerprint: String,
}

impl KnownHost {
    /// `PATTERN TYPE BASE64` for the host `expected` names; anything else (comments, other
    /// hosts, hashed names, unknown types, malformed keys) is `None`.
    pub fn parse(line: &str, expected: &str) -> Option<KnownHost> {
        let mut words = line.split_ascii_whitespace();
        let (pattern, key_type, key) = (words.next()?, words.next()?, words.next()?);
        if pattern != expected || !KEY_TYPES.contains(&key_type) || key.len() > 4096 {
            return None;
        }
        let blob = base64::engine::general_purpose::STANDARD.decode(key).ok()?;
        // The blob starts with its own type name (RFC 4253 §6.6): it must say what the line says.
        let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
        if blob.get(4..4 + len)? != key_type.as_bytes() {
            return None;
        }
        let digest = Sha256::digest(&blob);
        let fingerprint = format!(
            "SHA256:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
        );
        Some(KnownHost {
            pattern: pattern.to_owned(),
            key_type: key_type.to_owned(),
            key: key.to_owned(),
            fingerprint,
        })
    }

    /// The keys of `expected` in a scan's (or a stored list's) lines, each once, at most
    /// `MAX_KEYS`.
    pub fn parse_all(text: &str, expected: &str) -> Vec<KnownHost> {
        let mut out: Vec<KnownHost> = Vec::new();
        for k in text.lines().filter_map(|l| KnownHost::parse(l, expected)) {
            if out.len() < MAX_KEYS && !out.iter().any(|o| o.fingerprint == k.fingerprint) {
                out.push(k);
            }
        }
        out
    }

    /// The line as `known_hosts` wants it.
    pub fn line(&self) -> String {
        format!("{} {} {}", self.pattern, self.key_type, self.key)
    }

    pub fn key_type(&self) -> &str {
        &self.key_type
    }

    /// `SHA256:…`, as `ssh-keygen -lf` shows it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// Lines as stored (one per line).
pub fn to_text(keys: &[KnownHost]) -> String {
    keys.iter().map(|k| k.line() + "\n").collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // GitHub's published ed25519 key and fingerprint.
    const GITHUB: &str = "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

    #[test]
    fn a_scanned_line_gets_the_fingerprint_ssh_keygen_shows() {
        let k = KnownHost::parse(GITHUB, "github.com").unwrap();
        assert_eq!(
            k.fingerprint(),
            "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU"
        );
        assert!(published("github.com").unwrap().contains(&k.fingerprint()));
        assert_eq!(k.line(), GITHUB);
    }

    #[test]
    fn other_hosts_types_and_junk_are_not_keys() {
        assert!(KnownHost::parse(GITHUB, "gitlab.com").is_none());
        assert!(KnownHost::parse("# github.com:22 SSH-2.0-babeld", "#").is_none());
        assert!(KnownHost::parse("github.com ssh-dss AAAA", "github.com").is_none());
        // The blob names another type than the line.
        let lying = GITHUB.replace("ssh-ed25519", "ssh-rsa");
        assert!(KnownHost::parse(&lying, "github.com").is_none());
        assert!(KnownHost::parse("github.com ssh-ed25519 !!!", "github.com").is_none());
        assert_eq!(pattern("git.example.com", 2222), "[git.example.com]:2222");
        let text = format!("{GITHUB}\n{GITHUB}\n# comment\nnot a line\n");
        assert_eq!(KnownHost::parse_all(&text, "github.com").len(), 1);
    }
}
