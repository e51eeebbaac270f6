//! The files a site's provisioning writes: its PHP-FPM pool, its nginx vhost (one template per
//! app type, plus the "suspended" variant), the catch-all default server and the `.env`.
//! Every value put into them is a parsed domain type (domain, user, path from the profile), so
//! none can add a directive: they hold only `[a-z0-9.-_]` and no whitespace or `;`.

use crate::domain::site::env_line;
use crate::domain::{AppType, EnvKey};

use super::SiteSpec;
use super::profile::{Profile, SOCKET_DIR};

/// Functions a site's PHP cannot call: running programs is what turns a hacked plugin into a
/// shell on the server.
const DISABLED_FUNCTIONS: &str =
    "exec,passthru,shell_exec,system,proc_open,popen,pcntl_exec,show_source";

pub fn socket_path(user: &str) -> String {
    format!("{SOCKET_DIR}/{user}.sock")
}

/// The site's own PHP-FPM master: a `[global]` section and the site's one pool. One master per
/// site, because a process runs at one SELinux level and each site has its own categories; it
/// also means a site's restart or crash never touches another site.
pub fn fpm_config(profile: Profile, site: &SiteSpec) -> String {
    let user = site.user.as_str();
    let home = site.user.home();
    let nginx = profile.nginx_user();
    let socket = socket_path(user);
    let pid = fpm_pid_path(user);
    format!(
        "; Managed by Panel: the PHP-FPM master of {domain}. Rewritten on every change.
[global]
pid = {pid}
error_log = {FPM_LOG_DIR}/{user}.log
; A pool that keeps crashing must not take the machine with it.
emergency_restart_threshold = 10
emergency_restart_interval = 1m
process_control_timeout = 10s

[{user}]
user = {user}
group = {user}
listen = {socket}
; Only nginx may connect: other sites' users cannot reach this pool.
listen.owner = {nginx}
listen.group = {nginx}
listen.mode = 0600
pm = ondemand
pm.max_children = 5
pm.process_idle_timeout = 10s
pm.max_requests = 500
chdir = /
clear_env = yes
security.limit_extensions = .php
php_admin_value[open_basedir] = {home}/
php_admin_value[upload_tmp_dir] = {home}/tmp
php_admin_value[session.save_path] = {home}/tmp
php_admin_value[sys_temp_dir] = {home}/tmp
php_admin_value[disable_functions] = {DISABLED_FUNCTIONS}
php_admin_flag[allow_url_include] = off
php_admin_flag[expose_php] = off
php_admin_flag[log_errors] = on
php_admin_value[error_log] = {home}/logs/php-error.log
; A request still running after five seconds has its PHP backtrace written by the master
; (root's file, beside the master's own log: never one in the site's home).
request_slowlog_timeout = 5s
slowlog = {FPM_LOG_DIR}/{user}.slow.log
{settings}",
        domain = site.domain,
        settings = settings_lines(site),
    )
}

/// The site's redirects, before its own locations: exact ones as `location =` (nginx's first
/// pick), prefixes as regular expressions, longest first (the first that matches wins) and
/// before the PHP location; what the prefix keeps holds no line break (the decoded path could,
/// and it goes into the Location header). Each source and target is a checked value with no quote, `$`, `;`,
/// brace, backslash or space; the query string goes along unless the target has its own.
fn redirect_locations(site: &SiteSpec) -> String {
    use crate::domain::redirect::Match;
    if site.redirects.is_empty() {
        return String::new();
    }
    let mut rules: Vec<&crate::domain::Redirect> = site.redirects.iter().collect();
    rules.sort_by_key(|r| {
        (
            r.kind == Match::Prefix,
            std::cmp::Reverse(r.source.as_str().len()),
        )
    });
    let mut out = "    # The site's redirects (its Redirects tab).\n".to_owned();
    for r in rules {
        let target = r.target.as_str();
        let args = if target.contains(['?', '#']) {
            ""
        } else {
            "$is_args$args"
        };
        match r.kind {
            Match::Exact => out.push_str(&format!(
                "    location = {} {{\n        return {} \"{target}{args}\";\n    }}\n",
                r.source.as_str(),
                r.status
            )),
            Match::Prefix => {
                let base = r.source.as_str().trim_end_matches('/');
                let pattern: String = base
                    .chars()
                    .flat_map(|c| match c {
                        '.' | '+' => vec!['\\', c],
                        c => vec![c],
                    })
                    .collect();
                // The path itself, then what is below it (kept after the target).
                out.push_str(&format!(
                    "    location = {} {{\n        return {} \"{target}{args}\";\n    }}\n",
                    if base.is_empty() { "/" } else { base },
                    r.status
                ));
                out.push_str(&format!(
                    "    location ~ ^{pattern}(?<panel_rest>/[^\\r\\n]*)$ {{\n        return {} \"{}$panel_rest{args}\";\n    }}\n",
                    r.status,
                    target.trim_end_matches('/')
                ));
            }
        }
    }
    out
}

/// The site's own nginx block (its Nginx tab), checked directive by directive, inside its
/// server block; `nginx -t` runs before the vhost is loaded, and the previous file comes back
/// when it fails.
fn custom_block(site: &SiteSpec) -> String {
    match &site.nginx_custom {
        None => String::new(),
        Some(block) => format!(
            "    # The site's own directives (its Nginx tab).\n{}    # End of the site's own directives.\n",
            indent(block.as_str(), "    ")
        ),
    }
}

/// The site's own PHP settings, after the panel's (each line a checked value: a number, on/off,
/// a time zone name).
fn settings_lines(site: &SiteSpec) -> String {
    let lines = site.php_ini.pool_lines();
    if lines.is_empty() {
        return String::new();
    }
    let mut out = "; The site's PHP settings (its PHP tab).\n".to_owned();
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// Where the site's master keeps its pid.
pub fn fpm_pid_path(user: &str) -> String {
    format!("{SOCKET_DIR}/{user}.pid")
}

/// The site master's configuration file (outside the distribution's pool directory, which its
/// own master includes).
pub fn fpm_config_path(user: &str) -> String {
    format!("{FPM_CONFIG_DIR}/{user}.conf")
}

/// Where the sites' masters are configured.
pub const FPM_CONFIG_DIR: &str = "/etc/panel/php-fpm";
/// Where the masters (running as root) write their own logs; the site's PHP errors go to its
/// home instead.
pub const FPM_LOG_DIR: &str = "/var/log/panel/php-fpm";

/// The systemd unit of a site's master.
pub fn fpm_unit_name(user: &str) -> String {
    format!("panel-php-fpm-{user}.service")
}

pub fn fpm_unit_path(user: &str) -> String {
    format!("/etc/systemd/system/{}", fpm_unit_name(user))
}

/// The systemd unit that runs a site's master. Where SELinux is on (any OS) it runs in the
/// policy module's `laravel_php_fpm_t` at the site's own categories (`SELinuxContext=`).
pub fn fpm_unit(profile: Profile, site: &SiteSpec) -> String {
    let user = site.user.as_str();
    let selinux = if profile.selinux {
        format!(
            "# The site's own SELinux categories: its PHP can reach only files labelled with them.\nSELinuxContext=system_u:system_r:laravel_php_fpm_t:{}\n",
            site.mcs
        )
    } else {
        String::new()
    };
    format!(
        "# Managed by Panel: PHP {php} FastCGI for {domain} (site user {user}).
[Unit]
Description=PHP {php} FastCGI for {domain}
After=network.target

[Service]
Type=notify
ExecStart={binary} --nodaemonize --fpm-config {config}
# `+`: kill runs as systemd itself, not in the site's domain (which may run php-fpm alone).
ExecReload=+/bin/kill -USR2 $MAINPID
{selinux}PrivateTmp=true
Restart=on-failure

[Install]
WantedBy=multi-user.target
",
        php = site.php,
        domain = site.domain,
        binary = profile.fpm_binary(site.php),
        config = fpm_config_path(user),
    )
}

/// The document root nginx serves.
pub fn document_root(site: &SiteSpec) -> String {
    root_for(site.app_type, &site.user)
}

pub fn root_for(app_type: AppType, user: &crate::domain::SiteUser) -> String {
    match app_type {
        AppType::Laravel => format!("{}/public_html/public", user.home()),
        AppType::WordPress | AppType::Generic => format!("{}/public_html", user.home()),
    }
}

fn server_names(site: &SiteSpec) -> String {
    std::iter::once(site.domain.as_str())
        .chain(site.aliases.iter().map(|a| a.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where the panel publishes ACME HTTP-01 challenge files: root-owned, one directory per site,
/// outside every site's home (a site user can neither plant nor swap one).
pub const ACME_ROOT: &str = "/var/www/panel-acme";

pub fn acme_dir(user: &str) -> String {
    format!("{ACME_ROOT}/{user}")
}

/// Where a site's certificate chain and key live on the node: root-owned, the key readable by
/// root only (nginx reads both as root before it drops privileges).
pub const TLS_DIR: &str = "/etc/nginx/panel-tls";

pub fn tls_cert_path(user: &str) -> String {
    format!("{TLS_DIR}/{user}.crt")
}

pub fn tls_key_path(user: &str) -> String {
    format!("{TLS_DIR}/{user}.key")
}

/// Shared by every vhost: ACME challenge files come from the panel's directory for the site
/// (static only, never PHP); dotfiles (`.env`, `.git`, `.htaccess`) are never served.
fn acme_location(user: &str) -> String {
    format!(
        "    location ^~ /.well-known/acme-challenge/ {{
        root {dir};
        default_type text/plain;
        try_files $uri =404;
    }}
",
        dir = acme_dir(user)
    )
}

const DENY_DOTFILES: &str = "    location ~ /\\. {
        deny all;
    }
";

/// The `listen` lines and TLS directives of a site's main server; with the redirect on, plain
/// HTTP has a server of its own (`http_redirect`).
fn listens(site: &SiteSpec) -> String {
    let user = site.user.as_str();
    let plain = "    listen 80;
    listen [::]:80;
";
    match site.tls {
        None => plain.to_owned(),
        Some(tls) => format!(
            "{plain}    listen 443 ssl http2;
    listen [::]:443 ssl http2;
    ssl_certificate {cert};
    ssl_certificate_key {key};
{TLS_PROFILE}",
            plain = if tls.redirect { "" } else { plain },
            cert = tls_cert_path(user),
            key = tls_key_path(user),
        ),
    }
}

/// Headers on every answer (repeated in any location that adds its own: nginx drops the
/// server's `add_header`s there).
fn headers(site: &SiteSpec) -> String {
    let mut h = "add_header X-Content-Type-Options nosniff always;\n".to_owned();
    if site.tls.is_some_and(|t| t.hsts) {
        h.push_str("add_header Strict-Transport-Security \"max-age=31536000\" always;\n");
    }
    h
}

fn indent(lines: &str, by: &str) -> String {
    lines.lines().map(|l| format!("{by}{l}\n")).collect()
}

/// With HTTPS and the redirect on: plain HTTP serves ACME challenges (renewals) and sends
/// everything else to HTTPS.
fn http_redirect(site: &SiteSpec) -> String {
    match site.tls {
        Some(tls) if tls.redirect => format!(
            "
server {{
    listen 80;
    listen [::]:80;
    server_name {names};
{acme}    location / {{
        return 301 https://$host$request_uri;
    }}
}}
",
            names = server_names(site),
            acme = acme_location(site.user.as_str()),
        ),
        _ => String::new(),
    }
}

/// nginx's TLS settings, in every HTTPS server (set per server, they override whatever the
/// distribution's `nginx.conf` says at the http level — Debian's still allows TLS 1.0 — and
/// hold whichever server SNI picks): Mozilla's *intermediate* profile, TLS 1.2 and 1.3 with
/// forward-secret AEAD ciphers only, and OCSP stapling where the chain names a responder.
const TLS_PROFILE: &str = "    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers off;
    ssl_session_timeout 1d;
    ssl_session_cache shared:PanelTLS:10m;
    ssl_session_tickets off;
    ssl_stapling on;
    ssl_stapling_verify on;
";

/// The catch-all HTTPS server: a handshake for a name no site serves is refused (rather than
/// answered with some site's certificate).
pub fn tls_settings() -> String {
    format!(
        "# Managed by Panel: HTTPS for names no site serves is refused.
server {{
    listen 443 ssl default_server;
    listen [::]:443 ssl default_server;
    server_name _;
    ssl_reject_handshake on;
{TLS_PROFILE}}}
"
    )
}

/// The name of the TLS settings file (next to the catch-all server).
pub const TLS_SETTINGS_NAME: &str = "00-panel-tls";

fn fastcgi(socket: &str, extra: &str) -> String {
    format!(
        "        fastcgi_pass unix:{socket};
        include fastcgi_params;
        fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;
        fastcgi_param DOCUMENT_ROOT $realpath_root;
        fastcgi_param HTTP_PROXY \"\";
{extra}"
    )
}

pub fn vhost(profile: Profile, site: &SiteSpec) -> String {
    let user = site.user.as_str();
    let domain = site.domain.as_str();
    let names = server_names(site);
    let root = document_root(site);
    let socket = socket_path(user);
    let head = format!(
        "# Managed by Panel: {domain} ({kind}). Rewritten on every change; edits are lost.
",
        kind = site.app_type.label()
    );
    let listen = listens(site);
    let acme = acme_location(user);
    let header_lines = indent(&headers(site), "    ");
    let common = format!(
        "{listen}    server_name {names};
    root {root};
    # Every link on the way to a file, the document root's own included, is followed only
    # when its owner owns the target too: a link the site planted never serves another site's
    # files or the system's (its storage/ and .env are closed to nginx besides).
    disable_symlinks if_not_owner;
    index index.php index.html;
    charset utf-8;
    client_max_body_size {body}m;
    access_log /var/log/nginx/{domain}.access.log;
    error_log /var/log/nginx/{domain}.error.log;
{header_lines}
{acme}{DENY_DOTFILES}{redirects}{custom}",
        body = site.php_ini.body_limit_mb(),
        redirects = redirect_locations(site),
        custom = custom_block(site),
    );
    let redirect = http_redirect(site);
    match site.app_type {
        AppType::Generic => format!(
            "{head}server {{
{common}
    location / {{
        try_files $uri $uri/ =404;
    }}
    location ~ \\.php$ {{
        try_files $uri =404;
{fcgi}    }}
}}
{redirect}",
            fcgi = fastcgi(&socket, "")
        ),
        AppType::Laravel => format!(
            "{head}server {{
{common}
    location / {{
        try_files $uri $uri/ /index.php?$query_string;
    }}
    # Laravel's front controller is the only PHP entry point.
    location = /index.php {{
{fcgi}    }}
    location ~ \\.php$ {{
        return 404;
    }}
}}
{redirect}",
            fcgi = fastcgi(&socket, "")
        ),
        AppType::WordPress => {
            let zone = format!("panel_{}", user.replace('-', "_"));
            let cache_dir = profile.fastcgi_cache_dir(user);
            // The key names scheme, method, host and URI: a purge for one domain or alias
            // (nginx-helper and friends compute exactly this) never hits another's entries.
            format!(
                "{head}fastcgi_cache_path {cache_dir} levels=1:2 keys_zone={zone}:10m max_size=256m inactive=60m use_temp_path=off;

server {{
{common}
    # Never cache what is personal or changing: POSTs, queries, admin, logged-in users.
    set $panel_skip_cache 0;
    if ($request_method = POST) {{ set $panel_skip_cache 1; }}
    if ($query_string != \"\") {{ set $panel_skip_cache 1; }}
    if ($request_uri ~* \"/wp-admin/|/xmlrpc\\.php|wp-.*\\.php|/feed/|sitemap(_index)?\\.xml\") {{ set $panel_skip_cache 1; }}
    if ($http_cookie ~* \"comment_author|wordpress_[a-f0-9]+|wp-postpass|wordpress_no_cache|wordpress_logged_in|woocommerce_items_in_cart\") {{ set $panel_skip_cache 1; }}

    location / {{
        try_files $uri $uri/ /index.php?$args;
    }}
    # Uploaded files are data, never code.
    location ~* /(?:uploads|files)/.*\\.php$ {{
        deny all;
    }}
    location ~ \\.php$ {{
        try_files $uri =404;
{fcgi}    }}
}}
{redirect}",
                fcgi = fastcgi(
                    &socket,
                    &format!(
                        "        fastcgi_cache {zone};
        fastcgi_cache_key \"$scheme$request_method$host$request_uri\";
        fastcgi_cache_valid 200 301 302 60m;
        fastcgi_cache_bypass $panel_skip_cache;
        fastcgi_no_cache $panel_skip_cache;
        add_header X-Cache $upstream_cache_status always;
{wp_headers}",
                        wp_headers = indent(&headers(site), "        ")
                    )
                )
            )
        }
    }
}

/// The vhost of a suspended site: every request gets a neutral 503, nothing reaches PHP.
pub fn suspended_vhost(site: &SiteSpec) -> String {
    let names = server_names(site);
    // A suspended site keeps its certificate (and its redirect): HTTPS answers 503 too, and
    // renewals still reach the challenge directory.
    let listen = listens(site);
    let acme = acme_location(site.user.as_str());
    let redirect = http_redirect(site);
    format!(
        "# Managed by Panel: {domain} is suspended. Resuming the site restores its vhost.
server {{
{listen}    server_name {names};
    default_type text/html;
    add_header Retry-After 3600 always;
{acme}    location / {{
        return 503 '<!doctype html><meta charset=\"utf-8\"><title>Temporarily unavailable</title><p>This site is temporarily unavailable.</p>';
    }}
}}
{redirect}",
        domain = site.domain
    )
}

/// The catch-all server: a request for a Host no site serves gets no answer at all (444 closes
/// the connection), so it can never land on some site's vhost by default.
pub const DEFAULT_SERVER: &str =
    "# Managed by Panel: requests for a Host no site serves get no answer.
server {
    listen 80 default_server;
    listen [::]:80 default_server;
    server_name _;
    access_log off;
    return 444;
}
";

/// The name of the catch-all server's file (sorted first).
pub const DEFAULT_SERVER_NAME: &str = "00-panel-default";

/// Shown until the site's own code is deployed.
pub fn placeholder(site: &SiteSpec) -> String {
    format!(
        "<!doctype html>
<meta charset=\"utf-8\">
<title>{domain}</title>
<p>{domain} is ready. Deploy your code to replace this page.</p>
",
        domain = site.domain
    )
}

/// The `.env`: what the panel manages (`APP_URL`, `DB_*`) first, then the site's own keys.
pub fn env_file(site: &SiteSpec, password: Option<&str>) -> String {
    let mut lines = vec![
        "# Managed by Panel: edit these values in the panel; changes made here are overwritten."
            .to_owned(),
        env_line(
            &EnvKey::managed("APP_URL"),
            &format!("http://{}", site.domain),
        ),
    ];
    if let Some(db) = &site.database {
        let (connection, host, port) = match db.engine {
            crate::domain::DatabaseType::MariaDb => ("mysql", "localhost", "3306"),
            crate::domain::DatabaseType::PostgreSql => ("pgsql", "127.0.0.1", "5432"),
        };
        for (k, v) in [
            ("DB_CONNECTION", connection),
            ("DB_HOST", host),
            ("DB_PORT", port),
            ("DB_DATABASE", db.name.as_str()),
            ("DB_USERNAME", db.user.as_str()),
            ("DB_PASSWORD", password.unwrap_or("")),
        ] {
            lines.push(env_line(&EnvKey::managed(k), v));
        }
    }
    for (k, v) in &site.env {
        lines.push(env_line(k, v));
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}
