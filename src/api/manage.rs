//! Operations that add and remove servers and SSH keys, manage software, and change SELinux on
//! a server, and read one SELinux record with its explanation. Each parses into the form the
//! web handler fills and calls the same action.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::ops::{Accepted, Tag, Token, allow, list_query, parse_id, queued};
use super::types::{Server, ServerPage, Software, SshKey};
use super::{ApiError, ApiResult, caller};
use crate::db;
use crate::domain::{Perm, ServerSort};
use crate::ids::{ServerId, SshKeyId};
use crate::state::AppState;

/// A server to add. The panel logs in as `ssh_user` with the key `ssh_key_id` once the setup
/// command has run on it.
#[derive(Object)]
pub struct NewServer {
    #[oai(validator(min_length = 1, max_length = 100))]
    pub name: String,
    #[oai(validator(min_length = 1, max_length = 45))]
    pub ip_address: String,
    #[oai(validator(min_length = 1, max_length = 253))]
    pub hostname: String,
    /// alma_8, alma_9, rocky_8, rocky_9 or debian_12.
    #[oai(validator(pattern = "^(alma_8|alma_9|rocky_8|rocky_9|debian_12)$"))]
    pub os_version: String,
    #[oai(validator(minimum(value = "1"), maximum(value = "65535")))]
    pub ssh_port: Option<u32>,
    #[oai(validator(max_length = 32))]
    pub ssh_user: Option<String>,
    #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))]
    pub ssh_key_id: String,
    /// PHP versions to install side by side (`8.2`, `8.3`, …).
    #[oai(default, validator(max_items = 6))]
    pub php_versions: Vec<String>,
}

/// A server was added; run `setup_command` on it as root, once (it carries a one-time secret).
#[derive(Object)]
pub struct AddedServer {
    pub id: String,
    pub setup_command: String,
}

#[derive(ApiResponse)]
enum ServerAdded {
    /// Added, pending until its setup command runs.
    #[oai(status = 201)]
    Created(Json<AddedServer>),
}

#[derive(ApiResponse)]
enum Gone {
    /// Removed.
    #[oai(status = 204)]
    Done,
}

#[derive(ApiResponse)]
enum KeyMade {
    /// Stored; its private half never leaves the panel.
    #[oai(status = 201)]
    Created(Json<SshKey>),
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum SoftwareAction {
    Install,
    Upgrade,
    Remove,
}

/// Software to install, upgrade or remove on a server.
#[derive(Object)]
pub struct SoftwareChange {
    /// php, nginx, mariadb, postgresql, redis, composer, …
    #[oai(validator(min_length = 1, max_length = 32))]
    pub software: String,
    /// The PHP version, for PHP.
    #[oai(default, validator(max_length = 8))]
    pub version: String,
    pub action: SoftwareAction,
}

/// An SELinux boolean of the panel's policy module to set, persistently:
/// `panel_can_manage_users` or `panel_can_reload_nginx`.
#[derive(Object)]
pub struct BooleanChange {
    #[oai(validator(min_length = 1, max_length = 64, pattern = "^[a-z0-9_]+$"))]
    pub name: String,
    pub value: bool,
}

#[derive(Enum, Clone, Copy, Debug)]
#[oai(rename_all = "lowercase")]
pub enum KeyKind {
    Ed25519,
    Rsa,
}

#[derive(Object)]
pub struct NewKey {
    #[oai(validator(min_length = 1, max_length = 100))]
    pub name: String,
    pub key_type: KeyKind,
}

#[derive(Object)]
pub struct ImportedKey {
    #[oai(validator(min_length = 1, max_length = 100))]
    pub name: String,
    /// An unencrypted OpenSSH private key, or a public key line.
    #[oai(validator(min_length = 1, max_length = 20000))]
    pub key: String,
}

/// One SELinux record, with what it most likely means.
#[derive(Object)]
pub struct RecordDetail {
    pub id: String,
    #[oai(skip_serializing_if_is_none)]
    pub server_id: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub server_name: Option<String>,
    pub level: String,
    pub message: String,
    pub created_at: String,
    #[oai(skip_serializing_if_is_none)]
    pub explanation: Option<Explanation>,
}

#[derive(Object)]
pub struct Explanation {
    pub severity: String,
    pub summary: String,
    #[oai(skip_serializing_if_is_none)]
    pub suggestion: Option<String>,
}

/// The stored key as the list shows it (with when it was made).
async fn key_json(state: &AppState, k: db::ssh_keys::SshKeyPublic) -> ApiResult<SshKey> {
    let created_at = db::ssh_keys::list(&state.db)
        .await?
        .into_iter()
        .find(|row| row.id == k.id)
        .map(|row| row.created_at)
        .unwrap_or_default();
    Ok(SshKey {
        id: k.id.to_string(),
        name: k.name,
        key_type: k.key_type.to_string(),
        fingerprint: k.fingerprint,
        has_private_key: k.has_private_key,
        created_at,
    })
}

/// Panel-wide changes (new servers, keys) are not for a token limited to some servers.
fn unlimited(req: &Request, perm: Perm) -> ApiResult<&crate::api_tokens::TokenCaller> {
    let who = allow(req, perm, None)?;
    if who.principal.servers.is_some() {
        return Err(ApiError::new(
            poem::http::StatusCode::FORBIDDEN,
            "A token limited to some servers cannot add or remove servers or SSH keys.",
        ));
    }
    Ok(who)
}

async fn server_for(
    state: &AppState,
    req: &Request,
    id: &str,
    perm: Perm,
) -> ApiResult<db::servers::Server> {
    caller(req)?;
    let id: ServerId = parse_id(id)?;
    allow(req, perm, Some(id))?;
    db::servers::get(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

pub struct ManageApi;

#[OpenApi]
impl ManageApi {
    /// Servers, a page at a time (by name).
    #[oai(
        path = "/servers",
        method = "get",
        tag = "Tag::Servers",
        operation_id = "servers.list"
    )]
    async fn servers(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(max_length = 200))] after: Query<Option<String>>,
    ) -> ApiResult<Json<ServerPage>> {
        let who = allow(req, Perm::View, None)?;
        let q = list_query(after.0, ServerSort::Name)?;
        let page =
            db::servers::page_within(&state.db, &q, None, who.principal.servers.as_deref()).await?;
        Ok(Json(ServerPage {
            next: page.next.map(|c| c.encode()),
            items: page.rows.into_iter().map(Server::from).collect(),
        }))
    }

    /// One server.
    #[oai(
        path = "/servers/:id",
        method = "get",
        tag = "Tag::Servers",
        operation_id = "servers.get"
    )]
    async fn server(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Json<Server>> {
        caller(req)?;
        let server = db::servers::get(&state.db, parse_id(&id.0)?)
            .await?
            .ok_or_else(ApiError::not_found)?;
        allow(req, Perm::View, Some(server.id))?;
        Ok(Json(server.into()))
    }

    /// The software installed on a server (PHP versions, databases, …).
    #[oai(
        path = "/servers/:id/software",
        method = "get",
        tag = "Tag::Servers",
        operation_id = "servers.software"
    )]
    async fn software(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Json<Vec<Software>>> {
        caller(req)?;
        let server: ServerId = parse_id(&id.0)?;
        allow(req, Perm::View, Some(server))?;
        db::servers::get(&state.db, server)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let rows = db::software::list(&state.db, server).await?;
        Ok(Json(
            rows.into_iter()
                .map(|i| Software {
                    id: i.id.to_string(),
                    software: i.software.to_string(),
                    version: i.version,
                    status: i.status.to_string(),
                    status_reason: i.status_reason,
                    updated_at: i.updated_at,
                })
                .collect(),
        ))
    }

    /// The SSH keys the panel logs in to servers with (public halves only).
    #[oai(
        path = "/ssh-keys",
        method = "get",
        tag = "Tag::Panel",
        operation_id = "ssh_keys.list"
    )]
    async fn ssh_keys(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
    ) -> ApiResult<Json<Vec<SshKey>>> {
        let who = allow(req, Perm::View, None)?;
        if who.principal.servers.is_some() {
            // The panel's keys serve every server; a limited token does not list them.
            return Err(ApiError::new(
                poem::http::StatusCode::FORBIDDEN,
                "A token limited to some servers cannot list the panel's SSH keys.",
            ));
        }
        let keys = db::ssh_keys::list(&state.db).await?;
        Ok(Json(
            keys.into_iter()
                .map(|k| SshKey {
                    id: k.id.to_string(),
                    name: k.name,
                    key_type: k.key_type.to_string(),
                    fingerprint: k.fingerprint,
                    has_private_key: k.has_private_key,
                    created_at: k.created_at,
                })
                .collect(),
        ))
    }

    /// Add a server; its setup command (run once, as root, on the server) onboards it.
    #[oai(
        path = "/servers",
        method = "post",
        tag = "Tag::Servers",
        operation_id = "servers.create"
    )]
    async fn create_server(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        body: Json<NewServer>,
    ) -> ApiResult<ServerAdded> {
        let who = unlimited(req, Perm::Manage)?;
        let b = body.0;
        let form = crate::servers::forms::ServerForm {
            name: b.name,
            ip_address: b.ip_address,
            hostname: b.hostname,
            os_version: b.os_version,
            ssh_port: b.ssh_port.unwrap_or(22).to_string(),
            ssh_user: b.ssh_user.unwrap_or_else(|| "panel".into()),
            ssh_key_id: b.ssh_key_id,
            php_versions: b.php_versions.join(" "),
        };
        let (id, url) = crate::servers::create(&state, &form, who.user_id).await?;
        Ok(ServerAdded::Created(Json(AddedServer {
            id: id.to_string(),
            setup_command: format!(
                "curl -fsSL {} | sudo bash",
                crate::ssh::command::quote_if_needed(&url)
            ),
        })))
    }

    /// Remove a server from the panel (`confirm` is its name); the server itself is untouched.
    #[oai(
        path = "/servers/:id",
        method = "delete",
        tag = "Tag::Servers",
        operation_id = "servers.delete"
    )]
    async fn delete_server(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        #[oai(validator(max_length = 100))] confirm: Query<String>,
    ) -> ApiResult<Gone> {
        let server = server_for(&state, req, &id.0, Perm::Delete).await?;
        let form = crate::servers::forms::DeleteForm { confirm: confirm.0 };
        crate::servers::delete(&state, server.id, &form).await?;
        Ok(Gone::Done)
    }

    /// Install, upgrade or remove software (a removal something depends on is refused).
    #[oai(
        path = "/servers/:id/software",
        method = "post",
        tag = "Tag::Servers",
        operation_id = "servers.software.change"
    )]
    async fn change_software(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        body: Json<SoftwareChange>,
    ) -> ApiResult<Accepted> {
        let server = server_for(&state, req, &id.0, Perm::Manage).await?;
        let who = caller(req)?;
        let form = crate::software::forms::SoftwareForm {
            software: body.0.software,
            version: body.0.version,
            action: match body.0.action {
                SoftwareAction::Install => "install",
                SoftwareAction::Upgrade => "upgrade",
                SoftwareAction::Remove => "remove",
            }
            .into(),
        };
        let (item, action) =
            crate::software::forms::parse(&form).map_err(crate::error::AppError::Invalid)?;
        let job = crate::software::submit(&state, &server, item, action, who.user_id).await?;
        Ok(queued(job))
    }

    /// Set an SELinux boolean on the server, persistently.
    #[oai(
        path = "/servers/:id/selinux/booleans",
        method = "post",
        tag = "Tag::Servers",
        operation_id = "servers.selinux.boolean"
    )]
    async fn boolean(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
        body: Json<BooleanChange>,
    ) -> ApiResult<Accepted> {
        let server = server_for(&state, req, &id.0, Perm::Manage).await?;
        let who = caller(req)?;
        let form = crate::server_selinux::BooleanForm {
            name: body.0.name,
            value: if body.0.value { "on" } else { "off" }.into(),
        };
        let task = crate::server_selinux::Task::set_boolean(&form)
            .map_err(crate::error::AppError::Invalid)?;
        let job = crate::server_selinux::submit(&state, &server, task, who.user_id).await?;
        Ok(queued(job))
    }

    /// Restore the SELinux labels of the server's sites (their files and categories).
    #[oai(
        path = "/servers/:id/selinux/relabel",
        method = "post",
        tag = "Tag::Servers",
        operation_id = "servers.selinux.relabel"
    )]
    async fn relabel(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Accepted> {
        let server = server_for(&state, req, &id.0, Perm::Operate).await?;
        let who = caller(req)?;
        let job = crate::server_selinux::submit(
            &state,
            &server,
            crate::server_selinux::Task::Relabel,
            who.user_id,
        )
        .await?;
        Ok(queued(job))
    }

    /// One SELinux record and what it most likely means.
    #[oai(
        path = "/selinux/records/:id",
        method = "get",
        tag = "Tag::Panel",
        operation_id = "selinux.record"
    )]
    async fn record(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Json<RecordDetail>> {
        let who = caller(req)?;
        let r = db::selinux::get(&state.db, parse_id(&id.0)?)
            .await?
            .ok_or_else(ApiError::not_found)?;
        match r.server_id {
            Some(server) => allow(req, Perm::View, Some(server))?,
            // The panel host's own records: unlimited tokens only.
            None if who.principal.servers.is_some() => return Err(ApiError::not_found()),
            None => allow(req, Perm::View, None)?,
        };
        let context: serde_json::Value = serde_json::from_str(&r.context).unwrap_or_default();
        let text = |v: &serde_json::Value, k: &str| {
            v.get(k)
                .and_then(|s| s.as_str())
                .map(|s| crate::domain::untrusted_text(s, 2000))
        };
        let explanation = context.get("explanation").map(|e| Explanation {
            severity: text(e, "severity").unwrap_or_default(),
            summary: text(e, "summary").unwrap_or_default(),
            suggestion: text(e, "suggestion").filter(|s| !s.is_empty()),
        });
        Ok(Json(RecordDetail {
            id: r.id.to_string(),
            server_id: r.server_id.map(|s| s.to_string()),
            server_name: r.server_name,
            level: r.level.to_string(),
            message: r.message,
            created_at: r.created_at,
            explanation,
        }))
    }

    /// Generate an SSH key pair; the public half goes on servers, the private half stays sealed.
    #[oai(
        path = "/ssh-keys",
        method = "post",
        tag = "Tag::Panel",
        operation_id = "ssh_keys.create"
    )]
    async fn generate_key(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        body: Json<NewKey>,
    ) -> ApiResult<KeyMade> {
        let who = unlimited(req, Perm::Manage)?;
        let kind = match body.0.key_type {
            KeyKind::Ed25519 => crate::domain::KeyType::Ed25519,
            KeyKind::Rsa => crate::domain::KeyType::Rsa,
        };
        let key = crate::ssh_keys::generate(&state, &body.0.name, kind, who.user_id).await?;
        Ok(KeyMade::Created(Json(key_json(&state, key).await?)))
    }

    /// Import a private key (unencrypted OpenSSH) or a public key line.
    #[oai(
        path = "/ssh-keys/import",
        method = "post",
        tag = "Tag::Panel",
        operation_id = "ssh_keys.import"
    )]
    async fn import_key(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        body: Json<ImportedKey>,
    ) -> ApiResult<KeyMade> {
        let who = unlimited(req, Perm::Manage)?;
        let key = crate::ssh_keys::import(&state, &body.0.name, &body.0.key, who.user_id).await?;
        Ok(KeyMade::Created(Json(key_json(&state, key).await?)))
    }

    /// Delete an SSH key no server uses.
    #[oai(
        path = "/ssh-keys/:id",
        method = "delete",
        tag = "Tag::Panel",
        operation_id = "ssh_keys.delete"
    )]
    async fn delete_key(
        &self,
        state: Data<&AppState>,
        req: &Request,
        _token: Token,
        #[oai(validator(pattern = "^[0-9A-HJKMNP-TV-Z]{26}$"))] id: Path<String>,
    ) -> ApiResult<Gone> {
        unlimited(req, Perm::Delete)?;
        let id: SshKeyId = parse_id(&id.0)?;
        crate::ssh_keys::delete(&state, id).await?;
        Ok(Gone::Done)
    }
}
