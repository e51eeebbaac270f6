#!/usr/bin/env bash
# shellcheck disable=SC2016 # file bodies and SQL are single-quoted on purpose: nothing expands
# provision example.com (Generic PHP, PHP 8.3) as web1
# Written by the panel for alma8 with the systemd service driver. Each step checks
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

# --- 1/12 Create the system user web1
echo '==> 1/12 Create the system user web1'
if 'id' '-u' '--' 'web1' >/dev/null 2>&1 && ! 'grep' '-qxF' '-e' 'web1 of example.com' '--' '/etc/panel/made/user-web1' >/dev/null 2>&1; then
  panel_fail 'step 1: an account named web1 already exists on this server and was not made by the panel for example.com: nothing was changed; choose another user name for the site'
fi
if 'id' '-u' '--' 'web1' >/dev/null 2>&1 &&
  [ "$('stat' '-c' '%U %G %a' '--' '/home/web1' 2>/dev/null)" = 'root web1 750' ] &&
  'grep' '-qxF' '-e' 'web1 of example.com' '--' '/etc/panel/made/user-web1' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
if ! 'id' '-u' '--' 'web1' >/dev/null 2>&1; then
if ! 'test' '-d' '/etc/panel/made'; then
'install' '-d' '-Z' '-m' '0755' '-o' 'root' '-g' 'root' '--' '/etc/panel/made'
fi
printf '%s' 'web1 of example.com
' | 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/panel/made/user-web1'
'useradd' '--home-dir' '/home/web1' '--no-create-home' '--shell' '/usr/sbin/nologin' '--user-group' '--' 'web1'
fi
'install' '-d' '-Z' '-m' '0750' '-o' 'root' '-g' 'web1' '--' '/home/web1'
'usermod' '-a' '-G' 'web1' '--' 'nginx'
if 'getent' 'group' '--' 'panel-sftp' >/dev/null 2>&1; then
'usermod' '-a' '-G' 'panel-sftp' '--' 'web1'
fi
fi
'id' '-u' '--' 'web1' >/dev/null 2>&1 || panel_fail 'step 1: verify: id -u -- web1'
[ "$('stat' '-c' '%U %G %a' '--' '/home/web1' 2>/dev/null)" = 'root web1 750' ] || panel_fail 'step 1: verify: stat -c %U %G %a -- /home/web1'"; it printed: $('stat' '-c' '%U %G %a' '--' '/home/web1' 2>&1 | head -c 200)"

# --- 2/12 Create the site's directories and .env
echo '==> 2/12 Create the site'\''s directories and .env'
if [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'stat' '-L' '-c' '%U %a' '--' '/home/web1/public_html' '/home/web1/storage' '/home/web1/tmp' '/home/web1/logs' '/home/web1/.env' 2>/dev/null </dev/null)" = 'web1 755
web1 700
web1 700
web1 700
web1 600' ]; then
  echo 'skipped: already done'
else
if ! 'test' '-L' '/home/web1/public_html'; then
'install' '-d' '-Z' '-m' '0755' '-o' 'web1' '-g' 'web1' '--' '/home/web1/public_html'
fi
if ! 'test' '-L' '/home/web1/storage'; then
'install' '-d' '-Z' '-m' '0700' '-o' 'web1' '-g' 'web1' '--' '/home/web1/storage'
fi
if ! 'test' '-L' '/home/web1/tmp'; then
'install' '-d' '-Z' '-m' '0700' '-o' 'web1' '-g' 'web1' '--' '/home/web1/tmp'
fi
if ! 'test' '-L' '/home/web1/logs'; then
'install' '-d' '-Z' '-m' '0700' '-o' 'web1' '-g' 'web1' '--' '/home/web1/logs'
fi
if ! 'stat' '-c' '%n' '--' '/home/web1/.env' >/dev/null 2>&1; then
'install' '-Z' '-m' '0600' '-o' 'web1' '-g' 'web1' '--' '/dev/null' '/home/web1/.env'
fi
if ! 'test' '-L' '/home/web1/public_html'; then
if ! 'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'test' '-e' '/home/web1/public_html/index.php' '-o' '-L' '/home/web1/public_html/index.php' '-o' '-e' '/home/web1/public_html/index.html' '-o' '-L' '/home/web1/public_html/index.html' </dev/null; then
printf '%s' '<!doctype html>
<meta charset="utf-8">
<title>example.com</title>
<p>example.com is ready. Deploy your code to replace this page.</p>
' | 'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-c' 'umask 077; tmp=$(mktemp -- "$2.panel-XXXXXX") || exit 1; if cat >"$tmp" && chmod -- "$1" "$tmp" && mv -fT -- "$tmp" "$2"; then exit 0; fi; rm -f -- "$tmp"; exit 1' '--' '0644' '/home/web1/public_html/index.html'
fi
fi
fi
[ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'stat' '-L' '-c' '%U %a' '--' '/home/web1/public_html' '/home/web1/storage' '/home/web1/tmp' '/home/web1/logs' '/home/web1/.env' 2>/dev/null </dev/null)" = 'web1 755
web1 700
web1 700
web1 700
web1 600' ] || panel_fail 'step 2: verify: stat -L -c %U %a -- /home/web1/public_html /home/web1/storage /home/web1/tmp /home/web1/logs /home/web1/.env'"; it printed: $('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'stat' '-L' '-c' '%U %a' '--' '/home/web1/public_html' '/home/web1/storage' '/home/web1/tmp' '/home/web1/logs' '/home/web1/.env' </dev/null 2>&1 | head -c 200)"

# --- 3/12 Label the site's files for SELinux (s0:c100,c101)
echo '==> 3/12 Label the site'\''s files for SELinux (s0:c100,c101)'
if ! 'selinuxenabled' >/dev/null 2>&1; then
  echo 'skipped: SELinux disabled'
else
if [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1' 2>/dev/null </dev/null)" = 'system_u:object_r:site_content_t:s0:c100,c101' ] &&
  [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/storage' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_rw_t:s0:c100,c101' ] &&
  [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/.env' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_env_t:s0:c100,c101' ] &&
  [ "$('restorecon' '-F' '-n' '-v' '--' '/home/web1' 2>/dev/null)" = '' ] &&
  [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-c' 'shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec restorecon -R -F -x -n -v -- "${entries[@]}"; fi; exec restorecon -R -F -x -- "${entries[@]}"' '--' '/home/web1' 'check' 2>/dev/null </dev/null)" = '' ]; then
  echo 'skipped: already done'
else
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1' 2>/dev/null </dev/null)" = 'system_u:object_r:site_content_t:s0:c100,c101' ]; then
printf '%s' 'fcontext -a -t site_content_t -r s0:c100,c101 '\''/home/web1(/.*)?'\''
fcontext -a -t laravel_app_rw_t -r s0:c100,c101 '\''/home/web1/(storage|tmp|logs)(/.*)?'\''
fcontext -a -t laravel_app_env_t -r s0:c100,c101 '\''/home/web1/\.env'\''
' | 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'import' '-f' '-' || 'true'
fi
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1' 2>/dev/null </dev/null)" = 'system_u:object_r:site_content_t:s0:c100,c101' ]; then
'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-a' '-t' 'site_content_t' '-r' 's0:c100,c101' '--' '/home/web1(/.*)?' || 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-m' '-t' 'site_content_t' '-r' 's0:c100,c101' '--' '/home/web1(/.*)?'
fi
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/storage' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_rw_t:s0:c100,c101' ]; then
'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-a' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c101' '--' '/home/web1/(storage|tmp|logs)(/.*)?' || 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-m' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c101' '--' '/home/web1/(storage|tmp|logs)(/.*)?'
fi
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/.env' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_env_t:s0:c100,c101' ]; then
'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-a' '-t' 'laravel_app_env_t' '-r' 's0:c100,c101' '--' '/home/web1/\.env' || 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-m' '-t' 'laravel_app_env_t' '-r' 's0:c100,c101' '--' '/home/web1/\.env'
fi
'restorecon' '-F' '--' '/home/web1'
'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-c' 'shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec restorecon -R -F -x -n -v -- "${entries[@]}"; fi; exec restorecon -R -F -x -- "${entries[@]}"' '--' '/home/web1' </dev/null
fi
[ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1' 2>/dev/null </dev/null)" = 'system_u:object_r:site_content_t:s0:c100,c101' ] || panel_fail 'step 3: verify: matchpathcon -n -- /home/web1'"; it printed: $('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1' </dev/null 2>&1 | head -c 200)"
[ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/storage' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_rw_t:s0:c100,c101' ] || panel_fail 'step 3: verify: matchpathcon -n -- /home/web1/storage'"; it printed: $('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/storage' </dev/null 2>&1 | head -c 200)"
[ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/.env' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_env_t:s0:c100,c101' ] || panel_fail 'step 3: verify: matchpathcon -n -- /home/web1/.env'"; it printed: $('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/.env' </dev/null 2>&1 | head -c 200)"
[ "$('restorecon' '-F' '-n' '-v' '--' '/home/web1' 2>/dev/null)" = '' ] || panel_fail 'step 3: verify: restorecon -F -n -v -- /home/web1'"; it printed: $('restorecon' '-F' '-n' '-v' '--' '/home/web1' 2>&1 | head -c 200)"
[ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-c' 'shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec restorecon -R -F -x -n -v -- "${entries[@]}"; fi; exec restorecon -R -F -x -- "${entries[@]}"' '--' '/home/web1' 'check' 2>/dev/null </dev/null)" = '' ] || panel_fail 'step 3: verify: bash -c shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec re'"; it printed: $('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-c' 'shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec restorecon -R -F -x -n -v -- "${entries[@]}"; fi; exec restorecon -R -F -x -- "${entries[@]}"' '--' '/home/web1' 'check' </dev/null 2>&1 | head -c 200)"
fi

# --- 4/12 Configure the PHP 8.3 FPM pool
echo '==> 4/12 Configure the PHP 8.3 FPM pool'
if printf '%s' '3c034f0374fe03306c4c8aa176448052db1a2763609aa87a4740cedc7bf8c15d  /etc/panel/php-fpm/web1.conf
ba10936668e0c3b5f28745c7354764ee0d67f516491ee3d26f72bfe9e071705a  /etc/tmpfiles.d/panel-php-fpm.conf
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 &&
  printf '%s' '2e9e29d65c2a61ae4d58a7feb22cbbc2e135b222559e595316f0b87dc0e4e1c1  /etc/systemd/system/panel-php-fpm-web1.service
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
if ! 'test' '-d' '/run/php-fpm' '-a' '-d' '/etc/panel/php-fpm'; then
'install' '-d' '-Z' '-m' '0755' '-o' 'root' '-g' 'root' '--' '/run/php-fpm' '/etc/panel/php-fpm'
fi
if ! 'test' '-d' '/var/log/panel/php-fpm'; then
'install' '-d' '-Z' '-m' '0750' '-o' 'root' '-g' 'root' '--' '/var/log/panel/php-fpm'
fi
printf '%s' '# Managed by Panel: the directory of the sites'\'' PHP-FPM sockets.
d /run/php-fpm 0755 root root -
' | 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/tmpfiles.d/panel-php-fpm.conf'
if 'test' '-e' '/etc/panel/php-fpm/web1.conf'; then 'install' '-m' '0600' '--' '/etc/panel/php-fpm/web1.conf' '/etc/panel/php-fpm/web1.conf.panel-prev'; elif 'test' '-e' '/etc/panel/php-fpm/web1.conf.panel-prev'; then 'rm' '-f' '--' '/etc/panel/php-fpm/web1.conf.panel-prev'; fi
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
; A request still running after five seconds has its PHP backtrace written by the master
; (root'\''s file, beside the master'\''s own log: never one in the site'\''s home).
request_slowlog_timeout = 5s
slowlog = /var/log/panel/php-fpm/web1.slow.log
' | 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/panel/php-fpm/web1.conf'
if ! '/opt/remi/php83/root/usr/sbin/php-fpm' '-t' '--fpm-config' '/etc/panel/php-fpm/web1.conf'; then
  if 'test' '-e' '/etc/panel/php-fpm/web1.conf.panel-prev'; then 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/etc/panel/php-fpm/web1.conf.panel-prev' '/etc/panel/php-fpm/web1.conf'; else 'rm' '-f' '--' '/etc/panel/php-fpm/web1.conf'; fi
  panel_fail '/etc/panel/php-fpm/web1.conf failed its test; the previous version was put back'
fi
if 'test' '-e' '/etc/panel/php-fpm/web1.conf.panel-prev'; then 'rm' '-f' '--' '/etc/panel/php-fpm/web1.conf.panel-prev'; fi
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
' | 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/systemd/system/panel-php-fpm-web1.service'
'systemctl' 'daemon-reload'
fi
printf '%s' '3c034f0374fe03306c4c8aa176448052db1a2763609aa87a4740cedc7bf8c15d  /etc/panel/php-fpm/web1.conf
ba10936668e0c3b5f28745c7354764ee0d67f516491ee3d26f72bfe9e071705a  /etc/tmpfiles.d/panel-php-fpm.conf
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 4: verify: sha256sum --check --status --strict'
printf '%s' '2e9e29d65c2a61ae4d58a7feb22cbbc2e135b222559e595316f0b87dc0e4e1c1  /etc/systemd/system/panel-php-fpm-web1.service
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 4: verify: sha256sum --check --status --strict'

# --- 5/12 Configure the nginx vhost for example.com
echo '==> 5/12 Configure the nginx vhost for example.com'
if printf '%s' '3d4d81f91bcb52a7d736e7d5f94efa96525b3bde970784774f0c5d1c48b06775  /etc/nginx/conf.d/00-panel-default.conf
d1433361fc61db60628af5aeed1a93acc4e370e844953ac886715f7b10ab7e06  /etc/nginx/conf.d/example.com.conf
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
' | 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/nginx/conf.d/example.com.conf'
if ! 'nginx' '-t' '-q'; then
  if 'test' '-e' '/etc/nginx/conf.d/example.com.conf.panel-prev'; then 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/etc/nginx/conf.d/example.com.conf.panel-prev' '/etc/nginx/conf.d/example.com.conf'; else 'rm' '-f' '--' '/etc/nginx/conf.d/example.com.conf'; fi
  panel_fail '/etc/nginx/conf.d/example.com.conf failed its test; the previous version was put back'
fi
if 'test' '-e' '/etc/nginx/conf.d/example.com.conf.panel-prev'; then 'rm' '-f' '--' '/etc/nginx/conf.d/example.com.conf.panel-prev'; fi
'systemctl' 'reload-or-restart' '--' 'nginx.service'
fi
printf '%s' '3d4d81f91bcb52a7d736e7d5f94efa96525b3bde970784774f0c5d1c48b06775  /etc/nginx/conf.d/00-panel-default.conf
d1433361fc61db60628af5aeed1a93acc4e370e844953ac886715f7b10ab7e06  /etc/nginx/conf.d/example.com.conf
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 5: verify: sha256sum --check --status --strict'

# --- 6/12 Create the database
echo '==> 6/12 Create the database'
echo 'skipped: no database chosen'

# --- 7/12 Write the .env
echo '==> 7/12 Write the .env'
if printf '%s' '34483a3c9125fafa712623e2d772608ef4f2cd111a3a735ddb7f2698edb658a8  /home/web1/.env
' | 'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
printf '%s' '# Managed by Panel: edit these values in the panel; changes made here are overwritten.
APP_URL="http://example.com"
' | 'install' '-Z' '-m' '0600' '-o' 'web1' '-g' 'web1' '--' '/dev/stdin' '/home/web1/.env'
if 'selinuxenabled' >/dev/null 2>&1; then
'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'restorecon' '-R' '-F' '-x' '--' '/home/web1/.env' </dev/null
fi
fi
printf '%s' '34483a3c9125fafa712623e2d772608ef4f2cd111a3a735ddb7f2698edb658a8  /home/web1/.env
' | 'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 7: verify: sha256sum --check --status --strict'

# --- 8/12 Start PHP-FPM and check the site answers
echo '==> 8/12 Start PHP-FPM and check the site answers'
'systemctl' 'enable' '--quiet' '--' 'panel-php-fpm-web1.service'
'systemctl' 'reload-or-restart' '--' 'panel-php-fpm-web1.service'
if ! { panel_tries=0; until 'test' '-S' '/run/php-fpm/web1.sock'; do panel_tries=$((panel_tries + 1)); [ "$panel_tries" -lt 500 ] || break; sleep 0.02; done; [ "$panel_tries" -lt 500 ]; }; then
  'tail' '-n' '20' '--' '/var/log/nginx/error.log' >&2 2>&1 || true
  'pgrep' '-a' '--' 'nginx' >&2 2>&1 || true
  'cat' '--' '/run/nginx.pid' >&2 2>&1 || true
  panel_fail 'step 8: verify: test -S /run/php-fpm/web1.sock'
fi
if ! { panel_tries=0; until panel_one_of "$('panel_http_status' 'example.com' 2>/dev/null)" '200' '301' '302' '401' '403' '404'; do panel_tries=$((panel_tries + 1)); [ "$panel_tries" -lt 500 ] || break; sleep 0.02; done; [ "$panel_tries" -lt 500 ]; }; then
  'tail' '-n' '20' '--' '/var/log/nginx/error.log' >&2 2>&1 || true
  'pgrep' '-a' '--' 'nginx' >&2 2>&1 || true
  'cat' '--' '/run/nginx.pid' >&2 2>&1 || true
  panel_fail 'step 8: verify: panel_http_status example.com'"; it printed: $('panel_http_status' 'example.com' 2>&1 | head -c 200)"
fi

# --- 9/12 Stop the cron jobs of example.com
echo '==> 9/12 Stop the cron jobs of example.com'
'rm' '-rf' '--' '/etc/panel/site-jobs/web1'
if 'test' '-x' '/usr/local/libexec/panel-site-job'; then
'/usr/local/libexec/panel-site-job' '--' 'prune' 'web1'
fi

# --- 10/12 Stop the workers of example.com
echo '==> 10/12 Stop the workers of example.com'
'rm' '-rf' '--' '/etc/panel/site-workers/web1'
if 'test' '-x' '/usr/local/libexec/panel-site-job'; then
'/usr/local/libexec/panel-site-job' '--' 'workers' 'web1' 'systemd'
fi

# --- 11/12 Rotate the logs of example.com
echo '==> 11/12 Rotate the logs of example.com'
if ! 'test' '-d' '/etc/logrotate.d'; then
  echo 'skipped: logrotate is not installed'
else
if printf '%s' '1fda9ba3c498f1d0d2af9926ad3067d54767791975cb2072dad5950d568fca30  /etc/logrotate.d/panel-site-web1
b940f024477785da719096ae0f0ce45a7f9237f126aaa63b8af36a8fe37880fd  /etc/logrotate.d/panel-php-fpm
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
printf '%s' '# Managed by Panel: the logs in example.com'\''s home, rotated as its own user.
/home/web1/logs/*.log /home/web1/logs/workers/*.log {
    su web1 web1
    weekly
    maxsize 50M
    rotate 8
    compress
    delaycompress
    missingok
    notifempty
    copytruncate
}
' | 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/logrotate.d/panel-site-web1'
printf '%s' '# Managed by Panel: the sites'\'' PHP-FPM masters'\'' own logs.
/var/log/panel/php-fpm/*.log {
    weekly
    maxsize 50M
    rotate 8
    compress
    delaycompress
    missingok
    notifempty
    copytruncate
}
' | 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/logrotate.d/panel-php-fpm'
fi
printf '%s' '1fda9ba3c498f1d0d2af9926ad3067d54767791975cb2072dad5950d568fca30  /etc/logrotate.d/panel-site-web1
b940f024477785da719096ae0f0ce45a7f9237f126aaa63b8af36a8fe37880fd  /etc/logrotate.d/panel-php-fpm
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 11: verify: sha256sum --check --status --strict'
fi

# --- 12/12 Confirm with the panel
echo '==> 12/12 Confirm with the panel'
echo 'skipped: no panel to report to (a plan printed by `panel site plan`)'

echo 'done'
