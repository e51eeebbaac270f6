//! The site forms — "New site" (and `panel site plan`'s options), delete, the `.env` editor —
//! and every field turned into a domain value, all errors at once, each naming its field.

use serde::Deserialize;

use crate::domain::site::{check_env_value, parse_aliases};
use crate::domain::{
    AppType, DatabaseType, DbName, EnvKey, McsPair, PhpVersion, SiteDomain, SiteUser,
};
use crate::error::{FieldError, FieldErrors};
use crate::provision::{DbSpec, SiteSpec};

/// The "New site" form (and `panel site plan`'s options) as submitted.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SiteForm {
    #[serde(default)]
    pub server_id: String,
    #[serde(default)]
    pub domain: String,
    /// Further domains, separated by spaces, commas or new lines.
    #[serde(default)]
    pub aliases: String,
    #[serde(default)]
    pub app_type: String,
    #[serde(default)]
    pub php_version: String,
    /// `none`, `mariadb` or `postgresql`.
    #[serde(default)]
    pub database: String,
    /// Optional: the Unix user (default: the next free `webN`).
    #[serde(default)]
    pub user: String,
    /// Optional: the database and database-user name (default: from the domain).
    #[serde(default)]
    pub db_name: String,
    /// The app type's cron job (Laravel's scheduler, WordPress's WP-Cron): present means on.
    #[serde(default)]
    pub scheduler: Option<String>,
}

/// A site as asked for, every field parsed.
#[derive(Clone, Debug)]
pub struct SiteInput {
    pub domain: SiteDomain,
    pub aliases: Vec<SiteDomain>,
    pub app_type: AppType,
    pub php: PhpVersion,
    pub user: Option<SiteUser>,
    pub database: Option<DbSpec>,
}

/// Parse every field; all errors at once, each naming its field.
pub fn parse_input(form: &SiteForm) -> Result<SiteInput, FieldErrors> {
    let mut errors = Vec::new();
    let domain = SiteDomain::parse(&form.domain)
        .map_err(|m| errors.push(FieldError::new("domain", m)))
        .ok();
    let aliases = parse_aliases(&form.aliases, domain.as_ref())
        .map_err(|m| errors.push(FieldError::new("aliases", m)))
        .ok();
    let app_type = AppType::from_name(&form.app_type)
        .ok_or_else(|| {
            errors.push(FieldError::new(
                "app_type",
                "choose WordPress, Laravel or generic PHP",
            ))
        })
        .ok();
    let php = form
        .php_version
        .trim()
        .parse::<PhpVersion>()
        .map_err(|_| {
            errors.push(FieldError::new(
                "php_version",
                format!(
                    "`{}` is not a PHP version the panel offers (7.4, 8.0–8.4)",
                    form.php_version
                        .chars()
                        .take(20)
                        .collect::<String>()
                        .escape_debug()
                ),
            ))
        })
        .ok();
    let user = if form.user.trim().is_empty() {
        Some(None)
    } else {
        SiteUser::parse(&form.user)
            .map(Some)
            .map_err(|m| errors.push(FieldError::new("user", m)))
            .ok()
    };
    let engine = match form.database.trim() {
        "" | "none" => Some(None),
        other => other
            .parse::<DatabaseType>()
            .map(Some)
            .map_err(|_| {
                errors.push(FieldError::new(
                    "database",
                    "choose MariaDB, PostgreSQL or no database",
                ))
            })
            .ok(),
    };
    let db_name = if form.db_name.trim().is_empty() {
        Some(None)
    } else {
        DbName::parse(&form.db_name)
            .map(Some)
            .map_err(|m| errors.push(FieldError::new("db_name", m)))
            .ok()
    };
    let (
        Some(domain),
        Some(aliases),
        Some(app_type),
        Some(php),
        Some(user),
        Some(engine),
        Some(db_name),
    ) = (domain, aliases, app_type, php, user, engine, db_name)
    else {
        return Err(errors);
    };
    let database = engine.map(|engine| match db_name {
        Some(name) => DbSpec {
            engine,
            user: name.clone(),
            name,
        },
        None => crate::provision::site::default_database(engine, &domain),
    });
    Ok(SiteInput {
        domain,
        aliases,
        app_type,
        php,
        user,
        database,
    })
}

impl SiteInput {
    pub fn spec(&self, user: SiteUser, mcs: McsPair) -> SiteSpec {
        SiteSpec {
            mcs,
            tls: None,
            php_ini: Default::default(),
            redirects: Vec::new(),
            nginx_custom: None,
            domain: self.domain.clone(),
            aliases: self.aliases.clone(),
            app_type: self.app_type,
            php: self.php,
            user,
            database: self.database.clone(),
            env: Vec::new(),
        }
    }
}

/// The next free `webN` on a server.
pub fn next_user(taken: &[String]) -> SiteUser {
    let max = taken
        .iter()
        .filter_map(|u| u.strip_prefix("web").and_then(|n| n.parse::<u32>().ok()))
        .max()
        .unwrap_or(0);
    SiteUser::numbered(max + 1)
}

/// The delete form: the domain typed again, and what else goes.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    pub confirm: String,
    #[serde(default)]
    pub delete_files: Option<String>,
    #[serde(default)]
    pub delete_database: Option<String>,
}

/// The `.env` editor as submitted.
#[derive(Debug, Default, Deserialize)]
pub struct EnvForm {
    #[serde(default)]
    pub env: String,
}

/// The `.env` editor: `KEY=value` lines; every key and value checked; all errors at once.
pub fn parse_env_text(text: &str) -> Result<Vec<(EnvKey, String)>, FieldErrors> {
    let mut out: Vec<(EnvKey, String)> = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            errors.push(FieldError::new(
                "env",
                format!("line {}: expected KEY=value", n + 1),
            ));
            continue;
        };
        match EnvKey::parse(k) {
            Ok(key) if out.iter().any(|(o, _)| *o == key) => errors.push(FieldError::new(
                "env",
                format!("line {}: {key} is set twice", n + 1),
            )),
            Ok(key) => match check_env_value(v) {
                Ok(()) => out.push((key, v.to_owned())),
                Err(m) => errors.push(FieldError::new("env", format!("line {}: {m}", n + 1))),
            },
            Err(m) => errors.push(FieldError::new("env", format!("line {}: {m}", n + 1))),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(domain: &str) -> SiteForm {
        SiteForm {
            domain: domain.into(),
            app_type: "generic".into(),
            php_version: "8.2".into(),
            database: "mariadb".into(),
            ..Default::default()
        }
    }

    #[test]
    fn every_field_is_checked_at_once() {
        let f = SiteForm {
            domain: "ex$(id).com".into(),
            aliases: "ok.com -oProxyCommand=id".into(),
            app_type: "joomla".into(),
            php_version: "5.6".into(),
            database: "oracle".into(),
            user: "root".into(),
            db_name: "a'b".into(),
            ..Default::default()
        };
        let errs = parse_input(&f).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "domain",
                "aliases",
                "app_type",
                "php_version",
                "user",
                "database",
                "db_name"
            ]
        );
    }

    #[test]
    fn defaults_come_from_the_domain() {
        let i = parse_input(&form("Shop.Example.com.")).unwrap();
        assert_eq!(i.domain.as_str(), "shop.example.com");
        let db = i.database.unwrap();
        assert_eq!(
            (db.name.as_str(), db.user.as_str()),
            ("shop_example_com", "shop_example_com")
        );
        assert_eq!(
            next_user(&["web1".into(), "web7".into(), "x".into()]).as_str(),
            "web8"
        );
        assert_eq!(next_user(&[]).as_str(), "web1");
    }

    #[test]
    fn env_text_is_checked_line_by_line() {
        let ok = parse_env_text("# comment\nMAIL_HOST=smtp.example.com\nAPP_KEY=base64:abc=def\n")
            .unwrap();
        assert_eq!(ok[1].1, "base64:abc=def");
        let errs = parse_env_text("A B=1\nPATH=/x\n1A=2\n=3\nnovalue\nX=1\nX=2").unwrap_err();
        assert_eq!(errs.len(), 6, "{errs:?}");
    }
}
