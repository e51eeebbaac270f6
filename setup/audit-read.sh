#!/usr/bin/env bash
# Read a server's audit log from a position the panel keeps: INODE OFFSET MAX_BYTES [WAIT].
# Prints `pos=INODE OFFSET` (where the next read starts), then whole lines of log text.
# A rotated log (new inode) is finished from audit.log.1 if that is the old file, then read from
# the start; a truncated one is read from the start. With nothing new, it first waits up to
# WAIT seconds for the log to grow or rotate (a long poll: a denial is read the moment it is
# written, not at the next poll). Read-only.
set -uo pipefail
export LC_ALL=C
log=/var/log/audit/audit.log
inode=${1:-0} offset=${2:-0} max=${3:-4194304} wait=${4:-0}
[[ $inode =~ ^[0-9]+$ && $offset =~ ^[0-9]+$ && $max =~ ^[0-9]+$ && $wait =~ ^[0-9]+$ ]] || { echo "error=bad position"; exit 0; }
state() { read -r cur size < <(sudo -n stat -c '%i %s' -- "$log" 2>/dev/null); }
if ! state; then
  echo "error=no audit log at $log"
  exit 0
fi
if ((wait > 0)) && [[ $inode == "$cur" ]] && ((size == offset)); then
  # Caught up: `tail -F` prints the first byte written after OFFSET (or the start of a new
  # file after a rotation) as soon as it is there (inotify; where tail cannot use it, such as
  # a file system it does not know, it checks every 0.1 s); then the read below runs.
  exec {follow}< <(exec timeout "$wait" sudo -n tail -s 0.1 -c "+$((offset + 1))" -F -- "$log" </dev/null 2>/dev/null)
  follower=$!
  IFS= read -r -n 1 -u "$follow" _ || true
  kill "$follower" 2>/dev/null || true
  exec {follow}<&-
  if ! state; then
    echo "error=no audit log at $log"
    exit 0
  fi
fi

# Whole lines from FILE at byte OFFSET, at most MAX bytes; sets `chunk`.
chunk_of() {
  chunk=$(sudo -n tail -c "+$(($2 + 1))" -- "$1" 2>/dev/null | head -c "$max"; printf x)
  chunk=${chunk%x}
  if [[ $chunk == *$'\n'* ]]; then chunk=${chunk%$'\n'*}$'\n'; else chunk=; fi
}

earlier=
if [[ $inode != 0 && $inode != "$cur" ]]; then
  if read -r old_inode old_size < <(sudo -n stat -c '%i %s' -- "$log.1" 2>/dev/null) && [[ $old_inode == "$inode" ]]; then
    chunk_of "$log.1" "$offset"
    if ((${#chunk} > 0 && offset + ${#chunk} < old_size)); then
      # More of the old file than one read takes: stay on it.
      echo "pos=$inode $((offset + ${#chunk}))"
      printf '%s' "$chunk"
      exit 0
    fi
    earlier=$chunk
  fi
  offset=0
elif ((size < offset)); then
  offset=0
fi
chunk_of "$log" "$offset"
echo "pos=$cur $((offset + ${#chunk}))"
printf '%s%s' "$earlier" "$chunk"
