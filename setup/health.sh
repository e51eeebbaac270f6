#!/usr/bin/env bash
# Health numbers for the server page, one `key=value` per line. Read-only, quick.
set -euo pipefail
read -r up _ </proc/uptime
echo "uptime_seconds=${up%.*}"
read -r l1 l5 l15 _ </proc/loadavg
echo "load=$l1 $l5 $l15"
echo "cpus=$(getconf _NPROCESSORS_ONLN)"
awk '/^MemTotal:/ {print "mem_total_kb=" $2} /^MemAvailable:/ {print "mem_available_kb=" $2}' /proc/meminfo
df -Pk / | awk 'NR == 2 {print "disk_total_kb=" $2; print "disk_used_kb=" $3}'
if command -v getenforce >/dev/null 2>&1; then
  echo "selinux=$(getenforce | tr '[:upper:]' '[:lower:]')"
else
  echo "selinux=disabled"
fi
