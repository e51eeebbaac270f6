//! The "Add a server" form: what is submitted, and every field turned into a domain value (all
//! errors at once, each naming its field).

use serde::Deserialize;

use crate::db::ssh_keys::SshKeyPublic;
use crate::db::{self, Pool};
use crate::domain::{KeyName, OsVersion, PhpVersion, ServerConnection};
use crate::error::{FieldError, FieldErrors};
use crate::ids::SshKeyId;

/// The "Add server" form as submitted.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ServerForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub ip_address: String,
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub os_version: String,
    #[serde(default)]
    pub ssh_port: String,
    #[serde(default)]
    pub ssh_user: String,
    #[serde(default)]
    pub ssh_key_id: String,
    /// PHP versions to install side by side, separated by spaces or commas (e.g. `8.2 8.3`).
    #[serde(default)]
    pub php_versions: String,
}

/// A server as asked for, every field parsed (the key looked up: it must have a private half).
pub struct ServerInput {
    pub name: KeyName,
    pub conn: ServerConnection,
    pub os: OsVersion,
    pub key: SshKeyPublic,
    pub php: Vec<PhpVersion>,
}

/// Parse the PHP versions field for an OS: known versions, no duplicates; Debian 12 ships 8.2
/// only (other versions need a third-party repository the panel does not add).
pub fn parse_php_versions(text: &str, os: Option<OsVersion>) -> Result<Vec<PhpVersion>, String> {
    let mut out = Vec::new();
    for token in text.split([' ', ',']).filter(|t| !t.is_empty()) {
        let v: PhpVersion = token.parse().map_err(|_| {
            format!(
                "`{}` is not a PHP version the panel offers (7.4, 8.0–8.4)",
                token.escape_debug()
            )
        })?;
        if os == Some(OsVersion::Debian12) && v != PhpVersion::V82 {
            return Err(format!(
                "Debian 12 ships PHP 8.2 only; PHP {v} is not available there"
            ));
        }
        if !out.contains(&v) {
            out.push(v);
        }
    }
    if out.len() > 6 {
        return Err("at most six versions".into());
    }
    Ok(out)
}

/// Every field checked; the key is looked up in the database (a form names it by id).
pub async fn parse(
    pool: &Pool,
    form: &ServerForm,
) -> sqlx::Result<Result<ServerInput, FieldErrors>> {
    let mut errors = Vec::new();
    let name = KeyName::parse(&form.name)
        .map_err(|m| errors.push(FieldError::new("name", m.replace("the key", "the server"))))
        .ok();
    let conn = ServerConnection::parse(
        &form.ip_address,
        &form.hostname,
        &form.ssh_port,
        &form.ssh_user,
    )
    .map_err(|e| errors.extend(e))
    .ok();
    let os = form
        .os_version
        .parse::<OsVersion>()
        .map_err(|_| {
            errors.push(FieldError::new(
                "os_version",
                "choose an operating system from the list",
            ))
        })
        .ok();
    let key = match form.ssh_key_id.parse::<SshKeyId>() {
        Ok(id) => match db::ssh_keys::get(pool, id).await? {
            Some(k) if k.has_private_key => Some(k),
            Some(_) => {
                errors.push(FieldError::new(
                    "ssh_key_id",
                    "this key has no private half; the panel cannot log in with it",
                ));
                None
            }
            None => {
                errors.push(FieldError::new("ssh_key_id", "choose one of your SSH keys"));
                None
            }
        },
        Err(_) => {
            errors.push(FieldError::new("ssh_key_id", "choose one of your SSH keys"));
            None
        }
    };
    let php = parse_php_versions(&form.php_versions, os)
        .map_err(|m| errors.push(FieldError::new("php_versions", m)))
        .ok();
    Ok(match (name, conn, os, key, php) {
        (Some(name), Some(conn), Some(os), Some(key), Some(php)) => Ok(ServerInput {
            name,
            conn,
            os,
            key,
            php,
        }),
        _ => Err(errors),
    })
}

/// The delete form: the server's name typed again.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    pub confirm: String,
}
