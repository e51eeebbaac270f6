#!/bin/bash
# Managed by Panel: runs sites' cron jobs and workers as their sites' own users. Installed by
# the panel at /usr/local/libexec/panel-site-job (root's, 0755; on SELinux nodes labelled as the
# entry into a site's job domain). What a job or worker runs is in root's own files under
# /etc/panel/site-jobs/USER (ID.cmd: the command; ID.job: its schedule, PHP version and whether
# it is enabled) and /etc/panel/site-workers/USER (ID.cmd; ID.worker: processes, restart policy,
# stop signal and timeout, PHP version), readable by the site's group and by no one else;
# nothing is read from a site's home as root.
#
#   panel-site-job run USER ID    as USER (systemd's User=, or the runner below): run one job in
#                                 the site's home with its .env and PHP, keep its exit code and
#                                 the tail of its output in ~/logs/cron/
#   panel-site-job start          as root, where no systemd runs: start the minute runner
#   panel-site-job tick           the minute runner itself (root): each minute, start the jobs
#                                 that are due, each as its site's user
#   panel-site-job prune USER     as root, with systemd: stop and remove the timers of USER's
#                                 jobs that no longer have files
#   panel-site-job worker USER ID N
#                                 as USER: become process N of a worker (its output appended to
#                                 ~/logs/workers/ID.log)
#   panel-site-job workers USER systemd|direct
#                                 as root: make USER's running workers what the files say: stop
#                                 every process (each with its signal, killed after its timeout),
#                                 remove what has no file, start the rest
#   panel-site-job supervise USER ID N
#                                 as root, where no systemd runs: keep process N of a worker
#                                 running by its restart policy (the pid files are root's, in
#                                 /run/panel-site-workers/USER)
#   panel-site-job status systemd|direct HOME ID:N...
#                                 as the site's user: each process's state, pid and seconds up,
#                                 and the tail of each worker's output in base64
set -uo pipefail
JOBS=/etc/panel/site-jobs
PIDFILE=/run/panel-site-jobs.pid
# Held by the one minute runner for its whole life (root's; a second one started at the same
# moment finds it taken and leaves).
LOCKFILE=/run/panel-site-jobs.lock
UNITS=/etc/systemd/system
WORKERS=/etc/panel/site-workers
WORKER_RUN=/run/panel-site-workers
# The tail of a run's output that is kept (the rest is dropped as it is written).
KEEP=16384

name_ok() { [[ $1 =~ ^[a-z_][a-z0-9_-]{0,31}$ ]]; }
id_ok() { [[ $1 =~ ^[0-9A-Z]{26}$ ]]; }
# A process number of a worker (1-20).
n_ok() { [[ $1 =~ ^[1-9][0-9]?$ ]] && (($1 <= 20)); }

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
    elif [[ ${#value} -ge 2 && $value == "'"*"'" ]]; then
      value=${value:1:${#value}-2}
    fi
    ENV_VARS+=("$key=$value")
  done < <(head -c 1048576 -- "$1")
}

# Refuse to act as anyone but USER (and never as root).
as_site_user() {
  if [[ $(id -u) == 0 || $(id -un) != "$1" ]]; then
    echo "panel-site-job: a site's jobs and workers run as the site's user ($1), not as $(id -un)" >&2
    exit 2
  fi
}

# The site's .env into ENV_VARS and its PATH, with the site's PHP (version $1) first, into
# SITE_PATH (on the .env's PATH when it sets one).
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
  printf 'running %s\n' "$start" >"$logs/$id.status.tmp" && mv -f -- "$logs/$id.status.tmp" "$logs/$id.status"
  env -- "${ENV_VARS[@]}" "PATH=$SITE_PATH" bash -c "$command" </dev/null 2>&1 9>&- | tail -c "$KEEP" >"$logs/$id.out.tmp"
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

# Process N of a worker, as its site's user: the command replaces this script (so the stop
# signal reaches it), in the site's home with its .env and PHP, output appended to its log.
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
  printf '[%s] process %s starts\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$n"
  exec env -- "${ENV_VARS[@]}" "PATH=$SITE_PATH" WORKER_PROCESS="$n" bash -c "$command"
}

# Whether PID is root's supervisor of one of USER's worker processes.
is_supervisor() {
  [[ -r /proc/$1/cmdline && $(stat -c %u "/proc/$1" 2>/dev/null) == 0 ]] &&
    [[ $(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) == *"panel-site-job supervise $2 "* ]]
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
# TERM it sends the worker's stop signal to the process's group, waits up to its stop timeout
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
  trap 'stopping=1' TERM
  printf '%s\n' "$$" >"$run/$id-$n.pid" || exit 2
  # Job control: each process starts in its own group (what a stop signals), and without the
  # INT and QUIT that a shell's background commands otherwise ignore (a stop signal may be one).
  set -m
  while ((!stopping)); do
    setpriv --reuid="$user" --regid="$user" --init-groups -- \
      env -i HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/bash \
      PATH=/usr/local/bin:/usr/bin:/bin "$0" worker "$user" "$id" "$n" </dev/null >/dev/null 2>&1 &
    child=$!
    printf '%s\n' "$child" >"$run/$id-$n.child"
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

# USER's workers as their files say, `ID PROCESSES` a line (a file that does not check out is
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
    printf '%s %s\n' "$id" "$n"
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
  # Each supervisor waits for its process's stop timeout at most (600 s).
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
  # Readable by the site's user (its status), by no other site.
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
    n=$(find "$run" -maxdepth 1 -name '*.pid' | wc -l)
    ((n >= started)) && break
    sleep 0.1
  done
}

workers_systemd() {
  local user=$1 unit id k n file
  local stop=() start=()
  # Nothing to start and no unit of the user's: nothing to do (no daemon-reload).
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
    systemctl list-units --all --plain --no-legend --type=service "panel-worker-$user-*" 2>/dev/null | awk '{print $1}'
    for unit in "$UNITS"/*.target.wants/"panel-worker-$user-"*; do
      [[ -e $unit || -L $unit ]] && printf '%s\n' "${unit##*/}"
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

# As the site's user: `@ID N STATE PID SECONDS` for each process, then `#ID BASE64` with the
# tail of each worker's output. One `systemctl show` and one `ps` for them all.
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
        main[$unit]=$(head -c 20 -- "$WORKER_RUN/$user/$id-$k.child" | tr -cd '0-9')
      fi
    done
  done
  if [[ $driver == systemd ]] && ((${#units[@]})); then
    # A block of KEY=VALUE lines per unit, in no set order, blocks apart by an empty line.
    local b_id='' b_state='' b_pid=''
    while IFS= read -r line; do
      case $line in
      Id=*) b_id=${line#Id=} ;;
      ActiveState=*) b_state=${line#ActiveState=} ;;
      MainPID=*) b_pid=${line#MainPID=} ;;
      '')
        if [[ -n $b_id && -n ${state[$b_id]+x} ]]; then
          state[$b_id]=$b_state
          main[$b_id]=$b_pid
        fi
        b_id='' b_state='' b_pid=''
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
      # Only the site's own processes (a pid from a stale file may be someone else's now).
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
    printf '@%s %s %s %s %s\n' "$id" "$k" "${state[$unit]:0:20}" "$pid" "${up[$unit]}"
  done
  for id in "${ids[@]}"; do
    printf '#%s ' "$id"
    if [[ -f $home/logs/workers/$id.log ]]; then
      timeout 2 tail -c 4096 -- "$home/logs/workers/$id.log" | base64 -w0
    fi
    printf '\n'
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

# The panel's command builder puts `--` before the first operand.
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
