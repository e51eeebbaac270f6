//! A site's PHP settings: the few `php.ini` values people change per site, each checked by type
//! and range, written as `php_admin_value`s in the site's own pool (a site's code cannot change
//! them with `ini_set`). A value left empty is PHP's own default and is not written at all.

use serde::{Deserialize, Serialize};

/// The settings as stored (JSON on the site's row) and as the pool template writes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhpSettings {
    /// Megabytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<u32>,
    /// Megabytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_max_filesize: Option<u32>,
    /// Megabytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_max_size: Option<u32>,
    /// Seconds; 0 is no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_execution_time: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_vars: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_errors: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opcache: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<Timezone>,
}

/// What each field accepts: (least, most) in its unit. The upper ends are per site but cost the
/// whole server (five PHP workers at the memory limit; bodies held in nginx's shared temporary
/// directory), so they stay at what a single application needs.
pub const MEMORY_MB: (u32, u32) = (16, 4096);
pub const UPLOAD_MB: (u32, u32) = (1, 2048);
pub const EXECUTION_S: (u32, u32) = (0, 86400);
pub const INPUT_VARS: (u32, u32) = (100, 1_000_000);

/// nginx's request body limit when no PHP setting asks for more (the vhost's own default).
pub const DEFAULT_BODY_MB: u32 = 64;

impl PhpSettings {
    /// The pool lines for the values set, in a fixed order.
    pub fn pool_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mb = |name: &str, v: Option<u32>, out: &mut Vec<String>| {
            if let Some(v) = v {
                out.push(format!("php_admin_value[{name}] = {v}M"));
            }
        };
        mb("memory_limit", self.memory_limit, &mut out);
        mb("upload_max_filesize", self.upload_max_filesize, &mut out);
        mb("post_max_size", self.post_max_size, &mut out);
        if let Some(v) = self.max_execution_time {
            out.push(format!("php_admin_value[max_execution_time] = {v}"));
        }
        if let Some(v) = self.max_input_vars {
            out.push(format!("php_admin_value[max_input_vars] = {v}"));
        }
        let flag = |b: bool| if b { "on" } else { "off" };
        if let Some(v) = self.display_errors {
            out.push(format!("php_admin_flag[display_errors] = {}", flag(v)));
        }
        if let Some(v) = self.opcache {
            out.push(format!("php_admin_flag[opcache.enable] = {}", flag(v)));
        }
        if let Some(tz) = &self.timezone {
            out.push(format!("php_admin_value[date.timezone] = {tz}"));
        }
        out
    }

    /// The largest request body nginx lets through to this site: what PHP accepts, at least the
    /// vhost's default.
    pub fn body_limit_mb(&self) -> u32 {
        [self.post_max_size, self.upload_max_filesize]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(DEFAULT_BODY_MB)
            .max(DEFAULT_BODY_MB)
    }
}

/// A size in megabytes as typed: `256`, `256M`, `2G` (case-insensitive), within `range`.
pub fn parse_megabytes(text: &str, range: (u32, u32)) -> Result<Option<u32>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let upper = t.to_ascii_uppercase();
    let (digits, factor) = if let Some(d) = upper.strip_suffix('G') {
        (d, 1024)
    } else if let Some(d) = upper.strip_suffix('M') {
        (d, 1)
    } else {
        (upper.as_str(), 1)
    };
    let value = digits
        .parse::<u32>()
        .ok()
        .and_then(|v| v.checked_mul(factor))
        .ok_or_else(|| "a size in megabytes, such as 256M or 2G".to_owned())?;
    if value < range.0 || value > range.1 {
        return Err(format!(
            "between {}M and {}M (this is {value}M)",
            range.0, range.1
        ));
    }
    Ok(Some(value))
}

/// A whole number within `range`, or empty.
pub fn parse_number(text: &str, range: (u32, u32), unit: &str) -> Result<Option<u32>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let value: u32 = t.parse().map_err(|_| format!("a whole number of {unit}"))?;
    if value < range.0 || value > range.1 {
        return Err(format!("between {} and {} {unit}", range.0, range.1));
    }
    Ok(Some(value))
}

/// `on`, `off`, or empty (PHP's default).
pub fn parse_switch(text: &str) -> Result<Option<bool>, String> {
    match text.trim() {
        "" | "default" => Ok(None),
        "on" => Ok(Some(true)),
        "off" => Ok(Some(false)),
        _ => Err("on, off, or PHP's default".into()),
    }
}

/// An IANA time zone name (`UTC`, `Europe/Berlin`, `America/Argentina/Buenos_Aires`): only the
/// regions the tz database has, letters, digits, `_`, `-` and `+` in the rest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timezone(String);

const REGIONS: [&str; 11] = [
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
    "Etc",
];

impl Timezone {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let why = || {
            format!(
                "`{}` is not a time zone name such as UTC or Europe/Berlin",
                t.chars().take(40).collect::<String>().escape_debug()
            )
        };
        if t == "UTC" {
            return Ok(Self(t.to_owned()));
        }
        let mut parts = t.split('/');
        let region = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        let part_ok = |p: &&str| {
            !p.is_empty()
                && p.len() <= 30
                && p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        };
        if !REGIONS.contains(&region)
            || rest.is_empty()
            || rest.len() > 2
            || !rest.iter().all(part_ok)
        {
            return Err(why());
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Timezone {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Timezone::parse(&s)
    }
}

impl From<Timezone> for String {
    fn from(t: Timezone) -> String {
        t.0
    }
}

impl std::fmt::Display for Timezone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_numbers_and_switches_are_checked_by_type_and_range() {
        assert_eq!(parse_megabytes("256", MEMORY_MB), Ok(Some(256)));
        assert_eq!(parse_megabytes(" 2g ", MEMORY_MB), Ok(Some(2048)));
        assert_eq!(parse_megabytes("", MEMORY_MB), Ok(None));
        assert!(
            parse_megabytes("8M", MEMORY_MB)
                .unwrap_err()
                .contains("between 16M")
        );
        assert!(parse_megabytes("-1", MEMORY_MB).is_err());
        assert!(parse_megabytes("1T", MEMORY_MB).is_err());
        assert!(parse_megabytes("4294967295G", MEMORY_MB).is_err());
        assert!(parse_megabytes("256M\nphp_admin_value[x]=1", MEMORY_MB).is_err());
        assert_eq!(parse_number("30", EXECUTION_S, "seconds"), Ok(Some(30)));
        assert!(parse_number("30s", EXECUTION_S, "seconds").is_err());
        assert_eq!(parse_switch("off"), Ok(Some(false)));
        assert!(parse_switch("yes").is_err());
    }

    #[test]
    fn time_zones_are_names_of_the_tz_database_shape() {
        for ok in [
            "UTC",
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+5",
        ] {
            assert!(Timezone::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Mars/Olympus",
            "Europe",
            "Europe/../../etc/passwd",
            "Europe/Ber lin",
            "Europe/Berlin\nx",
        ] {
            assert!(Timezone::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_values_set_are_written_and_nginx_follows_the_largest_body() {
        let s = PhpSettings {
            memory_limit: Some(512),
            post_max_size: Some(200),
            upload_max_filesize: Some(100),
            opcache: Some(false),
            timezone: Some(Timezone::parse("Europe/Berlin").unwrap()),
            ..PhpSettings::default()
        };
        assert_eq!(
            s.pool_lines(),
            [
                "php_admin_value[memory_limit] = 512M",
                "php_admin_value[upload_max_filesize] = 100M",
                "php_admin_value[post_max_size] = 200M",
                "php_admin_flag[opcache.enable] = off",
                "php_admin_value[date.timezone] = Europe/Berlin",
            ]
        );
        assert_eq!(s.body_limit_mb(), 200);
        assert_eq!(PhpSettings::default().body_limit_mb(), DEFAULT_BODY_MB);
        assert!(PhpSettings::default().pool_lines().is_empty());
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<PhpSettings>(&json).unwrap(), s);
        assert!(serde_json::from_str::<PhpSettings>(r#"{"timezone":"x/../y"}"#).is_err());
    }
}
