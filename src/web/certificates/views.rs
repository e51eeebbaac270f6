use maud::{Markup, html};

use crate::certificates::forms::{DnsForm, UploadForm};
use crate::db::certificates::{CertificateSummary, SiteCertificate};
use crate::db::jobs::{Job, LogLine, Step};
use crate::db::sites::Site;
use crate::domain::{CertChallenge, CertSource, CertStatus, CertificateSort, Page as DbPage};
use crate::error::FieldError;
use crate::paths::{self, with_id};
use crate::web::components::{badge, empty_state, field_error, no_matches, table, time};
use crate::web::layout::{Nav, Page, csrf_field};
use crate::web::listing::ListView;

fn status_badge(status: CertStatus, error: Option<&str>) -> Markup {
    match (status, error.is_some()) {
        (CertStatus::Active, false) => badge("served", "badge-success"),
        (CertStatus::Active, true) => badge("renewal failing", "badge-warning"),
        (CertStatus::Pending, false) => badge("issuing", "badge-info"),
        (CertStatus::Pending, true) => badge("failed", "badge-error"),
    }
}

fn source_label(source: CertSource) -> &'static str {
    match source {
        CertSource::Acme => "ACME",
        CertSource::Custom => "uploaded",
    }
}

/// Every site's certificate, most urgent first, a page at a time; searchable by name.
pub fn index(
    list: &ListView<'_, CertificateSort>,
    page: &DbPage<CertificateSummary>,
    total: i64,
) -> Markup {
    let body = if total == 0 {
        empty_state(
            "No certificates yet",
            "Open a site's HTTPS tab to issue one from Let's Encrypt (or your ACME CA) or upload your own.",
            Some(("Sites", paths::SITES)),
        )
    } else {
        html! {
            (list.search("Search certificate names"))
            (list.region(html! {
                @if page.rows.is_empty() { (no_matches("certificates")) } @else {
                    (table(&["Site", "Server", "Names", "Source", "Status", "Expires", "Renews"], html! {
                        @for r in &page.rows {
                            tr data-certificate=(r.domain) {
                                td { a.link href=(with_id(paths::SITE_HTTPS, r.site_id)) { (r.domain) } }
                                td { (r.server_name) }
                                td.font-mono.text-xs { (r.names) }
                                td { (source_label(r.source)) }
                                td { (status_badge(r.status, r.error.as_deref())) }
                                td { @if let Some(t) = &r.not_after { (time(t)) } }
                                td { @if let Some(t) = &r.renew_at { (time(t)) } @else { "—" } }
                            }
                        }
                    }))
                }
                (list.pager(page, list.query.search.is_none().then_some(total)))
            }))
        }
    };
    Page::new("Certificates")
        .nav(Nav::Sites)
        .body(body)
        .render()
}

/// Forms shown again with what was typed (never a key or secret).
pub struct Forms<'a> {
    pub upload: Option<&'a UploadForm>,
    pub dns: Option<&'a DnsForm>,
}

pub fn tab(
    site: &Site,
    cert: Option<&SiteCertificate>,
    job: Option<&(Vec<Step>, Vec<LogLine>, Job)>,
    directory: &str,
    forms: Forms<'_>,
    errors: &[FieldError],
) -> Markup {
    let empty = UploadForm::default();
    let form = forms.upload.unwrap_or(&empty);
    // What the DNS form shows: what was typed, else what is stored.
    let stored = cert.filter(|c| c.challenge == CertChallenge::Dns01);
    let dns = forms.dns.cloned().unwrap_or_else(|| DnsForm {
        dns_server: stored
            .and_then(|c| c.dns_server.clone())
            .unwrap_or_default(),
        dns_zone: stored
            .and_then(|c| c.dns_zone.clone())
            .unwrap_or_else(|| site.domain.clone()),
        dns_key_name: stored
            .and_then(|c| c.dns_key_name.clone())
            .unwrap_or_default(),
        dns_secret: String::new(),
        wildcard: stored.is_none_or(|c| c.wildcard).then(|| "1".to_owned()),
    });
    Page::new(format!("{} · HTTPS", site.domain))
        .nav(Nav::Sites)
        .body(html! {
            (crate::web::components::site_tabs(site, "https"))
            section.card."bg-base-100".shadow-sm data-certificate-card {
                div.card-body {
                    h2.card-title { "Certificate" }
                    @match cert {
                        None => p.text-sm { "This site serves plain HTTP only. Issue a free certificate for "
                            span.font-mono { (crate::certificates::names_of(site).join(", ")) }
                            " from " span.font-mono { (directory) } " (the CA fetches a challenge over port 80, so the names must point at this server), or upload your own below." },
                        Some(c) => {
                            div.flex.flex-wrap.items-center."gap-3" {
                                (status_badge(c.status, c.error.as_deref()))
                                span.text-sm { (source_label(c.source)) }
                                span.text-sm.font-mono data-cert-names { (c.names) }
                            }
                            @if let Some(e) = &c.error {
                                div.alert.alert-error role="alert" data-cert-error=(c.error_kind.as_deref().unwrap_or("")) {
                                    span { (e) }
                                }
                                @if let Some(t) = &c.next_attempt_at {
                                    p.text-sm { "The panel tries again at " (time(t)) "." }
                                }
                            }
                            @if let Some(na) = &c.not_after {
                                dl.text-sm.grid."grid-cols-2"."gap-1"."max-w-xl" {
                                    dt { "Valid" } dd { @if let Some(nb) = &c.not_before { (time(nb)) } " → " (time(na)) }
                                    @if let Some(i) = &c.issuer { dt { "Issuer" } dd.font-mono.text-xs { (i) } }
                                    @if let Some(s) = &c.serial { dt { "Serial" } dd.font-mono.text-xs data-cert-serial { (s) } }
                                    @if let Some(r) = &c.renew_at { dt { "Renews" } dd { (time(r)) " (automatically)" } }
                                    @if c.source == CertSource::Custom { dt { "Renews" } dd { "never: uploaded certificates are renewed by uploading again" } }
                                }
                            }
                        }
                    }
                    div.flex.flex-wrap."gap-2" {
                        form method="post" action=(with_id(paths::SITE_CERT_ISSUE, site.id)) {
                            (csrf_field())
                            button.btn.btn-sm.btn-primary type="submit" {
                                @if cert.is_some_and(|c| c.source == CertSource::Acme) { "Renew now" } @else { "Issue a certificate" }
                            }
                        }
                        @if cert.is_some() {
                            form method="post" action=(with_id(paths::SITE_CERT_REMOVE, site.id)) {
                                (csrf_field())
                                button.btn.btn-sm.btn-ghost type="submit" { "Remove HTTPS" }
                            }
                        }
                    }
                }
            }
            @if let Some((steps, lines, job)) = job {
                h2.text-lg.font-semibold { a.link href=(with_id(paths::JOB, job.id)) { (job.title) } }
                (crate::web::jobs::views::card(job, steps, lines, false))
            }
            section.card."bg-base-100".shadow-sm {
                form.card-body method="post" action=(with_id(paths::SITE_HTTPS_SETTINGS, site.id)) {
                    h2.card-title { "Settings" }
                    (csrf_field())
                    label.label { input.checkbox.checkbox-sm type="checkbox" name="redirect" value="1" checked[site.https_redirect]; " Redirect HTTP to HTTPS (ACME challenges stay on HTTP)" }
                    label.label { input.checkbox.checkbox-sm type="checkbox" name="hsts" value="1" checked[site.hsts]; " Send Strict-Transport-Security (browsers then refuse plain HTTP for a year)" }
                    p.text-xs."text-base-content/70" { "Applied when a certificate is served. nginx's TLS follows Mozilla's intermediate profile: TLS 1.2 and 1.3 only." }
                    div.card-actions.justify-end { button.btn.btn-sm type="submit" { "Save settings" } }
                }
            }
            section.card."bg-base-100".shadow-sm {
                form.card-body method="post" action=(with_id(paths::SITE_CERT_DNS, site.id)) {
                    h2.card-title { "Wildcard certificate (DNS-01)" }
                    p.text-sm."text-base-content/70" {
                        "The CA checks a TXT record instead of a file, so the certificate can cover "
                        span.font-mono { "*." (site.domain) } " and the server need not be reachable on port 80. "
                        "The panel adds the record by an RFC 2136 dynamic update (BIND, Knot, PowerDNS…) signed with a TSIG key (hmac-sha256); the key's secret is stored encrypted and never shown again."
                    }
                    (csrf_field())
                    div.grid."md:grid-cols-2"."gap-3" {
                        fieldset.fieldset {
                            label.label for="dns_server" { "DNS server (IP, optionally :port)" }
                            input #dns_server.input.w-full.font-mono name="dns_server" value=(dns.dns_server) placeholder="192.0.2.53";
                            (field_error(errors, "dns_server"))
                        }
                        fieldset.fieldset {
                            label.label for="dns_zone" { "Zone" }
                            input #dns_zone.input.w-full.font-mono name="dns_zone" value=(dns.dns_zone);
                            (field_error(errors, "dns_zone"))
                        }
                        fieldset.fieldset {
                            label.label for="dns_key_name" { "TSIG key name" }
                            input #dns_key_name.input.w-full.font-mono name="dns_key_name" value=(dns.dns_key_name) placeholder="panel-acme";
                            (field_error(errors, "dns_key_name"))
                        }
                        fieldset.fieldset {
                            label.label for="dns_secret" { "TSIG secret (base64)" }
                            input #dns_secret.input.w-full.font-mono type="password" name="dns_secret" autocomplete="off" placeholder=(if stored.is_some() { "stored: leave empty to keep" } else { "" });
                            (field_error(errors, "dns_secret"))
                        }
                    }
                    label.label { input.checkbox.checkbox-sm type="checkbox" name="wildcard" value="1" checked[dns.wildcard.is_some()]; " Include " span.font-mono { "*." (site.domain) } }
                    div.card-actions.justify-end { button.btn.btn-sm.btn-primary type="submit" { "Issue through DNS" } }
                }
            }
            section.card."bg-base-100".shadow-sm {
                form.card-body method="post" action=(with_id(paths::SITE_CERT_UPLOAD, site.id)) {
                    h2.card-title { "Upload a certificate" }
                    p.text-sm."text-base-content/70" { "PEM text. The certificate must cover every name of the site and be valid now; the chain lists its issuers in order; the key must be the certificate's (it is stored encrypted and never shown again)." }
                    (csrf_field())
                    fieldset.fieldset {
                        label.label for="certificate" { "Certificate" }
                        textarea #certificate.textarea.w-full.font-mono.text-xs name="certificate" rows="5" placeholder="-----BEGIN CERTIFICATE-----" { (form.certificate) }
                        (field_error(errors, "certificate"))
                    }
                    fieldset.fieldset {
                        label.label for="chain" { "Chain (intermediates, optional)" }
                        textarea #chain.textarea.w-full.font-mono.text-xs name="chain" rows="4" placeholder="-----BEGIN CERTIFICATE-----" { (form.chain) }
                        (field_error(errors, "chain"))
                    }
                    fieldset.fieldset {
                        label.label for="key" { "Private key" }
                        textarea #key.textarea.w-full.font-mono.text-xs name="key" rows="4" autocomplete="off" placeholder="-----BEGIN PRIVATE KEY-----" {}
                        (field_error(errors, "key"))
                    }
                    div.card-actions.justify-end { button.btn.btn-sm.btn-primary type="submit" { "Upload and install" } }
                }
            }
        })
        .render()
}
