//! Settings from flags, environment and an optional TOML file, resolved once into a validated
//! [`Config`]. Precedence: flag > environment variable > TOML file > built-in default.

mod retention;
pub use retention::Retention;
use retention::{RetentionFile, retention};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8095";
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const DEFAULT_URL: &str = "http://localhost:8095";

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Values as given on the command line or in the environment; `None` means "not given".
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ConfigArgs {
    /// Address to listen on; more than one separated by commas (e.g. loopback for your browser
    /// and a private address your servers reach).
    #[arg(long, env = "PANEL_LISTEN", global = true)]
    pub listen: Option<String>,
    /// Directory holding the SQLite database and the master key.
    #[arg(long, env = "PANEL_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Optional TOML file with the same settings.
    #[arg(long, env = "PANEL_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Public URL of the panel (origin of passkeys, setup and callback links).
    #[arg(long, env = "PANEL_URL", global = true)]
    pub url: Option<String>,
    /// The URL your servers reach the panel at (setup commands and their callbacks), when it is
    /// not the public URL: e.g. a private address while you browse the panel on localhost.
    #[arg(long, env = "PANEL_SERVERS_URL", global = true)]
    pub servers_url: Option<String>,
    /// Log format.
    #[arg(long, env = "PANEL_LOG_FORMAT", global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Take the client address from X-Forwarded-For (only behind a reverse proxy you run).
    #[arg(long, env = "PANEL_TRUST_FORWARDED_FOR", global = true)]
    pub trust_forwarded_for: Option<bool>,
    /// Allow a plain-http public URL that is not loopback (setup commands and session cookies
    /// then cross the network in clear text; every page says so).
    #[arg(long, env = "PANEL_INSECURE_HTTP", global = true)]
    pub insecure_http: Option<bool>,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); reloaded when it changes.
    #[arg(long, env = "PANEL_TLS_CERT", global = true)]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, env = "PANEL_TLS_KEY", global = true)]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a certificate for the public URL's host from the `[acme]` directory,
    /// obtained and renewed by the panel (HTTP-01 on `--http-listen`).
    #[arg(long, env = "PANEL_TLS_ACME", global = true)]
    pub tls_acme: Option<bool>,
    /// Plain HTTP listener beside HTTPS (e.g. 0.0.0.0:80): redirects to the public URL and
    /// answers ACME HTTP-01 challenges for the panel's own certificate.
    #[arg(long, env = "PANEL_HTTP_LISTEN", global = true)]
    pub http_listen: Option<String>,
}

/// The TOML file's schema; unknown keys are refused so a typo does not silently do nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    url: Option<String>,
    servers_url: Option<String>,
    log_format: Option<LogFormat>,
    trust_forwarded_for: Option<bool>,
    insecure_http: Option<bool>,
    smtp: Option<SmtpFile>,
    retention: Option<RetentionFile>,
    selinux: Option<SelinuxFile>,
    acme: Option<AcmeFile>,
    tls: Option<TlsFile>,
}

/// `[tls]`: the panel's own HTTPS.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    acme: Option<bool>,
    http_listen: Option<String>,
}

/// Where the panel's own certificate comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsSource {
    /// Files, reloaded when they change (a certificate another tool renews).
    Files { cert: PathBuf, key: PathBuf },
    /// The `[acme]` directory, for the public URL's host; renewed by the panel.
    Acme,
}

/// `[acme]`: where site certificates come from.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcmeFile {
    directory: Option<String>,
    ca_root: Option<PathBuf>,
    contact: Option<String>,
    check_interval: Option<String>,
}

/// Let's Encrypt's production directory.
pub const DEFAULT_ACME_DIRECTORY: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// The ACME settings, validated.
#[derive(Clone, Debug)]
pub struct AcmeConfig {
    /// Any RFC 8555 directory URL (Let's Encrypt production or staging, ZeroSSL, a private CA).
    pub directory: String,
    /// A root to trust for the directory's own HTTPS (a private or test CA); system roots else.
    pub ca_root: Option<PathBuf>,
    /// The account's contact address (the CA mails expiry notices there).
    pub contact: Option<String>,
    /// How often due renewals are looked for; failed renewals back off from it.
    pub check_interval: std::time::Duration,
}

impl Default for AcmeConfig {
    fn default() -> Self {
        AcmeConfig {
            directory: DEFAULT_ACME_DIRECTORY.to_owned(),
            ca_root: None,
            contact: None,
            check_interval: std::time::Duration::from_secs(3600),
        }
    }
}

fn acme_config(f: AcmeFile) -> Result<AcmeConfig, ConfigError> {
    let bad = ConfigError::Acme;
    let d = AcmeConfig::default();
    let directory = f.directory.unwrap_or(d.directory);
    if !directory.starts_with("https://")
        || directory.len() > 500
        || directory
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad("directory: an https:// URL of an ACME directory".into()));
    }
    if let Some(c) = &f.contact {
        if c.parse::<lettre::Address>().is_err() {
            return Err(bad(format!(
                "contact: `{}` is not an e-mail address",
                c.escape_debug()
            )));
        }
    }
    let check_interval = match f.check_interval {
        None => d.check_interval,
        Some(t) => parse_duration(&t)
            .filter(|d| (1..=86_400).contains(&d.as_secs()))
            .ok_or_else(|| bad("check_interval: a duration from \"1s\" to \"1d\"".into()))?,
    };
    Ok(AcmeConfig {
        directory,
        ca_root: f.ca_root,
        contact: f.contact,
        check_interval,
    })
}

/// `[selinux]`: how the panel moves servers to enforcing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SelinuxFile {
    quiet_window: Option<String>,
}

/// How long a server must run permissive with the module loaded and no denial before
/// enforcing is offered (`[selinux] quiet_window`, e.g. `"7d"`, `"12h"`, `"90s"`).
pub const DEFAULT_QUIET_WINDOW: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// A duration written as a number and a unit: `s`, `m`, `h` or `d`.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let n: u64 = text[..text.len() - unit.len_utf8()].trim().parse().ok()?;
    let seconds = match unit {
        's' => n,
        'm' => n.checked_mul(60)?,
        'h' => n.checked_mul(3600)?,
        'd' => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(seconds))
}

/// `[smtp]`: where SELinux alerts are mailed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmtpFile {
    host: String,
    port: Option<u16>,
    tls: Option<SmtpTls>,
    username: Option<String>,
    /// Better given as `PANEL_SMTP_PASSWORD` than written in the file.
    password: Option<String>,
    from: String,
    to: Vec<String>,
    /// Minutes between digests of repeated denials (default 10).
    digest_minutes: Option<u64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP (a relay on localhost).
    None,
    /// STARTTLS on the submission port (default).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// Alert mail settings, validated.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<EnvSecret>,
    pub from: lettre::message::Mailbox,
    pub to: Vec<lettre::message::Mailbox>,
    pub digest: std::time::Duration,
}

fn smtp_config(f: SmtpFile) -> Result<SmtpConfig, ConfigError> {
    let bad = |m: String| ConfigError::Smtp(m);
    if f.host.trim().is_empty() || f.host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("host: a host name or address".into()));
    }
    let tls = f.tls.unwrap_or_default();
    let port = f.port.unwrap_or(match tls {
        SmtpTls::None => 25,
        SmtpTls::Starttls => 587,
        SmtpTls::Tls => 465,
    });
    let from = f.from.parse().map_err(|_| {
        bad(format!(
            "from: `{}` is not an e-mail address",
            f.from.escape_debug()
        ))
    })?;
    if f.to.is_empty() {
        return Err(bad("to: at least one recipient".into()));
    }
    let mut to = Vec::new();
    for t in &f.to {
        to.push(t.parse().map_err(|_| {
            bad(format!(
                "to: `{}` is not an e-mail address",
                t.escape_debug()
            ))
        })?);
    }
    let password = std::env::var("PANEL_SMTP_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .or(f.password)
        .map(|p| EnvSecret(zeroize::Zeroizing::new(p)));
    let minutes = f.digest_minutes.unwrap_or(10);
    if minutes == 0 || minutes > 24 * 60 {
        return Err(bad("digest_minutes: 1 to 1440".into()));
    }
    Ok(SmtpConfig {
        host: f.host,
        port,
        tls,
        username: f.username,
        password,
        from,
        to,
        digest: std::time::Duration::from_secs(minutes * 60),
    })
}

/// Resolved, validated settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// Further addresses served alike (`--listen a,b`).
    pub also_listen: Vec<SocketAddr>,
    pub data_dir: PathBuf,
    /// Public URL without a trailing slash, e.g. `http://localhost:8095`.
    pub url: String,
    /// Where servers reach the panel (setup links, callbacks, deploy hooks), if not `url`.
    pub servers_url: Option<String>,
    pub log_format: LogFormat,
    /// Whether `X-Forwarded-For` names the client (rate limits, session list).
    pub trust_forwarded_for: bool,
    /// The master key from `PANEL_KEY` (base64), if set; otherwise the key file is used.
    /// Environment only: a flag would show the key in `ps`.
    pub panel_key: Option<EnvSecret>,
    /// Where SELinux alerts are mailed; none: no mail, the SELinux page and toasts only.
    pub smtp: Option<SmtpConfig>,
    /// A plain-http public URL off loopback was allowed explicitly (`--insecure-http`).
    pub insecure_http: bool,
    pub retention: Retention,
    /// See `DEFAULT_QUIET_WINDOW`.
    pub selinux_quiet_window: std::time::Duration,
    pub acme: AcmeConfig,
    /// The panel terminates TLS itself (none: plain HTTP, e.g. behind a reverse proxy).
    pub tls: Option<TlsSource>,
    /// The plain-HTTP listener beside HTTPS (redirects, ACME challenges).
    pub http_listen: Option<SocketAddr>,
}

/// Whether servers can reach the panel's setup links, as configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServersReach {
    /// Servers can fetch setup links over https.
    Fine,
    /// The links point at loopback: only this machine can fetch them.
    Loopback,
    /// Plain http off loopback: the setup script crosses the network unencrypted.
    PlainHttp,
}

/// A secret read from the environment; never printed by `Debug`, wiped on drop.
#[derive(Clone)]
pub struct EnvSecret(zeroize::Zeroizing<String>);

impl EnvSecret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for EnvSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnvSecret(redacted)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("listen: `{0}` is not an address like 127.0.0.1:8095")]
    Listen(String),
    #[error("url: {0}")]
    Url(String),
    #[error("smtp: {0}")]
    Smtp(String),
    #[error("retention: {0}")]
    Retention(String),
    #[error("selinux: {0}")]
    Selinux(String),
    #[error("acme: {0}")]
    Acme(String),
    #[error("tls: {0}")]
    Tls(String),
}

impl Config {
    /// Resolve flags/env over the optional file over defaults.
    pub fn resolve(args: &ConfigArgs) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let listen_text = args
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let mut addresses = listen_text
            .split(',')
            .map(|a| {
                a.trim()
                    .parse::<SocketAddr>()
                    .map_err(|_| ConfigError::Listen(a.trim().to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let listen = addresses.remove(0);
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let url = parse_url(
            &args
                .url
                .clone()
                .or(file.url)
                .unwrap_or_else(|| DEFAULT_URL.to_owned()),
        )?;
        let servers_url = args
            .servers_url
            .clone()
            .or(file.servers_url)
            .map(|u| parse_url(&u))
            .transpose()?;
        let log_format = args.log_format.or(file.log_format).unwrap_or_default();
        let trust_forwarded_for = args
            .trust_forwarded_for
            .or(file.trust_forwarded_for)
            .unwrap_or(false);
        let panel_key = std::env::var("PANEL_KEY")
            .ok()
            .filter(|k| !k.is_empty())
            .map(|k| EnvSecret(zeroize::Zeroizing::new(k)));
        let smtp = file.smtp.map(smtp_config).transpose()?;
        let insecure_http = args.insecure_http.or(file.insecure_http).unwrap_or(false);
        if url.starts_with("http://") && !is_loopback_url(&url) && !insecure_http {
            return Err(ConfigError::Url(format!(
                "`{url}` is plain http: setup commands (`curl … | sudo bash`) and session cookies would cross the network in clear text. Use https (or a loopback address), or pass --insecure-http (PANEL_INSECURE_HTTP=true) to allow it"
            )));
        }
        if let Some(s) = &servers_url {
            if s.starts_with("http://") && !is_loopback_url(s) && !insecure_http {
                return Err(ConfigError::Url(format!(
                    "servers_url `{s}` is plain http: setup commands (`curl … | sudo bash`) would cross the network in clear text. Use https, or pass --insecure-http (PANEL_INSECURE_HTTP=true) to allow it"
                )));
            }
        }
        let retention = retention(file.retention.unwrap_or_default())?;
        let selinux_quiet_window = match file.selinux.and_then(|s| s.quiet_window) {
            None => DEFAULT_QUIET_WINDOW,
            Some(text) => parse_duration(&text)
                .filter(|d| d.as_secs() <= 365 * 86_400)
                .ok_or_else(|| {
                    ConfigError::Selinux(format!(
                        "quiet_window: `{}` is not a duration like \"7d\", \"12h\" or \"90s\" (at most a year)",
                        text.chars().take(20).collect::<String>().escape_debug()
                    ))
                })?,
        };
        let acme = acme_config(file.acme.unwrap_or_default())?;
        let (tls, http_listen) = tls_config(args, file.tls.unwrap_or_default(), &url)?;
        Ok(Config {
            tls,
            http_listen,
            acme,
            listen,
            also_listen: addresses,
            data_dir,
            url,
            servers_url,
            log_format,
            trust_forwarded_for,
            panel_key,
            smtp,
            insecure_http,
            retention,
            selinux_quiet_window,
        })
    }

    /// Settings for tests and embedding: the given data dir, an ephemeral port, default URL.
    pub fn for_data_dir(data_dir: &Path) -> Config {
        Config {
            listen: "127.0.0.1:0".parse().expect("static address"),
            also_listen: Vec::new(),
            data_dir: data_dir.to_owned(),
            url: DEFAULT_URL.to_owned(),
            servers_url: None,
            log_format: LogFormat::Pretty,
            trust_forwarded_for: false,
            panel_key: None,
            smtp: None,
            insecure_http: false,
            retention: Retention::default(),
            selinux_quiet_window: DEFAULT_QUIET_WINDOW,
            acme: AcmeConfig::default(),
            tls: None,
            http_listen: None,
        }
    }

    /// The public URL is plain http off loopback: the pages carry a warning.
    pub fn is_insecure(&self) -> bool {
        self.url.starts_with("http://") && !is_loopback_url(&self.url)
    }

    /// The URL servers reach the panel at, without a trailing slash.
    pub fn servers_url(&self) -> &str {
        self.servers_url.as_deref().unwrap_or(&self.url)
    }

    /// Why a new server could not call the panel back, or would do it in clear text: shown
    /// where a setup command is.
    pub fn servers_reach(&self) -> ServersReach {
        let url = self.servers_url();
        if is_loopback_url(url) {
            ServersReach::Loopback
        } else if url.starts_with("http://") {
            ServersReach::PlainHttp
        } else {
            ServersReach::Fine
        }
    }

    /// The `PANEL_KEY` value, if one was given.
    pub fn env_key(&self) -> Option<&str> {
        self.panel_key.as_ref().map(EnvSecret::expose)
    }

    /// Path of the panel's SQLite database inside the data dir.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("panel.sqlite")
    }

    /// `scheme://host[:port]` of the public URL: what browsers send as `Origin`.
    pub fn origin(&self) -> String {
        let uri: poem::http::Uri = self.url.parse().expect("validated at resolve");
        format!(
            "{}://{}",
            uri.scheme_str().unwrap_or("http"),
            uri.authority().map(|a| a.as_str()).unwrap_or("")
        )
    }

    /// Host of the public URL: the WebAuthn relying party id.
    pub fn host(&self) -> String {
        let uri: poem::http::Uri = self.url.parse().expect("validated at resolve");
        uri.host().unwrap_or("localhost").to_owned()
    }

    /// True when the public URL is https, so cookies must be `Secure`.
    pub fn is_https(&self) -> bool {
        self.url.starts_with("https://")
    }
}

fn tls_config(
    args: &ConfigArgs,
    f: TlsFile,
    url: &str,
) -> Result<(Option<TlsSource>, Option<SocketAddr>), ConfigError> {
    let bad = ConfigError::Tls;
    let cert = args.tls_cert.clone().or(f.cert);
    let key = args.tls_key.clone().or(f.key);
    let acme = args.tls_acme.or(f.acme).unwrap_or(false);
    let source = match (cert, key, acme) {
        (None, None, false) => None,
        (None, None, true) => Some(TlsSource::Acme),
        (Some(cert), Some(key), false) => Some(TlsSource::Files { cert, key }),
        (Some(_), Some(_), true) => {
            return Err(bad(
                "cert and key, or acme: one source of certificates, not both".into(),
            ));
        }
        _ => {
            return Err(bad(
                "cert and key go together (--tls-cert and --tls-key)".into()
            ));
        }
    };
    if source.is_some() && !url.starts_with("https://") {
        return Err(bad(format!(
            "the panel serves HTTPS, so its public URL must be https:// (url is `{url}`)"
        )));
    }
    let http_listen = match args.http_listen.clone().or(f.http_listen) {
        None => None,
        Some(text) => Some(text.parse().map_err(|_| {
            bad(format!(
                "http_listen: `{}` is not an address like 0.0.0.0:80",
                text.escape_debug()
            ))
        })?),
    };
    if http_listen.is_some() && source.is_none() {
        return Err(bad(
            "http_listen redirects to HTTPS: set cert and key, or acme".into(),
        ));
    }
    if source == Some(TlsSource::Acme) && http_listen.is_none() {
        return Err(bad(
            "acme needs http_listen (port 80 reachable from the CA) for its HTTP-01 challenge"
                .into(),
        ));
    }
    Ok((source, http_listen))
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::File {
        path: path.to_owned(),
        message: e.message().to_owned(),
    })
}

/// Whether a URL's host is this machine (`localhost`, `127.0.0.0/8`, `::1`): plain http there
/// never crosses a network.
fn is_loopback_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<poem::http::Uri>() else {
        return false;
    };
    let host = uri.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An http(s) origin with an optional path prefix, stored without a trailing slash.
fn parse_url(text: &str) -> Result<String, ConfigError> {
    let trimmed = text.trim_end_matches('/');
    let uri: poem::http::Uri = trimmed
        .parse()
        .map_err(|_| ConfigError::Url(format!("`{text}` is not a URL")))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => {
            return Err(ConfigError::Url(format!(
                "`{text}` must start with http:// or https://"
            )));
        }
    }
    if uri.host().is_none_or(str::is_empty) || uri.query().is_some() {
        return Err(ConfigError::Url(format!(
            "`{text}` needs a host and no query"
        )));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_have_a_unit() {
        assert_eq!(parse_duration("7d"), Some(DEFAULT_QUIET_WINDOW));
        assert_eq!(
            parse_duration(" 90s "),
            Some(std::time::Duration::from_secs(90))
        );
        assert_eq!(parse_duration("12h").unwrap().as_secs(), 43_200);
        assert_eq!(parse_duration("5m").unwrap().as_secs(), 300);
        for bad in ["7", "d", "-1d", "1w", "", "1.5h", "99999999999999999999d"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn plain_http_off_loopback_needs_insecure_http() {
        let with = |url: &str, insecure: Option<bool>| {
            Config::resolve(&ConfigArgs {
                url: Some(url.into()),
                insecure_http: insecure,
                ..Default::default()
            })
        };
        for ok in [
            "https://panel.example.com",
            "http://localhost:8095",
            "http://127.0.0.1:8095",
            "http://[::1]:8095",
        ] {
            let c = with(ok, None).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(!c.is_insecure(), "{ok}");
        }
        let err = with("http://panel.example.com", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--insecure-http"), "{err}");
        assert!(with("http://10.0.0.5:8095", Some(false)).is_err());
        let c = with("http://10.0.0.5:8095", Some(true)).unwrap();
        assert!(c.insecure_http && c.is_insecure());
    }

    #[test]
    fn defaults_apply_when_nothing_is_given() {
        let c = Config::resolve(&ConfigArgs::default()).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(c.url, DEFAULT_URL);
        assert_eq!(c.log_format, LogFormat::Pretty);
    }

    #[test]
    fn flags_win_over_file_and_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("panel.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\nurl = \"https://panel.example.com/\"\nlog_format = \"json\"\n",
        )
        .unwrap();
        let args = ConfigArgs {
            listen: Some("127.0.0.1:9001".into()),
            config: Some(file),
            ..Default::default()
        };
        let c = Config::resolve(&args).unwrap();
        assert_eq!(c.listen.port(), 9001);
        assert_eq!(c.url, "https://panel.example.com");
        assert!(c.is_https());
        assert_eq!(c.log_format, LogFormat::Json);
    }

    #[test]
    fn tls_and_acme_come_from_the_file_or_flags_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("panel.toml");
        let resolve = |toml: &str, args: ConfigArgs| {
            std::fs::write(&file, toml).unwrap();
            Config::resolve(&ConfigArgs {
                config: Some(file.clone()),
                ..args
            })
        };
        let https = "url = \"https://panel.example.com\"\n";
        // From the file: files, the plain listener, and a staging directory with a contact.
        let c = resolve(
            &format!(
                "{https}[tls]\ncert = \"/etc/panel/cert.pem\"\nkey = \"/etc/panel/key.pem\"\n\
                 http_listen = \"0.0.0.0:80\"\n[acme]\n\
                 directory = \"https://acme-staging-v02.api.letsencrypt.org/directory\"\n\
                 contact = \"ops@example.com\"\ncheck_interval = \"10m\"\n"
            ),
            ConfigArgs::default(),
        )
        .unwrap();
        assert_eq!(
            c.tls,
            Some(TlsSource::Files {
                cert: "/etc/panel/cert.pem".into(),
                key: "/etc/panel/key.pem".into()
            })
        );
        assert_eq!(c.http_listen.unwrap().port(), 80);
        assert!(c.acme.directory.contains("staging"));
        assert_eq!(c.acme.contact.as_deref(), Some("ops@example.com"));
        assert_eq!(c.acme.check_interval.as_secs(), 600);
        // The flags win: ACME for the panel's own host instead of the file's files is refused
        // (one source), the flags' own files are taken.
        let err = resolve(
            &format!("{https}[tls]\ncert = \"/a\"\nkey = \"/b\"\nhttp_listen = \"0.0.0.0:80\"\n"),
            ConfigArgs {
                tls_acme: Some(true),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("tls:") && err.contains("not both"), "{err}");
        let c = resolve(
            &format!("{https}[tls]\ncert = \"/a\"\nkey = \"/b\"\n"),
            ConfigArgs {
                tls_cert: Some("/c".into()),
                tls_key: Some("/d".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            c.tls,
            Some(TlsSource::Files {
                cert: "/c".into(),
                key: "/d".into()
            })
        );
        let c = resolve(
            https,
            ConfigArgs {
                tls_acme: Some(true),
                http_listen: Some("0.0.0.0:8080".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(c.tls, Some(TlsSource::Acme));
        assert_eq!(c.acme.directory, DEFAULT_ACME_DIRECTORY);
        // Each mistake is refused, naming the setting.
        for (toml, args, want) in [
            (
                format!("{https}[tls]\ncert = \"/a\"\n"),
                ConfigArgs::default(),
                "go together",
            ),
            (
                "url = \"http://localhost:8095\"\n[tls]\ncert = \"/a\"\nkey = \"/b\"\n".to_owned(),
                ConfigArgs::default(),
                "must be https://",
            ),
            (
                format!("{https}[tls]\nacme = true\n"),
                ConfigArgs::default(),
                "needs http_listen",
            ),
            (
                format!("{https}[tls]\nhttp_listen = \"0.0.0.0:80\"\n"),
                ConfigArgs::default(),
                "set cert and key, or acme",
            ),
            (
                format!("{https}[tls]\ncert = \"/a\"\nkey = \"/b\"\nhttp_listen = \"port 80\"\n"),
                ConfigArgs::default(),
                "http_listen:",
            ),
            (
                format!("{https}[acme]\ndirectory = \"http://ca.example/dir\"\n"),
                ConfigArgs::default(),
                "acme: directory",
            ),
            (
                format!("{https}[acme]\ncontact = \"not a mailbox\"\n"),
                ConfigArgs::default(),
                "acme: contact",
            ),
            (
                format!("{https}[acme]\ncheck_interval = \"2d\"\n"),
                ConfigArgs::default(),
                "acme: check_interval",
            ),
            (
                format!("{https}[tls]\ncertificate = \"/a\"\n"),
                ConfigArgs::default(),
                "certificate",
            ),
        ] {
            let err = resolve(&toml, args).unwrap_err().to_string();
            assert!(err.contains(want), "{toml}: {err}");
        }
    }

    #[test]
    fn several_listen_addresses_and_a_servers_url() {
        let c = Config::resolve(&ConfigArgs {
            listen: Some("127.0.0.1:9001, 10.0.0.5:9001".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9001");
        assert_eq!(c.also_listen, vec!["10.0.0.5:9001".parse().unwrap()]);
        // The default public URL is loopback: servers could not reach it, and the pages say so.
        assert_eq!(c.servers_url(), DEFAULT_URL);
        assert_eq!(c.servers_reach(), ServersReach::Loopback);
        let bad = Config::resolve(&ConfigArgs {
            listen: Some("127.0.0.1:9001,nope".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(bad.to_string().contains("`nope`"), "{bad}");
        let https = Config::resolve(&ConfigArgs {
            servers_url: Some("https://panel.example.com/".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(https.servers_url(), "https://panel.example.com");
        assert_eq!(https.servers_reach(), ServersReach::Fine);
        assert_eq!(https.url, DEFAULT_URL, "the passkey origin is unchanged");
        // Plain http off loopback needs the explicit allowance, and is then warned about.
        let plain = ConfigArgs {
            servers_url: Some("http://10.0.0.5:8095".into()),
            ..Default::default()
        };
        assert!(
            Config::resolve(&plain)
                .unwrap_err()
                .to_string()
                .contains("servers_url")
        );
        let allowed = Config::resolve(&ConfigArgs {
            insecure_http: Some(true),
            ..plain
        })
        .unwrap();
        assert_eq!(allowed.servers_reach(), ServersReach::PlainHttp);
    }

    #[test]
    fn bad_values_are_refused_with_the_setting_named() {
        let bad_listen = ConfigArgs {
            listen: Some("localhost".into()),
            ..Default::default()
        };
        assert!(
            Config::resolve(&bad_listen)
                .unwrap_err()
                .to_string()
                .starts_with("listen:")
        );
        for url in ["ftp://x", "localhost:8095", "http://x/?a=b"] {
            let args = ConfigArgs {
                url: Some(url.into()),
                ..Default::default()
            };
            let err = Config::resolve(&args).unwrap_err().to_string();
            assert!(err.starts_with("url:"), "{url}: {err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("panel.toml");
        std::fs::write(&file, "listne = \"x\"\n").unwrap();
        let args = ConfigArgs {
            config: Some(file),
            ..Default::default()
        };
        assert!(
            Config::resolve(&args)
                .unwrap_err()
                .to_string()
                .contains("listne")
        );
    }
}
