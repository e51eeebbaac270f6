//! What a person types to create a site, parsed at the edge: domains (normalised, IDN to
//! punycode), the site's Unix user, database names and `.env` entries. Every value that later
//! lands in an nginx vhost, a PHP-FPM pool, SQL or a dotenv file is one of these, so none of
//! those files can be given a second directive, statement or key.

use std::fmt;
use std::net::IpAddr;

/// Longest domain (RFC 1035, without the root dot).
const MAX_DOMAIN: usize = 253;
/// Longest label between dots.
const MAX_LABEL: usize = 63;
/// Aliases one vhost serves besides its domain.
pub const MAX_ALIASES: usize = 20;

/// A site's domain: lowercase ASCII (IDN converted to punycode), no trailing dot, RFC 1123
/// labels, at least two labels, never an IP address, `localhost` or a wildcard.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteDomain(String);

impl SiteDomain {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim_matches(|c| c == ' ' || c == '\t');
        if text.is_empty() {
            return Err("enter a domain, like example.com".into());
        }
        if text
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\u{FEFF}')
        {
            return Err("a domain has no spaces, newlines or control characters".into());
        }
        if text.contains('*') {
            return Err("wildcard domains are not allowed for a site".into());
        }
        if text.parse::<IpAddr>().is_ok()
            || text
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok()
        {
            return Err("an IP address is not a domain; enter a name like example.com".into());
        }
        // One trailing dot (the DNS root) is dropped; anything else stays for the checks below.
        let text = text.strip_suffix('.').unwrap_or(text);
        if text.split('.').any(str::is_empty) {
            return Err("a domain has no empty parts (no leading dot or two dots in a row)".into());
        }
        let ascii = if text.is_ascii() {
            text.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii(text)
                .map_err(|_| "this international domain name cannot be converted".to_owned())?
        };
        check_labels(&ascii)?;
        if ascii == "localhost" || ascii.ends_with(".localhost") {
            return Err("`localhost` cannot be a site's domain".into());
        }
        if !ascii.contains('.') {
            return Err("use a full domain with a dot, like example.com".into());
        }
        if ascii
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
        {
            return Err("an IP address is not a domain; enter a name like example.com".into());
        }
        Ok(Self(ascii))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SiteDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// RFC 1123 labels: letters, digits, inner hyphens; lengths bounded.
fn check_labels(name: &str) -> Result<(), String> {
    if name.len() > MAX_DOMAIN {
        return Err(format!("at most {MAX_DOMAIN} characters in all"));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("a domain has no empty parts (no leading dot or two dots in a row)".into());
        }
        if label.len() > MAX_LABEL {
            return Err(format!(
                "each part between dots is at most {MAX_LABEL} characters"
            ));
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err("only letters, digits, hyphens and dots".into());
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a part cannot start or end with a hyphen".into());
        }
    }
    Ok(())
}

/// The aliases field: domains separated by spaces, commas or newlines; each parsed like the
/// domain, no duplicates, never the domain itself.
pub fn parse_aliases(text: &str, domain: Option<&SiteDomain>) -> Result<Vec<SiteDomain>, String> {
    let mut out: Vec<SiteDomain> = Vec::new();
    for token in text
        .split([' ', ',', '\n', '\r', '\t'])
        .filter(|t| !t.is_empty())
    {
        let alias = SiteDomain::parse(token).map_err(|m| {
            format!(
                "`{}`: {m}",
                token.chars().take(80).collect::<String>().escape_debug()
            )
        })?;
        if Some(&alias) == domain {
            return Err(format!("`{alias}` is the site's domain already"));
        }
        if out.contains(&alias) {
            return Err(format!("`{alias}` is listed twice"));
        }
        out.push(alias);
    }
    if out.len() > MAX_ALIASES {
        return Err(format!("at most {MAX_ALIASES} aliases"));
    }
    Ok(out)
}

/// Names a site user may never take: system accounts on Debian and EL, and the panel's own.
const RESERVED_USERS: &[&str] = &[
    "root",
    "panel",
    "nginx",
    "www-data",
    "apache",
    "mysql",
    "mariadb",
    "postgres",
    "redis",
    "daemon",
    "bin",
    "sys",
    "sync",
    "games",
    "man",
    "lp",
    "mail",
    "news",
    "uucp",
    "proxy",
    "backup",
    "list",
    "irc",
    "gnats",
    "nobody",
    "sshd",
    "messagebus",
    "adm",
    "halt",
    "shutdown",
    "operator",
    "ftp",
    "polkitd",
    "chrony",
    "tss",
    "dbus",
    "systemd-network",
    "systemd-resolve",
    "systemd-timesync",
    "systemd-coredump",
    "sudo",
    "wheel",
    "admin",
    "staff",
];

/// A site's Unix user: `[a-z_][a-z0-9_-]{0,31}`, never a system or reserved account. The
/// panel picks `webN` unless told otherwise; the node refuses a name that exists already.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SiteUser(String);

impl SiteUser {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("enter a user name, like web1".into());
        }
        if t.len() > 32 {
            return Err("at most 32 characters".into());
        }
        let mut chars = t.chars();
        let ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !ok {
            return Err(
                "lowercase letters, digits, `_` and `-`, starting with a letter or `_`".into(),
            );
        }
        if RESERVED_USERS.contains(&t) || t.starts_with("systemd-") || t.starts_with('_') {
            return Err(format!("`{t}` is a system account and cannot own a site"));
        }
        Ok(Self(t.to_owned()))
    }

    /// The `N`th automatically named user.
    pub fn numbered(n: u32) -> Self {
        Self(format!("web{n}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The user's home, which is the site's root directory.
    pub fn home(&self) -> String {
        format!("/home/{}", self.0)
    }
}

impl fmt::Display for SiteUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Database and database-user names no site may take (MariaDB's and PostgreSQL's own).
const RESERVED_DATABASES: &[&str] = &[
    "information_schema",
    "performance_schema",
    "mysql",
    "sys",
    "postgres",
    "template0",
    "template1",
    "root",
    "public",
    "pg_catalog",
];

/// Longest database and user name: MariaDB allows 64 and 80, PostgreSQL 63 for both; 32 keeps
/// the name valid everywhere, including MySQL 5.7's 32-character users.
const MAX_DB_NAME: usize = 32;

/// A database or database-user name: `[a-z][a-z0-9_]*`, ≤ 32, not a system database. Such a name
/// never needs quoting in SQL, so it is safe as an identifier and inside a string literal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DbName(String);

impl DbName {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("enter a name, like shop".into());
        }
        if t.len() > MAX_DB_NAME {
            return Err(format!("at most {MAX_DB_NAME} characters"));
        }
        let mut chars = t.chars();
        let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err("lowercase letters, digits and `_`, starting with a letter".into());
        }
        if RESERVED_DATABASES.contains(&t) || t.starts_with("pg_") {
            return Err(format!("`{t}` is reserved by the database server"));
        }
        Ok(Self(t.to_owned()))
    }

    /// The default name for a site's database: its domain with `_` for every other character
    /// (`shop.example.com` → `shop_example_com`), cut to fit.
    pub fn from_domain(domain: &SiteDomain) -> Self {
        let mut name: String = domain
            .as_str()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            name.insert_str(0, "db_");
        }
        name.truncate(MAX_DB_NAME);
        let name = name.trim_end_matches('_').to_owned();
        match Self::parse(&name) {
            Ok(n) => n,
            Err(_) => Self(format!("db_{}", &name[..name.len().min(MAX_DB_NAME - 3)])),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DbName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Keys the panel writes itself, and keys that would change how programs run if a loader
/// exported them into the environment.
const RESERVED_ENV_KEYS: &[&str] = &[
    "PATH",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "HOME",
    "SHELL",
    "USER",
    "IFS",
    "ENV",
    "BASH_ENV",
    "PS4",
    "PHPRC",
    "PHP_INI_SCAN_DIR",
    "APP_URL",
    "DB_CONNECTION",
    "DB_HOST",
    "DB_PORT",
    "DB_DATABASE",
    "DB_USERNAME",
    "DB_PASSWORD",
];

/// A `.env` key: `[A-Z_][A-Z0-9_]*`, ≤ 128, not one the panel manages or one that would change
/// how a process runs (`PATH`, `LD_PRELOAD`, …).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct EnvKey(String);

impl EnvKey {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("enter a name, like MAIL_HOST".into());
        }
        if t.len() > 128 {
            return Err("at most 128 characters".into());
        }
        let mut chars = t.chars();
        let ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
            && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(
                "uppercase letters, digits and `_`, not starting with a digit (like MAIL_HOST)"
                    .into(),
            );
        }
        if RESERVED_ENV_KEYS.contains(&t) {
            return Err(format!(
                "`{t}` is managed by the panel or changes how programs run; choose another name"
            ));
        }
        Ok(Self(t.to_owned()))
    }

    /// A key the panel itself writes (no reserved-name check).
    pub(crate) fn managed(name: &'static str) -> Self {
        Self(name.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest `.env` value.
pub const MAX_ENV_VALUE: usize = 64 * 1024;

/// A `.env` value: text the dotenv loaders read back exactly (see `env_line`), bounded. Refused:
/// control characters other than tab and line breaks (NUL among them: no dotenv format holds
/// one); `${`, which python-dotenv expands in every quoting style and phpdotenv in double
/// quotes; and a trailing backslash, which python-dotenv reads as escaping the closing quote.
pub fn check_env_value(value: &str) -> Result<(), String> {
    if value.contains('\0') {
        return Err("a value cannot contain a NUL character".into());
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(format!(
            "a value cannot contain the control character {}",
            c.escape_unicode()
        ));
    }
    if value.contains("${") {
        return Err(
            "a value cannot contain `${`: dotenv loaders would replace it with another variable (write `$NAME` without braces, which none expands)".into(),
        );
    }
    if value.ends_with('\\') {
        return Err("a value cannot end with a backslash".into());
    }
    if value.len() > MAX_ENV_VALUE {
        return Err(format!("at most {} KiB", MAX_ENV_VALUE / 1024));
    }
    Ok(())
}

/// One `KEY="value"` line that the dotenv loaders read back as exactly `value`: phpdotenv (what
/// Laravel uses), python-dotenv with interpolation on, and Node's dotenv. Always double quotes,
/// with only `\\`, `\"`, `\n` and `\r` escaped (the escapes every one of them decodes alike);
/// single quotes cannot hold a `'` in phpdotenv and do not stop python-dotenv's interpolation.
/// A `$` not followed by `{` is expanded by none of them (`check_env_value` refuses `${`). The
/// value cannot end the line early, so it can never add a second key.
pub fn env_line(key: &EnvKey, value: &str) -> String {
    let mut out = String::with_capacity(value.len() + key.as_str().len() + 4);
    out.push_str(key.as_str());
    out.push_str("=\"");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised() {
        assert_eq!(
            SiteDomain::parse("EXAMPLE.com.").unwrap().as_str(),
            "example.com"
        );
        assert_eq!(
            SiteDomain::parse("bücher.de").unwrap().as_str(),
            "xn--bcher-kva.de"
        );
        assert_eq!(
            SiteDomain::parse(" shop.example.com ").unwrap().as_str(),
            "shop.example.com"
        );
    }

    #[test]
    fn hostile_domains_are_refused() {
        let long_label = format!("{}.com", "a".repeat(64));
        let long_name = format!("{}.com", ["abcdefghij"; 25].join("."));
        for bad in [
            "example.com;id",
            "ex$(id).com",
            "ex`id`.com",
            "-oProxyCommand=id",
            "example.com\nserver_name evil",
            "..",
            "a..b.com",
            ".example.com",
            long_label.as_str(),
            long_name.as_str(),
            "*.example.com",
            "localhost",
            "localhost.",
            "127.0.0.1",
            "10.0.0.1.",
            "::1",
            "[::1]",
            "example",
            "exa mple.com",
            "example.com/x",
            "",
        ] {
            assert!(SiteDomain::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(long_name.len() > 253);
    }

    #[test]
    fn aliases_are_parsed_each_and_together() {
        let d = SiteDomain::parse("example.com").unwrap();
        let a = parse_aliases(
            "www.example.com, shop.example.com\nWWW2.example.com.",
            Some(&d),
        )
        .unwrap();
        assert_eq!(
            a.iter().map(SiteDomain::as_str).collect::<Vec<_>>(),
            ["www.example.com", "shop.example.com", "www2.example.com"]
        );
        assert!(
            parse_aliases("example.com", Some(&d))
                .unwrap_err()
                .contains("domain already")
        );
        assert!(
            parse_aliases("a.com A.com", Some(&d))
                .unwrap_err()
                .contains("twice")
        );
        assert!(parse_aliases("ok.com ex$(id).com", Some(&d)).is_err());
        assert!(parse_aliases("", Some(&d)).unwrap().is_empty());
    }

    #[test]
    fn site_users_are_plain_and_never_system_accounts() {
        for bad in [
            "root", "panel", "nginx", "www-data", "../x", "a b", "-l", "Web1", "a:b", "a/b",
        ] {
            assert!(SiteUser::parse(bad).is_err(), "{bad:?}");
        }
        assert!(SiteUser::parse(&"a".repeat(33)).is_err());
        assert_eq!(SiteUser::parse("web12").unwrap().home(), "/home/web12");
    }

    #[test]
    fn database_names_are_identifiers() {
        for bad in [
            "test; shutdown",
            "x`id`",
            "a'b",
            "a\"b",
            "a-b",
            "information_schema",
            "mysql",
            "postgres",
            "template0",
            "1db",
        ] {
            assert!(DbName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(DbName::parse(&"a".repeat(65)).is_err());
        let d = SiteDomain::parse("shop.example.com").unwrap();
        assert_eq!(DbName::from_domain(&d).as_str(), "shop_example_com");
        let d = SiteDomain::parse("1shop.example.com").unwrap();
        assert_eq!(DbName::from_domain(&d).as_str(), "db_1shop_example_com");
        let d = SiteDomain::parse(&format!("{}.com", "x".repeat(60))).unwrap();
        assert!(DbName::from_domain(&d).as_str().len() <= 32);
    }

    #[test]
    fn env_keys_are_plain_names() {
        for bad in [
            "A B",
            "1A",
            "=",
            "PATH",
            "LD_PRELOAD",
            "DB_PASSWORD",
            "a",
            "A-B",
        ] {
            assert!(EnvKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(EnvKey::parse("MAIL_HOST").is_ok());
    }

    #[test]
    fn env_values_are_quoted_so_they_cannot_end_the_line() {
        let k = EnvKey::parse("X").unwrap();
        assert_eq!(
            env_line(&k, "plain $(id) `id` # x"),
            "X=\"plain $(id) `id` # x\""
        );
        assert_eq!(env_line(&k, "a'b"), "X=\"a'b\"");
        assert_eq!(env_line(&k, "l1\nY=2\r"), "X=\"l1\\nY=2\\r\"");
        assert_eq!(env_line(&k, "q\"\\"), "X=\"q\\\"\\\\\"");
        assert!(!env_line(&k, "a\nb\rc").contains(['\n', '\r']));
        assert!(check_env_value("a\0b").is_err());
        assert!(check_env_value("${APP_KEY}").is_err());
        assert!(check_env_value("end\\").is_err());
        assert!(check_env_value("$HOME is fine").is_ok());
    }
}
