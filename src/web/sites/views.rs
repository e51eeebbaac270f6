use maud::{Markup, html};

use crate::db::jobs::{Job, LogLine, Step};
use crate::db::sites::{Site, SiteSummary};
use crate::domain::{AppType, DatabaseType, EnvKey, SiteStatus};
use crate::domain::{Page as DbPage, SiteSort};
use crate::error::FieldError;
use crate::ids::ServerId;
use crate::paths::{self, with_id};
use crate::sites::SiteForm;
use crate::web::components::{
    StatusBadge, empty_state, field_error, no_matches, table_with_header, text_field, time,
};
use crate::web::layout::{Nav, Page, csrf_field};
use crate::web::listing::ListView;

/// An active server the form can put a site on, with its installed PHP versions.
pub struct ServerChoice {
    pub id: ServerId,
    pub name: String,
    pub php: Vec<String>,
}

/// The sites list: one page, searchable by domain, narrowed by server or status.
pub fn index(
    list: &ListView<'_, SiteSort>,
    page: &DbPage<SiteSummary>,
    total: i64,
    status: Option<SiteStatus>,
    have_server: bool,
) -> Markup {
    let body = if total == 0 {
        if have_server {
            empty_state(
                "No sites yet",
                "Each site gets its own Unix user, PHP-FPM pool, nginx vhost, optional database and \
                 SELinux categories.",
                Some(("Create a site", paths::SITE_NEW)),
            )
        } else {
            empty_state(
                "No sites yet",
                "Each site gets its own Unix user, PHP-FPM pool, nginx vhost, optional database and \
                 SELinux categories. Sites live on servers, so add a server first.",
                Some(("Go to servers", paths::SERVERS)),
            )
        }
    } else {
        let filtered = list.query.search.is_some() || !list.filters.is_empty();
        html! {
            div.flex.flex-wrap.items-end.justify-between."gap-3" {
                div.flex.flex-wrap.items-end."gap-2" {
                    (list.search("Search domains"))
                    (status_filter(list, status))
                }
                @if have_server { a.btn.btn-primary href=(paths::SITE_NEW) { "Create a site" } }
            }
            (list.region(html! {
                @if page.rows.is_empty() {
                    (no_matches("sites"))
                } @else {
                    (table_with_header(
                        html! {
                            (list.header("Domain", SiteSort::Domain))
                            th { "Server" } th { "Type" } th { "PHP" } th { "Status" }
                            (list.header("Created", SiteSort::Newest))
                        },
                        html! {
                            @for s in &page.rows {
                                tr {
                                    td.font-semibold { a.link href=(with_id(paths::SITE, s.id)) { (s.domain) } }
                                    td { (s.server_name) }
                                    td { (s.app_type.label()) }
                                    td { (s.php_version) }
                                    td {
                                        (s.status.badge())
                                        @if let Some(reason) = &s.status_reason { div.text-xs.text-error { (reason) } }
                                    }
                                    td.whitespace-nowrap { (time(&s.created_at)) }
                                }
                            }
                        },
                    ))
                }
                (list.pager(page, (!filtered).then_some(total)))
            }))
        }
    };
    Page::new("Sites").nav(Nav::Sites).body(body).render()
}

/// Status links: all, or one status (kept with the search and order).
fn status_filter(list: &ListView<'_, SiteSort>, status: Option<SiteStatus>) -> Markup {
    let choices = [
        SiteStatus::Active,
        SiteStatus::Error,
        SiteStatus::Suspended,
        SiteStatus::Provisioning,
    ];
    crate::web::listing::status_links(list, status, &choices, SiteStatus::as_str)
}

pub fn new(servers: &[ServerChoice], form: &SiteForm, errors: &[FieldError]) -> Markup {
    let body = if servers.is_empty() {
        empty_state(
            "No active server",
            "A site needs an active server with PHP installed. Add a server and run its setup command first.",
            Some(("Go to servers", paths::SERVERS)),
        )
    } else {
        let mut versions: Vec<&str> = servers
            .iter()
            .flat_map(|s| s.php.iter().map(String::as_str))
            .collect();
        versions.sort_unstable();
        versions.dedup();
        html! {
            form.card."bg-base-100".shadow-sm."max-w-2xl" method="post" action=(paths::SITES) {
                div.card-body {
                    (csrf_field())
                    fieldset.fieldset {
                        label.label for="server_id" { "Server" }
                        select #server_id.select.w-full name="server_id" {
                            @for s in servers {
                                option value=(s.id) selected[s.id.to_string() == form.server_id] {
                                    (s.name) " — PHP " (s.php.join(", "))
                                }
                            }
                        }
                        (field_error(errors, "server_id"))
                    }
                    (text_field("Domain", "domain", &form.domain, errors, "e.g. shop.example.com; international names are stored as punycode", true))
                    fieldset.fieldset {
                        label.label for="aliases" { "Aliases" }
                        textarea #aliases.textarea.w-full.textarea-error[errors.iter().any(|e| e.field == "aliases")]
                            name="aliases" rows="2" placeholder="www.shop.example.com" { (form.aliases) }
                        p.label.text-xs { "Other domains served by the same site, separated by spaces or new lines" }
                        (field_error(errors, "aliases"))
                    }
                    div.grid."gap-4"."md:grid-cols-2" {
                        fieldset.fieldset {
                            label.label for="app_type" { "Application" }
                            select #app_type.select.w-full name="app_type" {
                                @for t in AppType::ALL {
                                    option value=(t.name()) selected[Some(*t) == AppType::from_name(&form.app_type)] { (t.label()) }
                                }
                            }
                            (field_error(errors, "app_type"))
                        }
                        fieldset.fieldset {
                            label.label for="php_version" { "PHP version" }
                            select #php_version.select.w-full name="php_version" {
                                @for v in &versions {
                                    option value=(v) selected[*v == form.php_version] { "PHP " (v) }
                                }
                            }
                            (field_error(errors, "php_version"))
                        }
                    }
                    fieldset.fieldset {
                        label.label for="database" { "Database" }
                        select #database.select.w-full name="database" {
                            option value="none" selected[form.database == "none"] { "No database" }
                            @for d in DatabaseType::ALL {
                                option value=(d.as_str()) selected[d.as_str() == form.database] { (d.label()) }
                            }
                        }
                        (field_error(errors, "database"))
                    }
                    fieldset.fieldset {
                        label.label.whitespace-normal {
                            input.checkbox.checkbox-sm type="checkbox" name="scheduler" value="on" checked[form.scheduler.is_some()];
                            " Run the application's scheduled tasks"
                        }
                        p.label.text-xs.whitespace-normal {
                            "Laravel: its scheduler, every minute. WordPress: WP-Cron every five minutes from a timer, with DISABLE_WP_CRON set in its .env (Bedrock reads it; a classic wp-config.php defines it itself). Generic PHP: nothing. Change it later on the site's Cron jobs tab."
                        }
                    }
                    details.collapse.collapse-arrow."bg-base-200" open[errors.iter().any(|e| matches!(e.field, "user" | "db_name"))] {
                        summary.collapse-title.text-sm { "Advanced: user and database names" }
                        div.collapse-content {
                            (text_field("Unix user", "user", &form.user, errors, "Default: the next free webN", false))
                            (text_field("Database name", "db_name", &form.db_name, errors, "Default: from the domain (shop_example_com); also the database user", false))
                        }
                    }
                    div.card-actions.justify-end { button.btn.btn-primary type="submit" { "Create site" } }
                }
            }
        }
    };
    Page::new("Create a site")
        .nav(Nav::Sites)
        .body(body)
        .render()
}

/// What a site page shows beyond the site itself: secrets revealed on request, its certificate.
pub struct Shown<'a> {
    pub password: Option<&'a str>,
    pub env: bool,
    pub cert: Option<&'a crate::db::certificates::SiteCertificate>,
}

/// The site's status badge, live while the site is being created or changed by a job.
pub fn live_status(site: &Site) -> Markup {
    crate::web::components::live_status(
        "site-status",
        &with_id(paths::SITE_STATUS, site.id),
        site.status.as_str(),
        matches!(
            site.status,
            SiteStatus::Creating | SiteStatus::Provisioning | SiteStatus::Deleting
        ),
        site.status.badge(),
    )
}

/// A site action's button; a refusal shows in the page's `site-actions` slot.
fn action_button(site: &Site, path: &'static str, label: &str, class: &'static str) -> Markup {
    html! {
        form method="post" action=(with_id(path, site.id)) hx-post=(with_id(path, site.id))
            hx-headers=(crate::web::components::form_header("site-actions")) {
            (csrf_field())
            button.btn.btn-sm.(class) type="submit" { (label) }
        }
    }
}

pub fn show(
    site: &Site,
    job: Option<&(Vec<Step>, Vec<LogLine>, Job)>,
    env: &[(EnvKey, String)],
    shown: Shown<'_>,
) -> Markup {
    let (revealed_password, env_revealed) = (shown.password, shown.env);
    // Served over HTTPS once a certificate is active.
    let https = shown
        .cert
        .is_some_and(|c| c.status == crate::domain::CertStatus::Active && c.chain_pem.is_some());
    let scheme = if https { "https" } else { "http" };
    // The job card says why it failed; the reason above it only when it says something else.
    let job_said = job.is_some_and(|(_, _, j)| j.error.is_some() && j.error == site.status_reason);
    // A database exists once provisioning made it.
    let db_made = matches!(site.status, SiteStatus::Active | SiteStatus::Suspended);
    let aliases: Vec<String> = serde_json::from_str(&site.aliases).unwrap_or_default();
    Page::new(site.domain.clone())
        .nav(Nav::Sites)
        .body(html! {
            (crate::web::components::site_tabs(site, "overview"))
            section.card."bg-base-100".shadow-sm {
                div.card-body {
                    div.flex.flex-wrap.items-center."gap-3" {
                        (live_status(site))
                        span.text-sm { (site.app_type.label()) " · PHP " (site.php_version) " · on " (site.server_name) }
                        @if let Some(u) = &site.username { span.text-sm.font-mono { (u) } }
                        @if site.confirmed_at.is_some() { span.badge.badge-ghost.badge-sm { "confirmed by the node" } }
                    }
                    @if let (Some(reason), false) = (&site.status_reason, job_said) {
                        div.alert.alert-error role="alert" { span { (reason) } }
                    }
                    @if matches!(site.status, SiteStatus::Active | SiteStatus::Suspended) {
                        p.text-sm {
                            a.link.font-semibold href={ (scheme) "://" (site.domain) "/" } target="_blank" rel="noopener noreferrer" data-site-url { (scheme) "://" (site.domain) }
                            " · " a.link href=(with_id(paths::SITE_HTTPS, site.id)) data-site-cert {
                                @match shown.cert {
                                    Some(c) if https => {
                                        "certificate until "
                                        @match c.not_after.as_deref() { Some(t) => (time(t)), None => "—" }
                                    },
                                    Some(c) if c.error.is_some() => "certificate failing: see HTTPS",
                                    Some(_) => "certificate being issued",
                                    None => "no certificate: add one",
                                }
                            }
                            " · " a.link href=(with_id(paths::SITE_DEPLOYMENTS, site.id)) { "Deployments and their logs" }
                        }
                    }
                    @if !aliases.is_empty() {
                        p.text-sm { "Also answers to: " span.font-mono { (aliases.join(", ")) } }
                    }
                    div.flex.flex-wrap."gap-2" {
                        @if site.status == SiteStatus::Error { (action_button(site, paths::SITE_RETRY, "Retry", "btn-primary")) }
                        @if site.status == SiteStatus::Active { (action_button(site, paths::SITE_SUSPEND, "Suspend", "btn-warning")) }
                        @if site.status == SiteStatus::Suspended { (action_button(site, paths::SITE_RESUME, "Resume", "btn-primary")) }
                    }
                    (crate::web::components::form_errors("site-actions"))
                    p.text-xs."text-base-content/70" { "created " (time(&site.created_at)) }
                }
            }
            @if let Some((steps, lines, job)) = job {
                h2.text-lg.font-semibold { a.link href=(with_id(paths::JOB, job.id)) { (job.title) } }
                (crate::web::jobs::views::card(job, steps, lines, false))
            }
            @if let (Some(engine), Some(name)) = (&site.db_type, &site.db_name) {
                section.card."bg-base-100".shadow-sm {
                    div.card-body {
                        h2.card-title { "Database" }
                        p.text-sm { (engine.label()) " database " span.font-mono { (name) } ", user "
                            span.font-mono { (site.db_username.as_deref().unwrap_or_default()) } }
                        @if let Some(pw) = revealed_password {
                            div.alert.alert-warning role="alert" {
                                span."min-w-0" { "Password: " code #db-password.font-mono.break-all data-revealed-password { (pw) } " — this reveal is recorded in the server log." }
                                (crate::web::components::copy_button("#db-password", "Copy the database password"))
                            }
                        }
                        @if !db_made {
                            p.text-sm."text-base-content/80" data-db-not-made { "The database is made when the site is provisioned; it is not there yet." }
                        }
                        @if db_made {
                        div.flex.flex-wrap."gap-2" {
                            // A plain post: the answer is the page with the password (never cached).
                            form method="post" action=(with_id(paths::SITE_DB_REVEAL, site.id)) {
                                (csrf_field())
                                button.btn.btn-sm.btn-ghost type="submit" { "Reveal password" }
                            }
                            (crate::web::components::confirm_action(
                                "rotate-db-password",
                                "Rotate password",
                                "btn-outline",
                                &with_id(paths::SITE_DB_ROTATE, site.id),
                                html! {},
                                "Rotate the database password?",
                                html! {
                                    p { "A new password is set on the database server and written to the site's "
                                        span.font-mono { ".env" } ". Anything else that logs in with the old one "
                                        "(a desktop client, another app) stops working until you give it the new one." }
                                },
                            ))
                        }
                        }
                    }
                }
            }
            section.card."bg-base-100".shadow-sm {
                form #site-env.card-body method="post" action=(with_id(paths::SITE_ENV, site.id))
                    hx-post=(with_id(paths::SITE_ENV, site.id)) hx-headers=(crate::web::components::form_header("site-env")) {
                    h2.card-title { ".env" }
                    p.text-sm."text-base-content/70" {
                        "Written to " span.font-mono { "/home/" (site.username.as_deref().unwrap_or("…")) "/.env" }
                        " (mode 600, outside the web root). APP_URL and DB_* are managed by the panel. "
                        "One KEY=value per line; values are kept literally and quoted for dotenv."
                    }
                    (csrf_field())
                    @if !env.is_empty() && !env_revealed {
                        ul.text-sm.font-mono.break-all data-env-keys {
                            @for (k, v) in env { li { (k) "=" span."text-base-content/70" { "•••• (" (v.chars().count()) " characters)" } } }
                        }
                    }
                    label.label for="site-env-text" { "The site's own keys" }
                    textarea #site-env-text.textarea.w-full.font-mono name="env" rows=(if env_revealed { env.len().clamp(5, 30) } else { 5 })
                        placeholder="MAIL_HOST=smtp.example.com" data-env-revealed[env_revealed] {
                        @if env_revealed { @for (k, v) in env { (k) "=" (v) "\n" } }
                    }
                    p.label.text-xs {
                        @if env_revealed { "Edit the values above and save; the reveal is recorded in the server log." }
                        @else { "Saving replaces the site's own keys with the lines above. To change one value, show them first." }
                    }
                    (crate::web::components::form_errors("site-env"))
                    div.card-actions.justify-end { button.btn.btn-sm.btn-primary type="submit" { "Save .env" } }
                }
                @if !env.is_empty() && !env_revealed {
                    form."px-6"."pb-6" method="post" action=(with_id(paths::SITE_ENV_REVEAL, site.id)) {
                        (csrf_field())
                        button.btn.btn-sm.btn-ghost type="submit" data-env-reveal { "Show the values to edit them" }
                    }
                }
            }
            section.card."bg-base-100".shadow-sm.border.border-error {
                form #site-delete.card-body method="post" action=(with_id(paths::SITE_DELETE, site.id))
                    hx-post=(with_id(paths::SITE_DELETE, site.id)) hx-headers=(crate::web::components::form_header("site-delete")) {
                    h2.card-title.text-error { "Delete this site" }
                    p.text-sm { "Removes its vhost and PHP-FPM pool. Tick below to remove its user and files, and its database, too." }
                    (csrf_field())
                    label.label { input.checkbox.checkbox-sm type="checkbox" name="delete_files" value="1"; " Remove the user and all its files" }
                    @if site.db_name.is_some() {
                        label.label { input.checkbox.checkbox-sm type="checkbox" name="delete_database" value="1"; " Drop the database and its user" }
                    }
                    fieldset.fieldset {
                        label.label for="confirm" { "Type " span.font-mono { (site.domain) } " to confirm" }
                        input #confirm.input.w-full name="confirm" autocomplete="off" required
                            aria-describedby="site-delete-errors";
                    }
                    (crate::web::components::form_errors("site-delete"))
                    div.card-actions.justify-end { button.btn.btn-sm.btn-error type="submit" { "Delete site" } }
                }
            }
        })
        .render()
}
