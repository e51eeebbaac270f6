//! Roles and permissions: the one table that says who may do what. Every web route declares the
//! [`Perm`] it needs (`web::RouteSpec`), every API operation asks [`authorize`] with its own, and
//! the command line acts as the panel host's operator (an owner). Nothing else decides.

use super::Role;
use crate::error::AppError;
use crate::ids::ServerId;

/// What a route or an operation does, in the terms the roles are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Perm {
    /// The caller's own account: preferences, their sessions, logging out.
    Own,
    /// The caller's own credentials: adding or removing a passkey, making an API token (never
    /// above the caller's own role). Needs a fresh passkey check. (Revoking one's own token is
    /// `Own`: taking power away needs no check.)
    Credentials,
    /// Read pages, lists, job logs and SELinux records; no secrets.
    View,
    /// Day-to-day operation: deploy, roll back, suspend, resume, retry a job, relabel, check a
    /// server. Nothing that reveals a secret or removes anything.
    Operate,
    /// Create and change servers, sites, software, certificates, keys and settings.
    Manage,
    /// Remove a server, a site, a key, a certificate.
    Delete,
    /// Show a secret (a database password, the `.env`, a webhook secret). Needs a fresh passkey
    /// check in the browser.
    Reveal,
    /// Invite users and change their roles. Needs a fresh passkey check.
    Users,
}

/// The lowest role that has each permission; a role has everything a lower one has.
pub const TABLE: &[(Perm, Role)] = &[
    (Perm::Own, Role::Viewer),
    (Perm::Credentials, Role::Viewer),
    (Perm::View, Role::Viewer),
    (Perm::Operate, Role::Operator),
    (Perm::Manage, Role::Admin),
    (Perm::Delete, Role::Admin),
    (Perm::Reveal, Role::Admin),
    (Perm::Users, Role::Owner),
];

impl Role {
    /// Higher is more: viewer 0 … owner 3.
    pub fn rank(self) -> u8 {
        match self {
            Role::Viewer => 0,
            Role::Operator => 1,
            Role::Admin => 2,
            Role::Owner => 3,
        }
    }

    /// Whether this role may give `other` to someone (a token or an invited user): never a
    /// role above one's own.
    pub fn may_grant(self, other: Role) -> bool {
        other.rank() <= self.rank()
    }

    /// What the role may do, in words (Settings and the API's token page show it).
    pub fn describe(self) -> &'static str {
        match self {
            Role::Owner => "everything, including users and their roles",
            Role::Admin => "everything but users: create, change, delete, reveal secrets",
            Role::Operator => {
                "deploy, roll back, suspend, resume, retry, read logs; no secrets, no deletes"
            }
            Role::Viewer => "read only; no secrets",
        }
    }
}

impl Perm {
    /// The lowest role with this permission.
    pub fn least_role(self) -> Role {
        TABLE
            .iter()
            .find(|(p, _)| *p == self)
            .map(|(_, r)| *r)
            .expect("every permission is in the table")
    }

    /// Whether a browser session needs a passkey check within the last five minutes first.
    pub fn needs_fresh_check(self) -> bool {
        matches!(self, Perm::Reveal | Perm::Users | Perm::Credentials)
    }

    /// In words, for refusals ("… needs the admin role to reveal secrets").
    pub fn describe(self) -> &'static str {
        match self {
            Perm::Own => "change your own account",
            Perm::Credentials => "change your own passkeys and tokens",
            Perm::View => "see this",
            Perm::Operate => "operate (deploy, suspend, resume, retry)",
            Perm::Manage => "create or change things",
            Perm::Delete => "delete things",
            Perm::Reveal => "reveal secrets",
            Perm::Users => "manage users",
        }
    }
}

impl super::JobKind {
    /// What retrying a job of this kind takes: the same as starting it (an operator retries a
    /// deploy or a provisioning, not a key rotation or a delete).
    pub fn retry_perm(self) -> Perm {
        use super::JobKind::*;
        match self {
            SiteProvision | SiteSuspend | SiteDeploy | SelinuxRelabel | SiteCronRun
            | SiteWorkers => Perm::Operate,
            SiteDelete => Perm::Delete,
            ServerOnboard | ServerRotateKey | ServerSoftware | SelinuxModule | SelinuxBoolean
            | SelinuxEnforce | SiteRotatePassword | SiteWriteEnv | SiteCertificate | SiteCron
            | SitePhp | SiteRedirects | SiteNginx => Perm::Manage,
        }
    }
}

/// Who is asking: a role, and (for an API token limited to some servers) which servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    /// `None`: every server.
    pub servers: Option<Vec<ServerId>>,
}

impl Principal {
    pub fn new(role: Role) -> Self {
        Self {
            role,
            servers: None,
        }
    }

    /// Whether this principal may see and act on `server` at all.
    pub fn reaches(&self, server: ServerId) -> bool {
        self.servers.as_ref().is_none_or(|s| s.contains(&server))
    }
}

/// The one authorization function: may `who` do `perm` (on something of `server`, when the
/// target belongs to one)? A refusal says which role it would take.
pub fn authorize(who: &Principal, perm: Perm, server: Option<ServerId>) -> Result<(), AppError> {
    let least = perm.least_role();
    if who.role.rank() < least.rank() {
        return Err(AppError::Forbidden(format!(
            "Your role ({}) cannot {}: that needs the {} role or higher.",
            who.role,
            perm.describe(),
            least
        )));
    }
    if let Some(server) = server {
        if !who.reaches(server) {
            // Said as "not found" by callers that must not confirm it exists; here it is the
            // reason, for the audit log.
            return Err(AppError::Forbidden(
                "This token is limited to other servers.".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_has_exactly_its_permissions() {
        use Perm::*;
        let expect: &[(Role, &[Perm])] = &[
            (
                Role::Owner,
                &[
                    Own,
                    Credentials,
                    View,
                    Operate,
                    Manage,
                    Delete,
                    Reveal,
                    Users,
                ],
            ),
            (
                Role::Admin,
                &[Own, Credentials, View, Operate, Manage, Delete, Reveal],
            ),
            (Role::Operator, &[Own, Credentials, View, Operate]),
            (Role::Viewer, &[Own, Credentials, View]),
        ];
        let all = [
            Own,
            Credentials,
            View,
            Operate,
            Manage,
            Delete,
            Reveal,
            Users,
        ];
        for (role, allowed) in expect {
            for perm in all {
                let got = authorize(&Principal::new(*role), perm, None).is_ok();
                assert_eq!(got, allowed.contains(&perm), "{role} {perm:?}");
            }
        }
    }

    #[test]
    fn a_limited_principal_reaches_only_its_servers() {
        let a = ServerId::generate();
        let b = ServerId::generate();
        let who = Principal {
            role: Role::Owner,
            servers: Some(vec![a]),
        };
        assert!(authorize(&who, Perm::View, Some(a)).is_ok());
        assert!(authorize(&who, Perm::View, Some(b)).is_err());
        assert!(authorize(&who, Perm::View, None).is_ok());
        assert!(Principal::new(Role::Viewer).reaches(b));
    }

    #[test]
    fn no_role_grants_above_itself() {
        assert!(Role::Admin.may_grant(Role::Operator));
        assert!(Role::Admin.may_grant(Role::Admin));
        assert!(!Role::Admin.may_grant(Role::Owner));
        assert!(!Role::Viewer.may_grant(Role::Operator));
    }
}
