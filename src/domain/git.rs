//! Git values a site's deployments are made of: the repository's address, the branch, a commit
//! hash, the deploy script and how many releases to keep. Each is parsed here, at the edge, so
//! nothing later holds a value git could read as an option or a transport it should not use
//! (Coolify's `git ls-remote` injection; `ext::` and `file://` transports; `--upload-pack=`).

use std::fmt;

use super::Hostname;

/// Longest repository address accepted.
const MAX_URL: usize = 500;
/// Longest branch name accepted (git itself allows more; no real branch needs it).
const MAX_BRANCH: usize = 200;
/// Largest deploy script stored.
pub const MAX_SCRIPT: usize = 64 * 1024;
/// Releases a site may keep on its server.
pub const MAX_KEEP: u32 = 50;

/// How a repository is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// `git@host:path` or `ssh://[user@]host[:port]/path`, with the site's deploy key.
    Ssh,
    /// `https://host[:port]/path`, public repositories (no credentials in the address).
    Https,
}

/// A repository address: `git@host:owner/repo.git`, `ssh://…` or `https://…` only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoUrl {
    text: String,
    transport: Transport,
    host: String,
    port: u16,
}

fn show(text: &str) -> String {
    text.chars()
        .take(60)
        .collect::<String>()
        .escape_debug()
        .to_string()
}

/// The path part of an address: plain characters, no `..` segment.
fn check_path(path: &str) -> Result<(), String> {
    let bare = path.trim_start_matches('/');
    if bare.is_empty() {
        return Err("the address names no repository (nothing after the host)".into());
    }
    if let Some(c) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '~' | '/' | '+')))
    {
        return Err(format!(
            "`{}` cannot be part of a repository path (letters, digits, `.`, `_`, `-`, `~`, `+` and `/` only)",
            c.escape_debug()
        ));
    }
    if bare.starts_with('-') {
        return Err("the repository path cannot start with `-`".into());
    }
    if path.split('/').any(|s| s == "..") {
        return Err("the repository path cannot contain `..`".into());
    }
    Ok(())
}

/// `host[:port]`, the host a plain name or IPv4 address.
fn check_authority(authority: &str) -> Result<(String, Option<u16>), String> {
    if authority.contains('@') {
        return Err("put no user name or password in an https address: public repositories need none, private ones are reached over ssh with the site's deploy key".into());
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if host.starts_with('[') {
        return Err(
            "IPv6 addresses are not supported in repository addresses; use a host name".into(),
        );
    }
    if host.starts_with('-') {
        return Err("the host cannot start with `-`".into());
    }
    let host = Hostname::parse(host).map_err(|m| format!("host: {m}"))?;
    let port = port
        .map(|p| super::SshPort::parse(p).map(|p| p.get()))
        .transpose()
        .map_err(|m| format!("port: {m}"))?;
    Ok((host.as_str().to_owned(), port))
}

/// A user name before `@` in an ssh address.
fn check_user(user: &str) -> Result<(), String> {
    let mut chars = user.chars();
    let ok = user.len() <= 32
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a user name for an ssh address (like `git`)",
            show(user)
        ))
    }
}

impl RepoUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        // Spaces around a pasted value go; a newline or other control character is refused.
        let t = text.trim_matches([' ', '\t']);
        if t.is_empty() {
            return Err(
                "enter the repository's address, like git@github.com:owner/repo.git".into(),
            );
        }
        if t.len() > MAX_URL {
            return Err(format!("at most {MAX_URL} characters"));
        }
        if t.starts_with('-') {
            return Err("an address cannot start with `-` (git would read it as an option)".into());
        }
        let lower = t.to_ascii_lowercase();
        // `ext::sh -c …` and other remote helpers run programs; `file://` reads the server's
        // own disk; `git://` and `http://` are unauthenticated and in clear text.
        if let Some((scheme, _)) = lower.split_once("::") {
            if !scheme.contains('/') {
                return Err(format!(
                    "`{}::` is a git transport helper, which can run programs; only ssh and https repositories are allowed",
                    show(scheme)
                ));
            }
        }
        if t.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("an address has no spaces, newlines or control characters".into());
        }
        let (transport, host, port) = if let Some(rest) = lower
            .starts_with("https://")
            .then(|| &t["https://".len()..])
        {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            if path.contains(['?', '#']) {
                return Err("an https address has no query or fragment (`?`, `#`)".into());
            }
            let (host, port) = check_authority(authority)?;
            check_path(path)?;
            (Transport::Https, host, port.unwrap_or(443))
        } else if let Some(rest) = lower.starts_with("ssh://").then(|| &t["ssh://".len()..]) {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let authority = match authority.split_once('@') {
                Some((user, hostport)) => {
                    check_user(user)?;
                    hostport
                }
                None => authority,
            };
            let (host, port) = check_authority(authority)?;
            check_path(path)?;
            (Transport::Ssh, host, port.unwrap_or(22))
        } else if let Some((scheme, _)) = lower.split_once("://") {
            return Err(format!(
                "`{}://` addresses are refused; use ssh (git@host:owner/repo.git or ssh://…) or https://",
                show(scheme)
            ));
        } else {
            // scp-like: user@host:path.
            let Some((user, rest)) = t.split_once('@') else {
                return Err("use git@host:owner/repo.git, ssh://… or https://…".into());
            };
            let Some((host, path)) = rest.split_once(':') else {
                return Err(
                    "an ssh address is user@host:path, like git@github.com:owner/repo.git".into(),
                );
            };
            check_user(user)?;
            if host.contains('/') {
                return Err(
                    "an ssh address is user@host:path, like git@github.com:owner/repo.git".into(),
                );
            }
            // scp-like addresses have no port: what follows the colon is the path.
            let (host, _) = check_authority(host)?;
            check_path(path)?;
            (Transport::Ssh, host, 22)
        };
        Ok(Self {
            text: t.to_owned(),
            transport,
            host,
            port,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The host name (or address) the repository is on, lowercased.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port the host is reached on (22 for ssh, 443 for https unless the address says).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How `known_hosts` names the host, for an ssh repository.
    pub fn known_hosts_pattern(&self) -> Option<String> {
        (self.transport == Transport::Ssh)
            .then(|| super::known_hosts::pattern(&self.host, self.port))
    }
}

impl fmt::Display for RepoUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A branch name: letters, digits, `.`, `_`, `-`, `+` and `/`, in git's own rules (no `..`,
/// no component starting with `.` or ending in `.lock`), never starting with `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitBranch(String);

impl GitBranch {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim_matches([' ', '\t']);
        if t.is_empty() {
            return Err("enter a branch, like main".into());
        }
        if t.len() > MAX_BRANCH {
            return Err(format!("at most {MAX_BRANCH} characters"));
        }
        if t.chars().any(char::is_control) {
            return Err("a branch name has no newlines or control characters".into());
        }
        if let Some(c) = t
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '/')))
        {
            return Err(format!(
                "`{}` cannot be part of a branch name (letters, digits, `.`, `_`, `-`, `+` and `/` only)",
                c.escape_debug()
            ));
        }
        if t.starts_with('-') {
            return Err("a branch cannot start with `-` (git would read it as an option)".into());
        }
        if t.contains("..") {
            return Err("a branch name cannot contain `..`".into());
        }
        if t == "HEAD" || t.starts_with("refs/") {
            return Err("name the branch itself, like main".into());
        }
        for part in t.split('/') {
            if part.is_empty() {
                return Err(
                    "a branch name has no empty parts (no leading, trailing or double `/`)".into(),
                );
            }
            if part.starts_with('.') || part.ends_with(".lock") || part.ends_with('.') {
                return Err(
                    "no part of a branch name may start with `.` or end with `.` or `.lock`".into(),
                );
            }
        }
        Ok(Self(t.to_owned()))
    }

    /// The branch a push to `ref` (`refs/heads/NAME`) updated; `None` for tags and the like.
    pub fn from_ref(git_ref: &str) -> Option<Self> {
        git_ref
            .strip_prefix("refs/heads/")
            .and_then(|b| Self::parse(b).ok())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GitBranch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A full commit hash: 40 hexadecimal characters, stored lowercase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitHash(String);

impl CommitHash {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.len() != 40 || !t.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("a commit is 40 hexadecimal characters".into());
        }
        Ok(Self(t.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first ten characters, as lists show it.
    pub fn short(&self) -> &str {
        &self.0[..10]
    }
}

impl fmt::Display for CommitHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The deploy script as edited in the panel: any bash the site's owner wants run as the site
/// user, at most 64 KiB, no NUL; line ends normalised to `\n`. It travels to the node as a
/// file's contents, never as part of a command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployScript(String);

impl DeployScript {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.contains('\0') {
            return Err("the script cannot contain a NUL byte".into());
        }
        let mut t = text.replace("\r\n", "\n");
        if t.len() > MAX_SCRIPT {
            return Err(format!("at most {} KiB", MAX_SCRIPT / 1024));
        }
        if !t.is_empty() && !t.ends_with('\n') {
            t.push('\n');
        }
        Ok(Self(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether there is anything to run (only comments and blank lines count as nothing).
    pub fn is_empty(&self) -> bool {
        self.0
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    }
}

/// How many releases stay on the server (the live one included): 1–50.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeepReleases(u32);

impl KeepReleases {
    pub const DEFAULT: KeepReleases = KeepReleases(5);

    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().parse::<u32>() {
            Ok(n @ 1..=MAX_KEEP) => Ok(Self(n)),
            _ => Err(format!("a number from 1 to {MAX_KEEP}")),
        }
    }

    /// The stored number (checked by the column's CHECK); the default if it is out of range.
    pub fn from_stored(n: i64) -> Self {
        match u32::try_from(n) {
            Ok(n @ 1..=MAX_KEEP) => Self(n),
            _ => Self::DEFAULT,
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_and_https_addresses_are_accepted() {
        for (url, transport, host) in [
            (
                "git@github.com:owner/repo.git",
                Transport::Ssh,
                "github.com",
            ),
            (
                "git@10.201.5.2:/srv/git/app.git",
                Transport::Ssh,
                "10.201.5.2",
            ),
            (
                "ssh://git@gitlab.example.com:2222/group/sub/repo.git",
                Transport::Ssh,
                "gitlab.example.com",
            ),
            (
                "ssh://git.example.com/repo",
                Transport::Ssh,
                "git.example.com",
            ),
            (
                "https://github.com/laravel/laravel.git",
                Transport::Https,
                "github.com",
            ),
            (
                "  HTTPS://GitHub.com/Owner/Repo  ",
                Transport::Https,
                "github.com",
            ),
        ] {
            let u = RepoUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!((u.transport(), u.host()), (transport, host), "{url}");
        }
        assert_eq!(
            RepoUrl::parse(" git@github.com:o/r.git\t")
                .unwrap()
                .as_str(),
            "git@github.com:o/r.git"
        );
    }

    #[test]
    fn hostile_addresses_are_refused() {
        for url in [
            "--upload-pack=touch /tmp/x",
            "-c core.sshCommand=id",
            "ext::sh -c id",
            "ext::sh -c touch% /tmp/x",
            "file:///etc",
            "FILE:///etc/passwd",
            "git://github.com/o/r.git",
            "http://github.com/o/r.git",
            "https://user:token@github.com/o/r.git",
            "https://github.com/o/r.git?x=1",
            "ssh://-oProxyCommand=id/x",
            "git@-oProxyCommand=id:x",
            "git@host:-x",
            "git@host:../../etc",
            "git@host:o/r.git;id",
            "git@host:o/$(id).git",
            "git@host:o/`id`.git",
            "git@host:o/r.git\nid",
            "ssh://git@[::1]/x",
            "/srv/git/app.git",
            "./app.git",
            "github.com/o/r",
            "git@host",
            "https://github.com",
            "",
        ] {
            assert!(RepoUrl::parse(url).is_err(), "{url:?} was accepted");
        }
        assert!(RepoUrl::parse(&format!("git@h.com:{}", "a".repeat(600))).is_err());
        assert!(
            RepoUrl::parse("ext::sh -c id")
                .unwrap_err()
                .contains("transport helper")
        );
    }

    #[test]
    fn branches_follow_gits_rules_and_never_look_like_options() {
        for ok in ["main", "release/2.x", "feature/a-b_c+d", "v1.2"] {
            assert_eq!(GitBranch::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "--orphan",
            "-x",
            "main;id",
            "a..b",
            "@{-1}",
            "a b",
            "main\n",
            "a//b",
            "/a",
            "a/",
            ".hidden",
            "a/.b",
            "x.lock",
            "a.",
            "HEAD",
            "refs/heads/main",
            "$(id)",
            "`id`",
            "",
        ] {
            assert!(GitBranch::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(
            GitBranch::from_ref("refs/heads/main").unwrap().as_str(),
            "main"
        );
        assert!(GitBranch::from_ref("refs/tags/v1").is_none());
        assert!(GitBranch::from_ref("refs/heads/main;id").is_none());
    }

    #[test]
    fn commits_are_forty_hex_digits() {
        let c = CommitHash::parse("0123456789ABCDEF0123456789abcdef01234567").unwrap();
        assert_eq!(c.as_str(), "0123456789abcdef0123456789abcdef01234567");
        assert_eq!(c.short(), "0123456789");
        for bad in [
            "abc",
            "g123456789abcdef0123456789abcdef01234567",
            "HEAD",
            "--all",
        ] {
            assert!(CommitHash::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scripts_keep_their_text_and_releases_are_bounded() {
        let s = DeployScript::parse("echo $(id) `x`\r\necho \"$BRANCH\"").unwrap();
        assert_eq!(s.as_str(), "echo $(id) `x`\necho \"$BRANCH\"\n");
        assert!(!s.is_empty());
        assert!(DeployScript::parse("# nothing\n\n").unwrap().is_empty());
        assert!(DeployScript::parse("a\0b").is_err());
        assert!(DeployScript::parse(&"x".repeat(MAX_SCRIPT + 1)).is_err());
        assert_eq!(KeepReleases::parse("5").unwrap().get(), 5);
        for bad in ["0", "51", "-1", "x", ""] {
            assert!(KeepReleases::parse(bad).is_err(), "{bad}");
        }
    }
}
