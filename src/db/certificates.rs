//! `site_certificates` and `acme_accounts`.

use super::Pool;
use super::listing::{Filters, Listing};
use crate::domain::{CertChallenge, CertSource, CertStatus};
use crate::domain::{CertificateSort, ListQuery, Page};
use crate::ids::{JobId, SiteId};

/// A site's certificate and its renewal state.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SiteCertificate {
    pub site_id: SiteId,
    pub source: CertSource,
    pub status: CertStatus,
    pub names: String,
    pub chain_pem: Option<String>,
    pub key_encrypted: Option<Vec<u8>>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub issuer: Option<String>,
    pub serial: Option<String>,
    pub issued_at: Option<String>,
    pub renew_at: Option<String>,
    pub error_kind: Option<String>,
    pub error: Option<String>,
    pub failures: i64,
    pub next_attempt_at: Option<String>,
    pub last_alert_at: Option<String>,
    pub last_job_id: Option<JobId>,
    pub updated_at: String,
    pub challenge: CertChallenge,
    pub wildcard: bool,
    pub dns_server: Option<String>,
    pub dns_zone: Option<String>,
    pub dns_key_name: Option<String>,
    pub dns_secret_encrypted: Option<Vec<u8>>,
}

const SELECT: &str = "SELECT site_id, source, status, names, chain_pem, key_encrypted, not_before,
        not_after, issuer, serial, issued_at, renew_at, error_kind, error, failures,
        next_attempt_at, last_alert_at, last_job_id, updated_at, challenge, wildcard, dns_server,
        dns_zone, dns_key_name, dns_secret_encrypted
     FROM site_certificates";

pub async fn get(pool: &Pool, site: SiteId) -> sqlx::Result<Option<SiteCertificate>> {
    sqlx::query_as(&format!("{SELECT} WHERE site_id = ?"))
        .bind(site)
        .fetch_optional(pool)
        .await
}

/// One line of the certificates list.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CertificateSummary {
    pub site_id: SiteId,
    pub domain: String,
    pub server_name: String,
    pub source: CertSource,
    pub status: CertStatus,
    pub names: String,
    pub not_after: Option<String>,
    pub renew_at: Option<String>,
    pub error: Option<String>,
    /// The value the list is sorted by (its cursor).
    #[sqlx(default)]
    pub sort_key: String,
}

impl super::listing::Keyed for CertificateSummary {
    fn cursor(&self) -> crate::domain::Cursor {
        crate::domain::Cursor {
            key: self.sort_key.clone(),
            id: self.site_id.to_string(),
        }
    }
}

fn order(_: CertificateSort) -> &'static str {
    "c.urgency"
}

/// Certificates, most urgent first: failing ones, then by expiry, then those not issued yet.
pub const LISTING: Listing<CertificateSort> = Listing {
    columns: "c.site_id, si.domain, se.name AS server_name, c.source, c.status, c.names,
              c.not_after, c.renew_at, c.error",
    from: "site_certificates c
           JOIN sites si ON si.id = c.site_id
           JOIN servers se ON se.id = si.server_id",
    id: "c.site_id",
    search: &["c.names"],
    order,
};

/// One page of the certificates list.
pub async fn page(
    pool: &Pool,
    q: &ListQuery<CertificateSort>,
) -> sqlx::Result<Page<CertificateSummary>> {
    LISTING.fetch(pool, q, &Filters::new()).await
}

/// An ACME issue is starting for `names`: the row exists (a served certificate stays served
/// until the new one replaces it).
pub async fn begin(
    pool: &Pool,
    site: SiteId,
    source: CertSource,
    names: &str,
    job: Option<JobId>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO site_certificates (site_id, source, status, names, last_job_id)
         VALUES (?, ?, 'pending', ?, ?)
         ON CONFLICT (site_id) DO UPDATE SET source = excluded.source, names = excluded.names,
             last_job_id = COALESCE(excluded.last_job_id, last_job_id),
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(site)
    .bind(source)
    .bind(names)
    .bind(job)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn set_job(pool: &Pool, site: SiteId, job: JobId) -> sqlx::Result<()> {
    sqlx::query("UPDATE site_certificates SET last_job_id = ? WHERE site_id = ?")
        .bind(job)
        .bind(site)
        .execute(pool)
        .await?;
    Ok(())
}

/// What a new certificate says, stored with it.
pub struct Served<'a> {
    pub source: CertSource,
    pub names: &'a str,
    pub chain_pem: &'a str,
    pub key_encrypted: &'a [u8],
    pub not_before: &'a str,
    pub not_after: &'a str,
    pub issuer: &'a str,
    pub serial: &'a str,
    /// ACME only.
    pub renew_at: Option<&'a str>,
}

/// The certificate now served; any failure is cleared.
pub async fn store(pool: &Pool, site: SiteId, c: &Served<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO site_certificates (site_id, source, status, names, chain_pem, key_encrypted,
             not_before, not_after, issuer, serial, issued_at, renew_at)
         VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?)
         ON CONFLICT (site_id) DO UPDATE SET source = excluded.source, status = 'active',
             names = excluded.names, chain_pem = excluded.chain_pem,
             key_encrypted = excluded.key_encrypted, not_before = excluded.not_before,
             not_after = excluded.not_after, issuer = excluded.issuer, serial = excluded.serial,
             issued_at = excluded.issued_at, renew_at = excluded.renew_at, error_kind = NULL,
             error = NULL, failures = 0, next_attempt_at = NULL, last_alert_at = NULL,
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(site)
    .bind(c.source)
    .bind(c.names)
    .bind(c.chain_pem)
    .bind(c.key_encrypted)
    .bind(c.not_before)
    .bind(c.not_after)
    .bind(c.issuer)
    .bind(c.serial)
    .bind(c.renew_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// An issue or renewal failed: why, and when to try again (renewals only).
pub async fn fail(
    pool: &Pool,
    site: SiteId,
    kind: &str,
    error: &str,
    next_attempt_at: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE site_certificates SET error_kind = ?, error = ?, failures = failures + 1,
             next_attempt_at = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE site_id = ?",
    )
    .bind(kind)
    .bind(error)
    .bind(next_attempt_at)
    .bind(site)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn set_alerted(pool: &Pool, site: SiteId, at: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE site_certificates SET last_alert_at = ? WHERE site_id = ?")
        .bind(at)
        .bind(site)
        .execute(pool)
        .await?;
    Ok(())
}

/// ACME certificates due for renewal at `now` and not waiting out a back-off.
pub async fn due(pool: &Pool, now: &str, limit: i64) -> sqlx::Result<Vec<SiteId>> {
    sqlx::query_scalar(
        "SELECT site_id FROM site_certificates
         WHERE source = 'acme' AND status = 'active' AND renew_at <= ?
           AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
         ORDER BY renew_at LIMIT ?",
    )
    .bind(now)
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Served certificates whose last renewal failed.
pub async fn failing(pool: &Pool) -> sqlx::Result<Vec<SiteCertificate>> {
    sqlx::query_as(&format!(
        "{SELECT} WHERE status = 'active' AND error IS NOT NULL"
    ))
    .fetch_all(pool)
    .await
}

pub async fn remove(pool: &Pool, site: SiteId) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM site_certificates WHERE site_id = ?")
        .bind(site)
        .execute(pool)
        .await?;
    Ok(())
}

/// The sealed credentials of the panel's account on `directory`.
pub async fn account(pool: &Pool, directory: &str) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT credentials_encrypted FROM acme_accounts WHERE directory = ?")
        .bind(directory)
        .fetch_optional(pool)
        .await
}

pub async fn store_account(pool: &Pool, directory: &str, sealed: &[u8]) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO acme_accounts (directory, credentials_encrypted) VALUES (?, ?)
         ON CONFLICT (directory) DO UPDATE SET credentials_encrypted = excluded.credentials_encrypted",
    )
    .bind(directory)
    .bind(sealed)
    .execute(pool)
    .await?;
    Ok(())
}

/// How the site's ACME certificate is proven: HTTP-01, or DNS-01 through an RFC 2136 server
/// (and then possibly with the wildcard).
pub struct Proof<'a> {
    pub challenge: CertChallenge,
    pub wildcard: bool,
    pub dns_server: Option<&'a str>,
    pub dns_zone: Option<&'a str>,
    pub dns_key_name: Option<&'a str>,
    pub dns_secret_encrypted: Option<&'a [u8]>,
}

pub async fn set_proof(pool: &Pool, site: SiteId, names: &str, p: &Proof<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO site_certificates (site_id, source, status, names, challenge, wildcard,
             dns_server, dns_zone, dns_key_name, dns_secret_encrypted)
         VALUES (?, 'acme', 'pending', ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (site_id) DO UPDATE SET names = excluded.names,
             challenge = excluded.challenge, wildcard = excluded.wildcard,
             dns_server = excluded.dns_server, dns_zone = excluded.dns_zone,
             dns_key_name = excluded.dns_key_name,
             dns_secret_encrypted = excluded.dns_secret_encrypted,
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(site)
    .bind(names)
    .bind(p.challenge)
    .bind(p.wildcard)
    .bind(p.dns_server)
    .bind(p.dns_zone)
    .bind(p.dns_key_name)
    .bind(p.dns_secret_encrypted)
    .execute(pool)
    .await?;
    Ok(())
}

/// Hold a due certificate until `until` (its renewal job is starting).
pub async fn fail_later(pool: &Pool, site: SiteId, until: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE site_certificates SET next_attempt_at = ? WHERE site_id = ?")
        .bind(until)
        .bind(site)
        .execute(pool)
        .await?;
    Ok(())
}

/// The panel's own ACME certificate for `host`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PanelCertificate {
    pub host: String,
    pub chain_pem: String,
    pub key_encrypted: Vec<u8>,
    pub not_after: String,
    pub renew_at: String,
}

pub async fn panel_get(pool: &Pool, host: &str) -> sqlx::Result<Option<PanelCertificate>> {
    sqlx::query_as(
        "SELECT host, chain_pem, key_encrypted, not_after, renew_at
         FROM panel_certificates WHERE host = ?",
    )
    .bind(host)
    .fetch_optional(pool)
    .await
}

pub async fn panel_store(pool: &Pool, c: &PanelCertificate) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO panel_certificates (host, chain_pem, key_encrypted, not_after, renew_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (host) DO UPDATE SET chain_pem = excluded.chain_pem,
             key_encrypted = excluded.key_encrypted, not_after = excluded.not_after,
             renew_at = excluded.renew_at, issued_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(&c.host)
    .bind(&c.chain_pem)
    .bind(&c.key_encrypted)
    .bind(&c.not_after)
    .bind(&c.renew_at)
    .execute(pool)
    .await?;
    Ok(())
}
