#!/usr/bin/env bash
# shellcheck disable=SC2016 # file bodies and SQL are single-quoted on purpose: nothing expands
# provision example.com (WordPress, PHP 8.3) as web1
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

# --- 1/14 Create the system user web1
echo '==> 1/14 Create the system user web1'
if 'id' '-u' '--' 'web1' >/dev/null 2>&1 && ! 'grep' '-qxF' '-e' 'web1 of example.com' '--' '/etc/panel/made/user-web1' >/dev/null 2>&1; then
  panel_fail 'step 1: an account named web1 already exists on this server and was not made by the panel for example.com: nothing was changed; choose another user name for the site'
fi
if panel_one_of "$(printf '%s' 'SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '\''example_com'\'')
     + (SELECT COUNT(*) FROM mysql.user WHERE User = '\''example_com'\'' AND Host = '\''localhost'\'');
' | 'mariadb' '--batch' '--skip-column-names' 2>/dev/null)" '1' '2' && ! 'grep' '-qxF' '-e' 'example_com of example.com' '--' '/etc/panel/made/mariadb-example_com' >/dev/null 2>&1; then
  panel_fail 'step 1: a MariaDB database or user named example_com already exists on this server and was not made by the panel for example.com: nothing was changed; choose another database name'
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

# --- 2/14 Create the site's directories and .env
echo '==> 2/14 Create the site'\''s directories and .env'
if [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'stat' '-L' '-c' '%U %a' '--' '/home/web1/public_html' '/home/web1/uploads' '/home/web1/storage' '/home/web1/tmp' '/home/web1/logs' '/home/web1/.env' 2>/dev/null </dev/null)" = 'web1 755
web1 755
web1 700
web1 700
web1 700
web1 600' ]; then
  echo 'skipped: already done'
else
if ! 'test' '-L' '/home/web1/public_html'; then
'install' '-d' '-Z' '-m' '0755' '-o' 'web1' '-g' 'web1' '--' '/home/web1/public_html'
fi
if ! 'test' '-L' '/home/web1/uploads'; then
'install' '-d' '-Z' '-m' '0755' '-o' 'web1' '-g' 'web1' '--' '/home/web1/uploads'
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
[ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'stat' '-L' '-c' '%U %a' '--' '/home/web1/public_html' '/home/web1/uploads' '/home/web1/storage' '/home/web1/tmp' '/home/web1/logs' '/home/web1/.env' 2>/dev/null </dev/null)" = 'web1 755
web1 755
web1 700
web1 700
web1 700
web1 600' ] || panel_fail 'step 2: verify: stat -L -c %U %a -- /home/web1/public_html /home/web1/uploads /home/web1/storage /home/web1/tmp /home/web1/logs /home/we'"; it printed: $('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'stat' '-L' '-c' '%U %a' '--' '/home/web1/public_html' '/home/web1/uploads' '/home/web1/storage' '/home/web1/tmp' '/home/web1/logs' '/home/web1/.env' </dev/null 2>&1 | head -c 200)"

# --- 3/14 Label the site's files for SELinux (s0:c100,c101)
echo '==> 3/14 Label the site'\''s files for SELinux (s0:c100,c101)'
if ! 'selinuxenabled' >/dev/null 2>&1; then
  echo 'skipped: SELinux disabled'
else
if [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1' 2>/dev/null </dev/null)" = 'system_u:object_r:site_content_t:s0:c100,c101' ] &&
  [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/storage' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_rw_t:s0:c100,c101' ] &&
  [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/uploads' 2>/dev/null </dev/null)" = 'system_u:object_r:site_upload_t:s0:c100,c101' ] &&
  [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/.env' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_env_t:s0:c100,c101' ] &&
  [ "$('restorecon' '-F' '-n' '-v' '--' '/home/web1' 2>/dev/null)" = '' ] &&
  [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-c' 'shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec restorecon -R -F -x -n -v -- "${entries[@]}"; fi; exec restorecon -R -F -x -- "${entries[@]}"' '--' '/home/web1' 'check' 2>/dev/null </dev/null)" = '' ]; then
  echo 'skipped: already done'
else
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1' 2>/dev/null </dev/null)" = 'system_u:object_r:site_content_t:s0:c100,c101' ]; then
printf '%s' 'fcontext -a -t site_content_t -r s0:c100,c101 '\''/home/web1(/.*)?'\''
fcontext -a -t laravel_app_rw_t -r s0:c100,c101 '\''/home/web1/(storage|tmp|logs)(/.*)?'\''
fcontext -a -t site_upload_t -r s0:c100,c101 '\''/home/web1/(uploads|public_html/wp-content/uploads)(/.*)?'\''
fcontext -a -t laravel_app_env_t -r s0:c100,c101 '\''/home/web1/\.env'\''
' | 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'import' '-f' '-' || 'true'
fi
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1' 2>/dev/null </dev/null)" = 'system_u:object_r:site_content_t:s0:c100,c101' ]; then
'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-a' '-t' 'site_content_t' '-r' 's0:c100,c101' '--' '/home/web1(/.*)?' || 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-m' '-t' 'site_content_t' '-r' 's0:c100,c101' '--' '/home/web1(/.*)?'
fi
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/storage' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_rw_t:s0:c100,c101' ]; then
'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-a' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c101' '--' '/home/web1/(storage|tmp|logs)(/.*)?' || 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-m' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c101' '--' '/home/web1/(storage|tmp|logs)(/.*)?'
fi
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/uploads' 2>/dev/null </dev/null)" = 'system_u:object_r:site_upload_t:s0:c100,c101' ]; then
'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-a' '-t' 'site_upload_t' '-r' 's0:c100,c101' '--' '/home/web1/(uploads|public_html/wp-content/uploads)(/.*)?' || 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-m' '-t' 'site_upload_t' '-r' 's0:c100,c101' '--' '/home/web1/(uploads|public_html/wp-content/uploads)(/.*)?'
fi
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/.env' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_env_t:s0:c100,c101' ]; then
'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-a' '-t' 'laravel_app_env_t' '-r' 's0:c100,c101' '--' '/home/web1/\.env' || 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-m' '-t' 'laravel_app_env_t' '-r' 's0:c100,c101' '--' '/home/web1/\.env'
fi
'restorecon' '-F' '--' '/home/web1'
'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-c' 'shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec restorecon -R -F -x -n -v -- "${entries[@]}"; fi; exec restorecon -R -F -x -- "${entries[@]}"' '--' '/home/web1' </dev/null
fi
[ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1' 2>/dev/null </dev/null)" = 'system_u:object_r:site_content_t:s0:c100,c101' ] || panel_fail 'step 3: verify: matchpathcon -n -- /home/web1'"; it printed: $('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1' </dev/null 2>&1 | head -c 200)"
[ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/storage' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_rw_t:s0:c100,c101' ] || panel_fail 'step 3: verify: matchpathcon -n -- /home/web1/storage'"; it printed: $('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/storage' </dev/null 2>&1 | head -c 200)"
[ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/uploads' 2>/dev/null </dev/null)" = 'system_u:object_r:site_upload_t:s0:c100,c101' ] || panel_fail 'step 3: verify: matchpathcon -n -- /home/web1/uploads'"; it printed: $('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/uploads' </dev/null 2>&1 | head -c 200)"
[ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/.env' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_env_t:s0:c100,c101' ] || panel_fail 'step 3: verify: matchpathcon -n -- /home/web1/.env'"; it printed: $('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/.env' </dev/null 2>&1 | head -c 200)"
[ "$('restorecon' '-F' '-n' '-v' '--' '/home/web1' 2>/dev/null)" = '' ] || panel_fail 'step 3: verify: restorecon -F -n -v -- /home/web1'"; it printed: $('restorecon' '-F' '-n' '-v' '--' '/home/web1' 2>&1 | head -c 200)"
[ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-c' 'shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec restorecon -R -F -x -n -v -- "${entries[@]}"; fi; exec restorecon -R -F -x -- "${entries[@]}"' '--' '/home/web1' 'check' 2>/dev/null </dev/null)" = '' ] || panel_fail 'step 3: verify: bash -c shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec re'"; it printed: $('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-c' 'shopt -s dotglob nullglob; entries=("$1"/*); ((${#entries[@]})) || exit 0; if [ "${2:-}" = check ]; then exec restorecon -R -F -x -n -v -- "${entries[@]}"; fi; exec restorecon -R -F -x -- "${entries[@]}"' '--' '/home/web1' 'check' </dev/null 2>&1 | head -c 200)"
fi

# --- 4/14 Configure the PHP 8.3 FPM pool
echo '==> 4/14 Configure the PHP 8.3 FPM pool'
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

# --- 5/14 Configure the nginx vhost for example.com
echo '==> 5/14 Configure the nginx vhost for example.com'
if printf '%s' '3d4d81f91bcb52a7d736e7d5f94efa96525b3bde970784774f0c5d1c48b06775  /etc/nginx/conf.d/00-panel-default.conf
2def1e213e05f14bee2d779eb1361356d9180c8b7c353f9c5e115c2fffe3c589  /etc/nginx/conf.d/example.com.conf
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
'install' '-d' '-Z' '-m' '0700' '-o' 'nginx' '-g' 'root' '--' '/var/cache/nginx/panel/web1'
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
printf '%s' '# Managed by Panel: example.com (WordPress). Rewritten on every change; edits are lost.
fastcgi_cache_path /var/cache/nginx/panel/web1 levels=1:2 keys_zone=panel_web1:10m max_size=256m inactive=60m use_temp_path=off;

server {
    listen 80;
    listen [::]:80;
    server_name example.com www.example.com blog.example.net;
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

    # Never cache what is personal or changing: POSTs, queries, admin, logged-in users.
    set $panel_skip_cache 0;
    if ($request_method = POST) { set $panel_skip_cache 1; }
    if ($query_string != "") { set $panel_skip_cache 1; }
    if ($request_uri ~* "/wp-admin/|/xmlrpc\.php|wp-.*\.php|/feed/|sitemap(_index)?\.xml") { set $panel_skip_cache 1; }
    if ($http_cookie ~* "comment_author|wordpress_[a-f0-9]+|wp-postpass|wordpress_no_cache|wordpress_logged_in|woocommerce_items_in_cart") { set $panel_skip_cache 1; }

    location / {
        try_files $uri $uri/ /index.php?$args;
    }
    # Uploaded files are data, never code.
    location ~* /(?:uploads|files)/.*\.php$ {
        deny all;
    }
    location ~ \.php$ {
        try_files $uri =404;
        fastcgi_pass unix:/run/php-fpm/web1.sock;
        include fastcgi_params;
        fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;
        fastcgi_param DOCUMENT_ROOT $realpath_root;
        fastcgi_param HTTP_PROXY "";
        fastcgi_cache panel_web1;
        fastcgi_cache_key "$scheme$request_method$host$request_uri";
        fastcgi_cache_valid 200 301 302 60m;
        fastcgi_cache_bypass $panel_skip_cache;
        fastcgi_no_cache $panel_skip_cache;
        add_header X-Cache $upstream_cache_status always;
        add_header X-Content-Type-Options nosniff always;
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
2def1e213e05f14bee2d779eb1361356d9180c8b7c353f9c5e115c2fffe3c589  /etc/nginx/conf.d/example.com.conf
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 5: verify: sha256sum --check --status --strict'

# --- 6/14 Create the MariaDB database example_com
echo '==> 6/14 Create the MariaDB database example_com'
if 'grep' '-qxF' '-e' 'example_com of example.com' '--' '/etc/panel/made/mariadb-example_com' >/dev/null 2>&1 &&
  [ "$(printf '%s' 'SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '\''example_com'\'')
     + (SELECT COUNT(*) FROM mysql.user WHERE User = '\''example_com'\'' AND Host = '\''localhost'\'');
' | 'mariadb' '--batch' '--skip-column-names' 2>/dev/null)" = '2' ]; then
  echo 'skipped: already done'
else
if ! 'test' '-d' '/etc/panel/made'; then
'install' '-d' '-Z' '-m' '0755' '-o' 'root' '-g' 'root' '--' '/etc/panel/made'
fi
printf '%s' 'example_com of example.com
' | 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/panel/made/mariadb-example_com'
printf '%s' 'CREATE DATABASE IF NOT EXISTS `example_com` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '\''example_com'\''@'\''localhost'\'' IDENTIFIED BY '\''SnapshotPassw0rdSnapshotPassw0rd'\'';
ALTER USER '\''example_com'\''@'\''localhost'\'' IDENTIFIED BY '\''SnapshotPassw0rdSnapshotPassw0rd'\'';
GRANT ALL PRIVILEGES ON `example_com`.* TO '\''example_com'\''@'\''localhost'\'';
FLUSH PRIVILEGES;
' | 'mariadb' '--batch' '--skip-column-names'
fi
[ "$(printf '%s' 'SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '\''example_com'\'')
     + (SELECT COUNT(*) FROM mysql.user WHERE User = '\''example_com'\'' AND Host = '\''localhost'\'');
' | 'mariadb' '--batch' '--skip-column-names' 2>/dev/null)" = '2' ] || panel_fail 'step 6: verify: mariadb --batch --skip-column-names'

# --- 7/14 Write the .env
echo '==> 7/14 Write the .env'
if printf '%s' '1e4af4d16343415f27d124b3ecf4b27e9561e66d1527ba37f729923da237240f  /home/web1/.env
' | 'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
printf '%s' '# Managed by Panel: edit these values in the panel; changes made here are overwritten.
APP_URL="http://example.com"
DB_CONNECTION="mysql"
DB_HOST="localhost"
DB_PORT="3306"
DB_DATABASE="example_com"
DB_USERNAME="example_com"
DB_PASSWORD="SnapshotPassw0rdSnapshotPassw0rd"
DISABLE_WP_CRON="true"
' | 'install' '-Z' '-m' '0600' '-o' 'web1' '-g' 'web1' '--' '/dev/stdin' '/home/web1/.env'
if 'selinuxenabled' >/dev/null 2>&1; then
'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'restorecon' '-R' '-F' '-x' '--' '/home/web1/.env' </dev/null
fi
fi
printf '%s' '1e4af4d16343415f27d124b3ecf4b27e9561e66d1527ba37f729923da237240f  /home/web1/.env
' | 'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 7: verify: sha256sum --check --status --strict'

# --- 8/14 Start PHP-FPM and check the site answers
echo '==> 8/14 Start PHP-FPM and check the site answers'
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

# --- 9/14 Install the site job runner
echo '==> 9/14 Install the site job runner'
if printf '%s' 'f3603bf0198c00dc0fb0aa40e2f3d6a3c6b8a950fd45f9b5a3bce74e5ce54744  /usr/local/libexec/panel-site-job
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 &&
  [ "$('readlink' '--' '/usr/local/libexec/panel-php/8.3/php' 2>/dev/null)" = '/opt/remi/php83/root/usr/bin/php' ]; then
  echo 'skipped: already done'
else
'install' '-d' '-Z' '-m' '0755' '-o' 'root' '-g' 'root' '--' '/usr/local/libexec/panel-php/8.3'
printf '%s' '#!/bin/bash
# Managed by Panel: runs sites'\'' cron jobs and workers as their sites'\'' own users. Installed by
# the panel at /usr/local/libexec/panel-site-job (root'\''s, 0755; on SELinux nodes labelled as the
# entry into a site'\''s job domain). What a job or worker runs is in root'\''s own files under
# /etc/panel/site-jobs/USER (ID.cmd: the command; ID.job: its schedule, PHP version and whether
# it is enabled) and /etc/panel/site-workers/USER (ID.cmd; ID.worker: processes, restart policy,
# stop signal and timeout, PHP version), readable by the site'\''s group and by no one else;
# nothing is read from a site'\''s home as root.
#
#   panel-site-job run USER ID    as USER (systemd'\''s User=, or the runner below): run one job in
#                                 the site'\''s home with its .env and PHP, keep its exit code and
#                                 the tail of its output in ~/logs/cron/
#   panel-site-job start          as root, where no systemd runs: start the minute runner
#   panel-site-job tick           the minute runner itself (root): each minute, start the jobs
#                                 that are due, each as its site'\''s user
#   panel-site-job prune USER     as root, with systemd: stop and remove the timers of USER'\''s
#                                 jobs that no longer have files
#   panel-site-job worker USER ID N
#                                 as USER: become process N of a worker (its output appended to
#                                 ~/logs/workers/ID.log)
#   panel-site-job workers USER systemd|direct
#                                 as root: make USER'\''s running workers what the files say: stop
#                                 every process (each with its signal, killed after its timeout),
#                                 remove what has no file, start the rest
#   panel-site-job supervise USER ID N
#                                 as root, where no systemd runs: keep process N of a worker
#                                 running by its restart policy (the pid files are root'\''s, in
#                                 /run/panel-site-workers/USER)
#   panel-site-job status systemd|direct HOME ID:N...
#                                 as the site'\''s user: each process'\''s state, pid and seconds up,
#                                 and the tail of each worker'\''s output in base64
set -uo pipefail
JOBS=/etc/panel/site-jobs
PIDFILE=/run/panel-site-jobs.pid
# Held by the one minute runner for its whole life (root'\''s; a second one started at the same
# moment finds it taken and leaves).
LOCKFILE=/run/panel-site-jobs.lock
UNITS=/etc/systemd/system
WORKERS=/etc/panel/site-workers
WORKER_RUN=/run/panel-site-workers
# The tail of a run'\''s output that is kept (the rest is dropped as it is written).
KEEP=16384

name_ok() { [[ $1 =~ ^[a-z_][a-z0-9_-]{0,31}$ ]]; }
id_ok() { [[ $1 =~ ^[0-9A-Z]{26}$ ]]; }
# A process number of a worker (1-20).
n_ok() { [[ $1 =~ ^[1-9][0-9]?$ ]] && (($1 <= 20)); }

# A field of a job file (KEY=VALUE lines).
job_field() {
  local key value
  while IFS='\''='\'' read -r key value; do
    if [[ $key == "$2" ]]; then
      printf '\''%s'\'' "$value"
      return 0
    fi
  done <"$1"
  return 1
}

# The site'\''s .env as the panel writes it (KEY="value", with \\ \" \n \r escaped), into the array
# ENV_VARS as KEY=value words for `env`, without running it: no line of it is ever evaluated,
# and no variable of this script is touched. At most 1 MiB of it is read.
ENV_VARS=()
load_env() {
  local line key value out rest c
  [[ -f $1 ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    key=${BASH_REMATCH[1]}
    value=${BASH_REMATCH[2]}
    if [[ ${#value} -ge 2 && $value == \"*\" ]]; then
      value=${value:1:${#value}-2}
      out=
      while [[ $value == *\\* ]]; do
        out+=${value%%\\*}
        rest=${value#*\\}
        c=${rest:0:1}
        case $c in
        n) c=$'\''\n'\'' ;;
        r) c=$'\''\r'\'' ;;
        esac
        out+=$c
        value=${rest:1}
      done
      value=$out$value
    elif [[ ${#value} -ge 2 && $value == "'\''"*"'\''" ]]; then
      value=${value:1:${#value}-2}
    fi
    ENV_VARS+=("$key=$value")
  done < <(head -c 1048576 -- "$1")
}

# Refuse to act as anyone but USER (and never as root).
as_site_user() {
  if [[ $(id -u) == 0 || $(id -un) != "$1" ]]; then
    echo "panel-site-job: a site'\''s jobs and workers run as the site'\''s user ($1), not as $(id -un)" >&2
    exit 2
  fi
}

# The site'\''s .env into ENV_VARS and its PATH, with the site'\''s PHP (version $1) first, into
# SITE_PATH (on the .env'\''s PATH when it sets one).
SITE_PATH=
site_env() {
  local var
  SITE_PATH=$PATH
  load_env "$HOME/.env"
  for var in "${ENV_VARS[@]}"; do
    if [[ $var == PATH=* ]]; then SITE_PATH=${var#PATH=}; fi
  done
  if [[ $1 =~ ^[0-9]\.[0-9]$ ]]; then SITE_PATH="/usr/local/libexec/panel-php/$1:$SITE_PATH"; fi
}

run() {
  local user=$1 id=$2
  if ! name_ok "$user" || ! id_ok "$id"; then
    echo "panel-site-job: bad arguments" >&2
    exit 2
  fi
  as_site_user "$user"
  local dir=$JOBS/$user command php
  command=$(<"$dir/$id.cmd") || exit 2
  php=$(job_field "$dir/$id.job" php) || php=
  cd -- "$HOME" || exit 2
  local logs=$HOME/logs/cron
  mkdir -p -- "$logs" || exit 2
  # One run at a time: a run still going when the next is due makes the next one skip.
  exec 9>>"$logs/$id.lock"
  if ! flock -n 9; then
    echo "panel-site-job: the previous run of $id is still going; this one is skipped" >&2
    exit 0
  fi
  site_env "$php"
  local start code
  start=$(date +%s)
  printf '\''running %s\n'\'' "$start" >"$logs/$id.status.tmp" && mv -f -- "$logs/$id.status.tmp" "$logs/$id.status"
  env -- "${ENV_VARS[@]}" "PATH=$SITE_PATH" bash -c "$command" </dev/null 2>&1 9>&- | tail -c "$KEEP" >"$logs/$id.out.tmp"
  code=${PIPESTATUS[0]}
  mv -f -- "$logs/$id.out.tmp" "$logs/$id.out"
  printf '\''%s %s %s\n'\'' "$code" "$start" "$(date +%s)" >"$logs/$id.status.tmp" && mv -f -- "$logs/$id.status.tmp" "$logs/$id.status"
  exit "$code"
}

# In cron'\''s sense: VALUE is in FIELD (`*`, or a comma list).
in_field() { [[ $1 == '\''*'\'' || ",$1," == *",$2,"* ]]; }

due() {
  local file=$1 minute hour dom month dow enabled
  enabled=$(job_field "$file" enabled) || return 1
  [[ $enabled == 1 ]] || return 1
  minute=$(job_field "$file" minute) && hour=$(job_field "$file" hour) &&
    dom=$(job_field "$file" dom) && month=$(job_field "$file" month) &&
    dow=$(job_field "$file" dow) || return 1
  in_field "$minute" "$2" && in_field "$hour" "$3" && in_field "$month" "$5" || return 1
  # Cron'\''s rule: with both day fields restricted, either one matching is enough.
  if [[ $(job_field "$file" days) == or ]]; then
    in_field "$dom" "$4" || in_field "$dow" "$6"
  else
    in_field "$dom" "$4" && in_field "$dow" "$6"
  fi
}

tick() {
  local last='\'''\'' now minute hour dom month dow file user id home uid
  exec 8>"$LOCKFILE"
  flock -n 8 || exit 0
  cd / || exit 1
  while :; do
    sleep "$((60 - 10#$(date -u +%S)))"
    # One reading of the clock for the minute and its fields.
    read -r now minute hour dom month dow < <(date -u '\''+%Y%m%d%H%M %-M %-H %-d %-m %w'\'')
    # Woken a moment early, still in the minute just handled: wait for the next.
    [[ $now == "$last" ]] && continue
    last=$now
    for file in "$JOBS"/*/*.job; do
      [[ -f $file ]] || continue
      user=${file#"$JOBS"/}
      user=${user%%/*}
      id=${file##*/}
      id=${id%.job}
      if ! name_ok "$user" || ! id_ok "$id"; then continue; fi
      due "$file" "$minute" "$hour" "$dom" "$month" "$dow" || continue
      uid=$(id -u -- "$user" 2>/dev/null) || continue
      # Never root or a system account, whatever a directory is called.
      ((uid >= 1000)) || continue
      home=$(getent passwd "$user" | cut -d: -f6)
      [[ $home == /* ]] || continue
      setsid setpriv --reuid="$user" --regid="$user" --init-groups -- \
        env -i HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/bash \
        PATH=/usr/local/bin:/usr/bin:/bin "$0" run "$user" "$id" </dev/null >/dev/null 2>&1 &
    done
  done
}

start() {
  # The runner holds its lock while it runs.
  if [[ -e $LOCKFILE ]] && ! flock -n "$LOCKFILE" true; then
    return 0
  fi
  # Nothing of the caller'\''s (an SSH session'\''s pipes) stays open in the runner.
  setsid "$0" tick </dev/null >/dev/null 2>&1 &
  echo "$!" >"$PIDFILE"
}

prune() {
  local user=$1 unit id changed=0
  name_ok "$user" || exit 2
  for unit in "$UNITS/panel-cron-$user-"*.timer "$UNITS/panel-cron-$user-"*.service; do
    [[ -e $unit ]] || continue
    id=${unit#"$UNITS/panel-cron-$user-"}
    id=${id%.*}
    id_ok "$id" || continue
    [[ -f $JOBS/$user/$id.job ]] && continue
    systemctl disable --now --quiet "panel-cron-$user-$id.timer" 2>/dev/null
    systemctl stop "panel-cron-$user-$id.service" 2>/dev/null
    rm -f -- "$UNITS/panel-cron-$user-$id.timer" "$UNITS/panel-cron-$user-$id.service"
    changed=1
  done
  if ((changed)); then systemctl daemon-reload; fi
}

# Process N of a worker, as its site'\''s user: the command replaces this script (so the stop
# signal reaches it), in the site'\''s home with its .env and PHP, output appended to its log.
worker() {
  local user=$1 id=$2 n=$3
  if ! name_ok "$user" || ! id_ok "$id" || ! n_ok "$n"; then
    echo "panel-site-job: bad arguments" >&2
    exit 2
  fi
  as_site_user "$user"
  local command php
  command=$(<"$WORKERS/$user/$id.cmd") || exit 2
  php=$(job_field "$WORKERS/$user/$id.worker" php) || php=
  cd -- "$HOME" || exit 2
  mkdir -p -- "$HOME/logs/workers" || exit 2
  site_env "$php"
  exec >>"$HOME/logs/workers/$id.log" 2>&1 </dev/null
  printf '\''[%s] process %s starts\n'\'' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$n"
  exec env -- "${ENV_VARS[@]}" "PATH=$SITE_PATH" WORKER_PROCESS="$n" bash -c "$command"
}

# Whether PID is root'\''s supervisor of one of USER'\''s worker processes.
is_supervisor() {
  [[ -r /proc/$1/cmdline && $(stat -c %u "/proc/$1" 2>/dev/null) == 0 ]] &&
    [[ $(tr '\''\0'\'' '\'' '\'' <"/proc/$1/cmdline" 2>/dev/null) == *"panel-site-job supervise $2 "* ]]
}

# Whether a process of group PGID owned by UID is still alive (not a zombie waiting for us).
group_alive() {
  local p stat
  for p in $(pgrep -g "$1" -U "$2" 2>/dev/null); do
    stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    # The state follows the command name in parentheses (which may hold anything).
    stat=${stat##*) }
    [[ ${stat%% *} == Z ]] || return 0
  done
  return 1
}

# Root, without systemd: keep process N of a worker running as its restart policy says. On
# TERM it sends the worker'\''s stop signal to the process'\''s group, waits up to its stop timeout
# for the group to end, then kills what is left. Started with `setsid -f` (its own session,
# default signal dispositions), it writes its own pid file.
supervise() {
  local user=$1 id=$2 n=$3 file restart signal timeout home uid child code i stopping=0
  if ! name_ok "$user" || ! id_ok "$id" || ! n_ok "$n"; then exit 2; fi
  file=$WORKERS/$user/$id.worker
  restart=$(job_field "$file" restart) && signal=$(job_field "$file" signal) &&
    timeout=$(job_field "$file" timeout) || exit 2
  [[ $signal =~ ^(TERM|INT|QUIT|HUP|USR1|USR2)$ && $timeout =~ ^[0-9]{1,3}$ ]] || exit 2
  ((timeout >= 1 && timeout <= 600)) || exit 2
  uid=$(id -u -- "$user" 2>/dev/null) || exit 2
  ((uid >= 1000)) || exit 2
  home=$(getent passwd "$user" | cut -d: -f6)
  [[ $home == /* ]] || exit 2
  local run=$WORKER_RUN/$user
  trap '\''stopping=1'\'' TERM
  printf '\''%s\n'\'' "$$" >"$run/$id-$n.pid" || exit 2
  # Job control: each process starts in its own group (what a stop signals), and without the
  # INT and QUIT that a shell'\''s background commands otherwise ignore (a stop signal may be one).
  set -m
  while ((!stopping)); do
    setpriv --reuid="$user" --regid="$user" --init-groups -- \
      env -i HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/bash \
      PATH=/usr/local/bin:/usr/bin:/bin "$0" worker "$user" "$id" "$n" </dev/null >/dev/null 2>&1 &
    child=$!
    printf '\''%s\n'\'' "$child" >"$run/$id-$n.child"
    code=0
    # A TERM between the start and here has set `stopping` already: no waiting for an exit.
    if ((!stopping)); then wait "$child" || code=$?; fi
    if ((stopping)); then
      kill -s "$signal" -- "-$child" 2>/dev/null
      for ((i = 0; i < timeout * 10; i++)); do
        group_alive "$child" "$uid" || break
        sleep 0.1
      done
      pkill -KILL -g "$child" -U "$uid" 2>/dev/null
      wait "$child" 2>/dev/null
      break
    fi
    # What the process left behind in its group goes with it.
    pkill -KILL -g "$child" -U "$uid" 2>/dev/null
    rm -f -- "$run/$id-$n.child"
    case $restart in
    never) break ;;
    on-failure) ((code == 0)) && break ;;
    esac
    sleep 2
  done
  rm -f -- "$run/$id-$n.child" "$run/$id-$n.pid"
}

# USER'\''s workers as their files say, `ID PROCESSES` a line (a file that does not check out is
# passed over).
worker_specs() {
  local file id n
  for file in "$WORKERS/$1"/*.worker; do
    [[ -f $file ]] || continue
    id=${file##*/}
    id=${id%.worker}
    id_ok "$id" || continue
    n=$(job_field "$file" processes) || continue
    n_ok "$n" || continue
    printf '\''%s %s\n'\'' "$id" "$n"
  done
}

workers_direct() {
  local user=$1 run=$WORKER_RUN/$1 file pid id n k waited uid
  local pids=()
  for file in "$run"/*.pid; do
    [[ -f $file ]] || continue
    pid=$(head -c 20 -- "$file")
    if [[ $pid =~ ^[0-9]+$ ]] && is_supervisor "$pid" "$user"; then
      kill -TERM "$pid" 2>/dev/null
      pids+=("$pid")
    fi
  done
  # Each supervisor waits for its process'\''s stop timeout at most (600 s).
  for pid in "${pids[@]}"; do
    waited=0
    while is_supervisor "$pid" "$user" && ((waited < 6200)); do
      sleep 0.1
      ((waited += 1))
    done
  done
  rm -rf -- "$run"
  [[ -d $WORKERS/$user ]] || return 0
  uid=$(id -u -- "$user" 2>/dev/null) || return 1
  ((uid >= 1000)) || return 1
  install -d -m 0755 -- "$WORKER_RUN"
  # Readable by the site'\''s user (its status), by no other site.
  install -d -m 0750 -o root -g "$uid" -- "$run"
  local started=0
  while read -r id n; do
    for ((k = 1; k <= n; k++)); do
      setsid -f "$0" supervise "$user" "$id" "$k" </dev/null >/dev/null 2>&1
      ((started += 1))
    done
  done < <(worker_specs "$user")
  # Each supervisor writes its pid file first thing: a stop right after this finds them all.
  for ((waited = 0; waited < 50; waited++)); do
    n=$(find "$run" -maxdepth 1 -name '\''*.pid'\'' | wc -l)
    ((n >= started)) && break
    sleep 0.1
  done
}

workers_systemd() {
  local user=$1 unit id k n file
  local stop=() start=()
  # Nothing to start and no unit of the user'\''s: nothing to do (no daemon-reload).
  if [[ ! -d $WORKERS/$user ]] && ! compgen -G "$UNITS/panel-worker-$user-*" >/dev/null &&
    ! compgen -G "$UNITS/*.target.wants/panel-worker-$user-*" >/dev/null; then
    return 0
  fi
  # Every instance systemd knows of or would start at boot, loaded or not.
  while read -r unit; do
    [[ $unit =~ ^panel-worker-$user-([0-9A-Z]{26})@([0-9]+)\.service$ ]] || continue
    id=${BASH_REMATCH[1]}
    k=${BASH_REMATCH[2]}
    file=$WORKERS/$user/$id.worker
    n=0
    if [[ -f $file ]]; then n=$(job_field "$file" processes) || n=0; fi
    if ! n_ok "$n" || ((k > n)); then stop+=("$unit"); fi
  done < <(
    systemctl list-units --all --plain --no-legend --type=service "panel-worker-$user-*" 2>/dev/null | awk '\''{print $1}'\''
    for unit in "$UNITS"/*.target.wants/"panel-worker-$user-"*; do
      [[ -e $unit || -L $unit ]] && printf '\''%s\n'\'' "${unit##*/}"
    done
  )
  if ((${#stop[@]})); then
    systemctl disable --now --quiet "${stop[@]}" 2>/dev/null
    systemctl stop "${stop[@]}" 2>/dev/null
    systemctl reset-failed "${stop[@]}" 2>/dev/null
  fi
  for unit in "$UNITS/panel-worker-$user-"*@.service; do
    [[ -e $unit ]] || continue
    id=${unit#"$UNITS/panel-worker-$user-"}
    id=${id%@.service}
    id_ok "$id" || continue
    [[ -f $WORKERS/$user/$id.worker ]] || rm -f -- "$unit"
  done
  systemctl daemon-reload
  while read -r id n; do
    for ((k = 1; k <= n; k++)); do start+=("panel-worker-$user-$id@$k.service"); done
  done < <(worker_specs "$user")
  if ((${#start[@]})); then
    systemctl enable --quiet "${start[@]}" || return 1
    # One restart for them all: systemd stops them side by side, each with its signal and
    # timeout, then starts them.
    systemctl restart "${start[@]}" || return 1
  fi
}

workers() {
  local user=$1 driver=$2
  name_ok "$user" || exit 2
  case $driver in
  systemd) workers_systemd "$user" ;;
  direct) workers_direct "$user" ;;
  *) exit 2 ;;
  esac
}

# As the site'\''s user: `@ID N STATE PID SECONDS` for each process, then `#ID BASE64` with the
# tail of each worker'\''s output. One `systemctl show` and one `ps` for them all.
status() {
  local driver=$1 home=$2 user spec id n k unit line pid etimes owner
  shift 2
  user=$(id -un)
  name_ok "$user" || exit 2
  local -A state=() main=() up=()
  local units=() ids=() specs=()
  for spec; do
    id=${spec%%:*}
    n=${spec#*:}
    if ! id_ok "$id" || ! n_ok "$n"; then continue; fi
    ids+=("$id")
    for ((k = 1; k <= n; k++)); do
      unit="panel-worker-$user-$id@$k.service"
      units+=("$unit")
      specs+=("$id $k $unit")
      state[$unit]=stopped
      main[$unit]=0
      if [[ $driver == direct && -f $WORKER_RUN/$user/$id-$k.child ]]; then
        main[$unit]=$(head -c 20 -- "$WORKER_RUN/$user/$id-$k.child" | tr -cd '\''0-9'\'')
      fi
    done
  done
  if [[ $driver == systemd ]] && ((${#units[@]})); then
    # A block of KEY=VALUE lines per unit, in no set order, blocks apart by an empty line.
    local b_id='\'''\'' b_state='\'''\'' b_pid='\'''\''
    while IFS= read -r line; do
      case $line in
      Id=*) b_id=${line#Id=} ;;
      ActiveState=*) b_state=${line#ActiveState=} ;;
      MainPID=*) b_pid=${line#MainPID=} ;;
      '\'''\'')
        if [[ -n $b_id && -n ${state[$b_id]+x} ]]; then
          state[$b_id]=$b_state
          main[$b_id]=$b_pid
        fi
        b_id='\'''\'' b_state='\'''\'' b_pid='\'''\''
        ;;
      esac
    done < <(systemctl show -p Id -p ActiveState -p MainPID -- "${units[@]}" 2>/dev/null; echo)
  fi
  local pids=()
  for unit in "${units[@]}"; do
    [[ ${main[$unit]} =~ ^[1-9][0-9]*$ ]] && pids+=("${main[$unit]}")
  done
  local -A alive=()
  if ((${#pids[@]})); then
    while read -r pid etimes owner; do
      # Only the site'\''s own processes (a pid from a stale file may be someone else'\''s now).
      [[ $owner == "$user" && $etimes =~ ^[0-9]+$ ]] && alive[$pid]=$etimes
    done < <(ps -o pid=,etimes=,user:40= -p "$(IFS=,; echo "${pids[*]}")" 2>/dev/null)
  fi
  for spec in "${specs[@]}"; do
    read -r id k unit <<<"$spec"
    pid=${main[$unit]}
    [[ $pid =~ ^[0-9]+$ ]] || pid=0
    if [[ -n ${alive[$pid]+x} ]]; then
      [[ $driver == direct ]] && state[$unit]=active
      up[$unit]=${alive[$pid]}
    else
      [[ $driver == direct ]] && state[$unit]=stopped
      pid=0
      up[$unit]=0
    fi
    printf '\''@%s %s %s %s %s\n'\'' "$id" "$k" "${state[$unit]:0:20}" "$pid" "${up[$unit]}"
  done
  for id in "${ids[@]}"; do
    printf '\''#%s '\'' "$id"
    if [[ -f $home/logs/workers/$id.log ]]; then
      timeout 2 tail -c 4096 -- "$home/logs/workers/$id.log" | base64 -w0
    fi
    printf '\''\n'\''
  done
}

# Descriptors the starter had open (beyond the three redirected) are closed.
close_inherited() {
  local fd
  for fd in "/proc/$$/fd/"*; do
    fd=${fd##*/}
    if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2 && fd != 255)); then { exec {fd}>&-; } 2>/dev/null; fi
  done
}

# The panel'\''s command builder puts `--` before the first operand.
if [[ ${1:-} == -- ]]; then shift; fi
case ${1:-} in
run) run "${2:-}" "${3:-}" ;;
tick)
  close_inherited
  tick
  ;;
worker) worker "${2:-}" "${3:-}" "${4:-}" ;;
supervise)
  close_inherited
  supervise "${2:-}" "${3:-}" "${4:-}"
  ;;
workers) workers "${2:-}" "${3:-}" ;;
status)
  shift
  status "$@"
  ;;
start) start ;;
prune) prune "${2:-}" ;;
*)
  echo "usage: panel-site-job run USER ID | start | tick | prune USER | worker USER ID N | workers USER DRIVER | supervise USER ID N | status DRIVER HOME ID:N..." >&2
  exit 2
  ;;
esac
' | 'install' '-Z' '-m' '0755' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/usr/local/libexec/panel-site-job'
'ln' '-sfn' '--' '/opt/remi/php83/root/usr/bin/php' '/usr/local/libexec/panel-php/8.3/php'
fi
printf '%s' 'f3603bf0198c00dc0fb0aa40e2f3d6a3c6b8a950fd45f9b5a3bce74e5ce54744  /usr/local/libexec/panel-site-job
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 9: verify: sha256sum --check --status --strict'
[ "$('readlink' '--' '/usr/local/libexec/panel-php/8.3/php' 2>/dev/null)" = '/opt/remi/php83/root/usr/bin/php' ] || panel_fail 'step 9: verify: readlink -- /usr/local/libexec/panel-php/8.3/php'"; it printed: $('readlink' '--' '/usr/local/libexec/panel-php/8.3/php' 2>&1 | head -c 200)"

# --- 10/14 Write the cron jobs of example.com
echo '==> 10/14 Write the cron jobs of example.com'
if [ "$('stat' '-c' '%U %G %a' '--' '/etc/panel/site-jobs/web1' 2>/dev/null)" = 'root web1 750' ] &&
  [ "$('bash' '-c' 'LC_ALL=C; shopt -s nullglob dotglob; cd -- "$1" || exit 1; for f in *; do printf '\''%s\n'\'' "$f"; done' '--' '/etc/panel/site-jobs/web1' 2>/dev/null)" = '00000000000000000000000001.cmd
00000000000000000000000001.job' ] &&
  printf '%s' 'd7c3d5af9b6ca452a70b474ab579914a03d8976c5f4bceddb4e00c252f89f1c2  /etc/panel/site-jobs/web1/00000000000000000000000001.cmd
bc19f181c9322212634e37be18c884459d2687734ae637f89cca38aae1dcaef0  /etc/panel/site-jobs/web1/00000000000000000000000001.job
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1; then
  echo 'skipped: already done'
else
'rm' '-rf' '--' '/etc/panel/site-jobs/web1'
'install' '-d' '-Z' '-m' '0750' '-o' 'root' '-g' 'web1' '--' '/etc/panel/site-jobs/web1'
printf '%s' 'php public_html/wp-cron.php
' | 'install' '-Z' '-m' '0640' '-o' 'root' '-g' 'web1' '--' '/dev/stdin' '/etc/panel/site-jobs/web1/00000000000000000000000001.cmd'
printf '%s' 'minute=0,5,10,15,20,25,30,35,40,45,50,55
hour=*
dom=*
month=*
dow=*
days=and
php=8.3
enabled=1
' | 'install' '-Z' '-m' '0640' '-o' 'root' '-g' 'web1' '--' '/dev/stdin' '/etc/panel/site-jobs/web1/00000000000000000000000001.job'
fi
[ "$('stat' '-c' '%U %G %a' '--' '/etc/panel/site-jobs/web1' 2>/dev/null)" = 'root web1 750' ] || panel_fail 'step 10: verify: stat -c %U %G %a -- /etc/panel/site-jobs/web1'"; it printed: $('stat' '-c' '%U %G %a' '--' '/etc/panel/site-jobs/web1' 2>&1 | head -c 200)"
[ "$('bash' '-c' 'LC_ALL=C; shopt -s nullglob dotglob; cd -- "$1" || exit 1; for f in *; do printf '\''%s\n'\'' "$f"; done' '--' '/etc/panel/site-jobs/web1' 2>/dev/null)" = '00000000000000000000000001.cmd
00000000000000000000000001.job' ] || panel_fail 'step 10: verify: bash -c LC_ALL=C; shopt -s nullglob dotglob; cd -- "$1" || exit 1; for f in *; do printf '\''%s\n'\'' "$f"; done -- /etc/panel'"; it printed: $('bash' '-c' 'LC_ALL=C; shopt -s nullglob dotglob; cd -- "$1" || exit 1; for f in *; do printf '\''%s\n'\'' "$f"; done' '--' '/etc/panel/site-jobs/web1' 2>&1 | head -c 200)"
printf '%s' 'd7c3d5af9b6ca452a70b474ab579914a03d8976c5f4bceddb4e00c252f89f1c2  /etc/panel/site-jobs/web1/00000000000000000000000001.cmd
bc19f181c9322212634e37be18c884459d2687734ae637f89cca38aae1dcaef0  /etc/panel/site-jobs/web1/00000000000000000000000001.job
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 10: verify: sha256sum --check --status --strict'

# --- 11/14 Schedule the cron jobs of example.com
echo '==> 11/14 Schedule the cron jobs of example.com'
printf '%s' '# Managed by Panel: cron job 00000000000000000000000001 of example.com (site user web1).
[Unit]
Description=Cron job 00000000000000000000000001 of example.com

[Service]
Type=oneshot
User=web1
Group=web1
ExecStart=/usr/local/libexec/panel-site-job run web1 00000000000000000000000001
# The site'\''s categories: the job reaches what its PHP reaches (and runs programs).
SELinuxContext=system_u:system_r:laravel_site_job_t:s0:c100,c101
PrivateTmp=true
' | 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/systemd/system/panel-cron-web1-00000000000000000000000001.service'
printf '%s' '# Managed by Panel: when cron job 00000000000000000000000001 of example.com runs (*/5 * * * *).
[Unit]
Description=Schedule of cron job 00000000000000000000000001 of example.com

[Timer]
OnCalendar=*-*-* *:00,05,10,15,20,25,30,35,40,45,50,55:00 UTC
AccuracySec=1s

[Install]
WantedBy=timers.target
' | 'install' '-Z' '-m' '0644' '-o' 'root' '-g' 'root' '--' '/dev/stdin' '/etc/systemd/system/panel-cron-web1-00000000000000000000000001.timer'
'systemctl' 'daemon-reload'
'/usr/local/libexec/panel-site-job' '--' 'prune' 'web1'
'systemctl' 'enable' '--quiet' '--' 'panel-cron-web1-00000000000000000000000001.timer'
'systemctl' 'restart' '--' 'panel-cron-web1-00000000000000000000000001.timer'
'systemctl' 'is-active' '--quiet' '--' 'panel-cron-web1-00000000000000000000000001.timer' >/dev/null 2>&1 || panel_fail 'step 11: verify: systemctl is-active --quiet -- panel-cron-web1-00000000000000000000000001.timer'

# --- 12/14 Stop the workers of example.com
echo '==> 12/14 Stop the workers of example.com'
'rm' '-rf' '--' '/etc/panel/site-workers/web1'
if 'test' '-x' '/usr/local/libexec/panel-site-job'; then
'/usr/local/libexec/panel-site-job' '--' 'workers' 'web1' 'systemd'
fi

# --- 13/14 Rotate the logs of example.com
echo '==> 13/14 Rotate the logs of example.com'
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
' | 'sha256sum' '--check' '--status' '--strict' >/dev/null 2>&1 || panel_fail 'step 13: verify: sha256sum --check --status --strict'
fi

# --- 14/14 Confirm with the panel
echo '==> 14/14 Confirm with the panel'
echo 'skipped: no panel to report to (a plan printed by `panel site plan`)'

echo 'done'
