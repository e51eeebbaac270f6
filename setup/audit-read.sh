#!/usr/bin/env bash
# Read a server's audit log from a position the panel keeps: INODE OFFSET MAX_BYTES.
# Prints `pos=INODE OFFSET` (where the next read starts), then whole lines of log text.
# A rotated log (new inode) is finished from audit.log.1 if that is the old file, then read from
# the start; a truncated one is read from the start. Read-only.
set -uo pipefail
export LC_ALL=C
log=/var/log/audit/audit.log
inode=${1:-0} offset=${2:-0} max=${3:-4194304}
[[ $inode =~ ^[0-9]+$ && $offset =~ ^[0-9]+$ && $max =~ ^[0-9]+$ ]] || { echo "error=bad position"; exit 0; }
if ! read -r cur size < <(sudo -n stat -c '%i %s' -- "$log" 2>/dev/null); then
  echo "error=no audit log at $log"
  exit 0
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
