#!/bin/bash
# Managed by Panel: runs sites' cron jobs as their sites' own users. Installed by the panel at
# /usr/local/libexec/panel-site-job (root's, 0755; on SELinux nodes labelled as the entry into
# a site's PHP domain). What a job runs and when is in root's own files under
# /etc/panel/site-jobs/USER (ID.cmd: the command; ID.job: its schedule, PHP version and whether
# it is enabled), readable by the site's group and by no one else; nothing is read from a
# site's home as root.
#
#   panel-site-job run USER ID    as USER (systemd's User=, or the runner below): run one job in
#                                 the site's home with its .env and PHP, keep its exit code and
#                                 the tail of its output in ~/logs/cron/
#   panel-site-job start          as root, where no systemd runs: start the minute runner
#   panel-site-job tick           the minute runner itself (root): each minute, start the jobs
#                                 that are due, each as its site's user
#   panel-site-job prune USER     as root, with systemd: stop and remove the timers of USER's
#                                 jobs that no longer have files
set -uo pipefail
JOBS=/etc/panel/site-jobs
PIDFILE=/run/panel-site-jobs.pid
# Held by the one minute runner for its whole life (root's; a second one started at the same
# moment finds it taken and leaves).
LOCKFILE=/run/panel-site-jobs.lock
UNITS=/etc/systemd/system
# The tail of a run's output that is kept (the rest is dropped as it is written).
KEEP=16384

name_ok() { [[ $1 =~ ^[a-z_][a-z0-9_-]{0,31}$ ]]; }
id_ok() { [[ $1 =~ ^[0-9A-Z]{26}$ ]]; }

# A field of a job file (KEY=VALUE lines).
job_field() {
  local key value
  while IFS='=' read -r key value; do
    if [[ $key == "$2" ]]; then
      printf '%s' "$value"
      return 0
    fi
  done <"$1"
  return 1
}

# The site's .env as the panel writes it (KEY="value", with \\ \" \n \r escaped), into the array
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
        n) c=$'\n' ;;
        r) c=$'\r' ;;
        esac
        out+=$c
        value=${rest:1}
      done
      value=$out$value
    elif [[ ${#value} -ge 2 && $value == \'*\' ]]; then
      value=${value:1:${#value}-2}
    fi
    ENV_VARS+=("$key=$value")
  done < <(head -c 1048576 -- "$1")
}

run() {
  local user=$1 id=$2
  if ! name_ok "$user" || ! id_ok "$id"; then
    echo "panel-site-job: bad arguments" >&2
    exit 2
  fi
  if [[ $(id -u) == 0 || $(id -un) != "$user" ]]; then
    echo "panel-site-job: a site's jobs run as the site's user ($user), not as $(id -un)" >&2
    exit 2
  fi
  local dir=$JOBS/$user command php path=$PATH
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
  load_env "$HOME/.env"
  # The site's PHP first on PATH (on the .env's PATH when it sets one).
  local var
  for var in "${ENV_VARS[@]}"; do
    if [[ $var == PATH=* ]]; then path=${var#PATH=}; fi
  done
  if [[ $php =~ ^[0-9]\.[0-9]$ ]]; then path="/usr/local/libexec/panel-php/$php:$path"; fi
  local start code
  start=$(date +%s)
  printf 'running %s\n' "$start" >"$logs/$id.status.tmp" && mv -f -- "$logs/$id.status.tmp" "$logs/$id.status"
  env -- "${ENV_VARS[@]}" "PATH=$path" bash -c "$command" </dev/null 2>&1 9>&- | tail -c "$KEEP" >"$logs/$id.out.tmp"
  code=${PIPESTATUS[0]}
  mv -f -- "$logs/$id.out.tmp" "$logs/$id.out"
  printf '%s %s %s\n' "$code" "$start" "$(date +%s)" >"$logs/$id.status.tmp" && mv -f -- "$logs/$id.status.tmp" "$logs/$id.status"
  exit "$code"
}

# In cron's sense: VALUE is in FIELD (`*`, or a comma list).
in_field() { [[ $1 == '*' || ",$1," == *",$2,"* ]]; }

due() {
  local file=$1 minute hour dom month dow enabled
  enabled=$(job_field "$file" enabled) || return 1
  [[ $enabled == 1 ]] || return 1
  minute=$(job_field "$file" minute) && hour=$(job_field "$file" hour) &&
    dom=$(job_field "$file" dom) && month=$(job_field "$file" month) &&
    dow=$(job_field "$file" dow) || return 1
  in_field "$minute" "$2" && in_field "$hour" "$3" && in_field "$month" "$5" || return 1
  # Cron's rule: with both day fields restricted, either one matching is enough.
  if [[ $(job_field "$file" days) == or ]]; then
    in_field "$dom" "$4" || in_field "$dow" "$6"
  else
    in_field "$dom" "$4" && in_field "$dow" "$6"
  fi
}

tick() {
  local last='' now minute hour dom month dow file user id home uid
  exec 8>"$LOCKFILE"
  flock -n 8 || exit 0
  cd / || exit 1
  while :; do
    sleep "$((60 - 10#$(date -u +%S)))"
    # One reading of the clock for the minute and its fields.
    read -r now minute hour dom month dow < <(date -u '+%Y%m%d%H%M %-M %-H %-d %-m %w')
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
  # Nothing of the caller's (an SSH session's pipes) stays open in the runner.
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

# The panel's command builder puts `--` before the first operand.
if [[ ${1:-} == -- ]]; then shift; fi
case ${1:-} in
run) run "${2:-}" "${3:-}" ;;
tick)
  # Descriptors the starter had open (beyond the three redirected) are closed.
  for fd in "/proc/$$/fd/"*; do
    fd=${fd##*/}
    if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2 && fd != 255)); then { exec {fd}>&-; } 2>/dev/null; fi
  done
  tick
  ;;
start) start ;;
prune) prune "${2:-}" ;;
*)
  echo "usage: panel-site-job run USER ID | start | tick | prune USER" >&2
  exit 2
  ;;
esac
