//! Every URL of the panel, declared once: routes are registered from these and links built from
//! them, so a renamed page cannot leave a dead link behind.

pub const DASHBOARD: &str = "/";
pub const SERVERS: &str = "/servers";
pub const SITES: &str = "/sites";
pub const DATABASES: &str = "/databases";
pub const DEPLOYMENTS: &str = "/deployments";
pub const SSH_KEYS: &str = "/ssh-keys";
pub const SSH_KEYS_IMPORT: &str = "/ssh-keys/import";
pub const SSH_KEY_PUBLIC: &str = "/ssh-keys/:id/public";
pub const SSH_KEY_DELETE: &str = "/ssh-keys/:id/delete";

/// Fill the `:id` of a path pattern.
pub fn with_id(pattern: &str, id: impl std::fmt::Display) -> String {
    pattern.replacen(":id", &id.to_string(), 1)
}
pub const SELINUX: &str = "/selinux";
pub const SETTINGS: &str = "/settings";
pub const LOGIN: &str = "/login";
pub const HEALTHZ: &str = "/healthz";
/// Prefix of embedded static files (`/static/app.<hash>.css`).
pub const STATIC: &str = "/static";
pub const STATIC_ROUTE: &str = "/static/*path";
