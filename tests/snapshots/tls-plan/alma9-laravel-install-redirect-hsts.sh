#!/usr/bin/env bash
# shellcheck disable=SC2016 # file bodies and SQL are single-quoted on purpose: nothing expands
# Install the certificate of example.com
# Written by the panel for alma9 with the systemd service driver. Each step checks
# whether it is already done and is skipped if so; a failed check of the result stops the
# script. Run it as root (`sudo bash FILE`; the panel runs a plan through `sudo -n -- bash -s`):
# work inside a site's home runs as the site's own user (`setpriv`), never as root.
if [ -z "${BASH_SOURCE[0]:-}" ]; then eval "$(cat)"; exit; fi
set -euo pipefail

panel_fail() { printf 'failed: %s\n' "$1" >&2; exit 1; }
panel_one_of() {
  local got=$1 want
  shift
  for want in "$@"; do [ "$got" = "$want" ] && return 0; done
  return 1
}
# Signal $1 to the process its pid file $2 names, if that process is still a $3 (a pid file
# left from before a restart may name another process by now); fails when there is none.
panel_signal() {
  local pid='' comm=''
  { read -r pid <"$2" || [ -n "$pid" ]; } 2>/dev/null || return 1
  [[ $pid =~ ^[1-9][0-9]*$ ]] || return 1
  { read -r comm </proc/"$pid"/comm; } 2>/dev/null || return 1
  [[ $comm == "$3"* ]] && kill -s "$1" "$pid" 2>/dev/null
}
# The status nginx gives http://127.0.0.1/ for Host $1, as curl's %{http_code} prints it
# (000 when nothing answers within 5 s; a connect to loopback is refused or made at once).
panel_http_status() (
  code=
  exec 9<>/dev/tcp/127.0.0.1/80 || { printf 000; exit 0; }
  printf 'GET / HTTP/1.0\r\nHost: %s\r\nUser-Agent: panel\r\n\r\n' "$1" >&9
  IFS=' ' read -r -t 5 _ code _ <&9 || true
  code=${code%$'\r'}
  printf '%s' "${code:-000}"
)

# --- 1/4 Install the certificate of example.com
echo '==> 1/4 Install the certificate of example.com'
if printf '%s' 'c055b0330f8d6daa03abed21a0885fa252be3155e7af3a907b6515e1d62b0f60  /etc/nginx/panel-tls/web1.crt
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 &&
  printf '%s' '7de81eac75912026108852637cca6327731883d3c9caaf59c0c81303c8a28336  /etc/nginx/panel-tls/web1.key
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
'install' '-d' '-Z' '-m' '0700' '-o' 'root' '-g' 'root' '--' '/etc/nginx/panel-tls'
printf '%s' '-----BEGIN CERTIFICATE-----
CHAIN
-----END CERTIFICATE-----
' | 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/nginx/panel-tls/web1.crt'
printf '%s' '-----BEGIN PRIVATE KEY-----
SECRETKEYMATERIAL
-----END PRIVATE KEY-----
' | 'install' '-Z' '-m' '0600' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/nginx/panel-tls/web1.key'
fi
printf '%s' 'c055b0330f8d6daa03abed21a0885fa252be3155e7af3a907b6515e1d62b0f60  /etc/nginx/panel-tls/web1.crt
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 1: verify: sha256sum --check --status --strict'
printf '%s' '7de81eac75912026108852637cca6327731883d3c9caaf59c0c81303c8a28336  /etc/nginx/panel-tls/web1.key
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 1: verify: sha256sum --check --status --strict'

# --- 2/4 Refuse HTTPS for names no site serves
echo '==> 2/4 Refuse HTTPS for names no site serves'
if printf '%s' '66d1962a9239de89804e2045ba1e11ebc97e360498bf3b67b25d8aa506178ff5  /etc/nginx/conf.d/00-panel-tls.conf
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
if 'test' '-e' '/etc/nginx/conf.d/00-panel-tls.conf'; then 'install' '-m' '0600' '--' '/etc/nginx/conf.d/00-panel-tls.conf' '/etc/nginx/conf.d/00-panel-tls.conf.panel-prev'; elif 'test' '-e' '/etc/nginx/conf.d/00-panel-tls.conf.panel-prev'; then 'rm' '-f' '--' '/etc/nginx/conf.d/00-panel-tls.conf.panel-prev'; fi
printf '%s' '# Managed by Panel: HTTPS for names no site serves is refused.
server {
    listen 443 ssl default_server;
    listen [::]:443 ssl default_server;
    server_name _;
    ssl_reject_handshake on;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers off;
    ssl_session_timeout 1d;
    ssl_session_cache shared:PanelTLS:10m;
    ssl_session_tickets off;
    ssl_stapling on;
    ssl_stapling_verify on;
}
' | 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/nginx/conf.d/00-panel-tls.conf'
if ! 'nginx' '-t' '-q'; then
  if 'test' '-e' '/etc/nginx/conf.d/00-panel-tls.conf.panel-prev'; then 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/etc/nginx/conf.d/00-panel-tls.conf.panel-prev' '/etc/nginx/conf.d/00-panel-tls.conf'; else 'rm' '-f' '--' '/etc/nginx/conf.d/00-panel-tls.conf'; fi
  panel_fail '/etc/nginx/conf.d/00-panel-tls.conf failed its test; the previous version was put back'
fi
if 'test' '-e' '/etc/nginx/conf.d/00-panel-tls.conf.panel-prev'; then 'rm' '-f' '--' '/etc/nginx/conf.d/00-panel-tls.conf.panel-prev'; fi
fi
printf '%s' '66d1962a9239de89804e2045ba1e11ebc97e360498bf3b67b25d8aa506178ff5  /etc/nginx/conf.d/00-panel-tls.conf
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 2: verify: sha256sum --check --status --strict'

# --- 3/4 Configure the nginx vhost for example.com
echo '==> 3/4 Configure the nginx vhost for example.com'
if printf '%s' '3d4d81f91bcb52a7d736e7d5f94efa96525b3bde970784774f0c5d1c48b06775  /etc/nginx/conf.d/00-panel-default.conf
7866b68c813646487af37a1638541aa4aa400f3be5cb1f980be7bf4d16f40a35  /etc/nginx/conf.d/example.com.conf
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
if ! printf '%s' '3d4d81f91bcb52a7d736e7d5f94efa96525b3bde970784774f0c5d1c48b06775  /etc/nginx/conf.d/00-panel-default.conf
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
if 'test' '-e' '/etc/nginx/conf.d/00-panel-default.conf'; then 'install' '-m' '0600' '--' '/etc/nginx/conf.d/00-panel-default.conf' '/etc/nginx/conf.d/00-panel-default.conf.panel-prev'; elif 'test' '-e' '/etc/nginx/conf.d/00-panel-default.conf.panel-prev'; then 'rm' '-f' '--' '/etc/nginx/conf.d/00-panel-default.conf.panel-prev'; fi
printf '%s' '# Managed by Panel: requests for a Host no site serves get no answer.
server {
    listen 80 default_server;
    listen [::]:80 default_server;
    server_name _;
    access_log off;
    return 444;
}
' | 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/nginx/conf.d/00-panel-default.conf'
if ! 'nginx' '-t' '-q'; then
  if 'test' '-e' '/etc/nginx/conf.d/00-panel-default.conf.panel-prev'; then 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/etc/nginx/conf.d/00-panel-default.conf.panel-prev' '/etc/nginx/conf.d/00-panel-default.conf'; else 'rm' '-f' '--' '/etc/nginx/conf.d/00-panel-default.conf'; fi
  panel_fail '/etc/nginx/conf.d/00-panel-default.conf failed its test; the previous version was put back'
fi
if 'test' '-e' '/etc/nginx/conf.d/00-panel-default.conf.panel-prev'; then 'rm' '-f' '--' '/etc/nginx/conf.d/00-panel-default.conf.panel-prev'; fi
fi
if 'test' '-e' '/etc/nginx/conf.d/example.com.conf'; then 'install' '-m' '0600' '--' '/etc/nginx/conf.d/example.com.conf' '/etc/nginx/conf.d/example.com.conf.panel-prev'; elif 'test' '-e' '/etc/nginx/conf.d/example.com.conf.panel-prev'; then 'rm' '-f' '--' '/etc/nginx/conf.d/example.com.conf.panel-prev'; fi
printf '%s' '# Managed by Panel: example.com (Laravel). Rewritten on every change; edits are lost.
server {
    listen 443 ssl http2;
    listen [::]:443 ssl http2;
    ssl_certificate /etc/nginx/panel-tls/web1.crt;
    ssl_certificate_key /etc/nginx/panel-tls/web1.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers off;
    ssl_session_timeout 1d;
    ssl_session_cache shared:PanelTLS:10m;
    ssl_session_tickets off;
    ssl_stapling on;
    ssl_stapling_verify on;
    server_name example.com www.example.com;
    root /home/web1/public_html/public;
    # Every link on the way to a file, the document root'\''s own included, is followed only
    # when its owner owns the target too: a link the site planted never serves another site'\''s
    # files or the system'\''s (its storage/ and .env are closed to nginx besides).
    disable_symlinks if_not_owner;
    index index.php index.html;
    charset utf-8;
    client_max_body_size 64m;
    access_log /var/log/nginx/example.com.access.log;
    error_log /var/log/nginx/example.com.error.log;
    add_header X-Content-Type-Options nosniff always;
    add_header Strict-Transport-Security "max-age=31536000" always;

    location ^~ /.well-known/acme-challenge/ {
        root /var/www/panel-acme/web1;
        default_type text/plain;
        try_files $uri =404;
    }
    location ~ /\. {
        deny all;
    }

    location / {
        try_files $uri $uri/ /index.php?$query_string;
    }
    # Laravel'\''s front controller is the only PHP entry point.
    location = /index.php {
        fastcgi_pass unix:/run/php-fpm/web1.sock;
        include fastcgi_params;
        fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;
        fastcgi_param DOCUMENT_ROOT $realpath_root;
        fastcgi_param HTTP_PROXY "";
    }
    location ~ \.php$ {
        return 404;
    }
}

server {
    listen 80;
    listen [::]:80;
    server_name example.com www.example.com;
    location ^~ /.well-known/acme-challenge/ {
        root /var/www/panel-acme/web1;
        default_type text/plain;
        try_files $uri =404;
    }
    location / {
        return 301 https://$host$request_uri;
    }
}
' | 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/nginx/conf.d/example.com.conf'
if ! 'nginx' '-t' '-q'; then
  if 'test' '-e' '/etc/nginx/conf.d/example.com.conf.panel-prev'; then 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/etc/nginx/conf.d/example.com.conf.panel-prev' '/etc/nginx/conf.d/example.com.conf'; else 'rm' '-f' '--' '/etc/nginx/conf.d/example.com.conf'; fi
  panel_fail '/etc/nginx/conf.d/example.com.conf failed its test; the previous version was put back'
fi
if 'test' '-e' '/etc/nginx/conf.d/example.com.conf.panel-prev'; then 'rm' '-f' '--' '/etc/nginx/conf.d/example.com.conf.panel-prev'; fi
fi
printf '%s' '3d4d81f91bcb52a7d736e7d5f94efa96525b3bde970784774f0c5d1c48b06775  /etc/nginx/conf.d/00-panel-default.conf
7866b68c813646487af37a1638541aa4aa400f3be5cb1f980be7bf4d16f40a35  /etc/nginx/conf.d/example.com.conf
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 3: verify: sha256sum --check --status --strict'

# --- 4/4 Reload nginx
echo '==> 4/4 Reload nginx'
'systemctl' 'reload-or-restart' '--' 'nginx.service'
if ! { panel_tries=0; until panel_one_of "$('curl' '-sSk' '-o' '/dev/null' '--max-time' '5' '-w' '%{http_code}' '--resolve' 'example.com:443:127.0.0.1' '--' 'https://example.com/' 2>/dev/null)" '200' '301' '302' '401' '403' '404' '503'; do panel_tries=$((panel_tries + 1)); [ "$panel_tries" -lt 500 ] || break; sleep 0.02; done; [ "$panel_tries" -lt 500 ]; }; then
  'tail' '-n' '20' '--' '/var/log/nginx/error.log' >&2 2>&1 || true
  'pgrep' '-a' '--' 'nginx' >&2 2>&1 || true
  'cat' '--' '/run/nginx.pid' >&2 2>&1 || true
  panel_fail 'step 4: verify: curl -sSk -o /dev/null --max-time 5 -w %{http_code} --resolve example.com:443:127.0.0.1 -- https://example.com/'"; it printed: $('curl' '-sSk' '-o' '/dev/null' '--max-time' '5' '-w' '%{http_code}' '--resolve' 'example.com:443:127.0.0.1' '--' 'https://example.com/' 2>&1 | head -c 200)"
fi

echo 'done'
