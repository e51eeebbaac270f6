#!/usr/bin/env bash
# Panel node setup: joins this server to a Panel and prepares it for sites.
#
#   curl -fsSL https://panel.example.com/setup/TOKEN | sudo bash     (the panel renders the values)
#   sudo bash setup.sh --dry-run                                     (print what would change)
#
# Idempotent: every step checks first and changes only what differs; a second run reports
# "no changes". Steps that need the internet say "skipped: no network" when it cannot be reached.
set -euo pipefail

DRY_RUN=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    *) echo "unknown option: $arg (only --dry-run)" >&2; exit 2 ;;
  esac
done

: "${PANEL_URL:?the panel renders PANEL_URL into this script}"
: "${PANEL_SERVER_ID:?the panel renders PANEL_SERVER_ID into this script}"
: "${PANEL_SSH_KEY:?the panel renders PANEL_SSH_KEY into this script}"
: "${PANEL_CALLBACK_SECRET:?the panel renders PANEL_CALLBACK_SECRET into this script}"
PANEL_SSH_USER=${PANEL_SSH_USER:-panel}
PANEL_OS=${PANEL_OS:-}
# PHP versions to install side by side (the panel renders the ones chosen). Debian 12 ships 8.2.
PANEL_PHP_VERSIONS=${PANEL_PHP_VERSIONS:-}
OS_RELEASE=${PANEL_OS_RELEASE:-/etc/os-release}

CHANGES=0
step() { printf '\n==> %s\n' "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
skipped() { printf '    skipped: %s\n' "$*"; }

# change DESCRIPTION COMMAND [ARGS…]: run it (or, with --dry-run, say it would).
change() {
  local what=$1
  shift
  CHANGES=$((CHANGES + 1))
  if ((DRY_RUN)); then
    printf '    would: %s\n' "$what"
  else
    printf '    change: %s\n' "$what"
    "$@"
  fi
}

write_file() { # PATH MODE CONTENT
  install -d -m 0755 "$(dirname "$1")"
  printf '%s\n' "$3" >"$1.panel-new"
  chmod "$2" "$1.panel-new"
  mv -f "$1.panel-new" "$1"
}

# ensure_file PATH MODE CONTENT: write it unless it already has exactly this content and mode.
ensure_file() {
  if [[ -f $1 ]] && [[ "$(cat "$1")" == "$2$3" || "$(cat "$1")" == "$3" ]] && [[ $(stat -c %a "$1") == "${2#0}" ]]; then
    ok "$1"
    return 0
  fi
  change "write $1" write_file "$1" "$2" "$3"
}

detect_os() {
  step "Detecting the operating system"
  # shellcheck disable=SC1090 # the node's os-release file
  . "$OS_RELEASE"
  case "${ID:-}:${VERSION_ID%%.*}" in
    almalinux:8) OS=alma_8 FAMILY=el ;;
    almalinux:9) OS=alma_9 FAMILY=el ;;
    rocky:8) OS=rocky_8 FAMILY=el ;;
    rocky:9) OS=rocky_9 FAMILY=el ;;
    debian:12) OS=debian_12 FAMILY=debian ;;
    *) echo "unsupported operating system: ${PRETTY_NAME:-unknown} (Panel supports AlmaLinux/Rocky Linux 8 and 9, Debian 12)" >&2; exit 1 ;;
  esac
  ok "$OS"
  if [[ -z $PANEL_PHP_VERSIONS ]]; then
    if [[ $FAMILY == debian ]]; then PANEL_PHP_VERSIONS=8.2; else PANEL_PHP_VERSIONS=8.3; fi
  fi
  if [[ -n $PANEL_OS && $PANEL_OS != "$OS" ]]; then
    echo "    warning: the panel was told this is $PANEL_OS; it is $OS" >&2
  fi
}

have_network() {
  local probe
  case "$FAMILY" in
    debian) probe=https://deb.debian.org/ ;;
    el) probe=https://mirrors.almalinux.org/ ;;
  esac
  curl -fsS --max-time 5 -o /dev/null "$probe" 2>/dev/null
}

packages() {
  step "Packages"
  local wanted=() missing=()
  if [[ $FAMILY == debian ]]; then
    # git and Composer: deployments fetch sites' repositories and install their dependencies.
    wanted=(sudo curl openssl git composer nginx mariadb-server postgresql redis-server firewalld)
    # A Debian server booted with SELinux gets what the panel needs to manage it, as EL does:
    # semanage, the policy build tools and the audit log the panel follows.
    if selinuxenabled 2>/dev/null; then
      wanted+=(policycoreutils-python-utils selinux-policy-dev make auditd)
    fi
    local v
    for v in $PANEL_PHP_VERSIONS; do wanted+=("php$v-fpm" "php$v-cli" "php$v-mysql" "php$v-pgsql"); done
    local p
    for p in "${wanted[@]}"; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then ok "all installed"; return; fi
    if ! have_network; then skipped "no network (missing: ${missing[*]})"; return; fi
    change "apt-get install ${missing[*]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  else
    # selinux-policy-devel and make: the panel builds its policy module on the node.
    wanted=(sudo curl openssl git composer nginx mariadb-server postgresql-server redis firewalld policycoreutils-python-utils selinux-policy-devel make)
    local v
    for v in $PANEL_PHP_VERSIONS; do
      local xy=${v/./}
      wanted+=("php$xy-php-fpm" "php$xy-php-cli" "php$xy-php-mysqlnd" "php$xy-php-pgsql")
    done
    local p
    for p in "${wanted[@]}"; do rpm -q "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if ((${#missing[@]} == 0)); then ok "all installed"; return; fi
    if ! have_network; then skipped "no network (missing: ${missing[*]})"; return; fi
    el_repositories
    change "update installed packages" dnf -y -q update
    change "dnf install ${missing[*]}" dnf -y install "${missing[@]}"
  fi
}

# EPEL, CRB/PowerTools, Remi (PHP versions side by side) and nginx.org's own repository.
el_repositories() {
  local major=${OS##*_}
  rpm -q epel-release >/dev/null 2>&1 || change "install EPEL" dnf -y install epel-release
  if [[ $major == 9 ]]; then
    dnf repolist --enabled 2>/dev/null | grep -q '^crb' || change "enable CRB" dnf config-manager --set-enabled crb
  else
    dnf repolist --enabled 2>/dev/null | grep -q '^powertools' || change "enable PowerTools" dnf config-manager --set-enabled powertools
  fi
  rpm -q remi-release >/dev/null 2>&1 \
    || change "add the Remi repository" dnf -y install "https://rpms.remirepo.net/enterprise/remi-release-$major.rpm"
  ensure_file /etc/yum.repos.d/nginx.repo 0644 "[nginx-stable]
name=nginx stable repo
baseurl=https://nginx.org/packages/centos/\$releasever/\$basearch/
gpgcheck=1
enabled=1
gpgkey=https://nginx.org/keys/nginx_signing.key
module_hotfixes=true"
}

# Bun (≥ 1.3.6) builds sites' front-end assets.
bun_runtime() {
  step "Bun"
  local have
  have=$(/usr/local/bin/bun --version 2>/dev/null || true)
  if [[ -n $have ]] && printf '%s\n%s\n' 1.3.6 "$have" | sort -V -C; then ok "bun $have"; return; fi
  if ! have_network; then skipped "no network (bun ${have:-not installed})"; return; fi
  change "install bun to /usr/local" install_bun
}

install_bun() {
  local tmp
  tmp=$(mktemp)
  curl -fsSL --max-time 60 -o "$tmp" https://bun.sh/install
  BUN_INSTALL=/usr/local bash "$tmp" >/dev/null
  rm -f "$tmp"
}

panel_user() {
  step "The $PANEL_SSH_USER user the panel logs in as"
  if id -u "$PANEL_SSH_USER" >/dev/null 2>&1; then
    ok "user $PANEL_SSH_USER"
  else
    change "create user $PANEL_SSH_USER" useradd --create-home --shell /bin/bash -- "$PANEL_SSH_USER"
  fi
  local home
  home=$(getent passwd "$PANEL_SSH_USER" | cut -d: -f6 || true)
  home=${home:-/home/$PANEL_SSH_USER}
  if [[ -f $home/.ssh/authorized_keys ]] && grep -qxF -- "$PANEL_SSH_KEY" "$home/.ssh/authorized_keys"; then
    ok "the panel's key is authorized"
  else
    change "authorize the panel's SSH key" add_key "$home"
  fi
  # Site users join this group: sshd jails them to SFTP, and the panel may deploy as them.
  if getent group panel-sftp >/dev/null; then
    ok "group panel-sftp"
  else
    change "create group panel-sftp" groupadd --system panel-sftp
  fi
  # What the panel runs, by absolute path: exactly the programs it uses. This is not a sandbox:
  # writing files (install), managing packages and the database clients are root-equivalent by
  # nature, so the panel's SSH user is root on this server in effect. The list keeps everything
  # else out, and site work runs as the site's own user. A job's plan (each step the script
  # `panel site plan --format script` prints, byte for byte) runs as one root shell, `bash -s`:
  # one sudo per job instead of one per command (79 for a site before).
  ensure_sudoers /etc/sudoers.d/panel "# Managed by Panel: the commands the panel user may run as root.
Cmnd_Alias PANEL_PKG = /usr/bin/apt-get, /usr/bin/dnf
Cmnd_Alias PANEL_USERS = /usr/sbin/useradd, /usr/sbin/userdel, /usr/sbin/usermod
Cmnd_Alias PANEL_FILES = /usr/bin/install, /usr/bin/rm, /usr/bin/ln, /usr/bin/mv, /usr/bin/chown
Cmnd_Alias PANEL_SERVICES = /usr/bin/systemctl, /usr/sbin/nginx, /usr/bin/pkill, /usr/sbin/php-fpm*, /opt/remi/php*/root/usr/sbin/php-fpm
Cmnd_Alias PANEL_SELINUX = /usr/sbin/semanage, /usr/sbin/restorecon, /usr/sbin/semodule, /usr/sbin/setsebool, /usr/sbin/setenforce, /usr/bin/make
Cmnd_Alias PANEL_DB = /usr/bin/mariadb
Cmnd_Alias PANEL_READ = /usr/bin/tail, /usr/bin/stat, /usr/bin/sha256sum, /usr/bin/readlink
Cmnd_Alias PANEL_STEPS = /usr/bin/bash -s
Defaults:$PANEL_SSH_USER env_keep += \"DEBIAN_FRONTEND\"
$PANEL_SSH_USER ALL=(root) NOPASSWD: PANEL_PKG, PANEL_USERS, PANEL_FILES, PANEL_SERVICES, PANEL_SELINUX, PANEL_DB, PANEL_READ, PANEL_STEPS
# PostgreSQL by peer authentication as its own superuser: psql only.
$PANEL_SSH_USER ALL=(postgres) NOPASSWD: /usr/bin/psql
# Inside a site's home the site's own user acts (members of panel-sftp), never root: its
# directories, files and links, deployments, and what is asked about them.
$PANEL_SSH_USER ALL=(%panel-sftp) NOPASSWD: /usr/bin/bash, /usr/bin/install, /usr/bin/ln, /usr/bin/stat, /usr/bin/readlink, /usr/bin/sha256sum, /usr/sbin/restorecon"
}

# ensure_sudoers PATH CONTENT: like ensure_file (mode 0440), but the new file is checked with
# `visudo -c` first and never installed if sudo would not accept it.
ensure_sudoers() {
  if [[ -f $1 ]] && [[ "$(cat "$1")" == "$2" ]] && [[ $(stat -c %a "$1") == 440 ]]; then
    ok "$1"
    return 0
  fi
  change "write $1 (checked with visudo)" write_sudoers "$1" "$2"
}

write_sudoers() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  printf '%s\n' "$2" >"$tmp"
  chmod 0440 "$tmp"
  if ! visudo -cq -f "$tmp"; then
    rm -f "$tmp"
    echo "the sudoers file for the panel user does not pass visudo -c; nothing was changed" >&2
    return 1
  fi
  mv -f "$tmp" "$1"
}

add_key() {
  install -d -m 0700 -o "$PANEL_SSH_USER" -g "$PANEL_SSH_USER" "$1/.ssh"
  printf '%s\n' "$PANEL_SSH_KEY" >>"$1/.ssh/authorized_keys"
  chown "$PANEL_SSH_USER:" "$1/.ssh/authorized_keys"
  chmod 0600 "$1/.ssh/authorized_keys"
  # Where SELinux runs, sshd reads only keys labelled as such (ssh_home_t).
  if selinuxenabled 2>/dev/null; then restorecon -R "$1/.ssh"; fi
}

reload_sshd() {
  sshd -t
  if systemctl reload sshd 2>/dev/null || systemctl reload ssh 2>/dev/null; then return; fi
  # Without systemd: signal only the listening daemon (its pid file), never the per-connection
  # sshd processes, one of which may be running this very script.
  if [[ -f /run/sshd.pid ]]; then kill -HUP "$(cat /run/sshd.pid)"; fi
}

# Containers share the host's kernel: kernel-wide settings are the host's to make.
in_container() {
  [[ -e /run/.containerenv || -e /.dockerenv ]] || grep -qa 'container=' /proc/1/environ 2>/dev/null
}

hardening() {
  step "SSH and kernel hardening"
  local before=$CHANGES
  ensure_file /etc/ssh/sshd_config.d/50-panel.conf 0644 "# Managed by Panel: keys only.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
# Site users get SFTP only, jailed in their home.
Match Group panel-sftp
    ChrootDirectory %h
    ForceCommand internal-sftp
    AllowTcpForwarding no
    X11Forwarding no"
  if ((CHANGES > before)); then change "check and reload sshd" reload_sshd; fi
  before=$CHANGES
  ensure_file /etc/sysctl.d/90-panel.conf 0644 "# Managed by Panel.
net.ipv4.conf.all.accept_redirects = 0
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.all.rp_filter = 1
net.ipv4.tcp_syncookies = 1
kernel.kptr_restrict = 2
kernel.dmesg_restrict = 1
fs.protected_symlinks = 1
fs.protected_hardlinks = 1"
  if ((CHANGES > before)); then
    if in_container; then
      skipped "applying kernel settings: this is a container, they belong to its host"
    else
      change "apply kernel settings" sysctl -q --system
    fi
  fi
}

# SELinux starts permissive: denials are collected and explained, nothing breaks, and the panel
# offers enforcing after a window without denials. A server already enforcing stays enforcing:
# setup never lowers protection.
selinux() {
  step "SELinux"
  local mode configured
  mode=$(getenforce 2>/dev/null || echo Disabled)
  if [[ $FAMILY != el ]]; then
    # Debian does not boot with SELinux unless its administrator set it up (selinux-activate);
    # where it runs, the panel manages it as on EL, and never switches it on or lowers it.
    case "$mode" in
      Enforcing) ok "enforcing (kept)" ;;
      Permissive) ok "permissive (the panel moves to enforcing after a window without denials)" ;;
      *) skipped "SELinux disabled on $OS" ;;
    esac
    return
  fi
  configured=$(sed -n 's/^SELINUX=//p' /etc/selinux/config 2>/dev/null || true)
  case "$mode" in
    Enforcing) ok "enforcing (kept)" ;;
    Permissive) ok "permissive (the panel moves to enforcing after a window without denials)" ;;
    *)
      if [[ $configured == permissive ]]; then
        ok "permissive from the next boot (a relabel runs then)"
      else
        change "configure SELinux permissive (takes effect after a reboot, with a relabel)" selinux_permissive
      fi
      ;;
  esac
}

selinux_permissive() {
  if grep -q '^SELINUX=' /etc/selinux/config 2>/dev/null; then
    sed -i 's/^SELINUX=.*/SELINUX=permissive/' /etc/selinux/config
  else
    install -d /etc/selinux
    printf 'SELINUX=permissive\nSELINUXTYPE=targeted\n' >>/etc/selinux/config
  fi
  touch /.autorelabel
}

firewall() {
  step "Firewall"
  if ! command -v firewall-cmd >/dev/null 2>&1; then skipped "firewalld not installed"; return; fi
  if ! firewall-cmd --state >/dev/null 2>&1; then skipped "firewalld not running"; return; fi
  local s
  for s in ssh http https; do
    if firewall-cmd --permanent --query-service="$s" >/dev/null 2>&1; then ok "service $s"; else change "open $s" firewall-cmd --permanent --add-service="$s"; fi
  done
  if firewall-cmd --permanent --query-port=8095/tcp >/dev/null 2>&1; then ok "port 8095"; else change "open 8095/tcp" firewall-cmd --permanent --add-port=8095/tcp; fi
}

# hmac_sha256 KEY MESSAGE: the hex HMAC-SHA256 (RFC 2104), computed with shell builtins and
# sha256sum reading a pipe: the key never appears in a process's argv or environment, where any
# user of this server could read it (`openssl dgst -hmac KEY` would put it there).
hmac_sha256() {
  local key=$1 msg=$2 i c byte ipad='' opad='' inner outer=''
  ((${#key} <= 64)) || { echo "hmac_sha256: key longer than a block" >&2; return 1; }
  for ((i = 0; i < 64; i++)); do
    c=0
    if ((i < ${#key})); then printf -v c '%d' "'${key:i:1}"; fi
    printf -v byte '\\x%02x' $((c ^ 0x36)); ipad+=$byte
    printf -v byte '\\x%02x' $((c ^ 0x5c)); opad+=$byte
  done
  inner=$({ printf '%b' "$ipad"; printf '%s' "$msg"; } | sha256sum)
  for ((i = 0; i < 64; i += 2)); do outer+="\\x${inner:i:2}"; done
  { printf '%b' "$opad"; printf '%b' "$outer"; } | sha256sum | cut -d' ' -f1
}

# The public halves of the host keys sshd serves (its configured HostKey files, else the
# defaults), as a JSON array of "TYPE BASE64" strings: the panel pins only one of these.
host_keys_json() {
  local files=() f line json='' seen=' '
  while read -r key value; do
    [[ $key == hostkey ]] && files+=("$value.pub")
  done < <(sshd -T 2>/dev/null || true)
  ((${#files[@]})) || files=(/etc/ssh/ssh_host_*_key.pub)
  for f in "${files[@]}"; do
    [[ -r $f ]] || continue
    read -r line <"$f" || true
    [[ $line =~ ^(ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa)\ ([A-Za-z0-9+/]+={0,2})([[:space:]]|$) ]] || continue
    line="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
    [[ $seen == *" $line "* ]] && continue
    seen+="$line "
    json+="${json:+,}\"$line\""
  done
  printf '[%s]' "$json"
}

callback() {
  step "Telling the panel this server is ready"
  if ((DRY_RUN)); then
    printf '    would: POST %s/api/callbacks/server-ready\n' "$PANEL_URL"
    return
  fi
  local selinux_mode body ts nonce sig
  selinux_mode=$(getenforce 2>/dev/null | tr '[:upper:]' '[:lower:]' || true)
  body=$(printf '{"server_id":"%s","os":"%s","selinux":"%s","host_keys":%s}' "$PANEL_SERVER_ID" "$OS" "${selinux_mode:-disabled}" "$(host_keys_json)")
  ts=$(date +%s)
  nonce=$(openssl rand -hex 16)
  sig=$(hmac_sha256 "$PANEL_CALLBACK_SECRET" "$ts.$nonce.$body")
  curl -fsS --max-time 30 -X POST \
    -H 'Content-Type: application/json' \
    -H "X-Panel-Timestamp: $ts" -H "X-Panel-Nonce: $nonce" -H "X-Panel-Signature: sha256=$sig" \
    --data-binary "$body" "$PANEL_URL/api/callbacks/server-ready" >/dev/null
  ok "the panel will now connect, check the host key against the ones reported, and mark the server active"
}

detect_os
packages
panel_user
hardening
bun_runtime
selinux
firewall
if ((CHANGES == 0)); then
  printf '\nNo changes: this server is already set up.\n'
elif ((DRY_RUN)); then
  printf '\n%d change(s) would be made.\n' "$CHANGES"
else
  printf '\n%d change(s) made.\n' "$CHANGES"
fi
callback
