#!/usr/bin/env bash
# shellcheck disable=SC2016 # file bodies and SQL are single-quoted on purpose: nothing expands
# provision example.com (Generic PHP, PHP 8.3) as web1
# Written by `panel site plan` for alma9 with the systemd service driver. Each step checks
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

# --- 1/8 Create the system user web1
echo '==> 1/8 Create the system user web1'
if 'id' '-u' '--' 'web1' >/dev/null 2>&1 &&
  [ "$('stat' '-c' '%U %G %a' '--' '/home/web1' 2>/dev/null)" = 'root web1 750' ]; then
  echo 'skipped: already done'
else
if ! 'id' '-u' '--' 'web1' >/dev/null 2>&1; then
'sudo' '-n' '--' 'useradd' '--home-dir' '/home/web1' '--no-create-home' '--shell' '/usr/sbin/nologin' '--user-group' '--' 'web1'
fi
'sudo' '-n' '--' 'install' '-d' '-m' '0750' '-o' 'root' '-g' 'web1' '--' '/home/web1'
'sudo' '-n' '--' 'usermod' '-a' '-G' 'web1' '--' 'nginx'
if 'getent' 'group' '--' 'panel-sftp' >/dev/null 2>&1; then
'sudo' '-n' '--' 'usermod' '-a' '-G' 'panel-sftp' '--' 'web1'
fi
fi
'id' '-u' '--' 'web1' >/dev/null 2>&1 || panel_fail 'step 1: verify: id -u -- web1'
[ "$('stat' '-c' '%U %G %a' '--' '/home/web1' 2>/dev/null)" = 'root web1 750' ] || panel_fail 'step 1: verify: stat -c %U %G %a -- /home/web1'

# --- 2/8 Create the site's directories and .env
echo '==> 2/8 Create the site'\''s directories and .env'
if [ "$('sudo' '-n' '--' 'stat' '-c' '%U %a' '--' '/home/web1/public_html' '/home/web1/storage' '/home/web1/tmp' '/home/web1/logs' '/home/web1/.env' 2>/dev/null)" = 'web1 755
web1 755
web1 700
web1 750
web1 600' ]; then
  echo 'skipped: already done'
else
'sudo' '-n' '--' 'install' '-d' '-m' '0755' '-o' 'web1' '-g' 'web1' '--' '/home/web1/public_html' '/home/web1/storage'
'sudo' '-n' '--' 'install' '-d' '-m' '0700' '-o' 'web1' '-g' 'web1' '--' '/home/web1/tmp'
'sudo' '-n' '--' 'install' '-d' '-m' '0750' '-o' 'web1' '-g' 'web1' '--' '/home/web1/logs'
if ! 'sudo' '-n' '--' 'stat' '-c' '%n' '--' '/home/web1/.env' >/dev/null 2>&1; then
'sudo' '-n' '--' 'install' '-m' '0600' '-o' 'web1' '-g' 'web1' '--' '/dev/null' '/home/web1/.env'
fi
if ! 'sudo' '-n' '--' 'stat' '-c' '%n' '--' '/home/web1/public_html/index.php' >/dev/null 2>&1; then
if ! 'sudo' '-n' '--' 'stat' '-c' '%n' '--' '/home/web1/public_html/index.html' >/dev/null 2>&1; then
printf '%s' '<!doctype html>
<meta charset="utf-8">
<title>example.com</title>
<p>example.com is ready. Deploy your code to replace this page.</p>
' | 'sudo' '-n' '--' 'install' '-m' '0644' '-o' 'web1' '-g' 'web1' '--' '/dev/stdin' '/home/web1/public_html/index.html'
fi
fi
fi
[ "$('sudo' '-n' '--' 'stat' '-c' '%U %a' '--' '/home/web1/public_html' '/home/web1/storage' '/home/web1/tmp' '/home/web1/logs' '/home/web1/.env' 2>/dev/null)" = 'web1 755
web1 755
web1 700
web1 750
web1 600' ] || panel_fail 'step 2: verify: stat -c %U %a -- /home/web1/public_html /home/web1/storage /home/web1/tmp /home/web1/logs /home/web1/.env'

# --- 3/8 Configure the PHP 8.3 FPM pool
echo '==> 3/8 Configure the PHP 8.3 FPM pool'
if printf '%s' 'f03ce0c86a38850fd1d8a96f1bb6054c564e711997c0bb596abb9ebef5e26e28  /etc/opt/remi/php83/php-fpm.d/web1.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 &&
  printf '%s' 'ba10936668e0c3b5f28745c7354764ee0d67f516491ee3d26f72bfe9e071705a  /etc/tmpfiles.d/panel-php-fpm.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
'sudo' '-n' '--' 'install' '-d' '-m' '0755' '-o' 'root' '-g' 'root' '--' '/run/php-fpm'
printf '%s' '# Managed by Panel: the directory of the sites'\'' PHP-FPM sockets.
d /run/php-fpm 0755 root root -
' | 'sudo' '-n' '--' 'install' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/tmpfiles.d/panel-php-fpm.conf'
if 'sudo' '-n' '--' 'stat' '-c' '%n' '--' '/etc/opt/remi/php83/php-fpm.d/web1.conf' >/dev/null 2>&1; then 'sudo' '-n' '--' 'install' '-m' '0600' '--' '/etc/opt/remi/php83/php-fpm.d/web1.conf' '/etc/opt/remi/php83/php-fpm.d/web1.conf.panel-prev'; else 'sudo' '-n' '--' 'rm' '-f' '--' '/etc/opt/remi/php83/php-fpm.d/web1.conf.panel-prev'; fi
printf '%s' '; Managed by Panel: the PHP-FPM pool of example.com. Rewritten on every change.
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
' | 'sudo' '-n' '--' 'install' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/opt/remi/php83/php-fpm.d/web1.conf'
if ! 'sudo' '-n' '--' '/opt/remi/php83/root/usr/sbin/php-fpm' '-t' '--fpm-config' '/etc/opt/remi/php83/php-fpm.conf'; then
  if 'sudo' '-n' '--' 'stat' '-c' '%n' '--' '/etc/opt/remi/php83/php-fpm.d/web1.conf.panel-prev' >/dev/null 2>&1; then 'sudo' '-n' '--' 'install' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/etc/opt/remi/php83/php-fpm.d/web1.conf.panel-prev' '/etc/opt/remi/php83/php-fpm.d/web1.conf'; else 'sudo' '-n' '--' 'rm' '-f' '--' '/etc/opt/remi/php83/php-fpm.d/web1.conf'; fi
  panel_fail '/etc/opt/remi/php83/php-fpm.d/web1.conf failed its test; the previous version was put back'
fi
'sudo' '-n' '--' 'rm' '-f' '--' '/etc/opt/remi/php83/php-fpm.d/web1.conf.panel-prev'
fi
printf '%s' 'f03ce0c86a38850fd1d8a96f1bb6054c564e711997c0bb596abb9ebef5e26e28  /etc/opt/remi/php83/php-fpm.d/web1.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 3: verify: sha256sum --check --status --strict'
printf '%s' 'ba10936668e0c3b5f28745c7354764ee0d67f516491ee3d26f72bfe9e071705a  /etc/tmpfiles.d/panel-php-fpm.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 3: verify: sha256sum --check --status --strict'

# --- 4/8 Configure the nginx vhost for example.com
echo '==> 4/8 Configure the nginx vhost for example.com'
if printf '%s' '3d4d81f91bcb52a7d736e7d5f94efa96525b3bde970784774f0c5d1c48b06775  /etc/nginx/conf.d/00-panel-default.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 &&
  printf '%s' 'be758b5ffd729571bf4c0835ba4ce8ba13dccaf5c845b22e95c04625e5a99451  /etc/nginx/conf.d/example.com.conf
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
' | 'sudo' '-n' '--' 'install' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/nginx/conf.d/00-panel-default.conf'
if ! 'sudo' '-n' '--' 'nginx' '-t' '-q'; then
  if 'sudo' '-n' '--' 'stat' '-c' '%n' '--' '/etc/nginx/conf.d/00-panel-default.conf.panel-prev' >/dev/null 2>&1; then 'sudo' '-n' '--' 'install' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/etc/nginx/conf.d/00-panel-default.conf.panel-prev' '/etc/nginx/conf.d/00-panel-default.conf'; else 'sudo' '-n' '--' 'rm' '-f' '--' '/etc/nginx/conf.d/00-panel-default.conf'; fi
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
    index index.php index.html;
    charset utf-8;
    client_max_body_size 64m;
    access_log /var/log/nginx/example.com.access.log;
    error_log /var/log/nginx/example.com.error.log;
    add_header X-Content-Type-Options nosniff always;

    location ^~ /.well-known/acme-challenge/ {
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
' | 'sudo' '-n' '--' 'install' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/nginx/conf.d/example.com.conf'
if ! 'sudo' '-n' '--' 'nginx' '-t' '-q'; then
  if 'sudo' '-n' '--' 'stat' '-c' '%n' '--' '/etc/nginx/conf.d/example.com.conf.panel-prev' >/dev/null 2>&1; then 'sudo' '-n' '--' 'install' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/etc/nginx/conf.d/example.com.conf.panel-prev' '/etc/nginx/conf.d/example.com.conf'; else 'sudo' '-n' '--' 'rm' '-f' '--' '/etc/nginx/conf.d/example.com.conf'; fi
  panel_fail '/etc/nginx/conf.d/example.com.conf failed its test; the previous version was put back'
fi
'sudo' '-n' '--' 'rm' '-f' '--' '/etc/nginx/conf.d/example.com.conf.panel-prev'
fi
printf '%s' '3d4d81f91bcb52a7d736e7d5f94efa96525b3bde970784774f0c5d1c48b06775  /etc/nginx/conf.d/00-panel-default.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 4: verify: sha256sum --check --status --strict'
printf '%s' 'be758b5ffd729571bf4c0835ba4ce8ba13dccaf5c845b22e95c04625e5a99451  /etc/nginx/conf.d/example.com.conf
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 4: verify: sha256sum --check --status --strict'

# --- 5/8 Create the database
echo '==> 5/8 Create the database'
echo 'skipped: no database chosen'

# --- 6/8 Write the .env
echo '==> 6/8 Write the .env'
if printf '%s' '062f44c02f28293116e8ed89651263a06d9aa887c24a829797538c0ac55b1165  /home/web1/.env
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
printf '%s' '# Managed by Panel: edit these values in the panel; changes made here are overwritten.
APP_URL='\''http://example.com'\''
' | 'sudo' '-n' '--' 'install' '-m' '0600' '-o' 'web1' '-g' 'web1' '--' '/dev/stdin' '/home/web1/.env'
fi
printf '%s' '062f44c02f28293116e8ed89651263a06d9aa887c24a829797538c0ac55b1165  /home/web1/.env
' | 'sudo' '-n' '--' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 6: verify: sha256sum --check --status --strict'

# --- 7/8 Reload PHP-FPM and nginx
echo '==> 7/8 Reload PHP-FPM and nginx'
'sudo' '-n' '--' 'systemctl' 'reload-or-restart' '--' 'php83-php-fpm.service'
'sudo' '-n' '--' 'systemctl' 'reload-or-restart' '--' 'nginx.service'
{ for _ in $(seq 100); do 'test' '-S' '/run/php-fpm/web1.sock' && break; sleep 0.1; done; 'test' '-S' '/run/php-fpm/web1.sock'; } || panel_fail 'step 7: verify: test -S /run/php-fpm/web1.sock'
{ for _ in $(seq 100); do panel_one_of "$('curl' '-sS' '-o' '/dev/null' '--max-time' '5' '-w' '%{http_code}' '-H' 'Host: example.com' '--' 'http://127.0.0.1/' 2>/dev/null)" '200' '301' '302' '401' '403' '404' && break; sleep 0.1; done; panel_one_of "$('curl' '-sS' '-o' '/dev/null' '--max-time' '5' '-w' '%{http_code}' '-H' 'Host: example.com' '--' 'http://127.0.0.1/' 2>/dev/null)" '200' '301' '302' '401' '403' '404'; } || panel_fail 'step 7: verify: curl -sS -o /dev/null --max-time 5 -w %{http_code} -H Host: example.com -- http://127.0.0.1/'

# --- 8/8 Confirm with the panel
echo '==> 8/8 Confirm with the panel'
echo 'skipped: no panel to report to (a plan printed by `panel site plan`)'

echo 'done'
