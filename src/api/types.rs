//! The API's JSON shapes. Text from managed servers (status reasons, log lines, SELinux
//! messages) is passed as JSON strings, never interpreted; the panel bounded it when it stored it.

use poem_openapi::{Enum, Object};

use crate::db;

/// A page of a list and the cursor of the next one (absent on the last page).
#[derive(Object)]
pub struct ServerPage {
    pub items: Vec<Server>,
    #[oai(skip_serializing_if_is_none)]
    pub next: Option<String>,
}

#[derive(Object)]
pub struct SitePage {
    pub items: Vec<SiteSummary>,
    #[oai(skip_serializing_if_is_none)]
    pub next: Option<String>,
}

#[derive(Object)]
pub struct DeploymentPage {
    pub items: Vec<Deployment>,
    #[oai(skip_serializing_if_is_none)]
    pub next: Option<String>,
}

#[derive(Object)]
pub struct RecordPage {
    pub items: Vec<SelinuxRecord>,
    #[oai(skip_serializing_if_is_none)]
    pub next: Option<String>,
}

#[derive(Object)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    #[oai(skip_serializing_if_is_none)]
    pub next: Option<String>,
}

#[derive(Object)]
pub struct Server {
    pub id: String,
    pub name: String,
    pub ip_address: String,
    pub hostname: String,
    pub os_version: String,
    /// pending, provisioning, active, error or unreachable.
    pub status: String,
    #[oai(skip_serializing_if_is_none)]
    pub status_reason: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub selinux_mode: Option<String>,
    pub created_at: String,
}

impl From<db::servers::ServerSummary> for Server {
    fn from(s: db::servers::ServerSummary) -> Self {
        Self {
            id: s.id.to_string(),
            name: s.name,
            ip_address: s.ip_address,
            hostname: s.hostname,
            os_version: s.os_version.to_string(),
            status: s.status.to_string(),
            status_reason: s.status_reason,
            selinux_mode: s.selinux_mode.map(|m| m.to_string()),
            created_at: s.created_at,
        }
    }
}

impl From<db::servers::Server> for Server {
    fn from(s: db::servers::Server) -> Self {
        Self {
            id: s.id.to_string(),
            name: s.name,
            ip_address: s.ip_address,
            hostname: s.hostname,
            os_version: s.os_version.to_string(),
            status: s.status.to_string(),
            status_reason: s.status_reason,
            selinux_mode: s.selinux_mode.map(|m| m.to_string()),
            created_at: s.created_at,
        }
    }
}

#[derive(Object)]
pub struct SiteSummary {
    pub id: String,
    pub domain: String,
    pub server_name: String,
    pub app_type: String,
    pub php_version: String,
    /// creating, provisioning, active, suspended, error or deleting.
    pub status: String,
    #[oai(skip_serializing_if_is_none)]
    pub status_reason: Option<String>,
    pub created_at: String,
}

impl From<db::sites::SiteSummary> for SiteSummary {
    fn from(s: db::sites::SiteSummary) -> Self {
        Self {
            id: s.id.to_string(),
            domain: s.domain,
            server_name: s.server_name,
            app_type: s.app_type.to_string(),
            php_version: s.php_version.to_string(),
            status: s.status.to_string(),
            status_reason: s.status_reason,
            created_at: s.created_at,
        }
    }
}

/// A site with its database (never its password: that is `POST …/database/reveal`).
#[derive(Object)]
pub struct Site {
    pub id: String,
    pub server_id: String,
    pub server_name: String,
    pub domain: String,
    pub aliases: Vec<String>,
    pub app_type: String,
    pub php_version: String,
    pub status: String,
    #[oai(skip_serializing_if_is_none)]
    pub status_reason: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub user: Option<String>,
    /// A certificate is served.
    pub https: bool,
    #[oai(skip_serializing_if_is_none)]
    pub database: Option<SiteDatabase>,
    /// The job that last changed the site (follow it at `/jobs/{id}`).
    #[oai(skip_serializing_if_is_none)]
    pub last_job_id: Option<String>,
    pub created_at: String,
}

#[derive(Object)]
pub struct SiteDatabase {
    pub engine: String,
    pub name: String,
    pub user: String,
}

impl From<db::sites::Site> for Site {
    fn from(s: db::sites::Site) -> Self {
        let database = match (s.db_type, s.db_name, s.db_username) {
            (Some(engine), Some(name), Some(user)) => Some(SiteDatabase {
                engine: engine.to_string(),
                name,
                user,
            }),
            _ => None,
        };
        Self {
            id: s.id.to_string(),
            server_id: s.server_id.to_string(),
            server_name: s.server_name,
            domain: s.domain,
            aliases: s.aliases.split_whitespace().map(str::to_owned).collect(),
            app_type: s.app_type.to_string(),
            php_version: s.php_version.to_string(),
            status: s.status.to_string(),
            status_reason: s.status_reason,
            user: s.username,
            https: s.tls,
            database,
            last_job_id: s.last_job_id.map(|j| j.to_string()),
            created_at: s.created_at,
        }
    }
}

#[derive(Enum, Clone, Copy, Debug)]
#[oai(rename_all = "lowercase")]
pub enum AppKind {
    Wordpress,
    Laravel,
    Generic,
}

#[derive(Enum, Clone, Copy, Debug)]
#[oai(rename_all = "lowercase")]
pub enum DatabaseKind {
    None,
    Mariadb,
    Postgresql,
}

/// A new site. The server must be active with the PHP version installed.
#[derive(Object)]
pub struct NewSite {
    #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))]
    pub server_id: String,
    #[oai(validator(min_length = 1, max_length = 253))]
    pub domain: String,
    /// Further names the site answers to.
    #[oai(default, validator(max_items = 50))]
    pub aliases: Vec<String>,
    pub app_type: AppKind,
    #[oai(validator(pattern = "^(7\\.4|8\\.[0-4])$"))]
    pub php_version: String,
    #[oai(default = "no_database")]
    pub database: DatabaseKind,
    /// The Unix user (default: the next free `webN`).
    #[oai(validator(max_length = 32))]
    pub user: Option<String>,
    /// The database and database user's name (default: from the domain).
    #[oai(validator(max_length = 64))]
    pub db_name: Option<String>,
    /// Run the app type's cron job: Laravel's scheduler every minute, WordPress's WP-Cron every
    /// five minutes (with `DISABLE_WP_CRON` in its `.env`). On unless `false`.
    #[oai(default = "on")]
    pub scheduler: bool,
}

fn on() -> bool {
    true
}

fn no_database() -> DatabaseKind {
    DatabaseKind::None
}

impl NewSite {
    /// The web form the same action takes.
    pub fn form(&self) -> crate::sites::forms::SiteForm {
        crate::sites::forms::SiteForm {
            server_id: self.server_id.clone(),
            domain: self.domain.clone(),
            aliases: self.aliases.join(" "),
            app_type: match self.app_type {
                AppKind::Wordpress => "wordpress",
                AppKind::Laravel => "laravel",
                AppKind::Generic => "generic",
            }
            .into(),
            php_version: self.php_version.clone(),
            database: match self.database {
                DatabaseKind::None => "none",
                DatabaseKind::Mariadb => "mariadb",
                DatabaseKind::Postgresql => "postgresql",
            }
            .into(),
            user: self.user.clone().unwrap_or_default(),
            db_name: self.db_name.clone().unwrap_or_default(),
            scheduler: self.scheduler.then(|| "on".to_owned()),
        }
    }
}

/// A change was queued as a job; follow it at `/jobs/{job_id}`.
#[derive(Object)]
pub struct Queued {
    pub job_id: String,
}

/// A site was made; its provisioning runs as `job_id`.
#[derive(Object)]
pub struct Created {
    pub id: String,
    #[oai(skip_serializing_if_is_none)]
    pub job_id: Option<String>,
}

/// A deployment was queued.
#[derive(Object)]
pub struct DeploymentQueued {
    pub deployment_id: String,
}

#[derive(Object, Default)]
pub struct DeployRequest {
    /// Another branch than the site's own.
    #[oai(validator(max_length = 255))]
    pub branch: Option<String>,
}

#[derive(Object)]
pub struct Deployment {
    pub id: String,
    pub site_id: String,
    pub site_domain: String,
    /// deploy or rollback.
    pub action: String,
    /// pending, running, success or failed.
    pub status: String,
    pub triggered_by: String,
    pub branch: String,
    #[oai(skip_serializing_if_is_none)]
    pub commit_hash: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub commit_message: Option<String>,
    /// kept, removed or live (whether it can be rolled back to).
    pub release_state: String,
    #[oai(skip_serializing_if_is_none)]
    pub job_id: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub status_reason: Option<String>,
    pub created_at: String,
    #[oai(skip_serializing_if_is_none)]
    pub finished_at: Option<String>,
}

impl From<db::deployments::Deployment> for Deployment {
    fn from(d: db::deployments::Deployment) -> Self {
        Self {
            id: d.id.to_string(),
            site_id: d.site_id.to_string(),
            site_domain: d.site_domain,
            action: d.action.to_string(),
            status: d.status.to_string(),
            triggered_by: d.triggered_by.to_string(),
            branch: d.branch,
            commit_hash: d.commit_hash,
            commit_message: d.commit_message,
            release_state: d.release_state.to_string(),
            job_id: d.job_id.map(|j| j.to_string()),
            status_reason: d.status_reason,
            created_at: d.created_at,
            finished_at: d.finished_at,
        }
    }
}

#[derive(Object)]
pub struct Job {
    pub id: String,
    #[oai(skip_serializing_if_is_none)]
    pub server_id: Option<String>,
    pub kind: String,
    pub title: String,
    /// queued, running, success, failed or interrupted.
    pub status: String,
    /// Whether the status will not change again.
    pub finished: bool,
    #[oai(skip_serializing_if_is_none)]
    pub exit_code: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub error: Option<String>,
    pub created_at: String,
    #[oai(skip_serializing_if_is_none)]
    pub finished_at: Option<String>,
}

impl From<db::jobs::Job> for Job {
    fn from(j: db::jobs::Job) -> Self {
        Self {
            id: j.id.to_string(),
            server_id: j.server_id.map(|s| s.to_string()),
            kind: j.kind.to_string(),
            title: j.title,
            status: j.status.to_string(),
            finished: j.status.is_final(),
            exit_code: j.exit_code,
            error: j.error,
            created_at: j.created_at,
            finished_at: j.finished_at,
        }
    }
}

/// One line of a job's log.
#[derive(Object, serde::Serialize)]
pub struct LogLine {
    pub seq: i64,
    /// stdout, stderr or panel.
    pub stream: String,
    pub line: String,
}

/// Log lines after a sequence number; ask again with `after = next` while `more` or the job
/// runs.
#[derive(Object)]
pub struct LogPage {
    pub lines: Vec<LogLine>,
    pub next: i64,
    pub more: bool,
}

/// A revealed secret.
#[derive(Object)]
pub struct Secret {
    pub value: String,
}

#[derive(Object)]
pub struct EnvEntry {
    #[oai(validator(min_length = 1, max_length = 128))]
    pub key: String,
    #[oai(validator(max_length = 4096))]
    pub value: String,
}

#[derive(Object)]
pub struct Env {
    #[oai(validator(max_items = 500))]
    pub entries: Vec<EnvEntry>,
}

#[derive(Object)]
pub struct SshKey {
    pub id: String,
    pub name: String,
    pub key_type: String,
    pub fingerprint: String,
    pub has_private_key: bool,
    pub created_at: String,
}

#[derive(Object)]
pub struct Software {
    pub id: String,
    pub software: String,
    pub version: String,
    pub status: String,
    #[oai(skip_serializing_if_is_none)]
    pub status_reason: Option<String>,
    pub updated_at: String,
}

#[derive(Object)]
pub struct SelinuxRecord {
    pub id: String,
    #[oai(skip_serializing_if_is_none)]
    pub server_name: Option<String>,
    pub level: String,
    pub message: String,
    #[oai(skip_serializing_if_is_none)]
    pub explanation: Option<String>,
    pub created_at: String,
}

#[derive(Object)]
pub struct AuditEntry {
    pub id: String,
    pub at: String,
    /// user, token, cli, webhook, node or anonymous.
    pub actor_kind: String,
    pub actor_name: String,
    pub action: String,
    #[oai(skip_serializing_if_is_none)]
    pub target_kind: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub target_id: Option<String>,
    /// ok, refused, invalid or failed.
    pub outcome: String,
    /// web, api, cli, webhook or callback.
    pub via: String,
    #[oai(skip_serializing_if_is_none)]
    pub source: Option<String>,
}

impl From<db::audit::Entry> for AuditEntry {
    fn from(e: db::audit::Entry) -> Self {
        Self {
            id: e.id.to_string(),
            at: e.at,
            actor_kind: e.actor_kind.to_string(),
            actor_name: e.actor_name,
            action: e.action,
            target_kind: e.target_kind,
            target_id: e.target_id,
            outcome: e.outcome.to_string(),
            via: e.via.to_string(),
            source: e.source,
        }
    }
}
