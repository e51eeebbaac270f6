//! Software on a server: install, upgrade and remove nginx, PHP versions, MariaDB, PostgreSQL and
//! Redis through the job runner, with each OS profile's package names, recorded in
//! `software_installations` (pending → installing → installed | failed).

use std::time::Duration;

use crate::db::servers::Server;
use crate::db::{self, Pool};
use crate::domain::{InstallStatus, OsVersion, PhpVersion, Software};
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{JobId, SoftwareInstallationId, UserId};
use crate::jobs::{JobFailure, JobSpec, Jobs};
use crate::ssh::Command;

/// A package operation may take this long (a first MariaDB install on a slow mirror).
const PACKAGE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// What can be installed: the software and, for PHP, its version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    pub software: Software,
    pub php: Option<PhpVersion>,
}

impl Item {
    pub fn parse(software: &str, version: &str) -> Result<Item, Vec<FieldError>> {
        let software: Software = software
            .parse()
            .map_err(|_| vec![FieldError::new("software", "choose software from the list")])?;
        match software {
            Software::Php => {
                let php = version
                    .parse::<PhpVersion>()
                    .map_err(|_| vec![FieldError::new("version", "choose a PHP version")])?;
                Ok(Item {
                    software,
                    php: Some(php),
                })
            }
            Software::Bun => Err(vec![FieldError::new(
                "software",
                "Bun is installed by the setup script, not as a package",
            )]),
            _ => Ok(Item {
                software,
                php: None,
            }),
        }
    }

    /// The `version` column: the PHP version, or empty.
    pub fn version(&self) -> &'static str {
        self.php.map_or("", PhpVersion::as_str)
    }

    pub fn label(&self) -> String {
        match self.php {
            Some(v) => format!("PHP {v}"),
            None => self.software.as_str().to_owned(),
        }
    }
}

fn is_el(os: OsVersion) -> bool {
    !matches!(os, OsVersion::Debian12)
}

/// The OS packages of an item (the profiles differ: Remi's `php83-php-fpm` on EL, `php8.3-fpm`
/// on Debian; `postgresql-server` vs `postgresql`; `redis` vs `redis-server`).
pub fn packages(os: OsVersion, item: Item) -> Vec<String> {
    let el = is_el(os);
    match (item.software, item.php) {
        (Software::Nginx, _) => vec!["nginx".into()],
        (Software::MariaDb, _) => vec!["mariadb-server".into()],
        (Software::PostgreSql, _) if el => vec!["postgresql-server".into()],
        (Software::PostgreSql, _) => vec!["postgresql".into()],
        (Software::Redis, _) if el => vec!["redis".into()],
        (Software::Redis, _) => vec!["redis-server".into()],
        (Software::Php, Some(v)) if el => {
            let xy = v.as_str().replace('.', "");
            ["fpm", "cli", "mysqlnd", "pgsql"]
                .iter()
                .map(|m| format!("php{xy}-php-{m}"))
                .collect()
        }
        (Software::Php, Some(v)) => ["fpm", "cli", "mysql", "pgsql"]
            .iter()
            .map(|m| format!("php{v}-{m}"))
            .collect(),
        (Software::Php, None) | (Software::Bun, _) => Vec::new(),
    }
}

/// What to do with an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Install,
    Upgrade,
    Remove,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Install => "Install",
            Action::Upgrade => "Upgrade",
            Action::Remove => "Remove",
        }
    }
}

/// The package manager command for an action on a profile, run with sudo.
pub fn command(os: OsVersion, action: Action, item: Item) -> Command {
    let mut cmd = if is_el(os) {
        let c = Command::new("dnf").flag("-y").flag("-q");
        match action {
            Action::Install => c.flag("install"),
            Action::Upgrade => c.flag("upgrade"),
            Action::Remove => c.flag("remove"),
        }
    } else {
        let c = Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .flag("-y")
            .flag("-q");
        match action {
            Action::Install => c.flag("install"),
            Action::Upgrade => c.flag("install").flag("--only-upgrade"),
            Action::Remove => c.flag("remove"),
        }
    };
    for p in packages(os, item) {
        cmd = cmd.operand(p);
    }
    cmd.sudo()
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Installation {
    pub id: SoftwareInstallationId,
    pub software: Software,
    pub version: String,
    pub status: InstallStatus,
    pub status_reason: Option<String>,
    pub updated_at: String,
}

pub async fn list(pool: &Pool, server: crate::ids::ServerId) -> sqlx::Result<Vec<Installation>> {
    sqlx::query_as(
        "SELECT id, software, version, status, status_reason, updated_at FROM software_installations
         WHERE server_id = ? ORDER BY software, version",
    )
    .bind(server)
    .fetch_all(pool)
    .await
}

async fn set_status(
    pool: &Pool,
    id: SoftwareInstallationId,
    status: InstallStatus,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE software_installations SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?")
        .bind(status)
        .bind(reason)
        .bind(db::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Queue an install, upgrade or removal on an active server.
pub async fn submit(
    jobs: &Jobs,
    pool: &Pool,
    secrets: &crate::crypto::SecretBox,
    server: &Server,
    item: Item,
    action: Action,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    if server.status != crate::domain::ServerStatus::Active {
        return Err(AppError::Conflict(
            "Software can be managed once the server is active.".into(),
        ));
    }
    // The row: created `pending` for an install; an upgrade or removal needs an existing one.
    let existing: Option<SoftwareInstallationId> = sqlx::query_scalar(
        "SELECT id FROM software_installations WHERE server_id = ? AND software = ? AND version = ?",
    )
    .bind(server.id)
    .bind(item.software)
    .bind(item.version())
    .fetch_optional(pool)
    .await?;
    let row = match (action, existing) {
        (Action::Install, Some(id)) => id,
        (Action::Install, None) => {
            let id = SoftwareInstallationId::generate();
            sqlx::query("INSERT INTO software_installations (id, server_id, software, version) VALUES (?, ?, ?, ?)")
                .bind(id)
                .bind(server.id)
                .bind(item.software)
                .bind(item.version())
                .execute(pool)
                .await?;
            id
        }
        (_, Some(id)) => id,
        (_, None) => {
            return Err(AppError::Conflict(format!(
                "{} is not installed on this server.",
                item.label()
            )));
        }
    };
    set_status(pool, row, InstallStatus::Pending, None).await?;
    let (pool, secrets, server) = (pool.clone(), secrets.clone(), server.clone());
    let spec = JobSpec {
        server_id: Some(server.id),
        actor_id: actor,
        kind: "server.software",
        args: serde_json::json!({ "server_id": server.id, "software": item.software, "version": item.version(), "action": action.verb() }),
        title: format!("{} {} on {}", action.verb(), item.label(), server.name),
        lane: None,
    };
    let id = jobs
        .submit(spec, move |ctx| async move {
            set_status(&pool, row, InstallStatus::Installing, None).await?;
            let result = run(&ctx, &pool, &secrets, &server, item, action).await;
            match (&result, action) {
                (Ok(()), Action::Remove) => {
                    sqlx::query("DELETE FROM software_installations WHERE id = ?")
                        .bind(row)
                        .execute(&pool)
                        .await?;
                }
                (Ok(()), _) => set_status(&pool, row, InstallStatus::Installed, None).await?,
                (Err(f), _) => {
                    set_status(&pool, row, InstallStatus::Failed, Some(&f.message)).await?
                }
            }
            result
        })
        .await?;
    Ok(id)
}

async fn run(
    ctx: &crate::jobs::JobContext,
    pool: &Pool,
    secrets: &crate::crypto::SecretBox,
    server: &Server,
    item: Item,
    action: Action,
) -> Result<(), JobFailure> {
    let session = crate::servers::open_session(ctx, pool, secrets, server).await?;
    let what = format!(
        "{} {}",
        action.verb(),
        packages(server.os_version, item).join(" ")
    );
    let command = command(server.os_version, action, item);
    let result = ctx
        .step(&what, ctx.run(&session, &command, PACKAGE_TIMEOUT))
        .await;
    session.disconnect().await;
    result.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_profile_renders_its_own_package_names() {
        let php83 = Item::parse("php", "8.3").unwrap();
        assert_eq!(
            command(OsVersion::Alma9, Action::Install, php83)
                .render()
                .unwrap(),
            "'sudo' '-n' '--' 'dnf' '-y' '-q' 'install' '--' 'php83-php-fpm' 'php83-php-cli' 'php83-php-mysqlnd' 'php83-php-pgsql'"
        );
        assert_eq!(
            command(OsVersion::Debian12, Action::Upgrade, php83)
                .render()
                .unwrap(),
            "'env' 'DEBIAN_FRONTEND=noninteractive' 'sudo' '-n' '--' 'apt-get' '-y' '-q' 'install' '--only-upgrade' '--' 'php8.3-fpm' 'php8.3-cli' 'php8.3-mysql' 'php8.3-pgsql'"
        );
        let pg = Item::parse("postgresql", "").unwrap();
        assert_eq!(packages(OsVersion::Rocky8, pg), ["postgresql-server"]);
        assert_eq!(packages(OsVersion::Debian12, pg), ["postgresql"]);
        assert_eq!(
            packages(OsVersion::Debian12, Item::parse("redis", "").unwrap()),
            ["redis-server"]
        );
    }

    #[test]
    fn unknown_software_and_versions_are_field_errors() {
        assert_eq!(Item::parse("apache", "").unwrap_err()[0].field, "software");
        assert_eq!(Item::parse("php", "5.6").unwrap_err()[0].field, "version");
        assert_eq!(
            Item::parse("php", "8.3;id").unwrap_err()[0].field,
            "version"
        );
        assert!(Item::parse("bun", "").is_err());
    }
}
