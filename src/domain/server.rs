//! What a person types to add a server, parsed at the edge. Values that could reach `ssh` or a
//! shell as options (`-oProxyCommand=…`, `host -p 22`, `root@evil`) cannot be represented.

use std::net::IpAddr;

use crate::error::FieldError;

/// A server's IP address (v4 or v6), as the panel connects to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerIp(IpAddr);

impl ServerIp {
    pub fn parse(text: &str) -> Result<Self, String> {
        let ip: IpAddr = text
            .trim()
            .parse()
            .map_err(|_| "enter an IPv4 or IPv6 address, like 203.0.113.10".to_owned())?;
        if ip.is_unspecified()
            || ip.is_multicast()
            || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
        {
            return Err("this address cannot be a server".into());
        }
        Ok(Self(ip))
    }

    pub fn ip(&self) -> IpAddr {
        self.0
    }
}

impl std::fmt::Display for ServerIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A host name (RFC 1123): lowercase labels of letters, digits and inner hyphens, ≤ 63 each,
/// ≤ 253 in all; a trailing dot is dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hostname(String);

impl Hostname {
    pub fn parse(text: &str) -> Result<Self, String> {
        let name = text.trim().trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() {
            return Err("enter the server's host name, like web1.example.com".into());
        }
        if name.len() > 253 {
            return Err("at most 253 characters".into());
        }
        for label in name.split('.') {
            if label.is_empty() {
                return Err("empty label (two dots in a row)".into());
            }
            if label.len() > 63 {
                return Err("each part between dots is at most 63 characters".into());
            }
            if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err("only letters, digits, hyphens and dots".into());
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err("a part cannot start or end with a hyphen".into());
            }
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An SSH port, 1–65535, digits only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SshPort(u16);

impl SshPort {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) || t.len() > 5 {
            return Err("a port number from 1 to 65535".into());
        }
        match t.parse::<u32>() {
            Ok(p @ 1..=65535) => Ok(Self(p as u16)),
            _ => Err("a port number from 1 to 65535".into()),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

/// A Unix login name for SSH: `[a-z_][a-z0-9_-]{0,31}` (never starts with `-`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshUser(String);

impl SshUser {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let mut chars = t.chars();
        let ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
            && t.len() <= 32;
        if ok {
            Ok(Self(t.to_owned()))
        } else {
            Err("a Unix user name: lowercase letters, digits, _ and -, starting with a letter, at most 32".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The connection fields of a new server, parsed together so every error is reported at once.
#[derive(Clone, Debug)]
pub struct ServerConnection {
    pub ip: ServerIp,
    pub hostname: Hostname,
    pub port: SshPort,
    pub user: SshUser,
}

impl ServerConnection {
    pub fn parse(
        ip: &str,
        hostname: &str,
        port: &str,
        user: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let ip = ServerIp::parse(ip)
            .map_err(|m| errors.push(FieldError::new("ip_address", m)))
            .ok();
        let hostname = Hostname::parse(hostname)
            .map_err(|m| errors.push(FieldError::new("hostname", m)))
            .ok();
        let port = SshPort::parse(port)
            .map_err(|m| errors.push(FieldError::new("ssh_port", m)))
            .ok();
        let user = SshUser::parse(user)
            .map_err(|m| errors.push(FieldError::new("ssh_user", m)))
            .ok();
        match (ip, hostname, port, user) {
            (Some(ip), Some(hostname), Some(port), Some(user)) => Ok(Self {
                ip,
                hostname,
                port,
                user,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ../shared/SECURITY-CASES.md, "server host / IP / SSH port / SSH user".
    #[test]
    fn hostile_server_fields_are_refused_per_field() {
        for ip in [
            "-oProxyCommand=touch /tmp/x",
            "host -p 22",
            "root@evil",
            "10.0.0.1;id",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "",
        ] {
            assert!(ServerIp::parse(ip).is_err(), "ip {ip:?}");
        }
        for host in [
            "-oProxyCommand=id",
            "host -p 22",
            "root@evil",
            "a..b.com",
            "ex$(id).com",
            "ex`id`.com",
            "-a.com",
            "a-.com",
            "a\nb",
            &"a".repeat(64),
            &format!("{}.com", "a.".repeat(130)),
        ] {
            assert!(Hostname::parse(host).is_err(), "host {host:?}");
        }
        for port in [
            "22;id",
            "0",
            "65536",
            "-22",
            "2 2",
            "0x16",
            "",
            "99999999999",
        ] {
            assert!(SshPort::parse(port).is_err(), "port {port:?}");
        }
        for user in [
            "-l",
            "a:b",
            "a/b",
            "Root",
            "a b",
            "",
            &"a".repeat(33),
            "../x",
        ] {
            assert!(SshUser::parse(user).is_err(), "user {user:?}");
        }
    }

    #[test]
    fn good_values_are_normalised() {
        assert_eq!(
            ServerIp::parse(" 203.0.113.10 ").unwrap().to_string(),
            "203.0.113.10"
        );
        assert_eq!(
            ServerIp::parse("2001:db8::1").unwrap().to_string(),
            "2001:db8::1"
        );
        assert_eq!(
            Hostname::parse("Web1.Example.COM.").unwrap().as_str(),
            "web1.example.com"
        );
        assert_eq!(SshPort::parse("2222").unwrap().get(), 2222);
        assert_eq!(SshUser::parse("panel").unwrap().as_str(), "panel");
    }

    #[test]
    fn all_connection_errors_come_back_together() {
        let errs = ServerConnection::parse("-oProxyCommand=id", "a..b", "22;id", "-l").unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["ip_address", "hostname", "ssh_port", "ssh_user"]);
    }
}
