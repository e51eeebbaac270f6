//! `sites`, with their system user and database.

use super::Pool;
use super::listing::{Filters, Listing};
use crate::domain::McsPair;
use crate::domain::{AppType, DatabaseType, PhpVersion, SiteStatus};
use crate::domain::{ListQuery, Page, SiteSort};
use crate::ids::{DatabaseId, JobId, ServerId, SiteId, SystemUserId};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SiteSummary {
    pub id: SiteId,
    pub domain: String,
    pub server_name: String,
    pub app_type: AppType,
    pub php_version: PhpVersion,
    pub status: SiteStatus,
    pub status_reason: Option<String>,
    pub created_at: String,
    /// The value the list is sorted by (its cursor).
    #[sqlx(default)]
    pub sort_key: String,
}
crate::keyed!(SiteSummary);

fn order(sort: SiteSort) -> &'static str {
    match sort {
        SiteSort::Domain => "si.domain",
        SiteSort::Newest => "si.created_at",
    }
}

pub const LISTING: Listing<SiteSort> = Listing {
    columns: "si.id, si.domain, se.name AS server_name, si.app_type, si.php_version, si.status,
              si.status_reason, si.created_at",
    from: "sites si JOIN servers se ON se.id = si.server_id",
    id: "si.id",
    search: &["si.domain"],
    order,
};

/// What the sites list may be narrowed to.
#[derive(Clone, Copy, Debug, Default)]
pub struct SiteFilter {
    pub server: Option<ServerId>,
    pub status: Option<SiteStatus>,
}

impl SiteFilter {
    pub fn filters(&self) -> Filters {
        Filters::new()
            .and_some("si.server_id = ?", self.server)
            .and_some("si.status = ?", self.status.map(|s| s.as_str()))
    }
}

/// A page of sites on servers among `within` (all when `None`): an API token limited to some.
pub async fn page_within(
    pool: &Pool,
    q: &ListQuery<SiteSort>,
    filter: &SiteFilter,
    within: Option<&[ServerId]>,
) -> sqlx::Result<Page<SiteSummary>> {
    let f = filter
        .filters()
        .within("si.server_id IN (SELECT value FROM json_each(?))", within);
    LISTING.fetch(pool, q, &f).await
}

/// One page of the sites list.
pub async fn page(
    pool: &Pool,
    q: &ListQuery<SiteSort>,
    filter: &SiteFilter,
) -> sqlx::Result<Page<SiteSummary>> {
    LISTING.fetch(pool, q, &filter.filters()).await
}

/// A site's id by its exact domain (the SELinux filter's text).
pub async fn find_by_domain(pool: &Pool, domain: &str) -> sqlx::Result<Option<SiteId>> {
    sqlx::query_scalar("SELECT id FROM sites WHERE domain = ?")
        .bind(domain)
        .fetch_optional(pool)
        .await
}

/// A site with everything provisioning needs.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Site {
    pub id: SiteId,
    pub server_id: ServerId,
    pub server_name: String,
    pub domain: String,
    pub aliases: String,
    pub app_type: AppType,
    pub php_version: PhpVersion,
    pub status: SiteStatus,
    pub status_reason: Option<String>,
    pub username: Option<String>,
    pub uid: Option<i64>,
    pub env_encrypted: Option<Vec<u8>>,
    pub last_job_id: Option<JobId>,
    pub confirmed_at: Option<String>,
    pub mcs_id: Option<i64>,
    pub created_at: String,
    pub db_id: Option<DatabaseId>,
    pub db_type: Option<DatabaseType>,
    pub db_name: Option<String>,
    pub db_username: Option<String>,
    pub db_password_encrypted: Option<Vec<u8>>,
    /// Plain HTTP redirects to HTTPS (when a certificate is served).
    pub https_redirect: bool,
    /// HTTPS answers carry Strict-Transport-Security.
    pub hsts: bool,
    /// A certificate is installed and served.
    pub tls: bool,
    /// The site's PHP settings (JSON of `domain::PhpSettings`); None: PHP's defaults.
    pub php_settings: Option<String>,
    /// The site's redirects (JSON array, `sites::spec::StoredRedirect`); None: none.
    pub redirects: Option<String>,
    /// The site's custom nginx block (checked); None: none.
    pub nginx_custom: Option<String>,
}

impl Site {
    /// The site's Unix user, parsed again from its stored name (none before it is made).
    pub fn user(&self) -> Option<crate::domain::SiteUser> {
        self.username
            .as_deref()
            .and_then(|u| crate::domain::SiteUser::parse(u).ok())
    }
}

const SITE_SELECT: &str =
    "SELECT si.id, si.server_id, se.name AS server_name, si.domain, si.aliases,
        si.app_type, si.php_version, si.status, si.status_reason, su.username, su.uid,
        si.env_encrypted, si.last_job_id, si.confirmed_at, si.mcs_id, si.created_at,
        d.id AS db_id, d.db_type, d.name AS db_name, d.username AS db_username,
        d.password_encrypted AS db_password_encrypted, si.https_redirect, si.hsts,
        EXISTS (SELECT 1 FROM site_certificates c
                WHERE c.site_id = si.id AND c.status = 'active') AS tls, si.php_settings,
        si.redirects, si.nginx_custom
     FROM sites si
     JOIN servers se ON se.id = si.server_id
     LEFT JOIN system_users su ON su.id = si.system_user_id
     LEFT JOIN databases d ON d.site_id = si.id";

pub async fn get(pool: &Pool, id: SiteId) -> sqlx::Result<Option<Site>> {
    sqlx::query_as(&format!("{SITE_SELECT} WHERE si.id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// A site by its domain (as stored: lowercase, punycode).
pub async fn by_domain(pool: &Pool, domain: &str) -> sqlx::Result<Option<Site>> {
    sqlx::query_as(&format!("{SITE_SELECT} WHERE si.domain = ?"))
        .bind(domain)
        .fetch_optional(pool)
        .await
}

pub async fn for_server(pool: &Pool, server: ServerId) -> sqlx::Result<Vec<Site>> {
    sqlx::query_as(&format!(
        "{SITE_SELECT} WHERE si.server_id = ? ORDER BY si.domain"
    ))
    .bind(server)
    .fetch_all(pool)
    .await
}

/// Names of the system users a server has (to pick the next free `webN`).
pub async fn usernames(pool: &Pool, server: ServerId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT username FROM system_users WHERE server_id = ?")
        .bind(server)
        .fetch_all(pool)
        .await
}

pub struct NewSite<'a> {
    pub id: SiteId,
    pub server_id: ServerId,
    pub user_id: SystemUserId,
    pub username: &'a str,
    pub home: &'a str,
    pub domain: &'a str,
    pub aliases: &'a str,
    pub app_type: AppType,
    pub php_version: PhpVersion,
    pub document_root: &'a str,
    pub database: Option<NewDatabase<'a>>,
}

pub struct NewDatabase<'a> {
    pub id: DatabaseId,
    pub db_type: DatabaseType,
    pub name: &'a str,
    pub username: &'a str,
    pub password_encrypted: &'a [u8],
}

/// The site, its user and its database in one transaction: all or nothing.
pub async fn insert(pool: &Pool, s: &NewSite<'_>) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO system_users (id, server_id, username, home_dir) VALUES (?, ?, ?, ?)")
        .bind(s.user_id)
        .bind(s.server_id)
        .bind(s.username)
        .bind(s.home)
        .execute(&mut *tx)
        .await?;
    // The lowest free MCS pair index, chosen inside the insert itself so two sites created at
    // once cannot get the same pair (the column is UNIQUE as well).
    let mcs_id: i64 = sqlx::query_scalar(
        "INSERT INTO sites (id, server_id, system_user_id, domain, aliases, app_type, php_version,
                            document_root, mcs_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?,
                 CASE WHEN NOT EXISTS (SELECT 1 FROM sites WHERE mcs_id = 0) THEN 0
                      ELSE (SELECT min(a.mcs_id) + 1 FROM sites a
                            WHERE a.mcs_id IS NOT NULL
                              AND NOT EXISTS (SELECT 1 FROM sites b WHERE b.mcs_id = a.mcs_id + 1))
                 END)
         RETURNING mcs_id",
    )
    .bind(s.id)
    .bind(s.server_id)
    .bind(s.user_id)
    .bind(s.domain)
    .bind(s.aliases)
    .bind(s.app_type)
    .bind(s.php_version)
    .bind(s.document_root)
    .fetch_one(&mut *tx)
    .await?;
    if McsPair::from_id(mcs_id).is_none() {
        // Every one of the 426,426 pairs is taken: refuse rather than share one.
        return Err(sqlx::Error::Protocol(
            "no free SELinux category pair is left for a new site".into(),
        ));
    }
    if let Some(d) = &s.database {
        sqlx::query(
            "INSERT INTO databases (id, server_id, site_id, db_type, name, username, password_encrypted)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(d.id)
        .bind(s.server_id)
        .bind(s.id)
        .bind(d.db_type)
        .bind(d.name)
        .bind(d.username)
        .bind(d.password_encrypted)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

pub async fn set_status(
    pool: &Pool,
    id: SiteId,
    status: SiteStatus,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE sites SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?")
        .bind(status)
        .bind(reason)
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

pub async fn set_last_job(pool: &Pool, id: SiteId, job: JobId) -> sqlx::Result<()> {
    sqlx::query("UPDATE sites SET last_job_id = ? WHERE id = ?")
        .bind(job)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

pub async fn set_database_status(pool: &Pool, site: SiteId, status: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE databases SET status = ?, updated_at = ? WHERE site_id = ?")
        .bind(status)
        .bind(super::now())
        .bind(site)
        .execute(pool)
        .await
        .map(|_| ())
}

pub async fn set_uid(pool: &Pool, site: SiteId, uid: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE system_users SET uid = ? WHERE id = (SELECT system_user_id FROM sites WHERE id = ?)",
    )
    .bind(uid)
    .bind(site)
    .execute(pool)
    .await
    .map(|_| ())
}

/// The node's signed confirmation arrived (step 8).
pub async fn confirm(pool: &Pool, site: SiteId, server: ServerId) -> sqlx::Result<bool> {
    let r = sqlx::query("UPDATE sites SET confirmed_at = ? WHERE id = ? AND server_id = ?")
        .bind(super::now())
        .bind(site)
        .bind(server)
        .execute(pool)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// A part of the vhost a site's owner writes, stored on its row.
#[derive(Clone, Copy, Debug)]
pub enum VhostPart {
    Redirects,
    NginxCustom,
}

/// Put `previous` back as the site's `part` (nginx refused the new one), unless it was changed
/// again since `new` was stored.
pub async fn restore_vhost_part(
    pool: &Pool,
    site: SiteId,
    part: VhostPart,
    previous: Option<&str>,
    new: Option<&str>,
) -> sqlx::Result<()> {
    let sql = match part {
        VhostPart::Redirects => "UPDATE sites SET redirects = ? WHERE id = ? AND redirects IS ?",
        VhostPart::NginxCustom => {
            "UPDATE sites SET nginx_custom = ? WHERE id = ? AND nginx_custom IS ?"
        }
    };
    sqlx::query(sql)
        .bind(previous)
        .bind(site)
        .bind(new)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn set_nginx_custom(pool: &Pool, site: SiteId, block: Option<&str>) -> sqlx::Result<()> {
    sqlx::query("UPDATE sites SET nginx_custom = ? WHERE id = ?")
        .bind(block)
        .bind(site)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn set_redirects(pool: &Pool, site: SiteId, json: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE sites SET redirects = ? WHERE id = ?")
        .bind(json)
        .bind(site)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn set_php_settings(pool: &Pool, site: SiteId, json: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE sites SET php_settings = ? WHERE id = ?")
        .bind(json)
        .bind(site)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn set_env(pool: &Pool, site: SiteId, sealed: &[u8]) -> sqlx::Result<()> {
    sqlx::query("UPDATE sites SET env_encrypted = ?, updated_at = ? WHERE id = ?")
        .bind(sealed)
        .bind(super::now())
        .bind(site)
        .execute(pool)
        .await
        .map(|_| ())
}

pub async fn set_db_password(pool: &Pool, db: DatabaseId, sealed: &[u8]) -> sqlx::Result<()> {
    sqlx::query("UPDATE databases SET password_encrypted = ?, updated_at = ? WHERE id = ?")
        .bind(sealed)
        .bind(super::now())
        .bind(db)
        .execute(pool)
        .await
        .map(|_| ())
}

/// The site and its database row are gone (the node is cleaned first), and its system user
/// unless `keep_user`: an account left on the server with the site's files keeps its name
/// taken, so no later site is given it.
pub async fn delete(pool: &Pool, site: &Site, keep_user: bool) -> sqlx::Result<()> {
    // The transaction's first statement writes, so it takes the write lock (waiting its turn)
    // instead of failing to upgrade a read snapshot while a job log is being written.
    let mut tx = pool.begin().await?;
    let user: Option<Option<SystemUserId>> =
        sqlx::query_scalar("DELETE FROM sites WHERE id = ? RETURNING system_user_id")
            .bind(site.id)
            .fetch_optional(&mut *tx)
            .await?;
    if let (Some(Some(u)), false) = (user, keep_user) {
        sqlx::query("DELETE FROM system_users WHERE id = ?")
            .bind(u)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// The site's HTTPS toggles.
pub async fn set_https(pool: &Pool, id: SiteId, redirect: bool, hsts: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE sites SET https_redirect = ?, hsts = ?, updated_at = ? WHERE id = ?")
        .bind(redirect)
        .bind(hsts)
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
