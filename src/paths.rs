//! Every URL of the panel, declared once: routes are registered from these and links built from
//! them (in pages, in alert mail, in what the CLI prints), so a renamed page cannot leave a dead
//! link behind. Plain constants with no imports: any floor may use them.

pub const DASHBOARD: &str = "/";
pub const SERVERS: &str = "/servers";
pub const SERVER_NEW: &str = "/servers/new";
pub const SERVER: &str = "/servers/:id";
pub const SERVER_SETUP_URL: &str = "/servers/:id/setup-url";
pub const SERVER_HEALTH: &str = "/servers/:id/health";
pub const SERVER_STATUS: &str = "/servers/:id/status";
pub const SERVER_DELETE: &str = "/servers/:id/delete";
pub const SERVER_ROTATE_KEY: &str = "/servers/:id/rotate-key";
pub const SERVER_SOFTWARE: &str = "/servers/:id/software";
pub const SERVER_HOST_KEY_CHECK: &str = "/servers/:id/host-key/check";
pub const SERVER_HOST_KEY_CONFIRM: &str = "/servers/:id/host-key/confirm";
pub const SERVER_SELINUX: &str = "/servers/:id/selinux";
pub const SERVER_SELINUX_STATUS: &str = "/servers/:id/selinux/status";
pub const SERVER_SELINUX_MODULE: &str = "/servers/:id/selinux/module";
pub const SERVER_SELINUX_BOOLEAN: &str = "/servers/:id/selinux/boolean";
pub const SERVER_SELINUX_RELABEL: &str = "/servers/:id/selinux/relabel";
pub const SERVER_SELINUX_ENFORCE: &str = "/servers/:id/selinux/enforce";
pub const SETUP_SCRIPT: &str = "/setup/:token";
pub const CALLBACK_SERVER_READY: &str = "/api/callbacks/server-ready";
pub const SITES: &str = "/sites";
pub const SITE_NEW: &str = "/sites/new";
pub const SITE: &str = "/sites/:id";
pub const SITE_RETRY: &str = "/sites/:id/retry";
pub const SITE_STATUS: &str = "/sites/:id/status";
pub const SITE_SUSPEND: &str = "/sites/:id/suspend";
pub const SITE_RESUME: &str = "/sites/:id/resume";
pub const SITE_DELETE: &str = "/sites/:id/delete";
pub const SITE_ENV: &str = "/sites/:id/env";
pub const SITE_DB_ROTATE: &str = "/sites/:id/database/rotate";
pub const SITE_DB_REVEAL: &str = "/sites/:id/database/reveal";
pub const SITE_ENV_REVEAL: &str = "/sites/:id/env/reveal";
pub const SITE_HTTPS: &str = "/sites/:id/https";
pub const SITE_CERT_ISSUE: &str = "/sites/:id/https/issue";
pub const SITE_CERT_UPLOAD: &str = "/sites/:id/https/upload";
pub const SITE_CERT_DNS: &str = "/sites/:id/https/dns";
pub const SITE_CERT_REMOVE: &str = "/sites/:id/https/remove";
pub const SITE_HTTPS_SETTINGS: &str = "/sites/:id/https/settings";
pub const SITE_PHP: &str = "/sites/:id/php";
pub const SITE_LOGS: &str = "/sites/:id/logs";
pub const SITE_LOGS_STREAM: &str = "/sites/:id/logs/stream";
pub const SITE_LOGS_DOWNLOAD: &str = "/sites/:id/logs/download";
pub const SITE_REDIRECTS: &str = "/sites/:id/redirects";
pub const SITE_NGINX: &str = "/sites/:id/nginx";
pub const SITE_REDIRECT_DELETE: &str = "/sites/:id/redirects/delete";
pub const SITE_CRON: &str = "/sites/:id/cron";
pub const SITE_CRON_RUNS: &str = "/sites/:id/cron/runs";
pub const SITE_CRON_DESCRIBE: &str = "/sites/:id/cron/describe";
pub const SITE_CRON_APPLY: &str = "/sites/:id/cron/apply";
pub const SITE_CRON_JOB: &str = "/sites/:id/cron/:job";
pub const SITE_CRON_TOGGLE: &str = "/sites/:id/cron/:job/toggle";
pub const SITE_CRON_DELETE: &str = "/sites/:id/cron/:job/delete";
pub const SITE_CRON_RUN: &str = "/sites/:id/cron/:job/run";
pub const SITE_WORKERS: &str = "/sites/:id/workers";
pub const SITE_WORKERS_STATUS: &str = "/sites/:id/workers/status";
pub const SITE_WORKERS_RESTART: &str = "/sites/:id/workers/restart";
pub const SITE_WORKER: &str = "/sites/:id/workers/:worker";
pub const SITE_WORKER_DELETE: &str = "/sites/:id/workers/:worker/delete";
pub const CERTIFICATES: &str = "/certificates";
pub const CALLBACK_SITE_CREATED: &str = "/api/callbacks/site-created";
pub const DATABASES: &str = "/databases";
pub const SITE_DEPLOYMENTS: &str = "/sites/:id/deployments";
pub const SITE_REPOSITORY: &str = "/sites/:id/repository";
pub const SITE_DEPLOY: &str = "/sites/:id/deploy";
pub const SITE_DEPLOY_KEY: &str = "/sites/:id/deploy-key";
pub const SITE_DEPLOY_KEY_PUBLIC: &str = "/sites/:id/deploy-key/public";
pub const SITE_WEBHOOK_REVEAL: &str = "/sites/:id/webhook/reveal";
pub const SITE_WEBHOOK_ROTATE: &str = "/sites/:id/webhook/rotate";
pub const SITE_GIT_HOST_SCAN: &str = "/sites/:id/git-host/scan";
pub const SITE_GIT_HOST_CONFIRM: &str = "/sites/:id/git-host/confirm";
pub const DEPLOYMENTS: &str = "/deployments";
pub const DEPLOYMENT: &str = "/deployments/:id";
pub const DEPLOYMENT_ROLLBACK: &str = "/deployments/:id/rollback";
pub const DEPLOYMENT_REDEPLOY: &str = "/deployments/:id/redeploy";
/// A site's push webhook (GitHub, GitLab, plain HMAC): public, verified by the site's secret.
pub const WEBHOOK_DEPLOY: &str = "/api/webhooks/deploy/:id";
pub const SSH_KEYS: &str = "/ssh-keys";
pub const SSH_KEYS_IMPORT: &str = "/ssh-keys/import";
pub const SSH_KEY_PUBLIC: &str = "/ssh-keys/:id/public";
pub const SSH_KEY_DELETE: &str = "/ssh-keys/:id/delete";
pub const SELINUX: &str = "/selinux";
pub const SELINUX_EVENTS: &str = "/selinux/events";
pub const SELINUX_RECORD: &str = "/selinux/records/:id";
pub const SETTINGS: &str = "/settings";
pub const JOBS: &str = "/jobs";
pub const JOB: &str = "/jobs/:id";
pub const JOB_EVENTS: &str = "/jobs/:id/events";
pub const JOB_RETRY: &str = "/jobs/:id/retry";
pub const LOGIN: &str = "/login";
pub const LOGIN_OPTIONS: &str = "/login/options";
pub const LOGIN_FINISH: &str = "/login/finish";
pub const LOGOUT: &str = "/logout";
pub const ENROL: &str = "/enrol/:token";
pub const ENROL_OPTIONS: &str = "/enrol/:token/options";
pub const ENROL_FINISH: &str = "/enrol/:token/finish";
pub const PASSKEY_OPTIONS: &str = "/settings/passkeys/options";
pub const PASSKEY_FINISH: &str = "/settings/passkeys/finish";
pub const PASSKEY_DELETE: &str = "/settings/passkeys/:id/delete";
pub const SESSION_REVOKE: &str = "/settings/sessions/:id/revoke";
pub const PREFERENCES: &str = "/settings/preferences";
/// Confirm it is you (a passkey check) before a sensitive step.
pub const CONFIRM: &str = "/settings/confirm";
pub const CONFIRM_OPTIONS: &str = "/settings/confirm/options";
pub const CONFIRM_FINISH: &str = "/settings/confirm/finish";
pub const HEALTHZ: &str = "/healthz";
/// The REST API (tokens, JSON, problem details); its own paths are in `api/`.
pub const API: &str = "/api/v1";
/// The API's OpenAPI document.
pub const API_OPENAPI: &str = "/api/v1/openapi.json";
pub const AUDIT: &str = "/audit";
pub const AUDIT_EXPORT: &str = "/audit/export";
pub const API_TOKENS: &str = "/settings/tokens";
pub const API_TOKEN_REVOKE: &str = "/settings/tokens/:id/revoke";
pub const USERS: &str = "/settings/users";
pub const USER_ROLE: &str = "/settings/users/:id/role";
pub const USER_STATUS: &str = "/settings/users/:id/status";
/// Prefix of embedded static files (`/static/app.<hash>.css`).
pub const STATIC: &str = "/static";
pub const STATIC_ROUTE: &str = "/static/*path";

/// Fill the first `:param` of a path pattern (`/ssh-keys/:id/public` → `/ssh-keys/01J…/public`).
pub fn with_id(pattern: &str, id: impl std::fmt::Display) -> String {
    match pattern.find(':') {
        Some(start) => {
            let end = pattern[start..]
                .find('/')
                .map_or(pattern.len(), |e| start + e);
            format!("{}{}{}", &pattern[..start], id, &pattern[end..])
        }
        None => pattern.to_owned(),
    }
}
