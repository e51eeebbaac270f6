#!/usr/bin/env bash
# shellcheck disable=SC2016 # file bodies and SQL are single-quoted on purpose: nothing expands
# provision example.com (Generic PHP, PHP 8.3) as web1
# Written by the panel for alma8 with the systemd service driver. Each step checks
# whether it is already done and is skipped if so; a failed check of the result stops the
# script. Run it as the panel's SSH user (it uses `sudo -n` for each privileged command).
set -euo pipefail

panel_fail() { printf 'failed: %s\n' "$1" >&2; exit 1; }
panel_one_of() {
  local got=$1 want
  shift
  for want in "$@"; do [ "$got" = "$want" ] && return 0; done
  return 1
}

# --- 1/9 Create the system user web1
echo '==> 1/9 Create the system user web1'
if 'id' '-u' '--' 'web1' >/dev/null 2>&1 && ! 'grep' '-qxF' '-e' 'web1 of example.com' '--' '/etc/panel/made/user-web1' >/dev/null 2>&1; then
  panel_fail 'step 1: an account named web1 already exists on this server and was not made by the panel for example.com: nothing was changed; choose another user name for the site'
fi
if 'id' '-u' '--' 'web1' >/dev/null 2>&1 &&
  [ "$('stat' '-c' '%U %G %a' '--' '/home/web1' 2>/dev/null)" = 'root web1 750' ] &&
  'grep' '-qxF' '-e' 'web1 of example.com' '--' '/etc/panel/made/user-web1' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
if ! 'id' '-u' '--' 'web1' >/dev/null 2>&1; then
'sudo' '-n' '--' 'install' '-d' '-Z' '-m' '0755' '-o' 'root' '-g' 'root' '--' '/etc/panel/made'
printf '%s' 'web1 of example.com
' | 'sudo' '-n' '--' 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/panel/made/user-web1'
'sudo' '-n' '--' 'useradd' '--home-dir' '/home/web1' '--no-create-home' '--shell' '/usr/sbin/nologin' '--user-group' '--' 'web1'
fi
'sudo' '-n' '--' 'install' '-d' '-Z' '-m' '0750' '-o' 'root' '-g' 'web1' '--' '/home/web1'
'sudo' '-n' '--' 'usermod' '-a' '-G' 'web1' '--' 'nginx'
if 'getent' 'group' '--' 'panel-sftp' >/dev/null 2>&1; then
'sudo' '-n' '--' 'usermod' '-a' '-G' 'panel-sftp' '--' 'web1'
fi
fi
'id' '-u' '--' 'web1' >/dev/null 2>&1 || panel_fail 'step 1: verify: id -u -- web1'
[ "$('stat' '-c' '%U %G %a' '--' '/home/web1' 2>/dev/null)" = 'root web1 750' ] || panel_fail 'step 1: verify: stat -c %U %G %a -- /home/web1'"; it printed: $('stat' '-c' '%U %G %a' '--' '/home/web1' 2>&1 | head -c 200)"

# --- 2/9 Create the site's directories and .env
echo '==> 2/9 Create the site'\''s directories and .env'
if [ "$('sudo' '-n' '-u' 'web1' '--' 'stat' '-L' '-c' '%U %a' '--' '/home/web1/public_html' '/home/web1/storage' '/home/web1/tmp' '/home/web1/logs' '/home/web1/.env' 2>/dev/null </dev/null)" = 'web1 755
web1 700
web1 700
web1 700
web1 600' ]; then
  echo 'skipped: already done'
else
if ! [ "$('sudo' '-n' '--' 'stat' '-c' '%F' '--' '/home/web1/public_html' 2>/dev/null)" = 'symbolic link' ]; then
'sudo' '-n' '--' 'install' '-d' '-Z' '-m' '0755' '-o' 'web1' '-g' 'web1' '--' '/home/web1/public_html'
fi
if ! [ "$('sudo' '-n' '--' 'stat' '-c' '%F' '--' '/home/web1/storage' 2>/dev/null)" = 'symbolic link' ]; then
'sudo' '-n' '--' 'install' '-d' '-Z' '-m' '0700' '-o' 'web1' '-g' 'web1' '--' '/home/web1/storage'
fi
if ! [ "$('sudo' '-n' '--' 'stat' '-c' '%F' '--' '/home/web1/tmp' 2>/dev/null)" = 'symbolic link' ]; then
'sudo' '-n' '--' 'install' '-d' '-Z' '-m' '0700' '-o' 'web1' '-g' 'web1' '--' '/home/web1/tmp'
fi
if ! [ "$('sudo' '-n' '--' 'stat' '-c' '%F' '--' '/home/web1/logs' 2>/dev/null)" = 'symbolic link' ]; then
'sudo' '-n' '--' 'install' '-d' '-Z' '-m' '0700' '-o' 'web1' '-g' 'web1' '--' '/home/web1/logs'
fi
if ! 'sudo' '-n' '--' 'stat' '-c' '%n' '--' '/home/web1/.env' >/dev/null 2>&1; then
'sudo' '-n' '--' 'install' '-Z' '-m' '0600' '-o' 'web1' '-g' 'web1' '--' '/dev/null' '/home/web1/.env'
fi
if ! [ "$('sudo' '-n' '--' 'stat' '-c' '%F' '--' '/home/web1/public_html' 2>/dev/null)" = 'symbolic link' ]; then
if ! 'sudo' '-n' '-u' 'web1' '--' 'stat' '-c' '%n' '--' '/home/web1/public_html/index.php' >/dev/null 2>&1 </dev/null; then
if ! 'sudo' '-n' '-u' 'web1' '--' 'stat' '-c' '%n' '--' '/home/web1/public_html/index.html' >/dev/null 2>&1 </dev/null; then
printf '%s' '<!doctype html>
<meta charset="utf-8">
<title>example.com</title>
<p>example.com is ready. Deploy your code to replace this page.</p>
' | 'sudo' '-n' '-u' 'web1' '--' 'bash' '-c' 'umask 077; tmp=$(mktemp -- "$2.panel-XXXXXX") || exit 1; if cat >"$tmp" && chmod -- "$1" "$tmp" && mv -fT -- "$tmp" "$2"; then exit 0; fi; rm -f -- "$tmp"; exit 1' '--' '0644' '/home/web1/public_html/index.html'
fi
fi
fi
fi
[ "$('sudo' '-n' '-u' 'web1' '--' 'stat' '-L' '-c' '%U %a' '--' '/home/web1/public_html' '/home/web1/storage' '/home/web1/tmp' '/home/web1/logs' '/home/web1/.env' 2>/dev/null </dev/null)" = 'web1 755
web1 700
web1 700
web1 700
web1 600' ] || panel_fail 'step 2: verify: stat -L -c %U %a -- /home/web1/public_html /home/web1/storage /home/web1/tmp /home/web1/logs /home/web1/.env'"; it printed: $('sudo' '-n' '-u' 'web1' '--' 'stat' '-L' '-c' '%U %a' '--' '/home/web1/public_html' '/home/web1/storage' '/home/web1/tmp' '/home/web1/logs' '/home/web1/.env' </dev/null 2>&1 | head -c 200)"

# --- 3/9 Label the site's files for SELinux (s0:c100,c101)
echo '==> 3/9 Label the site'\''s files for SELinux (s0:c100,c101)'
if ! 'selinuxenabled' >/dev/null 2>&1; then
  echo 'skipped: SELinux disabled'
else
if [ "$('matchpathcon' '-n' '--' '/home/web1' 2>/dev/null)" = 'system_u:object_r:site_content_t:s0:c100,c101' ] &&
  [ "$('matchpathcon' '-n' '--' '/home/web1/storage' 2>/dev/null)" = 'system_u:object_r:laravel_app_rw_t:s0:c100,c101' ] &&
  [ "$('matchpathcon' '-n' '--' '/home/web1/.env' 2>/dev/null)" = 'system_u:object_r:laravel_app_env_t:s0:c100,c101' ] &&
  [ "$('sudo' '-n' '--' 'restorecon' '-F' '-n' '-v' '--' '/home/web1' 2>/dev/null)" = '' ] &&
  [ "$('sudo' '-n' '-u' 'web1' '--' 'bash' '-c' 'shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec restorecon -R -F -x -n -v -- "${entries[@]}"; fi; exec restorecon -R -F -x -- "${entries[@]}"' '--' '/home/web1' 'check' 2>/dev/null </dev/null)" = '' ]; then
  echo 'skipped: already done'
else
if ! [ "$('matchpathcon' '-n' '--' '/home/web1' 2>/dev/null)" = 'system_u:object_r:site_content_t:s0:c100,c101' ]; then
printf '%s' 'fcontext -a -t site_content_t -r s0:c100,c101 '\''/home/web1(/.*)?'\''
fcontext -a -t laravel_app_rw_t -r s0:c100,c101 '\''/home/web1/(storage|tmp|logs)(/.*)?'\''
fcontext -a -t laravel_app_env_t -r s0:c100,c101 '\''/home/web1/\.env'\''
' | 'flock' '-w' '900' '.panel-selinux.lock' 'sudo' '-n' '--' 'semanage' 'import' '-f' '-' || 'true'
fi
if ! [ "$('matchpathcon' '-n' '--' '/home/web1' 2>/dev/null)" = 'system_u:object_r:site_content_t:s0:c100,c101' ]; then
'flock' '-w' '900' '.panel-selinux.lock' 'sudo' '-n' '--' 'semanage' 'fcontext' '-a' '-t' 'site_content_t' '-r' 's0:c100,c101' '--' '/home/web1(/.*)?' || 'flock' '-w' '900' '.panel-selinux.lock' 'sudo' '-n' '--' 'semanage' 'fcontext' '-m' '-t' 'site_content_t' '-r' 's0:c100,c101' '--' '/home/web1(/.*)?'
fi
if ! [ "$('matchpathcon' '-n' '--' '/home/web1/storage' 2>/dev/null)" = 'system_u:object_r:laravel_app_rw_t:s0:c100,c101' ]; then
'flock' '-w' '900' '.panel-selinux.lock' 'sudo' '-n' '--' 'semanage' 'fcontext' '-a' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c101' '--' '/home/web1/(storage|tmp|logs)(/.*)?' || 'flock' '-w' '900' '.panel-selinux.lock' 'sudo' '-n' '--' 'semanage' 'fcontext' '-m' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c101' '--' '/home/web1/(storage|tmp|logs)(/.*)?'
fi
if ! [ "$('matchpathcon' '-n' '--' '/home/web1/.env' 2>/dev/null)" = 'system_u:object_r:laravel_app_env_t:s0:c100,c101' ]; then
'flock' '-w' '900' '.panel-selinux.lock' 'sudo' '-n' '--' 'semanage' 'fcontext' '-a' '-t' 'laravel_app_env_t' '-r' 's0:c100,c101' '--' '/home/web1/\.env' || 'flock' '-w' '900' '.panel-selinux.lock' 'sudo' '-n' '--' 'semanage' 'fcontext' '-m' '-t' 'laravel_app_env_t' '-r' 's0:c100,c101' '--' '/home/web1/\.env'
fi
'sudo' '-n' '--' 'restorecon' '-F' '--' '/home/web1'
'sudo' '-n' '-u' 'web1' '--' 'bash' '-c' 'shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec restorecon -R -F -x -n -v -- "${entries[@]}"; fi; exec restorecon -R -F -x -- "${entries[@]}"' '--' '/home/web1' </dev/null
fi
[ "$('matchpathcon' '-n' '--' '/home/web1' 2>/dev/null)" = 'system_u:object_r:site_content_t:s0:c100,c101' ] || panel_fail 'step 3: verify: matchpathcon -n -- /home/web1'"; it printed: $('matchpathcon' '-n' '--' '/home/web1' 2>&1 | head -c 200)"
[ "$('matchpathcon' '-n' '--' '/home/web1/storage' 2>/dev/null)" = 'system_u:object_r:laravel_app_rw_t:s0:c100,c101' ] || panel_fail 'step 3: verify: matchpathcon -n -- /home/web1/storage'"; it printed: $('matchpathcon' '-n' '--' '/home/web1/storage' 2>&1 | head -c 200)"
[ "$('matchpathcon' '-n' '--' '/home/web1/.env' 2>/dev/null)" = 'system_u:object_r:laravel_app_env_t:s0:c100,c101' ] || panel_fail 'step 3: verify: matchpathcon -n -- /home/web1/.env'"; it printed: $('matchpathcon' '-n' '--' '/home/web1/.env' 2>&1 | head -c 200)"
[ "$('sudo' '-n' '--' 'restorecon' '-F' '-n' '-v' '--' '/home/web1' 2>/dev/null)" = '' ] || panel_fail 'step 3: verify: restorecon -F -n -v -- /home/web1'"; it printed: $('sudo' '-n' '--' 'restorecon' '-F' '-n' '-v' '--' '/home/web1' 2>&1 | head -c 200)"
[ "$('sudo' '-n' '-u' 'web1' '--' 'bash' '-c' 'shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec restorecon -R -F -x -n -v -- "${entries[@]}"; fi; exec restorecon -R -F -x -- "${entries[@]}"' '--' '/home/web1' 'check' 2>/dev/null </dev/null)" = '' ] || panel_fail 'step 3: verify: bash -c shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec re'"; it printed: $('sudo' '-n' '-u' 'web1' '--' 'bash' '-c' 'shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec restorecon -R -F -x -n -v -- "${entries[@]}"; fi; exec restorecon -R -F -x -- "${entries[@]}"' '--' '/home/web1' 'check' </dev/null 2>&1 | head -c 200)"
fi

# --- 4/9 Configure the PHP 8.3 FPM pool
echo '==> 4/9 Configure the PHP 8.3 FPM pool'
if printf '%s' '1a018356aa265e630e13e82eb212f2d070d811dcc67cb6b5e9a127b765090f8c  /etc/panel/php-fpm/web1.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 &&
  printf '%s' 'ba10936668e0c3b5f28745c7354764ee0d67f516491ee3d26f72bfe9e071705a  /etc/tmpfiles.d/panel-php-fpm.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 &&
  printf '%s' '2e9e29d65c2a61ae4d58a7feb22cbbc2e135b222559e595316f0b87dc0e4e1c1  /etc/systemd/system/panel-php-fpm-web1.service
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
'sudo' '-n' '--' 'install' '-d' '-Z' '-m' '0755' '-o' 'root' '-g' 'root' '--' '/run/php-fpm' '/etc/panel/php-fpm'
'sudo' '-n' '--' 'install' '-d' '-Z' '-m' '0750' '-o' 'root' '-g' 'root' '--' '/var/log/panel/php-fpm'
printf '%s' '# Managed by Panel: the directory of the sites'\'' PHP-FPM sockets.
d /run/php-fpm 0755 root root -
' | 'sudo' '-n' '--' 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/tmpfiles.d/panel-php-fpm.conf'
if 'sudo' '-n' '--' 'stat' '-c' '%n' '--' '/etc/panel/php-fpm/web1.conf' >/dev/null 2>&1; then 'sudo' '-n' '--' 'install' '-m' '0600' '--' '/etc/panel/php-fpm/web1.conf' '/etc/panel/php-fpm/web1.conf.panel-prev'; else 'sudo' '-n' '--' 'rm' '-f' '--' '/etc/panel/php-fpm/web1.conf.panel-prev'; fi
printf '%s' '; Managed by Panel: the PHP-FPM master of example.com. Rewritten on every change.
[global]
pid = /run/php-fpm/web1.pid
error_log = /var/log/panel/php-fpm/web1.log
; A pool that keeps crashing must not take the machine with it.
emergency_restart_threshold = 10
emergency_restart_interval = 1m
process_control_timeout = 10s

[web1]
user = web1
group = web1
listen = /run/php-fpm/web1.sock
; Only nginx may connect: other sites'\'' users cannot reach this pool.
listen.owner = nginx
listen.group = nginx
listen.mode = 0600
pm = ondemand
pm.max_children = 5
pm.process_idle_timeout = 10s
pm.max_requests = 500
chdir = /
clear_env = yes
security.limit_extensions = .php
php_admin_value[open_basedir] = /home/web1/
php_admin_value[upload_tmp_dir] = /home/web1/tmp
php_admin_value[session.save_path] = /home/web1/tmp
php_admin_value[sys_temp_dir] = /home/web1/tmp
php_admin_value[disable_functions] = exec,passthru,shell_exec,system,proc_open,popen,pcntl_exec,show_source
php_admin_flag[allow_url_include] = off
php_admin_flag[expose_php] = off
php_admin_flag[log_errors] = on
php_admin_value[error_log] = /home/web1/logs/php-error.log
' | 'sudo' '-n' '--' 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/panel/php-fpm/web1.conf'
if ! 'sudo' '-n' '--' '/opt/remi/php83/root/usr/sbin/php-fpm' '-t' '--fpm-config' '/etc/panel/php-fpm/web1.conf'; then
  if 'sudo' '-n' '--' 'stat' '-c' '%n' '--' '/etc/panel/php-fpm/web1.conf.panel-prev' >/dev/null 2>&1; then 'sudo' '-n' '--' 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/etc/panel/php-fpm/web1.conf.panel-prev' '/etc/panel/php-fpm/web1.conf'; else 'sudo' '-n' '--' 'rm' '-f' '--' '/etc/panel/php-fpm/web1.conf'; fi
  panel_fail '/etc/panel/php-fpm/web1.conf failed its test; the previous version was put back'
fi
'sudo' '-n' '--' 'rm' '-f' '--' '/etc/panel/php-fpm/web1.conf.panel-prev'
printf '%s' '# Managed by Panel: PHP 8.3 FastCGI for example.com (site user web1).
[Unit]
Description=PHP 8.3 FastCGI for example.com
After=network.target

[Service]
Type=notify
ExecStart=/opt/remi/php83/root/usr/sbin/php-fpm --nodaemonize --fpm-config /etc/panel/php-fpm/web1.conf
# `+`: kill runs as systemd itself, not in the site'\''s domain (which may run php-fpm alone).
ExecReload=+/bin/kill -USR2 $MAINPID
# The site'\''s own SELinux categories: its PHP can reach only files labelled with them.
SELinuxContext=system_u:system_r:laravel_php_fpm_t:s0:c100,c101
PrivateTmp=true
Restart=on-failure

[Install]
WantedBy=multi-user.target
' | 'sudo' '-n' '--' 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/systemd/system/panel-php-fpm-web1.service'
'sudo' '-n' '--' 'systemctl' 'daemon-reload'
fi
printf '%s' '1a018356aa265e630e13e82eb212f2d070d811dcc67cb6b5e9a127b765090f8c  /etc/panel/php-fpm/web1.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 4: verify: sha256sum --check --status --strict'
printf '%s' 'ba10936668e0c3b5f28745c7354764ee0d67f516491ee3d26f72bfe9e071705a  /etc/tmpfiles.d/panel-php-fpm.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 4: verify: sha256sum --check --status --strict'
printf '%s' '2e9e29d65c2a61ae4d58a7feb22cbbc2e135b222559e595316f0b87dc0e4e1c1  /etc/systemd/system/panel-php-fpm-web1.service
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 4: verify: sha256sum --check --status --strict'

# --- 5/9 Configure the nginx vhost for example.com
echo '==> 5/9 Configure the nginx vhost for example.com'
if printf '%s' '3d4d81f91bcb52a7d736e7d5f94efa96525b3bde970784774f0c5d1c48b06775  /etc/nginx/conf.d/00-panel-default.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 &&
  printf '%s' 'd1433361fc61db60628af5aeed1a93acc4e370e844953ac886715f7b10ab7e06  /etc/nginx/conf.d/example.com.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
if 'sudo' '-n' '--' 'stat' '-c' '%n' '--' '/etc/nginx/conf.d/00-panel-default.conf' >/dev/null 2>&1; then 'sudo' '-n' '--' 'install' '-m' '0600' '--' '/etc/nginx/conf.d/00-panel-default.conf' '/etc/nginx/conf.d/00-panel-default.conf.panel-prev'; else 'sudo' '-n' '--' 'rm' '-f' '--' '/etc/nginx/conf.d/00-panel-default.conf.panel-prev'; fi
printf '%s' '# Managed by Panel: requests for a Host no site serves get no answer.
server {
    listen 80 default_server;
    listen [::]:80 default_server;
    server_name _;
    access_log off;
    return 444;
}
' | 'sudo' '-n' '--' 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/nginx/conf.d/00-panel-default.conf'
if ! 'sudo' '-n' '--' 'nginx' '-t' '-q'; then
  if 'sudo' '-n' '--' 'stat' '-c' '%n' '--' '/etc/nginx/conf.d/00-panel-default.conf.panel-prev' >/dev/null 2>&1; then 'sudo' '-n' '--' 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/etc/nginx/conf.d/00-panel-default.conf.panel-prev' '/etc/nginx/conf.d/00-panel-default.conf'; else 'sudo' '-n' '--' 'rm' '-f' '--' '/etc/nginx/conf.d/00-panel-default.conf'; fi
  panel_fail '/etc/nginx/conf.d/00-panel-default.conf failed its test; the previous version was put back'
fi
'sudo' '-n' '--' 'rm' '-f' '--' '/etc/nginx/conf.d/00-panel-default.conf.panel-prev'
if 'sudo' '-n' '--' 'stat' '-c' '%n' '--' '/etc/nginx/conf.d/example.com.conf' >/dev/null 2>&1; then 'sudo' '-n' '--' 'install' '-m' '0600' '--' '/etc/nginx/conf.d/example.com.conf' '/etc/nginx/conf.d/example.com.conf.panel-prev'; else 'sudo' '-n' '--' 'rm' '-f' '--' '/etc/nginx/conf.d/example.com.conf.panel-prev'; fi
printf '%s' '# Managed by Panel: example.com (Generic PHP). Rewritten on every change; edits are lost.
server {
    listen 80;
    listen [::]:80;
    server_name example.com;
    root /home/web1/public_html;
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

    location ^~ /.well-known/acme-challenge/ {
        root /var/www/panel-acme/web1;
        default_type text/plain;
        try_files $uri =404;
    }
    location ~ /\. {
        deny all;
    }

    location / {
        try_files $uri $uri/ =404;
    }
    location ~ \.php$ {
        try_files $uri =404;
        fastcgi_pass unix:/run/php-fpm/web1.sock;
        include fastcgi_params;
        fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;
        fastcgi_param DOCUMENT_ROOT $realpath_root;
        fastcgi_param HTTP_PROXY "";
    }
}
' | 'sudo' '-n' '--' 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/nginx/conf.d/example.com.conf'
if ! 'sudo' '-n' '--' 'nginx' '-t' '-q'; then
  if 'sudo' '-n' '--' 'stat' '-c' '%n' '--' '/etc/nginx/conf.d/example.com.conf.panel-prev' >/dev/null 2>&1; then 'sudo' '-n' '--' 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/etc/nginx/conf.d/example.com.conf.panel-prev' '/etc/nginx/conf.d/example.com.conf'; else 'sudo' '-n' '--' 'rm' '-f' '--' '/etc/nginx/conf.d/example.com.conf'; fi
  panel_fail '/etc/nginx/conf.d/example.com.conf failed its test; the previous version was put back'
fi
'sudo' '-n' '--' 'rm' '-f' '--' '/etc/nginx/conf.d/example.com.conf.panel-prev'
fi
printf '%s' '3d4d81f91bcb52a7d736e7d5f94efa96525b3bde970784774f0c5d1c48b06775  /etc/nginx/conf.d/00-panel-default.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 5: verify: sha256sum --check --status --strict'
printf '%s' 'd1433361fc61db60628af5aeed1a93acc4e370e844953ac886715f7b10ab7e06  /etc/nginx/conf.d/example.com.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 5: verify: sha256sum --check --status --strict'

# --- 6/9 Create the database
echo '==> 6/9 Create the database'
echo 'skipped: no database chosen'

# --- 7/9 Write the .env
echo '==> 7/9 Write the .env'
if printf '%s' '34483a3c9125fafa712623e2d772608ef4f2cd111a3a735ddb7f2698edb658a8  /home/web1/.env
' | 'sudo' '-n' '-u' 'web1' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
printf '%s' '# Managed by Panel: edit these values in the panel; changes made here are overwritten.
APP_URL="http://example.com"
' | 'sudo' '-n' '--' 'install' '-Z' '-m' '0600' '-o' 'web1' '-g' 'web1' '--' '/dev/stdin' '/home/web1/.env'
if 'selinuxenabled' >/dev/null 2>&1; then
'sudo' '-n' '-u' 'web1' '--' 'restorecon' '-R' '-F' '-x' '--' '/home/web1/.env' </dev/null
fi
fi
printf '%s' '34483a3c9125fafa712623e2d772608ef4f2cd111a3a735ddb7f2698edb658a8  /home/web1/.env
' | 'sudo' '-n' '-u' 'web1' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 7: verify: sha256sum --check --status --strict'

# --- 8/9 Reload PHP-FPM and nginx
echo '==> 8/9 Reload PHP-FPM and nginx'
'sudo' '-n' '--' 'systemctl' 'enable' '--quiet' '--' 'panel-php-fpm-web1.service'
'sudo' '-n' '--' 'systemctl' 'reload-or-restart' '--' 'panel-php-fpm-web1.service'
'sudo' '-n' '--' 'systemctl' 'reload-or-restart' '--' 'nginx.service'
if ! { for _ in $(seq 100); do 'test' '-S' '/run/php-fpm/web1.sock' && break; sleep 0.1; done; 'test' '-S' '/run/php-fpm/web1.sock'; }; then
  'sudo' '-n' '--' 'tail' '-n' '20' '--' '/var/log/nginx/error.log' >&2 2>&1 || true
  'pgrep' '-a' '--' 'nginx' >&2 2>&1 || true
  'cat' '--' '/run/nginx.pid' >&2 2>&1 || true
  panel_fail 'step 8: verify: test -S /run/php-fpm/web1.sock'
fi
if ! { for _ in $(seq 100); do panel_one_of "$('curl' '-sS' '-o' '/dev/null' '--max-time' '5' '-w' '%{http_code}' '-H' 'Host: example.com' '--' 'http://127.0.0.1/' 2>/dev/null)" '200' '301' '302' '401' '403' '404' && break; sleep 0.1; done; panel_one_of "$('curl' '-sS' '-o' '/dev/null' '--max-time' '5' '-w' '%{http_code}' '-H' 'Host: example.com' '--' 'http://127.0.0.1/' 2>/dev/null)" '200' '301' '302' '401' '403' '404'; }; then
  'sudo' '-n' '--' 'tail' '-n' '20' '--' '/var/log/nginx/error.log' >&2 2>&1 || true
  'pgrep' '-a' '--' 'nginx' >&2 2>&1 || true
  'cat' '--' '/run/nginx.pid' >&2 2>&1 || true
  panel_fail 'step 8: verify: curl -sS -o /dev/null --max-time 5 -w %{http_code} -H Host: example.com -- http://127.0.0.1/'"; it printed: $('curl' '-sS' '-o' '/dev/null' '--max-time' '5' '-w' '%{http_code}' '-H' 'Host: example.com' '--' 'http://127.0.0.1/' 2>&1 | head -c 200)"
fi

# --- 9/9 Confirm with the panel
echo '==> 9/9 Confirm with the panel'
echo 'skipped: no panel to report to (a plan printed by `panel site plan`)'

echo 'done'
