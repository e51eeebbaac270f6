//! Enumerated columns. Each enum lists exactly the values its column's CHECK constraint allows
//! (a test compares them with the migration), and converts to/from the stored text.

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $column:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// `table.column` whose CHECK constraint this enum mirrors.
            pub const COLUMN: &'static str = $column;

            /// The stored text.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        /// Compares with stored text (`status == "failed"` in tests and checks).
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!("`{}` is not one of: {}", s.escape_debug(),
                        [$($text),+].join(", "))),
                }
            }
        }

        impl sqlx::Type<sqlx::Sqlite> for $name {
            fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
                <String as sqlx::Type<sqlx::Sqlite>>::type_info()
            }
        }

        impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<'q, sqlx::Sqlite>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for $name {
            fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let s = <&str as sqlx::Decode<'r, sqlx::Sqlite>>::decode(value)?;
                Ok(s.parse::<$name>()?)
            }
        }
    };
}

text_enum!(
    /// Operating systems Panel provisions.
    OsVersion, "servers.os_version" {
        Alma8 = "alma_8", Alma9 = "alma_9", Rocky8 = "rocky_8", Rocky9 = "rocky_9", Debian12 = "debian_12",
    }
);

impl OsVersion {
    pub fn label(self) -> &'static str {
        match self {
            OsVersion::Alma8 => "AlmaLinux 8",
            OsVersion::Alma9 => "AlmaLinux 9",
            OsVersion::Rocky8 => "Rocky Linux 8",
            OsVersion::Rocky9 => "Rocky Linux 9",
            OsVersion::Debian12 => "Debian 12",
        }
    }
}

text_enum!(
    /// A server's lifecycle: onboarding, then active (or error/unreachable with a reason).
    ServerStatus, "servers.status" {
        Pending = "pending", Provisioning = "provisioning", Active = "active", Error = "error",
        Unreachable = "unreachable",
    }
);

text_enum!(
    /// Web servers Panel configures.
    WebServer, "servers.web_server" { Nginx = "nginx" }
);

text_enum!(
    /// A site's lifecycle, as in the provisioning state diagram.
    SiteStatus, "sites.status" {
        Creating = "creating", Provisioning = "provisioning", Active = "active",
        Suspended = "suspended", Error = "error", Deleting = "deleting",
    }
);

text_enum!(
    /// Which vhost template and layout a site gets. The seed calls the third kind `generic`;
    /// the first schema's CHECK spelled it `php`, which is what the column keeps storing (so
    /// existing rows and databases need no rewrite): `as_str` is the stored text, `name` the
    /// word forms, the CLI, the API and the UI use.
    AppType, "sites.app_type" { WordPress = "wordpress", Laravel = "laravel", Generic = "php" }
);

impl AppType {
    pub fn label(self) -> &'static str {
        match self {
            AppType::WordPress => "WordPress",
            AppType::Laravel => "Laravel",
            AppType::Generic => "Generic PHP",
        }
    }

    /// The name people type and read: `wordpress`, `laravel` or `generic`.
    pub fn name(self) -> &'static str {
        match self {
            AppType::WordPress => "wordpress",
            AppType::Laravel => "laravel",
            AppType::Generic => "generic",
        }
    }

    /// An app type by its name; `php` (the stored spelling, and what the CLI took before) is
    /// still understood as `generic`.
    pub fn from_name(text: &str) -> Option<AppType> {
        match text.trim() {
            "wordpress" => Some(AppType::WordPress),
            "laravel" => Some(AppType::Laravel),
            "generic" | "php" => Some(AppType::Generic),
            _ => None,
        }
    }
}

text_enum!(
    /// Database engines.
    DatabaseType, "databases.db_type" { MariaDb = "mariadb", PostgreSql = "postgresql" }
);

impl DatabaseType {
    pub fn label(self) -> &'static str {
        match self {
            DatabaseType::MariaDb => "MariaDB",
            DatabaseType::PostgreSql => "PostgreSQL",
        }
    }
}

text_enum!(
    DatabaseStatus, "databases.status" {
        Creating = "creating", Active = "active", Error = "error", Deleting = "deleting",
    }
);

text_enum!(
    DeploymentStatus, "deployments.status" {
        Pending = "pending", Running = "running", Success = "success", Failed = "failed",
    }
);

text_enum!(
    /// What started a deployment.
    DeploymentTrigger, "deployments.triggered_by" { Ui = "ui", Webhook = "webhook", Cli = "cli" }
);

text_enum!(
    /// A deployment either fetches and switches to a new release, or switches back to a kept one.
    DeploymentAction, "deployments.action" { Deploy = "deploy", Rollback = "rollback" }
);

text_enum!(
    /// What is on the server of a deployment's release directory.
    ReleaseState, "deployments.release_state" { None = "none", Kept = "kept", Pruned = "pruned" }
);

text_enum!(
    Software, "software_installations.software" {
        Nginx = "nginx", Php = "php", MariaDb = "mariadb", PostgreSql = "postgresql",
        Redis = "redis", Bun = "bun",
    }
);

text_enum!(
    InstallStatus, "software_installations.status" {
        Pending = "pending", Installing = "installing", Installed = "installed", Failed = "failed",
    }
);

text_enum!(
    /// Severity of server log and audit rows.
    LogLevel, "server_logs.level" { Debug = "debug", Info = "info", Warning = "warning", Error = "error" }
);

text_enum!(
    UserStatus, "users.status" { Active = "active", Disabled = "disabled" }
);

text_enum!(
    KeyType, "ssh_keys.key_type" { Ed25519 = "ed25519", Rsa = "rsa" }
);

text_enum!(
    /// How a server's services are started and reloaded (see `provision::service`).
    ServiceDriver, "servers.service_driver" {
        Systemd = "systemd", Direct = "direct",
    }
);

text_enum!(
    SelinuxMode, "servers.selinux_mode" {
        Enforcing = "enforcing", Permissive = "permissive", Disabled = "disabled",
    }
);

text_enum!(
    PhpVersion, "sites.php_version" {
        V74 = "7.4", V80 = "8.0", V81 = "8.1", V82 = "8.2", V83 = "8.3", V84 = "8.4",
    }
);

text_enum!(
    /// A job's lifecycle: queued behind its lane and slots, running, then one of the final three
    /// (`interrupted`: the panel stopped while it ran).
    JobStatus, "jobs.status" {
        Queued = "queued", Running = "running", Success = "success", Failed = "failed",
        Interrupted = "interrupted",
    }
);

impl JobStatus {
    /// The job has ended and nothing more will be logged.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Success | JobStatus::Failed | JobStatus::Interrupted
        )
    }
}

text_enum!(
    /// One step of a job.
    StepStatus, "job_steps.status" {
        Running = "running", Done = "done", Skipped = "skipped", Failed = "failed",
    }
);

text_enum!(
    /// Where a job's log line came from.
    LogStream, "job_log.stream" { Stdout = "stdout", Stderr = "stderr", Panel = "panel" }
);

text_enum!(
    /// What a job does; with the job's `args` enough to run it again (the column has no value
    /// list of its own: kinds are added with features, and this enum is the list).
    JobKind, "jobs.kind" {
        ServerOnboard = "server.onboard",
        ServerRotateKey = "server.rotate_key",
        ServerSoftware = "server.software",
        SelinuxModule = "server.selinux.module",
        SelinuxBoolean = "server.selinux.boolean",
        SelinuxRelabel = "server.selinux.relabel",
        SelinuxEnforce = "server.selinux.enforce",
        SiteProvision = "site.provision",
        SiteSuspend = "site.suspend",
        SiteDelete = "site.delete",
        SiteRotatePassword = "site.rotate_password",
        SiteWriteEnv = "site.write_env",
        SiteDeploy = "site.deploy",
        SiteCertificate = "site.certificate",
        SiteCron = "site.cron",
        SiteCronRun = "site.cron_run",
        SitePhp = "site.php",
        SiteRedirects = "site.redirects",
        SiteNginx = "site.nginx",
        SiteWorkers = "site.workers",
    }
);

text_enum!(
    /// When a site's worker process is started again after it ends by itself.
    WorkerRestart, "site_workers.restart" {
        Always = "always",
        OnFailure = "on-failure",
        Never = "never",
    }
);

text_enum!(
    /// The signal a worker process is asked to stop with (it is killed after its stop timeout).
    WorkerSignal, "site_workers.stop_signal" {
        Term = "TERM",
        Int = "INT",
        Quit = "QUIT",
        Hup = "HUP",
        Usr1 = "USR1",
        Usr2 = "USR2",
    }
);

text_enum!(
    /// What made a cron job: a user, or a preset offered when the site was created.
    CronOrigin, "site_cron_jobs.origin" {
        User = "user",
        Laravel = "laravel",
        WordPress = "wordpress",
    }
);

text_enum!(
    /// What a user (or an API token) may do; see `domain::roles` for the table.
    Role, "users.role" {
        Owner = "owner",
        Admin = "admin",
        Operator = "operator",
        Viewer = "viewer",
    }
);

text_enum!(
    /// Who did what an audit row records.
    AuditActor, "audit_log.actor_kind" {
        User = "user",
        Token = "token",
        Cli = "cli",
        Webhook = "webhook",
        Node = "node",
        Anonymous = "anonymous",
    }
);

text_enum!(
    /// How an audited action ended: done, refused (not allowed), bad input, or failed.
    AuditOutcome, "audit_log.outcome" {
        Ok = "ok",
        Refused = "refused",
        Invalid = "invalid",
        Failed = "failed",
    }
);

text_enum!(
    /// Which face an audited action came through.
    AuditVia, "audit_log.via" {
        Web = "web",
        Api = "api",
        Cli = "cli",
        Webhook = "webhook",
        Callback = "callback",
    }
);

text_enum!(
    /// Where a site's certificate comes from.
    CertSource, "site_certificates.source" { Acme = "acme", Custom = "custom" }
);

text_enum!(
    /// How the CA checks a site's names: a file over HTTP, or a TXT record (wildcards).
    CertChallenge, "site_certificates.challenge" { Http01 = "http-01", Dns01 = "dns-01" }
);

text_enum!(
    /// Whether a site's certificate is served yet.
    CertStatus, "site_certificates.status" { Pending = "pending", Active = "active" }
);

/// `(column, allowed values)` for every enum, so tests can compare them with the schema.
pub fn all_enum_columns() -> Vec<(&'static str, Vec<&'static str>)> {
    fn values<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|v| f(*v)).collect()
    }
    vec![
        (OsVersion::COLUMN, values(OsVersion::ALL, OsVersion::as_str)),
        (Role::COLUMN, values(Role::ALL, Role::as_str)),
        (
            CronOrigin::COLUMN,
            values(CronOrigin::ALL, CronOrigin::as_str),
        ),
        (
            WorkerRestart::COLUMN,
            values(WorkerRestart::ALL, WorkerRestart::as_str),
        ),
        (
            WorkerSignal::COLUMN,
            values(WorkerSignal::ALL, WorkerSignal::as_str),
        ),
        (
            AuditActor::COLUMN,
            values(AuditActor::ALL, AuditActor::as_str),
        ),
        (
            AuditOutcome::COLUMN,
            values(AuditOutcome::ALL, AuditOutcome::as_str),
        ),
        (AuditVia::COLUMN, values(AuditVia::ALL, AuditVia::as_str)),
        (
            CertSource::COLUMN,
            values(CertSource::ALL, CertSource::as_str),
        ),
        (
            CertStatus::COLUMN,
            values(CertStatus::ALL, CertStatus::as_str),
        ),
        (
            ServiceDriver::COLUMN,
            values(ServiceDriver::ALL, ServiceDriver::as_str),
        ),
        (
            ServerStatus::COLUMN,
            values(ServerStatus::ALL, ServerStatus::as_str),
        ),
        (WebServer::COLUMN, values(WebServer::ALL, WebServer::as_str)),
        (
            SiteStatus::COLUMN,
            values(SiteStatus::ALL, SiteStatus::as_str),
        ),
        (AppType::COLUMN, values(AppType::ALL, AppType::as_str)),
        (
            DatabaseType::COLUMN,
            values(DatabaseType::ALL, DatabaseType::as_str),
        ),
        (
            DatabaseStatus::COLUMN,
            values(DatabaseStatus::ALL, DatabaseStatus::as_str),
        ),
        (
            DeploymentStatus::COLUMN,
            values(DeploymentStatus::ALL, DeploymentStatus::as_str),
        ),
        (
            DeploymentTrigger::COLUMN,
            values(DeploymentTrigger::ALL, DeploymentTrigger::as_str),
        ),
        (
            DeploymentAction::COLUMN,
            values(DeploymentAction::ALL, DeploymentAction::as_str),
        ),
        (
            ReleaseState::COLUMN,
            values(ReleaseState::ALL, ReleaseState::as_str),
        ),
        (Software::COLUMN, values(Software::ALL, Software::as_str)),
        (
            InstallStatus::COLUMN,
            values(InstallStatus::ALL, InstallStatus::as_str),
        ),
        (LogLevel::COLUMN, values(LogLevel::ALL, LogLevel::as_str)),
        (
            "selinux_audit_logs.level",
            values(LogLevel::ALL, LogLevel::as_str),
        ),
        (
            UserStatus::COLUMN,
            values(UserStatus::ALL, UserStatus::as_str),
        ),
        (KeyType::COLUMN, values(KeyType::ALL, KeyType::as_str)),
        (
            SelinuxMode::COLUMN,
            values(SelinuxMode::ALL, SelinuxMode::as_str),
        ),
        (
            PhpVersion::COLUMN,
            values(PhpVersion::ALL, PhpVersion::as_str),
        ),
        (JobStatus::COLUMN, values(JobStatus::ALL, JobStatus::as_str)),
        (
            StepStatus::COLUMN,
            values(StepStatus::ALL, StepStatus::as_str),
        ),
        (LogStream::COLUMN, values(LogStream::ALL, LogStream::as_str)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_unknown_values_are_named() {
        for v in OsVersion::ALL {
            assert_eq!(v.as_str().parse::<OsVersion>().unwrap(), *v);
        }
        let err = "centos_7".parse::<OsVersion>().unwrap_err();
        assert!(err.contains("centos_7") && err.contains("alma_9"), "{err}");
    }
}
