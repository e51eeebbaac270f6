//! A site's stored row turned back into the spec its plans are built from: domain, aliases,
//! user, database (with its password opened) and `.env` entries (opened), each parsed again so a
//! hand-edited database cannot reach a node; and the sealing contexts of those secrets.

use crate::crypto::{SecretBox, SecretContext, random};
use crate::db::sites::Site;
use crate::domain::Redirect;
use crate::domain::redirect::{Match, RedirectSource, RedirectTarget};
use crate::domain::{DbName, EnvKey, McsPair, SiteDomain, SiteUser};
use crate::provision::{DbSpec, SiteSpec};

/// A generated database password: 32 letters and digits (~190 bits), nothing any client,
/// dotenv parser or shell could misread.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let bytes = random::bytes::<64>();
    bytes
        .iter()
        .filter_map(|b| {
            let i = usize::from(*b);
            // Rejection sampling keeps every character equally likely.
            (i < ALPHABET.len() * (256 / ALPHABET.len()))
                .then(|| ALPHABET[i % ALPHABET.len()] as char)
        })
        .take(32)
        .collect()
}

pub(crate) fn db_secret_context(id: &str) -> SecretContext<'_> {
    SecretContext::new("databases", "password_encrypted", id)
}

pub(crate) fn env_secret_context(id: &str) -> SecretContext<'_> {
    SecretContext::new("sites", "env_encrypted", id)
}

/// The site's spec rebuilt from its stored row (values were parsed when stored; parsing again
/// keeps a hand-edited database from reaching a node).
pub fn spec_of(site: &Site, secrets: &SecretBox) -> Result<(SiteSpec, Option<String>), String> {
    let domain = SiteDomain::parse(&site.domain).map_err(|e| format!("stored domain: {e}"))?;
    let aliases: Vec<String> = serde_json::from_str(&site.aliases).map_err(|e| e.to_string())?;
    let aliases = aliases
        .iter()
        .map(|a| SiteDomain::parse(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("stored alias: {e}"))?;
    let user = SiteUser::parse(site.username.as_deref().unwrap_or_default())
        .map_err(|e| format!("stored user: {e}"))?;
    let (database, password) = match (&site.db_type, &site.db_name, &site.db_username) {
        (Some(engine), Some(name), Some(username)) => {
            let spec = DbSpec {
                engine: *engine,
                name: DbName::parse(name).map_err(|e| format!("stored database: {e}"))?,
                user: DbName::parse(username).map_err(|e| format!("stored database user: {e}"))?,
            };
            let id = site.db_id.map(|i| i.to_string()).unwrap_or_default();
            let sealed = site.db_password_encrypted.as_deref().unwrap_or_default();
            let plain = secrets
                .open(sealed, db_secret_context(&id))
                .map_err(|_| "the database password cannot be decrypted".to_owned())?;
            let pw = String::from_utf8(plain.to_vec()).map_err(|e| e.to_string())?;
            (Some(spec), Some(pw))
        }
        _ => (None, None),
    };
    let env = env_of(site, secrets)?;
    let php_ini = php_settings_of(site)?;
    let redirects = redirects_of(site)?;
    let nginx_custom = match &site.nginx_custom {
        None => None,
        Some(text) => crate::domain::NginxBlock::parse(text, &user.home())
            .map_err(|e| format!("the site's custom nginx block: {e}"))?,
    };
    let mcs = site
        .mcs_id
        .and_then(McsPair::from_id)
        .ok_or_else(|| "the site has no SELinux category pair".to_owned())?;
    Ok((
        SiteSpec {
            mcs,
            tls: site.tls.then_some(crate::provision::SiteTls {
                redirect: site.https_redirect,
                hsts: site.hsts,
            }),
            domain,
            aliases,
            app_type: site.app_type,
            php: site.php_version,
            user,
            database,
            env,
            php_ini,
            redirects,
            nginx_custom,
        },
        password,
    ))
}

/// The site's PHP settings (stored as JSON, checked again as they are read).
pub fn php_settings_of(site: &Site) -> Result<crate::domain::PhpSettings, String> {
    match &site.php_settings {
        None => Ok(crate::domain::PhpSettings::default()),
        Some(json) => serde_json::from_str(json)
            .map_err(|e| format!("the site's PHP settings cannot be read: {e}")),
    }
}

/// A redirect as stored (the `sites.redirects` JSON array).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StoredRedirect {
    pub source: String,
    pub kind: String,
    pub target: String,
    pub status: u16,
}

impl StoredRedirect {
    pub fn of(r: &Redirect) -> Self {
        Self {
            source: r.source.as_str().to_owned(),
            kind: r.kind.as_str().to_owned(),
            target: r.target.as_str().to_owned(),
            status: r.status,
        }
    }

    pub fn parse(&self) -> Result<Redirect, String> {
        let status = self.status;
        if !crate::domain::redirect::STATUSES.contains(&status) {
            return Err(format!("{status} is not a redirect status"));
        }
        Ok(Redirect {
            source: RedirectSource::parse(&self.source)?,
            kind: Match::parse(&self.kind)?,
            target: RedirectTarget::parse(&self.target)?,
            status,
        })
    }
}

/// The site's redirects, each checked again as it is read.
pub fn redirects_of(site: &Site) -> Result<Vec<Redirect>, String> {
    let Some(json) = &site.redirects else {
        return Ok(Vec::new());
    };
    let stored: Vec<StoredRedirect> = serde_json::from_str(json)
        .map_err(|e| format!("the site's redirects cannot be read: {e}"))?;
    stored
        .iter()
        .map(|r| r.parse().map_err(|e| format!("a stored redirect: {e}")))
        .collect()
}

/// The site's own `.env` entries, decrypted.
pub fn env_of(site: &Site, secrets: &SecretBox) -> Result<Vec<(EnvKey, String)>, String> {
    let Some(sealed) = &site.env_encrypted else {
        return Ok(Vec::new());
    };
    let id = site.id.to_string();
    let plain = secrets
        .open(sealed, env_secret_context(&id))
        .map_err(|_| "the site's .env cannot be decrypted".to_owned())?;
    let map: Vec<(String, String)> = serde_json::from_slice(&plain).map_err(|e| e.to_string())?;
    map.into_iter()
        .map(|(k, v)| {
            Ok((
                EnvKey::parse(&k).map_err(|e| format!("stored key: {e}"))?,
                v,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_and_plain() {
        let p = generate_password();
        assert_eq!(p.len(), 32);
        assert!(p.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(p, generate_password());
    }
}
