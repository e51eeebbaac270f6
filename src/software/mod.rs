//! Software on a server: install, upgrade and remove nginx, PHP versions, MariaDB, PostgreSQL and
//! Redis through the job runner, with each OS profile's package names, recorded in
//! `software_installations` (pending → installing → installed | failed).

use std::time::Duration;

pub mod forms;

use crate::db::servers::Server;
use crate::db::{self};
use crate::domain::{InstallStatus, JobKind, OsVersion, PhpVersion, ServerStatus, Software};
use crate::error::{AppError, AppResult};
use crate::ids::{JobId, UserId};
use crate::jobs::{JobContext, JobFailure, JobSpec};
use crate::ssh::Command;
use crate::state::AppState;

pub use forms::SoftwareForm;

/// A package operation may take this long (a first MariaDB install on a slow mirror).
const PACKAGE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// What can be installed: the software and, for PHP, its version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    pub software: Software,
    pub php: Option<PhpVersion>,
}

impl Item {
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
    pub fn verb(self) -> &'static str {
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

/// Queue an install, upgrade or removal on an active server.
pub async fn submit(
    state: &AppState,
    server: &Server,
    item: Item,
    action: Action,
    actor: Option<UserId>,
) -> AppResult<JobId> {
    let pool = &state.db;
    if server.status != ServerStatus::Active {
        return Err(AppError::Conflict(
            "Software can be managed once the server is active.".into(),
        ));
    }
    // A removal that would break what runs on the server is refused, with what depends on it.
    if action == Action::Remove {
        let (names, n) =
            db::software::dependents(pool, server.id, item.software, item.version(), 5).await?;
        if n > 0 {
            let what = match (
                matches!(item.software, Software::MariaDb | Software::PostgreSql),
                n == 1,
            ) {
                (true, true) => "database",
                (true, false) => "databases",
                (false, true) => "site",
                (false, false) => "sites",
            };
            let more = if n > names.len() as i64 {
                format!(" and {} more", n - names.len() as i64)
            } else {
                String::new()
            };
            return Err(AppError::Conflict(format!(
                "{} is in use by {n} {what} on this server ({}{more}): move or delete them first.",
                item.label(),
                names.join(", ")
            )));
        }
    }
    // The row: created `pending` for an install; an upgrade or removal needs an existing one.
    let existing = db::software::find(pool, server.id, item.software, item.version()).await?;
    let row = match (action, existing) {
        (Action::Install, Some(id)) => id,
        (Action::Install, None) => {
            db::software::insert(pool, server.id, item.software, item.version()).await?
        }
        (_, Some(id)) => id,
        (_, None) => {
            return Err(AppError::Conflict(format!(
                "{} is not installed on this server.",
                item.label()
            )));
        }
    };
    db::software::set_status(pool, row, InstallStatus::Pending, None).await?;
    let (job_state, server) = (state.clone(), server.clone());
    let spec = JobSpec {
        server_id: Some(server.id),
        actor_id: actor,
        kind: JobKind::ServerSoftware,
        args: serde_json::json!({ "server_id": server.id, "software": item.software, "version": item.version(), "action": action.verb() }),
        title: format!("{} {} on {}", action.verb(), item.label(), server.name),
        lane: None,
    };
    let id = state
        .jobs
        .submit(spec, move |ctx| async move {
            let state = job_state;
            let pool = &state.db;
            db::software::set_status(pool, row, InstallStatus::Installing, None).await?;
            let result = run(&ctx, &state, &server, item, action).await;
            match (&result, action) {
                (Ok(()), Action::Remove) => db::software::delete(pool, row).await?,
                (Ok(()), _) => {
                    db::software::set_status(pool, row, InstallStatus::Installed, None).await?
                }
                (Err(f), _) => {
                    db::software::set_status(pool, row, InstallStatus::Failed, Some(&f.message))
                        .await?
                }
            }
            result
        })
        .await?;
    Ok(id)
}

async fn run(
    ctx: &JobContext,
    state: &AppState,
    server: &Server,
    item: Item,
    action: Action,
) -> Result<(), JobFailure> {
    let session = crate::nodes::open_session(state, ctx, server).await?;
    let what = format!(
        "{} {}",
        action.verb(),
        packages(server.os_version, item).join(" ")
    );
    let command = command(server.os_version, action, item);
    let result = ctx
        .step(&what, ctx.run(&session, &command, PACKAGE_TIMEOUT))
        .await;
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
