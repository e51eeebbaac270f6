#!/usr/bin/env bash
# shellcheck disable=SC2016 # file bodies and SQL are single-quoted on purpose: nothing expands
# deploy example.com (main of git@github.com:acme/shop.git) as release 01ARZ3NDEKTSV4RRFFQ69G5FAV
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

# --- 1/9 Prepare release 01ARZ3NDEKTSV4RRFFQ69G5FAV
echo '==> 1/9 Prepare release 01ARZ3NDEKTSV4RRFFQ69G5FAV'
if ! 'test' '-L' '/home/web1/deploy'; then
'install' '-d' '-Z' '-m' '0755' '-o' 'web1' '-g' 'web1' '--' '/home/web1/deploy'
fi
'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'install' '-d' '-Z' '-m' '0755' '--' '/home/web1/deploy/releases' </dev/null
'install' '-d' '-Z' '-m' '0711' '-o' 'root' '-g' 'root' '--' '/run/panel-deploy'
'install' '-d' '-Z' '-m' '0750' '-o' 'root' '-g' 'web1' '--' '/run/panel-deploy/web1'
printf '%s' '# Runs as the site user in the new release ($RELEASE_DIR) before it goes live. A command that
# fails stops the deploy and the live release keeps serving. Available: $BRANCH, $COMMIT,
# $COMMIT_MESSAGE, $RELEASE_DIR, $SITE_DOMAIN, $SITE_USER, $SITE_HOME, $APP_TYPE, $DEPLOYMENT_ID
# and $PHP (this site'\''s PHP binary). .env and storage/ are already linked in.
composer=$(command -v composer) || { echo '\''Composer is not installed on this server'\'' >&2; exit 1; }
"$PHP" "$composer" install --no-dev --no-interaction --prefer-dist --optimize-autoloader
"$PHP" artisan migrate --force
"$PHP" artisan config:cache
"$PHP" artisan route:cache
"$PHP" artisan view:cache
' | 'install' '-Z' '-m' '0500' '-o' 'web1' '-g' 'web1' '--' '/dev/stdin' '/run/panel-deploy/web1/deploy-script'
printf '%s' '-----BEGIN OPENSSH PRIVATE KEY-----
(the site'\''s deploy key)
-----END OPENSSH PRIVATE KEY-----
' | 'install' '-Z' '-m' '0400' '-o' 'web1' '-g' 'web1' '--' '/dev/stdin' '/run/panel-deploy/web1/key'
printf '%s' 'github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl
' | 'install' '-Z' '-m' '0400' '-o' 'web1' '-g' 'web1' '--' '/dev/stdin' '/run/panel-deploy/web1/known_hosts'
[ "$('stat' '-c' '%U %a' '--' '/run/panel-deploy/web1' '/run/panel-deploy/web1/deploy-script' '/run/panel-deploy/web1/key' '/run/panel-deploy/web1/known_hosts' 2>/dev/null)" = 'root 750
web1 500
web1 400
web1 400' ] || panel_fail 'step 1: verify: stat -c %U %a -- /run/panel-deploy/web1 /run/panel-deploy/web1/deploy-script /run/panel-deploy/web1/key /run/panel-deplo'"; it printed: $('stat' '-c' '%U %a' '--' '/run/panel-deploy/web1' '/run/panel-deploy/web1/deploy-script' '/run/panel-deploy/web1/key' '/run/panel-deploy/web1/known_hosts' 2>&1 | head -c 200)"

# --- 2/9 Fetch main from git@github.com:acme/shop.git
echo '==> 2/9 Fetch main from git@github.com:acme/shop.git'
printf '%s' '#!/usr/bin/env bash
# Panel deploy phases, run on the node as the site'\''s own user:
#
#   sudo -n -u webN -- bash -s -- PHASE ARGS…     (this text on stdin)
#
# Every value (paths, the repository, the branch, the commit) arrives as a positional argument
# and is only ever expanded in double quotes: nothing is pasted into this text, and nothing a
# user typed is read as shell. The layout under the site'\''s home:
#
#   deploy/releases/ID/   one checkout per deployment (ID = the deployment'\''s ULID)
#   deploy/current        -> releases/ID, swapped atomically (rename) to go live
#   public_html           -> deploy/current (what nginx serves)
#   .env, storage/        shared by every release (linked into each; WordPress: uploads/)
set -euo pipefail
umask 022
# The panel user'\''s working directory is not the site user'\''s to read.
cd /

phase=${1:?phase}
shift

die() {
  printf '\''deploy: %s\n'\'' "$1" >&2
  exit 1
}

# A release directory name is a deployment id (a ULID): nothing else is ever removed.
is_release() { [[ $1 =~ ^[0-9A-HJKMNP-TV-Z]{26}$ ]]; }

# git with only the ssh and https transports (no ext::, file:// or git://), never prompting.
# The ssh command is constant text: the key and known_hosts paths reach it as variables. The
# known_hosts file holds the git host'\''s keys confirmed in the panel, and nothing else is trusted.
safe_git() {
  # shellcheck disable=SC2016 # single quotes on purpose: git'\''s shell expands the variables
  GIT_TERMINAL_PROMPT=0 \
    GIT_SSH_COMMAND='\''ssh -F /dev/null -i "$PANEL_DEPLOY_KEY" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$PANEL_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=20'\'' \
    git -c protocol.allow=never -c protocol.ssh.allow=always -c protocol.https.allow=always "$@"
}

# copy_missing SRC DEST: what DEST lacks, copied from SRC; nothing in DEST is overwritten.
copy_missing() {
  local src=$1 dest=$2 p
  while IFS= read -r -d '\'''\'' p; do
    if [[ -d $src/$p && ! -L $src/$p ]]; then
      mkdir -p -- "$dest/$p"
    elif [[ ! -e $dest/$p && ! -L $dest/$p ]]; then
      cp -P -p -- "$src/$p" "$dest/$p"
    fi
  done < <(cd "$src" && find . -mindepth 1 -print0)
}

# share RELEASE NAME TARGET: the release'\''s NAME becomes a link to the shared TARGET. A
# directory the repository ships there seeds the shared one (first deploy) and is replaced.
share() {
  local release=$1 name=$2 target=$3
  if [[ -d $release/$name && ! -L $release/$name ]]; then
    mkdir -p -- "$target"
    copy_missing "$release/$name" "$target"
    rm -rf -- "${release:?}/$name"
  elif [[ -e $release/$name || -L $release/$name ]]; then
    rm -f -- "${release:?}/$name"
  fi
  mkdir -p -- "$(dirname -- "$release/$name")"
  ln -s -- "$target" "$release/$name"
}

case "$phase" in
  fetch) # RELEASE_DIR URL BRANCH KEY_FILE KNOWN_HOSTS
    release=$1 url=$2 branch=$3
    export PANEL_DEPLOY_KEY=$4 PANEL_KNOWN_HOSTS=$5
    [[ ! -e $release ]] || die "$release already exists"
    safe_git clone --quiet --depth 1 --single-branch --no-tags --branch "$branch" -- "$url" "$release"
    printf '\''commit=%s\n'\'' "$(git -C "$release" rev-parse HEAD)"
    printf '\''subject=%s\n'\'' "$(git -C "$release" log -1 --format=%s)"
    ;;
  link) # RELEASE_DIR SITE_HOME APP_TYPE
    release=$1 home=$2 app=$3
    [[ -d $release ]] || die "$release is missing"
    # A .env in the repository never wins over the site'\''s own.
    rm -f -- "$release/.env"
    ln -s -- "$home/.env" "$release/.env"
    case "$app" in
      wordpress) share "$release" wp-content/uploads "$home/uploads" ;;
      *) share "$release" storage "$home/storage" ;;
    esac
    echo "linked .env and shared storage into $release"
    ;;
  build) # RELEASE_DIR SCRIPT BRANCH SITE_DOMAIN SITE_USER SITE_HOME APP_TYPE PHP DEPLOYMENT_ID
    cd "$1"
    export RELEASE_DIR=$1 BRANCH=$3 SITE_DOMAIN=$4 SITE_USER=$5 SITE_HOME=$6 APP_TYPE=$7 PHP=$8 DEPLOYMENT_ID=$9
    export RELEASE=${RELEASE_DIR##*/}
    # From the checkout itself: the commit and its message are data, and stay in variables.
    COMMIT=$(git rev-parse HEAD)
    COMMIT_MESSAGE=$(git log -1 --format=%B 2>/dev/null || true)
    export COMMIT COMMIT_MESSAGE
    # The home is root'\''s; tools that keep caches (Composer, npm) get a directory of the site'\''s.
    export HOME=$SITE_HOME/deploy
    script=$2
    if ! grep -qv -e '\''^[[:space:]]*$'\'' -e '\''^[[:space:]]*#'\'' -- "$script" 2>/dev/null; then
      echo "the deploy script is empty: nothing to run"
      exit 0
    fi
    # Any command that fails fails the deploy (and the previous release keeps serving).
    exec bash -e -- "$script"
    ;;
  activate) # DEPLOY_DIR RELEASE
    cd "$1"
    release=$2
    is_release "$release" || die "$release is not a release name"
    [[ -d releases/$release ]] || die "release $release is not on this server"
    # rename(2) replaces the link in one step: every request sees the old release or the new.
    ln -sfn -- "releases/$release" current.panel-new
    mv -fT -- current.panel-new current
    echo "current=releases/$release"
    ;;
  prune) # DEPLOY_DIR KEEP: keep the KEEP newest releases and the live one; print the others
    cd "$1/releases"
    keep=$2
    [[ $keep =~ ^[0-9]+$ ]] || die "keep: $keep is not a number"
    live=$(readlink ../current 2>/dev/null || true)
    live=${live#releases/}
    n=0
    while IFS= read -r r; do
      is_release "$r" || continue
      n=$((n + 1))
      if ((n > keep)) && [[ $r != "$live" ]]; then
        rm -rf -- "$r"
        printf '\''pruned=%s\n'\'' "$r"
      fi
    done < <(printf '\''%s\n'\'' * | LC_ALL=C sort -r)
    ;;
  remove) # DEPLOY_DIR RELEASE: a failed release goes (never the live one)
    cd "$1"
    release=$2
    is_release "$release" || die "$release is not a release name"
    live=$(readlink current 2>/dev/null || true)
    [[ $live != "releases/$release" ]] || die "release $release is live; not removed"
    rm -rf -- "releases/$release"
    echo "removed release $release"
    ;;
  *) die "unknown phase: $phase" ;;
esac
' | 'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-s' '--' 'fetch' '/home/web1/deploy/releases/01ARZ3NDEKTSV4RRFFQ69G5FAV' 'git@github.com:acme/shop.git' 'main' '/run/panel-deploy/web1/key' '/run/panel-deploy/web1/known_hosts'
'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'stat' '-c' '%n' '--' '/home/web1/deploy/releases/01ARZ3NDEKTSV4RRFFQ69G5FAV/.git' >/dev/null 2>&1 </dev/null || panel_fail 'step 2: verify: stat -c %n -- /home/web1/deploy/releases/01ARZ3NDEKTSV4RRFFQ69G5FAV/.git'

# --- 3/9 Link the shared .env and storage
echo '==> 3/9 Link the shared .env and storage'
printf '%s' '#!/usr/bin/env bash
# Panel deploy phases, run on the node as the site'\''s own user:
#
#   sudo -n -u webN -- bash -s -- PHASE ARGS…     (this text on stdin)
#
# Every value (paths, the repository, the branch, the commit) arrives as a positional argument
# and is only ever expanded in double quotes: nothing is pasted into this text, and nothing a
# user typed is read as shell. The layout under the site'\''s home:
#
#   deploy/releases/ID/   one checkout per deployment (ID = the deployment'\''s ULID)
#   deploy/current        -> releases/ID, swapped atomically (rename) to go live
#   public_html           -> deploy/current (what nginx serves)
#   .env, storage/        shared by every release (linked into each; WordPress: uploads/)
set -euo pipefail
umask 022
# The panel user'\''s working directory is not the site user'\''s to read.
cd /

phase=${1:?phase}
shift

die() {
  printf '\''deploy: %s\n'\'' "$1" >&2
  exit 1
}

# A release directory name is a deployment id (a ULID): nothing else is ever removed.
is_release() { [[ $1 =~ ^[0-9A-HJKMNP-TV-Z]{26}$ ]]; }

# git with only the ssh and https transports (no ext::, file:// or git://), never prompting.
# The ssh command is constant text: the key and known_hosts paths reach it as variables. The
# known_hosts file holds the git host'\''s keys confirmed in the panel, and nothing else is trusted.
safe_git() {
  # shellcheck disable=SC2016 # single quotes on purpose: git'\''s shell expands the variables
  GIT_TERMINAL_PROMPT=0 \
    GIT_SSH_COMMAND='\''ssh -F /dev/null -i "$PANEL_DEPLOY_KEY" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$PANEL_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=20'\'' \
    git -c protocol.allow=never -c protocol.ssh.allow=always -c protocol.https.allow=always "$@"
}

# copy_missing SRC DEST: what DEST lacks, copied from SRC; nothing in DEST is overwritten.
copy_missing() {
  local src=$1 dest=$2 p
  while IFS= read -r -d '\'''\'' p; do
    if [[ -d $src/$p && ! -L $src/$p ]]; then
      mkdir -p -- "$dest/$p"
    elif [[ ! -e $dest/$p && ! -L $dest/$p ]]; then
      cp -P -p -- "$src/$p" "$dest/$p"
    fi
  done < <(cd "$src" && find . -mindepth 1 -print0)
}

# share RELEASE NAME TARGET: the release'\''s NAME becomes a link to the shared TARGET. A
# directory the repository ships there seeds the shared one (first deploy) and is replaced.
share() {
  local release=$1 name=$2 target=$3
  if [[ -d $release/$name && ! -L $release/$name ]]; then
    mkdir -p -- "$target"
    copy_missing "$release/$name" "$target"
    rm -rf -- "${release:?}/$name"
  elif [[ -e $release/$name || -L $release/$name ]]; then
    rm -f -- "${release:?}/$name"
  fi
  mkdir -p -- "$(dirname -- "$release/$name")"
  ln -s -- "$target" "$release/$name"
}

case "$phase" in
  fetch) # RELEASE_DIR URL BRANCH KEY_FILE KNOWN_HOSTS
    release=$1 url=$2 branch=$3
    export PANEL_DEPLOY_KEY=$4 PANEL_KNOWN_HOSTS=$5
    [[ ! -e $release ]] || die "$release already exists"
    safe_git clone --quiet --depth 1 --single-branch --no-tags --branch "$branch" -- "$url" "$release"
    printf '\''commit=%s\n'\'' "$(git -C "$release" rev-parse HEAD)"
    printf '\''subject=%s\n'\'' "$(git -C "$release" log -1 --format=%s)"
    ;;
  link) # RELEASE_DIR SITE_HOME APP_TYPE
    release=$1 home=$2 app=$3
    [[ -d $release ]] || die "$release is missing"
    # A .env in the repository never wins over the site'\''s own.
    rm -f -- "$release/.env"
    ln -s -- "$home/.env" "$release/.env"
    case "$app" in
      wordpress) share "$release" wp-content/uploads "$home/uploads" ;;
      *) share "$release" storage "$home/storage" ;;
    esac
    echo "linked .env and shared storage into $release"
    ;;
  build) # RELEASE_DIR SCRIPT BRANCH SITE_DOMAIN SITE_USER SITE_HOME APP_TYPE PHP DEPLOYMENT_ID
    cd "$1"
    export RELEASE_DIR=$1 BRANCH=$3 SITE_DOMAIN=$4 SITE_USER=$5 SITE_HOME=$6 APP_TYPE=$7 PHP=$8 DEPLOYMENT_ID=$9
    export RELEASE=${RELEASE_DIR##*/}
    # From the checkout itself: the commit and its message are data, and stay in variables.
    COMMIT=$(git rev-parse HEAD)
    COMMIT_MESSAGE=$(git log -1 --format=%B 2>/dev/null || true)
    export COMMIT COMMIT_MESSAGE
    # The home is root'\''s; tools that keep caches (Composer, npm) get a directory of the site'\''s.
    export HOME=$SITE_HOME/deploy
    script=$2
    if ! grep -qv -e '\''^[[:space:]]*$'\'' -e '\''^[[:space:]]*#'\'' -- "$script" 2>/dev/null; then
      echo "the deploy script is empty: nothing to run"
      exit 0
    fi
    # Any command that fails fails the deploy (and the previous release keeps serving).
    exec bash -e -- "$script"
    ;;
  activate) # DEPLOY_DIR RELEASE
    cd "$1"
    release=$2
    is_release "$release" || die "$release is not a release name"
    [[ -d releases/$release ]] || die "release $release is not on this server"
    # rename(2) replaces the link in one step: every request sees the old release or the new.
    ln -sfn -- "releases/$release" current.panel-new
    mv -fT -- current.panel-new current
    echo "current=releases/$release"
    ;;
  prune) # DEPLOY_DIR KEEP: keep the KEEP newest releases and the live one; print the others
    cd "$1/releases"
    keep=$2
    [[ $keep =~ ^[0-9]+$ ]] || die "keep: $keep is not a number"
    live=$(readlink ../current 2>/dev/null || true)
    live=${live#releases/}
    n=0
    while IFS= read -r r; do
      is_release "$r" || continue
      n=$((n + 1))
      if ((n > keep)) && [[ $r != "$live" ]]; then
        rm -rf -- "$r"
        printf '\''pruned=%s\n'\'' "$r"
      fi
    done < <(printf '\''%s\n'\'' * | LC_ALL=C sort -r)
    ;;
  remove) # DEPLOY_DIR RELEASE: a failed release goes (never the live one)
    cd "$1"
    release=$2
    is_release "$release" || die "$release is not a release name"
    live=$(readlink current 2>/dev/null || true)
    [[ $live != "releases/$release" ]] || die "release $release is live; not removed"
    rm -rf -- "releases/$release"
    echo "removed release $release"
    ;;
  *) die "unknown phase: $phase" ;;
esac
' | 'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-s' '--' 'link' '/home/web1/deploy/releases/01ARZ3NDEKTSV4RRFFQ69G5FAV' '/home/web1' 'laravel'
[ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'readlink' '--' '/home/web1/deploy/releases/01ARZ3NDEKTSV4RRFFQ69G5FAV/.env' 2>/dev/null </dev/null)" = '/home/web1/.env' ] || panel_fail 'step 3: verify: readlink -- /home/web1/deploy/releases/01ARZ3NDEKTSV4RRFFQ69G5FAV/.env'"; it printed: $('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'readlink' '--' '/home/web1/deploy/releases/01ARZ3NDEKTSV4RRFFQ69G5FAV/.env' </dev/null 2>&1 | head -c 200)"

# --- 4/9 Run the deploy script
echo '==> 4/9 Run the deploy script'
printf '%s' '#!/usr/bin/env bash
# Panel deploy phases, run on the node as the site'\''s own user:
#
#   sudo -n -u webN -- bash -s -- PHASE ARGS…     (this text on stdin)
#
# Every value (paths, the repository, the branch, the commit) arrives as a positional argument
# and is only ever expanded in double quotes: nothing is pasted into this text, and nothing a
# user typed is read as shell. The layout under the site'\''s home:
#
#   deploy/releases/ID/   one checkout per deployment (ID = the deployment'\''s ULID)
#   deploy/current        -> releases/ID, swapped atomically (rename) to go live
#   public_html           -> deploy/current (what nginx serves)
#   .env, storage/        shared by every release (linked into each; WordPress: uploads/)
set -euo pipefail
umask 022
# The panel user'\''s working directory is not the site user'\''s to read.
cd /

phase=${1:?phase}
shift

die() {
  printf '\''deploy: %s\n'\'' "$1" >&2
  exit 1
}

# A release directory name is a deployment id (a ULID): nothing else is ever removed.
is_release() { [[ $1 =~ ^[0-9A-HJKMNP-TV-Z]{26}$ ]]; }

# git with only the ssh and https transports (no ext::, file:// or git://), never prompting.
# The ssh command is constant text: the key and known_hosts paths reach it as variables. The
# known_hosts file holds the git host'\''s keys confirmed in the panel, and nothing else is trusted.
safe_git() {
  # shellcheck disable=SC2016 # single quotes on purpose: git'\''s shell expands the variables
  GIT_TERMINAL_PROMPT=0 \
    GIT_SSH_COMMAND='\''ssh -F /dev/null -i "$PANEL_DEPLOY_KEY" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$PANEL_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=20'\'' \
    git -c protocol.allow=never -c protocol.ssh.allow=always -c protocol.https.allow=always "$@"
}

# copy_missing SRC DEST: what DEST lacks, copied from SRC; nothing in DEST is overwritten.
copy_missing() {
  local src=$1 dest=$2 p
  while IFS= read -r -d '\'''\'' p; do
    if [[ -d $src/$p && ! -L $src/$p ]]; then
      mkdir -p -- "$dest/$p"
    elif [[ ! -e $dest/$p && ! -L $dest/$p ]]; then
      cp -P -p -- "$src/$p" "$dest/$p"
    fi
  done < <(cd "$src" && find . -mindepth 1 -print0)
}

# share RELEASE NAME TARGET: the release'\''s NAME becomes a link to the shared TARGET. A
# directory the repository ships there seeds the shared one (first deploy) and is replaced.
share() {
  local release=$1 name=$2 target=$3
  if [[ -d $release/$name && ! -L $release/$name ]]; then
    mkdir -p -- "$target"
    copy_missing "$release/$name" "$target"
    rm -rf -- "${release:?}/$name"
  elif [[ -e $release/$name || -L $release/$name ]]; then
    rm -f -- "${release:?}/$name"
  fi
  mkdir -p -- "$(dirname -- "$release/$name")"
  ln -s -- "$target" "$release/$name"
}

case "$phase" in
  fetch) # RELEASE_DIR URL BRANCH KEY_FILE KNOWN_HOSTS
    release=$1 url=$2 branch=$3
    export PANEL_DEPLOY_KEY=$4 PANEL_KNOWN_HOSTS=$5
    [[ ! -e $release ]] || die "$release already exists"
    safe_git clone --quiet --depth 1 --single-branch --no-tags --branch "$branch" -- "$url" "$release"
    printf '\''commit=%s\n'\'' "$(git -C "$release" rev-parse HEAD)"
    printf '\''subject=%s\n'\'' "$(git -C "$release" log -1 --format=%s)"
    ;;
  link) # RELEASE_DIR SITE_HOME APP_TYPE
    release=$1 home=$2 app=$3
    [[ -d $release ]] || die "$release is missing"
    # A .env in the repository never wins over the site'\''s own.
    rm -f -- "$release/.env"
    ln -s -- "$home/.env" "$release/.env"
    case "$app" in
      wordpress) share "$release" wp-content/uploads "$home/uploads" ;;
      *) share "$release" storage "$home/storage" ;;
    esac
    echo "linked .env and shared storage into $release"
    ;;
  build) # RELEASE_DIR SCRIPT BRANCH SITE_DOMAIN SITE_USER SITE_HOME APP_TYPE PHP DEPLOYMENT_ID
    cd "$1"
    export RELEASE_DIR=$1 BRANCH=$3 SITE_DOMAIN=$4 SITE_USER=$5 SITE_HOME=$6 APP_TYPE=$7 PHP=$8 DEPLOYMENT_ID=$9
    export RELEASE=${RELEASE_DIR##*/}
    # From the checkout itself: the commit and its message are data, and stay in variables.
    COMMIT=$(git rev-parse HEAD)
    COMMIT_MESSAGE=$(git log -1 --format=%B 2>/dev/null || true)
    export COMMIT COMMIT_MESSAGE
    # The home is root'\''s; tools that keep caches (Composer, npm) get a directory of the site'\''s.
    export HOME=$SITE_HOME/deploy
    script=$2
    if ! grep -qv -e '\''^[[:space:]]*$'\'' -e '\''^[[:space:]]*#'\'' -- "$script" 2>/dev/null; then
      echo "the deploy script is empty: nothing to run"
      exit 0
    fi
    # Any command that fails fails the deploy (and the previous release keeps serving).
    exec bash -e -- "$script"
    ;;
  activate) # DEPLOY_DIR RELEASE
    cd "$1"
    release=$2
    is_release "$release" || die "$release is not a release name"
    [[ -d releases/$release ]] || die "release $release is not on this server"
    # rename(2) replaces the link in one step: every request sees the old release or the new.
    ln -sfn -- "releases/$release" current.panel-new
    mv -fT -- current.panel-new current
    echo "current=releases/$release"
    ;;
  prune) # DEPLOY_DIR KEEP: keep the KEEP newest releases and the live one; print the others
    cd "$1/releases"
    keep=$2
    [[ $keep =~ ^[0-9]+$ ]] || die "keep: $keep is not a number"
    live=$(readlink ../current 2>/dev/null || true)
    live=${live#releases/}
    n=0
    while IFS= read -r r; do
      is_release "$r" || continue
      n=$((n + 1))
      if ((n > keep)) && [[ $r != "$live" ]]; then
        rm -rf -- "$r"
        printf '\''pruned=%s\n'\'' "$r"
      fi
    done < <(printf '\''%s\n'\'' * | LC_ALL=C sort -r)
    ;;
  remove) # DEPLOY_DIR RELEASE: a failed release goes (never the live one)
    cd "$1"
    release=$2
    is_release "$release" || die "$release is not a release name"
    live=$(readlink current 2>/dev/null || true)
    [[ $live != "releases/$release" ]] || die "release $release is live; not removed"
    rm -rf -- "releases/$release"
    echo "removed release $release"
    ;;
  *) die "unknown phase: $phase" ;;
esac
' | 'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-s' '--' 'build' '/home/web1/deploy/releases/01ARZ3NDEKTSV4RRFFQ69G5FAV' '/run/panel-deploy/web1/deploy-script' 'main' 'example.com' 'web1' '/home/web1' 'laravel' '/opt/remi/php83/root/usr/bin/php' '01ARZ3NDEKTSV4RRFFQ69G5FAV'

# --- 5/9 Label the release for SELinux (s0:c100,c101)
echo '==> 5/9 Label the release for SELinux (s0:c100,c101)'
if ! 'selinuxenabled' >/dev/null 2>&1; then
  echo 'skipped: SELinux disabled'
else
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1' 2>/dev/null </dev/null)" = 'system_u:object_r:site_content_t:s0:c100,c101' ]; then
printf '%s' 'fcontext -a -t site_content_t -r s0:c100,c101 '\''/home/web1(/.*)?'\''
fcontext -a -t laravel_app_rw_t -r s0:c100,c101 '\''/home/web1/(storage|tmp|logs)(/.*)?'\''
fcontext -a -t laravel_app_rw_t -r s0:c100,c101 '\''/home/web1/public_html/(storage|bootstrap/cache)(/.*)?'\''
fcontext -a -t laravel_app_rw_t -r s0:c100,c101 '\''/home/web1/deploy/releases/[^/]+/bootstrap/cache(/.*)?'\''
fcontext -a -t laravel_app_env_t -r s0:c100,c101 '\''/home/web1/\.env'\''
' | 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'import' '-f' '-' || 'true'
fi
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1' 2>/dev/null </dev/null)" = 'system_u:object_r:site_content_t:s0:c100,c101' ]; then
'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-a' '-t' 'site_content_t' '-r' 's0:c100,c101' '--' '/home/web1(/.*)?' || 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-m' '-t' 'site_content_t' '-r' 's0:c100,c101' '--' '/home/web1(/.*)?'
fi
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/storage' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_rw_t:s0:c100,c101' ]; then
'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-a' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c101' '--' '/home/web1/(storage|tmp|logs)(/.*)?' || 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-m' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c101' '--' '/home/web1/(storage|tmp|logs)(/.*)?'
fi
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/public_html/bootstrap/cache' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_rw_t:s0:c100,c101' ]; then
'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-a' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c101' '--' '/home/web1/public_html/(storage|bootstrap/cache)(/.*)?' || 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-m' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c101' '--' '/home/web1/public_html/(storage|bootstrap/cache)(/.*)?'
fi
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/deploy/releases/01ARZ3NDEKTSV4RRFFQ69G5FAV/bootstrap/cache' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_rw_t:s0:c100,c101' ]; then
'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-a' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c101' '--' '/home/web1/deploy/releases/[^/]+/bootstrap/cache(/.*)?' || 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-m' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c101' '--' '/home/web1/deploy/releases/[^/]+/bootstrap/cache(/.*)?'
fi
if ! [ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'matchpathcon' '-n' '--' '/home/web1/.env' 2>/dev/null </dev/null)" = 'system_u:object_r:laravel_app_env_t:s0:c100,c101' ]; then
'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-a' '-t' 'laravel_app_env_t' '-r' 's0:c100,c101' '--' '/home/web1/\.env' || 'flock' '-o' '-w' '900' '.panel-selinux.lock' 'semanage' 'fcontext' '-m' '-t' 'laravel_app_env_t' '-r' 's0:c100,c101' '--' '/home/web1/\.env'
fi
'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'restorecon' '-R' '-F' '-x' '--' '/home/web1/deploy' '/home/web1/storage' </dev/null
fi

# --- 6/9 Switch to release 01ARZ3NDEKTSV4RRFFQ69G5FAV
echo '==> 6/9 Switch to release 01ARZ3NDEKTSV4RRFFQ69G5FAV'
printf '%s' '#!/usr/bin/env bash
# Panel deploy phases, run on the node as the site'\''s own user:
#
#   sudo -n -u webN -- bash -s -- PHASE ARGS…     (this text on stdin)
#
# Every value (paths, the repository, the branch, the commit) arrives as a positional argument
# and is only ever expanded in double quotes: nothing is pasted into this text, and nothing a
# user typed is read as shell. The layout under the site'\''s home:
#
#   deploy/releases/ID/   one checkout per deployment (ID = the deployment'\''s ULID)
#   deploy/current        -> releases/ID, swapped atomically (rename) to go live
#   public_html           -> deploy/current (what nginx serves)
#   .env, storage/        shared by every release (linked into each; WordPress: uploads/)
set -euo pipefail
umask 022
# The panel user'\''s working directory is not the site user'\''s to read.
cd /

phase=${1:?phase}
shift

die() {
  printf '\''deploy: %s\n'\'' "$1" >&2
  exit 1
}

# A release directory name is a deployment id (a ULID): nothing else is ever removed.
is_release() { [[ $1 =~ ^[0-9A-HJKMNP-TV-Z]{26}$ ]]; }

# git with only the ssh and https transports (no ext::, file:// or git://), never prompting.
# The ssh command is constant text: the key and known_hosts paths reach it as variables. The
# known_hosts file holds the git host'\''s keys confirmed in the panel, and nothing else is trusted.
safe_git() {
  # shellcheck disable=SC2016 # single quotes on purpose: git'\''s shell expands the variables
  GIT_TERMINAL_PROMPT=0 \
    GIT_SSH_COMMAND='\''ssh -F /dev/null -i "$PANEL_DEPLOY_KEY" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$PANEL_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=20'\'' \
    git -c protocol.allow=never -c protocol.ssh.allow=always -c protocol.https.allow=always "$@"
}

# copy_missing SRC DEST: what DEST lacks, copied from SRC; nothing in DEST is overwritten.
copy_missing() {
  local src=$1 dest=$2 p
  while IFS= read -r -d '\'''\'' p; do
    if [[ -d $src/$p && ! -L $src/$p ]]; then
      mkdir -p -- "$dest/$p"
    elif [[ ! -e $dest/$p && ! -L $dest/$p ]]; then
      cp -P -p -- "$src/$p" "$dest/$p"
    fi
  done < <(cd "$src" && find . -mindepth 1 -print0)
}

# share RELEASE NAME TARGET: the release'\''s NAME becomes a link to the shared TARGET. A
# directory the repository ships there seeds the shared one (first deploy) and is replaced.
share() {
  local release=$1 name=$2 target=$3
  if [[ -d $release/$name && ! -L $release/$name ]]; then
    mkdir -p -- "$target"
    copy_missing "$release/$name" "$target"
    rm -rf -- "${release:?}/$name"
  elif [[ -e $release/$name || -L $release/$name ]]; then
    rm -f -- "${release:?}/$name"
  fi
  mkdir -p -- "$(dirname -- "$release/$name")"
  ln -s -- "$target" "$release/$name"
}

case "$phase" in
  fetch) # RELEASE_DIR URL BRANCH KEY_FILE KNOWN_HOSTS
    release=$1 url=$2 branch=$3
    export PANEL_DEPLOY_KEY=$4 PANEL_KNOWN_HOSTS=$5
    [[ ! -e $release ]] || die "$release already exists"
    safe_git clone --quiet --depth 1 --single-branch --no-tags --branch "$branch" -- "$url" "$release"
    printf '\''commit=%s\n'\'' "$(git -C "$release" rev-parse HEAD)"
    printf '\''subject=%s\n'\'' "$(git -C "$release" log -1 --format=%s)"
    ;;
  link) # RELEASE_DIR SITE_HOME APP_TYPE
    release=$1 home=$2 app=$3
    [[ -d $release ]] || die "$release is missing"
    # A .env in the repository never wins over the site'\''s own.
    rm -f -- "$release/.env"
    ln -s -- "$home/.env" "$release/.env"
    case "$app" in
      wordpress) share "$release" wp-content/uploads "$home/uploads" ;;
      *) share "$release" storage "$home/storage" ;;
    esac
    echo "linked .env and shared storage into $release"
    ;;
  build) # RELEASE_DIR SCRIPT BRANCH SITE_DOMAIN SITE_USER SITE_HOME APP_TYPE PHP DEPLOYMENT_ID
    cd "$1"
    export RELEASE_DIR=$1 BRANCH=$3 SITE_DOMAIN=$4 SITE_USER=$5 SITE_HOME=$6 APP_TYPE=$7 PHP=$8 DEPLOYMENT_ID=$9
    export RELEASE=${RELEASE_DIR##*/}
    # From the checkout itself: the commit and its message are data, and stay in variables.
    COMMIT=$(git rev-parse HEAD)
    COMMIT_MESSAGE=$(git log -1 --format=%B 2>/dev/null || true)
    export COMMIT COMMIT_MESSAGE
    # The home is root'\''s; tools that keep caches (Composer, npm) get a directory of the site'\''s.
    export HOME=$SITE_HOME/deploy
    script=$2
    if ! grep -qv -e '\''^[[:space:]]*$'\'' -e '\''^[[:space:]]*#'\'' -- "$script" 2>/dev/null; then
      echo "the deploy script is empty: nothing to run"
      exit 0
    fi
    # Any command that fails fails the deploy (and the previous release keeps serving).
    exec bash -e -- "$script"
    ;;
  activate) # DEPLOY_DIR RELEASE
    cd "$1"
    release=$2
    is_release "$release" || die "$release is not a release name"
    [[ -d releases/$release ]] || die "release $release is not on this server"
    # rename(2) replaces the link in one step: every request sees the old release or the new.
    ln -sfn -- "releases/$release" current.panel-new
    mv -fT -- current.panel-new current
    echo "current=releases/$release"
    ;;
  prune) # DEPLOY_DIR KEEP: keep the KEEP newest releases and the live one; print the others
    cd "$1/releases"
    keep=$2
    [[ $keep =~ ^[0-9]+$ ]] || die "keep: $keep is not a number"
    live=$(readlink ../current 2>/dev/null || true)
    live=${live#releases/}
    n=0
    while IFS= read -r r; do
      is_release "$r" || continue
      n=$((n + 1))
      if ((n > keep)) && [[ $r != "$live" ]]; then
        rm -rf -- "$r"
        printf '\''pruned=%s\n'\'' "$r"
      fi
    done < <(printf '\''%s\n'\'' * | LC_ALL=C sort -r)
    ;;
  remove) # DEPLOY_DIR RELEASE: a failed release goes (never the live one)
    cd "$1"
    release=$2
    is_release "$release" || die "$release is not a release name"
    live=$(readlink current 2>/dev/null || true)
    [[ $live != "releases/$release" ]] || die "release $release is live; not removed"
    rm -rf -- "releases/$release"
    echo "removed release $release"
    ;;
  *) die "unknown phase: $phase" ;;
esac
' | 'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-s' '--' 'activate' '/home/web1/deploy' '01ARZ3NDEKTSV4RRFFQ69G5FAV'
if ! [ "$('readlink' '--' '/home/web1/public_html' 2>/dev/null)" = 'deploy/current' ]; then
if ! 'test' '-L' '/home/web1/public_html'; then
'mv' '-T' '--' '/home/web1/public_html' '/home/web1/public_html.before-first-deploy'
fi
'ln' '-sfn' '--' 'deploy/current' '/home/web1/public_html'
fi
if ! [ "$('stat' '-c' '%U' '--' '/home/web1/public_html' 2>/dev/null)" = 'web1' ]; then
'chown' '-h' 'web1:web1' '--' '/home/web1/public_html'
fi
[ "$('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'readlink' '--' '/home/web1/deploy/current' 2>/dev/null </dev/null)" = 'releases/01ARZ3NDEKTSV4RRFFQ69G5FAV' ] || panel_fail 'step 6: verify: readlink -- /home/web1/deploy/current'"; it printed: $('setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'readlink' '--' '/home/web1/deploy/current' </dev/null 2>&1 | head -c 200)"
[ "$('readlink' '--' '/home/web1/public_html' 2>/dev/null)" = 'deploy/current' ] || panel_fail 'step 6: verify: readlink -- /home/web1/public_html'"; it printed: $('readlink' '--' '/home/web1/public_html' 2>&1 | head -c 200)"
[ "$('stat' '-c' '%U' '--' '/home/web1/public_html' 2>/dev/null)" = 'web1' ] || panel_fail 'step 6: verify: stat -c %U -- /home/web1/public_html'"; it printed: $('stat' '-c' '%U' '--' '/home/web1/public_html' 2>&1 | head -c 200)"

# --- 7/9 Reload PHP-FPM
echo '==> 7/9 Reload PHP-FPM'
'systemctl' 'enable' '--quiet' '--' 'panel-php-fpm-web1.service'
'systemctl' 'reload-or-restart' '--' 'panel-php-fpm-web1.service'
if ! { panel_tries=0; until 'test' '-S' '/run/php-fpm/web1.sock'; do panel_tries=$((panel_tries + 1)); [ "$panel_tries" -lt 500 ] || break; sleep 0.02; done; [ "$panel_tries" -lt 500 ]; }; then
  'tail' '-n' '20' '--' '/var/log/nginx/error.log' >&2 2>&1 || true
  'pgrep' '-a' '--' 'nginx' >&2 2>&1 || true
  'cat' '--' '/run/nginx.pid' >&2 2>&1 || true
  panel_fail 'step 7: verify: test -S /run/php-fpm/web1.sock'
fi
if ! { panel_tries=0; until panel_one_of "$('panel_http_status' 'example.com' 2>/dev/null)" '200' '301' '302' '401' '403' '404'; do panel_tries=$((panel_tries + 1)); [ "$panel_tries" -lt 500 ] || break; sleep 0.02; done; [ "$panel_tries" -lt 500 ]; }; then
  'tail' '-n' '20' '--' '/var/log/nginx/error.log' >&2 2>&1 || true
  'pgrep' '-a' '--' 'nginx' >&2 2>&1 || true
  'cat' '--' '/run/nginx.pid' >&2 2>&1 || true
  panel_fail 'step 7: verify: panel_http_status example.com'"; it printed: $('panel_http_status' 'example.com' 2>&1 | head -c 200)"
fi

# --- 8/9 Restart the site's workers
echo '==> 8/9 Restart the site'\''s workers'
if 'test' '-d' '/etc/panel/site-workers/web1'; then
'/usr/local/libexec/panel-site-job' '--' 'workers' 'web1' 'systemd' || 'echo' 'warning: the workers did not all restart; the Workers tab shows them, and restarting them there tries again'
fi

# --- 9/9 Keep the last 5 releases
echo '==> 9/9 Keep the last 5 releases'
printf '%s' '#!/usr/bin/env bash
# Panel deploy phases, run on the node as the site'\''s own user:
#
#   sudo -n -u webN -- bash -s -- PHASE ARGS…     (this text on stdin)
#
# Every value (paths, the repository, the branch, the commit) arrives as a positional argument
# and is only ever expanded in double quotes: nothing is pasted into this text, and nothing a
# user typed is read as shell. The layout under the site'\''s home:
#
#   deploy/releases/ID/   one checkout per deployment (ID = the deployment'\''s ULID)
#   deploy/current        -> releases/ID, swapped atomically (rename) to go live
#   public_html           -> deploy/current (what nginx serves)
#   .env, storage/        shared by every release (linked into each; WordPress: uploads/)
set -euo pipefail
umask 022
# The panel user'\''s working directory is not the site user'\''s to read.
cd /

phase=${1:?phase}
shift

die() {
  printf '\''deploy: %s\n'\'' "$1" >&2
  exit 1
}

# A release directory name is a deployment id (a ULID): nothing else is ever removed.
is_release() { [[ $1 =~ ^[0-9A-HJKMNP-TV-Z]{26}$ ]]; }

# git with only the ssh and https transports (no ext::, file:// or git://), never prompting.
# The ssh command is constant text: the key and known_hosts paths reach it as variables. The
# known_hosts file holds the git host'\''s keys confirmed in the panel, and nothing else is trusted.
safe_git() {
  # shellcheck disable=SC2016 # single quotes on purpose: git'\''s shell expands the variables
  GIT_TERMINAL_PROMPT=0 \
    GIT_SSH_COMMAND='\''ssh -F /dev/null -i "$PANEL_DEPLOY_KEY" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$PANEL_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=20'\'' \
    git -c protocol.allow=never -c protocol.ssh.allow=always -c protocol.https.allow=always "$@"
}

# copy_missing SRC DEST: what DEST lacks, copied from SRC; nothing in DEST is overwritten.
copy_missing() {
  local src=$1 dest=$2 p
  while IFS= read -r -d '\'''\'' p; do
    if [[ -d $src/$p && ! -L $src/$p ]]; then
      mkdir -p -- "$dest/$p"
    elif [[ ! -e $dest/$p && ! -L $dest/$p ]]; then
      cp -P -p -- "$src/$p" "$dest/$p"
    fi
  done < <(cd "$src" && find . -mindepth 1 -print0)
}

# share RELEASE NAME TARGET: the release'\''s NAME becomes a link to the shared TARGET. A
# directory the repository ships there seeds the shared one (first deploy) and is replaced.
share() {
  local release=$1 name=$2 target=$3
  if [[ -d $release/$name && ! -L $release/$name ]]; then
    mkdir -p -- "$target"
    copy_missing "$release/$name" "$target"
    rm -rf -- "${release:?}/$name"
  elif [[ -e $release/$name || -L $release/$name ]]; then
    rm -f -- "${release:?}/$name"
  fi
  mkdir -p -- "$(dirname -- "$release/$name")"
  ln -s -- "$target" "$release/$name"
}

case "$phase" in
  fetch) # RELEASE_DIR URL BRANCH KEY_FILE KNOWN_HOSTS
    release=$1 url=$2 branch=$3
    export PANEL_DEPLOY_KEY=$4 PANEL_KNOWN_HOSTS=$5
    [[ ! -e $release ]] || die "$release already exists"
    safe_git clone --quiet --depth 1 --single-branch --no-tags --branch "$branch" -- "$url" "$release"
    printf '\''commit=%s\n'\'' "$(git -C "$release" rev-parse HEAD)"
    printf '\''subject=%s\n'\'' "$(git -C "$release" log -1 --format=%s)"
    ;;
  link) # RELEASE_DIR SITE_HOME APP_TYPE
    release=$1 home=$2 app=$3
    [[ -d $release ]] || die "$release is missing"
    # A .env in the repository never wins over the site'\''s own.
    rm -f -- "$release/.env"
    ln -s -- "$home/.env" "$release/.env"
    case "$app" in
      wordpress) share "$release" wp-content/uploads "$home/uploads" ;;
      *) share "$release" storage "$home/storage" ;;
    esac
    echo "linked .env and shared storage into $release"
    ;;
  build) # RELEASE_DIR SCRIPT BRANCH SITE_DOMAIN SITE_USER SITE_HOME APP_TYPE PHP DEPLOYMENT_ID
    cd "$1"
    export RELEASE_DIR=$1 BRANCH=$3 SITE_DOMAIN=$4 SITE_USER=$5 SITE_HOME=$6 APP_TYPE=$7 PHP=$8 DEPLOYMENT_ID=$9
    export RELEASE=${RELEASE_DIR##*/}
    # From the checkout itself: the commit and its message are data, and stay in variables.
    COMMIT=$(git rev-parse HEAD)
    COMMIT_MESSAGE=$(git log -1 --format=%B 2>/dev/null || true)
    export COMMIT COMMIT_MESSAGE
    # The home is root'\''s; tools that keep caches (Composer, npm) get a directory of the site'\''s.
    export HOME=$SITE_HOME/deploy
    script=$2
    if ! grep -qv -e '\''^[[:space:]]*$'\'' -e '\''^[[:space:]]*#'\'' -- "$script" 2>/dev/null; then
      echo "the deploy script is empty: nothing to run"
      exit 0
    fi
    # Any command that fails fails the deploy (and the previous release keeps serving).
    exec bash -e -- "$script"
    ;;
  activate) # DEPLOY_DIR RELEASE
    cd "$1"
    release=$2
    is_release "$release" || die "$release is not a release name"
    [[ -d releases/$release ]] || die "release $release is not on this server"
    # rename(2) replaces the link in one step: every request sees the old release or the new.
    ln -sfn -- "releases/$release" current.panel-new
    mv -fT -- current.panel-new current
    echo "current=releases/$release"
    ;;
  prune) # DEPLOY_DIR KEEP: keep the KEEP newest releases and the live one; print the others
    cd "$1/releases"
    keep=$2
    [[ $keep =~ ^[0-9]+$ ]] || die "keep: $keep is not a number"
    live=$(readlink ../current 2>/dev/null || true)
    live=${live#releases/}
    n=0
    while IFS= read -r r; do
      is_release "$r" || continue
      n=$((n + 1))
      if ((n > keep)) && [[ $r != "$live" ]]; then
        rm -rf -- "$r"
        printf '\''pruned=%s\n'\'' "$r"
      fi
    done < <(printf '\''%s\n'\'' * | LC_ALL=C sort -r)
    ;;
  remove) # DEPLOY_DIR RELEASE: a failed release goes (never the live one)
    cd "$1"
    release=$2
    is_release "$release" || die "$release is not a release name"
    live=$(readlink current 2>/dev/null || true)
    [[ $live != "releases/$release" ]] || die "release $release is live; not removed"
    rm -rf -- "releases/$release"
    echo "removed release $release"
    ;;
  *) die "unknown phase: $phase" ;;
esac
' | 'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-s' '--' 'prune' '/home/web1/deploy' '5'

echo 'done'
